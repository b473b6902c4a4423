package scimkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

// logRecorder collects JSON log records.
type logRecorder struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logRecorder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the request lines ("scim: request..."), decoded.
func (l *logRecorder) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if strings.HasPrefix(m["msg"].(string), "scim: request") {
			out = append(out, m)
		}
	}
	return out
}

// collector is an Observer keeping what it is told.
type collector struct {
	mu    sync.Mutex
	infos []scimkit.RequestInfo
}

func (c *collector) Request(_ context.Context, i scimkit.RequestInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.infos = append(c.infos, i)
}

func (c *collector) last() scimkit.RequestInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.infos[len(c.infos)-1]
}

// obsServer is a server on the memory store (optionally behind a failing
// List) logging JSON at level into a recorder, with tenant acme.
func obsServer(t *testing.T, level slog.Level, listErr error, opts ...scimkit.Option) (*scimkit.Server, *logRecorder, *collector, string) {
	t.Helper()
	mem := memory.New()
	logs := &logRecorder{}
	obs := &collector{}
	var store scimkit.ResourceHandler = mem
	if listErr != nil {
		store = &faultyStore{Store: mem, listErr: listErr}
	}
	srv, err := scimkit.New(store, mem, append([]scimkit.Option{
		scimkit.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))),
		scimkit.WithObserver(obs),
	}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(t.Context(), mem, "acme", acmeToken))
	creds, err := scimkit.ListTokens(t.Context(), mem, "acme")
	require.NoError(t, err)
	return srv, logs, obs, creds[0].ID
}

func TestRequestLog(t *testing.T) {
	cause := errors.New(`pq: relation "users" does not exist`)
	tests := []struct {
		name      string
		listErr   error
		method    string
		path      string
		body      string
		want      map[string]any // fields of the request's log line
		wantCause bool
	}{
		{
			name: "500 logs its cause at error", listErr: cause, method: http.MethodGet, path: "/Users",
			want:      map[string]any{"level": "ERROR", "status": float64(500), "op": "list Users", "tenant": "acme", "cause": cause.Error()},
			wantCause: true,
		},
		{
			name: "400 logs its scimType at warn", method: http.MethodGet, path: `/Users?filter=userName+zz+"x"`,
			want: map[string]any{"level": "WARN", "status": float64(400), "scimType": "invalidFilter", "op": "list Users", "tenant": "acme"},
		},
		{
			name: "404 of a missing user at warn, with the id", method: http.MethodGet, path: "/Users/nope",
			want: map[string]any{"level": "WARN", "status": float64(404), "op": "get User", "id": "nope"},
		},
		{
			name: "401 at warn without tenant", method: http.MethodGet, path: "/Groups",
			want: map[string]any{"level": "WARN", "status": float64(401), "op": "list Groups", "tenant": "", "credential": ""},
		},
		{
			name: "success at debug", method: http.MethodPost, path: "/Users", body: `{"userName":"bob"}`,
			want: map[string]any{"level": "DEBUG", "status": float64(201), "op": "create User", "tenant": "acme"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, logs, _, credID := obsServer(t, slog.LevelDebug, tc.listErr)
			r := httptest.NewRequest(tc.method, "http://scim.test"+tc.path, strings.NewReader(tc.body))
			if tc.want["status"] != float64(401) {
				r.Header.Set("Authorization", "Bearer "+acmeToken)
			}
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			recs := logs.records(t)
			require.Len(t, recs, 1, logs.String())
			rec := recs[0]
			for k, v := range tc.want {
				assert.Equal(t, v, rec[k], "log field %s in %v", k, rec)
			}
			if tc.want["tenant"] == "acme" {
				assert.Equal(t, credID, rec["credential"], "the credential id is logged")
			}
			assert.Contains(t, rec, "latency")
			if !tc.wantCause {
				assert.NotContains(t, rec, "cause")
			}
			assert.NotContains(t, w.Body.String(), "pq:", "the cause is never sent")
		})
	}
}

