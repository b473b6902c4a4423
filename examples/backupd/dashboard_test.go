package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// browser is a cookie-keeping HTTP client that does not follow
// redirects, so tests see each 303.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newHTTPBrowser(t *testing.T, srv *httptest.Server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := *srv.Client() // a copy: each browser has its own cookies
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, base: srv.URL, c: &c}
}

// page is a response read in full.
type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) get(path string) page {
	b.t.Helper()
	res, err := b.c.Get(b.base + path)
	require.NoError(b.t, err)
	return readPage(b.t, res)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	res, err := b.c.PostForm(b.base+path, form)
	require.NoError(b.t, err)
	return readPage(b.t, res)
}

func readPage(t *testing.T, res *http.Response) page {
	t.Helper()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return page{status: res.StatusCode, header: res.Header, body: string(body)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the first form of p.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no csrf field in %s", p.body)
	return m[1]
}

// signIn signs b in with password and returns the session's CSRF token.
func (b *browser) signIn(password string) string {
	b.t.Helper()
	login := b.get("/admin/login")
	require.Equal(b.t, http.StatusOK, login.status)
	p := b.post("/admin/login", url.Values{"csrf": {login.csrf(b.t)}, "password": {password}})
	require.Equal(b.t, http.StatusSeeOther, p.status, p.body)
	require.Equal(b.t, "/admin/", p.header.Get("Location"))
	home := b.get("/admin/")
	require.Equal(b.t, http.StatusOK, home.status)
	return home.csrf(b.t)
}

// TestDashboardCSRF: every form POST without the session's CSRF token, or
// with another's, or without a session, is refused with 403 and changes
// nothing; with the token it goes through.
func TestDashboardCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	e.onboard("acme", 20)
	b := newHTTPBrowser(t, e.srv)
	csrf := b.signIn(testPassword)
	other := newHTTPBrowser(t, e.srv)
	otherCSRF := other.signIn(testPassword)
	require.NotEqual(t, csrf, otherCSRF)
	anon := newHTTPBrowser(t, e.srv)

	cs, err := e.app.tokens.ListCredentials(context.Background(), "acme")
	require.NoError(t, err)
	require.Len(t, cs, 1)
	forms := []struct {
		name, path string
		form       url.Values
	}{
		{"create tenant", "/admin/", url.Values{"tenant": {"evil"}}},
		{"save settings", "/admin/t/acme/", url.Values{"accountSizeGB": {"1"}, "seatLimit": {"0"}, "retentionDays": {"0"}, "deactivation": {"suspend"}, "deletion": {"delete"}}},
		{"generate token", "/admin/t/acme/tokens", url.Values{"label": {"evil"}, "expiresInDays": {"1"}}},
		{"revoke token", "/admin/t/acme/tokens/" + cs[0].ID + "/revoke", url.Values{}},
		{"sign out", "/admin/logout", url.Values{}},
	}
	for _, f := range forms {
		for _, c := range []struct {
			name  string
			b     *browser
			token string
		}{
			{"no token", b, ""},
			{"wrong token", b, "wrong"},
			{"another session's token", b, otherCSRF},
			{"no session", anon, csrf},
		} {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range f.form {
					form[k] = v
				}
				if c.token != "" {
					form.Set("csrf", c.token)
				}
				p := c.b.post(f.path, form)
				assert.Equal(t, http.StatusForbidden, p.status)
				assert.Contains(t, p.body, "security token")
			})
		}
	}
	// Nothing changed.
	s, err := e.app.product.settings(context.Background(), "acme")
	require.NoError(t, err)
	assert.True(t, s.SCIMEnabled)
	assert.Equal(t, 20, s.AccountSizeGB)
	after, err := e.app.tokens.ListCredentials(context.Background(), "acme")
	require.NoError(t, err)
	assert.Equal(t, cs, after)
	evil, err := e.app.product.settings(context.Background(), "evil")
	require.NoError(t, err)
	assert.False(t, evil.Exists)
	assert.Equal(t, http.StatusOK, b.get("/admin/").status, "still signed in")

	// With the token the same form goes through.
	p := b.post("/admin/t/acme/", url.Values{"csrf": {csrf}, "enabled": {"on"}, "accountSizeGB": {"30"}, "seatLimit": {"0"},
		"retentionDays": {"0"}, "deactivation": {"suspend"}, "deletion": {"delete"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	s, err = e.app.product.settings(context.Background(), "acme")
	require.NoError(t, err)
	assert.Equal(t, 30, s.AccountSizeGB)

	// The sign-in form has its own token, bound to its cookie.
	login := anon.get("/admin/login")
	for name, form := range map[string]url.Values{
		"no token":             {"password": {testPassword}},
		"a session's token":    {"password": {testPassword}, "csrf": {csrf}},
		"another form's token": {"password": {testPassword}, "csrf": {newHTTPBrowser(t, e.srv).get("/admin/login").csrf(t)}},
	} {
		p := anon.post("/admin/login", form)
		assert.Equal(t, http.StatusForbidden, p.status, name)
		assert.Empty(t, p.header.Get("Set-Cookie"), name)
	}
	assert.Equal(t, http.StatusSeeOther, anon.post("/admin/login", url.Values{"password": {testPassword}, "csrf": {login.csrf(t)}}).status)
}

// TestDashboardCookies: the session cookie is HttpOnly, SameSite=Strict,
// scoped to /admin/, and Secure over TLS or behind an https -base-url.
func TestDashboardCookies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		tls     bool
		baseURL string
		secure  bool
	}{
		{"plain http", false, "", false},
		{"TLS", true, "", true},
		{"https base URL (TLS proxy)", false, "https://backup.example.com", true},
		{"http base URL", false, "http://backup.example.com", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, err := newApp(context.Background(), config{baseURL: c.baseURL, adminPassword: testPassword, passwordCost: bcrypt.MinCost},
				slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			t.Cleanup(func() { _ = a.Close() })
			srv := httptest.NewUnstartedServer(a)
			if c.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			b := newHTTPBrowser(t, srv)
			login := b.get("/admin/login")
			res, err := b.c.PostForm(srv.URL+"/admin/login", url.Values{"csrf": {login.csrf(t)}, "password": {testPassword}})
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusSeeOther, res.StatusCode)
			var session *http.Cookie
			for _, ck := range res.Cookies() {
				if ck.Name == sessionCookie {
					session = ck
				}
			}
			require.NotNil(t, session)
			assert.True(t, session.HttpOnly)
			assert.Equal(t, http.SameSiteStrictMode, session.SameSite)
			assert.Equal(t, "/admin/", session.Path)
			assert.Equal(t, c.secure, session.Secure)
			assert.Zero(t, session.MaxAge, "a browser-session cookie; the server expires the session")
			assert.GreaterOrEqual(t, len(session.Value), 40)
			for _, ck := range login.header.Values("Set-Cookie") {
				assert.Contains(t, ck, "HttpOnly")
				assert.Contains(t, ck, "SameSite=Strict")
			}
		})
	}
}

