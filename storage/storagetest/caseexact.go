package storagetest

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testServerCaseExact reads /Schemas from a real server on the store and,
// for every string attribute and sub-attribute a client can write, stores
// a resource holding a mixed-case value and filters it with "eq": the
// exact value must find it, and the case-changed value must find it iff
// /Schemas says caseExact false (RFC 7643 §2.1, RFC 7644 §3.4.2.2).
func testServerCaseExact(t *testing.T, newStore newStoreFunc) {
	srv := newServer(t, newStore(t))
	member := srv.create(t, "/Users", attrs{"userName": "member"})
	code, body := srv.do(t, http.MethodGet, "/Schemas", nil)
	require.Equal(t, http.StatusOK, code, "%v", body)
	list, _ := body["Resources"].([]any)
	require.NotEmpty(t, list)
	checked := map[string]bool{} // path -> caseExact
	n := 0
	for _, r := range list {
		sc, _ := r.(map[string]any)
		urn, _ := sc["id"].(string)
		endpoint, nameAttr := "/Users", "userName"
		if urn == groupSchema {
			endpoint, nameAttr = "/Groups", "displayName"
		}
		attrList, _ := sc["attributes"].([]any)
		for _, a := range attrList {
			a, _ := a.(map[string]any)
			subs, _ := a["subAttributes"].([]any)
			cands := []map[string]any{a}
			for _, s := range subs {
				s, _ := s.(map[string]any)
				cands = append(cands, s)
			}
			for i, c := range cands {
				var sub map[string]any
				if i > 0 {
					sub = c
				}
				if !filterableString(a) || sub != nil && !filterableString(sub) || sub == nil && a["type"] == "complex" {
					continue
				}
				name, _ := a["name"].(string)
				path, value := name, fmt.Sprintf("MiXeD-%d", n)
				n++
				// The element or value that holds value.
				var held any = value
				if sub != nil {
					subName, _ := sub["name"].(string)
					path += "." + subName
					el := attrs{subName: value}
					if urn == groupSchema && name == "members" {
						// Members name existing resources; the
						// backend keeps value (an id), type (set from
						// the member) and display.
						el = attrs{"value": member, "display": value}
						switch subName {
						case "value":
							value = member
						case "type":
							value = "User"
						}
					}
					held = el
				}
				if a["multiValued"] == true {
					held = []any{held}
				}
				doc := attrs{}
				if endpoint == "/Users" && urn != userSchema {
					doc[urn] = attrs{name: held}
					path = urn + ":" + path
				} else {
					doc[name] = held
				}
				if _, ok := doc[nameAttr]; !ok {
					doc[nameAttr] = fmt.Sprintf("name-%d", n)
				}
				caseExact := c["caseExact"] == true
				t.Run(fmt.Sprintf("%s caseExact %v", path, caseExact), func(t *testing.T) {
					id := srv.create(t, endpoint, doc)
					code, found, out := srv.list(t, endpoint, fmt.Sprintf("%s eq %q", path, value))
					require.Equal(t, http.StatusOK, code, "%v", out)
					assert.Contains(t, found, id, "the exact value finds the resource")
					swapped := swapCase(value)
					require.NotEqual(t, value, swapped)
					code, found, out = srv.list(t, endpoint, fmt.Sprintf("%s eq %q", path, swapped))
					require.Equal(t, http.StatusOK, code, "%v", out)
					if caseExact {
						assert.NotContains(t, found, id, "caseExact true: %s eq %q must not match %q", path, swapped, value)
					} else {
						assert.Contains(t, found, id, "caseExact false: %s eq %q must match %q", path, swapped, value)
					}
				})
				checked[path] = caseExact
			}
		}
	}
	// The walk reached the attributes this test is about.
	for path, want := range map[string]bool{
		"userName": false, "emails.value": false, "displayName": false, "members.value": true, "members.display": false,
		enterprise + ":manager.value": false, acmeURN + ":badge": true,
	} {
		got, ok := checked[path]
		if assert.True(t, ok, "%s was not checked", path) {
			assert.Equal(t, want, got, "caseExact of %s", path)
		}
	}
}

// filterableString tells whether an attribute of /Schemas is a string a
// client writes and a filter may compare: not readOnly, not returned
// never (password), not binary, not "$ref" (never stored).
func filterableString(a map[string]any) bool {
	if a["type"] == "complex" {
		return a["mutability"] != "readOnly"
	}
	_, hasCase := a["caseExact"]
	return hasCase && (a["type"] == "string" || a["type"] == "reference") &&
		a["mutability"] != "readOnly" && a["returned"] != "never" && a["name"] != "$ref"
}
