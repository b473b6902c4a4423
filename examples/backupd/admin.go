package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
)

// The admin API mirrors the dashboard flow "Settings → SCIM → Enable, note
// the Tenant URL, set the account size per provisioned user, Generate API
// token (shown once)":
//
//	GET    /admin/tenants/{tenant}/scim                   status (never a token)
//	POST   /admin/tenants/{tenant}/scim/enable            enable SCIM, returns the Tenant URLs
//	PUT    /admin/tenants/{tenant}/scim/settings          {"accountSizeGB": 50, "seatLimit": 25, "deactivation": "preserve", ...}
//	                                                      (fields left out keep their value; see settingsRequest)
//	POST   /admin/tenants/{tenant}/scim/tokens            {"label": "Entra", "expiresInDays": 365}: 201, a new token, shown once
//	GET    /admin/tenants/{tenant}/scim/tokens            the tokens' id, label, created, expires, lastUsed (never a token)
//	DELETE /admin/tenants/{tenant}/scim/tokens/{id}       revoke one token at once: 204
//	POST   /admin/tenants/{tenant}/scim/tokens/{id}/rotate {"overlapHours": 24}: 201, a new token; the old one expires after the overlap
//	POST   /admin/tenants/{tenant}/scim/token             new token, shown once; the tenant's other tokens expire after
//	                                                      {"overlapHours": N} (default 0: at once)
//	POST   /admin/tenants/{tenant}/scim/disable           revoke every token; accounts are kept
//	GET    /admin/tenants/{tenant}/accounts               the backup accounts provisioned users got, with each
//	                                                      user's state (active, pending, suspended, preserved + until)
//	GET    /admin/tenants/{tenant}/audit?since=RFC3339&limit=N  the SCIM audit log, oldest first (limit 1 to 1000, default 100)
//	DELETE /admin/tenants/{tenant}                        offboard: delete the tenant's users, groups, tokens, policy,
//	                                                      audit log and backup accounts: 204
//	GET    /admin/tenants/{tenant}/scim/profile           the IdP client detected from the tenant's traffic, its
//	                                                      evidence, and the normalisation counters (this instance)
//
// New tokens expire after expiresInDays (1 to 3650, default 365); lastUsed
// is recorded to the minute. Every route needs "Authorization: Bearer
// <admin token>". Tenant ids are 1 to 64 letters, digits, '-', '_' or
// '.', beginning with a letter or digit (so never "." or "..", however
// escaped). Errors are JSON: {"error": "<code>", "message": "<text>"}.
func (a *app) adminRoutes() http.Handler {
	m := http.NewServeMux()
	routes := []struct {
		method, path string
		h            func(http.ResponseWriter, *http.Request, string) error
	}{
		{http.MethodGet, "/admin/tenants/{tenant}/scim", a.getStatus},
		{http.MethodPost, "/admin/tenants/{tenant}/scim/enable", a.enable},
		{http.MethodPut, "/admin/tenants/{tenant}/scim/settings", a.putSettings},
		{http.MethodPost, "/admin/tenants/{tenant}/scim/token", a.newToken},
		{http.MethodPost, "/admin/tenants/{tenant}/scim/tokens", a.createToken},
		{http.MethodGet, "/admin/tenants/{tenant}/scim/tokens", a.listTokens},
		{http.MethodDelete, "/admin/tenants/{tenant}/scim/tokens/{id}", a.revokeToken},
		{http.MethodPost, "/admin/tenants/{tenant}/scim/tokens/{id}/rotate", a.rotateToken},
		{http.MethodPost, "/admin/tenants/{tenant}/scim/disable", a.disable},
		{http.MethodGet, "/admin/tenants/{tenant}/accounts", a.listAccounts},
		{http.MethodGet, "/admin/tenants/{tenant}/scim/health", a.getHealth},
		{http.MethodGet, "/admin/tenants/{tenant}/audit", a.getAudit},
		{http.MethodDelete, "/admin/tenants/{tenant}", a.deleteTenant},
		{http.MethodGet, "/admin/tenants/{tenant}/scim/profile", a.getProfile},
	}
	allowed := map[string][]string{}
	for _, rt := range routes {
		m.HandleFunc(rt.method+" "+rt.path, a.tenantRoute(rt.h))
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		if rt.method == http.MethodGet {
			allowed[rt.path] = append(allowed[rt.path], http.MethodHead)
		}
	}
	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		m.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, errMethodNotAllowed)
		})
	}
	m.HandleFunc("/admin/tenants/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errNotFound.withMessage("no admin route "+r.URL.Path))
	})
	return a.requireAdmin(m)
}

