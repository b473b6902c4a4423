package main

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testClock is a settable clock for backupd's config.now.
type testClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// created reads a 201 with a new token.
func (e *env) createToken(tenant, body string) map[string]any {
	e.t.Helper()
	r := e.do(http.MethodPost, "/admin/tenants/"+tenant+"/scim/tokens", testAdminToken, body)
	require.Equal(e.t, http.StatusCreated, r.status, "%s", r.body)
	assert.Equal(e.t, "no-store", r.header.Get("Cache-Control"))
	return r.json(e.t)
}

// tokens lists the tenant's tokens by id.
func (e *env) tokens(tenant string) map[string]map[string]any {
	e.t.Helper()
	out := map[string]map[string]any{}
	list, ok := e.admin(http.MethodGet, "/admin/tenants/"+tenant+"/scim/tokens", "")["tokens"].([]any)
	require.True(e.t, ok, "tokens is a list")
	for _, x := range list {
		m := x.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "%v is not a time string", v)
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return tm
}

func TestTokenAdminAPI(t *testing.T) {
	t.Parallel()
	forEachStore(t, testTokenAdminAPI)
}

func testTokenAdminAPI(t *testing.T, store string) {
	clock := newTestClock()
	e := newEnv(t, config{store: store, now: clock.now})
	e.admin(http.MethodPost, "/admin/tenants/acme/scim/enable", "")

	entra := e.createToken("acme", `{"label":"Entra production","expiresInDays":30}`)
	assert.Equal(t, "Entra production", entra["label"])
	assert.True(t, strings.HasPrefix(entra["token"].(string), "scim_"))
	assert.Equal(t, "acme", entra["tenant"])
	created := parseTime(t, entra["created"])
	assert.True(t, created.Equal(clock.now()))
	assert.True(t, parseTime(t, entra["expires"]).Equal(created.Add(30*24*time.Hour)))
	assert.Nil(t, entra["lastUsed"])
	assert.Contains(t, entra["note"], "shown once")

	okta := e.createToken("acme", "")
	assert.True(t, parseTime(t, okta["expires"]).Equal(created.Add(365*24*time.Hour)), "new tokens default to 365 days")
	assert.Equal(t, "", okta["label"])

	// Both work, on both URLs; each shows up in the list, never a token.
	for _, tok := range []string{entra["token"].(string), okta["token"].(string)} {
		for _, path := range []string{"/scim/v2/Users", "/t/acme/scim/v2/Users"} {
			assert.Equal(t, http.StatusOK, e.do(http.MethodGet, path, tok, "").status, path)
		}
	}
	clock.advance(time.Minute)
	require.NoError(t, e.app.scim.Flush(context.Background()))
	r := e.do(http.MethodGet, "/admin/tenants/acme/scim/tokens", testAdminToken, "")
	require.Equal(t, http.StatusOK, r.status)
	for _, tok := range []string{entra["token"].(string), okta["token"].(string)} {
		assert.NotContains(t, string(r.body), tok)
		assert.NotContains(t, string(r.body), strings.TrimPrefix(tok, "scim_"))
	}
	list := e.tokens("acme")
	require.Len(t, list, 2)
	got := list[entra["id"].(string)]
	require.NotNil(t, got)
	assert.Equal(t, "Entra production", got["label"])
	assert.True(t, parseTime(t, got["created"]).Equal(created))
	assert.True(t, parseTime(t, got["expires"]).Equal(created.Add(30*24*time.Hour)))
	assert.True(t, parseTime(t, got["lastUsed"]).Equal(created), "last used, to the minute")
	assert.Equal(t, false, got["expired"])
	assert.NotContains(t, got, "token")
	assert.Empty(t, e.tokens("globex"), "another tenant lists none of acme's tokens")

	// Revoke one: it gets 401 SCIM JSON at once, the other keeps working.
	r = e.do(http.MethodDelete, "/admin/tenants/globex/scim/tokens/"+entra["id"].(string), testAdminToken, "")
	assert.Equal(t, http.StatusNotFound, r.status, "globex cannot revoke acme's token")
	r = e.do(http.MethodDelete, "/admin/tenants/acme/scim/tokens/"+entra["id"].(string), testAdminToken, "")
	require.Equal(t, http.StatusNoContent, r.status, "%s", r.body)
	r = e.do(http.MethodGet, "/scim/v2/Users", entra["token"].(string), "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "application/scim+json", r.header.Get("Content-Type"))
	assert.Equal(t, "401", r.json(t)["status"])
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/scim/v2/Users", okta["token"].(string), "").status)
	r = e.do(http.MethodDelete, "/admin/tenants/acme/scim/tokens/"+entra["id"].(string), testAdminToken, "")
	assert.Equal(t, http.StatusNotFound, r.status, "revoked twice")
	assert.Equal(t, "not_found", r.json(t)["error"])
	assert.Len(t, e.tokens("acme"), 1)

	// Expiry: 365 days later the default token answers 401.
	clock.advance(365 * 24 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/scim/v2/Users", okta["token"].(string), "").status)
	assert.Equal(t, true, e.tokens("acme")[okta["id"].(string)]["expired"])
	assert.Equal(t, false, e.admin(http.MethodGet, "/admin/tenants/acme/scim", "")["tokenSet"], "no unexpired token")
}

func TestTokenAdminAPIRotation(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	e := newEnv(t, config{now: clock.now})
	e.admin(http.MethodPost, "/admin/tenants/acme/scim/enable", "")
	old := e.createToken("acme", `{"label":"Entra"}`)

	r := e.do(http.MethodPost, "/admin/tenants/acme/scim/tokens/"+old["id"].(string)+"/rotate", testAdminToken, `{"overlapHours":2}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	fresh := r.json(t)
	assert.Equal(t, "Entra", fresh["label"])
	assert.NotEqual(t, old["token"], fresh["token"])
	assert.True(t, parseTime(t, e.tokens("acme")[old["id"].(string)]["expires"]).Equal(clock.now().Add(2*time.Hour)))

	use := func(tok any) int { return e.do(http.MethodGet, "/t/acme/scim/v2/Users", tok.(string), "").status }
	assert.Equal(t, http.StatusOK, use(old["token"]), "the old token during the overlap")
	assert.Equal(t, http.StatusOK, use(fresh["token"]))
	clock.advance(2 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, use(old["token"]), "the old token after the overlap")
	assert.Equal(t, http.StatusOK, use(fresh["token"]))

	r = e.do(http.MethodPost, "/admin/tenants/acme/scim/tokens/nope/rotate", testAdminToken, "")
	assert.Equal(t, http.StatusNotFound, r.status, "%s", r.body)

	// The dashboard's "Generate API token" with an overlap.
	res := e.admin(http.MethodPost, "/admin/tenants/acme/scim/token", `{"overlapHours":1}`)
	assert.Equal(t, "dashboard", res["label"])
	assert.Equal(t, http.StatusOK, use(fresh["token"]), "the previous token during the overlap")
	assert.Equal(t, http.StatusOK, use(res["token"]))
	clock.advance(time.Hour)
	assert.Equal(t, http.StatusUnauthorized, use(fresh["token"]), "the previous token after the overlap")
	assert.Equal(t, http.StatusOK, use(res["token"]))
}

func TestTokenAdminAPIRefusesBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	r := e.do(http.MethodPost, "/admin/tenants/acme/scim/tokens", testAdminToken, `{"label":"x"}`)
	assert.Equal(t, http.StatusConflict, r.status, "SCIM not enabled")
	assert.Equal(t, "scim_disabled", r.json(t)["error"])
	e.admin(http.MethodPost, "/admin/tenants/acme/scim/enable", "")
	id := e.createToken("acme", "")["id"].(string)

	tests := []struct{ name, path, body string }{
		{"zero days", "/tokens", `{"expiresInDays":0}`},
		{"too many days", "/tokens", `{"expiresInDays":3651}`},
		{"days as a string", "/tokens", `{"expiresInDays":"30"}`},
		{"fractional days", "/tokens", `{"expiresInDays":1.5}`},
		{"reserved label", "/tokens", `{"label":"-dev-token"}`},
		{"label with a control character", "/tokens", `{"label":"a\u0007b"}`},
		{"label too long", "/tokens", `{"label":"` + strings.Repeat("x", 129) + `"}`},
		{"label not a string", "/tokens", `{"label":5}`},
		{"unknown field", "/tokens", `{"lable":"x"}`},
		{"two objects", "/tokens", `{} {}`},
		{"not JSON", "/tokens", `label=x`},
		{"negative overlap", "/tokens/" + id + "/rotate", `{"overlapHours":-1}`},
		{"overlap over 30 days", "/tokens/" + id + "/rotate", `{"overlapHours":721}`},
		{"legacy endpoint, negative overlap", "/token", `{"overlapHours":-1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/admin/tenants/acme/scim"+tc.path, testAdminToken, tc.body)
			assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
			assert.Equal(t, "invalid_request", r.json(t)["error"])
		})
	}
	assert.Len(t, e.tokens("acme"), 1, "no refused request made or changed a token")
	r = e.do(http.MethodPut, "/admin/tenants/acme/scim/tokens", testAdminToken, "")
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, "POST, GET, HEAD", r.header.Get("Allow"))
}

