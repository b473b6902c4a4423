package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// seedMembers creates users ann, ben, cat and empty groups g1 "Admins"
// and g2 "Staff" in tenantA.
func seedMembers(t *testing.T, s storage.Store) {
	t.Helper()
	mustCreate(t, s, tenantA,
		newUser(t, "ann", "ann@example.com", nil),
		newUser(t, "ben", "ben@example.com", nil),
		newUser(t, "cat", "cat@example.com", nil),
		newGroup(t, "g1", "Admins", nil),
		newGroup(t, "g2", "Staff", nil))
}

func user(id, display string) storage.Member {
	return storage.Member{Value: id, Type: storage.KindUser, Display: display}
}

func testMembers(t *testing.T, newStore newStoreFunc) {
	t.Run("changes", func(t *testing.T) {
		t.Parallel()
		m := func(id, display string) storage.Member { return storage.Member{Value: id, Display: display} }
		cases := []struct {
			name    string
			changes []storage.MemberChange
			want    []storage.Member
		}{
			{
				name:    "a new group has no members",
				changes: nil,
				want:    []storage.Member{},
			},
			{
				name:    "members are listed in the order they were added",
				changes: []storage.MemberChange{add("ben", "ann"), add("cat")},
				want:    []storage.Member{user("ben", ""), user("ann", ""), user("cat", "")},
			},
			{
				name:    "a group member gets type Group",
				changes: []storage.MemberChange{add("g2", "ann")},
				want:    []storage.Member{{Value: "g2", Type: storage.KindGroup}, user("ann", "")},
			},
			{
				name: "the type the caller sends is ignored",
				changes: []storage.MemberChange{{Add: []storage.Member{
					{Value: "ann", Type: storage.KindGroup},
					{Value: "g2", Type: storage.KindUser},
				}}},
				want: []storage.Member{user("ann", ""), {Value: "g2", Type: storage.KindGroup}},
			},
			{
				name: "re-adding a member keeps its position and updates Display",
				changes: []storage.MemberChange{
					{Add: []storage.Member{m("ann", "Ann"), m("ben", "Ben")}},
					{Add: []storage.Member{m("ann", "Ann B.")}},
				},
				want: []storage.Member{user("ann", "Ann B."), user("ben", "Ben")},
			},
			{
				name:    "a value added twice in one change is kept once with the last Display",
				changes: []storage.MemberChange{{Add: []storage.Member{m("ann", "one"), m("ben", ""), m("ann", "two")}}},
				want:    []storage.Member{user("ann", "two"), user("ben", "")},
			},
			{
				name:    "remove drops the member",
				changes: []storage.MemberChange{add("ann", "ben", "cat"), {Remove: []string{"ben"}}},
				want:    []storage.Member{user("ann", ""), user("cat", "")},
			},
			{
				name:    "removing an absent or unknown member is a no-op",
				changes: []storage.MemberChange{add("ann"), {Remove: []string{"ben", "nobody"}}},
				want:    []storage.Member{user("ann", "")},
			},
			{
				name:    "remove applies before add, so the member moves to the end",
				changes: []storage.MemberChange{add("ann", "ben"), {Remove: []string{"ann"}, Add: []storage.Member{m("ann", "")}}},
				want:    []storage.Member{user("ben", ""), user("ann", "")},
			},
			{
				name:    "a removed member added again goes to the end",
				changes: []storage.MemberChange{add("ann", "ben"), {Remove: []string{"ann"}}, add("ann")},
				want:    []storage.Member{user("ben", ""), user("ann", "")},
			},
			{
				name:    "replace-all clears the set before adding",
				changes: []storage.MemberChange{add("ann", "ben"), {ReplaceAll: true, Add: []storage.Member{m("cat", ""), m("ann", "")}}},
				want:    []storage.Member{user("cat", ""), user("ann", "")},
			},
			{
				name:    "replace-all without additions empties the group",
				changes: []storage.MemberChange{add("ann", "ben"), {ReplaceAll: true}},
				want:    []storage.Member{},
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				seedMembers(t, s)
				for _, ch := range tc.changes {
					mustChange(t, s, tenantA, "g1", ch)
				}
				got := mustMembers(t, s, tenantA, "g1")
				if len(tc.want) == 0 {
					assert.Empty(t, got)
				} else {
					assert.Equal(t, tc.want, got)
				}
				g := mustGet(t, s, tenantA, storage.KindGroup, "g1")
				assert.Equal(t, int64(1+len(tc.changes)), g.Version, "one version per change")
			})
		}
	})

	t.Run("a change bumps Version and sets Modified even when the set stays the same", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		seedMembers(t, s)
		mustChange(t, s, tenantA, "g1", storage.MemberChange{Modified: t0.Add(time.Hour)})
		g := mustGet(t, s, tenantA, storage.KindGroup, "g1")
		assert.Equal(t, int64(2), g.Version)
		assert.WithinDuration(t, t0.Add(time.Hour), g.Modified, 0)
		assert.WithinDuration(t, t0, g.Created, 0)

		ch := add("ann")
		ch.Modified = t0.Add(2 * time.Hour)
		mustChange(t, s, tenantA, "g1", ch)
		g = mustGet(t, s, tenantA, storage.KindGroup, "g1")
		assert.Equal(t, int64(3), g.Version)
		assert.WithinDuration(t, t0.Add(2*time.Hour), g.Modified, 0)

		// A replace with the version read after the change succeeds; one
		// with the version before it is stale.
		stale := *g
		stale.Version = 2
		require.ErrorIs(t, s.Replace(t.Context(), tenantA, &stale), storage.ErrVersionMismatch)
		require.NoError(t, s.Replace(t.Context(), tenantA, g))
	})

	t.Run("an invalid member rejects the whole change", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name string
			ch   storage.MemberChange
		}{
			{"unknown id among valid ones", storage.MemberChange{Remove: []string{"ann"}, Add: []storage.Member{{Value: "cat"}, {Value: "nobody"}}}},
			{"unknown id with replace-all", storage.MemberChange{ReplaceAll: true, Add: []storage.Member{{Value: "nobody"}}}},
			{"empty value", storage.MemberChange{Add: []storage.Member{{Value: ""}}}},
			{"deleted user", storage.MemberChange{Add: []storage.Member{{Value: "gone"}}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				seedMembers(t, s)
				mustCreate(t, s, tenantA, newUser(t, "gone", "gone@example.com", nil))
				require.NoError(t, s.Delete(t.Context(), tenantA, storage.KindUser, "gone"))
				mustChange(t, s, tenantA, "g1", add("ann", "ben"))
				before := mustGet(t, s, tenantA, storage.KindGroup, "g1")

				tc.ch.Modified = t0.Add(time.Hour)
				require.ErrorIs(t, s.ChangeMembers(t.Context(), tenantA, "g1", tc.ch), storage.ErrInvalidMember)

				assert.Equal(t, []storage.Member{user("ann", ""), user("ben", "")}, mustMembers(t, s, tenantA, "g1"))
				assertResource(t, before, mustGet(t, s, tenantA, storage.KindGroup, "g1"))
			})
		}
	})

	t.Run("missing groups are not found", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name string
			op   func(ctx context.Context, s storage.Store) error
		}{
			{"change members of a missing group", func(ctx context.Context, s storage.Store) error {
				return s.ChangeMembers(ctx, tenantA, "nope", add("ann"))
			}},
			{"change members of a user", func(ctx context.Context, s storage.Store) error {
				return s.ChangeMembers(ctx, tenantA, "ann", add("ben"))
			}},
			{"list members of a missing group", func(ctx context.Context, s storage.Store) error {
				_, err := s.ListMembers(ctx, tenantA, "nope")
				return err
			}},
			{"list members of a user", func(ctx context.Context, s storage.Store) error {
				_, err := s.ListMembers(ctx, tenantA, "ann")
				return err
			}},
			{"list members of a deleted group", func(ctx context.Context, s storage.Store) error {
				if err := s.Delete(ctx, tenantA, storage.KindGroup, "g2"); err != nil {
					return err
				}
				_, err := s.ListMembers(ctx, tenantA, "g2")
				return err
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				seedMembers(t, s)
				require.ErrorIs(t, tc.op(t.Context(), s), storage.ErrNotFound)
			})
		}
	})

	t.Run("deletes remove memberships", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name   string
			delete func(ctx context.Context, s storage.Store) error
			want   map[string][]string // group id -> member ids
		}{
			{
				name: "deleting a user removes it from every group",
				delete: func(ctx context.Context, s storage.Store) error {
					return s.Delete(ctx, tenantA, storage.KindUser, "ann")
				},
				want: map[string][]string{"g1": {"ben", "g2"}, "g2": {"cat"}},
			},
			{
				name: "deleting a group removes it from the groups it belongs to",
				delete: func(ctx context.Context, s storage.Store) error {
					return s.Delete(ctx, tenantA, storage.KindGroup, "g2")
				},
				want: map[string][]string{"g1": {"ann", "ben"}},
			},
			{
				name: "a user re-created with a deleted id is not a member",
				delete: func(ctx context.Context, s storage.Store) error {
					if err := s.Delete(ctx, tenantA, storage.KindUser, "ann"); err != nil {
						return err
					}
					return s.Create(ctx, tenantA, &storage.Resource{Kind: storage.KindUser, ID: "ann", Name: "ann2", Data: []byte(`{}`)})
				},
				want: map[string][]string{"g1": {"ben", "g2"}, "g2": {"cat"}},
			},
			{
				name: "a group re-created with a deleted id has no members",
				delete: func(ctx context.Context, s storage.Store) error {
					if err := s.Delete(ctx, tenantA, storage.KindGroup, "g2"); err != nil {
						return err
					}
					return s.Create(ctx, tenantA, &storage.Resource{Kind: storage.KindGroup, ID: "g2", Name: "Staff", Data: []byte(`{}`)})
				},
				want: map[string][]string{"g1": {"ann", "ben"}, "g2": {}},
			},
			{
				name: "deleting a group keeps its members' other groups",
				delete: func(ctx context.Context, s storage.Store) error {
					return s.Delete(ctx, tenantA, storage.KindGroup, "g1")
				},
				want: map[string][]string{"g2": {"ann", "cat"}},
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				seedMembers(t, s)
				mustChange(t, s, tenantA, "g1", add("ann", "ben", "g2"))
				mustChange(t, s, tenantA, "g2", add("ann", "cat"))

				require.NoError(t, tc.delete(t.Context(), s))
				for g, want := range tc.want {
					assert.Equal(t, want, memberIDs(mustMembers(t, s, tenantA, g)), "members of %s", g)
				}
				// Deleting the remaining users afterwards still works.
				for _, id := range []string{"ben", "cat"} {
					require.NoError(t, s.Delete(t.Context(), tenantA, storage.KindUser, id))
				}
			})
		}
	})

	t.Run("replacing a group keeps its members", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		seedMembers(t, s)
		mustChange(t, s, tenantA, "g1", add("ann", "ben"))
		g := mustGet(t, s, tenantA, storage.KindGroup, "g1")
		g.Name = "Administrators"
		g.Data = []byte(`{"displayName":"Administrators"}`)
		require.NoError(t, s.Replace(t.Context(), tenantA, g))
		assert.Equal(t, []string{"ann", "ben"}, memberIDs(mustMembers(t, s, tenantA, "g1")))
	})

	t.Run("a large group changes and lists correctly", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		seedMembers(t, s)
		var all []string
		for i := range 300 {
			u := newUser(t, fmt.Sprintf("bulk-%03d", i), fmt.Sprintf("bulk%03d@example.com", i), nil)
			mustCreate(t, s, tenantA, u)
			all = append(all, u.ID)
		}
		mustChange(t, s, tenantA, "g1", add(all...))
		// Remove two members in three, then re-add a few.
		var removed, want []string
		for i, id := range all {
			if i%3 != 1 {
				removed = append(removed, id)
			} else {
				want = append(want, id)
			}
		}
		mustChange(t, s, tenantA, "g1", storage.MemberChange{Remove: removed})
		mustChange(t, s, tenantA, "g1", add(all[0], all[2]))
		want = append(want, all[0], all[2])
		assert.Equal(t, want, memberIDs(mustMembers(t, s, tenantA, "g1")))
		require.NoError(t, s.Delete(t.Context(), tenantA, storage.KindUser, all[1]))
		assert.Equal(t, want[1:], memberIDs(mustMembers(t, s, tenantA, "g1")))
	})
}

