package main

import (
	"bytes"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
)

// The dashboard is the seeds' "Settings → SCIM User Management" page:
// server-rendered HTML (html/template, assets embedded, no JavaScript but
// the copy buttons and a reload of pages the Back button restores) under /admin/, on the same functions as the JSON
// admin API under /admin/tenants/. Sign-in, sessions and CSRF are in
// dashauth.go.
//
//	GET  /admin/                          tenants; POST creates one
//	GET  /admin/login                     sign-in form; POST signs in
//	POST /admin/logout                    signs out
//	GET  /admin/t/{tenant}/               SCIM settings; POST saves them
//	GET  /admin/t/{tenant}/tokens         API tokens; POST generates one (shown once)
//	POST /admin/t/{tenant}/tokens/{id}/revoke
//	GET  /admin/t/{tenant}/users          provisioned users (?q=userName prefix, ?after=cursor)
//	GET  /admin/t/{tenant}/groups         provisioned groups (?page=N)
//	GET  /admin/t/{tenant}/health         provisioning health, IdP profile, normalisation counters
//	GET  /admin/t/{tenant}/audit          the SCIM audit log (?period=1h|24h|7d|90d, ?since=RFC3339)
//	GET  /admin/t/{tenant}/setup          Entra and Okta set-up steps with this tenant's values

//go:embed ui
var uiFS embed.FS

// dashboard serves /admin/ but /admin/tenants/.
type dashboard struct {
	app      *app
	sessions *sessions
	limiter  *loginLimiter
	// key signs the sign-in form's CSRF token (random per process).
	key   []byte
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// Page sizes of the lists.
const (
	usersPerPage  = 50
	groupsPerPage = 50
	auditPerPage  = 100
	maxTenants    = 1000
	// maxFormBytes bounds a form body.
	maxFormBytes = 64 << 10
)

// newDashboard parses the templates and builds the routes.
func newDashboard(a *app) (*dashboard, error) {
	d := &dashboard{
		app:      a,
		sessions: newSessions(a.cfg.now),
		limiter:  &loginLimiter{now: a.cfg.now, byAddr: map[string]int{}},
		key:      []byte(randomSecret("")),
		pages:    map[string]*template.Template{},
	}
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"whenp": func(t *time.Time) string {
			if t == nil || t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02")
		},
		"percent": func(f float64) string { return strconv.FormatFloat(100*f, 'f', 0, 64) + "%" },
		"join":    strings.Join,
		"lines":   func(s []string) string { return strings.Join(s, "\n") },
		"inc":     func(i int) int { return i + 1 },
		"deref":   func(t *time.Time) time.Time { return *t },
	}
	for _, p := range []string{"login", "tenants", "settings", "tokens", "users", "groups", "health", "audit", "setup", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(uiFS, "ui/layout.html", "ui/"+p+".html")
		if err != nil {
			return nil, err
		}
		d.pages[p] = t
	}
	assets, err := fs.Sub(uiFS, "ui/assets")
	if err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET /admin/assets/", http.StripPrefix("/admin/assets/", assetHandler(assets)))
	m.HandleFunc("GET /admin/login", d.loginForm)
	m.HandleFunc("POST /admin/login", d.login)
	m.HandleFunc("POST /admin/logout", d.signedIn(d.logout))
	m.HandleFunc("GET /admin/{$}", d.signedIn(d.tenantList))
	m.HandleFunc("POST /admin/{$}", d.signedIn(d.createTenant))
	for _, rt := range []struct {
		pattern string
		h       func(w http.ResponseWriter, r *http.Request, v *view) error
	}{
		{"GET /admin/t/{tenant}/{$}", d.settingsPage},
		{"POST /admin/t/{tenant}/{$}", d.saveSettings},
		{"GET /admin/t/{tenant}/tokens", d.tokensPage},
		{"POST /admin/t/{tenant}/tokens", d.generateToken},
		{"POST /admin/t/{tenant}/tokens/{id}/revoke", d.revokeToken},
		{"GET /admin/t/{tenant}/users", d.usersPage},
		{"GET /admin/t/{tenant}/groups", d.groupsPage},
		{"GET /admin/t/{tenant}/health", d.healthPage},
		{"GET /admin/t/{tenant}/audit", d.auditPage},
		{"GET /admin/t/{tenant}/setup", d.setupPage},
	} {
		m.HandleFunc(rt.pattern, d.signedIn(d.tenantPage(rt.h)))
	}
	m.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		d.fail(w, r, &view{}, http.StatusNotFound, "There is no page at this address.")
	})
	d.mux = m
	return d, nil
}

