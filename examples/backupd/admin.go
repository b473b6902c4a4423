package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
)

// The admin API mirrors the dashboard flow "Settings → SCIM → Enable, note
// the Tenant URL, set the account size per provisioned user, Generate API
// token (shown once)":
//
//	GET  /admin/tenants/{tenant}/scim           status (never the token)
//	POST /admin/tenants/{tenant}/scim/enable    enable SCIM, returns the Tenant URLs
//	PUT  /admin/tenants/{tenant}/scim/settings  {"accountSizeGB": 50}
//	POST /admin/tenants/{tenant}/scim/token     new token, shown once; the old one stops working
//	POST /admin/tenants/{tenant}/scim/disable   revoke the token; accounts are kept
//	GET  /admin/tenants/{tenant}/accounts       the backup accounts provisioned users got
//
// Every route needs "Authorization: Bearer <admin token>". Errors are JSON:
// {"error": "<code>", "message": "<text>"}.
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
		{http.MethodPost, "/admin/tenants/{tenant}/scim/disable", a.disable},
		{http.MethodGet, "/admin/tenants/{tenant}/accounts", a.listAccounts},
	}
	for _, rt := range routes {
		m.HandleFunc(rt.method+" "+rt.path, a.tenantRoute(rt.h))
		allow := rt.method
		if allow == http.MethodGet {
			allow += ", HEAD"
		}
		m.HandleFunc(rt.path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, errMethodNotAllowed)
		})
	}
	m.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
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
	errBadTenant        = &apiError{http.StatusBadRequest, "invalid_tenant", "tenant ids are 1 to 64 letters, digits, '-', '_' or '.'"}
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

// validTenant: 1 to 64 letters, digits and "-_.".
func validTenant(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for _, c := range []byte(t) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// scimStatus is the SCIM settings page of a tenant. It never holds the
// token: only whether one is set.
type scimStatus struct {
	Tenant        string `json:"tenant"`
	SCIMEnabled   bool   `json:"scimEnabled"`
	TenantURL     string `json:"tenantURL"`
	PerTenantURL  string `json:"perTenantURL"`
	AccountSizeGB int    `json:"accountSizeGB"`
	TokenSet      bool   `json:"tokenSet"`
	Accounts      int    `json:"accounts"`
}

func (a *app) status(r *http.Request, tenant string) (scimStatus, error) {
	_, err := a.tokens.TokenHash(r.Context(), tenant)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return scimStatus{}, err
	}
	tokenSet := err == nil
	s, err := a.product.settings(r.Context(), tenant)
	if err != nil {
		return scimStatus{}, err
	}
	origin := a.origin(r)
	return scimStatus{
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
	a.adminMu.Lock()
	err := a.product.setSCIMEnabled(r.Context(), tenant, true)
	a.adminMu.Unlock()
	if err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "scim enabled", "tenant", tenant)
	return a.getStatus(w, r, tenant)
}

// disable revokes the token (the IdP gets 401 from now on) and turns SCIM
// off. Backup accounts and SCIM users are kept: re-enabling and generating
// a new token resumes provisioning where it stopped.
func (a *app) disable(w http.ResponseWriter, r *http.Request, tenant string) error {
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	if err := scimkit.RevokeToken(r.Context(), a.tokens, tenant); err != nil {
		return err
	}
	if err := a.product.setSCIMEnabled(r.Context(), tenant, false); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "scim disabled", "tenant", tenant)
	return a.getStatus(w, r, tenant)
}

// settingsRequest is the body of PUT …/scim/settings. AccountSizeGB is kept
// raw so that only a JSON integer is accepted (not 50.5, "50" or 5e1).
type settingsRequest struct {
	AccountSizeGB json.RawMessage `json:"accountSizeGB"`
}

func (a *app) putSettings(w http.ResponseWriter, r *http.Request, tenant string) error {
	var req settingsRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return errBadRequest.withMessage("the body must be a JSON object like {\"accountSizeGB\": 50}: " + jsonProblem(err))
	}
	if dec.More() {
		return errBadRequest.withMessage("the body must hold one JSON object")
	}
	raw := bytes.TrimSpace(req.AccountSizeGB)
	if len(raw) == 0 {
		return errBadRequest.withMessage("accountSizeGB is required")
	}
	gb, err := strconv.Atoi(string(raw))
	if err != nil || gb < 1 || gb > maxAccountSizeGB {
		return errBadRequest.withMessage(fmt.Sprintf("accountSizeGB must be an integer from 1 to %d", maxAccountSizeGB))
	}
	if err := a.product.setAccountSize(r.Context(), tenant, gb); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "account size set", "tenant", tenant, "accountSizeGB", gb)
	return a.getStatus(w, r, tenant)
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

// tokenResponse is shown once: backupd keeps only the token's hash.
type tokenResponse struct {
	Tenant       string `json:"tenant"`
	Token        string `json:"token"`
	TenantURL    string `json:"tenantURL"`
	PerTenantURL string `json:"perTenantURL"`
	Note         string `json:"note"`
}

// newToken generates the tenant's API token; a previous token stops
// working at once.
func (a *app) newToken(w http.ResponseWriter, r *http.Request, tenant string) error {
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	s, err := a.product.settings(r.Context(), tenant)
	if err != nil {
		return err
	}
	if !s.SCIMEnabled {
		return errSCIMDisabled
	}
	tok, err := scimkit.GenerateToken(r.Context(), a.tokens, tenant)
	if err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "scim token generated", "tenant", tenant)
	st, err := a.status(r, tenant)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tokenResponse{
		Tenant:       tenant,
		Token:        tok,
		TenantURL:    st.TenantURL,
		PerTenantURL: st.PerTenantURL,
		Note:         "shown once: paste it into the identity provider now (Entra \"Secret Token\", Okta \"API Token\"); generating a new token invalidates this one",
	})
	return nil
}

type accountsResponse struct {
	Tenant   string    `json:"tenant"`
	Accounts []account `json:"accounts"`
}

func (a *app) listAccounts(w http.ResponseWriter, r *http.Request, tenant string) error {
	accs, err := a.product.accounts(r.Context(), tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountsResponse{Tenant: tenant, Accounts: accs})
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
