package storagetest

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// scribble overwrites every mutable part of r.
func scribble(r *storage.Resource) {
	r.Name = "mallory@example.com"
	r.ExternalID = "scribbled"
	r.Version = 99
	for i := range r.Emails {
		r.Emails[i] = "scribbled@example.com"
	}
	for i := range r.Data {
		r.Data[i] = 'X'
	}
}

// state is a deep copy of tenantA's users, groups and g1's members.
type state struct {
	resources []storage.Resource
	members   []storage.Member
}

func snapshot(t *testing.T, s storage.Store) state {
	t.Helper()
	var st state
	for _, kind := range []storage.Kind{storage.KindUser, storage.KindGroup} {
		for _, r := range mustList(t, s, tenantA, storage.Query{Kind: kind, Count: -1}).Resources {
			r.Emails = slices.Clone(r.Emails)
			r.Data = bytes.Clone(r.Data)
			st.resources = append(st.resources, r)
		}
	}
	st.members = slices.Clone(mustMembers(t, s, tenantA, "g1"))
	return st
}

func assertState(t *testing.T, want, got state) {
	t.Helper()
	if assert.Len(t, got.resources, len(want.resources)) {
		for i := range want.resources {
			assertResource(t, &want.resources[i], &got.resources[i])
		}
	}
	assert.Equal(t, want.members, got.members)
}

func testAliasing(t *testing.T, newStore newStoreFunc) {
	cases := []struct {
		name string
		// run calls s and returns a func that mutates what it passed or got.
		run func(t *testing.T, s storage.Store) (mutate func())
	}{
		{"changing a resource after create", func(t *testing.T, s storage.Store) func() {
			r := newUser(t, "u2", "bob@example.com", attrs{"emails": []attrs{{"value": "bob@example.com"}}})
			mustCreate(t, s, tenantA, r)
			return func() { scribble(r) }
		}},
		{"changing a resource returned by get", func(t *testing.T, s storage.Store) func() {
			r := mustGet(t, s, tenantA, storage.KindUser, "u1")
			return func() { scribble(r) }
		}},
		{"changing resources returned by list", func(t *testing.T, s storage.Store) func() {
			var pages []storage.Page
			for _, q := range []storage.Query{
				{Kind: storage.KindUser, Count: -1},
				{Kind: storage.KindUser, Count: -1, Filter: eq(pID, "u1")},
				{Kind: storage.KindUser, Count: -1, Lookup: &storage.Lookup{Field: storage.LookupID, Value: "u1"}},
			} {
				p := mustList(t, s, tenantA, q)
				require.NotEmpty(t, p.Resources)
				pages = append(pages, p)
			}
			return func() {
				for _, p := range pages {
					for i := range p.Resources {
						scribble(&p.Resources[i])
					}
				}
			}
		}},
		{"changing a resource after replace", func(t *testing.T, s storage.Store) func() {
			r := mustGet(t, s, tenantA, storage.KindUser, "u1")
			require.NoError(t, s.Replace(t.Context(), tenantA, r))
			return func() { scribble(r) }
		}},
		{"changing the added members after a change", func(t *testing.T, s storage.Store) func() {
			ms := []storage.Member{{Value: "u1", Display: "Alice"}}
			mustChange(t, s, tenantA, "g1", storage.MemberChange{Add: ms})
			return func() { ms[0].Value, ms[0].Display = "mallory", "Mallory" }
		}},
		{"changing the removed ids after a change", func(t *testing.T, s storage.Store) func() {
			ids := []string{"nobody"}
			mustChange(t, s, tenantA, "g1", storage.MemberChange{Remove: ids})
			return func() { ids[0] = "u1" }
		}},
		{"changing members returned by list members", func(t *testing.T, s storage.Store) func() {
			ms := mustMembers(t, s, tenantA, "g1")
			require.NotEmpty(t, ms)
			return func() {
				for i := range ms {
					ms[i] = storage.Member{Value: "mallory", Display: "Mallory"}
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			mustCreate(t, s, tenantA,
				newUser(t, "u1", "alice@example.com", attrs{"emails": []attrs{{"value": "alice@example.com"}}}),
				newGroup(t, "g1", "Admins", nil))
			mustChange(t, s, tenantA, "g1", storage.MemberChange{Add: []storage.Member{{Value: "u1", Display: "Alice"}}})

			mutate := tc.run(t, s)
			before := snapshot(t, s)
			mutate()
			assertState(t, before, snapshot(t, s))

			// The indexes still find the originals.
			p := mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser, Count: -1,
				Lookup: &storage.Lookup{Field: storage.LookupName, Value: "alice@example.com"}})
			assert.Equal(t, []string{"u1"}, ids(p.Resources))
		})
	}
}