// assetHandler serves the embedded CSS and JavaScript, cacheable for an
// hour (no directory listing).
func assetHandler(assets fs.FS) http.Handler {
	fsrv := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// ServeHTTP sets the security headers of every dashboard response: no
// script, style or form target but our own, no framing, no caching of
// pages (a token page must not come back from the cache), no referrer.
func (d *dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	d.mux.ServeHTTP(w, r)
}

// view is what every page template gets.
type view struct {
	Title string
	// Tenant is the tenant the page is about ("" for none); Tab the
	// page's tab in the tenant's navigation.
	Tenant, Tab string
	// SignedIn shows the sign-out button; CSRF is the session's token,
	// for every form.
	SignedIn bool
	CSRF     string
	Notice   string
	Error    string
	Data     any

	sessionID string
	// shown is the token generated just now (see generateToken).
	shown *shownToken
}

// signedIn runs h for a signed-in browser. A GET without a session goes
// to the sign-in page; a POST without a session, or whose form lacks the
// session's CSRF token, is refused with 403 and changes nothing.
func (d *dashboard) signedIn(h func(w http.ResponseWriter, r *http.Request, v *view) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := &view{}
		if c, err := r.Cookie(sessionCookie); err == nil {
			v.SignedIn = d.sessions.with(c.Value, func(s *session) {
				v.CSRF, v.Notice, s.notice = s.csrf, s.notice, ""
				if r.Method != http.MethodPost {
					// A generated token lives for the one page after
					// the Generate redirect, whichever it is.
					v.shown, s.shown = s.shown, nil
				}
			})
			v.sessionID = c.Value
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				d.fail(w, r, v, http.StatusBadRequest, "The form could not be read.")
				return
			}
			if !v.SignedIn || !sameToken(r.PostForm.Get("csrf"), v.CSRF) {
				v.Notice = ""
				d.fail(w, r, v, http.StatusForbidden, "This form's security token is missing or out of date, so nothing was changed. Reload the page and try again.")
				return
			}
		}
		if !v.SignedIn {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		if err := h(w, r, v); err != nil {
			var ae *apiError
			if errors.As(err, &ae) {
				d.fail(w, r, v, ae.status, ae.Message)
				return
			}
			d.app.log.ErrorContext(r.Context(), "dashboard request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			d.fail(w, r, v, http.StatusInternalServerError, "Something went wrong; the error is in the server's log.")
		}
	}
}

// tenantPage checks the {tenant} of the path: a valid id of a tenant that
// was created.
func (d *dashboard) tenantPage(h func(w http.ResponseWriter, r *http.Request, v *view) error) func(http.ResponseWriter, *http.Request, *view) error {
	return func(w http.ResponseWriter, r *http.Request, v *view) error {
		tenant := r.PathValue("tenant")
		if !validTenant(tenant) {
			return errNotFound.withMessage("There is no tenant " + strconv.Quote(tenant) + ".")
		}
		ok, err := d.app.product.tenantExists(r.Context(), tenant)
		if err != nil {
			return err
		}
		if !ok {
			return errNotFound.withMessage("There is no tenant " + strconv.Quote(tenant) + ": create it on the Tenants page.")
		}
		v.Tenant = tenant
		return h(w, r, v)
	}
}

// render writes page with v.
func (d *dashboard) render(w http.ResponseWriter, status int, page string, v *view) {
	var b bytes.Buffer
	if err := d.pages[page].Execute(&b, v); err != nil {
		d.app.log.Error("dashboard template", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// fail shows an error page.
func (d *dashboard) fail(w http.ResponseWriter, _ *http.Request, v *view, status int, msg string) {
	v.Title, v.Error, v.Tab = http.StatusText(status), msg, ""
	d.render(w, status, "error", v)
}

// redirect ends a successful POST: the next GET shows notice once.
func (d *dashboard) redirect(w http.ResponseWriter, r *http.Request, v *view, to, notice string) {
	d.sessions.with(v.sessionID, func(s *session) { s.notice = notice })
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func tenantPath(tenant, page string) string { return "/admin/t/" + url.PathEscape(tenant) + "/" + page }

func (d *dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && d.sessions.with(c.Value, func(*session) {}) {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	d.showLogin(w, r, http.StatusOK, "")
}

// showLogin renders the sign-in form with a new pre-session nonce.
func (d *dashboard) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	nonce := randomSecret("")
	d.setCookie(w, r, loginCookie, nonce, int(loginFormMaxAge/time.Second))
	d.render(w, status, "login", &view{Title: "Sign in", CSRF: d.loginToken(nonce), Error: msg})
}

func (d *dashboard) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !d.validLoginToken(r, r.PostForm.Get("csrf")) {
		d.fail(w, r, &view{}, http.StatusForbidden, "This sign-in form's security token is missing or out of date. Reload the page and try again.")
		return
	}
	addr := clientAddr(r)
	if !d.limiter.attempt(addr) {
		w.Header().Set("Retry-After", strconv.Itoa(int(loginWindow/time.Second)))
		d.showLogin(w, r, http.StatusTooManyRequests, "Too many failed sign-ins. Wait a minute and try again.")
		return
	}
	ok, err := d.checkPassword(r.Context(), r.PostForm.Get("password"))
	if err != nil {
		d.limiter.succeeded(addr) // not a wrong password
		d.app.log.ErrorContext(r.Context(), "dashboard sign-in failed", "err", err)
		d.fail(w, r, &view{}, http.StatusInternalServerError, "Something went wrong; the error is in the server's log.")
		return
	}
	if !ok {
		d.app.log.WarnContext(r.Context(), "dashboard sign-in refused: wrong password", "remote", addr)
		d.showLogin(w, r, http.StatusUnauthorized, "Wrong password.")
		return
	}
	d.limiter.succeeded(addr)
	if c, err := r.Cookie(sessionCookie); err == nil {
		d.sessions.delete(c.Value)
	}
	d.setCookie(w, r, loginCookie, "", -1)
	d.setCookie(w, r, sessionCookie, d.sessions.create(), 0)
	d.app.log.InfoContext(r.Context(), "dashboard sign-in", "remote", addr)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (d *dashboard) logout(w http.ResponseWriter, r *http.Request, v *view) error {
	d.sessions.delete(v.sessionID)
	d.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
	return nil
}

// tenantList is one query however many tenants there are (the first
// maxTenants); each tenant's page has its counts.
func (d *dashboard) tenantList(w http.ResponseWriter, r *http.Request, v *view) error {
	rows, err := d.app.product.tenantList(r.Context(), maxTenants)
	if err != nil {
		return err
	}
	v.Title, v.Data = "Tenants", rows
	d.render(w, http.StatusOK, "tenants", v)
	return nil
}

func (d *dashboard) createTenant(w http.ResponseWriter, r *http.Request, v *view) error {
	id := strings.TrimSpace(r.PostForm.Get("tenant"))
	if !validTenant(id) {
		return errBadTenant.withMessage("A tenant id is 1 to 64 letters, digits, '-', '_' or '.', beginning with a letter or digit.")
	}
	exists, err := d.app.product.tenantExists(r.Context(), id)
	if err != nil {
		return err
	}
	if !exists {
		if err := d.app.product.setAccountSize(r.Context(), id, defaultAccountSizeGB); err != nil {
			return err
		}
		d.app.log.InfoContext(r.Context(), "tenant created", "tenant", id)
	}
	d.redirect(w, r, v, tenantPath(id, ""), "Tenant "+id+" is ready: enable SCIM below.")
	return nil
}

// settingsData is the SCIM settings page.
type settingsData struct {
	scimStatus
	MaxAccountSizeGB int
	Form             settingsForm
}

// settingsForm is the settings form as shown (the stored values, or what
// the admin typed when it was refused).
type settingsForm struct {
	Enabled                                      bool
	AccountSizeGB, SeatLimit, RetentionDays      string
	Deactivation, Deletion                       string
	PendingUntilLogin, IdPMayReactivatePreserved bool
	AllowedDomains, Protected                    string
}

func (d *dashboard) settingsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	st, err := d.app.status(r, v.Tenant)
	if err != nil {
		return err
	}
	p := st.Policy
	form := settingsForm{
		Enabled: st.SCIMEnabled, AccountSizeGB: strconv.Itoa(st.AccountSizeGB), SeatLimit: strconv.Itoa(p.SeatLimit),
		RetentionDays: strconv.Itoa(p.RetentionDays), Deactivation: string(orDefault(p.Deactivation, scimkit.Suspend)),
		Deletion: string(orDefault(p.Deletion, scimkit.Delete)), PendingUntilLogin: p.PendingUntilLogin,
		IdPMayReactivatePreserved: p.IdPMayReactivatePreserved,
		AllowedDomains:            strings.Join(p.AllowedDomains, "\n"), Protected: strings.Join(p.Protected, "\n"),
	}
	return d.showSettings(w, v, http.StatusOK, st, form)
}

func orDefault(d, def scimkit.Disposition) scimkit.Disposition {
	if d == "" {
		return def
	}
	return d
}

func (d *dashboard) showSettings(w http.ResponseWriter, v *view, status int, st scimStatus, form settingsForm) error {
	v.Title, v.Tab = "SCIM settings", "settings"
	v.Data = settingsData{scimStatus: st, MaxAccountSizeGB: maxAccountSizeGB, Form: form}
	d.render(w, status, "settings", v)
	return nil
}

// saveSettings is the Save button: the settings first (all or nothing),
// then the enable toggle. Disabling revokes every token.
func (d *dashboard) saveSettings(w http.ResponseWriter, r *http.Request, v *view) error {
	f := r.PostForm
	form := settingsForm{
		Enabled: f.Get("enabled") == "on", AccountSizeGB: f.Get("accountSizeGB"), SeatLimit: f.Get("seatLimit"),
		RetentionDays: f.Get("retentionDays"), Deactivation: f.Get("deactivation"), Deletion: f.Get("deletion"),
		PendingUntilLogin: f.Get("pendingUntilLogin") == "on", IdPMayReactivatePreserved: f.Get("idpMayReactivatePreserved") == "on",
		AllowedDomains: f.Get("allowedDomains"), Protected: f.Get("protected"),
	}
	refuse := func(msg string) error {
		st, err := d.app.status(r, v.Tenant)
		if err != nil {
			return err
		}
		v.Error = msg
		return d.showSettings(w, v, http.StatusBadRequest, st, form)
	}
	var ch settingsChange
	for _, n := range []struct {
		val, name string
		dst       **int
	}{
		{form.AccountSizeGB, "Account size", &ch.AccountSizeGB},
		{form.SeatLimit, "Seat limit", &ch.SeatLimit},
		{form.RetentionDays, "Retention", &ch.RetentionDays},
	} {
		i, err := strconv.Atoi(strings.TrimSpace(n.val))
		if err != nil {
			return refuse(n.name + " must be a whole number.")
		}
		*n.dst = &i
	}
	deact, del := scimkit.Disposition(form.Deactivation), scimkit.Disposition(form.Deletion)
	domains, protected := fields(form.AllowedDomains), fields(form.Protected)
	ch.Deactivation, ch.Deletion, ch.AllowedDomains, ch.Protected = &deact, &del, &domains, &protected
	ch.PendingUntilLogin, ch.IdPMayReactivatePreserved = &form.PendingUntilLogin, &form.IdPMayReactivatePreserved
	if err := d.app.applySettings(r.Context(), v.Tenant, ch); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusBadRequest {
			return refuse(ae.Message)
		}
		return err
	}
	s, err := d.app.product.settings(r.Context(), v.Tenant)
	if err != nil {
		return err
	}
	notice := "Settings saved."
	if form.Enabled != s.SCIMEnabled {
		if err := d.app.setSCIMEnabled(r.Context(), v.Tenant, form.Enabled); err != nil {
			return err
		}
		notice = "Settings saved. SCIM user management is now enabled: generate an API token next."
		if !form.Enabled {
			notice = "Settings saved. SCIM user management is now disabled and every API token was revoked."
		}
	}
	d.redirect(w, r, v, tenantPath(v.Tenant, ""), notice)
	return nil
}

// fields splits a textarea into its non-empty lines (commas separate
// too).
func fields(s string) []string {
	out := []string{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// tokensData is the API tokens page.
type tokensData struct {
	SCIMEnabled bool
	TenantURL   string
	Tokens      []tokenInfo
	// Shown is the token generated just now, shown this once.
	Shown                        *shownToken
	DefaultDays, MaxDays, MaxLen int
}

func (d *dashboard) tokensPage(w http.ResponseWriter, r *http.Request, v *view) error {
	st, err := d.app.status(r, v.Tenant)
	if err != nil {
		return err
	}
	cs, err := scimkit.ListTokens(r.Context(), d.app.tokens, v.Tenant)
	if err != nil {
		return err
	}
	data := tokensData{SCIMEnabled: st.SCIMEnabled, TenantURL: st.TenantURL, DefaultDays: defaultTokenDays, MaxDays: maxTokenDays, MaxLen: 100}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Created.After(cs[j].Created) })
	for _, c := range cs {
		data.Tokens = append(data.Tokens, d.app.tokenInfo(c))
	}
	// The token generated just now is shown once: signedIn took it out
	// of the session for this page.
	if v.shown != nil && v.shown.Tenant == v.Tenant {
		data.Shown = v.shown
	}
	v.Title, v.Tab, v.Data = "API tokens", "tokens", data
	d.render(w, http.StatusOK, "tokens", v)
	return nil
}

// generateToken makes a token and keeps it in the session for the next
// page of tokens, which shows it once: it is never in a URL, and a reload
// of that page does not show it again.
func (d *dashboard) generateToken(w http.ResponseWriter, r *http.Request, v *view) error {
	label := strings.TrimSpace(r.PostForm.Get("label"))
	if label == devTokenLabel {
		return errBadRequest.withMessage("The label " + devTokenLabel + " is reserved for the -dev-token flag.")
	}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("expiresInDays")))
	if err != nil || days < 1 || days > maxTokenDays {
		return errBadRequest.withMessage(fmt.Sprintf("Expiry must be a whole number of days from 1 to %d.", maxTokenDays))
	}
	opts := []scimkit.TokenOption{scimkit.WithTokenClock(d.app.cfg.now), scimkit.WithTokenLifetime(time.Duration(days) * 24 * time.Hour)}
	if label != "" {
		opts = append(opts, scimkit.WithTokenLabel(label))
	}
	tok, c, err := d.app.createCredential(r.Context(), v.Tenant, opts)
	if err != nil {
		return err
	}
	d.sessions.with(v.sessionID, func(s *session) {
		s.shown = &shownToken{Tenant: v.Tenant, ID: c.ID, Label: c.Label, Token: tok}
	})
	http.Redirect(w, r, tenantPath(v.Tenant, "tokens"), http.StatusSeeOther)
	return nil
}

func (d *dashboard) revokeToken(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.app.revokeCredential(r.Context(), v.Tenant, r.PathValue("id")); err != nil {
		return err
	}
	d.redirect(w, r, v, tenantPath(v.Tenant, "tokens"), "Token revoked: the identity provider gets 401 with it from now on.")
	return nil
}

// usersData is one page of the provisioned users. It has no total: a
// COUNT of 100,000 rows would cost more than the page (the settings page
// shows it).
type usersData struct {
	Query string
	Rows  []accountView
	// Next is the cursor of the next page, "" on the last; Paged is set
	// past the first page.
	Next  string
	Paged bool
}

// encodeCursor and decodeCursor turn the last row of a page into the
// opaque ?after= parameter and back.
func encodeCursor(name, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(name + "\x00" + id))
}

