package scimkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

// tinyRouter is a router of the test's own, in the style of the
// third-party ones: it matches "/t/{tenant}/scim/v2/..." by hand, hands
// the tenant over with r.SetPathValue and sets r.Pattern to pattern (""
// like most routers, or chi's "/t/{tenant}/scim/v2/*").
type tinyRouter struct {
	h       http.Handler
	pattern string
}

func (tr tinyRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.SplitN(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/", 5)
	if len(segs) < 5 || segs[0] != "t" || segs[2] != "scim" || segs[3] != "v2" {
		http.NotFound(w, r)
		return
	}
	r2 := r.Clone(r.Context())
	r2.SetPathValue("tenant", segs[1])
	r2.Pattern = tr.pattern
	tr.h.ServeHTTP(w, r2)
}

// mounts are the ways a host mounts a Server with the tenant in the URL
// under /t/{tenant}/scim/v2.
func mounts(srv *scimkit.Server) map[string]http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant"))
	rest := http.NewServeMux()
	rest.Handle("/t/{tenant}/scim/v2/{rest...}", srv.TenantHandler("tenant"))
	strip := http.NewServeMux()
	strip.HandleFunc("/t/{tenant}/scim/v2/", func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant")
		http.StripPrefix("/t/"+tenant+"/scim/v2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			srv.ServeTenant(w, r, tenant)
		})).ServeHTTP(w, r)
	})
	return map[string]http.Handler{
		"net/http ServeMux":                            mux,
		"net/http ServeMux with a {rest...} wildcard":  rest,
		"router setting path values without a pattern": tinyRouter{h: srv.TenantHandler("tenant")},
		"router setting a chi-style pattern":           tinyRouter{h: srv.TenantHandler("tenant"), pattern: "/t/{tenant}/scim/v2/*"},
		"http.StripPrefix and ServeTenant":             strip,
	}
}

func TestTenantRouting(t *testing.T) {
	const (
		base = "https://scim.example.com/t/acme/scim/v2"
		user = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"adele.vance@contoso.com"}`
	)
	for name := range mounts(nil) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := memory.New()
			srv, err := scimkit.New(store, store, scimkit.WithClock(exampleClock), scimkit.WithIDGenerator(exampleIDs()))
			require.NoError(t, err)
			require.NoError(t, scimkit.SetToken(ctx, store, "acme", "acme-token"))
			require.NoError(t, scimkit.SetToken(ctx, store, "globex", "globex-token"))
			h := mounts(srv)[name]

			rec := send(h, http.MethodPost, base+"/Users", "acme-token", user)
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			assert.Equal(t, base+"/Users/user-1", rec.Header().Get("Location"))
			assert.Equal(t, base+"/Users/user-1", metaLocation(t, rec.Body.Bytes()))

			rec = send(h, http.MethodGet, base+"/users/user-1", "acme-token", "")
			assert.Equal(t, http.StatusOK, rec.Code, "endpoint in another case: %s", rec.Body)
			assert.Equal(t, base+"/Users/user-1", metaLocation(t, rec.Body.Bytes()))

			rec = send(h, http.MethodGet, base+"/ServiceProviderConfig", "acme-token", "")
			assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, base+"/ServiceProviderConfig", metaLocation(t, rec.Body.Bytes()))

			rec = send(h, http.MethodGet, base+"/Users/user-1", "globex-token", "")
			assert.Equal(t, http.StatusUnauthorized, rec.Code, "another tenant's token")

			rec = send(h, http.MethodGet, "https://scim.example.com/t/globex/scim/v2/Users/user-1", "globex-token", "")
			assert.Equal(t, http.StatusNotFound, rec.Code, "another tenant's id")

			rec = send(h, http.MethodGet, "https://scim.example.com/t/a%20b/scim/v2/Users", "acme-token", "")
			assert.Equal(t, http.StatusNotFound, rec.Code, "an invalid tenant id")

			rec = send(h, http.MethodGet, base+"/Nope", "acme-token", "")
			assert.Equal(t, http.StatusNotFound, rec.Code, "an unknown endpoint")
			assert.Contains(t, rec.Body.String(), "unknown endpoint")
		})
	}
}

// TestServeTenantBaseURL: behind a proxy the configured origin replaces
// the request's, and the stripped prefix is still appended.
func TestServeTenantBaseURL(t *testing.T) {
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithBaseURL("https://public.example.com"), scimkit.WithIDGenerator(exampleIDs()))
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(context.Background(), store, "acme", "acme-token"))
	for name, h := range mounts(srv) {
		t.Run(name, func(t *testing.T) {
			rec := send(h, http.MethodGet, "http://10.0.0.7:8080/t/acme/scim/v2/ServiceProviderConfig", "acme-token", "")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "https://public.example.com/t/acme/scim/v2/ServiceProviderConfig", metaLocation(t, rec.Body.Bytes()))
		})
	}
}

func metaLocation(t *testing.T, body []byte) string {
	t.Helper()
	var doc struct {
		Meta struct {
			Location string `json:"location"`
		} `json:"meta"`
	}
	require.NoError(t, json.Unmarshal(body, &doc), "%s", body)
	return doc.Meta.Location
}

// ExampleServer_ServeTenant serves a tenant the host resolved itself, here
// from a subdomain, under http.StripPrefix.
func ExampleServer_ServeTenant() {
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithClock(exampleClock), scimkit.WithIDGenerator(exampleIDs()))
	if err != nil {
		log.Fatal(err)
	}
	if err := scimkit.SetToken(context.Background(), store, "acme", "acme-example-token"); err != nil {
		log.Fatal(err)
	}
	h := http.StripPrefix("/scim/v2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, _, _ := strings.Cut(r.Host, ".") // acme.example.com
		srv.ServeTenant(w, r, tenant)
	}))

	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"adele.vance@contoso.com"}`
	rec := send(h, http.MethodPost, "https://acme.example.com/scim/v2/Users", "acme-example-token", user)
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output:
	// 201 https://acme.example.com/scim/v2/Users/user-1
}