// TestDashboardTokenShownOnce: Generate answers with a redirect that holds
// no token; the next page shows it once with the warning, uncached; a
// reload shows it no more; the token works for SCIM.
func TestDashboardTokenShownOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	b := newHTTPBrowser(t, e.srv)
	csrf := b.signIn(testPassword)
	require.Equal(t, http.StatusSeeOther, b.post("/admin/", url.Values{"csrf": {csrf}, "tenant": {"acme"}}).status)
	// SCIM off: no token.
	p := b.post("/admin/t/acme/tokens", url.Values{"csrf": {csrf}, "label": {"Entra"}, "expiresInDays": {"30"}})
	assert.Equal(t, http.StatusConflict, p.status)
	assert.Contains(t, p.body, "enable SCIM")
	require.Equal(t, http.StatusSeeOther, b.post("/admin/t/acme/", url.Values{"csrf": {csrf}, "enabled": {"on"}, "accountSizeGB": {"10"},
		"seatLimit": {"0"}, "retentionDays": {"0"}, "deactivation": {"suspend"}, "deletion": {"delete"}}).status)

	p = b.post("/admin/t/acme/tokens", url.Values{"csrf": {csrf}, "label": {"Entra"}, "expiresInDays": {"30"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	assert.Equal(t, "/admin/t/acme/tokens", p.header.Get("Location"))
	assert.NotContains(t, p.body, "scim_")

	shown := b.get("/admin/t/acme/tokens")
	require.Equal(t, http.StatusOK, shown.status)
	assert.Equal(t, "no-store", shown.header.Get("Cache-Control"))
	tok := regexp.MustCompile(`id="new-token"[^>]*value="(scim_[^"]+)"`).FindStringSubmatch(shown.body)
	require.NotNil(t, tok, shown.body)
	assert.Contains(t, shown.body, "make sure to copy and save it somewhere safe")
	assert.Equal(t, 1, strings.Count(shown.body, tok[1]))

	again := b.get("/admin/t/acme/tokens")
	assert.NotContains(t, again.body, tok[1])
	assert.NotContains(t, again.body, "new-token")
	assert.Contains(t, again.body, "Entra")
	// Another browser of the same admin never sees it either.
	assert.NotContains(t, newHTTPBrowser(t, e.srv).get("/admin/t/acme/tokens").body, tok[1])

	r := e.do(http.MethodGet, "/scim/v2/Users", tok[1], "")
	assert.Equal(t, http.StatusOK, r.status, "%s", r.body)

	// A token whose redirect was not followed is not shown later.
	require.Equal(t, http.StatusSeeOther, b.post("/admin/t/acme/tokens", url.Values{"csrf": {csrf}, "label": {"Okta"}, "expiresInDays": {"30"}}).status)
	assert.NotContains(t, b.get("/admin/").body, "scim_")
	assert.NotContains(t, b.get("/admin/t/acme/tokens").body, "new-token")
	cs, err := e.app.tokens.ListCredentials(context.Background(), "acme")
	require.NoError(t, err)
	require.Len(t, cs, 2)
	for _, c := range cs {
		if c.Label == "Okta" {
			require.NoError(t, e.app.revokeCredential(context.Background(), "acme", c.ID))
		}
	}
	cs, err = e.app.tokens.ListCredentials(context.Background(), "acme")
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, "Entra", cs[0].Label)
	assert.WithinDuration(t, cs[0].Created.Add(30*24*time.Hour), cs[0].Expires, time.Second)

	// Bad input changes nothing.
	for _, days := range []string{"0", "3651", "x", ""} {
		p := b.post("/admin/t/acme/tokens", url.Values{"csrf": {csrf}, "label": {"x"}, "expiresInDays": {days}})
		assert.Equal(t, http.StatusBadRequest, p.status, days)
	}
	p = b.post("/admin/t/acme/tokens", url.Values{"csrf": {csrf}, "label": {devTokenLabel}, "expiresInDays": {"1"}})
	assert.Equal(t, http.StatusBadRequest, p.status)
	cs, err = e.app.tokens.ListCredentials(context.Background(), "acme")
	require.NoError(t, err)
	assert.Len(t, cs, 1)

	// Revoke: 401 from then on.
	require.Equal(t, http.StatusSeeOther, b.post("/admin/t/acme/tokens/"+cs[0].ID+"/revoke", url.Values{"csrf": {csrf}}).status)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/scim/v2/Users", tok[1], "").status)
	assert.Equal(t, http.StatusNotFound, b.post("/admin/t/acme/tokens/"+cs[0].ID+"/revoke", url.Values{"csrf": {csrf}}).status)
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDashboardNoSecretsInLogs runs the whole flow with debug logging and
// checks that no password, token, session cookie or CSRF token reaches
// the log, and none is in a URL.
func TestDashboardNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	a, err := newApp(context.Background(), config{adminPassword: testPassword, passwordCost: bcrypt.MinCost, adminToken: testAdminToken},
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	var urls []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		urls = append(urls, r.URL.String())
		mu.Unlock()
		a.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e := &env{t: t, app: a, srv: srv}

	b := newHTTPBrowser(t, srv)
	// A wrong password is logged as refused, without the password.
	login := b.get("/admin/login")
	assert.Equal(t, http.StatusUnauthorized, b.post("/admin/login", url.Values{"csrf": {login.csrf(t)}, "password": {"wrong-password-123"}}).status)
	csrf := b.signIn(testPassword)
	b.post("/admin/", url.Values{"csrf": {csrf}, "tenant": {"acme"}})
	b.post("/admin/t/acme/", url.Values{"csrf": {csrf}, "enabled": {"on"}, "accountSizeGB": {"10"}, "seatLimit": {"0"},
		"retentionDays": {"0"}, "deactivation": {"suspend"}, "deletion": {"delete"}})
	b.post("/admin/t/acme/tokens", url.Values{"csrf": {csrf}, "label": {"Entra"}, "expiresInDays": {"30"}})
	tok := regexp.MustCompile(`value="(scim_[^"]+)"`).FindStringSubmatch(b.get("/admin/t/acme/tokens").body)
	require.NotNil(t, tok)
	e.createUser("/scim/v2", tok[1], "ada@contoso.example")
	b.get("/admin/t/acme/users?q=ada")
	b.get("/admin/t/acme/audit")
	// The cookies before sign-out, which deletes the session cookie.
	u, err := url.Parse(srv.URL + "/admin/")
	require.NoError(t, err)
	secrets := map[string]string{"password": testPassword, "wrong password": "wrong-password-123", "token": tok[1], "csrf": csrf}
	for _, ck := range b.c.Jar.Cookies(u) {
		secrets["cookie "+ck.Name] = ck.Value
	}
	require.Contains(t, secrets, "cookie "+sessionCookie)
	b.post("/admin/logout", url.Values{"csrf": {csrf}})
	log := logs.String()
	require.Contains(t, log, "scim token created", "the log was written")
	require.Contains(t, log, "dashboard sign-in refused")
	mu.Lock()
	defer mu.Unlock()
	for name, s := range secrets {
		if s == "" {
			continue
		}
		assert.NotContains(t, log, s, name)
		for _, u := range urls {
			assert.NotContains(t, u, s, name)
		}
	}
}

// TestDashboardSessionLifecycle: the session id comes from the server on
// sign-in, never from a cookie planted before it (no fixation), and
// signing out ends the session on the server: its cookie, replayed, opens
// nothing.
func TestDashboardSessionLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	b := newHTTPBrowser(t, e.srv)
	u, err := url.Parse(e.srv.URL + "/admin/")
	require.NoError(t, err)
	const planted = "chosen-by-an-attacker-0123456789abcdefghijk"
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/admin/"}})
	csrf := b.signIn(testPassword)
	var id string
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			id = ck.Value
		}
	}
	require.NotEmpty(t, id)
	assert.NotEqual(t, planted, id, "a new session id on sign-in")

	b.post("/admin/logout", url.Values{"csrf": {csrf}})
	for _, v := range []string{id, planted} {
		replay := newHTTPBrowser(t, e.srv)
		replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: v, Path: "/admin/"}})
		p := replay.get("/admin/")
		assert.Equal(t, http.StatusSeeOther, p.status)
		assert.Equal(t, "/admin/login", p.header.Get("Location"))
		assert.Equal(t, http.StatusForbidden, replay.post("/admin/", url.Values{"csrf": {csrf}, "tenant": {"evil"}}).status)
	}
}