func decodeCursor(s string) (name, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", "", false
	}
	name, id, ok = strings.Cut(string(b), "\x00")
	return name, id, ok
}

func (d *dashboard) usersPage(w http.ResponseWriter, r *http.Request, v *view) error {
	qs := r.URL.Query()
	q := accountQuery{Prefix: strings.TrimSpace(qs.Get("q")), Limit: usersPerPage + 1}
	if len(q.Prefix) > 256 {
		return errBadRequest.withMessage("The search is too long.")
	}
	if !storableText(q.Prefix) {
		return errBadRequest.withMessage("The search is not valid text.")
	}
	data := usersData{Query: q.Prefix}
	if after := qs.Get("after"); after != "" {
		var ok bool
		if q.AfterName, q.AfterID, ok = decodeCursor(after); !ok || !storableText(q.AfterName) || !storableText(q.AfterID) {
			return errBadRequest.withMessage("The page link is broken: start from the first page.")
		}
		data.Paged = true
	}
	accs, err := d.app.product.accountPage(r.Context(), v.Tenant, q)
	if err != nil {
		return err
	}
	if len(accs) > usersPerPage {
		accs = accs[:usersPerPage]
		last := accs[len(accs)-1]
		data.Next = encodeCursor(last.UserName, last.UserID)
	}
	if data.Rows, err = d.app.profiles(r.Context(), v.Tenant, accs); err != nil {
		return err
	}
	if err := d.app.withStates(r, v.Tenant, data.Rows); err != nil {
		return err
	}
	v.Title, v.Tab, v.Data = "Users", "users", data
	d.render(w, http.StatusOK, "users", v)
	return nil
}

