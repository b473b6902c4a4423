package scimkit_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUserGroupsRendered: a user's readOnly "groups" (RFC 7643 §4.1.2) is
// answered from the member index on GET, PUT and PATCH of one user, with
// type "direct"; projections apply; groups sent by a client are ignored.
func TestUserGroupsRendered(t *testing.T) {
	srv, _ := newTestServer(t)
	id := idOf(t, serve(t, srv, http.MethodPost, "/Users", `{"userName":"ada","groups":[{"value":"forged"}]}`).Body.String())
	loner := idOf(t, serve(t, srv, http.MethodPost, "/Users", `{"userName":"loner"}`).Body.String())
	g1 := idOf(t, serve(t, srv, http.MethodPost, "/Groups", `{"displayName":"Admins","members":[{"value":"`+id+`"}]}`).Body.String())
	g2 := idOf(t, serve(t, srv, http.MethodPost, "/Groups", `{"displayName":"Ops"}`).Body.String())
	require.Equal(t, http.StatusNoContent, serve(t, srv, http.MethodPatch, "/Groups/"+g2,
		patchBody(`{"op":"add","path":"members","value":[{"value":"`+id+`"}]}`)).Code)
	want := []any{
		map[string]any{"value": g1, "$ref": "http://scim.test/Groups/" + g1, "type": "direct", "display": "Admins"},
		map[string]any{"value": g2, "$ref": "http://scim.test/Groups/" + g2, "type": "direct", "display": "Ops"},
	}

	for _, tc := range []struct {
		name, method, path, body string
		want                     any
	}{
		{"GET", http.MethodGet, "/Users/" + id, "", want},
		{"PATCH response", http.MethodPatch, "/Users/" + id, patchBody(`{"op":"replace","path":"title","value":"Eng"}`), want},
		{"PUT response, groups sent are ignored", http.MethodPut, "/Users/" + id, `{"userName":"ada","groups":[]}`, want},
		{"excludedAttributes=groups", http.MethodGet, "/Users/" + id + "?excludedAttributes=groups", "", nil},
		{"attributes=userName", http.MethodGet, "/Users/" + id + "?attributes=userName", "", nil},
		{"attributes=groups", http.MethodGet, "/Users/" + id + "?attributes=groups", "", want},
		{"no groups, no attribute", http.MethodGet, "/Users/" + loner, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(t, srv, tc.method, tc.path, tc.body)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, tc.want, decode(t, w.Body.String())["groups"])
		})
	}
	// Leaving a group shows at once; deleting one too.
	require.Equal(t, http.StatusNoContent, serve(t, srv, http.MethodDelete, "/Groups/"+g1, "").Code)
	assert.Equal(t, want[1:], decode(t, serve(t, srv, http.MethodGet, "/Users/"+id, "").Body.String())["groups"])
}
