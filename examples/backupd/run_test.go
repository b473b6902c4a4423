package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is an io.Writer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// listenURL returns the origin of the "backupd listening on <origin>" banner
// line, or "".
func listenURL(banner string) string {
	sc := bufio.NewScanner(strings.NewReader(banner))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "backupd listening on "); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// getWithToken GETs url with a bearer token and returns status and body.
func getWithToken(t *testing.T, url, token string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// TestRun starts the real server loop in-process on a free port, on a
// SQLite file, and stops it by cancelling its context, as SIGTERM would.
func TestRun(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "backupd.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-dev-token", "bench-token", "-store", "sqlite:" + dbPath}, &stdout, &stderr)
	}()

	var origin string
	require.Eventually(t, func() bool {
		origin = listenURL(stdout.String())
		return origin != ""
	}, 10*time.Second, 10*time.Millisecond, "no banner; stderr: %s", stderr.String())

	banner := stdout.String()
	assert.Contains(t, banner, origin+"/scim/v2")
	assert.Contains(t, banner, origin+"/t/{tenant}/scim/v2")
	assert.Contains(t, banner, "WARNING")
	assert.Contains(t, banner, "dev token:                  bench-token")
	assert.Contains(t, banner, "admin token (generated):    adm_")
	assert.Contains(t, banner, "storage:                    SQLite "+dbPath)

	status, body := getWithToken(t, origin+"/scim/v2/ServiceProviderConfig", "bench-token")
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	assert.Contains(t, stderr.String(), "shutting down")
	assert.FileExists(t, dbPath)
}

func TestRunFailsOnBadStore(t *testing.T) {
	t.Parallel()
	var stderr syncBuffer
	err := run(context.Background(), []string{"-store", "mysql:root@/backupd"}, io.Discard, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown -store "mysql"`)
	assert.NotContains(t, err.Error(), "root@", "the rest of the spec may hold a password")
}

func TestRunFailsOnBadAddress(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"-addr", "256.0.0.1:99999", "-store", "memory"}, io.Discard, io.Discard)
	require.Error(t, err)
}
