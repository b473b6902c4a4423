//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildBackupd builds the real backupd into a temporary directory and
// returns its path.
func buildBackupd(t *testing.T, ctx context.Context) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	bin := filepath.Join(t.TempDir(), "backupd")
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// proc is a running backupd binary.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	origin  string // from the banner, e.g. http://127.0.0.1:41234
	origins chan string
	banner  *syncBuffer
	stderr  *syncBuffer
	exited  chan error // receives Wait's result once
}

// startBackupd starts bin in dir ("" for the test's directory) with args
// and waits for its banner. The process is killed at cleanup if it still
// runs.
func startBackupd(t *testing.T, ctx context.Context, bin, dir string, args ...string) *proc {
	t.Helper()
	p := launchBackupd(t, ctx, bin, dir, args...)
	p.ready()
	return p
}

// launchBackupd starts bin and returns at once; ready waits for the
// banner.
func launchBackupd(t *testing.T, ctx context.Context, bin, dir string, args ...string) *proc {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	p := &proc{t: t, cmd: cmd, origins: make(chan string, 1), banner: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // no-op once it exited
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			p.banner.Write([]byte(sc.Text() + "\n"))
			if rest, ok := strings.CutPrefix(sc.Text(), "backupd listening on "); ok && !sent {
				p.origins <- strings.TrimSpace(rest)
				sent = true
			}
		}
		p.exited <- cmd.Wait() // after stdout is drained, as Wait requires
	}()
	return p
}

// ready waits for the "backupd listening on" line and sets p.origin.
func (p *proc) ready() {
	p.t.Helper()
	select {
	case p.origin = <-p.origins:
	case err := <-p.exited:
		p.t.Fatalf("backupd exited early: %v\nstderr: %s", err, p.stderr.String())
	case <-time.After(60 * time.Second):
		p.t.Fatalf("no listen address within 60s\nstdout: %s\nstderr: %s", p.banner.String(), p.stderr.String())
	}
	require.True(p.t, strings.HasPrefix(p.origin, "http://127.0.0.1:"), p.origin)
}

// stop sends SIGTERM and wants a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.exited:
		require.NoError(p.t, err, "exit after SIGTERM; stderr: %s", p.stderr.String())
	case <-time.After(15 * time.Second):
		p.t.Fatalf("backupd did not stop within 15s of SIGTERM\nstderr: %s", p.stderr.String())
	}
	assert.Contains(p.t, p.stderr.String(), "shutting down")
}

// client is for the binary tests: enough idle connections for the
// concurrent requests.
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}

// call sends a request with a bearer token and a JSON body ("" for none).
// It is safe to call from any goroutine: it returns errors rather than
// failing the test.
func call(method, url, token, body string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// mustCall is call that wants the status want and returns the body as a
// JSON object.
func mustCall(t *testing.T, want int, method, url, token, body string) map[string]any {
	t.Helper()
	status, b, err := call(method, url, token, body)
	require.NoError(t, err, "%s %s", method, url)
	require.Equal(t, want, status, "%s %s: %s", method, url, b)
	var m map[string]any
	if len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	}
	return m
}

