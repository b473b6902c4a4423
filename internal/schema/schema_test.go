package schema

import (
	"bytes"
	"encoding/json"
	"testing"

	escim "github.com/elimity-com/scim/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

const druva = "urn:ietf:params:scim:schemas:extension:Druva:2.0:User"

func users(t testing.TB) *ResourceType {
	t.Helper()
	ext := escim.Schema{ID: druva, Attributes: []escim.CoreAttribute{
		escim.SimpleCoreAttribute(escim.SimpleStringParams(escim.StringParams{Name: "city"})),
		escim.SimpleCoreAttribute(escim.SimpleStringParams(escim.StringParams{Name: "country"})),
	}}
	return NewResourceType(storage.KindUser, "/Users", escim.CoreUserSchema(), escim.ExtensionEnterpriseUser(), ext)
}

func groups(t testing.TB) *ResourceType {
	t.Helper()
	return NewResourceType(storage.KindGroup, "/Groups", escim.CoreGroupSchema())
}

func TestParseFilter(t *testing.T) {
	rt := users(t)
	tests := []struct {
		name   string
		filter string
		want   storage.Filter
		lookup *storage.Lookup
		whole  bool   // the lookup answers the filter: no filter returned
		err    string // scimType
	}{
		{
			name:   "userName eq is an index lookup, case-insensitive attribute name",
			filter: `UserName eq "Alice@X.com"`,
			lookup: &storage.Lookup{Field: storage.LookupName, Value: "Alice@X.com"},
			whole:  true,
		},
		{
			name:   "externalId eq is case-exact and indexed",
			filter: `externalId eq "jyoung"`,
			lookup: &storage.Lookup{Field: storage.LookupExternalID, Value: "jyoung"},
			whole:  true,
		},
		{
			name:   "id wins over other lookups in a conjunction",
			filter: `userName eq "a" and id eq "42"`,
			lookup: &storage.Lookup{Field: storage.LookupID, Value: "42"},
		},
		{
			name:   "Entra's non-RFC emails[type eq work].value eq form is rewritten",
			filter: `emails[type eq "work"].value eq "a@x.com"`,
			lookup: &storage.Lookup{Field: storage.LookupEmail, Value: "a@x.com"},
		},
		{
			name:   "or gives no lookup",
			filter: `userName eq "a" or userName eq "b"`,
		},
		{
			name:   "extension attribute by full URN",
			filter: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D"`,
			want:   storage.Compare{Path: storage.AttrPath{Schema: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", Name: "department", Type: storage.TypeString}, Op: storage.OpEq, Value: "R&D"},
		},
		{
			name:   "custom extension attribute",
			filter: druva + `:city sw "Pu"`,
			want:   storage.Compare{Path: storage.AttrPath{Schema: druva, Name: "city", Type: storage.TypeString}, Op: storage.OpSw, Value: "Pu"},
		},
		{
			name:   "boolean",
			filter: `active eq false`,
			want:   storage.Compare{Path: storage.AttrPath{Name: "active", Type: storage.TypeBoolean}, Op: storage.OpEq, Value: false},
		},
		{name: "present", filter: `title pr`},
		{name: "meta.lastModified gt", filter: `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{name: "not", filter: `not (userName eq "a")`},
		{name: "unknown attribute", filter: `bogus eq "x"`, err: "invalidFilter"},
		{name: "unknown sub-attribute", filter: `name.bogus eq "x"`, err: "invalidFilter"},
		{name: "unparsable", filter: `userName eq`, err: "invalidFilter"},
		{name: "unknown operator", filter: `userName xx "a"`, err: "invalidFilter"},
		{name: "boolean compared with a string", filter: `active eq "yes"`, err: "invalidFilter"},
		{name: "co on a boolean", filter: `active co true`, err: "invalidFilter"},
		{name: "password cannot be filtered", filter: `password eq "x"`, err: "invalidFilter"},
		{name: "schemas cannot be filtered", filter: `schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`, err: "invalidFilter"},
		{name: "meta.location cannot be filtered", filter: `meta.location co "x"`, err: "invalidFilter"},
		{name: "groups is rendered, not stored: cannot be filtered", filter: `groups.value eq "g1"`, err: "invalidFilter"},
		{name: "groups value path cannot be filtered", filter: `groups[value eq "g1"]`, err: "invalidFilter"},
		{name: "groups alone cannot be filtered", filter: `GROUPS pr`, err: "invalidFilter"},
		{name: "meta.resourceType can be filtered", filter: `meta.resourceType eq "User"`},
		{name: "unknown URN", filter: `urn:x:y:attr eq "x"`, err: "invalidFilter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, l, err := rt.ParseFilter(tc.filter, Options{})
			if tc.err != "" {
				requireScimType(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.whole, f == nil, "filter %v", f)
			if tc.want != nil {
				assert.Equal(t, tc.want, f)
			}
			assert.Equal(t, tc.lookup, l)
		})
	}
}

func TestGroupMemberLookup(t *testing.T) {
	for _, f := range []string{`members[value eq "u1"]`, `members.value eq "u1"`, `members eq "u1"`, `displayName sw "E" and members[value eq "u1"]`} {
		_, l, err := groups(t).ParseFilter(f, Options{})
		require.NoError(t, err, f)
		assert.Equal(t, &storage.Lookup{Field: storage.LookupMember, Value: "u1"}, l, f)
	}
}

func TestGroupFilterLookup(t *testing.T) {
	rt := groups(t)
	f, l, err := rt.ParseFilter(`displayName eq "Eng"`, Options{})
	require.NoError(t, err)
	assert.Equal(t, &storage.Lookup{Field: storage.LookupName, Value: "Eng"}, l)
	assert.Nil(t, f, "the displayName index answers the whole filter")
	f, err = rt.parseFilter(`displayName eq "Eng"`, nil, Options{})
	require.NoError(t, err)
	assert.True(t, storage.Match(f, &storage.Resource{}, map[string]any{"displayName": "eng"}), "displayName is case-insensitive")
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

func TestNormalize(t *testing.T) {
	rt := users(t)
	tests := []struct {
		name    string
		in      string
		want    string
		schemas string
		strict  bool
		err     string
	}{
		{
			name: "custom extension nested while its URN is missing from schemas",
			in:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","` + druva + `":{"City":"Pune"}}`,
			want: `{"userName":"a","` + druva + `":{"city":"Pune"}}`, schemas: `["urn:ietf:params:scim:schemas:core:2.0:User","` + druva + `"]`,
		},
		{
			name: "flat full-URN keys at the top level",
			in:   `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"R&D"}`,
			want: `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`, schemas: `["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]`,
		},
		{
			name: "readOnly and returned-never attributes are dropped; names canonical; nulls skipped",
			in:   `{"id":"x","meta":{},"groups":[],"password":"secret","USERNAME":"a","ACTIVE":"True","title":null,"nickName":""}`,
			want: `{"userName":"a","active":true}`, schemas: `["urn:ietf:params:scim:schemas:core:2.0:User"]`,
		},
		{
			name: "bare string manager becomes a complex value",
			in:   `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m1"}}`,
			want: `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}}}`, schemas: `["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]`,
		},
		{name: "userName required", in: `{"displayName":"x"}`, err: "invalidValue"},
		{name: "userName must be a string", in: `{"userName":5}`, err: "invalidValue"},
		{name: "boolean must be a boolean", in: `{"userName":"a","active":"maybe"}`, err: "invalidValue"},
		{name: "complex must be an object", in: `{"userName":"a","name":"x"}`, err: "invalidValue"},
		{name: "strict: unknown attribute", in: `{"userName":"a","shoeSize":42}`, strict: true, err: "invalidSyntax"},
		{name: "strict: unknown extension", in: `{"userName":"a","urn:acme:unknown":{"x":1}}`, strict: true, err: "invalidSyntax"},
		{name: "strict: unknown sub-attribute", in: `{"userName":"a","roles":[{"value":"r","displayName":"R"}]}`, strict: true, err: "invalidSyntax"},
		{
			name: "unknown attributes, extensions and sub-attributes are dropped",
			in:   `{"userName":"a","shoeSize":42,"urn:acme:unknown":{"x":1},"name.middle":"m","roles":[{"value":"r","displayName":"R"}]}`,
			want: `{"userName":"a","roles":[{"value":"r"}]}`, schemas: `["urn:ietf:params:scim:schemas:core:2.0:User"]`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := rt.Normalize(decode(t, tc.in), Options{StrictAttributes: tc.strict})
			if tc.err != "" {
				requireScimType(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			var r storage.Resource
			require.NoError(t, rt.Encode(doc, &r))
			assert.JSONEq(t, tc.want, string(r.Data))
			var b bytes.Buffer
			b.WriteByte('{')
			rt.WriteSchemas(&b, r.Data)
			b.WriteByte('}')
			assert.JSONEq(t, `{"schemas":`+tc.schemas+`}`, b.String())
		})
	}
	t.Run("strict booleans reject strings", func(t *testing.T) {
		_, err := rt.Normalize(decode(t, `{"userName":"a","active":"True"}`), Options{StrictBooleans: true})
		requireScimType(t, err, "invalidValue")
	})
}

const entraUser = `{"userName":"a@x.com","active":true,"displayName":"A",
 "emails":[{"primary":true,"type":"work","value":"a@x.com"}],
 "name":{"givenName":"A","familyName":"B"},
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`

func TestApplyPatch(t *testing.T) {
	rt := users(t)
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	tests := []struct {
		name   string
		ops    string
		check  func(t *testing.T, doc map[string]any)
		strict bool
		err    string
	}{
		{
			name: "Entra default job: capitalised ops and string booleans",
			ops:  `[{"op":"Replace","path":"active","value":"False"},{"op":"Add","path":"nickName","value":"Babs"}]`,
			check: func(t *testing.T, doc map[string]any) {
				assert.Equal(t, false, doc["active"])
				assert.Equal(t, "Babs", doc["nickName"])
			},
		},
		{
			name: "emails[type eq work].value replaces the work email",
			ops:  `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@x.com"}]`,
			check: func(t *testing.T, doc map[string]any) {
				assert.Equal(t, []any{map[string]any{"primary": true, "type": "work", "value": "new@x.com"}}, doc["emails"])
			},
		},
		{
			name: "emails[type eq home].value creates the element when absent",
			ops:  `[{"op":"Replace","path":"emails[type eq \"home\"].value","value":"h@x.com"}]`,
			check: func(t *testing.T, doc map[string]any) {
				assert.Len(t, doc["emails"], 2)
				assert.Contains(t, doc["emails"], map[string]any{"type": "home", "value": "h@x.com"})
			},
		},
		{
			name: "aadOptscim062020 path-less replace with dotted and full-URN keys",
			ops:  `[{"op":"replace","value":{"displayName":"Z","name.givenName":"G","` + ent + `:employeeNumber":"7","` + druva + `:city":"Pune"}}]`,
			check: func(t *testing.T, doc map[string]any) {
				assert.Equal(t, "Z", doc["displayName"])
				assert.Equal(t, map[string]any{"givenName": "G", "familyName": "B"}, doc["name"])
				assert.Equal(t, map[string]any{"department": "R&D", "employeeNumber": "7"}, doc[ent])
				assert.Equal(t, map[string]any{"city": "Pune"}, doc[druva])
			},
		},
		{
			name: "Okta path-less replace of active ignores id",
			ops:  `[{"op":"replace","value":{"id":"whatever","active":false}}]`,
			check: func(t *testing.T, doc map[string]any) {
				assert.Equal(t, false, doc["active"])
			},
		},
		{
			name: "bare-string manager, then Replace with empty value removes it",
			ops:  `[{"op":"Add","path":"` + ent + `:manager","value":"m1"}]`,
			check: func(t *testing.T, doc map[string]any) {
				assert.Equal(t, map[string]any{"value": "m1"}, doc[ent].(map[string]any)["manager"])
			},
		},
		{
			name: "manager removed by Replace with empty string",
			ops:  `[{"op":"Add","path":"` + ent + `:manager","value":"m1"},{"op":"Replace","path":"` + ent + `:manager","value":""}]`,
			check: func(t *testing.T, doc map[string]any) {
				assert.NotContains(t, doc[ent], "manager")
			},
		},
		{
			name: "extension object in a path-less add merges",
			ops:  `[{"op":"add","value":{"` + ent + `":{"costCenter":"c1"}}}]`,
			check: func(t *testing.T, doc map[string]any) {
				assert.Equal(t, map[string]any{"department": "R&D", "costCenter": "c1"}, doc[ent])
			},
		},
		{
			name: "remove of a filtered element",
			ops:  `[{"op":"remove","path":"emails[type eq \"work\"]"}]`,
			check: func(t *testing.T, doc map[string]any) {
				assert.NotContains(t, doc, "emails")
			},
		},
		{name: "unknown op", ops: `[{"op":"move","path":"title","value":"x"}]`, err: "invalidSyntax"},
		{name: "remove without path", ops: `[{"op":"remove"}]`, err: "noTarget"},
		{name: "strict: unknown path", ops: `[{"op":"replace","path":"shoeSize","value":1}]`, strict: true, err: "invalidPath"},
		{name: "strict: unknown key in a path-less value", ops: `[{"op":"replace","value":{"shoeSize":1}}]`, strict: true, err: "invalidSyntax"},
		{
			name: "unknown paths and path-less keys are dropped; remove of one is a no-op",
			ops: `[{"op":"replace","path":"shoeSize","value":1},{"op":"add","path":"name.middle","value":"m"},{"op":"remove","path":"urn:acme:x:tag"},` +
				`{"op":"replace","path":"emails[type eq \"work\"].label","value":"x"},{"op":"replace","value":{"shoeSize":2,"nickName":"N"}}]`,
			check: func(t *testing.T, doc map[string]any) {
				want := decode(t, entraUser)
				want["nickName"] = "N"
				assert.Equal(t, want, doc)
			},
		},
		{name: "unknown sub-attribute inside a value filter stays invalidPath", ops: `[{"op":"replace","path":"emails[label eq \"x\"].value","value":"y"}]`, err: "invalidPath"},
		{name: "bad filter in path", ops: `[{"op":"replace","path":"emails[type eq]","value":"x"}]`, err: "invalidPath"},
		{name: "readOnly path", ops: `[{"op":"replace","path":"id","value":"x"}]`, err: "mutability"},
		{name: "removing userName", ops: `[{"op":"remove","path":"userName"}]`, err: "invalidValue"},
		{name: "wrong type", ops: `[{"op":"replace","path":"active","value":"maybe"}]`, err: "invalidValue"},
		{name: "no operations", ops: `[]`, err: "invalidValue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := rt.Normalize(decode(t, entraUser), Options{})
			require.NoError(t, err)
			var ops []PatchOp
			require.NoError(t, json.Unmarshal([]byte(tc.ops), &ops))
			_, err = rt.ApplyPatch(doc, ops, Options{StrictAttributes: tc.strict})
			if tc.err != "" {
				requireScimType(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			tc.check(t, doc)
		})
	}
}

func TestApplyPatchMembers(t *testing.T) {
	rt := groups(t)
	tests := []struct {
		name string
		ops  string
		want storage.MemberChange
	}{
		{
			name: "Entra add with $ref null",
			ops:  `[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"},{"value":"u2"}]}]`,
			want: storage.MemberChange{Add: []storage.Member{{Value: "u1"}, {Value: "u2"}}},
		},
		{
			name: "Entra default job removes with a value list",
			ops:  `[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]`,
			want: storage.MemberChange{Remove: []string{"u1"}},
		},
		{
			name: "filtered remove",
			ops:  `[{"op":"remove","path":"members[value eq \"u1\"]"}]`,
			want: storage.MemberChange{Remove: []string{"u1"}},
		},
		{
			name: "Okta replace of all members",
			ops:  `[{"op":"replace","path":"members","value":[{"value":"u3","display":"C"}]}]`,
			want: storage.MemberChange{ReplaceAll: true, Add: []storage.Member{{Value: "u3", Display: "C"}}},
		},
		{
			name: "Okta rename with id plus member add in one request",
			ops:  `[{"op":"replace","value":{"id":"g1","displayName":"New"}},{"op":"add","path":"members","value":[{"value":"u4"}]}]`,
			want: storage.MemberChange{Add: []storage.Member{{Value: "u4"}}},
		},
		{
			name: "add then remove of the same member cancels",
			ops:  `[{"op":"add","path":"members","value":[{"value":"u5"}]},{"op":"remove","path":"members[value eq \"u5\"]"}]`,
			want: storage.MemberChange{Add: []storage.Member{}, Remove: []string{"u5"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := rt.Normalize(decode(t, `{"displayName":"Eng"}`), Options{})
			require.NoError(t, err)
			var ops []PatchOp
			require.NoError(t, json.Unmarshal([]byte(tc.ops), &ops))
			mo, err := rt.ApplyPatch(doc, ops, Options{})
			require.NoError(t, err)
			assert.True(t, mo.Any)
			assert.Equal(t, tc.want, mo.Change)
		})
	}
}

func TestProjection(t *testing.T) {
	rt := users(t)
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	full := `{"id":"1","schemas":["s"],"userName":"a","name":{"givenName":"A","familyName":"B"},"emails":[{"type":"work","value":"a@x"}],"` + ent + `":{"department":"d","costCenter":"c"},"meta":{"resourceType":"User"}}`
	tests := []struct {
		name, attrs, excluded, want string
	}{
		{name: "attributes keeps id and schemas", attrs: "userName", want: `{"id":"1","schemas":["s"],"userName":"a"}`},
		{name: "sub-attributes", attrs: "name.givenName,emails.value", want: `{"id":"1","schemas":["s"],"name":{"givenName":"A"},"emails":[{"value":"a@x"}]}`},
		{name: "extension attribute", attrs: ent + ":department", want: `{"id":"1","schemas":["s"],"` + ent + `":{"department":"d"}}`},
		{name: "excluded", excluded: "emails,name.familyName,meta", want: `{"id":"1","schemas":["s"],"userName":"a","name":{"givenName":"A"},"` + ent + `":{"department":"d","costCenter":"c"}}`},
		{name: "id cannot be excluded", excluded: "id", want: full},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := decode(t, full)
			rt.ParseProjection(tc.attrs, tc.excluded).Apply(doc)
			got, err := json.Marshal(doc)
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(got))
		})
	}
	t.Run("excludedAttributes=members skips loading members", func(t *testing.T) {
		p := groups(t).ParseProjection("", "members")
		assert.False(t, p.Members)
		assert.True(t, p.Trivial())
	})
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`, `name.familyName co "O'Malley"`, `userName sw "J"`, `title pr`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`, `title pr and userType eq "Employee"`,
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`emails[type eq "work" and value co "@example.com"]`, `emails[type eq "work"].value eq "x"`,
		`not (userName eq "a")`,
	} {
		f.Add(s)
	}
	rt := users(f)
	f.Fuzz(func(t *testing.T, s string) {
		flt, l, err := rt.ParseFilter(s, Options{})
		if err == nil && flt == nil && l == nil {
			t.Fatalf("nil filter without error for %q", s)
		}
		if err == nil {
			storage.Match(flt, &storage.Resource{}, map[string]any{"userName": "x", "emails": []any{map[string]any{"value": "v"}}})
		}
	})
}

func FuzzApplyPatch(f *testing.F) {
	for _, s := range []string{
		`[{"op":"Replace","path":"active","value":"False"}]`,
		`[{"op":"replace","path":"emails[type eq \"work\"].value","value":"x"}]`,
		`[{"op":"replace","value":{"name.givenName":"G"}}]`,
		`[{"op":"remove","path":"emails[type eq \"work\"]"}]`,
		`[{"op":"replace","value":{"nickName":1,"NICKNAME":2,"name.givenName":"x","name":{"givenName":"y"}}}]`,
		`[{"op":"replace","path":"password","value":"x"},{"op":"remove","path":"shoeSize"}]`,
		`[{"op":"add","path":"emails","value":[{"primary":true,"value":"a"},{"primary":"True","value":"b"}]}]`,
	} {
		f.Add(s)
	}
	rt := users(f)
	f.Fuzz(func(t *testing.T, s string) {
		var ops []PatchOp
		if json.Unmarshal([]byte(s), &ops) != nil {
			return
		}
		doc, err := rt.Normalize(map[string]any{"userName": "a", "emails": []any{map[string]any{"type": "work", "value": "a"}}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = rt.ApplyPatch(doc, ops, Options{}) // must not panic
	})
}

func TestApplyPatchMembersErrors(t *testing.T) {
	tests := []struct{ name, ops string }{
		{"member value is a number", `[{"op":"add","path":"members","value":[{"value":5}]}]`},
		{"member without value", `[{"op":"add","path":"members","value":[{"display":"x"}]}]`},
		{"members is a string", `[{"op":"add","path":"members","value":"u1"}]`},
		{"display is a number", `[{"op":"replace","path":"members","value":[{"value":"u1","display":7}]}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := groups(t).Normalize(decode(t, `{"displayName":"Eng"}`), Options{})
			require.NoError(t, err)
			var ops []PatchOp
			require.NoError(t, json.Unmarshal([]byte(tc.ops), &ops))
			_, err = groups(t).ApplyPatch(doc, ops, Options{})
			requireScimType(t, err, "invalidValue")
		})
	}
	t.Run("a single member object is accepted", func(t *testing.T) {
		var ops []PatchOp
		require.NoError(t, json.Unmarshal([]byte(`[{"op":"add","path":"members","value":{"value":"u1"}}]`), &ops))
		mo, err := groups(t).ApplyPatch(map[string]any{"displayName": "Eng"}, ops, Options{})
		require.NoError(t, err)
		assert.Equal(t, []storage.Member{{Value: "u1"}}, mo.Change.Add)
	})
}

// requireScimType checks that err is a schema error with the scimType.
func requireScimType(t *testing.T, err error, scimType string) {
	t.Helper()
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, scimType, e.ScimType, e.Detail)
}