// TestDashboardLoginRateLimit: after five wrong passwords from one
// address even the right one is refused with 429 for a minute.
func TestDashboardLoginRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, config{now: clock})
	b := newHTTPBrowser(t, e.srv)
	try := func(pw string) int {
		login := b.get("/admin/login")
		return b.post("/admin/login", url.Values{"csrf": {login.csrf(t)}, "password": {pw}}).status
	}
	for i := 0; i < loginFailures; i++ {
		assert.Equal(t, http.StatusUnauthorized, try("guess"+fmt.Sprint(i)))
	}
	assert.Equal(t, http.StatusTooManyRequests, try(testPassword))
	mu.Lock()
	now = now.Add(loginWindow)
	mu.Unlock()
	assert.Equal(t, http.StatusSeeOther, try(testPassword))
}

// TestDashboardLoginRateLimitParallel: guesses sent at once count too; a
// limit checked before the slow password check and counted after it let
// every one of them through.
func TestDashboardLoginRateLimitParallel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{passwordCost: 10}) // bcrypt's default cost: each check takes a while
	const n = 4 * loginFailures
	forms := make([]url.Values, n)
	browsers := make([]*browser, n)
	for i := range forms {
		browsers[i] = newHTTPBrowser(t, e.srv)
		forms[i] = url.Values{"csrf": {browsers[i].get("/admin/login").csrf(t)}, "password": {"wrong password " + fmt.Sprint(i)}}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, n)
	for i := range forms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := browsers[i].c.PostForm(e.srv.URL+"/admin/login", forms[i])
			if err == nil {
				statuses[i] = res.StatusCode
				res.Body.Close()
			}
		}()
	}
	close(start)
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	assert.Equal(t, map[int]int{http.StatusUnauthorized: loginFailures, http.StatusTooManyRequests: n - loginFailures}, counts)
}

