package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The browser test drives the dashboard in a real headless Chromium (the
// Debian package chromium; .ci/run installs it), as an admin following
// the seeds' "SCIM User Management" steps would, and checks each step
// against what the SCIM API and the identity providers' request shapes
// (Entra's default job, Okta's SCIM client) do.
//
// Without a browser it skips, unless $CI is set: then it fails. With
// SCIMKIT_SCREENSHOTS=DIR it saves the main screens as PNGs in DIR (a
// relative DIR is taken from the repository root: SCIMKIT_SCREENSHOTS=docs).

// chromiumPath finds the browser: $SCIMKIT_CHROMIUM, else chromium on
// the PATH (Debian's package), else the other usual names.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SCIMKIT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found but $CI is set: the dashboard's browser test must run in CI (apt-get install chromium)")
	}
	t.Skip("no Chromium found (install the Debian package chromium, or set SCIMKIT_CHROMIUM): skipping the dashboard's browser test")
	return ""
}

// newBrowser starts a headless Chromium with an empty profile and the
// flags that keep it off the network (it reaches only the test server).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	// Not t.TempDir: Chromium may still write to its profile for a moment
	// after it is told to quit, which fails TempDir's cleanup.
	profile, err := os.MkdirTemp("", "backupd-chromium-")
	require.NoError(t, err)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	require.NoError(t, chromedp.Run(ctx, emulation.SetDeviceMetricsOverride(1280, 800, 1, false)), "starting Chromium")
	return ctx
}

// screenshots is where SCIMKIT_SCREENSHOTS wants the PNGs ("" for none).
func screenshots() string {
	dir := os.Getenv("SCIMKIT_SCREENSHOTS")
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // the test runs in examples/backupd
	}
	return dir
}

