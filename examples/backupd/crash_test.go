//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCrashLosesNothing is the crash test of issue 10: the real backupd,
// on SQLite and on PostgreSQL, takes a burst of concurrent user creates,
// deactivations, deletes and group creates with hundreds of members, most
// from clients that hang up right after sending, and is killed with
// SIGKILL mid-burst, several times, each time restarted on the same
// database. Once the restarted process's outbox dispatcher has drained:
// every SCIM user has exactly one backup account in the right state
// (active or suspended), no deleted user has one, and every group either
// does not exist or has every member it was created with.
//
// SCIMKIT_CRASH_CYCLES sets the number of kills (default 3) for a longer
// run.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel) // after the parallel subtests
	bin := buildBackupd(t, ctx)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := "sqlite:" + filepath.Join(t.TempDir(), "backupd.db")
			if name == "postgres" {
				store = "postgres:" + pgSchemaDSN(t) // skips without $SCIMKIT_POSTGRES_DSN
			}
			crashTest(t, ctx, bin, store)
		})
	}
}

const (
	crashToken = "crash-dev-token"
	crashAdmin = "crash-admin-token-0123456789"
)

// crashRun is what the load generator sent, for the checks at the end.
type crashRun struct {
	mu sync.Mutex
	// groups holds the members each group was created with, by
	// displayName.
	groups map[string][]string
	sent   atomic.Int64
}