// apiError is an admin API error.
type apiError struct {
	status  int
	Code    string `json:"error"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return "backupd: " + e.Message }

func (e *apiError) withMessage(msg string) *apiError {
	c := *e
	c.Message = msg
	return &c
}

var (
	errUnauthorized     = &apiError{http.StatusUnauthorized, "unauthorized", "send the admin token as \"Authorization: Bearer <token>\""}
	errNotFound         = &apiError{http.StatusNotFound, "not_found", "not found"}
	errMethodNotAllowed = &apiError{http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"}
	errBadTenant        = &apiError{http.StatusBadRequest, "invalid_tenant", "tenant ids are 1 to 64 letters, digits, '-', '_' or '.', beginning with a letter or digit"}
	errBadRequest       = &apiError{http.StatusBadRequest, "invalid_request", "invalid request"}
	errSCIMDisabled     = &apiError{http.StatusConflict, "scim_disabled", "enable SCIM for this tenant first"}
	errInternal         = &apiError{http.StatusInternalServerError, "internal", "internal error"}
)

// requireAdmin checks the admin token. Both sides are hashed first so the
// constant-time compare does not leak the token's length either.
func (a *app) requireAdmin(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(a.adminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="backupd-admin"`)
			writeError(w, errUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tenantRoute validates the {tenant} wildcard and turns returned errors
// into JSON. Anything but an *apiError is logged and answered with a
// generic 500.
func (a *app) tenantRoute(h func(http.ResponseWriter, *http.Request, string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant")
		if !validTenant(tenant) {
			writeError(w, errBadTenant)
			return
		}
		if err := h(w, r, tenant); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				a.log.ErrorContext(r.Context(), "admin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
				ae = errInternal
			}
			writeError(w, ae)
		}
	}
}

