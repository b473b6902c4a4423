package scimkit

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// A Server finds the tenant of a request in one of two ways.
//
//   - From the token: mount the Server itself, e.g.
//     mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv)). Every
//     tenant uses the same Tenant URL; the bearer token names the tenant.
//   - From the URL: mount [Server.TenantHandler] on a pattern with a tenant
//     wildcard, e.g. mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant")).
//     The token must then belong to that tenant; a token of another tenant
//     gets 401, exactly like a wrong token.
//
// Either way one tenant never sees another's data: every storage call
// carries the tenant, and an id of another tenant is simply not found (404).

// TenantHandler serves SCIM for the tenant named by the wildcard of the
// http.ServeMux pattern the handler is registered under. The handler strips
// the pattern's segments from the path itself (no http.StripPrefix needed),
// so the pattern must end with the SCIM base, e.g. "/t/{tenant}/scim/v2/".
func (s *Server) TenantHandler(wildcard string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue(wildcard)
		if validTenant(tenant) != nil {
			s.writeError(w, r, ErrNotFound.WithDetail("unknown tenant"))
			return
		}
		raw := stripPattern(r.URL.EscapedPath(), r.Pattern)
		rest, err := url.PathUnescape(raw)
		if err != nil {
			s.writeError(w, r, ErrNotFound)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = rest, ""
		if u.EscapedPath() != raw {
			u.RawPath = raw
		}
		r2.URL = &u
		s.serve(w, r2, tenant)
	})
}

// stripPattern removes from path as many segments as the mux pattern has
// before its trailing slash ("GET example.com/t/{tenant}/scim/v2/" has 4).
func stripPattern(path, pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // drop a host
	}
	n := 0
	if p := strings.Trim(pattern, "/"); p != "" {
		n = strings.Count(p, "/") + 1
	}
	for ; n > 0; n-- {
		i := strings.IndexByte(strings.TrimPrefix(path, "/"), '/')
		if i < 0 {
			return "/"
		}
		path = strings.TrimPrefix(path, "/")[i:]
	}
	return path
}

// validTenant checks a tenant id: 1 to 128 bytes of ASCII letters,
// digits and "-_.", beginning with a letter or digit (so never "." or
// "..", which a host might take for a directory). The same rule applies
// whether the id comes from the host or a URL.
func validTenant(t string) error {
	if t == "" || len(t) > 128 {
		return errors.New("scim: tenant id must have 1 to 128 bytes")
	}
	for i, c := range []byte(t) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return errors.New("scim: tenant id may hold only letters, digits and -_., and must begin with a letter or digit")
		}
	}
	return nil
}
