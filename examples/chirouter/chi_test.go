// Package chirouter_test mounts scimkit on github.com/go-chi/chi, a
// router that is not net/http.ServeMux, with the tenant in the URL.
package chirouter_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

func TestChi(t *testing.T) {
	const user = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"adele.vance@contoso.com"}`
	mounts := map[string]func(srv *scimkit.Server) http.Handler{
		"Handle with a catch-all": func(srv *scimkit.Server) http.Handler {
			r := chi.NewRouter()
			r.Handle("/t/{tenant}/scim/v2/*", srv.TenantHandler("tenant"))
			return r
		},
		"Mount": func(srv *scimkit.Server) http.Handler {
			r := chi.NewRouter()
			r.Mount("/t/{tenant}/scim/v2", srv.TenantHandler("tenant"))
			return r
		},
		"Route with URLParam and ServeTenant": func(srv *scimkit.Server) http.Handler {
			r := chi.NewRouter()
			r.Route("/t/{tenant}/scim/v2", func(r chi.Router) {
				r.HandleFunc("/*", func(w http.ResponseWriter, r *http.Request) {
					tenant := chi.URLParam(r, "tenant")
					http.StripPrefix("/t/"+tenant+"/scim/v2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						srv.ServeTenant(w, r, tenant)
					})).ServeHTTP(w, r)
				})
			})
			return r
		},
	}
	for name, mount := range mounts {
		t.Run(name, func(t *testing.T) {
			store := memory.New()
			n := 0
			srv, err := scimkit.New(store, store, scimkit.WithIDGenerator(func() string { n++; return "user-" + strconv.Itoa(n) }))
			require.NoError(t, err)
			require.NoError(t, scimkit.SetToken(context.Background(), store, "acme", "acme-token"))
			require.NoError(t, scimkit.SetToken(context.Background(), store, "globex", "globex-token"))
			h := mount(srv)
			const base = "https://scim.example.com/t/acme/scim/v2"

			rec := do(h, http.MethodPost, base+"/Users", "acme-token", user)
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			assert.Equal(t, base+"/Users/user-1", rec.Header().Get("Location"))
			assert.Equal(t, base+"/Users/user-1", location(t, rec))

			rec = do(h, http.MethodGet, base+"/Users/user-1", "acme-token", "")
			assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, base+"/Users/user-1", location(t, rec))

			rec = do(h, http.MethodGet, base+"/ServiceProviderConfig", "acme-token", "")
			assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, base+"/ServiceProviderConfig", location(t, rec))

			rec = do(h, http.MethodGet, base+"/Users/user-1", "globex-token", "")
			assert.Equal(t, http.StatusUnauthorized, rec.Code, "another tenant's token")

			rec = do(h, http.MethodGet, "https://scim.example.com/t/globex/scim/v2/Users/user-1", "globex-token", "")
			assert.Equal(t, http.StatusNotFound, rec.Code, "another tenant's id")
		})
	}
}

func do(h http.Handler, method, target, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func location(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var doc struct {
		Meta struct {
			Location string `json:"location"`
		} `json:"meta"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc), rec.Body.String())
	return doc.Meta.Location
}
