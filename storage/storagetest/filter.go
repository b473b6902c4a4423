package storagetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/scimkit/scimkit/storage"
)

// Attribute paths as the server's filter resolver produces them.
var (
	pID          = storage.AttrPath{Name: "id", Type: storage.TypeString, CaseExact: true}
	pExternalID  = storage.AttrPath{Name: "externalId", Type: storage.TypeString, CaseExact: true}
	pUserName    = storage.AttrPath{Name: "userName", Type: storage.TypeString}
	pDisplayName = storage.AttrPath{Name: "displayName", Type: storage.TypeString}
	pTitle       = storage.AttrPath{Name: "title", Type: storage.TypeString}
	pActive      = storage.AttrPath{Name: "active", Type: storage.TypeBoolean}
	pFamilyName  = storage.AttrPath{Name: "name", Sub: "familyName", Type: storage.TypeString}
	pEmails      = storage.AttrPath{Name: "emails", Type: storage.TypeComplex, MultiValued: true}
	pEmailsValue = storage.AttrPath{Name: "emails", Sub: "value", Type: storage.TypeString, MultiValued: true}
	pEmailsType  = storage.AttrPath{Name: "emails", Sub: "type", Type: storage.TypeString, MultiValued: true}
	pLastMod     = storage.AttrPath{Name: "meta", Sub: "lastModified", Type: storage.TypeDateTime}
	pEmployeeNo  = storage.AttrPath{Schema: enterprise, Name: "employeeNumber", Type: storage.TypeString}
	pDepartment  = storage.AttrPath{Schema: enterprise, Name: "department", Type: storage.TypeString}
	pManagerVal  = storage.AttrPath{Schema: enterprise, Name: "manager", Sub: "value", Type: storage.TypeString, CaseExact: true}
	pMembers     = storage.AttrPath{Name: "members", Type: storage.TypeComplex, MultiValued: true}
	pMembersVal  = storage.AttrPath{Name: "members", Sub: "value", Type: storage.TypeString, CaseExact: true, MultiValued: true}
	pMembersType = storage.AttrPath{Name: "members", Sub: "type", Type: storage.TypeString, MultiValued: true}
	pMembersDisp = storage.AttrPath{Name: "members", Sub: "display", Type: storage.TypeString, MultiValued: true}
)

func eq(p storage.AttrPath, v any) storage.Compare {
	return storage.Compare{Path: p, Op: storage.OpEq, Value: v}
}

// seedDirectory creates, in this order, users alice, bob, carol and dave
// (modified an hour apart from t0) and groups admins (alice displayed as
// "Alice Smith", bob), staff
// (carol, admins) and empty.
func seedDirectory(t *testing.T, s storage.Store) {
	t.Helper()
	users := []*storage.Resource{
		newUser(t, "alice", "alice@example.com", attrs{
			"externalId": "ext-1",
			"active":     true,
			"title":      "Engineer",
			"name":       attrs{"givenName": "Alice", "familyName": "Smith"},
			"emails": []attrs{
				{"value": "Alice@Example.com", "type": "work", "primary": true},
				{"value": "shared@example.com", "type": "home"},
			},
			enterprise: attrs{"employeeNumber": "701984", "department": "R&D", "manager": attrs{"value": "bob"}},
		}),
		newUser(t, "bob", "bob@example.com", attrs{
			"externalId": "ext-2",
			"active":     false,
			"title":      "Manager",
			"emails":     []attrs{{"value": "bob@example.com", "type": "home"}},
			enterprise:   attrs{"employeeNumber": "42"},
		}),
		newUser(t, "carol", "Carol@Example.org", attrs{
			"externalId": "ext-1",
			"active":     true,
			"emails": []attrs{
				{"value": "carol@example.org", "type": "work"},
				{"value": "SHARED@example.com", "type": "work"},
			},
		}),
		newUser(t, "dave", "dave@example.org", nil),
	}
	for i, u := range users {
		u.Modified = t0.Add(time.Duration(i) * time.Hour)
	}
	mustCreate(t, s, tenantA, users...)
	mustCreate(t, s, tenantA,
		newGroup(t, "admins", "Admins", nil),
		newGroup(t, "staff", "Staff", nil),
		newGroup(t, "empty", "Empty", nil))
	mustChange(t, s, tenantA, "admins", storage.MemberChange{Add: []storage.Member{{Value: "alice", Display: "Alice Smith"}, {Value: "bob"}}})
	mustChange(t, s, tenantA, "staff", add("carol", "admins"))
}