// groupsData is one page of the provisioned groups.
type groupsData struct {
	Total      int
	Groups     []*scimkit.Group
	Page       int
	Prev, Next int
}

func (d *dashboard) groupsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > scimkit.MaxPageSize {
			return errBadRequest.withMessage("The page number is not valid.")
		}
		page = n
	}
	res, err := d.app.resources.List(r.Context(), v.Tenant, storage.Query{
		Kind: storage.KindGroup, StartIndex: (page-1)*groupsPerPage + 1, Count: groupsPerPage,
	})
	if err != nil {
		return err
	}
	data := groupsData{Total: res.Total, Page: page}
	for i := range res.Resources {
		g, err := scimkit.GroupFromResource(&res.Resources[i])
		if err != nil {
			return err
		}
		data.Groups = append(data.Groups, g)
	}
	if page > 1 {
		data.Prev = page - 1
	}
	if page*groupsPerPage < res.Total {
		data.Next = page + 1
	}
	v.Title, v.Tab, v.Data = "Groups", "groups", data
	d.render(w, http.StatusOK, "groups", v)
	return nil
}

// healthData is the provisioning health page.
type healthData struct {
	Health         scimkit.Health
	Profile        scimkit.IdPProfile
	Normalizations []scimkit.Normalization
}

func (d *dashboard) healthPage(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Title, v.Tab = "Provisioning health", "health"
	v.Data = healthData{
		Health:         d.app.scim.Health(v.Tenant),
		Profile:        d.app.scim.IdPProfile(v.Tenant),
		Normalizations: d.app.scim.Normalizations(v.Tenant),
	}
	d.render(w, http.StatusOK, "health", v)
	return nil
}