func testListWithMembers(t *testing.T, newStore newStoreFunc) {
	cases := []struct {
		name string
		q    storage.Query
		want map[string][]storage.Member
	}{
		{
			name: "a group page with members carries each group's members",
			q:    storage.Query{Kind: storage.KindGroup, Count: -1, WithMembers: true},
			want: map[string][]storage.Member{"g1": {user("ann", "Ann"), user("ben", "")}},
		},
		{
			name: "a filtered group page with members",
			q: storage.Query{Kind: storage.KindGroup, Count: -1, WithMembers: true,
				Lookup: &storage.Lookup{Field: storage.LookupName, Value: "admins"}},
			want: map[string][]storage.Member{"g1": {user("ann", "Ann"), user("ben", "")}},
		},
		{
			name: "without WithMembers no members are returned",
			q:    storage.Query{Kind: storage.KindGroup, Count: -1},
		},
		{
			name: "a page that leaves out the group leaves out its members",
			q:    storage.Query{Kind: storage.KindGroup, StartIndex: 2, Count: 1, WithMembers: true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			seedMembers(t, s)
			mustChange(t, s, tenantA, "g1", storage.MemberChange{Add: []storage.Member{{Value: "ann", Display: "Ann"}, {Value: "ben"}}})
			p := mustList(t, s, tenantA, tc.q)
			got := map[string][]storage.Member{}
			for id, ms := range p.Members {
				if len(ms) > 0 {
					got[id] = ms
				}
			}
			if tc.want == nil {
				tc.want = map[string][]storage.Member{}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func testChangeMembersWithGroup(t *testing.T, newStore newStoreFunc) {
	renamed := func(t *testing.T, s storage.Store, version int64, name string) *storage.Resource {
		g := newGroup(t, "g1", name, nil)
		g.Version = version
		return g
	}
	cases := []struct {
		name        string
		change      func(t *testing.T, s storage.Store) storage.MemberChange
		err         error
		wantName    string
		wantMembers []string
		wantVersion int64
	}{
		{
			name: "rename and member change apply together with one version bump",
			change: func(t *testing.T, s storage.Store) storage.MemberChange {
				return storage.MemberChange{Add: []storage.Member{{Value: "ben"}}, Group: renamed(t, s, 2, "Root")}
			},
			wantName: "Root", wantMembers: []string{"ann", "ben"}, wantVersion: 3,
		},
		{
			name: "a stale version changes neither",
			change: func(t *testing.T, s storage.Store) storage.MemberChange {
				return storage.MemberChange{Add: []storage.Member{{Value: "ben"}}, Group: renamed(t, s, 1, "Root")}
			},
			err: storage.ErrVersionMismatch, wantName: "Admins", wantMembers: []string{"ann"}, wantVersion: 2,
		},
		{
			name: "a taken name changes neither",
			change: func(t *testing.T, s storage.Store) storage.MemberChange {
				return storage.MemberChange{Remove: []string{"ann"}, Group: renamed(t, s, 2, "STAFF")}
			},
			err: storage.ErrConflict, wantName: "Admins", wantMembers: []string{"ann"}, wantVersion: 2,
		},
		{
			name: "an invalid member changes neither",
			change: func(t *testing.T, s storage.Store) storage.MemberChange {
				return storage.MemberChange{Add: []storage.Member{{Value: "nobody"}}, Group: renamed(t, s, 2, "Root")}
			},
			err: storage.ErrInvalidMember, wantName: "Admins", wantMembers: []string{"ann"}, wantVersion: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			seedMembers(t, s)
			mustChange(t, s, tenantA, "g1", add("ann")) // version 2
			ch := tc.change(t, s)
			ch.Modified = t0.Add(time.Hour)
			err := s.ChangeMembers(t.Context(), tenantA, "g1", ch)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.wantVersion, ch.Group.Version, "the caller's Group gets the new version")
			}
			g := mustGet(t, s, tenantA, storage.KindGroup, "g1")
			assert.Equal(t, tc.wantName, g.Name)
			assert.Equal(t, tc.wantVersion, g.Version)
			assert.Equal(t, tc.wantMembers, memberIDs(mustMembers(t, s, tenantA, "g1")))
		})
	}
}

func testLookupMember(t *testing.T, newStore newStoreFunc) {
	staff := storage.Compare{Path: storage.AttrPath{Name: "displayName", Type: storage.TypeString}, Op: storage.OpEq, Value: "staff"}
	cases := []struct {
		name   string
		tenant string
		member string
		filter storage.Filter
		want   []string
	}{
		{name: "groups of a member, in creation order", tenant: tenantA, member: "ann", want: []string{"g1", "g2"}},
		{name: "a member of one group", tenant: tenantA, member: "ben", want: []string{"g1"}},
		{name: "a user in no group", tenant: tenantA, member: "cat", want: nil},
		{name: "a group as member", tenant: tenantA, member: "g2", want: []string{"g1"}},
		{name: "an unknown id", tenant: tenantA, member: "nobody", want: nil},
		{name: "the residual filter still applies", tenant: tenantA, member: "ann", filter: staff, want: []string{"g2"}},
		{name: "another tenant sees nothing", tenant: tenantB, member: "ann", want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			seedMembers(t, s)
			mustChange(t, s, tenantA, "g1", add("ann", "ben", "g2"))
			mustChange(t, s, tenantA, "g2", add("ann"))
			p := mustList(t, s, tc.tenant, storage.Query{Kind: storage.KindGroup, Count: -1, Filter: tc.filter,
				Lookup: &storage.Lookup{Field: storage.LookupMember, Value: tc.member}})
			if tc.want == nil {
				tc.want = []string{}
			}
			assert.Equal(t, tc.want, ids(p.Resources))
			assert.Equal(t, len(tc.want), p.Total)
		})
	}
}