func TestAdminRefusesDotTenants(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	for _, tenant := range []string{"%2e%2e", "%2E%2E", "%2e", ".hidden", "-x", "a%2Fb", strings.Repeat("a", 65)} {
		for _, route := range []struct{ method, path string }{
			{http.MethodPost, "/scim/enable"},
			{http.MethodPost, "/scim/tokens"},
			{http.MethodGet, "/scim/tokens"},
			{http.MethodDelete, "/scim/tokens/x"},
			{http.MethodGet, "/accounts"},
		} {
			r := e.do(route.method, "/admin/tenants/"+tenant+route.path, testAdminToken, "")
			assert.Equal(t, http.StatusBadRequest, r.status, "%s %s: %s", route.method, tenant, r.body)
			assert.Equal(t, "invalid_tenant", r.json(t)["error"], tenant)
		}
	}
	// An unescaped ".." never reaches a tenant route: the mux cleans the
	// path (and redirects).
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/admin/tenants/../scim", nil)
	require.NoError(t, err)
	req.URL.Opaque = "/admin/tenants/../scim"
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.GreaterOrEqual(t, res.StatusCode, 300, "an unescaped .. is not served")
}

func TestShortAdminTokenIsRefusedAtStart(t *testing.T) {
	t.Parallel()
	_, err := newApp(context.Background(), config{adminToken: "x"}, slog.New(slog.DiscardHandler))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-admin-token")
	assert.Contains(t, err.Error(), "16")
	_, err = newApp(context.Background(), config{adminToken: strings.Repeat("s", 15)}, slog.New(slog.DiscardHandler))
	require.Error(t, err)
	a, err := newApp(context.Background(), config{adminToken: strings.Repeat("s", 16)}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, a.Close())

	var stderr strings.Builder
	err = run(context.Background(), []string{"-store", "memory", "-admin-token", "hunter2"}, &strings.Builder{}, &stderr)
	require.Error(t, err, "run refuses it before listening")
	assert.NotContains(t, err.Error(), "hunter2", "the message does not echo the secret")
}