// auditData is one page of the audit log.
type auditData struct {
	Period  string
	Periods []string
	Entries []auditRow
	// Next is the since= of the next page, "" on the last.
	Next string
}

// auditRow is an audit entry with its credential's label.
type auditRow struct {
	scimkit.AuditEntry
	Label string
}

// auditPeriod is the length of a ?period= of the audit page, 0 for an
// unknown one.
func auditPeriod(p string) time.Duration {
	switch p {
	case "1h":
		return time.Hour
	case "24h":
		return 24 * time.Hour
	case "7d":
		return 7 * 24 * time.Hour
	case "90d":
		return auditRetention
	}
	return 0
}

func (d *dashboard) auditPage(w http.ResponseWriter, r *http.Request, v *view) error {
	qs := r.URL.Query()
	data := auditData{Period: qs.Get("period"), Periods: []string{"1h", "24h", "7d", "90d"}}
	if auditPeriod(data.Period) == 0 {
		data.Period = "24h"
	}
	since := d.app.cfg.now().Add(-auditPeriod(data.Period))
	if s := qs.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return errBadRequest.withMessage("The page link is broken: start from the first page.")
		}
		since = t
	}
	entries, err := d.app.scim.Audit(r.Context(), v.Tenant, since, time.Time{}, auditPerPage+1)
	if err != nil {
		return err
	}
	if len(entries) > auditPerPage {
		entries = entries[:auditPerPage]
		data.Next = entries[len(entries)-1].Time.Add(time.Nanosecond).Format(time.RFC3339Nano)
	}
	cs, err := scimkit.ListTokens(r.Context(), d.app.tokens, v.Tenant)
	if err != nil {
		return err
	}
	labels := map[string]string{}
	for _, c := range cs {
		labels[c.ID] = c.Label
	}
	for _, e := range entries {
		data.Entries = append(data.Entries, auditRow{AuditEntry: e, Label: labels[e.Credential]})
	}
	v.Title, v.Tab, v.Data = "Audit log", "audit", data
	d.render(w, http.StatusOK, "audit", v)
	return nil
}

// setupData is the set-up guide: this tenant's values in the seeds'
// steps, and the presets' mapping tables.
type setupData struct {
	scimStatus
	Entra, Okta scimkit.Preset
	DruvaURN    string
}

func (d *dashboard) setupPage(w http.ResponseWriter, r *http.Request, v *view) error {
	st, err := d.app.status(r, v.Tenant)
	if err != nil {
		return err
	}
	v.Title, v.Tab = "Set-up guide", "setup"
	v.Data = setupData{scimStatus: st, Entra: scimkit.EntraPreset(), Okta: scimkit.OktaPreset(), DruvaURN: scimkit.DruvaExtensionURN}
	d.render(w, http.StatusOK, "setup", v)
	return nil
}
