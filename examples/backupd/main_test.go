package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scimkit/scimkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

const testAdminToken = "test-admin-token"

// testPassword is the dashboard password of newEnv.
const testPassword = "test-dashboard-password"

// env is one backupd behind an httptest server.
type env struct {
	t   *testing.T
	app *app
	srv *httptest.Server
	// close stops the server and closes the app (and its store); it runs
	// at cleanup if the test did not call it.
	close func()
}

// newEnv starts a backupd with cfg; cfg.store "" is memory.
func newEnv(t *testing.T, cfg config) *env {
	t.Helper()
	if cfg.adminToken == "" {
		cfg.adminToken = testAdminToken
	}
	if cfg.adminPassword == "" {
		cfg.adminPassword = testPassword
	}
	if cfg.passwordCost == 0 {
		cfg.passwordCost = bcrypt.MinCost
	}
	require.NotEqual(t, defaultStore, cfg.store, "tests must not write ./backupd.db: use memory or a t.TempDir() file")
	a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(a)
	var once sync.Once
	e := &env{t: t, app: a, srv: srv, close: func() {
		once.Do(func() {
			srv.Close()
			require.NoError(t, a.Close())
		})
	}}
	t.Cleanup(e.close)
	return e
}

// resp is a response read in full.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as a JSON object.
func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// do sends a request with an optional bearer token and body.
func (e *env) do(method, path, token, body string) resp {
	e.t.Helper()
	if strings.HasPrefix(path, "/admin/") {
		// Accounts follow the outbox: deliver what is due first, as the
		// running binary's dispatcher would have by now.
		require.NoError(e.t, e.app.drainEvents(context.Background()))
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	res, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// admin calls the admin API with the admin token and wants 200.
func (e *env) admin(method, path, body string) map[string]any {
	e.t.Helper()
	r := e.do(method, path, testAdminToken, body)
	require.Equal(e.t, http.StatusOK, r.status, "%s %s: %s", method, path, r.body)
	assert.Equal(e.t, "application/json", r.header.Get("Content-Type"))
	return r.json(e.t)
}

// onboard runs the dashboard flow for tenant and returns its SCIM token.
func (e *env) onboard(tenant string, sizeGB int) string {
	e.t.Helper()
	e.admin(http.MethodPost, "/admin/tenants/"+tenant+"/scim/enable", "")
	if sizeGB > 0 {
		e.admin(http.MethodPut, "/admin/tenants/"+tenant+"/scim/settings", `{"accountSizeGB":`+itoa(sizeGB)+`}`)
	}
	tok := e.admin(http.MethodPost, "/admin/tenants/"+tenant+"/scim/token", "")["token"]
	require.IsType(e.t, "", tok)
	return tok.(string)
}

// accounts returns the tenant's backup accounts by userId.
func (e *env) accounts(tenant string) map[string]map[string]any {
	e.t.Helper()
	out := map[string]map[string]any{}
	list, _ := e.admin(http.MethodGet, "/admin/tenants/"+tenant+"/accounts", "")["accounts"].([]any)
	for _, a := range list {
		m := a.(map[string]any)
		out[m["userId"].(string)] = m
	}
	return out
}

// createUser POSTs an Entra-style user and returns its id.
func (e *env) createUser(base, token, userName string) string {
	e.t.Helper()
	r := e.do(http.MethodPost, base+"/Users", token, entraUser(userName))
	require.Equal(e.t, http.StatusCreated, r.status, "%s", r.body)
	id, _ := r.json(e.t)["id"].(string)
	require.NotEmpty(e.t, id)
	return id
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// entraUser is the body Entra ID's provisioning service POSTs.
func entraUser(userName string) string {
	return `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "externalId": "ext-` + userName + `",
  "userName": "` + userName + `",
  "active": true,
  "emails": [{"primary": true, "type": "work", "value": "` + userName + `@contoso.example"}],
  "meta": {"resourceType": "User"},
  "name": {"formatted": "Ada Lovelace", "familyName": "Lovelace", "givenName": "Ada"},
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Backups"}
}`
}

// entraPatch is an Entra PatchOp with a single Replace.
func entraPatch(path, value string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"` + path + `","value":` + value + `}]}`
}

func filterQuery(f string) string { return "?filter=" + url.QueryEscape(f) }

// TestEntraLifecycle walks one user through what Entra ID does, checking
// the backup account at each step.
func TestEntraLifecycle(t *testing.T) {
	t.Parallel()
	forEachStore(t, testEntraLifecycle)
}

func testEntraLifecycle(t *testing.T, store string) {
	e := newEnv(t, config{store: store})
	tok := e.onboard("acme", 50)
	const guid = "0b3a5f6e-8f1c-4d2a-9b7e-3c4d5e6f7a8b"

	// Test Connection: a filter on a random GUID finds nothing.
	r := e.do(http.MethodGet, "/scim/v2/Users"+filterQuery(`userName eq "`+guid+`"`), tok, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	list := r.json(t)
	assert.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, list["schemas"])
	assert.EqualValues(t, 0, list["totalResults"])
	assert.Empty(t, list["Resources"])

	// Provision: the account gets the tenant's size.
	id := e.createUser("/scim/v2", tok, guid)
	accs := e.accounts("acme")
	require.Contains(t, accs, id)
	assert.Equal(t, guid, accs[id]["userName"])
	assert.EqualValues(t, 50, accs[id]["quotaGB"])
	assert.Equal(t, true, accs[id]["active"])
	assert.Equal(t, "active", accs[id]["status"])

	// The account size applies to accounts created afterwards only.
	e.admin(http.MethodPut, "/admin/tenants/acme/scim/settings", `{"accountSizeGB":20}`)
	id2 := e.createUser("/scim/v2", tok, "second@contoso.example")
	accs = e.accounts("acme")
	assert.EqualValues(t, 50, accs[id]["quotaGB"])
	assert.EqualValues(t, 20, accs[id2]["quotaGB"])

	// Deactivate the Entra way ("False" as a string): suspended, data kept.
	r = e.do(http.MethodPatch, "/scim/v2/Users/"+id, tok, entraPatch("active", `"False"`))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, false, r.json(t)["active"])
	accs = e.accounts("acme")
	require.Contains(t, accs, id)
	assert.Equal(t, false, accs[id]["active"])
	assert.Equal(t, "suspended", accs[id]["status"])
	assert.EqualValues(t, 50, accs[id]["quotaGB"])

	// A deactivated user stays readable, by id and by filter.
	r = e.do(http.MethodGet, "/scim/v2/Users/"+id, tok, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, false, r.json(t)["active"])
	r = e.do(http.MethodGet, "/scim/v2/Users"+filterQuery(`userName eq "`+guid+`"`), tok, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	list = r.json(t)
	assert.EqualValues(t, 1, list["totalResults"])
	require.Len(t, list["Resources"], 1)
	assert.Equal(t, id, list["Resources"].([]any)[0].(map[string]any)["id"])

	// Reactivate.
	r = e.do(http.MethodPatch, "/scim/v2/Users/"+id, tok, entraPatch("active", `"True"`))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, "active", e.accounts("acme")[id]["status"])

	// Rename: the account follows.
	r = e.do(http.MethodPatch, "/scim/v2/Users/"+id, tok, entraPatch("userName", `"ada@contoso.example"`))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, "ada@contoso.example", e.accounts("acme")[id]["userName"])

	// Groups are accepted and ignored by the product.
	r = e.do(http.MethodPost, "/scim/v2/Groups", tok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Backup Admins","members":[{"value":"`+id+`"}]}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	assert.Len(t, e.accounts("acme"), 2)

	// Delete: the account is gone, the other one stays.
	r = e.do(http.MethodDelete, "/scim/v2/Users/"+id, tok, "")
	require.Equal(t, http.StatusNoContent, r.status, "%s", r.body)
	accs = e.accounts("acme")
	assert.NotContains(t, accs, id)
	assert.Contains(t, accs, id2)
	r = e.do(http.MethodGet, "/scim/v2/Users/"+id, tok, "")
	assert.Equal(t, http.StatusNotFound, r.status)

	st := e.admin(http.MethodGet, "/admin/tenants/acme/scim", "")
	assert.EqualValues(t, 1, st["accounts"])
}

func TestPerTenantURL(t *testing.T) {
	t.Parallel()
	forEachStore(t, testPerTenantURL)
}

func testPerTenantURL(t *testing.T, store string) {
	e := newEnv(t, config{store: store})
	acme := e.onboard("acme", 0)
	globex := e.onboard("globex", 0)
	id := e.createUser("/t/acme/scim/v2", acme, "alice@acme.example")

	tests := []struct {
		name   string
		path   string
		token  string
		status int
	}{
		{"own token on own URL", "/t/acme/scim/v2/Users/" + id, acme, http.StatusOK},
		{"own token lists users", "/t/acme/scim/v2/Users", acme, http.StatusOK},
		{"shared URL finds the tenant from the token", "/scim/v2/Users/" + id, acme, http.StatusOK},
		{"another tenant's token gets 401", "/t/acme/scim/v2/Users/" + id, globex, http.StatusUnauthorized},
		{"own token on another tenant's URL gets 401", "/t/globex/scim/v2/Users", acme, http.StatusUnauthorized},
		{"no token gets 401", "/t/acme/scim/v2/Users", "", http.StatusUnauthorized},
		{"wrong token gets 401", "/t/acme/scim/v2/Users", "scim_not-a-real-token", http.StatusUnauthorized},
		{"unknown tenant gets 401", "/t/nobody/scim/v2/Users", acme, http.StatusUnauthorized},
		{"another tenant's user is not found", "/t/globex/scim/v2/Users/" + id, globex, http.StatusNotFound},
		{"another tenant's user is not found on the shared URL", "/scim/v2/Users/" + id, globex, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodGet, tc.path, tc.token, "")
			assert.Equal(t, tc.status, r.status, "%s", r.body)
			assert.Equal(t, "application/scim+json", r.header.Get("Content-Type"))
			if tc.status == http.StatusUnauthorized {
				assert.NotEmpty(t, r.header.Get("WWW-Authenticate"))
			}
		})
	}

	// The accounts of each tenant are kept apart.
	assert.Len(t, e.accounts("acme"), 1)
	assert.Empty(t, e.accounts("globex"))
}

func TestResourceLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		baseURL string
		scim    string // SCIM base path requested
		want    string // expected prefix of Location, "" = the test server
	}{
		{"shared URL", "", "/scim/v2", "/scim/v2/Users/"},
		{"per-tenant URL", "", "/t/acme/scim/v2", "/t/acme/scim/v2/Users/"},
		{"shared URL behind a proxy", "https://backup.example.com", "/scim/v2", "https://backup.example.com/scim/v2/Users/"},
		{"per-tenant URL behind a proxy", "https://backup.example.com", "/t/acme/scim/v2", "https://backup.example.com/t/acme/scim/v2/Users/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, config{baseURL: tc.baseURL})
			tok := e.onboard("acme", 0)
			want := tc.want
			if tc.baseURL == "" {
				want = e.srv.URL + want
			}
			r := e.do(http.MethodPost, tc.scim+"/Users", tok, entraUser("loc@acme.example"))
			require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
			id := r.json(t)["id"].(string)
			assert.Equal(t, want+id, r.header.Get("Location"))
			assert.Equal(t, want+id, r.json(t)["meta"].(map[string]any)["location"])

			st := e.admin(http.MethodGet, "/admin/tenants/acme/scim", "")
			origin := tc.baseURL
			if origin == "" {
				origin = e.srv.URL
			}
			assert.Equal(t, origin+"/scim/v2", st["tenantURL"])
			assert.Equal(t, origin+"/t/acme/scim/v2", st["perTenantURL"])
		})
	}
}

func TestRegenerateTokenInvalidatesOld(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	old := e.onboard("acme", 0)
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, "/scim/v2/Users", old, "").status)

	res := e.admin(http.MethodPost, "/admin/tenants/acme/scim/token", "")
	fresh := res["token"].(string)
	assert.NotEqual(t, old, fresh)
	assert.True(t, strings.HasPrefix(fresh, "scim_"), fresh)
	assert.Contains(t, res["note"], "shown once")

	for _, path := range []string{"/scim/v2/Users", "/t/acme/scim/v2/Users"} {
		assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, path, old, "").status, path)
		assert.Equal(t, http.StatusOK, e.do(http.MethodGet, path, fresh, "").status, path)
	}

	// The status page never shows the token.
	r := e.do(http.MethodGet, "/admin/tenants/acme/scim", testAdminToken, "")
	require.Equal(t, http.StatusOK, r.status)
	assert.NotContains(t, string(r.body), fresh)
	assert.Equal(t, true, r.json(t)["tokenSet"])
}

func TestDisableAndReenable(t *testing.T) {
	t.Parallel()
	forEachStore(t, testDisableAndReenable)
}

func testDisableAndReenable(t *testing.T, store string) {
	e := newEnv(t, config{store: store})
	tok := e.onboard("acme", 0)
	id := e.createUser("/scim/v2", tok, "bob@acme.example")

	st := e.admin(http.MethodPost, "/admin/tenants/acme/scim/disable", "")
	assert.Equal(t, false, st["scimEnabled"])
	assert.Equal(t, false, st["tokenSet"])
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/scim/v2/Users", tok, "").status)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/t/acme/scim/v2/Users", tok, "").status)
	accs := e.accounts("acme")
	require.Contains(t, accs, id, "disabling SCIM keeps the accounts")
	assert.EqualValues(t, defaultAccountSizeGB, accs[id]["quotaGB"])

	// No token while disabled.
	r := e.do(http.MethodPost, "/admin/tenants/acme/scim/token", testAdminToken, "")
	assert.Equal(t, http.StatusConflict, r.status)
	assert.Equal(t, "scim_disabled", r.json(t)["error"])

	// Disabling twice is fine.
	e.admin(http.MethodPost, "/admin/tenants/acme/scim/disable", "")

	tok2 := e.onboard("acme", 0)
	r = e.do(http.MethodGet, "/scim/v2/Users/"+id, tok2, "")
	assert.Equal(t, http.StatusOK, r.status, "users survive a disable")
}

func TestEnableReturnsTenantURLs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	st := e.admin(http.MethodPost, "/admin/tenants/acme/scim/enable", "")
	assert.Equal(t, "acme", st["tenant"])
	assert.Equal(t, true, st["scimEnabled"])
	assert.Equal(t, e.srv.URL+"/scim/v2", st["tenantURL"])
	assert.Equal(t, e.srv.URL+"/t/acme/scim/v2", st["perTenantURL"])
	assert.EqualValues(t, defaultAccountSizeGB, st["accountSizeGB"])
	assert.Equal(t, false, st["tokenSet"])
	assert.NotContains(t, st, "token")

	// Enabled without a token: the IdP still gets 401.
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/t/acme/scim/v2/Users", "whatever-token", "").status)
}

func TestAdminAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	tests := []struct {
		name   string
		header string
		path   string
		status int
	}{
		{"no header", "", "/admin/tenants/acme/scim", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", "/admin/tenants/acme/scim", http.StatusUnauthorized},
		{"prefix of the token", "Bearer " + testAdminToken[:4], "/admin/tenants/acme/scim", http.StatusUnauthorized},
		{"token plus suffix", "Bearer " + testAdminToken + "x", "/admin/tenants/acme/scim", http.StatusUnauthorized},
		{"basic scheme", "Basic " + testAdminToken, "/admin/tenants/acme/scim", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", "/admin/tenants/acme/scim", http.StatusUnauthorized},
		{"scim token is not an admin token", "Bearer scim_abc", "/admin/tenants/acme/accounts", http.StatusUnauthorized},
		{"unknown route needs auth too", "", "/admin/tenants/acme/nothing", http.StatusUnauthorized},
		{"right token", "Bearer " + testAdminToken, "/admin/tenants/acme/scim", http.StatusOK},
		{"scheme is case-insensitive", "bearer " + testAdminToken, "/admin/tenants/acme/accounts", http.StatusOK},
		{"unknown route", "Bearer " + testAdminToken, "/admin/tenants/acme/nothing", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+tc.path, nil)
			require.NoError(t, err)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			res, err := e.srv.Client().Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			assert.Equal(t, tc.status, res.StatusCode)
			assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
			var body map[string]any
			require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
			switch tc.status {
			case http.StatusUnauthorized:
				assert.Equal(t, "unauthorized", body["error"])
				assert.Equal(t, `Bearer realm="backupd-admin"`, res.Header.Get("WWW-Authenticate"))
			case http.StatusNotFound:
				assert.Equal(t, "not_found", body["error"])
			}
		})
	}
}

func TestGeneratedAdminToken(t *testing.T) {
	t.Parallel()
	a, err := newApp(context.Background(), config{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, a.Close()) })
	assert.True(t, a.adminTokenGenerated)
	assert.True(t, strings.HasPrefix(a.adminToken, "adm_"))
	assert.Greater(t, len(a.adminToken), 40)

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/admin/tenants/acme/scim", nil)
	req.Header.Set("Authorization", "Bearer "+a.adminToken)
	a.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

func TestAccountSizeValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		status int
		want   int // accountSizeGB afterwards
	}{
		{"positive integer", `{"accountSizeGB":50}`, http.StatusOK, 50},
		{"one", `{"accountSizeGB":1}`, http.StatusOK, 1},
		{"maximum", `{"accountSizeGB":10240}`, http.StatusOK, 10240},
		{"zero", `{"accountSizeGB":0}`, http.StatusBadRequest, defaultAccountSizeGB},
		{"negative", `{"accountSizeGB":-5}`, http.StatusBadRequest, defaultAccountSizeGB},
		{"above maximum", `{"accountSizeGB":10241}`, http.StatusBadRequest, defaultAccountSizeGB},
		{"huge", `{"accountSizeGB":99999999999999999999999}`, http.StatusBadRequest, defaultAccountSizeGB},
		{"fraction", `{"accountSizeGB":50.5}`, http.StatusBadRequest, defaultAccountSizeGB},
		{"exponent", `{"accountSizeGB":5e1}`, http.StatusBadRequest, defaultAccountSizeGB},
		{"string", `{"accountSizeGB":"50"}`, http.StatusBadRequest, defaultAccountSizeGB},
		{"null", `{"accountSizeGB":null}`, http.StatusBadRequest, defaultAccountSizeGB},
		{"missing", `{}`, http.StatusBadRequest, defaultAccountSizeGB},
		{"unknown field", `{"accountSizeGB":50,"quota":1}`, http.StatusBadRequest, defaultAccountSizeGB},
		{"not JSON", `fifty`, http.StatusBadRequest, defaultAccountSizeGB},
		{"array", `[50]`, http.StatusBadRequest, defaultAccountSizeGB},
		{"empty body", ``, http.StatusBadRequest, defaultAccountSizeGB},
		{"two objects", `{"accountSizeGB":50}{"accountSizeGB":60}`, http.StatusBadRequest, defaultAccountSizeGB},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, config{})
			r := e.do(http.MethodPut, "/admin/tenants/acme/scim/settings", testAdminToken, tc.body)
			assert.Equal(t, tc.status, r.status, "%s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			if tc.status == http.StatusBadRequest {
				assert.Equal(t, "invalid_request", r.json(t)["error"])
				assert.NotEmpty(t, r.json(t)["message"])
			}
			st := e.admin(http.MethodGet, "/admin/tenants/acme/scim", "")
			assert.EqualValues(t, tc.want, st["accountSizeGB"])
		})
	}
}

func TestAdminTenantIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	tests := []struct {
		name   string
		tenant string // already escaped for the path
		status int
	}{
		{"letters digits and -_.", "Acme-corp_2.eu", http.StatusOK},
		{"64 bytes", strings.Repeat("a", 64), http.StatusOK},
		{"65 bytes", strings.Repeat("a", 65), http.StatusBadRequest},
		{"space", "acme%20corp", http.StatusBadRequest},
		{"non-ASCII letter", url.PathEscape("ünïcode"), http.StatusBadRequest},
		{"escaped slash", "a%2Fb", http.StatusBadRequest},
		{"colon", "a:b", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(http.MethodPost, "/admin/tenants/"+tc.tenant+"/scim/enable", testAdminToken, "")
			assert.Equal(t, tc.status, r.status, "%s", r.body)
			if tc.status == http.StatusBadRequest {
				assert.Equal(t, "invalid_tenant", r.json(t)["error"])
			}
		})
	}
}

func TestAdminMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	tests := []struct {
		name, method, path, allow string
	}{
		{"GET on enable", http.MethodGet, "/admin/tenants/acme/scim/enable", "POST"},
		{"DELETE on status", http.MethodDelete, "/admin/tenants/acme/scim", "GET, HEAD"},
		{"POST on settings", http.MethodPost, "/admin/tenants/acme/scim/settings", "PUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(tc.method, tc.path, testAdminToken, "")
			assert.Equal(t, http.StatusMethodNotAllowed, r.status)
			assert.Equal(t, tc.allow, r.header.Get("Allow"))
			assert.Equal(t, "method_not_allowed", r.json(t)["error"])
		})
	}
}

func TestDevToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{devToken: "bench-token"})
	for _, path := range []string{"/scim/v2/ServiceProviderConfig", "/t/default/scim/v2/ServiceProviderConfig", "/scim/v2/Users"} {
		r := e.do(http.MethodGet, path, "bench-token", "")
		assert.Equal(t, http.StatusOK, r.status, "%s: %s", path, r.body)
	}
	st := e.admin(http.MethodGet, "/admin/tenants/default/scim", "")
	assert.Equal(t, true, st["scimEnabled"])
	assert.Equal(t, true, st["tokenSet"])

	_, err := newApp(context.Background(), config{devToken: "short"}, slog.New(slog.DiscardHandler))
	require.Error(t, err, "scimkit refuses tokens under 8 bytes")
}

func TestUserExtensionFlag(t *testing.T) {
	t.Parallel()
	const urn = "urn:ietf:params:scim:schemas:extension:backupd:2.0:User"
	cfg, err := parseFlags([]string{
		"-store", "memory",
		"-user-extension", urn + ":costCenter,backupPolicy",
		"-user-extension", "urn:example:params:scim:schemas:extension:acme:2.0:User:badge",
	}, io.Discard)
	require.NoError(t, err)
	require.Len(t, cfg.userExtensions, 2)
	assert.Equal(t, urn, cfg.userExtensions[0].URN)
	require.Len(t, cfg.userExtensions[0].Attributes, 2)
	assert.Equal(t, "costCenter", cfg.userExtensions[0].Attributes[0].Name)

	e := newEnv(t, cfg)
	tok := e.onboard("acme", 0)

	// /Schemas lists the URN.
	r := e.do(http.MethodGet, "/scim/v2/Schemas", tok, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var ids []string
	for _, s := range r.json(t)["Resources"].([]any) {
		ids = append(ids, s.(map[string]any)["id"].(string))
	}
	assert.Contains(t, ids, urn)
	assert.Contains(t, ids, "urn:example:params:scim:schemas:extension:acme:2.0:User")

	// An extension attribute round-trips, as Entra sends it (nested under
	// the URN) and as a PATCH path.
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ext@acme.example","active":true,` +
		`"` + urn + `":{"costCenter":"CC-42"}}`
	r = e.do(http.MethodPost, "/scim/v2/Users", tok, body)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	id := r.json(t)["id"].(string)

	r = e.do(http.MethodGet, "/scim/v2/Users/"+id, tok, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	doc := r.json(t)
	require.Contains(t, doc, urn)
	assert.Equal(t, "CC-42", doc[urn].(map[string]any)["costCenter"])
	assert.Contains(t, doc["schemas"], urn)

	r = e.do(http.MethodPatch, "/scim/v2/Users/"+id, tok, entraPatch(urn+":backupPolicy", `"daily"`))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, "daily", r.json(t)[urn].(map[string]any)["backupPolicy"])

	r = e.do(http.MethodGet, "/scim/v2/Users"+filterQuery(urn+`:costCenter eq "CC-42"`), tok, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.EqualValues(t, 1, r.json(t)["totalResults"])
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(t *testing.T, cfg config)
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, cfg config) {
			assert.Equal(t, "127.0.0.1:8080", cfg.addr)
			assert.Equal(t, "sqlite:./backupd.db", cfg.store)
			assert.Equal(t, slog.LevelInfo, cfg.logLevel)
			assert.Empty(t, cfg.devToken)
			assert.Empty(t, cfg.userExtensions)
		}},
		{name: "load generator command line", args: []string{"-addr", "127.0.0.1:18080", "-dev-token", "bench-token"}, check: func(t *testing.T, cfg config) {
			assert.Equal(t, "127.0.0.1:18080", cfg.addr)
			assert.Equal(t, "bench-token", cfg.devToken)
		}},
		{name: "all flags", args: []string{"-base-url", "https://b.example.com", "-admin-token", "s3cret-admin", "-log-level", "debug", "-store", "memory"}, check: func(t *testing.T, cfg config) {
			assert.Equal(t, "https://b.example.com", cfg.baseURL)
			assert.Equal(t, "s3cret-admin", cfg.adminToken)
			assert.Equal(t, slog.LevelDebug, cfg.logLevel)
		}},
		{name: "extension without colon", args: []string{"-user-extension", "costCenter"}, wantErr: true},
		{name: "extension without attributes", args: []string{"-user-extension", "urn:acme:2.0:User:"}, wantErr: true},
		{name: "extension URN without urn: prefix", args: []string{"-user-extension", "acme:2.0:User:costCenter"}, wantErr: true},
		{name: "extension with a bad attribute name", args: []string{"-user-extension", "urn:acme:2.0:User:cost center"}, wantErr: true},
		{name: "bad log level", args: []string{"-log-level", "loud"}, wantErr: true},
		{name: "unknown flag", args: []string{"-port", "80"}, wantErr: true},
		{name: "positional argument", args: []string{"serve"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseFlags(tc.args, io.Discard)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			tc.check(t, cfg)
		})
	}
}

