package scimkit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// testClock is a settable clock, safe for concurrent use.
type testClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *testClock) advance(d time.Duration) { c.set(c.now().Add(d)) }

// credServer is a server on a memory store with a settable clock, mounted
// both ways: token mode at /scim/v2 and tenant-in-URL at /t/{tenant}/scim/v2.
type credServer struct {
	store *memory.Store
	srv   *scimkit.Server
	mux   *http.ServeMux
	clock *testClock
}

func newCredServer(t *testing.T, tokens scimkit.TokenStore) *credServer {
	t.Helper()
	store := memory.New()
	if tokens == nil {
		tokens = store
	}
	clock := newTestClock()
	srv, err := scimkit.New(store, tokens, scimkit.WithClock(clock.now))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Flush(context.Background())) })
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv))
	mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant"))
	return &credServer{store: store, srv: srv, mux: mux, clock: clock}
}

func (s *credServer) get(path, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "http://scim.test"+path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	s.mux.ServeHTTP(w, r)
	return w
}

// generate makes a token for tenant with the server's clock.
func (s *credServer) generate(t *testing.T, tenant string, opts ...scimkit.TokenOption) (string, storage.Credential) {
	t.Helper()
	tok, c, err := scimkit.GenerateToken(t.Context(), s.store, tenant, append([]scimkit.TokenOption{scimkit.WithTokenClock(s.clock.now)}, opts...)...)
	require.NoError(t, err)
	return tok, c
}

const unauthorizedBody = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"authorization failure: the bearer token is missing or invalid"}`

// assertStatus checks a response's status; a 401 must be the SCIM JSON
// error an unknown token gets, so a revoked or expired token tells an
// attacker nothing more.
func assertStatus(t *testing.T, want int, w *httptest.ResponseRecorder, msg string) {
	t.Helper()
	require.Equal(t, want, w.Code, "%s: %s", msg, w.Body.String())
	if want == http.StatusUnauthorized {
		assert.Equal(t, "application/scim+json", w.Header().Get("Content-Type"), msg)
		assert.JSONEq(t, unauthorizedBody, w.Body.String(), msg)
	}
}

var tokenMounts = []struct{ name, users string }{
	{"token names the tenant", "/scim/v2/Users"},
	{"tenant in the URL", "/t/acme/scim/v2/Users"},
}

func TestExpiredRevokedAndUnknownTokensGetTheSame401(t *testing.T) {
	for _, m := range tokenMounts {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			s := newCredServer(t, nil)
			short, sc := s.generate(t, "acme", scimkit.WithTokenLabel("short"), scimkit.WithTokenLifetime(time.Hour))
			long, lc := s.generate(t, "acme", scimkit.WithTokenLabel("long"))
			assertStatus(t, http.StatusOK, s.get(m.users, short), "a fresh token")
			assertStatus(t, http.StatusOK, s.get(m.users, long), "a second token of the same tenant")
			assertStatus(t, http.StatusUnauthorized, s.get(m.users, "scim_unknown-token"), "an unknown token")

			s.clock.set(sc.Expires.Add(-time.Microsecond))
			assertStatus(t, http.StatusOK, s.get(m.users, short), "a microsecond before expiry")
			s.clock.set(sc.Expires)
			assertStatus(t, http.StatusUnauthorized, s.get(m.users, short), "at expiry")
			s.clock.advance(365 * 24 * time.Hour)
			assertStatus(t, http.StatusUnauthorized, s.get(m.users, short), "long after expiry")
			assertStatus(t, http.StatusOK, s.get(m.users, long), "a token without expiry")

			require.NoError(t, scimkit.RevokeToken(t.Context(), s.store, "acme", lc.ID))
			assertStatus(t, http.StatusUnauthorized, s.get(m.users, long), "a revoked token")
		})
	}
}

func TestATokenNeverResolvesUnderAnotherTenant(t *testing.T) {
	t.Parallel()
	s := newCredServer(t, nil)
	acme, _ := s.generate(t, "acme")
	globex, _ := s.generate(t, "globex")
	assertStatus(t, http.StatusUnauthorized, s.get("/t/globex/scim/v2/Users", acme), "acme's token on globex's URL")
	assertStatus(t, http.StatusUnauthorized, s.get("/t/acme/scim/v2/Users", globex), "globex's token on acme's URL")
	for _, bad := range []string{"%2e%2e", "%2E", ".hidden"} {
		w := s.get("/t/"+bad+"/scim/v2/Users", acme)
		assert.Equal(t, http.StatusNotFound, w.Code, "tenant %q in the URL is not a tenant: %s", bad, w.Body.String())
	}
	assertStatus(t, http.StatusOK, s.get("/t/globex/scim/v2/Users", globex), "globex's own URL")

	w := httptestPost(s, "/scim/v2/Users", acme, `{"userName":"ann"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	w = s.get("/scim/v2/Users", globex)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `"totalResults":0`, "globex's token sees globex's users only")
	w = s.get("/scim/v2/Users", acme)
	assert.Contains(t, w.Body.String(), `"totalResults":1`)

	globexCreds, err := scimkit.ListTokens(t.Context(), s.store, "globex")
	require.NoError(t, err)
	require.Len(t, globexCreds, 1)
	acmeCreds, err := scimkit.ListTokens(t.Context(), s.store, "acme")
	require.NoError(t, err)
	require.Len(t, acmeCreds, 1)
	require.ErrorIs(t, scimkit.RevokeToken(t.Context(), s.store, "globex", acmeCreds[0].ID), storage.ErrNotFound,
		"globex cannot revoke acme's token")
	assertStatus(t, http.StatusOK, s.get("/scim/v2/Users", acme), "acme's token survives")
}