// TestDashboardSessionExpiry: an idle session ends after sessionIdle.
func TestDashboardSessionExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, config{now: clock})
	b := newHTTPBrowser(t, e.srv)
	b.signIn(testPassword)
	advance := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
	advance(sessionIdle - time.Minute)
	assert.Equal(t, http.StatusOK, b.get("/admin/").status, "used within the idle timeout")
	advance(sessionIdle + time.Second)
	p := b.get("/admin/")
	assert.Equal(t, http.StatusSeeOther, p.status)
	assert.Equal(t, "/admin/login", p.header.Get("Location"))
}

// TestAdminPassword: the first start on a database makes a password and
// reports it (to be printed once); a later start makes none and the first
// still signs in; -admin-password replaces it; a short one is refused.
func TestAdminPassword(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + t.TempDir() + "/backupd.db"
	start := func(password string) *app {
		a, err := newApp(context.Background(), config{store: db, adminToken: testAdminToken, adminPassword: password, passwordCost: bcrypt.MinCost},
			slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		return a
	}
	signIn := func(a *app, pw string) int {
		srv := httptest.NewServer(a)
		defer srv.Close()
		b := newHTTPBrowser(t, srv)
		login := b.get("/admin/login")
		return b.post("/admin/login", url.Values{"csrf": {login.csrf(t)}, "password": {pw}}).status
	}
	a := start("")
	first := a.adminPassword
	require.GreaterOrEqual(t, len(first), 20)
	var out bytes.Buffer
	printBanner(&out, a, &netAddr{"127.0.0.1:8080"})
	assert.Contains(t, out.String(), first)
	assert.Empty(t, a.adminPassword, "printed once, then forgotten")
	h, ok, err := a.product.adminSecret(context.Background(), adminPasswordKey)
	require.NoError(t, err)
	require.True(t, ok)
	assert.NotContains(t, h, first, "only a hash is stored")
	assert.Equal(t, sha256Prefix+sha256Hex(first), h, "a generated password's SHA-256")
	require.NoError(t, a.Close())

	a = start("")
	assert.Empty(t, a.adminPassword, "a later start makes none")
	out.Reset()
	printBanner(&out, a, &netAddr{"127.0.0.1:8080"})
	assert.NotContains(t, out.String(), first)
	assert.Equal(t, http.StatusSeeOther, signIn(a, first))
	require.NoError(t, a.Close())

	a = start("a-new-password-42")
	h, _, err = a.product.adminSecret(context.Background(), adminPasswordKey)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$2"), "a chosen password's bcrypt hash: %s", h)
	assert.Equal(t, http.StatusUnauthorized, signIn(a, first))
	assert.Equal(t, http.StatusSeeOther, signIn(a, "a-new-password-42"))
	assert.Equal(t, http.StatusUnauthorized, signIn(a, "a-new-password-4"))
	require.NoError(t, a.Close())

	_, err = newApp(context.Background(), config{store: db, adminPassword: "short"}, slog.New(slog.DiscardHandler))
	assert.ErrorContains(t, err, "-admin-password")
}

// netAddr is a fixed net.Addr for printBanner.
type netAddr struct{ s string }

func (n *netAddr) Network() string { return "tcp" }
func (n *netAddr) String() string  { return n.s }

// TestDashboardPages: every page renders for a tenant with data, an
// unknown tenant is 404, and settings refused for bad input change
// nothing and keep what the admin typed.
func TestDashboardPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	tok := e.onboard("acme", 20)
	e.createUser("/scim/v2", tok, "ada@contoso.example")
	r := e.do(http.MethodPost, "/scim/v2/Groups", tok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Backup Admins"}`)
	require.Equal(t, http.StatusCreated, r.status)
	require.NoError(t, e.app.drainEvents(context.Background()))
	b := newHTTPBrowser(t, e.srv)
	csrf := b.signIn(testPassword)
	for path, want := range map[string]string{
		"/admin/":              "acme",
		"/admin/t/acme/":       "/t/acme/scim/v2",
		"/admin/t/acme/tokens": "Generate",
		"/admin/t/acme/users":  "ada@contoso.example",
		"/admin/t/acme/groups": "Backup Admins",
		"/admin/t/acme/health": "No quarantine risk",
		"/admin/t/acme/audit":  "POST /Users",
		"/admin/t/acme/setup":  "Not([IsSoftDeleted])",
	} {
		p := b.get(path)
		assert.Equal(t, http.StatusOK, p.status, path)
		assert.Contains(t, p.body, want, path)
		assert.Contains(t, p.header.Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
	}
	assert.Equal(t, http.StatusNotFound, b.get("/admin/t/nobody/").status)
	assert.Equal(t, http.StatusNotFound, b.get("/admin/t/..%2F/").status)
	assert.Equal(t, http.StatusNotFound, b.get("/admin/nothing").status)
	assert.Equal(t, http.StatusNotFound, b.get("/admin/assets/").status)
	css := b.get("/admin/assets/style.css")
	assert.Equal(t, http.StatusOK, css.status)
	assert.Contains(t, css.header.Get("Content-Type"), "text/css")
	assert.Equal(t, http.StatusBadRequest, b.get("/admin/t/acme/users?after=%25%25").status)

	form := url.Values{"csrf": {csrf}, "enabled": {"on"}, "accountSizeGB": {"99999"}, "seatLimit": {"5"}, "retentionDays": {"0"},
		"deactivation": {"suspend"}, "deletion": {"delete"}}
	p := b.post("/admin/t/acme/", form)
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, p.body, "accountSizeGB must be an integer from 1 to 10240")
	assert.Contains(t, p.body, `value="99999"`, "what the admin typed is kept")
	form.Set("accountSizeGB", "10")
	form.Set("deactivation", "explode")
	assert.Equal(t, http.StatusBadRequest, b.post("/admin/t/acme/", form).status)
	pol, err := e.app.scim.Policy(context.Background(), "acme")
	require.NoError(t, err)
	assert.Zero(t, pol.SeatLimit, "nothing was saved")
	s, err := e.app.product.settings(context.Background(), "acme")
	require.NoError(t, err)
	assert.Equal(t, 20, s.AccountSizeGB)

	// Disabling revokes every token.
	form.Set("deactivation", "preserve")
	form.Del("enabled")
	form.Set("allowedDomains", "contoso.example\nfabrikam.example")
	assert.Equal(t, http.StatusSeeOther, b.post("/admin/t/acme/", form).status)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/scim/v2/Users", tok, "").status)
	pol, err = e.app.scim.Policy(context.Background(), "acme")
	require.NoError(t, err)
	assert.Equal(t, []string{"contoso.example", "fabrikam.example"}, pol.AllowedDomains)
	assert.Equal(t, 5, pol.SeatLimit)
}

// TestAccountPage pages through a tenant's accounts by keyset, with and
// without a userName prefix, on every product state, and compares with a
// reference: the accounts sorted by lower-cased userName, then id.
func TestAccountPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, spec string) {
		st, err := openStore(context.Background(), spec)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.close() })
		ctx := context.Background()
		var all []account
		names := []string{"alice", "Alicia", "ALI", "bob", "bOb", "carol", "dave", "Eve", "alice"} // duplicates: a preserved user's name reused
		for i := 0; i < 60; i++ {
			a := account{UserID: fmt.Sprintf("u%03d", 59-i), UserName: fmt.Sprintf("%s%d@example.com", names[i%len(names)], i%7),
				Active: true, Status: "active", Created: time.Unix(int64(i), 0).UTC()}
			_, _, err := st.state.putAccount(ctx, "acme", a)
			require.NoError(t, err)
			all = append(all, a)
		}
		_, _, err = st.state.putAccount(ctx, "other", account{UserID: "x", UserName: "alice0@example.com", Status: "active", Created: time.Unix(0, 0)})
		require.NoError(t, err)
		sort.Slice(all, func(i, j int) bool {
			if a, b := strings.ToLower(all[i].UserName), strings.ToLower(all[j].UserName); a != b {
				return a < b
			}
			return all[i].UserID < all[j].UserID
		})
		for _, prefix := range []string{"", "ali", "ALIC", "bob", "zzz", "alice0@"} {
			var want []string
			for _, a := range all {
				if strings.HasPrefix(strings.ToLower(a.UserName), strings.ToLower(prefix)) {
					want = append(want, a.UserID)
				}
			}
			for _, size := range []int{1, 7, 100} {
				var got []string
				q := accountQuery{Prefix: prefix, Limit: size}
				for pages := 0; ; pages++ {
					require.Less(t, pages, 100)
					accs, err := st.state.accountPage(ctx, "acme", q)
					require.NoError(t, err)
					for _, a := range accs {
						got = append(got, a.UserID)
					}
					if len(accs) < size {
						break
					}
					q.AfterName, q.AfterID = accs[len(accs)-1].UserName, accs[len(accs)-1].UserID
				}
				assert.Equal(t, want, got, "prefix %q, page size %d", prefix, size)
			}
		}
	})
}

