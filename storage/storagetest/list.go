package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// seedPaging creates n users whose ids and names are not in creation
// order, so a backend that sorts by id or name instead fails. It returns
// the ids in creation order. Odd positions (1-based) get title "odd".
func seedPaging(t *testing.T, s storage.Store, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		k := (i*7 + 3) % n // a permutation when n is coprime to 7 and 11
		id := fmt.Sprintf("id-%03d", k)
		title := "even"
		if (i+1)%2 == 1 {
			title = "odd"
		}
		r := newUser(t, id, fmt.Sprintf("user%03d@example.com", (k*11)%n), attrs{"title": title})
		r.Created = t0.Add(time.Duration(k) * time.Second) // not the creation order either
		mustCreate(t, s, tenantA, r)
		out = append(out, id)
	}
	return out
}

func testList(t *testing.T, newStore newStoreFunc) {
	t.Run("paging", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		all := seedPaging(t, s, 25)
		// mustCreate a group so that it is not counted among users.
		mustCreate(t, s, tenantA, newGroup(t, "g1", "Admins", nil))
		odd := []string{}
		for i, id := range all {
			if i%2 == 0 {
				odd = append(odd, id)
			}
		}
		titleOdd := storage.Compare{Path: storage.AttrPath{Name: "title", Type: storage.TypeString}, Op: storage.OpEq, Value: "odd"}

		cases := []struct {
			name      string
			q         storage.Query
			wantIDs   []string
			wantTotal int
		}{
			{"first page", storage.Query{StartIndex: 1, Count: 10}, all[0:10], 25},
			{"second page starts after the first", storage.Query{StartIndex: 11, Count: 10}, all[10:20], 25},
			{"last page is short", storage.Query{StartIndex: 21, Count: 10}, all[20:25], 25},
			{"startIndex 0 means 1", storage.Query{StartIndex: 0, Count: 3}, all[0:3], 25},
			{"negative startIndex means 1", storage.Query{StartIndex: -4, Count: 3}, all[0:3], 25},
			{"TotalOnly returns only the total", storage.Query{StartIndex: 1, TotalOnly: true}, []string{}, 25},
			{"TotalOnly with an offset returns only the total", storage.Query{StartIndex: 7, TotalOnly: true}, []string{}, 25},
			{"TotalOnly wins over Count", storage.Query{Count: 10, TotalOnly: true}, []string{}, 25},
			{"zero Count is a default page, not the total alone", storage.Query{}, all, 25},
			{"zero Count from an offset", storage.Query{StartIndex: 21}, all[20:25], 25},
			{"negative count returns everything from startIndex", storage.Query{StartIndex: 24, Count: -1}, all[23:25], 25},
			{"last element alone", storage.Query{StartIndex: 25, Count: 10}, all[24:25], 25},
			{"startIndex just past the end returns an empty page", storage.Query{StartIndex: 26, Count: 10}, []string{}, 25},
			{"startIndex far past the end returns an empty page", storage.Query{StartIndex: 1000, Count: 10}, []string{}, 25},
			{"filtered page counts only matches", storage.Query{Filter: titleOdd, StartIndex: 3, Count: 4}, odd[2:6], 13},
			{"filtered TotalOnly returns only the total", storage.Query{Filter: titleOdd, TotalOnly: true}, []string{}, 13},
			{"filtered zero Count is a default page", storage.Query{Filter: titleOdd}, odd, 13},
			{"filtered page past the end is empty", storage.Query{Filter: titleOdd, StartIndex: 14, Count: 4}, []string{}, 13},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				q := tc.q
				q.Kind = storage.KindUser
				p := mustList(t, s, tenantA, q)
				assert.Equal(t, tc.wantIDs, ids(p.Resources))
				assert.Equal(t, tc.wantTotal, p.Total)
			})
		}
	})

	t.Run("walking the pages sees every id once in creation order", func(t *testing.T) {
		t.Parallel()
		for _, size := range []int{1, 7, 25, 26} {
			t.Run(fmt.Sprintf("page size %d", size), func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				all := seedPaging(t, s, 25)
				assert.Equal(t, all, walk(t, s, size))
			})
		}
	})

	t.Run("order survives replaces and deletes", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		all := seedPaging(t, s, 25)

		// Replace a few (must not move them) and delete a few.
		for _, id := range []string{all[0], all[12], all[24]} {
			r := mustGet(t, s, tenantA, storage.KindUser, id)
			r.Modified = t0.Add(time.Hour)
			require.NoError(t, s.Replace(t.Context(), tenantA, r))
		}
		var want []string
		for i, id := range all {
			if i%3 == 1 {
				require.NoError(t, s.Delete(t.Context(), tenantA, storage.KindUser, id))
				continue
			}
			want = append(want, id)
		}
		// New users go last.
		mustCreate(t, s, tenantA, newUser(t, "new-1", "new1@example.com", nil), newUser(t, "new-0", "new0@example.com", nil))
		want = append(want, "new-1", "new-0")

		assert.Equal(t, want, walk(t, s, 4))
		p := mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser, StartIndex: 5, Count: 3})
		assert.Equal(t, want[4:7], ids(p.Resources))
		assert.Equal(t, len(want), p.Total)
	})

	t.Run("the zero Count pages DefaultCount resources", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		all := seedPaging(t, s, storage.DefaultCount+1)
		p := mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser})
		assert.Equal(t, all[:storage.DefaultCount], ids(p.Resources))
		assert.Equal(t, storage.DefaultCount+1, p.Total)
	})

	t.Run("an empty tenant lists nothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, kind := range []storage.Kind{storage.KindUser, storage.KindGroup} {
			p := mustList(t, s, "nobody", storage.Query{Kind: kind, StartIndex: 1, Count: 10})
			assert.Equal(t, 0, p.Total)
			assert.Empty(t, p.Resources)
		}
	})

	t.Run("lookup of a value many users share returns them in creation order", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var want []string
		for i := range 12 {
			id := fmt.Sprintf("id-%02d", (i*5)%12)
			mustCreate(t, s, tenantA, newUser(t, id, id+"@example.com", attrs{
				"externalId": "team",
				"emails":     []attrs{{"value": "Team@Shared.example.com"}},
			}))
			want = append(want, id)
		}
		for _, l := range []storage.Lookup{
			{Field: storage.LookupExternalID, Value: "team"},
			{Field: storage.LookupEmail, Value: "team@shared.example.com"},
		} {
			p := mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser, Lookup: &l, Count: -1})
			assert.Equal(t, want, ids(p.Resources), "lookup %+v", l)
			p = mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser, Lookup: &l, StartIndex: 4, Count: 3})
			assert.Equal(t, want[3:6], ids(p.Resources), "paged lookup %+v", l)
			assert.Equal(t, len(want), p.Total)
		}
	})

	t.Run("lookup", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		seedDirectory(t, s)

		and := func(l, r storage.Filter) storage.Filter { return storage.And{Left: l, Right: r} }
		cases := []struct {
			name      string
			kind      storage.Kind
			lookup    storage.Lookup
			filter    storage.Filter
			start     int
			count     int
			wantIDs   []string
			wantTotal int // 0 means len(wantIDs)
		}{
			{
				name:    "id with its filter",
				lookup:  storage.Lookup{Field: storage.LookupID, Value: "bob"},
				filter:  eq(pID, "bob"),
				wantIDs: []string{"bob"},
			},
			{
				name:    "id with a residual filter that fails",
				lookup:  storage.Lookup{Field: storage.LookupID, Value: "bob"},
				filter:  and(eq(pID, "bob"), eq(pActive, true)),
				wantIDs: []string{},
			},
			{
				name:    "a group id does not find a user",
				lookup:  storage.Lookup{Field: storage.LookupID, Value: "admins"},
				filter:  eq(pID, "admins"),
				wantIDs: []string{},
			},
			{
				name:    "name is case-insensitive",
				lookup:  storage.Lookup{Field: storage.LookupName, Value: "ALICE@Example.com"},
				filter:  eq(pUserName, "ALICE@Example.com"),
				wantIDs: []string{"alice"},
			},
			{
				name:    "name with a residual filter that fails",
				lookup:  storage.Lookup{Field: storage.LookupName, Value: "alice@example.com"},
				filter:  and(eq(pUserName, "alice@example.com"), eq(pActive, false)),
				wantIDs: []string{},
			},
			{
				name:    "unknown name finds nothing",
				lookup:  storage.Lookup{Field: storage.LookupName, Value: "zed@example.com"},
				filter:  eq(pUserName, "zed@example.com"),
				wantIDs: []string{},
			},
			{
				name:    "group displayName is case-insensitive",
				kind:    storage.KindGroup,
				lookup:  storage.Lookup{Field: storage.LookupName, Value: "ADMINS"},
				filter:  eq(pDisplayName, "ADMINS"),
				wantIDs: []string{"admins"},
			},
			{
				name:    "externalId shared by two users finds both in creation order",
				lookup:  storage.Lookup{Field: storage.LookupExternalID, Value: "ext-1"},
				filter:  eq(pExternalID, "ext-1"),
				wantIDs: []string{"alice", "carol"},
			},
			{
				name:    "externalId is case-exact",
				lookup:  storage.Lookup{Field: storage.LookupExternalID, Value: "EXT-1"},
				filter:  eq(pExternalID, "EXT-1"),
				wantIDs: []string{},
			},
			{
				name:    "externalId with a residual filter",
				lookup:  storage.Lookup{Field: storage.LookupExternalID, Value: "ext-1"},
				filter:  and(eq(pExternalID, "ext-1"), storage.Compare{Path: pTitle, Op: storage.OpPresent}),
				wantIDs: []string{"alice"},
			},
			{
				name:    "email is case-insensitive and finds every user having it",
				lookup:  storage.Lookup{Field: storage.LookupEmail, Value: "Shared@EXAMPLE.com"},
				filter:  eq(pEmailsValue, "Shared@EXAMPLE.com"),
				wantIDs: []string{"alice", "carol"},
			},
			{
				name:    "email stored in upper case is found in lower case",
				lookup:  storage.Lookup{Field: storage.LookupEmail, Value: "alice@example.com"},
				filter:  eq(pEmailsValue, "alice@example.com"),
				wantIDs: []string{"alice"},
			},
			{
				name:    "email with a residual filter",
				lookup:  storage.Lookup{Field: storage.LookupEmail, Value: "shared@example.com"},
				filter:  and(eq(pEmailsValue, "shared@example.com"), eq(pTitle, "engineer")),
				wantIDs: []string{"alice"},
			},
			{
				name:    "lookup without a filter",
				lookup:  storage.Lookup{Field: storage.LookupEmail, Value: "shared@example.com"},
				wantIDs: []string{"alice", "carol"},
			},
			{
				name:      "lookup results are paged",
				lookup:    storage.Lookup{Field: storage.LookupEmail, Value: "shared@example.com"},
				filter:    eq(pEmailsValue, "shared@example.com"),
				start:     2,
				count:     1,
				wantIDs:   []string{"carol"},
				wantTotal: 2,
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				q := storage.Query{Kind: tc.kind, Lookup: &tc.lookup, Filter: tc.filter, StartIndex: tc.start, Count: tc.count}
				if q.Kind == "" {
					q.Kind = storage.KindUser
				}
				if q.Count == 0 {
					q.Count = -1
				}
				p := mustList(t, s, tenantA, q)
				assert.Equal(t, tc.wantIDs, ids(p.Resources))
				wantTotal := tc.wantTotal
				if wantTotal == 0 {
					wantTotal = len(tc.wantIDs)
				}
				assert.Equal(t, wantTotal, p.Total)
			})
		}
	})
}

// walk lists every user of tenantA page by page and returns the ids.
func walk(t *testing.T, s storage.Store, size int) []string {
	t.Helper()
	var out []string
	for start := 1; ; start += size {
		p := mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser, StartIndex: start, Count: size})
		out = append(out, ids(p.Resources)...)
		if len(p.Resources) < size {
			require.Equal(t, p.Total, len(out), "total")
			return out
		}
		require.Less(t, start, 10_000, "paging does not end")
	}
}