func httptestPost(s *credServer, path, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "http://scim.test"+path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", "application/scim+json")
	w := httptest.NewRecorder()
	s.mux.ServeHTTP(w, r)
	return w
}

func TestRotateTokenOverlap(t *testing.T) {
	for _, m := range tokenMounts {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			s := newCredServer(t, nil)
			old, oc := s.generate(t, "acme", scimkit.WithTokenLabel("Entra"))
			s.clock.advance(30 * 24 * time.Hour)
			rotatedAt := s.clock.now()
			fresh, nc, err := scimkit.RotateToken(t.Context(), s.store, "acme", oc.ID, 2*time.Hour,
				scimkit.WithTokenClock(s.clock.now), scimkit.WithTokenLifetime(365*24*time.Hour))
			require.NoError(t, err)
			assert.NotEqual(t, old, fresh)
			assert.NotEqual(t, oc.ID, nc.ID)
			assert.Equal(t, "Entra", nc.Label, "the label carries over")
			assert.Equal(t, rotatedAt.Add(365*24*time.Hour), nc.Expires)

			assertStatus(t, http.StatusOK, s.get(m.users, old), "the old token during the overlap")
			assertStatus(t, http.StatusOK, s.get(m.users, fresh), "the new token")
			s.clock.set(rotatedAt.Add(2*time.Hour - time.Microsecond))
			assertStatus(t, http.StatusOK, s.get(m.users, old), "the old token at the overlap's last microsecond")
			s.clock.set(rotatedAt.Add(2 * time.Hour))
			assertStatus(t, http.StatusUnauthorized, s.get(m.users, old), "the old token after the overlap")
			assertStatus(t, http.StatusOK, s.get(m.users, fresh), "the new token after the overlap")

			creds, err := scimkit.ListTokens(t.Context(), s.store, "acme")
			require.NoError(t, err)
			require.Len(t, creds, 2, "the expired token stays listed until revoked")
			assert.Equal(t, oc.ID, creds[0].ID)
			assert.Equal(t, rotatedAt.Add(2*time.Hour), creds[0].Expires.UTC())
		})
	}
}

func TestRotateTokenNeverExtendsAnExpiry(t *testing.T) {
	t.Parallel()
	s := newCredServer(t, nil)
	_, oc := s.generate(t, "acme", scimkit.WithTokenLifetime(time.Hour))
	_, _, err := scimkit.RotateToken(t.Context(), s.store, "acme", oc.ID, 48*time.Hour, scimkit.WithTokenClock(s.clock.now))
	require.NoError(t, err)
	creds, err := scimkit.ListTokens(t.Context(), s.store, "acme")
	require.NoError(t, err)
	require.Len(t, creds, 2)
	for _, c := range creds {
		if c.ID == oc.ID {
			assert.Equal(t, oc.Expires, c.Expires.UTC(), "a rotation's overlap does not outlive the old expiry")
		}
	}
}

