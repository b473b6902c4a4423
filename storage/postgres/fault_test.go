package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/postgres"
)

// faultCluster is a PostgreSQL cluster of this test's own, which it may
// stop and start (scripts/pg-throwaway.sh), so other tests' server is
// never disturbed.
type faultCluster struct {
	script, dir, dsn string
}

// startFaultCluster starts a cluster when SCIMKIT_PG_FAULTS=1, or when
// the server binaries are installed and SCIMKIT_PG_FAULTS is not 0; it
// skips the test otherwise.
func startFaultCluster(t *testing.T) *faultCluster {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "pg-throwaway.sh"))
	require.NoError(t, err)
	switch os.Getenv("SCIMKIT_PG_FAULTS") {
	case "0":
		t.Skip("SCIMKIT_PG_FAULTS=0: PostgreSQL fault test skipped")
	case "1":
	default:
		if exec.Command("bash", script, "available").Run() != nil {
			t.Skip("PostgreSQL fault test skipped: no server binaries (install postgresql, or set SCIMKIT_PG_FAULTS=1 with SCIMKIT_INSTALL_POSTGRES=1)")
		}
	}
	cmd := exec.Command("bash", script, "start")
	cmd.Env = append(os.Environ(), "SCIMKIT_PG_DATA=", "SCIMKIT_PG_PORT=56432")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	require.NoError(t, err, "starting a throwaway cluster")
	c := &faultCluster{script: script}
	for _, m := range regexp.MustCompile(`export (\w+)='([^']*)'`).FindAllStringSubmatch(string(out), -1) {
		switch m[1] {
		case "SCIMKIT_POSTGRES_DSN":
			c.dsn = m[2]
		case "SCIMKIT_PG_DATA":
			c.dir = m[2]
		}
	}
	require.NotEmpty(t, c.dsn)
	require.NotEmpty(t, c.dir)
	t.Cleanup(func() { _ = exec.Command("bash", script, "stop", c.dir).Run() })
	return c
}

func (c *faultCluster) run(t *testing.T, verb string) {
	t.Helper()
	out, err := exec.Command("bash", c.script, verb, c.dir).CombinedOutput()
	require.NoError(t, err, "%s: %s", verb, out)
}

// TestDatabaseGoesAway stops the PostgreSQL server under a running SCIM
// server while a client keeps writing, then starts it again. While it is
// down every request is answered 503 with Retry-After (never a 500), and
// after it is back requests succeed again with no restart. Nothing is
// half-written: every user the client was told was created exists, with
// its whole document, and no other user does except ones whose response
// was lost with the connection (a 503 for a write the server committed
// just as it stopped).
func TestDatabaseGoesAway(t *testing.T) {
	c := startFaultCluster(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(c.dsn)
	require.NoError(t, err)
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	store, err := postgres.New(ctx, pool)
	require.NoError(t, err)
	srv, err := scimkit.New(store, store, scimkit.WithRateLimit(0, 0), scimkit.WithWorkLimit(0, 0))
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(ctx, store, "acme", "fault-token"))
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer fault-token")
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req.WithContext(rctx))
		return w
	}
	user := func(i int) string {
		return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d","displayName":"User %d","emails":[{"value":"u%d@example.com","primary":true}]}`, i, i, i)
	}
	require.Equal(t, http.StatusCreated, do(http.MethodPost, "/Users", user(0)).Code)

	// A client writes without pause through the outage.
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		created  = map[string]bool{"u0": true}
		refused  = map[string]bool{}
		stop     = make(chan struct{})
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			w := do(http.MethodPost, "/Users", user(i))
			mu.Lock()
			statuses[w.Code]++
			name := fmt.Sprintf("u%d", i)
			switch w.Code {
			case http.StatusCreated:
				created[name] = true
			case http.StatusServiceUnavailable:
				refused[name] = true
				assert.NotEmpty(t, w.Header().Get("Retry-After"))
				assert.Contains(t, w.Body.String(), `"status":"503"`)
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	c.run(t, "pause")
	for _, req := range []struct{ method, path, body string }{
		{http.MethodGet, "/Users", ""},
		{http.MethodGet, "/Users?filter=userName%20eq%20%22u0%22", ""},
		{http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g"}`},
	} {
		w := do(req.method, req.path, req.body)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code, "%s %s while the database is down: %s", req.method, req.path, w.Body.String())
		assert.NotEmpty(t, w.Header().Get("Retry-After"))
	}
	time.Sleep(500 * time.Millisecond)
	c.run(t, "resume")
	deadline := time.Now().Add(30 * time.Second)
	for {
		w := do(http.MethodGet, "/Users?count=0", "")
		if w.Code == http.StatusOK {
			break
		}
		require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
		require.True(t, time.Now().Before(deadline), "the server did not recover within 30 s")
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	<-done

	mu.Lock()
	defer mu.Unlock()
	t.Logf("writer statuses through the outage: %v", statuses)
	for code := range statuses {
		assert.Contains(t, []int{http.StatusCreated, http.StatusServiceUnavailable}, code, "only 201 or 503")
	}
	assert.Positive(t, statuses[http.StatusServiceUnavailable], "the outage was seen")
	assert.Positive(t, statuses[http.StatusCreated], "writes went through before and after")

	w := do(http.MethodGet, "/Users?count=1000", "")
	require.Equal(t, http.StatusOK, w.Code)
	var page struct {
		Resources []map[string]any `json:"Resources"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &page))
	stored := map[string]bool{}
	for _, r := range page.Resources {
		name := r["userName"].(string)
		stored[name] = true
		var i int
		_, _ = fmt.Sscanf(name, "u%d", &i)
		assert.Equal(t, fmt.Sprintf("User %d", i), r["displayName"], "whole document of %s", name)
		assert.Len(t, r["emails"], 1, "whole document of %s", name)
		if !created[name] {
			assert.True(t, refused[name], "%s exists but was never sent", name)
		}
	}
	for name := range created {
		assert.True(t, stored[name], "%s was answered 201 but is not stored", name)
	}
	assert.Equal(t, http.StatusCreated, do(http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g"}`).Code)
}
