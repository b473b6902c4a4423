package scimkit_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
)

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// entraRoleUser is Entra's documented role-mapping create body (IDP.md
// §1, E5): roles carry a displayName, which RFC 7643 §4.1.2 does not
// define for roles.
const entraRoleUser = `{"schemas":["` + userURN + `"],"userName":"role.user@contoso.com","active":true,
 "roles":[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","displayName":"Confidential Role Label","value":"Admin"}]}`

// TestUnknownAttributesAreDropped: by default a request carrying
// attributes no registered schema defines is accepted; the unknown parts
// are dropped, counted per tenant and attribute, and logged at info level
// with the tenant (never the value). WithStrictAttributes refuses them.
func TestUnknownAttributesAreDropped(t *testing.T) {
	type step struct {
		method, path, body string
		status             int
	}
	cases := []struct {
		name    string
		steps   []step // {{id}} is the user created first
		want    map[string]any
		dropped []string // attributes counted as dropped, sorted
	}{
		{
			name:  "Entra role mapping: roles.displayName is dropped, the role kept",
			steps: []step{{"POST", "/Users", entraRoleUser, 201}},
			want: map[string]any{"userName": "role.user@contoso.com", "active": true,
				"roles": []any{map[string]any{"primary": false, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}}},
			dropped: []string{"roles.displayName"},
		},
		{
			name: "PUT with a misspelled attribute and an unregistered extension applies the rest",
			steps: []step{{"PUT", "/Users/{{id}}", `{"userName":"pat","displayNmae":"Confidential Role Label","title":"CTO",` +
				`"urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User":{"tag":"Confidential Role Label"}}`, 200}},
			want:    map[string]any{"userName": "pat", "title": "CTO"},
			dropped: []string{"displayNmae", "urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User"},
		},
		{
			name: "PATCH paths and path-less keys naming unknown attributes are dropped; remove of one is a no-op",
			steps: []step{{"PATCH", "/Users/{{id}}", patchBody(
				`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User:tag","value":"Confidential Role Label"},` +
					`{"op":"remove","path":"shoeSize"},` +
					`{"op":"add","path":"name.middleName2","value":"Confidential Role Label"},` +
					`{"op":"replace","path":"emails[type eq \"work\"].label","value":"Confidential Role Label"},` +
					`{"op":"replace","value":{"nickName":"Babs","favouriteColour":"Confidential Role Label"}}`), 200}},
			want: map[string]any{"userName": "pat", "nickName": "Babs", "name": map[string]any{"givenName": "Pat"},
				"emails": []any{map[string]any{"type": "work", "value": "pat@contoso.com"}}},
			dropped: []string{"emails.label", "favouriteColour", "name.middleName2", "shoeSize", "urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User:tag"},
		},
		{
			name: "PATCH value with an unknown sub-attribute keeps the known ones",
			steps: []step{{"PATCH", "/Users/{{id}}", patchBody(
				`{"op":"add","path":"roles","value":[{"type":"WindowsAzureActiveDirectoryRole","displayName":"Confidential Role Label","value":"Admin"}]}`), 200}},
			want: map[string]any{"userName": "pat", "name": map[string]any{"givenName": "Pat"},
				"emails": []any{map[string]any{"type": "work", "value": "pat@contoso.com"}},
				"roles":  []any{map[string]any{"type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}}},
			dropped: []string{"roles.displayName"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs strings.Builder
			var mu sync.Mutex
			srv, _ := newTestServer(t, scimkit.WithLogger(newTestLogger(&logs, &mu)))
			w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"pat","name":{"givenName":"Pat"},"emails":[{"type":"work","value":"pat@contoso.com"}]}`)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			id := idOf(t, w.Body.String())
			for _, s := range tc.steps {
				w = serve(t, srv, s.method, strings.ReplaceAll(s.path, "{{id}}", id), s.body)
				require.Equal(t, s.status, w.Code, w.Body.String())
				id = idOf(t, w.Body.String())
			}
			w = serve(t, srv, http.MethodGet, "/Users/"+id, "")
			require.Equal(t, http.StatusOK, w.Code)
			got := decodeBody(t, w.Body.Bytes())
			for _, k := range []string{"id", "meta", "schemas"} {
				delete(got, k)
			}
			assert.Equal(t, tc.want, got)
			assert.NotContains(t, w.Body.String(), "Confidential Role Label")

			var dropped []string
			for _, n := range srv.Normalizations("acme") {
				if n.Kind != scimkit.DroppedAttribute {
					continue // e.g. capitalisedOp, counted on its own
				}
				assert.Equal(t, int64(1), n.Count, n.Attribute)
				dropped = append(dropped, n.Attribute)
			}
			assert.Equal(t, tc.dropped, dropped)
			assert.Empty(t, srv.Normalizations("globex"), "counts are per tenant")
			mu.Lock()
			defer mu.Unlock()
			assert.Contains(t, logs.String(), "level=INFO")
			assert.Contains(t, logs.String(), "tenant=acme")
			assert.Contains(t, logs.String(), tc.dropped[0])
			assert.NotContains(t, logs.String(), "Confidential Role Label", "values are never logged")
		})
	}

	t.Run("strict: Entra's role mapping is refused and nothing is stored", func(t *testing.T) {
		t.Parallel()
		srv, _ := newTestServer(t, scimkit.WithStrictAttributes())
		w := serve(t, srv, http.MethodPost, "/Users", entraRoleUser)
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		assert.Equal(t, "invalidSyntax", decodeBody(t, w.Body.Bytes())["scimType"])
		assert.Contains(t, w.Body.String(), "roles.displayName")
		w = serve(t, srv, http.MethodGet, "/Users", "")
		assert.Contains(t, w.Body.String(), `"totalResults":0`)
		assert.Empty(t, srv.Normalizations("acme"))
	})

	t.Run("a failed request counts nothing", func(t *testing.T) {
		t.Parallel()
		srv, _ := newTestServer(t)
		w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"pat","shoeSize":"42","active":"maybe"}`)
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		assert.Empty(t, srv.Normalizations("acme"))
	})

	t.Run("distinct attribute names per tenant are bounded", func(t *testing.T) {
		t.Parallel()
		srv, _ := newTestServer(t)
		var b strings.Builder
		b.WriteString(`{"userName":"pat"`)
		for i := range 300 {
			b.WriteString(`,"x` + strings.Repeat("y", i) + `":1`)
		}
		b.WriteString(`}`)
		w := serve(t, srv, http.MethodPost, "/Users", b.String())
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		n := srv.Normalizations("acme")
		assert.LessOrEqual(t, len(n), 257)
		var total int64
		for _, x := range n {
			assert.LessOrEqual(t, len(x.Attribute), 200)
			total += x.Count
		}
		assert.Equal(t, int64(64), total, "one request notes at most 64 attributes")
	})
}