func TestRotateTokenWithoutOverlapEndsTheOldTokenAtOnce(t *testing.T) {
	t.Parallel()
	s := newCredServer(t, nil)
	old, oc := s.generate(t, "acme")
	fresh, _, err := scimkit.RotateToken(t.Context(), s.store, "acme", oc.ID, 0, scimkit.WithTokenClock(s.clock.now))
	require.NoError(t, err)
	assertStatus(t, http.StatusUnauthorized, s.get("/scim/v2/Users", old), "the old token")
	assertStatus(t, http.StatusOK, s.get("/scim/v2/Users", fresh), "the new token")
}

func TestTokenFunctionErrors(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	_, acme, err := scimkit.GenerateToken(ctx, store, "acme")
	require.NoError(t, err)
	tests := []struct {
		name     string
		call     func() error
		sentinel error
	}{
		{"label with a newline", func() error {
			_, _, err := scimkit.GenerateToken(ctx, store, "acme", scimkit.WithTokenLabel("a\nb"))
			return err
		}, nil},
		{"label of 129 bytes", func() error {
			_, _, err := scimkit.GenerateToken(ctx, store, "acme", scimkit.WithTokenLabel(strings.Repeat("x", 129)))
			return err
		}, nil},
		{"label not UTF-8", func() error {
			_, _, err := scimkit.GenerateToken(ctx, store, "acme", scimkit.WithTokenLabel("\xff"))
			return err
		}, nil},
		{"zero lifetime", func() error {
			_, _, err := scimkit.GenerateToken(ctx, store, "acme", scimkit.WithTokenLifetime(0))
			return err
		}, nil},
		{"nil clock", func() error {
			_, _, err := scimkit.GenerateToken(ctx, store, "acme", scimkit.WithTokenClock(nil))
			return err
		}, nil},
		{"nil option", func() error { return scimkit.SetToken(ctx, store, "acme", "chosen-token", nil) }, nil},
		{"short chosen token", func() error { return scimkit.SetToken(ctx, store, "acme", "short") }, nil},
		{"negative overlap", func() error {
			_, _, err := scimkit.RotateToken(ctx, store, "acme", acme.ID, -time.Second)
			return err
		}, nil},
		{"rotating an unknown id", func() error {
			_, _, err := scimkit.RotateToken(ctx, store, "acme", "nope", time.Hour)
			return err
		}, storage.ErrNotFound},
		{"rotating another tenant's id", func() error {
			_, _, err := scimkit.RotateToken(ctx, store, "globex", acme.ID, time.Hour)
			return err
		}, storage.ErrNotFound},
		{"revoking an unknown id", func() error { return scimkit.RevokeToken(ctx, store, "acme", "nope") }, storage.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			if tc.sentinel != nil {
				require.ErrorIs(t, err, tc.sentinel)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "scim: "), err.Error())
		})
	}
	creds, err := scimkit.ListTokens(ctx, store, "acme")
	require.NoError(t, err)
	assert.Len(t, creds, 1, "no failed call added or removed a credential")
}

// TestTokenFunctionsValidateTheTenant: every token function applies the
// server's tenant id rule, and a refused id changes nothing.
func TestTokenFunctionsValidateTheTenant(t *testing.T) {
	ctx := context.Background()
	calls := map[string]func(store *memory.Store, tenant string) error{
		"GenerateToken": func(s *memory.Store, tenant string) error {
			_, _, err := scimkit.GenerateToken(ctx, s, tenant)
			return err
		},
		"SetToken": func(s *memory.Store, tenant string) error { return scimkit.SetToken(ctx, s, tenant, "a-chosen-token") },
		"ListTokens": func(s *memory.Store, tenant string) error {
			_, err := scimkit.ListTokens(ctx, s, tenant)
			return err
		},
		"RevokeToken":     func(s *memory.Store, tenant string) error { return scimkit.RevokeToken(ctx, s, tenant, "id") },
		"RevokeAllTokens": func(s *memory.Store, tenant string) error { return scimkit.RevokeAllTokens(ctx, s, tenant) },
		"RotateToken": func(s *memory.Store, tenant string) error {
			_, _, err := scimkit.RotateToken(ctx, s, tenant, "id", time.Hour)
			return err
		},
	}
	for _, tenant := range []string{"", ".", "..", ".hidden", "-x", "a/b", "a b", "ünï", "a%2e", strings.Repeat("a", 129)} {
		for name, call := range calls {
			t.Run(name+" "+tenant, func(t *testing.T) {
				s := memory.New()
				err := call(s, tenant)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "scim: tenant id")
				cs, err := s.ListCredentials(ctx, tenant)
				require.NoError(t, err)
				assert.Empty(t, cs)
			})
		}
	}
	for _, tenant := range []string{"a", "A.b-c_d", "0", strings.Repeat("a", 128)} {
		_, _, err := scimkit.GenerateToken(ctx, memory.New(), tenant)
		assert.NoError(t, err, tenant)
	}
}