// TestLogsHoldNoSecrets sends requests carrying a token, a password and
// userNames (in bodies, filters and a conflict's detail) and checks that
// none of them reaches the log at info level.
func TestLogsHoldNoSecrets(t *testing.T) {
	srv, logs, _, _ := obsServer(t, slog.LevelInfo, nil)
	const userName, password = "adele.vance@contoso.com", "Sup3r-S3cret-P@ss"
	steps := []struct{ method, path, body string }{
		{http.MethodPost, "/Users", `{"userName":"` + userName + `","password":"` + password + `","roles":[{"displayName":"x"}]}`},
		{http.MethodPost, "/Users", `{"userName":"` + userName + `","password":"` + password + `"}`}, // 409 quoting the userName
		{http.MethodGet, `/Users?filter=userName+eq+"` + userName + `"`, ``},
		{http.MethodGet, `/Users?filter=userName+zz+"` + userName + `"`, ``},
		{http.MethodPatch, "/Users/2819c223-7f76-453a-919d-413861904646", `{"Operations":[{"op":"replace","path":"password","value":"` + password + `"}]}`},
		{http.MethodPost, "/Users", `{"userName":"` + userName + `",`},
	}
	var got []int
	for _, s := range steps {
		got = append(got, serve(t, srv, s.method, s.path, s.body).Code)
	}
	require.Equal(t, []int{201, 409, 200, 400, 404, 400}, got)
	// A wrong token, which must not be logged either.
	r := httptest.NewRequest(http.MethodGet, "http://scim.test/Users", nil)
	r.Header.Set("Authorization", "Bearer wrong-token-"+password)
	srv.ServeHTTP(httptest.NewRecorder(), r)

	out := logs.String()
	require.NotEmpty(t, logs.records(t), "the failures are logged at info")
	for _, secret := range []string{acmeToken, password, userName, "adele"} {
		assert.NotContains(t, out, secret)
	}
}

func TestObserverRequestInfo(t *testing.T) {
	srv, _, obs, credID := obsServer(t, slog.LevelInfo, nil)
	w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"bob","roles":[{"displayName":"x"}]}`)
	require.Equal(t, http.StatusCreated, w.Code)
	id := idOf(t, w.Body.String())
	got := obs.last()
	assert.Equal(t, "acme", got.Tenant)
	assert.Equal(t, credID, got.Credential)
	assert.Equal(t, "User", got.Resource)
	assert.Equal(t, "create", got.Operation)
	assert.Equal(t, id, got.ResourceID)
	assert.Equal(t, http.StatusCreated, got.Status)
	assert.Equal(t, []scimkit.NormalizationKind{scimkit.DroppedAttribute}, got.Normalizations)
	assert.Positive(t, got.Duration)

	w = serve(t, srv, http.MethodPatch, "/Groups/x", `{"Operations":[]}`)
	require.Equal(t, http.StatusNotFound, w.Code)
	got = obs.last()
	assert.Equal(t, "patch Group", got.Op())
	assert.Equal(t, "x", got.ResourceID)

	w = serve(t, srv, http.MethodPost, "/Users/x", ``)
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Equal(t, "other", obs.last().Operation)
}

// TestTenantForHostMiddleware: a host middleware sees the tenant and
// credential in token mode, and can refuse a request with a SCIM error
// that the log and observers see.
func TestTenantForHostMiddleware(t *testing.T) {
	type seen struct {
		tenant, cred string
		ok           bool
	}
	var mu sync.Mutex
	var got []seen
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tenant, ok := scimkit.TenantFromContext(r.Context())
			cred, _ := scimkit.CredentialFromContext(r.Context())
			mu.Lock()
			got = append(got, seen{tenant, cred, ok})
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
	var srv *scimkit.Server
	limit := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodDelete {
				w.Header().Set("Retry-After", "1")
				srv.WriteError(w, r, scimkit.NewError(http.StatusTooManyRequests, "", "slow down"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	srv, logs, obs, credID := obsServer(t, slog.LevelInfo, nil, scimkit.WithMiddleware(mw), scimkit.WithMiddleware(limit))

	w := serve(t, srv, http.MethodGet, "/Users", "")
	require.Equal(t, http.StatusOK, w.Code)
	w = serve(t, srv, http.MethodDelete, "/Users/x", "")
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"slow down"}`, w.Body.String())
	assert.Equal(t, http.StatusTooManyRequests, obs.last().Status)
	assert.Equal(t, "delete User", obs.last().Op())
	recs := logs.records(t)
	require.Len(t, recs, 1)
	assert.Equal(t, float64(429), recs[0]["status"])

	// Unauthenticated requests never reach host middleware.
	r := httptest.NewRequest(http.MethodGet, "http://scim.test/Users", nil)
	srv.ServeHTTP(httptest.NewRecorder(), r)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []seen{{"acme", credID, true}, {"acme", credID, true}}, got)

	_, ok := scimkit.TenantFromContext(context.Background())
	assert.False(t, ok, "no tenant outside a request")
}

func TestNilObserverAndMiddleware(t *testing.T) {
	mem := memory.New()
	_, err := scimkit.New(mem, mem, scimkit.WithObserver(nil))
	require.Error(t, err)
	_, err = scimkit.New(mem, mem, scimkit.WithMiddleware(nil))
	require.Error(t, err)
}

