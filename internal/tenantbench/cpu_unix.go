//go:build unix

package tenantbench

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system, every thread) the process
// has used: unlike wall time, it does not count time the process waited
// for a core other processes held.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
