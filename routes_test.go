package scimkit_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
)

// TestUncleanPaths: a path with doubled slashes is served as its clean
// form, and one with "." or ".." segments is a SCIM 404. net/http's mux
// answered both with an HTML 307 redirect to a Location that drops the
// host's mount prefix ("/Users" for "/scim/v2//Users"). The server is
// called directly, as a router that does not clean paths (chi) calls it.
func TestUncleanPaths(t *testing.T) {
	srv, _ := newTestServer(t)
	id := createDirect(t, srv, "adele.vance@contoso.com")
	cases := []struct {
		path   string
		status int
		wantID bool // the answer is the user
	}{
		{path: "//Users", status: http.StatusOK},
		{path: "/Users//" + id, status: http.StatusOK, wantID: true},
		{path: "//users///" + id + "//", status: http.StatusOK, wantID: true},
		{path: "/Users/./" + id, status: http.StatusNotFound},
		{path: "/Users/" + id + "/.", status: http.StatusNotFound},
		{path: "/Users/x/..", status: http.StatusNotFound},
		{path: "/Users/../Groups", status: http.StatusNotFound},
		{path: "/./Users", status: http.StatusNotFound},
		{path: "/Groups/..", status: http.StatusNotFound},
		{path: "/Users/%2e%2e", status: http.StatusNotFound}, // an id "..": no such user
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://scim.test"+tc.path, nil)
			r.Header.Set("Authorization", "Bearer "+acmeToken)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, scimJSON, w.Header().Get("Content-Type"))
			assert.Empty(t, w.Header().Get("Location"))
			var doc map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc), w.Body.String())
			if tc.status != http.StatusOK {
				assert.Equal(t, []any{errorURN}, doc["schemas"])
				assert.Equal(t, "404", doc["status"])
			}
			if tc.wantID {
				assert.Equal(t, id, doc["id"])
			}
		})
	}
}

// TestMethodNotAllowedAllow: a 405 names the methods the endpoint serves
// in an Allow header (RFC 9110 §15.5.6: "MUST generate an Allow header").
func TestMethodNotAllowedAllow(t *testing.T) {
	srv, _ := newTestServer(t)
	cases := []struct {
		method, path, allow string
	}{
		{http.MethodPut, "/Users", "GET, HEAD, POST"},
		{http.MethodDelete, "/Groups", "GET, HEAD, POST"},
		{http.MethodOptions, "/Users", "GET, HEAD, POST"},
		{http.MethodPost, "/Users/some-id", "GET, HEAD, PUT, PATCH, DELETE"},
		{http.MethodPatch, "/ServiceProviderConfig", "GET, HEAD"},
		{http.MethodPost, "/Schemas", "GET, HEAD"},
		{http.MethodDelete, "/ResourceTypes/User", "GET, HEAD"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://scim.test"+tc.path, strings.NewReader("{}"))
			r.Header.Set("Authorization", "Bearer "+acmeToken)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			require.Equal(t, http.StatusMethodNotAllowed, w.Code, w.Body.String())
			assert.Equal(t, tc.allow, w.Header().Get("Allow"))
			assert.Equal(t, scimJSON, w.Header().Get("Content-Type"))
			assert.Contains(t, w.Body.String(), `"status":"405"`)
		})
	}
}

// createDirect creates a user of acme through srv and returns its id.
func createDirect(t *testing.T, srv *scimkit.Server, userName string) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://scim.test/Users",
		strings.NewReader(`{"schemas":["`+userURN+`"],"userName":"`+userName+`"}`))
	r.Header.Set("Authorization", "Bearer "+acmeToken)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var doc struct{ ID string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	return doc.ID
}
