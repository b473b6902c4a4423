package scimkit

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// TenantHandler serves SCIM for the tenant named by a path wildcard of the
// route the handler is registered under, for tenants that each have their
// own Tenant URL. The route must end with the SCIM base, and the handler
// strips the path up to it itself (no http.StripPrefix needed):
//
//	mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant")) // net/http
//	r.Handle("/t/{tenant}/scim/v2/*", srv.TenantHandler("tenant"))   // chi
//
// The tenant is r.PathValue(wildcard), which net/http.ServeMux and chi set.
// The base is found from the route's pattern (r.Pattern, whose trailing
// "*" or "{name...}" wildcard is ignored) or, when the router leaves no
// pattern, from the path itself: the first segment after the tenant's that
// names a SCIM endpoint (Users, Groups, Schemas, ResourceTypes,
// ServiceProviderConfig, Bulk, Me, in any case) starts the request. For a
// router that sets no path values, or a tenant the host resolves some
// other way, use [Server.ServeTenant].
//
// The token must belong to the tenant in the URL; a token of another
// tenant gets 401, exactly like a wrong token. An invalid tenant id gets
// 404.
func (s *Server) TenantHandler(wildcard string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue(wildcard)
		if validTenant(tenant) != nil {
			s.refuse(w, r, ErrNotFound.WithDetail("unknown tenant"))
			return
		}
		var raw string
		if r.Pattern != "" {
			raw = stripPattern(r.URL.EscapedPath(), r.Pattern)
		} else {
			raw = stripToEndpoint(r.URL.EscapedPath(), tenant)
		}
		rest, err := url.PathUnescape(raw)
		if err != nil {
			s.refuse(w, r, ErrNotFound)
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

// ServeTenant serves one SCIM request for tenant, a tenant the host
// resolved itself: from a route parameter of any router, a subdomain or a
// header. r's URL path must be relative to the SCIM base ("/Users/42"),
// as http.StripPrefix leaves it; meta.location and the Location header
// are then the request's origin (or [WithBaseURL]) plus the part of the
// request path that was stripped. With gorilla/mux, for example:
//
//	r.PathPrefix("/t/{tenant}/scim/v2/").HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		tenant := mux.Vars(r)["tenant"]
//		http.StripPrefix("/t/"+tenant+"/scim/v2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			srv.ServeTenant(w, r, tenant)
//		})).ServeHTTP(w, r)
//	})
//
// The token must belong to tenant; a token of another tenant gets 401,
// exactly like a wrong token. An invalid tenant id (see [GenerateToken])
// gets 404.
func (s *Server) ServeTenant(w http.ResponseWriter, r *http.Request, tenant string) {
	if validTenant(tenant) != nil {
		s.refuse(w, r, ErrNotFound.WithDetail("unknown tenant"))
		return
	}
	s.serve(w, r, tenant)
}

// refuse answers a request refused before authentication, logged and
// observed like every other.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	s.observe(w, r, func(w http.ResponseWriter, r *http.Request, q *request) {
		s.writeError(w, r, err)
	})
}

// stripPattern removes from path as many segments as the route pattern has
// before its trailing slash or trailing catch-all wildcard
// ("GET example.com/t/{tenant}/scim/v2/" and chi's "/t/{tenant}/scim/v2/*"
// both have 4).
func stripPattern(path, pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // drop a host
	}
	if i := strings.LastIndexByte(pattern, '/'); i >= 0 {
		if last := pattern[i+1:]; last == "*" || strings.HasPrefix(last, "{") && strings.HasSuffix(last, "...}") {
			pattern = pattern[:i+1]
		}
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

// stripToEndpoint returns the part of an escaped path that starts at the
// first segment naming a SCIM endpoint after the tenant's segment, or "/"
// when there is none (which the server answers 404).
func stripToEndpoint(path, tenant string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if seg != tenant {
			continue
		}
		for j := i + 1; j < len(segs); j++ {
			if isEndpoint(segs[j]) {
				return "/" + strings.Join(segs[j:], "/")
			}
		}
		break
	}
	return "/"
}

// isEndpoint reports whether seg names a SCIM endpoint, in any case.
func isEndpoint(seg string) bool {
	for _, e := range [...]string{"Users", "Groups", "Schemas", "ResourceTypes", "ServiceProviderConfig", "ServiceProviderConfigs", "Bulk", "Me"} {
		if strings.EqualFold(seg, e) {
			return true
		}
	}
	return false
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