// TestDevTokenIsForgottenWithoutTheFlag: a restart without -dev-token
// revokes the dev token; a restart with another one replaces it.
func TestDevTokenIsForgottenWithoutTheFlag(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := "sqlite:" + filepath.Join(t.TempDir(), "backupd.db")
			if name == "postgres" {
				store = "postgres:" + pgSchemaDSN(t)
			}
			users := "/scim/v2/Users"
			e := newEnv(t, config{store: store, devToken: "dev-token-one"})
			assert.Equal(t, http.StatusOK, e.do(http.MethodGet, users, "dev-token-one", "").status)
			other := e.createToken("default", `{"label":"kept"}`)["token"].(string)
			e.close()

			e = newEnv(t, config{store: store, devToken: "dev-token-one"})
			assert.Equal(t, http.StatusOK, e.do(http.MethodGet, users, "dev-token-one", "").status, "same flag again")
			assert.Len(t, e.tokens("default"), 2)
			e.close()

			e = newEnv(t, config{store: store})
			assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, users, "dev-token-one", "").status, "started without -dev-token")
			assert.Equal(t, http.StatusOK, e.do(http.MethodGet, users, other, "").status, "other tokens of the tenant are kept")
			list := e.tokens("default")
			require.Len(t, list, 1)
			for _, c := range list {
				assert.Equal(t, "kept", c["label"])
			}
			e.close()

			e = newEnv(t, config{store: store, devToken: "dev-token-one"})
			e.close()
			e = newEnv(t, config{store: store, devToken: "dev-token-two"})
			assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, users, "dev-token-one", "").status, "the previous dev token")
			assert.Equal(t, http.StatusOK, e.do(http.MethodGet, users, "dev-token-two", "").status, "the new dev token")
			assert.Len(t, e.tokens("default"), 2)
		})
	}
}
