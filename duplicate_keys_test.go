package scimkit_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeysDifferingOnlyInCase: attribute names are case-insensitive (RFC
// 7643 §2.1), so a body naming one attribute twice in different case has
// no single meaning; Go's map order used to pick one at random. Such a
// body is refused with 400 invalidSyntax naming both keys, every time. An
// extension object plus flat keys for other attributes of that extension
// merge (Entra's aadOptscim062020 path-less replace sends flat keys).
func TestKeysDifferingOnlyInCase(t *testing.T) {
	const ent = enterpriseURN
	cases := []struct {
		name   string
		method string // POST /Users, or PATCH/PUT on an existing user
		body   string
		status int
		names  []string // the keys the error names
		want   map[string]any
	}{
		{name: "userName and USERNAME", method: "POST", body: `{"userName":"a@x.example","USERNAME":"b@x.example"}`,
			status: 400, names: []string{"USERNAME", "userName"}},
		{name: "enterprise object and a flat key for the same attribute", method: "POST",
			body:   `{"userName":"a@x.example","` + ent + `":{"costCenter":"1"},"` + ent + `:costCenter":"2"}`,
			status: 400, names: []string{ent + ":costCenter"}},
		{name: "extension URN given twice in different case", method: "POST",
			body:   `{"userName":"a@x.example","` + ent + `":{"costCenter":"1"},"` + strings.ToUpper(ent) + `":{"department":"2"}}`,
			status: 400, names: []string{ent, strings.ToUpper(ent)}},
		{name: "one attribute twice inside an extension object", method: "POST",
			body:   `{"userName":"a@x.example","` + ent + `":{"costCenter":"1","COSTCENTER":"2"}}`,
			status: 400, names: []string{ent + ":COSTCENTER", ent + ":costCenter"}},
		{name: "one attribute twice inside a path-less PATCH extension object", method: "PATCH",
			body:   patchBody(`{"op":"add","value":{"` + ent + `":{"costCenter":"1","COSTCENTER":"2"}}}`),
			status: 400, names: []string{ent + ":COSTCENTER", ent + ":costCenter"}},
		{name: "complex attribute and a dotted key for the same sub-attribute", method: "POST",
			body:   `{"userName":"a@x.example","name":{"givenName":"A"},"NAME.givenName":"B"}`,
			status: 400, names: []string{"NAME.givenName", "name.givenName"}},
		{name: "sub-attribute twice in one element", method: "POST",
			body:   `{"userName":"a@x.example","emails":[{"value":"a@x.example","VALUE":"b@x.example"}]}`,
			status: 400, names: []string{"emails.value"}},
		{name: "PUT with displayName and DisplayName", method: "PUT",
			body:   `{"userName":"pat","displayName":"A","DisplayName":"B"}`,
			status: 400, names: []string{"DisplayName", "displayName"}},
		{name: "path-less PATCH value with a key twice", method: "PATCH",
			body:   patchBody(`{"op":"replace","value":{"displayName":"A","DISPLAYNAME":"B"}}`),
			status: 400, names: []string{"DISPLAYNAME", "displayName"}},
		{name: "PATCH value object with a sub-attribute twice", method: "PATCH",
			body:   patchBody(`{"op":"replace","path":"name","value":{"givenName":"A","GivenName":"B"}}`),
			status: 400, names: []string{"name.givenName"}},
		{name: "an unknown attribute twice is dropped twice, not refused", method: "POST",
			body:   `{"userName":"a@x.example","shoeSize":"42","SHOESIZE":"43","name":{"middle":"m","MIDDLE":"n"},"name.Middle":"o"}`,
			status: 201, want: map[string]any{"userName": "a@x.example"}},
		{name: "extension object and flat keys of other attributes merge", method: "POST",
			body:   `{"userName":"a@x.example","` + ent + `":{"department":"R&D"},"` + ent + `:costCenter":"7","name":{"givenName":"A"},"NAME.familyName":"B"}`,
			status: 201, want: map[string]any{"userName": "a@x.example", ent: map[string]any{"department": "R&D", "costCenter": "7"},
				"name": map[string]any{"givenName": "A", "familyName": "B"}}},
		{name: "Entra aadOptscim062020 path-less replace with flat keys merges", method: "PATCH",
			body:   patchBody(`{"op":"replace","value":{"displayName":"Pat","name.givenName":"P","` + ent + `:employeeNumber":"7","` + ent + `:costCenter":"c"}}`),
			status: 200, want: map[string]any{"userName": "pat", "displayName": "Pat", "name": map[string]any{"givenName": "P"},
				ent: map[string]any{"department": "Ops", "employeeNumber": "7", "costCenter": "c"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Several runs: a random outcome would show as a difference.
			for range 8 {
				srv, _ := newTestServer(t)
				w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"pat","`+ent+`":{"department":"Ops"}}`)
				require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
				id := idOf(t, w.Body.String())
				path := "/Users"
				if tc.method != "POST" {
					path += "/" + id
				}
				w = serve(t, srv, tc.method, path, tc.body)
				require.Equal(t, tc.status, w.Code, w.Body.String())
				got := decodeBody(t, w.Body.Bytes())
				if tc.status >= 400 {
					assert.Equal(t, "invalidSyntax", got["scimType"])
					for _, n := range tc.names {
						assert.Contains(t, got["detail"], `"`+n+`"`)
					}
					w = serve(t, srv, http.MethodGet, "/Users", "")
					assert.Contains(t, w.Body.String(), `"totalResults":1`, "nothing created")
					assert.NotContains(t, w.Body.String(), `"displayName"`, "nothing changed")
					continue
				}
				for _, k := range []string{"id", "meta", "schemas"} {
					delete(got, k)
				}
				assert.Equal(t, tc.want, got)
			}
		})
	}
}