func TestSetToken(t *testing.T) {
	t.Parallel()
	s := newCredServer(t, nil)
	opts := []scimkit.TokenOption{scimkit.WithTokenClock(s.clock.now), scimkit.WithTokenLabel("dev"), scimkit.WithTokenLifetime(time.Hour)}
	require.NoError(t, scimkit.SetToken(t.Context(), s.store, "acme", "dev-token-123", opts...))
	require.NoError(t, scimkit.SetToken(t.Context(), s.store, "acme", "dev-token-123", opts...), "setting it again")
	creds, err := scimkit.ListTokens(t.Context(), s.store, "acme")
	require.NoError(t, err)
	require.Len(t, creds, 1, "setting the same token twice keeps one credential")
	first := creds[0]
	assert.Equal(t, "dev", first.Label)
	assertStatus(t, http.StatusOK, s.get("/scim/v2/Users", "dev-token-123"), "the set token")

	err = scimkit.SetToken(t.Context(), s.store, "globex", "dev-token-123")
	require.ErrorIs(t, err, storage.ErrConflict, "another tenant's token")

	s.clock.advance(time.Hour)
	assertStatus(t, http.StatusUnauthorized, s.get("/scim/v2/Users", "dev-token-123"), "the expired set token")
	require.NoError(t, scimkit.SetToken(t.Context(), s.store, "acme", "dev-token-123", opts...), "setting an expired token again")
	creds, err = scimkit.ListTokens(t.Context(), s.store, "acme")
	require.NoError(t, err)
	require.Len(t, creds, 1)
	assert.NotEqual(t, first.ID, creds[0].ID, "a fresh credential replaced the expired one")
	assertStatus(t, http.StatusOK, s.get("/scim/v2/Users", "dev-token-123"), "the set token, set again")
}

func TestRevokeAllTokens(t *testing.T) {
	t.Parallel()
	s := newCredServer(t, nil)
	a1, _ := s.generate(t, "acme")
	a2, _ := s.generate(t, "acme")
	g, _ := s.generate(t, "globex")
	require.NoError(t, scimkit.RevokeAllTokens(t.Context(), s.store, "acme"))
	require.NoError(t, scimkit.RevokeAllTokens(t.Context(), s.store, "acme"), "a tenant without tokens")
	assertStatus(t, http.StatusUnauthorized, s.get("/scim/v2/Users", a1), "acme's first token")
	assertStatus(t, http.StatusUnauthorized, s.get("/scim/v2/Users", a2), "acme's second token")
	assertStatus(t, http.StatusOK, s.get("/scim/v2/Users", g), "globex's token")
}

// strictIDStore is a credential store that, like PostgreSQL, fails on an
// id that is not text (invalid UTF-8 or a NUL) with an error of its own.
type strictIDStore struct{ *memory.Store }

func (s strictIDStore) RevokeCredential(ctx context.Context, tenant, id string) error {
	if strings.ContainsAny(id, "\x00\xff") {
		return assert.AnError
	}
	return s.Store.RevokeCredential(ctx, tenant, id)
}

// TestRevokeTokenIDNotText: an id no credential can have is not found,
// without asking a store that would fail on it (a 500 from PostgreSQL).
func TestRevokeTokenIDNotText(t *testing.T) {
	store := strictIDStore{memory.New()}
	_, _, err := scimkit.GenerateToken(t.Context(), store, "acme")
	require.NoError(t, err)
	for _, id := range []string{"\xff", "a\x00b"} {
		assert.ErrorIs(t, scimkit.RevokeToken(t.Context(), store, "acme", id), storage.ErrNotFound, "%q", id)
	}
}
