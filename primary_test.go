package scimkit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
)

// decodeBody decodes a JSON response body.
func decodeBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(body, &doc), "%s", body)
	return doc
}

// primaryOf returns the key values (the sub-attribute key of each element)
// of the elements of attr whose primary is true, and checks that the
// others are false or absent.
func primaryOf(t *testing.T, doc map[string]any, attr, key string) []string {
	t.Helper()
	list, _ := doc[attr].([]any)
	var out []string
	for _, el := range list {
		m, ok := el.(map[string]any)
		require.True(t, ok, "%s: %v", attr, el)
		switch m["primary"] {
		case true:
			out = append(out, fmt.Sprint(m[key]))
		case false, nil:
		default:
			t.Fatalf("%s: primary is %v", attr, m["primary"])
		}
	}
	return out
}

// TestPrimaryIsExclusive: RFC 7643 §2.4 ("The primary attribute value
// 'true' MUST appear no more than once") and RFC 7644 §3.5.2 (a new
// primary value makes the server set the others' primary to false), on
// POST, PUT and every PATCH shape, for every multi-valued attribute of the
// core User schema that has a primary sub-attribute. The wanted primaries
// are written from that rule: a PATCH operation's new primary wins; within
// one request value (a POST or PUT body, one operation's list) the first
// primary is kept.
func TestPrimaryIsExclusive(t *testing.T) {
	type want struct {
		attr, key string
		primary   []string // key values of the primary elements, in order
		count     int      // elements
	}
	type tcase struct {
		name    string
		create  string // POST body (userName added)
		method  string // then this request on the user, if any
		body    string
		want    want
		cleared bool // a ClearedPrimary normalisation is counted
	}
	work := `"emails":[{"type":"work","primary":true,"value":"w@example.com"},{"type":"home","value":"h@example.com"}]`
	cases := []tcase{
		{
			name:   "PATCH add of a new primary email clears the old primary",
			create: `"emails":[{"type":"work","primary":true,"value":"w@example.com"}]`,
			method: "PATCH", body: patchBody(`{"op":"add","path":"emails","value":[{"type":"home","primary":true,"value":"h@example.com"}]}`),
			want: want{"emails", "value", []string{"h@example.com"}, 2},
		},
		{
			name: "PATCH replace emails[type eq home].primary true moves the primary", create: work,
			method: "PATCH", body: patchBody(`{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}`),
			want: want{"emails", "value", []string{"h@example.com"}, 2},
		},
		{
			name: "PATCH replace with Entra's string boolean True moves the primary", create: work,
			method: "PATCH", body: patchBody(`{"op":"Replace","path":"emails[type eq \"home\"].primary","value":"True"}`),
			want: want{"emails", "value", []string{"h@example.com"}, 2},
		},
		{
			name: "PATCH replace of a whole filtered element with primary moves the primary", create: work,
			method: "PATCH", body: patchBody(`{"op":"replace","path":"emails[type eq \"home\"]","value":{"primary":true}}`),
			want: want{"emails", "value", []string{"h@example.com"}, 2},
		},
		{
			name: "PATCH replace emails[type eq other].value creates a primary element that wins", create: work,
			method: "PATCH", body: patchBody(`{"op":"replace","path":"emails[type eq \"other\" and primary eq true].value","value":"o@example.com"}`),
			want: want{"emails", "value", []string{"o@example.com"}, 3},
		},
		{
			name: "path-less PATCH add with an emails list: the new primary wins", create: work,
			method: "PATCH", body: patchBody(`{"op":"add","value":{"emails":[{"type":"other","primary":true,"value":"o@example.com"}]}}`),
			want: want{"emails", "value", []string{"o@example.com"}, 3},
		},
		{
			name: "path-less PATCH replace with a list of two primaries keeps the first", create: work,
			method: "PATCH", body: patchBody(`{"op":"replace","value":{"emails":[{"type":"a","primary":true,"value":"a@example.com"},{"type":"b","primary":true,"value":"b@example.com"}]}}`),
			want: want{"emails", "value", []string{"a@example.com"}, 2}, cleared: true,
		},
		{
			name: "PATCH add of two new primaries in one value keeps the first of them", create: work,
			method: "PATCH", body: patchBody(`{"op":"add","path":"emails","value":[{"type":"a","primary":true,"value":"a@example.com"},{"type":"b","primary":true,"value":"b@example.com"}]}`),
			want: want{"emails", "value", []string{"a@example.com"}, 4}, cleared: true,
		},
		{
			name: "the later of two operations wins", create: work,
			method: "PATCH", body: patchBody(`{"op":"replace","path":"emails[type eq \"home\"].primary","value":true},{"op":"replace","path":"emails[type eq \"work\"].primary","value":true}`),
			want: want{"emails", "value", []string{"w@example.com"}, 2},
		},
		{
			name: "PATCH that does not touch primary keeps it", create: work,
			method: "PATCH", body: patchBody(`{"op":"replace","path":"emails[type eq \"home\"].value","value":"h2@example.com"}`),
			want: want{"emails", "value", []string{"w@example.com"}, 2},
		},
		{
			name: "PUT with two primaries keeps the first", create: work,
			method: "PUT", body: `{"userName":"pat","emails":[{"type":"a","value":"a@example.com"},{"type":"b","primary":true,"value":"b@example.com"},{"type":"c","primary":"True","value":"c@example.com"}]}`,
			want: want{"emails", "value", []string{"b@example.com"}, 3}, cleared: true,
		},
	}
	// POST with two primaries, and a PATCH add of a new primary, on every
	// core attribute with a primary sub-attribute.
	for _, a := range []struct{ attr, key string }{
		{"emails", "value"}, {"phoneNumbers", "value"}, {"ims", "value"}, {"photos", "value"},
		{"addresses", "formatted"}, {"roles", "value"}, {"entitlements", "value"}, {"x509Certificates", "value"},
	} {
		el := func(v string, primary bool) string {
			return fmt.Sprintf(`{%q:%q,"primary":%t}`, a.key, v, primary)
		}
		two := fmt.Sprintf(`%q:[%s,%s,%s]`, a.attr, el("one", false), el("two", true), el("three", true))
		cases = append(cases,
			tcase{
				name: "POST with two primary " + a.attr + " keeps the first", create: two,
				want: want{a.attr, a.key, []string{"two"}, 3}, cleared: true,
			},
			tcase{
				name: "PATCH add of a new primary " + a.attr + " clears the old primary", create: fmt.Sprintf(`%q:[%s]`, a.attr, el("old", true)),
				method: "PATCH", body: patchBody(fmt.Sprintf(`{"op":"add","path":%q,"value":[%s]}`, a.attr, el("new", true))),
				want: want{a.attr, a.key, []string{"new"}, 2},
			},
		)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newTestServer(t)
			w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"pat",`+tc.create+`}`)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			id := idOf(t, w.Body.String())
			if tc.method != "" {
				w = serve(t, srv, tc.method, "/Users/"+id, tc.body)
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			}
			got := decodeBody(t, w.Body.Bytes())
			assert.Equal(t, tc.want.primary, primaryOf(t, got, tc.want.attr, tc.want.key), "response: %s", w.Body.String())
			assert.Len(t, got[tc.want.attr], tc.want.count)
			w = serve(t, srv, http.MethodGet, "/Users/"+id, "")
			require.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, tc.want.primary, primaryOf(t, decodeBody(t, w.Body.Bytes()), tc.want.attr, tc.want.key), "stored: %s", w.Body.String())
			var cleared []scimkit.Normalization
			for _, n := range srv.Normalizations("acme") {
				if n.Kind == scimkit.ClearedPrimary {
					cleared = append(cleared, n)
				}
			}
			if tc.cleared {
				assert.Len(t, cleared, 1)
			} else {
				assert.Empty(t, cleared)
			}
		})
	}
}