// shot saves the viewport as DIR/name.png when screenshots are wanted.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := screenshots()
	if dir == "" {
		return
	}
	var png []byte
	require.NoError(t, chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// scim sends one SCIM request as an IdP would and returns the status and
// body.
func scim(t *testing.T, method, url, token, userAgent, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/scim+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// Entra's default job creates a user like this (recorded in
// testdata/azuread/create_user_default_job.json at the root).
func entraCreate(userName, display, objectID, dept string) string {
	given, family, _ := strings.Cut(display, " ")
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],` +
		`"externalId":"` + objectID + `","userName":"` + userName + `","active":true,"displayName":"` + display + `",` +
		`"emails":[{"primary":true,"type":"work","value":"` + userName + `"}],"meta":{"resourceType":"User"},` +
		`"name":{"formatted":"` + display + `","familyName":"` + family + `","givenName":"` + given + `"},"roles":[],` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"` + dept + `"},` +
		`"urn:ietf:params:scim:schemas:extension:Druva:2.0:User":{"userPrincipalName":"` + userName + `","city":"Redmond","country":"US","department":"` + dept + `"}}`
}

// Okta's SCIM client creates a user like this (testdata/okta/lifecycle.json).
func oktaCreate(userName, given, family, oktaID string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + userName + `",` +
		`"name":{"givenName":"` + given + `","familyName":"` + family + `"},` +
		`"emails":[{"primary":true,"value":"` + userName + `","type":"work"}],"displayName":"` + given + ` ` + family + `",` +
		`"locale":"en-US","externalId":"` + oktaID + `","groups":[],"password":"1mz050nq!Q","active":true}`
}

const oktaUA = "Okta SCIM Client 1.0.0"

// jsonField returns the string field name of a JSON object.
func jsonField(t *testing.T, body, name string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	v, _ := m[name].(string)
	require.NotEmpty(t, v, "%s in %s", name, body)
	return v
}

func TestDashboardBrowser(t *testing.T) {
	ctx := newBrowser(t)
	if dir := screenshots(); dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	e := newEnv(t, config{store: "sqlite:" + filepath.Join(t.TempDir(), "backupd.db")})
	// Accounts follow the outbox, as in the running binary.
	dctx, stop := context.WithCancel(context.Background())
	delivered := make(chan struct{})
	go func() { e.app.deliverEvents(dctx); close(delivered) }()
	t.Cleanup(func() { stop(); <-delivered })
	base := e.srv.URL

	text := func(sel string) string {
		t.Helper()
		var s string
		require.NoError(t, chromedp.Run(ctx, chromedp.Text(sel, &s, chromedp.ByQuery)), sel)
		return s
	}
	location := func() string {
		var u string
		require.NoError(t, chromedp.Run(ctx, chromedp.Location(&u)))
		return u
	}
	exists := func(sel string) bool {
		var ok bool
		require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q) !== null`, sel), &ok)))
		return ok
	}
	// waitText waits for sel's text to hold want (the page may still be
	// navigating to it).
	waitText := func(sel, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			// One evaluation, whose error is expected while the old page
			// goes away ("Cannot find context with specified id").
			var s string
			err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q)?.innerText ?? ""`, sel), &s))
			if err == nil && strings.Contains(s, want) {
				return
			}
			require.True(t, time.Now().Before(deadline), "%s never showed %q (last error: %v)", sel, want, err)
			time.Sleep(50 * time.Millisecond)
		}
	}
	// waitFor reloads path until sel exists and its text holds want: the
	// outbox delivers the accounts within a poll interval.
	waitFor := func(path, sel, want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+path)))
			if exists(sel) && strings.Contains(text(sel), want) {
				return
			}
			require.True(t, time.Now().Before(deadline), "%s: %s never showed %q", path, sel, want)
			time.Sleep(200 * time.Millisecond)
		}
	}

	// Sign in: /admin/ sends a new browser to the sign-in page.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`#password`, chromedp.ByQuery),
	))
	assert.Equal(t, base+"/admin/login", location())
	shot(t, ctx, "dashboard-signin")
	// A wrong password first.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`#password`, "not-the-password", chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`.alert`, chromedp.ByQuery),
	))
	assert.Contains(t, text(".alert"), "Wrong password")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`#password`, testPassword, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`#tenant`, chromedp.ByQuery),
	))
	assert.Equal(t, base+"/admin/", location())

	// Create tenant acme, enable SCIM, set the account size, Save.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`#tenant`, "acme", chromedp.ByQuery),
		chromedp.Submit(`#tenant`, chromedp.ByQuery),
		chromedp.WaitVisible(`#enabled`, chromedp.ByQuery),
	))
	assert.Equal(t, base+"/admin/t/acme/", location())
	var tenantURL, perTenantURL string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Value(`#tenant-url`, &tenantURL, chromedp.ByQuery),
		chromedp.Value(`#per-tenant-url`, &perTenantURL, chromedp.ByQuery),
	))
	assert.Equal(t, base+"/scim/v2", tenantURL)
	assert.Equal(t, base+"/t/acme/scim/v2", perTenantURL)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#enabled`, chromedp.ByQuery),
		chromedp.SetValue(`#accountSizeGB`, "", chromedp.ByQuery),
		chromedp.SendKeys(`#accountSizeGB`, "50", chromedp.ByQuery),
		chromedp.SetValue(`#seatLimit`, "", chromedp.ByQuery),
		chromedp.SendKeys(`#seatLimit`, "25", chromedp.ByQuery),
		chromedp.Click(`.actions button.primary`, chromedp.ByQuery),
	))
	waitText(".notice", "now enabled")
	var size string
	require.NoError(t, chromedp.Run(ctx, chromedp.Value(`#accountSizeGB`, &size, chromedp.ByQuery)))
	assert.Equal(t, "50", size)
	s, err := e.app.product.settings(context.Background(), "acme")
	require.NoError(t, err)
	assert.True(t, s.SCIMEnabled)
	assert.Equal(t, 50, s.AccountSizeGB)

	// Generate a token: shown once with the warning, never in the URL.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`a[href="/admin/t/acme/tokens"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#label`, chromedp.ByQuery),
		chromedp.SendKeys(`#label`, "Entra production", chromedp.ByQuery),
		chromedp.Submit(`#label`, chromedp.ByQuery),
		chromedp.WaitVisible(`#new-token`, chromedp.ByQuery),
	))
	var token string
	require.NoError(t, chromedp.Run(ctx, chromedp.Value(`#new-token`, &token, chromedp.ByQuery)))
	require.True(t, strings.HasPrefix(token, "scim_"), "token %q", token)
	assert.Contains(t, text(".shown"), "make sure to copy and save it somewhere safe")
	assert.NotContains(t, location(), token)
	assert.Equal(t, base+"/admin/t/acme/tokens", location())
	require.NoError(t, chromedp.Run(ctx, chromedp.Click(`button[data-copy="new-token"]`, chromedp.ByQuery)))
	waitText(".shown .copied", "Copied")
	shot(t, ctx, "dashboard-token")
	// Gone on reload.
	require.NoError(t, chromedp.Run(ctx, chromedp.Reload(), chromedp.WaitVisible(`#label`, chromedp.ByQuery)))
	assert.False(t, exists("#new-token"), "the token is shown once")
	assert.Contains(t, text("table"), "Entra production")

	// Entra: Test Connection, then the default job's create and a
	// second user; Okta: its client's create. The token names the
	// tenant on the shared Tenant URL; the per-tenant URL works too.
	st, body := scim(t, http.MethodGet, tenantURL+`/Users?filter=userName+eq+%22f1c6e1b8-2b4e-4c4e-9a55-0a4a8a0c6f11%22`, token, "", "")
	require.Equal(t, http.StatusOK, st, body)
	st, body = scim(t, http.MethodPost, tenantURL+"/Users", token, "", entraCreate("nestor.wilke@contoso.com", "Nestor Wilke", "5b1d2c3e-0000-4c4c-8d8d-000000000001", "Operations"))
	require.Equal(t, http.StatusCreated, st, body)
	nestor := jsonField(t, body, "id")
	ids := map[string]string{}
	for i, u := range []struct{ name, display, dept string }{
		{"adele.vance@contoso.com", "Adele Vance", "Retail"},
		{"lynne.robbins@contoso.com", "Lynne Robbins", "Finance"},
		{"megan.bowen@contoso.com", "Megan Bowen", "Marketing"},
	} {
		st, body = scim(t, http.MethodPost, tenantURL+"/Users", token, "", entraCreate(u.name, u.display, fmt.Sprintf("5b1d2c3e-0000-4c4c-8d8d-00000000001%d", i), u.dept))
		require.Equal(t, http.StatusCreated, st, body)
		ids[u.name] = jsonField(t, body, "id")
	}
	st, body = scim(t, http.MethodGet, perTenantURL+`/Users?filter=userName+eq+%22kim.akers%40example.com%22&startIndex=1&count=100`, token, oktaUA, "")
	require.Equal(t, http.StatusOK, st, body)
	st, body = scim(t, http.MethodPost, perTenantURL+"/Users", token, oktaUA, oktaCreate("kim.akers@example.com", "Kim", "Akers", "00u1dhhb1fkIGP7RL1d8"))
	require.Equal(t, http.StatusCreated, st, body)
	st, body = scim(t, http.MethodPost, tenantURL+"/Groups", token, "", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"externalId":"7d3e0b1a-0000-4000-8000-000000000001","displayName":"Backup Admins","members":[{"value":"`+nestor+`"}]}`)
	require.Equal(t, http.StatusCreated, st, body)

	// The users appear with the tenant's quota.
	waitFor("/admin/t/acme/users", `tr[data-user="kim.akers@example.com"]`, "50 GB")
	row := text(`tr[data-user="nestor.wilke@contoso.com"]`)
	assert.Contains(t, row, "50 GB")
	assert.Contains(t, row, "active")
	assert.Contains(t, row, "Nestor Wilke")
	assert.Contains(t, row, "Backup Admins")

	// Deactivate through SCIM as Entra's default job does ("Replace",
	// "False" as a string): the page shows the account suspended.
	st, body = scim(t, http.MethodPatch, tenantURL+"/Users/"+nestor, token, "",
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	require.Contains(t, []int{http.StatusOK, http.StatusNoContent}, st, body)
	waitFor("/admin/t/acme/users", `tr[data-user="nestor.wilke@contoso.com"] .state`, "suspended")
	assert.Contains(t, text(`tr[data-user="kim.akers@example.com"] .state`), "active")

	// The lifecycle policy from the settings form: deletion preserves
	// for 30 days. Entra's DELETE then keeps the account, preserved.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"/admin/t/acme/"),
		chromedp.SetValue(`#deletion`, "preserve", chromedp.ByQuery),
		chromedp.SetValue(`#retentionDays`, "30", chromedp.ByQuery),
		chromedp.Click(`.actions button.primary`, chromedp.ByQuery),
	))
	waitText(".notice", "Settings saved")
	pol, err := e.app.scim.Policy(context.Background(), "acme")
	require.NoError(t, err)
	assert.Equal(t, 30, pol.RetentionDays)
	assert.Equal(t, 25, pol.SeatLimit)
	st, body = scim(t, http.MethodDelete, tenantURL+"/Users/"+ids["adele.vance@contoso.com"], token, "", "")
	require.Equal(t, http.StatusNoContent, st, body)
	waitFor("/admin/t/acme/users", `tr[data-user="adele.vance@contoso.com"] .state`, "preserved")
	assert.Contains(t, text(`tr[data-user="adele.vance@contoso.com"] .state`), "until "+time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02"))
	shot(t, ctx, "dashboard-users")

	// Search by userName prefix, case-insensitively.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`#q`, "KIM", chromedp.ByQuery),
		chromedp.Submit(`#q`, chromedp.ByQuery),
		chromedp.WaitVisible(`a[href="/admin/t/acme/users"].button`, chromedp.ByQuery),
	))
	assert.True(t, exists(`tr[data-user="kim.akers@example.com"]`))
	assert.False(t, exists(`tr[data-user="nestor.wilke@contoso.com"]`))

	// Groups, health, audit and the set-up guide show the tenant's data.
	waitFor("/admin/t/acme/groups", "table", "Backup Admins")
	waitFor("/admin/t/acme/health", "main", "stringBoolean")
	assert.Contains(t, text("main"), "Okta SCIM Client")
	shot(t, ctx, "dashboard-health")
	waitFor("/admin/t/acme/audit", "table", "POST /Users")
	assert.Contains(t, text("table"), "Entra production")
	shot(t, ctx, "dashboard-audit")
	waitFor("/admin/t/acme/setup", "#entra-h", "Entra")
	guide := text("main")
	assert.Contains(t, guide, tenantURL)
	assert.Contains(t, guide, "Not([IsSoftDeleted])")
	assert.Contains(t, guide, "user.firstName")
	shot(t, ctx, "dashboard-setup")

	waitFor("/admin/t/acme/", "#enable-h", "Status")
	shot(t, ctx, "dashboard-settings")

	// A forged form is refused and changes nothing: without the CSRF
	// token (a fetch from the page), and with a wrong one (a form).
	var status int
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(
		`fetch('/admin/t/acme/tokens', {method: 'POST', body: new URLSearchParams({label: 'forged', expiresInDays: '1'})}).then(r => r.status)`,
		&status, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })))
	assert.Equal(t, http.StatusForbidden, status)
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`(() => {
		const f = document.createElement('form');
		f.method = 'post'; f.action = '/admin/t/acme/';
		for (const [k, v] of [['csrf', 'wrong'], ['accountSizeGB', '1'], ['seatLimit', '0'], ['retentionDays', '0'], ['deactivation', 'suspend'], ['deletion', 'delete']]) {
			const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
		}
		document.body.appendChild(f); f.submit(); return true;
	})()`, nil), chromedp.WaitVisible(`.alert`, chromedp.ByQuery)))
	assert.Contains(t, text(".alert"), "security token")
	assert.Contains(t, text("h1"), "Forbidden")
	s, err = e.app.product.settings(context.Background(), "acme")
	require.NoError(t, err)
	assert.True(t, s.SCIMEnabled, "the forged form disabled nothing")
	assert.Equal(t, 50, s.AccountSizeGB)
	cs, err := e.app.tokens.ListCredentials(context.Background(), "acme")
	require.NoError(t, err)
	assert.Len(t, cs, 1, "the forged fetch made no token")

	// Revoke the token: SCIM answers 401 with it.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"/admin/t/acme/tokens"),
		chromedp.Click(`button.danger`, chromedp.ByQuery),
	))
	waitText(".notice", "revoked")
	assert.Contains(t, text("main"), "No tokens yet")
	st, body = scim(t, http.MethodGet, tenantURL+"/Users", token, "", "")
	assert.Equal(t, http.StatusUnauthorized, st, body)

	waitFor("/admin/", "table", "acme")
	shot(t, ctx, "dashboard-tenants")
	// The users page on a phone.
	if screenshots() != "" {
		require.NoError(t, chromedp.Run(ctx,
			emulation.SetDeviceMetricsOverride(390, 844, 2, true),
			chromedp.Navigate(base+"/admin/t/acme/"),
			chromedp.WaitVisible(`#enabled`, chromedp.ByQuery),
		))
		shot(t, ctx, "dashboard-phone")
	}

	// Sign out: the session is gone.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"/admin/"),
		chromedp.Click(`button.link`, chromedp.ByQuery),
		chromedp.WaitVisible(`#password`, chromedp.ByQuery),
		chromedp.Navigate(base+"/admin/t/acme/tokens"),
		chromedp.WaitVisible(`#password`, chromedp.ByQuery),
	))
	assert.Equal(t, base+"/admin/login", location())
}

