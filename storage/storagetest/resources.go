package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

func testResources(t *testing.T, newStore newStoreFunc) {
	t.Run("create then get returns every field", func(t *testing.T) {
		t.Parallel()
		user := &storage.Resource{
			Kind:       storage.KindUser,
			ID:         "2819c223-7f76-453a-919d-413861904646",
			ExternalID: "701984",
			Name:       "bjensen@example.com",
			Emails:     []string{"bjensen@example.com", "babs@Jensen.org"},
			Version:    7, // ignored: Create stores version 1
			Created:    t0,
			Modified:   t0.Add(90 * time.Minute),
			// Keys unsorted on purpose: the document is kept verbatim.
			Data: []byte(`{"userName":"bjensen@example.com","schemas":["` + userSchema + `"],"name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"emails":[{"value":"bjensen@example.com","type":"work"},{"value":"babs@Jensen.org","type":"home"}]}`),
		}
		group := &storage.Resource{
			Kind:       storage.KindGroup,
			ID:         "e9e30dba-f08f-4109-8486-d5c6a331660a",
			ExternalID: "tour-guides",
			Name:       "Tour Guides",
			Created:    t0,
			Modified:   t0.Add(time.Second),
			Data:       []byte(`{"schemas":["` + groupSchema + `"],"displayName":"Tour Guides"}`),
		}
		cases := []struct {
			name string
			r    *storage.Resource
		}{
			{"user keeps every field", user},
			{"group keeps every field", group},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				in := *tc.r
				require.NoError(t, s.Create(t.Context(), tenantA, &in))

				want := *tc.r
				want.Version = 1
				assertResource(t, &want, mustGet(t, s, tenantA, tc.r.Kind, tc.r.ID))

				p := mustList(t, s, tenantA, storage.Query{Kind: tc.r.Kind, Count: -1})
				require.Equal(t, 1, p.Total)
				require.Len(t, p.Resources, 1)
				assertResource(t, &want, &p.Resources[0])
			})
		}
	})

	t.Run("missing resources are not found", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name string
			op   func(ctx context.Context, s storage.Store) error
		}{
			{"get of a missing user", func(ctx context.Context, s storage.Store) error {
				_, err := s.Get(ctx, tenantA, storage.KindUser, "nope")
				return err
			}},
			{"get of a user id as a group", func(ctx context.Context, s storage.Store) error {
				_, err := s.Get(ctx, tenantA, storage.KindGroup, "u1")
				return err
			}},
			{"get of a group id as a user", func(ctx context.Context, s storage.Store) error {
				_, err := s.Get(ctx, tenantA, storage.KindUser, "g1")
				return err
			}},
			{"replace of a missing user", func(ctx context.Context, s storage.Store) error {
				return s.Replace(ctx, tenantA, &storage.Resource{Kind: storage.KindUser, ID: "nope", Name: "nope", Version: 1})
			}},
			{"replace of a user id as a group", func(ctx context.Context, s storage.Store) error {
				return s.Replace(ctx, tenantA, &storage.Resource{Kind: storage.KindGroup, ID: "u1", Name: "x", Version: 1})
			}},
			{"delete of a missing user", func(ctx context.Context, s storage.Store) error {
				return s.Delete(ctx, tenantA, storage.KindUser, "nope")
			}},
			{"delete of a group id as a user", func(ctx context.Context, s storage.Store) error {
				return s.Delete(ctx, tenantA, storage.KindUser, "g1")
			}},
			{"second delete of a user", func(ctx context.Context, s storage.Store) error {
				if err := s.Delete(ctx, tenantA, storage.KindUser, "u1"); err != nil {
					return err
				}
				return s.Delete(ctx, tenantA, storage.KindUser, "u1")
			}},
			{"get in a tenant that never wrote", func(ctx context.Context, s storage.Store) error {
				_, err := s.Get(ctx, "empty-tenant", storage.KindUser, "u1")
				return err
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				mustCreate(t, s, tenantA, newUser(t, "u1", "alice@example.com", nil), newGroup(t, "g1", "Admins", nil))
				require.ErrorIs(t, tc.op(t.Context(), s), storage.ErrNotFound)
			})
		}
	})

	t.Run("create enforces unique ids and case-insensitive names", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name     string
			existing *storage.Resource
			create   *storage.Resource
			wantErr  error
		}{
			{
				name:     "userName differing only in case conflicts",
				existing: newUser(t, "u1", "Alice@x", nil),
				create:   newUser(t, "u2", "alice@X", nil),
				wantErr:  storage.ErrConflict,
			},
			{
				name:     "identical userName conflicts",
				existing: newUser(t, "u1", "alice@x", nil),
				create:   newUser(t, "u2", "alice@x", nil),
				wantErr:  storage.ErrConflict,
			},
			{
				name:     "group displayName differing only in case conflicts",
				existing: newGroup(t, "g1", "Admins", nil),
				create:   newGroup(t, "g2", "ADMINS", nil),
				wantErr:  storage.ErrConflict,
			},
			{
				name:     "duplicate user id conflicts",
				existing: newUser(t, "u1", "alice@x", nil),
				create:   newUser(t, "u1", "bob@x", nil),
				wantErr:  storage.ErrConflict,
			},
			{
				name:     "duplicate group id conflicts",
				existing: newGroup(t, "g1", "Admins", nil),
				create:   newGroup(t, "g1", "Staff", nil),
				wantErr:  storage.ErrConflict,
			},
			{
				name:     "a group may have a user's name",
				existing: newUser(t, "u1", "Admins", nil),
				create:   newGroup(t, "g1", "admins", nil),
			},
			{
				name:     "names differing in more than case do not conflict",
				existing: newUser(t, "u1", "alice@x", nil),
				create:   newUser(t, "u2", "alice@y", nil),
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				mustCreate(t, s, tenantA, tc.existing)
				before := mustGet(t, s, tenantA, tc.existing.Kind, tc.existing.ID)

				err := s.Create(t.Context(), tenantA, tc.create)
				if tc.wantErr != nil {
					require.ErrorIs(t, err, tc.wantErr)
					p := mustList(t, s, tenantA, storage.Query{Kind: tc.create.Kind, Count: -1})
					assert.Equal(t, []string{tc.existing.ID}, ids(p.Resources), "nothing created")
				} else {
					require.NoError(t, err)
					want := *tc.create
					want.Version = 1
					assertResource(t, &want, mustGet(t, s, tenantA, tc.create.Kind, tc.create.ID))
				}
				assertResource(t, before, mustGet(t, s, tenantA, tc.existing.Kind, tc.existing.ID))
			})
		}
	})

	t.Run("delete frees the id and the name", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		mustCreate(t, s, tenantA, newUser(t, "u1", "alice@example.com", nil))
		require.NoError(t, s.Delete(t.Context(), tenantA, storage.KindUser, "u1"))
		_, err := s.Get(t.Context(), tenantA, storage.KindUser, "u1")
		require.ErrorIs(t, err, storage.ErrNotFound)

		again := newUser(t, "u1", "ALICE@example.com", attrs{"title": "again"})
		mustCreate(t, s, tenantA, again)
		want := *again
		want.Version = 1
		assertResource(t, &want, mustGet(t, s, tenantA, storage.KindUser, "u1"))
	})

	t.Run("replace", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name    string
			edit    func(r *storage.Resource)
			wantErr error
		}{
			{
				name: "matching version stores the new fields and bumps the version",
				edit: func(r *storage.Resource) {
					r.ExternalID = "ext-9"
					r.Emails = []string{"alice@new.example"}
					r.Modified = t0.Add(time.Hour)
					r.Data = []byte(`{"userName":"alice@example.com","title":"CTO"}`)
				},
			},
			{
				name: "renaming to its own name in another case succeeds",
				edit: func(r *storage.Resource) { r.Name = "ALICE@Example.com" },
			},
			{
				name: "created time from the caller is ignored",
				edit: func(r *storage.Resource) { r.Created = t0.Add(99 * time.Hour) },
			},
			{
				name:    "renaming onto another user's name conflicts case-insensitively",
				edit:    func(r *storage.Resource) { r.Name = "Bob@Example.COM" },
				wantErr: storage.ErrConflict,
			},
			{
				name:    "stale version is rejected",
				edit:    func(r *storage.Resource) { r.Version--; r.Data = []byte(`{}`) },
				wantErr: storage.ErrVersionMismatch,
			},
			{
				name:    "version ahead of the stored one is rejected",
				edit:    func(r *storage.Resource) { r.Version++; r.Data = []byte(`{}`) },
				wantErr: storage.ErrVersionMismatch,
			},
			{
				name:    "missing id is not found",
				edit:    func(r *storage.Resource) { r.ID = "nope" },
				wantErr: storage.ErrNotFound,
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				mustCreate(t, s, tenantA,
					newUser(t, "u1", "alice@example.com", attrs{"externalId": "ext-1"}),
					newUser(t, "u2", "bob@example.com", nil))
				// Move u1 to version 2 so that a stale version is not 0.
				r := mustGet(t, s, tenantA, storage.KindUser, "u1")
				require.NoError(t, s.Replace(t.Context(), tenantA, r))
				before := mustGet(t, s, tenantA, storage.KindUser, "u1")
				require.Equal(t, int64(2), before.Version)

				in := mustGet(t, s, tenantA, storage.KindUser, "u1")
				tc.edit(in)
				want := *in
				err := s.Replace(t.Context(), tenantA, in)
				if tc.wantErr != nil {
					require.ErrorIs(t, err, tc.wantErr)
					assertResource(t, before, mustGet(t, s, tenantA, storage.KindUser, "u1"))
					return
				}
				require.NoError(t, err)
				assert.Equal(t, before.Version+1, in.Version, "r.Version after Replace")
				want.Version = before.Version + 1
				want.Created = before.Created
				assertResource(t, &want, mustGet(t, s, tenantA, storage.KindUser, "u1"))
			})
		}
	})

	t.Run("replace moves the indexes to the new values", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		mustCreate(t, s, tenantA, newUser(t, "u1", "alice@example.com", attrs{
			"externalId": "ext-old",
			"emails":     []attrs{{"value": "alice@old.example"}},
		}))
		r := newUser(t, "u1", "alicia@example.com", attrs{
			"externalId": "ext-new",
			"emails":     []attrs{{"value": "alicia@new.example"}},
		})
		r.Version = 1
		require.NoError(t, s.Replace(t.Context(), tenantA, r))

		lookups := []struct {
			name   string
			lookup storage.Lookup
			want   []string
		}{
			{"new name is found", storage.Lookup{Field: storage.LookupName, Value: "Alicia@example.com"}, []string{"u1"}},
			{"old name is gone", storage.Lookup{Field: storage.LookupName, Value: "alice@example.com"}, []string{}},
			{"new externalId is found", storage.Lookup{Field: storage.LookupExternalID, Value: "ext-new"}, []string{"u1"}},
			{"old externalId is gone", storage.Lookup{Field: storage.LookupExternalID, Value: "ext-old"}, []string{}},
			{"new email is found", storage.Lookup{Field: storage.LookupEmail, Value: "alicia@new.example"}, []string{"u1"}},
			{"old email is gone", storage.Lookup{Field: storage.LookupEmail, Value: "alice@old.example"}, []string{}},
		}
		for _, tc := range lookups {
			t.Run(tc.name, func(t *testing.T) {
				p := mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser, Lookup: &tc.lookup, Count: -1})
				assert.Equal(t, tc.want, ids(p.Resources))
				assert.Equal(t, len(tc.want), p.Total)
			})
		}
		t.Run("old name can be taken by another user", func(t *testing.T) {
			mustCreate(t, s, tenantA, newUser(t, "u2", "ALICE@example.com", nil))
		})
	})

	t.Run("timestamps survive a round trip in other time zones", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		west := time.FixedZone("UTC-7", -7*3600)
		east := time.FixedZone("UTC+5:30", 5*3600+1800)
		r := newUser(t, "u1", "alice@example.com", nil)
		r.Created = time.Date(2023, time.December, 31, 23, 30, 0, 654321000, west) // 2024 in UTC
		r.Modified = time.Date(2024, time.January, 1, 5, 0, 0, 1000, east)
		mustCreate(t, s, tenantA, r)

		got := mustGet(t, s, tenantA, storage.KindUser, "u1")
		assert.True(t, r.Created.Equal(got.Created), "Created: want %v, got %v", r.Created, got.Created)
		assert.True(t, r.Modified.Equal(got.Modified), "Modified: want %v, got %v", r.Modified, got.Modified)

		got.Modified = time.Date(2024, time.February, 29, 1, 2, 3, 4000, time.FixedZone("UTC+14", 14*3600))
		require.NoError(t, s.Replace(t.Context(), tenantA, got))
		again := mustGet(t, s, tenantA, storage.KindUser, "u1")
		assert.True(t, r.Created.Equal(again.Created), "Created after replace: want %v, got %v", r.Created, again.Created)
		assert.True(t, got.Modified.Equal(again.Modified), "Modified after replace: want %v, got %v", got.Modified, again.Modified)

		mustChange(t, s, tenantA, mustCreateGroup(t, s), storage.MemberChange{Modified: time.Date(2024, time.March, 1, 0, 0, 0, 0, west)})
		g := mustGet(t, s, tenantA, storage.KindGroup, "g1")
		assert.True(t, time.Date(2024, time.March, 1, 7, 0, 0, 0, time.UTC).Equal(g.Modified), "group Modified: got %v", g.Modified)
	})

	t.Run("timestamps from year 1 to year 9999 survive a round trip", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		r := newUser(t, "u1", "alice@example.com", nil)
		r.Created = time.Date(1, time.January, 1, 0, 0, 0, 1000, time.UTC)
		r.Modified = time.Date(9999, time.December, 31, 23, 59, 59, 999999000, time.FixedZone("UTC-14", -14*3600))
		mustCreate(t, s, tenantA, r)
		got := mustGet(t, s, tenantA, storage.KindUser, "u1")
		assert.True(t, r.Created.Equal(got.Created), "Created: want %v, got %v", r.Created, got.Created)
		assert.True(t, r.Modified.Equal(got.Modified), "Modified: want %v, got %v", r.Modified, got.Modified)
		p := mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser, Count: -1,
			Filter: storage.Compare{Path: pLastMod, Op: storage.OpGt, Value: "9999-12-31T23:59:59Z"}})
		assert.Equal(t, []string{"u1"}, ids(p.Resources), "lastModified in year 10000 UTC is after the end of 9999")
	})
}

// mustCreateGroup creates group g1 "Admins" in tenantA and returns its id.
func mustCreateGroup(t *testing.T, s storage.Store) string {
	t.Helper()
	mustCreate(t, s, tenantA, newGroup(t, "g1", "Admins", nil))
	return "g1"
}