// validTenant: 1 to 64 letters, digits and "-_.", beginning with a letter
// or digit. t is the decoded path segment (ServeMux unescapes wildcards,
// so "%2e%2e" arrives as ".." and "a%2Fb" as "a/b"), and the rule
// refuses "." and "..", which the product would otherwise take for
// directory names.
func validTenant(t string) bool {
	if t == "" || len(t) > 64 || !isAlnum(t[0]) {
		return false
	}
	for _, c := range []byte(t) {
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// scimStatus is the SCIM settings page of a tenant. It never holds a
// token: only whether an unexpired one is set.
type scimStatus struct {
	Tenant        string `json:"tenant"`
	SCIMEnabled   bool   `json:"scimEnabled"`
	TenantURL     string `json:"tenantURL"`
	PerTenantURL  string `json:"perTenantURL"`
	AccountSizeGB int    `json:"accountSizeGB"`
	TokenSet      bool   `json:"tokenSet"`
	Accounts      int    `json:"accounts"`
	// Policy is the tenant's SCIM provisioning policy.
	Policy scimkit.Policy `json:"policy"`
}

func (a *app) status(r *http.Request, tenant string) (scimStatus, error) {
	cs, err := scimkit.ListTokens(r.Context(), a.tokens, tenant)
	if err != nil {
		return scimStatus{}, err
	}
	tokenSet := false
	for _, c := range cs {
		tokenSet = tokenSet || !c.Expired(a.cfg.now())
	}
	s, err := a.product.settings(r.Context(), tenant)
	if err != nil {
		return scimStatus{}, err
	}
	pol, err := a.scim.Policy(r.Context(), tenant)
	if err != nil {
		return scimStatus{}, err
	}
	origin := a.origin(r)
	return scimStatus{
		Policy:        pol,
		Tenant:        tenant,
		SCIMEnabled:   s.SCIMEnabled,
		TenantURL:     origin + scimBase,
		PerTenantURL:  origin + "/t/" + tenant + scimBase,
		AccountSizeGB: s.AccountSizeGB,
		TokenSet:      tokenSet,
		Accounts:      s.Accounts,
	}, nil
}

func (a *app) getStatus(w http.ResponseWriter, r *http.Request, tenant string) error {
	st, err := a.status(r, tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// enable turns SCIM on. It is idempotent; the tenant's SCIM endpoint
// answers 401 until a token is generated.
func (a *app) enable(w http.ResponseWriter, r *http.Request, tenant string) error {
	if err := a.setSCIMEnabled(r.Context(), tenant, true); err != nil {
		return err
	}
	return a.getStatus(w, r, tenant)
}

// disable revokes every token (the IdP gets 401 from now on) and turns
// SCIM off. Backup accounts and SCIM users are kept: re-enabling and generating
// a new token resumes provisioning where it stopped.
func (a *app) disable(w http.ResponseWriter, r *http.Request, tenant string) error {
	if err := a.setSCIMEnabled(r.Context(), tenant, false); err != nil {
		return err
	}
	return a.getStatus(w, r, tenant)
}

// setSCIMEnabled turns SCIM on or off for the admin API and the
// dashboard. Turning it off revokes every token first.
func (a *app) setSCIMEnabled(ctx context.Context, tenant string, on bool) error {
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	if !on {
		if err := scimkit.RevokeAllTokens(ctx, a.tokens, tenant); err != nil {
			return err
		}
	}
	if err := a.product.setSCIMEnabled(ctx, tenant, on); err != nil {
		return err
	}
	msg := "scim disabled"
	if on {
		msg = "scim enabled"
	}
	a.log.InfoContext(ctx, msg, "tenant", tenant)
	return nil
}

// settingsRequest is the body of PUT …/scim/settings. Every field is
// optional (at least one must be given); a field left out keeps its
// value. Integers are kept raw so that only JSON integers are accepted
// (not 50.5, "50" or 5e1).
//
//	accountSizeGB               1 to 10240: the quota of accounts created from now on
//	seatLimit                   0 (none) or the most active users the IdP may provision
//	deactivation                "suspend" (default) or "preserve": what active=false does
//	deletion                    "delete" (default) or "preserve": what DELETE does
//	retentionDays               0 (keep until purged) to 3650: how long preserved users are kept
//	protected                   userNames or ids the IdP may never deactivate or delete
//	allowedDomains              the only userName domains the IdP may provision ([] for any)
//	pendingUntilLogin           keep new users pending until their first login
//	idpMayReactivatePreserved   let the IdP reactivate users an admin preserved
type settingsRequest struct {
	AccountSizeGB             json.RawMessage      `json:"accountSizeGB"`
	SeatLimit                 json.RawMessage      `json:"seatLimit"`
	Deactivation              *scimkit.Disposition `json:"deactivation"`
	Deletion                  *scimkit.Disposition `json:"deletion"`
	RetentionDays             json.RawMessage      `json:"retentionDays"`
	Protected                 *[]string            `json:"protected"`
	AllowedDomains            *[]string            `json:"allowedDomains"`
	PendingUntilLogin         *bool                `json:"pendingUntilLogin"`
	IdPMayReactivatePreserved *bool                `json:"idpMayReactivatePreserved"`
}

// maxSettingsBody bounds the settings body (protected users and domains
// may be long lists).
const maxSettingsBody = 256 << 10

func (a *app) putSettings(w http.ResponseWriter, r *http.Request, tenant string) error {
	var req settingsRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSettingsBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return errBadRequest.withMessage("the body must be a JSON object like {\"accountSizeGB\": 50, \"seatLimit\": 25}: " + jsonProblem(err))
	}
	if dec.More() {
		return errBadRequest.withMessage("the body must hold one JSON object")
	}
	ch := settingsChange{
		Deactivation: req.Deactivation, Deletion: req.Deletion, Protected: req.Protected, AllowedDomains: req.AllowedDomains,
		PendingUntilLogin: req.PendingUntilLogin, IdPMayReactivatePreserved: req.IdPMayReactivatePreserved,
	}
	for _, f := range []struct {
		raw json.RawMessage
		dst **int
		msg string
	}{
		{req.AccountSizeGB, &ch.AccountSizeGB, fmt.Sprintf("accountSizeGB must be an integer from 1 to %d", maxAccountSizeGB)},
		{req.SeatLimit, &ch.SeatLimit, "seatLimit must be 0 (no limit) or a positive integer"},
		{req.RetentionDays, &ch.RetentionDays, "retentionDays must be an integer from 0 to 3650"},
	} {
		if raw := bytes.TrimSpace(f.raw); len(raw) > 0 {
			n, err := strconv.Atoi(string(raw))
			if err != nil {
				return errBadRequest.withMessage(f.msg)
			}
			*f.dst = &n
		}
	}
	if err := a.applySettings(r.Context(), tenant, ch); err != nil {
		return err
	}
	return a.getStatus(w, r, tenant)
}

// settingsChange is a change of a tenant's SCIM settings, as the JSON
// API and the dashboard's settings form give it: nil fields keep their
// value.
type settingsChange struct {
	AccountSizeGB, SeatLimit, RetentionDays      *int
	Deactivation, Deletion                       *scimkit.Disposition
	Protected, AllowedDomains                    *[]string
	PendingUntilLogin, IdPMayReactivatePreserved *bool
}

// applySettings checks and stores ch: the provisioning policy through
// scimkit, the account size in the product. Bad values are an *apiError
// (400) and change nothing.
func (a *app) applySettings(ctx context.Context, tenant string, ch settingsChange) error {
	if ch.AccountSizeGB == nil && ch.SeatLimit == nil && ch.RetentionDays == nil && ch.Deactivation == nil &&
		ch.Deletion == nil && ch.Protected == nil && ch.AllowedDomains == nil && ch.PendingUntilLogin == nil &&
		ch.IdPMayReactivatePreserved == nil {
		return errBadRequest.withMessage("give at least one setting, e.g. {\"accountSizeGB\": 50}")
	}
	if gb := ch.AccountSizeGB; gb != nil && (*gb < 1 || *gb > maxAccountSizeGB) {
		return errBadRequest.withMessage(fmt.Sprintf("accountSizeGB must be an integer from 1 to %d", maxAccountSizeGB))
	}
	if n := ch.SeatLimit; n != nil && (*n < 0 || *n > 1<<31-1) {
		return errBadRequest.withMessage("seatLimit must be 0 (no limit) or a positive integer")
	}
	if n := ch.RetentionDays; n != nil && (*n < 0 || *n > 1<<31-1) {
		return errBadRequest.withMessage("retentionDays must be an integer from 0 to 3650")
	}
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	pol, err := a.scim.Policy(ctx, tenant)
	if err != nil {
		return err
	}
	changed := false
	set := func(dst *int, v *int) {
		if v != nil {
			*dst, changed = *v, true
		}
	}
	set(&pol.SeatLimit, ch.SeatLimit)
	set(&pol.RetentionDays, ch.RetentionDays)
	if ch.Deactivation != nil {
		pol.Deactivation, changed = *ch.Deactivation, true
	}
	if ch.Deletion != nil {
		pol.Deletion, changed = *ch.Deletion, true
	}
	if ch.Protected != nil {
		pol.Protected, changed = *ch.Protected, true
	}
	if ch.AllowedDomains != nil {
		pol.AllowedDomains, changed = *ch.AllowedDomains, true
	}
	if ch.PendingUntilLogin != nil {
		pol.PendingUntilLogin, changed = *ch.PendingUntilLogin, true
	}
	if ch.IdPMayReactivatePreserved != nil {
		pol.IdPMayReactivatePreserved, changed = *ch.IdPMayReactivatePreserved, true
	}
	if changed {
		if err := a.scim.SetPolicy(ctx, tenant, pol); err != nil {
			var pe *scimkit.PolicyError
			if errors.As(err, &pe) {
				return errBadRequest.withMessage(pe.Field + ": " + pe.Reason)
			}
			return err
		}
		a.log.InfoContext(ctx, "scim policy set", "tenant", tenant, "seatLimit", pol.SeatLimit,
			"deactivation", string(pol.Deactivation), "deletion", string(pol.Deletion), "retentionDays", pol.RetentionDays)
	}
	if gb := ch.AccountSizeGB; gb != nil {
		if err := a.product.setAccountSize(ctx, tenant, *gb); err != nil {
			return err
		}
		a.log.InfoContext(ctx, "account size set", "tenant", tenant, "accountSizeGB", *gb)
	}
	return nil
}

// jsonProblem describes a decoding error without echoing the body.
func jsonProblem(err error) string {
	var mbe *http.MaxBytesError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return "body too large"
	case errors.As(err, &te):
		return "not a JSON object"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "not valid JSON"
}

// tokenInfo describes a credential: never its token or hash. Times are
// RFC 3339; expires and lastUsed are null for "never".
type tokenInfo struct {
	ID       string     `json:"id"`
	Label    string     `json:"label"`
	Created  time.Time  `json:"created"`
	Expires  *time.Time `json:"expires"`
	LastUsed *time.Time `json:"lastUsed"`
	Expired  bool       `json:"expired"`
}

func (a *app) tokenInfo(c storage.Credential) tokenInfo {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return tokenInfo{ID: c.ID, Label: c.Label, Created: c.Created, Expires: opt(c.Expires), LastUsed: opt(c.LastUsed), Expired: c.Expired(a.cfg.now())}
}

// tokenResponse is shown once: backupd keeps only the token's hash.
type tokenResponse struct {
	tokenInfo
	Tenant       string `json:"tenant"`
	Token        string `json:"token"`
	TenantURL    string `json:"tenantURL"`
	PerTenantURL string `json:"perTenantURL"`
	Note         string `json:"note"`
}

// The bounds of expiresInDays and overlapHours.
const (
	defaultTokenDays = 365
	maxTokenDays     = 3650
	maxOverlapHours  = 24 * 30
)

// tokenRequest is the body of the token routes; every field is optional.
// Numbers are kept raw so that only JSON integers are accepted.
type tokenRequest struct {
	Label         *string         `json:"label"`
	ExpiresInDays json.RawMessage `json:"expiresInDays"`
	OverlapHours  json.RawMessage `json:"overlapHours"`
}

// parsed is a checked tokenRequest.
type parsedTokenRequest struct {
	opts    []scimkit.TokenOption
	overlap time.Duration
}

// readTokenRequest reads an optional JSON body; defOverlap applies when
// it holds no overlapHours.
func (a *app) readTokenRequest(w http.ResponseWriter, r *http.Request, defOverlap time.Duration) (parsedTokenRequest, error) {
	var req tokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		return parsedTokenRequest{}, errBadRequest.withMessage("the body must be a JSON object like {\"label\": \"Entra\", \"expiresInDays\": 365}: " + jsonProblem(err))
	}
	if dec.More() {
		return parsedTokenRequest{}, errBadRequest.withMessage("the body must hold one JSON object")
	}
	p := parsedTokenRequest{opts: []scimkit.TokenOption{scimkit.WithTokenClock(a.cfg.now)}, overlap: defOverlap}
	if req.Label != nil {
		if *req.Label == devTokenLabel {
			return parsedTokenRequest{}, errBadRequest.withMessage("the label " + devTokenLabel + " is reserved for the -dev-token flag")
		}
		p.opts = append(p.opts, scimkit.WithTokenLabel(*req.Label))
	}
	days, err := jsonInt(req.ExpiresInDays, defaultTokenDays, 1, maxTokenDays)
	if err != nil {
		return parsedTokenRequest{}, errBadRequest.withMessage(fmt.Sprintf("expiresInDays must be an integer from 1 to %d (default %d)", maxTokenDays, defaultTokenDays))
	}
	p.opts = append(p.opts, scimkit.WithTokenLifetime(time.Duration(days)*24*time.Hour))
	hours, err := jsonInt(req.OverlapHours, int(defOverlap/time.Hour), 0, maxOverlapHours)
	if err != nil {
		return parsedTokenRequest{}, errBadRequest.withMessage(fmt.Sprintf("overlapHours must be an integer from 0 to %d", maxOverlapHours))
	}
	p.overlap = time.Duration(hours) * time.Hour
	return p, nil
}

// jsonInt reads a raw JSON integer in [lo, hi]; absent gives def.
func jsonInt(raw json.RawMessage, def, lo, hi int) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return def, nil
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < lo || n > hi {
		return 0, errBadRequest
	}
	return n, nil
}

// tokenError turns a scimkit token error into an API error: a bad label
// is the admin's mistake, an unknown id a 404.
func tokenError(err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound.withMessage("no such token")
	case err != nil && strings.HasPrefix(err.Error(), "scim: token label"):
		return errBadRequest.withMessage(strings.TrimPrefix(err.Error(), "scim: "))
	}
	return err
}