// TestDashboardBrowserBackButton: Back to the page that showed a new
// token does not show it again. Chromium keeps even no-store pages in its
// back/forward cache; the page reloads when restored from it.
func TestDashboardBrowserBackButton(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, config{})
	e.onboard("acme", 20)
	base := e.srv.URL
	var token string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"/admin/login"),
		chromedp.SendKeys(`#password`, testPassword, chromedp.ByQuery),
		chromedp.Click(`main button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#tenant`, chromedp.ByQuery),
		chromedp.Navigate(base+"/admin/t/acme/tokens"),
		chromedp.SendKeys(`#label`, "Entra", chromedp.ByQuery),
		chromedp.Click(`form.row button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible(`#new-token`, chromedp.ByQuery),
		chromedp.Value(`#new-token`, &token, chromedp.ByQuery),
		chromedp.Navigate(base+"/admin/t/acme/users"),
		chromedp.WaitVisible(`#q`, chromedp.ByQuery),
	))
	require.True(t, strings.HasPrefix(token, "scim_"), token)
	// Back, as the browser's button does; then wait for whatever page
	// that brings to settle on the tokens list.
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`history.back()`, nil)))
	// Poll (the page may be navigating: an evaluation then fails) until
	// the tokens page has stood loaded for a moment.
	settled := func() string {
		var html string
		if chromedp.Run(ctx, chromedp.Evaluate(`document.readyState === "complete" && location.pathname === "/admin/t/acme/tokens" && document.querySelector("#list-h") !== null ? document.documentElement.outerHTML : ""`, &html)) != nil {
			return ""
		}
		return html
	}
	var page string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "Back never settled on the tokens page")
		if settled() == "" {
			continue
		}
		time.Sleep(500 * time.Millisecond) // time for a restored page's reload to begin
		if page = settled(); page != "" {
			break
		}
	}
	assert.False(t, strings.Contains(page, token), "Back shows the token again")
	assert.False(t, strings.Contains(page, `id="new-token"`), "Back shows the new token's box again")
}
