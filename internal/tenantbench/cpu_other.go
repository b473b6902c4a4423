//go:build !unix

package tenantbench

import "time"

func cpuTime() time.Duration { return 0 }
