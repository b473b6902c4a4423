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
	"github.com/scimkit/scimkit/storage"
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

// TestUndecodableQuery: a list whose query string does not decode is
// refused. url.Values dropped the broken pair, so the filter vanished and
// the answer was every user of the tenant: a userName lookup an IdP takes
// as a match (Entra then updates the first user returned).
func TestUndecodableQuery(t *testing.T) {
	srv, store := newTestServer(t)
	createDirect(t, srv, "adele.vance@contoso.com")
	createDirect(t, srv, "alex.wilber@contoso.com")
	cases := []struct {
		query, scimType string
	}{
		{`filter=userName%20eq%20%22nobody%ZZ%22`, "invalidFilter"},
		{`filter=userName%20eq%20%22nobody%22;x=1`, "invalidFilter"},
		{`filter=userName%20eq%20%22100%%22`, "invalidFilter"},
		{`count=1&startIndex=%ZZ`, "invalidValue"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://scim.test/Users?"+tc.query, nil)
			r.Header.Set("Authorization", "Bearer "+acmeToken)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
			var doc map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
			assert.Equal(t, []any{errorURN}, doc["schemas"])
			assert.Equal(t, "400", doc["status"])
			assert.Equal(t, tc.scimType, doc["scimType"])
		})
	}
	page, err := store.List(t.Context(), "acme", storage.Query{Kind: storage.KindUser, StartIndex: 1, Count: 10})
	require.NoError(t, err)
	assert.Equal(t, 2, page.Total, "nothing changed")
}

// TestListQuerySpelling: a list parameter spelt in another case is read
// as the RFC's (an ignored "Filter" answered every user to a lookup, as
// an undecodable one did), one given twice in any spelling is refused,
// and a startIndex or count past the int range is clamped, not refused.
func TestListQuerySpelling(t *testing.T) {
	srv, _ := newTestServer(t)
	createDirect(t, srv, "adele.vance@contoso.com")
	createDirect(t, srv, "alex.wilber@contoso.com")
	cases := []struct {
		query    string
		status   int
		scimType string
		total    float64
		items    float64
	}{
		{query: `Filter=userName%20eq%20%22nobody%22`, status: 200, total: 0, items: 0},
		{query: `FILTER=userName%20eq%20%22adele.vance@contoso.com%22`, status: 200, total: 1, items: 1},
		{query: `filter=userName%20eq%20%22adele.vance@contoso.com%22&Count=0`, status: 200, total: 1, items: 0},
		{query: `filter=userName%20eq%20%22nobody%22&Filter=userName%20pr`, status: 400, scimType: "invalidFilter"},
		{query: `filter=userName%20pr&filter=userName%20pr`, status: 400, scimType: "invalidFilter"},
		{query: `count=1&COUNT=2`, status: 400, scimType: "invalidValue"},
		{query: `startIndex=99999999999999999999999`, status: 200, total: 2, items: 0},
		{query: `count=99999999999999999999999`, status: 200, total: 2, items: 2},
		{query: `count=-99999999999999999999999`, status: 200, total: 2, items: 0},
		{query: `count=ten`, status: 400, scimType: "invalidValue"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://scim.test/Users?"+tc.query, nil)
			r.Header.Set("Authorization", "Bearer "+acmeToken)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			var doc map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
			if tc.status != 200 {
				assert.Equal(t, tc.scimType, doc["scimType"])
				return
			}
			assert.Equal(t, tc.total, doc["totalResults"])
			res, _ := doc["Resources"].([]any)
			assert.Len(t, res, int(tc.items))
		})
	}
}