// TestBinary builds the real backupd and starts it as a new user would:
// in a fresh directory, without -store, so it makes backupd.db there; on a
// free port, as the load generator does. It provisions a user with the dev
// token, stops with SIGTERM, starts again on the same file and finds the
// user.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildBackupd(t, ctx)
	dir := t.TempDir()

	p := startBackupd(t, ctx, bin, dir, "-addr", "127.0.0.1:0", "-dev-token", "bench-token")
	assert.NotEqual(t, "http://127.0.0.1:0", p.origin, "the real port is printed")

	status, body := getWithToken(t, p.origin+"/scim/v2/ServiceProviderConfig", "bench-token")
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"patch":{"supported":true}`)

	status, _ = getWithToken(t, p.origin+"/scim/v2/ServiceProviderConfig", "wrong-token")
	assert.Equal(t, http.StatusUnauthorized, status)

	user := mustCall(t, http.StatusCreated, http.MethodPost, p.origin+"/scim/v2/Users", "bench-token", entraUser("restart@contoso.example"))
	p.stop() // the banner is read in full once it exited
	assert.Contains(t, p.banner.String(), "WARNING")
	assert.Contains(t, p.banner.String(), "storage:                    SQLite ./backupd.db")
	assert.FileExists(t, filepath.Join(dir, "backupd.db"), "the default store is ./backupd.db")

	p = startBackupd(t, ctx, bin, dir, "-addr", "127.0.0.1:0", "-dev-token", "bench-token")
	list := mustCall(t, http.StatusOK, http.MethodGet,
		p.origin+"/scim/v2/Users?filter="+url.QueryEscape(`userName eq "restart@contoso.example"`), "bench-token", "")
	assert.EqualValues(t, 1, list["totalResults"])
	require.Len(t, list["Resources"], 1)
	assert.Equal(t, user["id"], list["Resources"].([]any)[0].(map[string]any)["id"])
	p.stop()
}

// TestTwoProcessesOnPostgres runs two backupd binaries on one PostgreSQL
// database, as two instances behind a load balancer, and fires 64
// concurrent PATCHes at one user and 64 at one group, half through each
// process: every PATCH succeeds and none is lost. Both instances also keep
// the backup accounts in step through their outbox dispatchers.
func TestTwoProcessesOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dsn := pgSchemaDSN(t) // skips without $SCIMKIT_POSTGRES_DSN
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := buildBackupd(t, ctx)

	const (
		devToken   = "shared-dev-token"
		adminToken = "shared-admin-token"
		n          = 64
	)
	// Limits off: 2n PATCHes of one tenant at once would meet the
	// concurrency limit (16 in progress, 2 s of wait) on a loaded machine,
	// and limits are not what this test is about.
	args := []string{"-addr", "127.0.0.1:0", "-store", "postgres:" + dsn, "-dev-token", devToken, "-admin-token", adminToken,
		"-rate-limit", "0", "-concurrency-limit", "0"}
	// Both start at once: migrations and table creation must cope.
	procs := [2]*proc{launchBackupd(t, ctx, bin, "", args...), launchBackupd(t, ctx, bin, "", args...)}
	for _, p := range procs {
		p.ready()
	}
	require.NotEqual(t, procs[0].origin, procs[1].origin)
	base := func(i int) string { return procs[i%2].origin + "/scim/v2" }

	user := mustCall(t, http.StatusCreated, http.MethodPost, base(0)+"/Users", devToken, entraUser("target"))
	userID := user["id"].(string)
	group := mustCall(t, http.StatusCreated, http.MethodPost, base(1)+"/Groups", devToken,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Concurrent Group"}`)
	groupID := group["id"].(string)
	memberIDs := make([]string, n)
	for i := range memberIDs {
		u := mustCall(t, http.StatusCreated, http.MethodPost, base(i)+"/Users", devToken, entraUser(fmt.Sprintf("member-%02d", i)))
		memberIDs[i] = u["id"].(string)
	}

	// 2n PATCHes at once, alternating between the processes.
	type result struct {
		what   string
		status int
		body   []byte
		err    error
	}
	results := make([]result, 2*n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		email := fmt.Sprintf("alias-%02d@concurrent.example", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			r := &results[i]
			r.what = "add email " + email + " via process " + fmt.Sprint(i%2)
			r.status, r.body, r.err = call(http.MethodPatch, base(i)+"/Users/"+userID, devToken,
				`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[{"value":"`+email+`","type":"other"}]}]}`)
		}()
		go func() {
			defer wg.Done()
			<-start
			r := &results[n+i]
			r.what = "add member " + memberIDs[i] + " via process " + fmt.Sprint((i+1)%2)
			r.status, r.body, r.err = call(http.MethodPatch, base(i+1)+"/Groups/"+groupID, devToken,
				`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+memberIDs[i]+`"}]}]}`)
		}()
	}
	close(start)
	wg.Wait()
	for _, r := range results {
		if assert.NoError(t, r.err, r.what) {
			assert.True(t, r.status >= 200 && r.status < 300, "%s: %d %s", r.what, r.status, r.body)
		}
	}

	// Nothing lost, seen from either process.
	for i := range procs {
		user = mustCall(t, http.StatusOK, http.MethodGet, base(i)+"/Users/"+userID, devToken, "")
		emails := map[string]bool{}
		for _, e := range user["emails"].([]any) {
			emails[e.(map[string]any)["value"].(string)] = true
		}
		assert.Len(t, emails, n+1, "the user's first email and the %d added", n)
		for j := range n {
			assert.True(t, emails[fmt.Sprintf("alias-%02d@concurrent.example", j)], "email %d", j)
		}

		group = mustCall(t, http.StatusOK, http.MethodGet, base(i)+"/Groups/"+groupID, devToken, "")
		members := map[string]bool{}
		for _, m := range group["members"].([]any) {
			members[m.(map[string]any)["value"].(string)] = true
		}
		assert.Len(t, members, n)
		for _, id := range memberIDs {
			assert.True(t, members[id], "member %s", id)
		}

		// The dispatchers of both processes keep one account per user
		// (asynchronously: wait for them to drain the outbox).
		assert.Eventually(t, func() bool {
			accs := mustCall(t, http.StatusOK, http.MethodGet, procs[i].origin+"/admin/tenants/default/accounts", adminToken, "")
			return len(accs["accounts"].([]any)) == n+1
		}, 20*time.Second, 50*time.Millisecond, "one account per user")
		st := mustCall(t, http.StatusOK, http.MethodGet, procs[i].origin+"/admin/tenants/default/scim", adminToken, "")
		assert.Equal(t, true, st["scimEnabled"])
		assert.EqualValues(t, n+1, st["accounts"])
	}

	for _, p := range procs {
		p.stop()
	}
}
