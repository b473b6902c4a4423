package sqlstoretest

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// NameEquality checks, through a real server on store (which must be
// empty), the one definition of userName equality: Unicode NFC, leading
// and trailing white space and zero-width characters trimmed, case
// folded. It decides uniqueness (409 uniqueness), what is stored, and
// `userName eq` filters, both as an index lookup and inside a compound
// filter; a name empty in that form is 400 invalidValue. A Group's
// displayName follows the same rule. The expectations are written from
// that rule, by hand. The memory store runs it too.
func NameEquality(t *testing.T, store storage.Store) {
	s := newServer(t, store, store, true)
	post := func(t *testing.T, path string, body map[string]any) (int, map[string]any) {
		t.Helper()
		return s.do(t, http.MethodPost, path, body)
	}
	code, u := post(t, "/Users", map[string]any{"userName": "ref@x.example"})
	require.Equal(t, http.StatusCreated, code, u)
	refID := u["id"].(string)
	code, u = post(t, "/Users", map[string]any{"userName": "\u00e9mile"}) // precomposed é
	require.Equal(t, http.StatusCreated, code, u)
	emileID := u["id"].(string)
	code, g := post(t, "/Groups", map[string]any{"displayName": "Eng"})
	require.Equal(t, http.StatusCreated, code, g)

	t.Run("uniqueness", func(t *testing.T) {
		cases := []struct {
			name, path, attr, value string
			status                  int
			scimType                string
		}{
			{"spaces around an existing userName", "/Users", "userName", " ref@x.example ", 409, "uniqueness"},
			{"tab, newline and no-break space around it", "/Users", "userName", "\t\u00a0REF@x.example\n", 409, "uniqueness"},
			{"zero-width characters around it", "/Users", "userName", "\u200bref@x.example\ufeff", 409, "uniqueness"},
			{"decomposed e + U+0301 equals precomposed", "/Users", "userName", "e\u0301mile", 409, "uniqueness"},
			{"decomposed and upper case", "/Users", "userName", "E\u0301MILE", 409, "uniqueness"},
			{"only spaces", "/Users", "userName", "   ", 400, "invalidValue"},
			{"only tab and newline", "/Users", "userName", "\t\n", 400, "invalidValue"},
			{"only zero-width space", "/Users", "userName", "\u200b", 400, "invalidValue"},
			{"only ideographic space and BOM", "/Users", "userName", "\u3000\ufeff", 400, "invalidValue"},
			{"group displayName with spaces around an existing one", "/Groups", "displayName", " eng ", 409, "uniqueness"},
			{"group displayName of only spaces", "/Groups", "displayName", "  ", 400, "invalidValue"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				code, body := post(t, tc.path, map[string]any{tc.attr: tc.value})
				require.Equal(t, tc.status, code, body)
				assert.Equal(t, tc.scimType, body["scimType"])
			})
		}
	})

	t.Run("the stored form is trimmed and NFC", func(t *testing.T) {
		code, body := post(t, "/Users", map[string]any{"userName": " \u200bzo\u0301e@x.example\t"})
		require.Equal(t, http.StatusCreated, code, body)
		assert.Equal(t, "z\u00f3e@x.example", body["userName"])
		code, body = s.do(t, http.MethodGet, "/Users/"+body["id"].(string), nil)
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "z\u00f3e@x.example", body["userName"])
	})

	t.Run("updates follow the rule", func(t *testing.T) {
		code, body := s.do(t, http.MethodPatch, "/Users/"+refID, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": "userName", "value": "E\u0301mile"}}})
		assert.Equal(t, http.StatusConflict, code, body)
		code, body = s.do(t, http.MethodPatch, "/Users/"+refID, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": "userName", "value": "\u200b "}}})
		assert.Equal(t, http.StatusBadRequest, code, body)
		assert.Equal(t, "invalidValue", body["scimType"])
		code, body = s.do(t, http.MethodPut, "/Users/"+refID, map[string]any{"userName": "\t"})
		assert.Equal(t, http.StatusBadRequest, code, body)
		code, body = s.do(t, http.MethodPut, "/Users/"+refID, map[string]any{"userName": " ref@x.example "})
		require.Equal(t, http.StatusOK, code, body)
		assert.Equal(t, "ref@x.example", body["userName"])
	})

	t.Run("userName eq filters", func(t *testing.T) {
		cases := []struct {
			filter string
			want   []string
		}{
			// Real characters, not filter escapes: these check names,
			// not the parsing of escapes.
			{"userName eq \" ref@x.example \"", []string{refID}},
			{"userName eq \"REF@X.EXAMPLE\u200b\"", []string{refID}},
			{"userName eq \"e\u0301mile\"", []string{emileID}},
			{"userName eq \"E\u0301MILE\"", []string{emileID}},
			{"userName eq \"\u00e9mile\"", []string{emileID}},
			{"userName eq \"e\u0301mile\" or userName eq \"nobody\"", []string{emileID}},
			{"userName eq \" ref@x.example \" and userName pr", []string{refID}},
			{"userName sw \"e\u0301m\"", []string{emileID}},
			{"userName eq \"   \"", nil},
		}
		for _, tc := range cases {
			t.Run(tc.filter, func(t *testing.T) {
				code, body := s.do(t, http.MethodGet, "/Users?filter="+url.QueryEscape(tc.filter), nil)
				require.Equal(t, http.StatusOK, code, body)
				var got []string
				rs, _ := body["Resources"].([]any)
				for _, r := range rs {
					got = append(got, r.(map[string]any)["id"].(string))
				}
				assert.Equal(t, tc.want, got)
			})
		}
		code, body := s.do(t, http.MethodGet, "/Groups?filter="+url.QueryEscape("displayName eq \" ENG\u200b\""), nil)
		require.Equal(t, http.StatusOK, code, body)
		assert.EqualValues(t, 1, body["totalResults"])
	})
}
