package difftest

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test's own parts are checked against hand-worked answers, so a
// mismatch in TestFilters points at the server, not at the reference.

// TestQuote: every spelling quote prints is a JSON string that decodes to
// the value (RFC 8259 §7), including surrogate pairs and control
// characters.
func TestQuote(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	alphabet := []rune("aZ09 \"\\/\n\r\t\b\f\x01\x1féÉøΩ日🙂")
	for range 2000 {
		rs := make([]rune, r.IntN(12))
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(rs)
		for enc := range 4 {
			var got string
			require.NoError(t, json.Unmarshal([]byte(quote(s, enc)), &got), "enc %d: %s", enc, quote(s, enc))
			require.Equal(t, s, got, "enc %d: %s", enc, quote(s, enc))
		}
	}
	assert.Equal(t, `"CORP\\tom"`, quote(`CORP\tom`, 0))
	assert.Equal(t, `"\u00e9"`, quote("é", 1))
	assert.Equal(t, `"a\/b\u005c"`, quote(`a/b\`, 2))
}

// refUsers is a resource type shaped as /Schemas publishes the User
// schema (the attributes the cases use).
func refUsers() *resType {
	str := func(n string, exact bool) *attrDef { return &attrDef{Name: n, Type: "string", CaseExact: exact} }
	return &resType{
		Endpoint: "/Users",
		Core: &schemaDef{ID: userURN, Attributes: []*attrDef{
			str("userName", false), str("displayName", false), str("title", false),
			{Name: "active", Type: "boolean"},
			{Name: "name", Type: "complex", SubAttrs: []*attrDef{str("givenName", false), str("familyName", false)}},
			{Name: "emails", Type: "complex", MultiValued: true, SubAttrs: []*attrDef{
				str("value", false), str("type", false), {Name: "primary", Type: "boolean"},
			}},
			{Name: "x509Certificates", Type: "complex", MultiValued: true, SubAttrs: []*attrDef{{Name: "value", Type: "binary", CaseExact: true}}},
		}},
		Exts: []*schemaDef{{ID: customURN, Attributes: []*attrDef{
			{Name: "badge", Type: "integer"}, str("code", true), {Name: "hired", Type: "dateTime"},
		}}},
		Common: commonAttrs(),
	}
}

func TestReference(t *testing.T) {
	rt := refUsers()
	doc := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(`{
		"id": "u1", "userName": "CORP\\tom", "active": false,
		"name": {"givenName": "Tom"},
		"emails": [
			{"value": "tom@Work.example", "type": "work", "primary": true},
			{"value": "tom@home.example", "type": "home"}
		],
		"`+customURN+`": {"badge": 42, "code": "AbC", "hired": "2001-02-03T04:05:06.5+01:00"},
		"meta": {"resourceType": "User", "created": "9999-12-31T23:59:59Z"}
	}`), &doc))
	cmp := func(p path, op string, v *lit) node { return &cmpNode{Path: p, Op: op, Val: v} }
	s := func(x string) *lit { return &lit{Kind: litString, Str: x} }
	num := func(x string) *lit { return &lit{Kind: litNumber, Num: x} }
	b := func(x bool) *lit { return &lit{Kind: litBool, Bool: x} }
	un := path{Name: "userName"}
	cases := []struct {
		name    string
		f       node
		match   bool
		invalid bool
	}{
		{"userName is compared case-insensitively", cmp(path{Name: "USERNAME"}, "eq", s(`corp\TOM`)), true, false},
		{"URN-qualified core attribute", cmp(path{URN: userURN, Name: "userName"}, "sw", s(`corp\`)), true, false},
		{"caseExact extension attribute", cmp(path{URN: customURN, Name: "code"}, "eq", s("abc")), false, false},
		{"caseExact extension attribute, same case", cmp(path{URN: customURN, Name: "code"}, "eq", s("AbC")), true, false},
		{"ne on an absent attribute matches", cmp(path{Name: "title"}, "ne", s("x")), true, false},
		{"eq on an absent attribute does not", cmp(path{Name: "title"}, "eq", s("x")), false, false},
		{"pr on an absent attribute", cmp(path{Name: "displayName"}, "pr", nil), false, false},
		{"pr on a complex attribute", cmp(path{Name: "name"}, "pr", nil), true, false},
		{"multi-valued: any value", cmp(path{Name: "emails", Sub: "type"}, "eq", s("home")), true, false},
		{"complex without sub-attribute compares value", cmp(path{Name: "emails"}, "co", s("WORK")), true, false},
		{"value path: both on one element", &valuePathNode{Path: path{Name: "emails"}, F: &logicNode{Op: "and",
			Left: cmp(path{Name: "type"}, "eq", s("home")), Right: cmp(path{Name: "value"}, "co", s("work"))}}, false, false},
		{"value path: both on one element, matching", &valuePathNode{Path: path{Name: "emails"}, F: &logicNode{Op: "and",
			Left: cmp(path{Name: "type"}, "eq", s("work")), Right: cmp(path{Name: "primary"}, "eq", b(true))}}, true, false},
		{"Entra's form", &entraNode{Path: path{Name: "emails"}, F: cmp(path{Name: "type"}, "eq", s("work")), Sub: "value", Op: "eq", Val: s("TOM@work.example")}, true, false},
		{"Entra's form, other element", &entraNode{Path: path{Name: "emails"}, F: cmp(path{Name: "type"}, "eq", s("home")), Sub: "value", Op: "eq", Val: s("tom@work.example")}, false, false},
		{"not", &notNode{X: cmp(un, "pr", nil)}, false, false},
		{"or", &logicNode{Op: "or", Left: cmp(un, "eq", s("x")), Right: cmp(path{Name: "active"}, "eq", b(false))}, true, false},
		{`"False" compares as false`, cmp(path{Name: "active"}, "eq", s("False")), true, false},
		{"gt on a boolean is invalid", &logicNode{Op: "or", Left: cmp(un, "pr", nil), Right: cmp(path{Name: "active"}, "gt", b(false))}, false, true},
		{"lt on binary is invalid", cmp(path{Name: "x509Certificates", Sub: "value"}, "lt", s("x")), false, true},
		{"integer order", cmp(path{URN: customURN, Name: "badge"}, "ge", num("4.2e1")), true, false},
		{"integer order, above", cmp(path{URN: customURN, Name: "badge"}, "gt", num("42")), false, false},
		{"dateTime compares instants across offsets", cmp(path{URN: customURN, Name: "hired"}, "eq", s("2001-02-03T03:05:06.500Z")), true, false},
		{"dateTime order", cmp(path{URN: customURN, Name: "hired"}, "lt", s("2001-02-03T03:05:06.6Z")), true, false},
		{"the last instant of 9999", cmp(path{Name: "meta", Sub: "created"}, "lt", s("9999-12-31T23:59:59.000001Z")), true, false},
		{"not after the last instant", cmp(path{Name: "meta", Sub: "created"}, "gt", s("9999-12-31T23:59:59Z")), false, false},
		{"the first instant of year 1", cmp(path{Name: "meta", Sub: "created"}, "gt", s("0001-01-01T00:00:00Z")), true, false},
		{"unknown attribute is invalid", cmp(path{Name: "nosuch"}, "eq", s("x")), false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := rt.check(tc.f)
			if tc.invalid {
				assert.NotEmpty(t, o.Invalid, text(tc.f))
				return
			}
			require.Empty(t, o.Invalid, text(tc.f))
			assert.Equal(t, tc.match, rt.match(tc.f, doc), text(tc.f))
		})
	}
}

// TestShrink: shrinking keeps a failing part and drops the rest.
func TestShrink(t *testing.T) {
	rt := refUsers()
	bad := &cmpNode{Path: path{Name: "title"}, Op: "co", Val: &lit{Kind: litString, Str: "needle"}}
	f := &logicNode{Op: "and",
		Left:  &notNode{X: &cmpNode{Path: path{URN: userURN, Name: "USERNAME"}, Op: "EQ", Val: &lit{Kind: litString, Str: "x", Enc: 3}}},
		Right: &parenNode{X: &logicNode{Op: "or", Left: bad, Right: &cmpNode{Path: path{Name: "active"}, Op: "pr"}}},
	}
	fails := func(n node) bool { // "the server" fails on any filter testing title for "ee"
		var has func(n node) bool
		has = func(n node) bool {
			switch n := n.(type) {
			case *cmpNode:
				return n.Path.Name == "title" && n.Val != nil && strings.Contains(n.Val.Str, "ee")
			case *logicNode:
				return has(n.Left) || has(n.Right)
			case *notNode:
				return has(n.X)
			case *parenNode:
				return has(n.X)
			}
			return false
		}
		return has(n)
	}
	assert.Equal(t, `title co "ee"`, text(shrink(rt, f, fails)))
}