func crashTest(t *testing.T, ctx context.Context, bin, store string) {
	cycles := 3
	if v, err := strconv.Atoi(os.Getenv("SCIMKIT_CRASH_CYCLES")); err == nil && v > 0 {
		cycles = v
	}
	args := []string{"-addr", "127.0.0.1:0", "-store", store, "-dev-token", crashToken, "-admin-token", crashAdmin, "-rate-limit", "0", "-concurrency-limit", "0", "-work-limit", "0"}
	run := &crashRun{groups: map[string][]string{}}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 10))
	seed := rng.Uint64()
	t.Logf("seed %d", seed)

	// The member pool: users that groups are created with and that are
	// never deleted.
	p := startBackupd(t, ctx, bin, "", args...)
	pool := make([]string, 300)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(pool); i += 8 {
				status, b, err := call(http.MethodPost, p.origin+"/scim/v2/Users", crashToken, entraUser(fmt.Sprintf("pool-%03d", i)))
				var u struct{ ID string }
				if err != nil || status != http.StatusCreated || json.Unmarshal(b, &u) != nil {
					failed.Add(1)
					continue
				}
				pool[i] = u.ID
			}
		}()
	}
	wg.Wait()
	require.Zero(t, failed.Load(), "creating the member pool")

	for cycle := range cycles {
		if cycle > 0 {
			p = startBackupd(t, ctx, bin, "", args...)
		}
		churn := listUsers(t, p.origin, "churn-")
		stop := make(chan struct{})
		var burst sync.WaitGroup
		for w := range 16 {
			burst.Add(1)
			go func() {
				defer burst.Done()
				r := rand.New(rand.NewPCG(seed, uint64(cycle*100+w)))
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					crashOp(p.origin, r, run, churn, pool, fmt.Sprintf("%d-%d-%d", cycle, w, i))
				}
			}()
		}
		time.Sleep(time.Duration(400+rng.IntN(800)) * time.Millisecond)
		before := run.sent.Load()
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
		<-p.exited
		close(stop)
		burst.Wait()
		require.Positive(t, before, "requests were in flight when the process was killed")
		t.Logf("cycle %d: killed after %d requests", cycle, before)
	}

	// Restart; the dispatcher delivers what the killed processes left.
	restarted := time.Now()
	p = startBackupd(t, ctx, bin, "", args...)
	var problems []string
	deadline := time.Now().Add(45 * time.Second)
	for {
		problems = crashCheck(t, p.origin, run)
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	assert.Empty(t, problems)
	users := listUsers(t, p.origin, "")
	suspended := 0
	for _, active := range users {
		if !active {
			suspended++
		}
	}
	status, b, err := call(http.MethodGet, p.origin+"/scim/v2/Groups?count=0", crashToken, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	t.Logf("consistent %v after the restart: %d users (%d suspended), %s groups of %d sent",
		time.Since(restarted).Round(time.Millisecond), len(users), suspended, strings.TrimSpace(string(b)), len(run.groups))
	p.stop()
}

// crashOp sends one random operation: most hang up right after sending.
func crashOp(origin string, r *rand.Rand, run *crashRun, churn map[string]bool, pool []string, tag string) {
	hang := r.IntN(4) != 0
	send := func(method, path, body string) {
		run.sent.Add(1)
		if hang {
			_ = hangUp(origin, method, path, body)
			time.Sleep(time.Duration(r.IntN(5)) * time.Millisecond)
			return
		}
		_, _, _ = call(method, origin+path, crashToken, body)
	}
	ids := make([]string, 0, len(churn))
	for id := range churn {
		ids = append(ids, id)
	}
	switch n := r.IntN(10); {
	case n < 4:
		send(http.MethodPost, "/scim/v2/Users", entraUser("churn-"+tag))
	case n < 6 && len(ids) > 0:
		send(http.MethodDelete, "/scim/v2/Users/"+ids[r.IntN(len(ids))], "")
	case n < 7 && len(ids) > 0:
		send(http.MethodPatch, "/scim/v2/Users/"+ids[r.IntN(len(ids))], entraPatch("active", `"False"`))
	default:
		name := "crash-group-" + tag
		members := slices.Clone(pool)
		r.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
		members = members[:200+r.IntN(100)]
		vals := make([]string, len(members))
		for i, m := range members {
			vals[i] = `{"value":"` + m + `"}`
		}
		run.mu.Lock()
		run.groups[name] = members
		run.mu.Unlock()
		send(http.MethodPost, "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"`+name+`","members":[`+strings.Join(vals, ",")+`]}`)
	}
}

// hangUp sends a request on a fresh connection and closes it at once,
// without reading the response: an IdP client timing out.
func hangUp(origin, method, path, body string) error {
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(origin, "http://"), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err = fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: backupd\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		method, path, crashToken, len(body), body)
	return err
}

// listUsers returns the ids of the users whose userName starts with
// prefix ("" for all), with their active flag.
func listUsers(t *testing.T, origin, prefix string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	q := "&filter=" + url.QueryEscape(`userName sw "`+prefix+`"`)
	if prefix == "" {
		q = ""
	}
	for start := 1; ; start += 1000 {
		var page struct {
			TotalResults int
			Resources    []struct {
				ID     string
				Active *bool
			}
		}
		status, b, err := call(http.MethodGet, origin+"/scim/v2/Users?attributes=active&count=1000&startIndex="+strconv.Itoa(start)+q, crashToken, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "%s", b)
		require.NoError(t, json.Unmarshal(b, &page))
		for _, u := range page.Resources {
			out[u.ID] = u.Active == nil || *u.Active
		}
		if start+1000 > page.TotalResults {
			return out
		}
	}
}

// crashCheck returns what is wrong with the accounts and groups.
func crashCheck(t *testing.T, origin string, run *crashRun) []string {
	t.Helper()
	var problems []string
	users := listUsers(t, origin, "")
	status, b, err := call(http.MethodGet, origin+"/admin/tenants/default/accounts", crashAdmin, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", b)
	var accs struct {
		Accounts []struct {
			UserID string
			Status string
		}
	}
	require.NoError(t, json.Unmarshal(b, &accs))
	seen := map[string]int{}
	for _, a := range accs.Accounts {
		seen[a.UserID]++
		active, ok := users[a.UserID]
		switch {
		case !ok:
			problems = append(problems, "account of deleted or never created user "+a.UserID)
		case active && a.Status != "active", !active && a.Status != "suspended":
			problems = append(problems, fmt.Sprintf("user %s active=%v has a %s account", a.UserID, active, a.Status))
		}
	}
	for id := range users {
		if seen[id] != 1 {
			problems = append(problems, fmt.Sprintf("user %s has %d accounts", id, seen[id]))
		}
	}

	status, b, err = call(http.MethodGet, origin+"/scim/v2/Groups?count=1000&excludedAttributes=members", crashToken, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", b)
	var groups struct {
		Resources []struct{ ID, DisplayName string }
	}
	require.NoError(t, json.Unmarshal(b, &groups))
	run.mu.Lock()
	defer run.mu.Unlock()
	for _, g := range groups.Resources {
		want, ok := run.groups[g.DisplayName]
		if !ok {
			problems = append(problems, "unexpected group "+g.DisplayName)
			continue
		}
		status, b, err := call(http.MethodGet, origin+"/scim/v2/Groups/"+g.ID, crashToken, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "%s", b)
		var full struct{ Members []struct{ Value string } }
		require.NoError(t, json.Unmarshal(b, &full))
		var got []string
		for _, m := range full.Members {
			got = append(got, m.Value)
		}
		slices.Sort(got)
		w := slices.Sorted(slices.Values(want))
		if !slices.Equal(got, w) {
			problems = append(problems, fmt.Sprintf("group %s has %d members, was created with %d", g.DisplayName, len(got), len(w)))
		}
	}
	if len(problems) > 20 {
		problems = append(problems[:20], fmt.Sprintf("and %d more", len(problems)-20))
	}
	return problems
}