func TestNewAppRejectsBadConfig(t *testing.T) {
	t.Parallel()
	ext := mustParseExtension(t, "urn:acme:2.0:User:costCenter")
	tests := []struct {
		name string
		cfg  config
	}{
		{"unknown store", config{store: "mysql://localhost/backupd"}},
		{"sqlite without a path", config{store: "sqlite:"}},
		{"sqlite in memory", config{store: "sqlite::memory:"}},
		{"sqlite in a missing directory", config{store: "sqlite:" + filepath.Join(t.TempDir(), "no", "such", "dir", "backupd.db")}},
		{"postgres without a DSN", config{store: "postgres:"}},
		{"postgres with a bad DSN", config{store: "postgres:host=127.0.0.1 port=notaport"}},
		{"postgres unreachable", config{store: "postgres://backupd@127.0.0.1:1/backupd?connect_timeout=5"}},
		{"relative base URL", config{baseURL: "backup.example.com"}},
		{"same extension twice", config{userExtensions: []scimkit.Extension{ext, ext}}},
		{"dev token too short", config{devToken: "abc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newApp(context.Background(), tc.cfg, slog.New(slog.DiscardHandler))
			require.Error(t, err)
		})
	}
}

func mustParseExtension(t *testing.T, s string) scimkit.Extension {
	t.Helper()
	e, err := scimkit.ParseExtension(s)
	require.NoError(t, err)
	return e
}
