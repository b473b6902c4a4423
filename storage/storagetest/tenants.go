package storagetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

func testTenants(t *testing.T, newStore newStoreFunc) {
	t.Run("the same id and name in two tenants are independent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		a := newUser(t, "u1", "alice@example.com", attrs{"title": "in A"})
		b := newUser(t, "u1", "alice@example.com", attrs{"title": "in B"})
		mustCreate(t, s, tenantA, a)
		mustCreate(t, s, tenantB, b)
		mustCreate(t, s, tenantA, newGroup(t, "g1", "Admins", nil))
		mustCreate(t, s, tenantB, newGroup(t, "g1", "Admins", nil))
		mustChange(t, s, tenantA, "g1", add("u1"))
		mustChange(t, s, tenantB, "g1", add("u1"))

		assertResource(t, a, mustGet(t, s, tenantA, storage.KindUser, "u1"))
		assertResource(t, b, mustGet(t, s, tenantB, storage.KindUser, "u1"))

		r := mustGet(t, s, tenantA, storage.KindUser, "u1")
		r.Data = []byte(`{"title":"changed in A"}`)
		require.NoError(t, s.Replace(t.Context(), tenantA, r))
		assertResource(t, b, mustGet(t, s, tenantB, storage.KindUser, "u1"))

		require.NoError(t, s.Delete(t.Context(), tenantA, storage.KindUser, "u1"))
		assertResource(t, b, mustGet(t, s, tenantB, storage.KindUser, "u1"))
		assert.Empty(t, mustMembers(t, s, tenantA, "g1"))
		assert.Equal(t, []string{"u1"}, memberIDs(mustMembers(t, s, tenantB, "g1")), "membership in B survives")
	})

	t.Run("another tenant's resources are not found", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name string
			op   func(ctx context.Context, s storage.Store) error
		}{
			{"get", func(ctx context.Context, s storage.Store) error {
				_, err := s.Get(ctx, tenantB, storage.KindUser, "a-user")
				return err
			}},
			{"replace", func(ctx context.Context, s storage.Store) error {
				return s.Replace(ctx, tenantB, &storage.Resource{Kind: storage.KindUser, ID: "a-user", Name: "x", Version: 1})
			}},
			{"delete", func(ctx context.Context, s storage.Store) error {
				return s.Delete(ctx, tenantB, storage.KindUser, "a-user")
			}},
			{"change members", func(ctx context.Context, s storage.Store) error {
				return s.ChangeMembers(ctx, tenantB, "a-group", storage.MemberChange{})
			}},
			{"list members", func(ctx context.Context, s storage.Store) error {
				_, err := s.ListMembers(ctx, tenantB, "a-group")
				return err
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				mustCreate(t, s, tenantA, newUser(t, "a-user", "alice@example.com", nil), newGroup(t, "a-group", "Admins", nil))
				mustCreate(t, s, tenantB, newUser(t, "b-user", "bob@example.com", nil), newGroup(t, "b-group", "Staff", nil))
				beforeUser := mustGet(t, s, tenantA, storage.KindUser, "a-user")
				beforeGroup := mustGet(t, s, tenantA, storage.KindGroup, "a-group")

				require.ErrorIs(t, tc.op(t.Context(), s), storage.ErrNotFound)
				assertResource(t, beforeUser, mustGet(t, s, tenantA, storage.KindUser, "a-user"))
				assertResource(t, beforeGroup, mustGet(t, s, tenantA, storage.KindGroup, "a-group"))
			})
		}
	})

	t.Run("lists show only the tenant's own resources", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		mustCreate(t, s, tenantA,
			newUser(t, "a1", "alice@example.com", attrs{"externalId": "x", "emails": []attrs{{"value": "alice@example.com"}}}),
			newUser(t, "a2", "bob@example.com", nil))
		mustCreate(t, s, tenantB, newUser(t, "b1", "carol@example.com", nil))

		cases := []struct {
			name   string
			tenant string
			q      storage.Query
			want   []string
		}{
			{"plain list in A", tenantA, storage.Query{}, []string{"a1", "a2"}},
			{"plain list in B", tenantB, storage.Query{}, []string{"b1"}},
			{"filter in B", tenantB, storage.Query{Filter: storage.Compare{Path: pUserName, Op: storage.OpPresent}}, []string{"b1"}},
			{"id lookup of A's user in B", tenantB, storage.Query{Lookup: &storage.Lookup{Field: storage.LookupID, Value: "a1"}}, []string{}},
			{"name lookup of A's user in B", tenantB, storage.Query{Lookup: &storage.Lookup{Field: storage.LookupName, Value: "alice@example.com"}}, []string{}},
			{"externalId lookup of A's user in B", tenantB, storage.Query{Lookup: &storage.Lookup{Field: storage.LookupExternalID, Value: "x"}}, []string{}},
			{"email lookup of A's user in B", tenantB, storage.Query{Lookup: &storage.Lookup{Field: storage.LookupEmail, Value: "alice@example.com"}}, []string{}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				q := tc.q
				q.Kind = storage.KindUser
				q.Count = -1
				p := mustList(t, s, tc.tenant, q)
				assert.Equal(t, tc.want, ids(p.Resources))
				assert.Equal(t, len(tc.want), p.Total)
			})
		}
	})

	t.Run("another tenant's user is an invalid member", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		mustCreate(t, s, tenantA, newUser(t, "a-user", "alice@example.com", nil), newGroup(t, "a-group", "Admins", nil))
		mustCreate(t, s, tenantB, newUser(t, "b-user", "bob@example.com", nil), newGroup(t, "b-group", "Staff", nil))
		mustChange(t, s, tenantA, "a-group", add("a-user"))
		before := mustGet(t, s, tenantA, storage.KindGroup, "a-group")

		err := s.ChangeMembers(t.Context(), tenantA, "a-group", add("b-user"))
		require.ErrorIs(t, err, storage.ErrInvalidMember)
		err = s.ChangeMembers(t.Context(), tenantA, "a-group", add("b-group"))
		require.ErrorIs(t, err, storage.ErrInvalidMember)

		assert.Equal(t, []string{"a-user"}, memberIDs(mustMembers(t, s, tenantA, "a-group")))
		assertResource(t, before, mustGet(t, s, tenantA, storage.KindGroup, "a-group"))
	})
}