// TestAccountPageUsesIndex: on SQLite the keyset page is an index range
// scan in order (no sort, no full scan), so it stays fast however many
// accounts a tenant has.
func TestAccountPageUsesIndex(t *testing.T) {
	t.Parallel()
	st, err := openSQLite(context.Background(), t.TempDir()+"/p.db")
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.close() })
	s := st.state.(*sqlState)
	for _, aq := range []accountQuery{
		{Limit: 51},
		{Prefix: "ali", Limit: 51},
		{AfterName: "bob@example.com", AfterID: "u1", Limit: 51},
		{Prefix: "ali", AfterName: "alice@example.com", AfterID: "u1", Limit: 51},
	} {
		q, args := s.accountPageQuery("acme", aq)
		rows, err := s.db.Query("EXPLAIN QUERY PLAN "+q, args...)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		joined := strings.Join(plan, "; ")
		assert.Contains(t, joined, "backupd_accounts_by_name", q)
		assert.NotContains(t, joined, "TEMP B-TREE", "no sort: %s", joined)
	}
}

// TestDashboardBadInput: malformed searches, page links, form values and
// token ids get a 4xx page on every store, never a 500 (PostgreSQL
// refuses text with a NUL or that is not UTF-8 with an error), and no
// settings change.
func TestDashboardBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, spec string) {
		e := newEnv(t, config{store: spec})
		e.onboard("acme", 20)
		b := newHTTPBrowser(t, e.srv)
		csrf := b.signIn(testPassword)
		cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for _, c := range []struct {
			path   string
			status int
		}{
			{"/admin/t/acme/users?q=%FF%FE", http.StatusBadRequest},
			{"/admin/t/acme/users?q=a%00b", http.StatusBadRequest},
			{"/admin/t/acme/users?after=" + cursor("\xff\x00u1"), http.StatusBadRequest},
			{"/admin/t/acme/users?after=" + cursor("alice\x00\x00"), http.StatusBadRequest},
			{"/admin/t/acme/users?after=" + cursor("no separator"), http.StatusBadRequest},
			{"/admin/t/acme/users?after=%25%25", http.StatusBadRequest},
			{"/admin/t/acme/users?q=" + strings.Repeat("a", 300), http.StatusBadRequest},
			{"/admin/t/acme/groups?page=-1", http.StatusBadRequest},
			{"/admin/t/acme/groups?page=99999999999999999999", http.StatusBadRequest},
			{"/admin/t/acme/audit?since=yesterday", http.StatusBadRequest},
			{"/admin/t/%2e%2e/", http.StatusNotFound},
			{"/admin/t/acme%2Fusers/", http.StatusNotFound},
			{"/admin/t/" + strings.Repeat("a", 5000) + "/", http.StatusNotFound},
		} {
			p := b.get(c.path)
			assert.Equal(t, c.status, p.status, "%.80s: %s", c.path, p.body)
			assert.Contains(t, p.header.Get("Content-Type"), "text/html", c.path)
		}
		for _, id := range []string{"%FF", "%00", "nope"} {
			p := b.post("/admin/t/acme/tokens/"+id+"/revoke", url.Values{"csrf": {csrf}})
			assert.Equal(t, http.StatusNotFound, p.status, "revoke %s: %s", id, p.body)
			r := e.do(http.MethodDelete, "/admin/tenants/acme/scim/tokens/"+id, testAdminToken, "")
			assert.Equal(t, http.StatusNotFound, r.status, "admin API revoke %s: %s", id, r.body)
			r = e.do(http.MethodPost, "/admin/tenants/acme/scim/tokens/"+id+"/rotate", testAdminToken, "{}")
			assert.Equal(t, http.StatusNotFound, r.status, "admin API rotate %s: %s", id, r.body)
		}
		for _, size := range []string{"ten", "-5", "0", "99999999999999999999999", "2147483648", "1e3", ""} {
			p := b.post("/admin/t/acme/", url.Values{"csrf": {csrf}, "enabled": {"on"}, "accountSizeGB": {size}, "seatLimit": {"0"},
				"retentionDays": {"0"}, "deactivation": {"suspend"}, "deletion": {"delete"}})
			assert.Equal(t, http.StatusBadRequest, p.status, "account size %q", size)
			assert.Contains(t, p.body, `value="`+size+`"`, "the form keeps what was typed")
		}
		st, err := e.app.product.settings(context.Background(), "acme")
		require.NoError(t, err)
		assert.Equal(t, 20, st.AccountSizeGB, "no refused form changed it")
	})
}

