package postgres_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRequests measures each bench workload's request through the
// whole scimkit handler (outbox on, as examples/backupd runs it) on
// PostgreSQL, with per-request round trips (rt/op) and, when
// SCIMKIT_PG_DATA names the local cluster, the CPU time of this process
// (go-cpu-µs/op) and of the server's backends (db-cpu-µs/op), which a
// busy machine does not distort the way it distorts ns/op:
//
//	eval "$(scripts/pg-throwaway.sh start)"
//	go test ./storage/postgres -run '^$' -bench Requests -benchtime 2000x
func BenchmarkRequests(b *testing.B) {
	const users = 2000
	h, rt, _ := tracedServer(b)
	ids := make([]string, users)
	for i := range users {
		ids[i] = idOf(doReq(b, h, http.MethodPost, "/Users", rtUserBody(i), http.StatusCreated))
	}
	gid := idOf(doReq(b, h, http.MethodPost, "/Groups", `{"displayName":"g"}`, http.StatusCreated))
	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
{"op":"Replace","path":"displayName","value":"New Name %d"},
{"op":"Replace","path":"name.familyName","value":"Family %d"},
{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales %d"},
{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new%d@x.test"}]}`
	members := func(from int) string {
		var sb strings.Builder
		sb.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[`)
		for i := range 100 {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"value":%q}`, ids[(from+i)%users])
		}
		sb.WriteString(`]}]}`)
		return sb.String()
	}
	next := users
	cases := []struct {
		name string
		op   func(i int)
	}{
		{"W1-create", func(int) {
			next++
			doReq(b, h, http.MethodGet, "/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq "u%d@x.test"`, next)), "", http.StatusOK)
			doReq(b, h, http.MethodPost, "/Users", rtUserBody(next), http.StatusCreated)
		}},
		{"W2-lookup", func(i int) {
			doReq(b, h, http.MethodGet, "/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq "u%d@x.test"`, i*7919%users)), "", http.StatusOK)
		}},
		{"W3-patch", func(i int) {
			doReq(b, h, http.MethodPatch, "/Users/"+ids[i%users], fmt.Sprintf(patch, i, i, i, i), http.StatusOK)
		}},
		{"W4-add100", func(i int) {
			doReq(b, h, http.MethodPatch, "/Groups/"+gid, members(i*100), http.StatusNoContent)
		}},
		{"W5-page100", func(i int) {
			doReq(b, h, http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=100", 1+i*100%users), "", http.StatusOK)
		}},
		{"W6-deprovision", func(i int) {
			doReq(b, h, http.MethodPatch, "/Users/"+ids[i%users], fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":%t}]}`, i/users%2 == 1), http.StatusOK)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			rt.take()
			goCPU, dbStart := selfCPU(), dbCPU()
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				c.op(i)
				i++
			}
			b.StopTimer()
			n, _ := rt.take()
			b.ReportMetric(float64(n)/float64(i), "rt/op")
			b.ReportMetric(float64(selfCPU()-goCPU)/float64(time.Microsecond)/float64(i), "go-cpu-µs/op")
			if d := dbCPU(); d >= 0 {
				b.ReportMetric(float64(d-dbStart)/float64(time.Microsecond)/float64(i), "db-cpu-µs/op")
			}
		})
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dbCPU returns the CPU time so far of the children of the postmaster of
// the cluster in $SCIMKIT_PG_DATA, or -1.
func dbCPU() time.Duration {
	dir := os.Getenv("SCIMKIT_PG_DATA")
	if dir == "" {
		return -1
	}
	pidFile, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return -1
	}
	master := strings.SplitN(string(pidFile), "\n", 2)[0]
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: state ppid ...
		// utime is field 14, stime 15 (proc(5)).
		i := bytes.LastIndexByte(st, ')')
		f := strings.Fields(string(st[i+2:]))
		if len(f) < 13 || (f[1] != master && filepath.Base(filepath.Dir(p)) != master) {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ = 100
}