func TestHealth(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	srv, _, _, _ := obsServer(t, slog.LevelInfo, nil, scimkit.WithClock(clock))

	h := srv.Health("acme")
	assert.Equal(t, scimkit.Health{Tenant: "acme"}, h, "nothing seen yet")

	require.Equal(t, http.StatusOK, serve(t, srv, http.MethodGet, "/Users", "").Code)
	okAt := clock()
	advance(time.Minute)
	for range 9 {
		require.Equal(t, http.StatusBadRequest, serve(t, srv, http.MethodGet, "/Users?filter=x+zz+1", "").Code)
	}
	h = srv.Health("acme")
	assert.Equal(t, okAt, h.LastSuccess)
	assert.Equal(t, clock(), h.LastFailure)
	assert.Equal(t, http.StatusBadRequest, h.LastFailureStatus)
	assert.Equal(t, "invalidFilter", h.LastFailureScimType)
	assert.Equal(t, 10, h.Requests)
	assert.Equal(t, 9, h.Failures)
	assert.InDelta(t, 0.9, h.ErrorRate, 1e-9)
	assert.True(t, h.QuarantineRisk, "most calls fail")
	assert.NotEmpty(t, h.Warning)

	// Nine successes make it 9 of 19: under half.
	for range 9 {
		require.Equal(t, http.StatusOK, serve(t, srv, http.MethodGet, "/Users", "").Code)
	}
	h = srv.Health("acme")
	assert.Equal(t, 19, h.Requests)
	assert.False(t, h.QuarantineRisk)
	assert.Empty(t, h.Warning)

	// An hour later the window is empty; the last success is kept.
	advance(61 * time.Minute)
	h = srv.Health("acme")
	assert.Zero(t, h.Requests)
	assert.Equal(t, okAt.Add(time.Minute), h.LastSuccess)

	// Few requests are no pattern.
	for range scimkit.QuarantineMinRequests - 1 {
		serve(t, srv, http.MethodGet, "/Users?filter=x+zz+1", "")
	}
	assert.False(t, srv.Health("acme").QuarantineRisk)

	// Other tenants are untouched; a wrong token is counted for nobody.
	r := httptest.NewRequest(http.MethodGet, "http://scim.test/Users", nil)
	r.Header.Set("Authorization", "Bearer nope-nope-nope")
	srv.ServeHTTP(httptest.NewRecorder(), r)
	assert.Equal(t, scimkit.Health{Tenant: "globex"}, srv.Health("globex"))
	assert.Equal(t, scimkit.QuarantineMinRequests-1, srv.Health("acme").Requests)
}

// TestHealthCountsExpiredToken: an IdP still sending a tenant's expired
// token is what gets a job quarantined, so its 401s count for the tenant.
func TestHealthCountsExpiredToken(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	mem := memory.New()
	obs := &collector{}
	srv, err := scimkit.New(mem, mem, scimkit.WithClock(clock), scimkit.WithObserver(obs))
	require.NoError(t, err)
	tok, cred, err := scimkit.GenerateToken(t.Context(), mem, "acme", scimkit.WithTokenLifetime(time.Hour), scimkit.WithTokenClock(clock))
	require.NoError(t, err)
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	for range scimkit.QuarantineMinRequests {
		r := httptest.NewRequest(http.MethodGet, "http://scim.test/Users", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		require.Equal(t, http.StatusUnauthorized, w.Code)
	}
	assert.Equal(t, "acme", obs.last().Tenant)
	assert.Equal(t, cred.ID, obs.last().Credential)
	h := srv.Health("acme")
	assert.Equal(t, scimkit.QuarantineMinRequests, h.Failures)
	assert.True(t, h.QuarantineRisk)
}

// TestWrongTokenOnTenantURL: a wrong token sent to a tenant's URL counts
// in that tenant's health once it is known, but names no tenant to
// observers (the URL is the client's to choose).
func TestWrongTokenOnTenantURL(t *testing.T) {
	srv, logs, obs, _ := obsServer(t, slog.LevelInfo, nil)
	mux := http.NewServeMux()
	mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant"))
	get := func(tenant, token string) int {
		r := httptest.NewRequest(http.MethodGet, "http://scim.test/t/"+tenant+"/scim/v2/Users", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	require.Equal(t, http.StatusUnauthorized, get("unknown-tenant", "wrong-token"))
	assert.Equal(t, "", obs.last().Tenant)
	assert.Equal(t, scimkit.Health{Tenant: "unknown-tenant"}, srv.Health("unknown-tenant"), "not tracked")
	require.Equal(t, http.StatusOK, get("acme", acmeToken))
	require.Equal(t, http.StatusUnauthorized, get("acme", "wrong-token"))
	assert.Equal(t, "", obs.last().Tenant)
	h := srv.Health("acme")
	assert.Equal(t, 2, h.Requests)
	assert.Equal(t, 1, h.Failures)
	assert.Equal(t, http.StatusUnauthorized, h.LastFailureStatus)
	recs := logs.records(t)
	require.NotEmpty(t, recs)
	assert.Equal(t, "acme", recs[len(recs)-1]["urlTenant"])
}