// TestDashboardEscapesIdPValues: everything an identity provider or an
// admin controls (userName, names, emails, group names, token label,
// settings, audit details, the User-Agent behind the IdP profile) is
// shown as text: no page holds the hostile markup raw.
func TestDashboardEscapesIdPValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{})
	tok := e.onboard("acme", 20)
	const x = `<script>alert(1)</script>"><img src=x onerror=alert(2)>javascript:alert(3)`
	js := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	r := e.doUA(http.MethodPost, "/scim/v2/Users", tok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`+js("u"+x+"@example.com")+
		`,"displayName":`+js("d"+x)+`,"name":{"givenName":`+js("g"+x)+`,"familyName":`+js("f"+x)+`},"emails":[{"value":`+js("e"+x+"@example.com")+`,"primary":true}],"active":true}`, x)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	id := r.json(t)["id"].(string)
	r = e.doUA(http.MethodPost, "/scim/v2/Groups", tok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":`+js("g"+x)+
		`,"members":[{"value":"`+id+`"}]}`, x)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	e.doUA(http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "`+x+`" and`), tok, "", x) // a failure with x in its detail
	b := newHTTPBrowser(t, e.srv)
	csrf := b.signIn(testPassword)
	require.Equal(t, http.StatusSeeOther, b.post("/admin/t/acme/tokens", url.Values{"csrf": {csrf}, "label": {"l" + x}, "expiresInDays": {"1"}}).status)
	require.Equal(t, http.StatusSeeOther, b.post("/admin/t/acme/", url.Values{"csrf": {csrf}, "enabled": {"on"}, "accountSizeGB": {"20"}, "seatLimit": {"0"},
		"retentionDays": {"0"}, "deactivation": {"suspend"}, "deletion": {"delete"}, "protected": {"p" + x + "@example.com"}}).status)
	require.Eventually(t, func() bool { return len(e.accounts("acme")) == 1 }, 10*time.Second, 10*time.Millisecond)
	pages := []string{"/admin/", "/admin/t/acme/", "/admin/t/acme/tokens", "/admin/t/acme/users", "/admin/t/acme/users?q=" + url.QueryEscape(x),
		"/admin/t/acme/groups", "/admin/t/acme/health", "/admin/t/acme/audit", "/admin/t/acme/setup", "/admin/t/acme/audit?period=" + url.QueryEscape(x)}
	seen := 0
	for _, path := range pages {
		p := b.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
		for _, raw := range []string{"<script>alert", "<img src=x", `"><img`} {
			assert.NotContains(t, p.body, raw, path)
		}
		seen += strings.Count(p.body, "&lt;script&gt;alert(1)")
	}
	assert.GreaterOrEqual(t, seen, 8, "the values are on the pages, escaped")
}