// createCredential adds a token for the admin API and the dashboard;
// the tenant's other tokens keep working. SCIM must be enabled.
func (a *app) createCredential(ctx context.Context, tenant string, opts []scimkit.TokenOption) (string, storage.Credential, error) {
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	if err := a.requireEnabled(ctx, tenant); err != nil {
		return "", storage.Credential{}, err
	}
	tok, c, err := scimkit.GenerateToken(ctx, a.tokens, tenant, opts...)
	if err != nil {
		return "", storage.Credential{}, tokenError(err)
	}
	a.log.InfoContext(ctx, "scim token created", "tenant", tenant, "credential", c.ID)
	return tok, c, nil
}

// revokeCredential revokes one token at once (admin API and dashboard).
func (a *app) revokeCredential(ctx context.Context, tenant, id string) error {
	if !storableText(id) {
		return tokenError(storage.ErrNotFound)
	}
	if err := scimkit.RevokeToken(ctx, a.tokens, tenant, id); err != nil {
		return tokenError(err)
	}
	a.log.InfoContext(ctx, "scim token revoked", "tenant", tenant, "credential", id)
	return nil
}

// storableText reports whether s can be a query argument on every store:
// PostgreSQL refuses text that is not UTF-8 or holds a NUL with an error,
// which would be a 500 for what is only a bad id or search.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// requireEnabled refuses token routes while SCIM is off.
func (a *app) requireEnabled(ctx context.Context, tenant string) error {
	s, err := a.product.settings(ctx, tenant)
	if err != nil {
		return err
	}
	if !s.SCIMEnabled {
		return errSCIMDisabled
	}
	return nil
}

