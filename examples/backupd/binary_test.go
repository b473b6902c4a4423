//go:build unix

package main

import (
	"bufio"
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBinary builds the real backupd, starts it the way the load generator
// does (on a free port), calls the SCIM endpoint with the dev token, and
// stops it with SIGTERM.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "backupd")
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0", "-dev-token", "bench-token")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // no-op once it exited
	})

	origins := make(chan string, 1)
	var banner syncBuffer
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			banner.Write([]byte(sc.Text() + "\n"))
			if rest, ok := strings.CutPrefix(sc.Text(), "backupd listening on "); ok && !sent {
				origins <- strings.TrimSpace(rest)
				sent = true
			}
		}
		exited <- cmd.Wait() // after stdout is drained, as Wait requires
	}()

	var origin string
	select {
	case origin = <-origins:
	case err := <-exited:
		t.Fatalf("backupd exited early: %v\nstderr: %s", err, stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("no listen address within 15s\nstdout: %s\nstderr: %s", banner.String(), stderr.String())
	}
	require.True(t, strings.HasPrefix(origin, "http://127.0.0.1:"), origin)
	assert.NotEqual(t, "http://127.0.0.1:0", origin, "the real port is printed")

	status, body := getWithToken(t, origin+"/scim/v2/ServiceProviderConfig", "bench-token")
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"patch":{"supported":true}`)

	status, _ = getWithToken(t, origin+"/scim/v2/ServiceProviderConfig", "wrong-token")
	assert.Equal(t, http.StatusUnauthorized, status)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "exit after SIGTERM; stderr: %s", stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("backupd did not stop within 15s of SIGTERM\nstderr: %s", stderr.String())
	}
	assert.Contains(t, banner.String(), "WARNING")
	assert.Contains(t, stderr.String(), "shutting down")
}
