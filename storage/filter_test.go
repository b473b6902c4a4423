package storage_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// matchDoc is the document every case is evaluated on.
const matchDoc = `{
	"userName": "Alice@Example.com",
	"nickName": "",
	"active": false,
	"loginCount": 3,
	"hireDate": "2024-03-01T14:00:00+02:00",
	"badDate": "not a date",
	"manager": null,
	"name": {"familyName": "Smith", "givenName": "Alice"},
	"tags": ["red", "Green"],
	"emptyList": [],
	"emptyObject": {},
	"emails": [
		{"value": "alice@example.com", "type": "work", "primary": true},
		{"value": "a.smith@home.example", "type": "home"},
		{"type": "other"}
	],
	"members": [{"value": "u1", "type": "User", "display": "Bob"}],
	"` + enterprise + `": {"employeeNumber": "701984", "manager": {"value": "boss"}}
}`

func TestMatch(t *testing.T) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(matchDoc), &doc))
	r := &storage.Resource{
		Kind:     storage.KindUser,
		ID:       "2819c223",
		Created:  time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC),
		Modified: time.Date(2024, time.March, 1, 12, 0, 0, 500, time.UTC),
	}

	str := func(name string, caseExact bool) storage.AttrPath {
		return storage.AttrPath{Name: name, Type: storage.TypeString, CaseExact: caseExact}
	}
	sub := func(name, sub string, typ storage.AttrType) storage.AttrPath {
		return storage.AttrPath{Name: name, Sub: sub, Type: typ}
	}
	cmp := func(p storage.AttrPath, op storage.Operator, v any) storage.Filter {
		return storage.Compare{Path: p, Op: op, Value: v}
	}
	userName := str("userName", false)
	id := str("id", true)
	active := storage.AttrPath{Name: "active", Type: storage.TypeBoolean}
	loginCount := storage.AttrPath{Name: "loginCount", Type: storage.TypeInteger}
	hireDate := storage.AttrPath{Name: "hireDate", Type: storage.TypeDateTime}
	badDate := storage.AttrPath{Name: "badDate", Type: storage.TypeDateTime}
	lastModified := sub("meta", "lastModified", storage.TypeDateTime)
	tags := storage.AttrPath{Name: "tags", Type: storage.TypeString, MultiValued: true}
	tagsExact := storage.AttrPath{Name: "tags", Type: storage.TypeString, CaseExact: true, MultiValued: true}
	emails := storage.AttrPath{Name: "emails", Type: storage.TypeComplex, MultiValued: true}
	emailsValue := storage.AttrPath{Name: "emails", Sub: "value", Type: storage.TypeString, MultiValued: true}
	emailsType := storage.AttrPath{Name: "emails", Sub: "type", Type: storage.TypeString, MultiValued: true}
	emailsPrimary := storage.AttrPath{Name: "emails", Sub: "primary", Type: storage.TypeBoolean, MultiValued: true}
	employeeNumber := storage.AttrPath{Schema: enterprise, Name: "employeeNumber", Type: storage.TypeString}
	extManager := storage.AttrPath{Schema: enterprise, Name: "manager", Sub: "value", Type: storage.TypeString}
	otherExt := storage.AttrPath{Schema: "urn:example:missing", Name: "x", Type: storage.TypeString}

	cases := []struct {
		name   string
		filter storage.Filter
		want   bool
	}{
		// Case-exactness (RFC 7643 §2.3.1, RFC 7644 §3.4.2.2).
		{"case-insensitive eq ignores case", cmp(userName, storage.OpEq, "alice@EXAMPLE.com"), true},
		{"case-exact eq respects case", cmp(str("userName", true), storage.OpEq, "alice@example.com"), false},
		{"case-exact eq matches the exact value", cmp(str("userName", true), storage.OpEq, "Alice@Example.com"), true},
		{"case-insensitive co", cmp(userName, storage.OpCo, "@EXAMPLE"), true},
		{"case-insensitive sw", cmp(userName, storage.OpSw, "ALICE"), true},
		{"case-insensitive ew", cmp(userName, storage.OpEw, ".COM"), true},
		{"case-exact sw respects case", cmp(str("userName", true), storage.OpSw, "alice"), false},
		{"case-insensitive ordering", cmp(userName, storage.OpGt, "ALICE@A"), true},
		{"id comes from the resource", cmp(id, storage.OpEq, "2819c223"), true},
		{"id is case-exact", cmp(id, storage.OpEq, "2819C223"), false},

		// Multi-valued: any value may match.
		{"multi-valued string matches any element", cmp(tags, storage.OpEq, "green"), true},
		{"multi-valued case-exact element", cmp(tagsExact, storage.OpEq, "green"), false},
		{"multi-valued sub-attribute matches any element", cmp(emailsType, storage.OpEq, "home"), true},
		{"multi-valued ne matches when any element differs", cmp(emailsType, storage.OpNe, "work"), true},
		{"multi-valued boolean sub-attribute", cmp(emailsPrimary, storage.OpEq, true), true},
		{"multi-valued sub-attribute with no match", cmp(emailsValue, storage.OpEq, "bob@example.com"), false},

		// Complex without sub-attribute compares "value".
		{"complex without sub-attribute compares value", cmp(emails, storage.OpEq, "A.Smith@home.example"), true},
		{"complex without sub-attribute does not compare type", cmp(emails, storage.OpEq, "home"), false},
		{"single complex sub-attribute", cmp(sub("name", "familyName", storage.TypeString), storage.OpEq, "smith"), true},
		{"members from the document", cmp(sub("members", "display", storage.TypeString), storage.OpEq, "bob"), true},

		// dateTime compares instants (RFC 7643 §2.3.5).
		{"dateTime eq across zones", cmp(hireDate, storage.OpEq, "2024-03-01T12:00:00Z"), true},
		{"dateTime gt", cmp(hireDate, storage.OpGt, "2024-03-01T11:59:59.999Z"), true},
		{"dateTime lt", cmp(hireDate, storage.OpLt, "2024-03-01T12:00:00Z"), false},
		{"dateTime le", cmp(hireDate, storage.OpLe, "2024-03-01T12:00:00Z"), true},
		{"dateTime ne", cmp(hireDate, storage.OpNe, "2024-03-01T12:00:00.001Z"), true},
		{"dateTime co is a substring test", cmp(hireDate, storage.OpCo, "2024-03-01T14:00:00+02:00"), true},
		{"dateTime sw is a substring test", cmp(hireDate, storage.OpSw, "2024-03"), true},
		{"meta.lastModified comes from the resource", cmp(lastModified, storage.OpGt, "2024-03-01T12:00:00Z"), true},
		{"meta.lastModified keeps nanoseconds", cmp(lastModified, storage.OpEq, "2024-03-01T12:00:00.0000005Z"), true},
		{"meta.created", cmp(sub("meta", "created", storage.TypeDateTime), storage.OpLt, "2024-01-01T00:00:01Z"), true},
		{"meta.resourceType", cmp(sub("meta", "resourceType", storage.TypeString), storage.OpEq, "user"), true},
		{"unparsable dateTime falls back to text", cmp(badDate, storage.OpEq, "NOT A DATE"), true},

		// Numbers and booleans.
		{"integer gt", cmp(loginCount, storage.OpGt, 2.0), true},
		{"integer le", cmp(loginCount, storage.OpLe, 2.0), false},
		{"boolean eq false", cmp(active, storage.OpEq, false), true},
		{"boolean ne", cmp(active, storage.OpNe, true), true},
		{"boolean has no order", cmp(active, storage.OpGt, false), false},
		{"type mismatch never equals", cmp(active, storage.OpEq, "false"), false},
		{"type mismatch is ne", cmp(active, storage.OpNe, "false"), true},

		// pr (RFC 7644 §3.4.2.2: present with a non-empty or non-null value).
		{"pr on a non-empty string", cmp(userName, storage.OpPresent, nil), true},
		{"pr on an empty string", cmp(str("nickName", false), storage.OpPresent, nil), false},
		{"pr on false", cmp(active, storage.OpPresent, nil), true},
		{"pr on null", cmp(str("manager", false), storage.OpPresent, nil), false},
		{"pr on a missing attribute", cmp(str("title", false), storage.OpPresent, nil), false},
		{"pr on an empty list", cmp(str("emptyList", false), storage.OpPresent, nil), false},
		{"pr on an empty object", cmp(str("emptyObject", false), storage.OpPresent, nil), false},
		{"pr on a sub-attribute some element has", cmp(emailsPrimary, storage.OpPresent, nil), true},
		{"pr on an absent externalId", cmp(str("externalId", true), storage.OpPresent, nil), false},

		// Missing attributes and nulls.
		{"eq on a missing attribute", cmp(str("title", false), storage.OpEq, "x"), false},
		{"ne on a missing attribute", cmp(str("title", false), storage.OpNe, "x"), true},
		{"gt on a missing attribute", cmp(str("title", false), storage.OpGt, "a"), false},
		{"eq null on a missing attribute", cmp(str("title", false), storage.OpEq, nil), true},
		{"eq null on a null attribute", cmp(str("manager", false), storage.OpEq, nil), true},
		{"eq null on a present attribute", cmp(userName, storage.OpEq, nil), false},
		{"ne null on a present attribute", cmp(userName, storage.OpNe, nil), true},
		{"ne null on a missing attribute", cmp(str("title", false), storage.OpNe, nil), false},
		{"eq null on an absent externalId", cmp(str("externalId", true), storage.OpEq, nil), true},
		{"ne on a sub-attribute an element lacks", cmp(emailsValue, storage.OpNe, "alice@example.com"), true},

		// Extensions live under their URN.
		{"extension attribute", cmp(employeeNumber, storage.OpEq, "701984"), true},
		{"extension sub-attribute", cmp(extManager, storage.OpEq, "BOSS"), true},
		{"core attribute of the same name is not the extension's", cmp(storage.AttrPath{Name: "employeeNumber", Type: storage.TypeString}, storage.OpPresent, nil), false},
		{"missing extension", cmp(otherExt, storage.OpPresent, nil), false},

		// Logic and value paths.
		{"nil matches everything", nil, true},
		{"and", storage.And{Left: cmp(active, storage.OpEq, false), Right: cmp(userName, storage.OpSw, "alice")}, true},
		{"and with one side false", storage.And{Left: cmp(active, storage.OpEq, true), Right: cmp(userName, storage.OpSw, "alice")}, false},
		{"or", storage.Or{Left: cmp(active, storage.OpEq, true), Right: cmp(userName, storage.OpSw, "alice")}, true},
		{"not", storage.Not{X: cmp(active, storage.OpEq, true)}, true},
		{
			"value path needs one element matching every part",
			storage.ValuePath{Path: emails, Filter: storage.And{Left: cmp(emailsType, storage.OpEq, "work"), Right: cmp(emailsValue, storage.OpEq, "a.smith@home.example")}},
			false,
		},
		{
			"value path with a matching element",
			storage.ValuePath{Path: emails, Filter: storage.And{Left: cmp(emailsType, storage.OpEq, "HOME"), Right: cmp(emailsValue, storage.OpEw, "home.example")}},
			true,
		},
		{
			"value path with bare sub-attribute names",
			storage.ValuePath{Path: emails, Filter: cmp(storage.AttrPath{Name: "primary", Type: storage.TypeBoolean}, storage.OpEq, true)},
			true,
		},
		{
			"value path with or and not",
			storage.ValuePath{Path: emails, Filter: storage.Or{Left: cmp(emailsType, storage.OpEq, "none"), Right: storage.Not{X: cmp(emailsValue, storage.OpPresent, nil)}}},
			true,
		},
		{"value path on a missing attribute", storage.ValuePath{Path: storage.AttrPath{Name: "addresses", Type: storage.TypeComplex}, Filter: cmp(str("type", false), storage.OpPresent, nil)}, false},
		{"value path skips elements that are not objects", storage.ValuePath{Path: tags, Filter: cmp(str("value", false), storage.OpEq, "red")}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, storage.Match(tc.filter, r, doc))
		})
	}
}

func TestUses(t *testing.T) {
	members := storage.Compare{Path: storage.AttrPath{Name: "members", Sub: "value"}, Op: storage.OpEq, Value: "u1"}
	extMembers := storage.Compare{Path: storage.AttrPath{Schema: "urn:example", Name: "members"}, Op: storage.OpPresent}
	other := storage.Compare{Path: storage.AttrPath{Name: "displayName"}, Op: storage.OpPresent}
	cases := []struct {
		name   string
		filter storage.Filter
		want   bool
	}{
		{"nil", nil, false},
		{"compare on the attribute", members, true},
		{"compare on another attribute", other, false},
		{"same name in an extension", extMembers, false},
		{"value path", storage.ValuePath{Path: storage.AttrPath{Name: "members"}, Filter: other}, true},
		{"nested in and, or and not", storage.And{Left: other, Right: storage.Or{Left: other, Right: storage.Not{X: members}}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, storage.Uses(tc.filter, "members"))
		})
	}
}