func testFilter(t *testing.T, newStore newStoreFunc) {
	t.Parallel()
	// The cases only read, so they share one seeded store.
	s := newStore(t)
	seedDirectory(t, s)

	type F = storage.Filter
	and := func(l, r F) F { return storage.And{Left: l, Right: r} }
	or := func(l, r F) F { return storage.Or{Left: l, Right: r} }
	not := func(x F) F { return storage.Not{X: x} }
	cmp := func(p storage.AttrPath, op storage.Operator, v any) F {
		return storage.Compare{Path: p, Op: op, Value: v}
	}

	cases := []struct {
		name   string
		kind   storage.Kind
		filter storage.Filter
		want   []string
	}{
		{"eq on a case-insensitive string ignores case", "", eq(pUserName, "ALICE@example.COM"), []string{"alice"}},
		{"co on a data attribute", "", cmp(pTitle, storage.OpCo, "GINE"), []string{"alice"}},
		{"sw on userName", "", cmp(pUserName, storage.OpSw, "bob"), []string{"bob"}},
		{"ew on userName", "", cmp(pUserName, storage.OpEw, "@example.ORG"), []string{"carol", "dave"}},
		{"pr on a data attribute", "", cmp(pTitle, storage.OpPresent, nil), []string{"alice", "bob"}},
		{"boolean eq false", "", eq(pActive, false), []string{"bob"}},
		{"boolean eq true", "", eq(pActive, true), []string{"alice", "carol"}},
		{"sub-attribute of a single complex attribute", "", eq(pFamilyName, "smith"), []string{"alice"}},
		{
			"valuePath needs one element matching both",
			"", storage.ValuePath{Path: pEmails, Filter: and(eq(pEmailsType, "work"), eq(pEmailsValue, "carol@example.org"))},
			[]string{"carol"},
		},
		{
			"valuePath does not mix elements",
			"", storage.ValuePath{Path: pEmails, Filter: and(eq(pEmailsType, "work"), eq(pEmailsValue, "shared@example.com"))},
			[]string{"carol"},
		},
		{"multi-valued sub-attribute matches any element", "", eq(pEmailsType, "home"), []string{"alice", "bob"}},
		{"complex attribute without sub-attribute compares value", "", eq(pEmails, "shared@example.com"), []string{"alice", "carol"}},
		{"or", "", or(eq(pUserName, "bob@example.com"), eq(pTitle, "engineer")), []string{"alice", "bob"}},
		{"not includes resources missing the attribute", "", not(eq(pActive, true)), []string{"bob", "dave"}},
		{"and", "", and(eq(pActive, true), eq(pEmailsType, "work")), []string{"alice", "carol"}},
		{"extension attribute under its URN", "", eq(pEmployeeNo, "42"), []string{"bob"}},
		{"pr on an extension attribute", "", cmp(pDepartment, storage.OpPresent, nil), []string{"alice"}},
		{"sub-attribute of an extension attribute", "", eq(pManagerVal, "bob"), []string{"alice"}},
		{"id eq", "", eq(pID, "carol"), []string{"carol"}},
		{"id is case-exact", "", eq(pID, "CAROL"), []string{}},
		{"externalId eq", "", eq(pExternalID, "ext-1"), []string{"alice", "carol"}},
		{"externalId pr", "", cmp(pExternalID, storage.OpPresent, nil), []string{"alice", "bob", "carol"}},
		{
			"meta.lastModified gt",
			"", cmp(pLastMod, storage.OpGt, t0.Add(90*time.Minute).Format(time.RFC3339Nano)),
			[]string{"carol", "dave"},
		},
		{
			"meta.lastModified le in another zone",
			"", cmp(pLastMod, storage.OpLe, t0.Add(time.Hour).In(time.FixedZone("UTC+2", 7200)).Format(time.RFC3339Nano)),
			[]string{"alice", "bob"},
		},
		{"no match returns nothing", "", eq(pTitle, "CEO"), []string{}},
		{"group displayName", storage.KindGroup, eq(pDisplayName, "staff"), []string{"staff"}},
		{"group by member value", storage.KindGroup, eq(pMembersVal, "bob"), []string{"admins"}},
		{
			"group by member type",
			storage.KindGroup, storage.ValuePath{Path: pMembers, Filter: eq(pMembersType, "Group")},
			[]string{"staff"},
		},
		{"group by member display", storage.KindGroup, cmp(pMembersDisp, storage.OpCo, "SMITH"), []string{"admins"}},
		{"groups having members", storage.KindGroup, cmp(pMembers, storage.OpPresent, nil), []string{"admins", "staff"}},
		{"groups without members", storage.KindGroup, not(cmp(pMembers, storage.OpPresent, nil)), []string{"empty"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kind := tc.kind
			if kind == "" {
				kind = storage.KindUser
			}
			p := mustList(t, s, tenantA, storage.Query{Kind: kind, Filter: tc.filter, Count: -1})
			assert.Equal(t, tc.want, ids(p.Resources))
			assert.Equal(t, len(tc.want), p.Total)
		})
	}
}