// writeNewToken answers with a token, shown once.
func (a *app) writeNewToken(w http.ResponseWriter, r *http.Request, status int, tenant, tok string, c storage.Credential, note string) error {
	st, err := a.status(r, tenant)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, tokenResponse{
		tokenInfo:    a.tokenInfo(c),
		Tenant:       tenant,
		Token:        tok,
		TenantURL:    st.TenantURL,
		PerTenantURL: st.PerTenantURL,
		Note:         "shown once: paste it into the identity provider now (Entra \"Secret Token\", Okta \"API Token\"); " + note,
	})
	return nil
}

// createToken adds a token; the tenant's other tokens keep working.
func (a *app) createToken(w http.ResponseWriter, r *http.Request, tenant string) error {
	req, err := a.readTokenRequest(w, r, 0)
	if err != nil {
		return err
	}
	tok, c, err := a.createCredential(r.Context(), tenant, req.opts)
	if err != nil {
		return err
	}
	return a.writeNewToken(w, r, http.StatusCreated, tenant, tok, c, "the tenant's other tokens keep working")
}

type tokensResponse struct {
	Tenant string      `json:"tenant"`
	Tokens []tokenInfo `json:"tokens"`
}

func (a *app) listTokens(w http.ResponseWriter, r *http.Request, tenant string) error {
	cs, err := scimkit.ListTokens(r.Context(), a.tokens, tenant)
	if err != nil {
		return err
	}
	out := tokensResponse{Tenant: tenant, Tokens: []tokenInfo{}}
	for _, c := range cs {
		out.Tokens = append(out.Tokens, a.tokenInfo(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// revokeToken revokes one token at once.
func (a *app) revokeToken(w http.ResponseWriter, r *http.Request, tenant string) error {
	if err := a.revokeCredential(r.Context(), tenant, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateToken replaces one token; the old one expires after the overlap
// (default 24 hours), time enough to paste the new one into the IdP.
func (a *app) rotateToken(w http.ResponseWriter, r *http.Request, tenant string) error {
	req, err := a.readTokenRequest(w, r, 24*time.Hour)
	if err != nil {
		return err
	}
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	if err := a.requireEnabled(r.Context(), tenant); err != nil {
		return err
	}
	id := r.PathValue("id")
	if !storableText(id) {
		return tokenError(storage.ErrNotFound)
	}
	tok, c, err := scimkit.RotateToken(r.Context(), a.tokens, tenant, id, req.overlap, req.opts...)
	if err != nil {
		return tokenError(err)
	}
	a.log.InfoContext(r.Context(), "scim token rotated", "tenant", tenant, "credential", c.ID, "replaces", id, "overlap", req.overlap)
	return a.writeNewToken(w, r, http.StatusCreated, tenant, tok, c,
		fmt.Sprintf("the token it replaces stops working after %s", req.overlap))
}

// newToken is the dashboard's "Generate API token": a new token, and the
// tenant's other tokens expire after overlapHours (default 0: at once).
func (a *app) newToken(w http.ResponseWriter, r *http.Request, tenant string) error {
	req, err := a.readTokenRequest(w, r, 0)
	if err != nil {
		return err
	}
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	if err := a.requireEnabled(r.Context(), tenant); err != nil {
		return err
	}
	others, err := scimkit.ListTokens(r.Context(), a.tokens, tenant)
	if err != nil {
		return err
	}
	tok, c, err := scimkit.GenerateToken(r.Context(), a.tokens, tenant, append([]scimkit.TokenOption{scimkit.WithTokenLabel("dashboard")}, req.opts...)...)
	if err != nil {
		return tokenError(err)
	}
	for _, o := range others {
		if req.overlap == 0 {
			err = a.tokens.RevokeCredential(r.Context(), tenant, o.ID)
		} else {
			err = a.tokens.ExpireCredential(r.Context(), tenant, o.ID, c.Created.Add(req.overlap))
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	a.log.InfoContext(r.Context(), "scim token generated", "tenant", tenant, "credential", c.ID, "overlap", req.overlap)
	note := "generating a new token invalidates this one"
	if req.overlap > 0 {
		note = fmt.Sprintf("the previous tokens stop working after %s", req.overlap)
	}
	return a.writeNewToken(w, r, http.StatusOK, tenant, tok, c, note)
}

type accountsResponse struct {
	Tenant   string        `json:"tenant"`
	Accounts []accountView `json:"accounts"`
}

func (a *app) listAccounts(w http.ResponseWriter, r *http.Request, tenant string) error {
	accs, err := a.product.accounts(r.Context(), tenant)
	if err != nil {
		return err
	}
	views, err := a.profiles(r.Context(), tenant, accs)
	if err != nil {
		return err
	}
	if err := a.withStates(r, tenant, views); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountsResponse{Tenant: tenant, Accounts: views})
	return nil
}

// getHealth answers the tenant's provisioning health as this instance
// saw it (scimkit.Health): last success and failure, requests and
// failures in the last hour, and a warning when the error rate would get
// an Entra provisioning job quarantined.
func (a *app) getHealth(w http.ResponseWriter, r *http.Request, tenant string) error {
	writeJSON(w, http.StatusOK, a.scim.Health(tenant))
	return nil
}

func writeError(w http.ResponseWriter, e *apiError) { writeJSON(w, e.status, e) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"error":"internal","message":"internal error"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
