package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// ev returns an outbox event of type typ on the resource kind/id.
func ev(id string, kind storage.Kind, resource, typ string) storage.Event {
	return storage.Event{ID: id, Kind: kind, ResourceID: resource, Type: typ, Time: t0, Data: []byte(`{"x":"` + id + `"}`)}
}

// mustEvents lists every event of tenant.
func mustEvents(t *testing.T, s storage.Store, tenant string) []storage.Event {
	t.Helper()
	var out []storage.Event
	after := int64(0)
	for {
		page, err := s.ListEvents(t.Context(), tenant, after, 1000)
		require.NoError(t, err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

// eventIDs returns "id@version" of each event.
func eventIDs(es []storage.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s@%d", e.ID, e.Version))
	}
	return out
}

func testOutbox(t *testing.T, newStore newStoreFunc) {
	t.Run("an event is stored iff its change committed", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		u1 := newUser(t, "u1", "ann", nil)
		require.NoError(t, s.Create(ctx, tenantA, u1, ev("e1", storage.KindUser, "u1", "user.provisioned")))
		// Failing writes: taken name, stale version, absent resource,
		// invalid member.
		dup := newUser(t, "u2", "ANN", nil)
		assert.ErrorIs(t, s.Create(ctx, tenantA, dup, ev("x1", storage.KindUser, "u2", "user.provisioned")), storage.ErrConflict)
		stale := newUser(t, "u1", "ann", attrs{"title": "x"})
		stale.Version = 7
		assert.ErrorIs(t, s.Replace(ctx, tenantA, stale, ev("x2", storage.KindUser, "u1", "user.updated")), storage.ErrVersionMismatch)
		assert.ErrorIs(t, s.Delete(ctx, tenantA, storage.KindUser, "nope", ev("x3", storage.KindUser, "nope", "user.deleted")), storage.ErrNotFound)
		g := newGroup(t, "g1", "staff", nil)
		g.Members = []storage.Member{{Value: "u1"}, {Value: "ghost"}}
		assert.ErrorIs(t, s.Create(ctx, tenantA, g, ev("x4", storage.KindGroup, "g1", "group.created")), storage.ErrInvalidMember)
		_, err := s.Get(ctx, tenantA, storage.KindGroup, "g1")
		assert.ErrorIs(t, err, storage.ErrNotFound, "a failed create with members stores nothing")
		assert.ErrorIs(t, s.ChangeMembers(ctx, tenantA, "nope", storage.MemberChange{Modified: t0,
			Events: []storage.Event{ev("x5", storage.KindGroup, "nope", "group.members_added")}}), storage.ErrNotFound)

		// Succeeding writes, each with its events.
		upd := newUser(t, "u1", "ann", attrs{"title": "boss"})
		upd.Version = 1
		require.NoError(t, s.Replace(ctx, tenantA, upd, ev("e2", storage.KindUser, "u1", "user.updated")))
		g.Members = []storage.Member{{Value: "u1", Display: "Ann"}}
		require.NoError(t, s.Create(ctx, tenantA, g, ev("e3", storage.KindGroup, "g1", "group.created")))
		assert.Equal(t, int64(1), g.Version)
		assert.Equal(t, []storage.Member{{Value: "u1", Type: storage.KindUser, Display: "Ann"}}, mustMembers(t, s, tenantA, "g1"))
		assert.Equal(t, int64(1), mustGet(t, s, tenantA, storage.KindGroup, "g1").Version)
		require.NoError(t, s.ChangeMembers(ctx, tenantA, "g1", storage.MemberChange{Modified: t0, Remove: []string{"u1"},
			Events: []storage.Event{ev("e4", storage.KindGroup, "g1", "group.members_removed")}}))
		require.NoError(t, s.Delete(ctx, tenantA, storage.KindUser, "u1", ev("e5", storage.KindUser, "u1", "user.deleted")))
		require.NoError(t, s.Create(ctx, tenantA, newUser(t, "u3", "bob", nil))) // no events: none stored

		got := mustEvents(t, s, tenantA)
		assert.Equal(t, []string{"e1@1", "e2@2", "e3@1", "e4@2", "e5@2"}, eventIDs(got))
		for i, e := range got {
			assert.Equal(t, tenantA, e.Tenant)
			assert.Equal(t, `{"x":"`+e.ID+`"}`, string(e.Data))
			assert.True(t, t0.Equal(e.Time), "time of %s", e.ID)
			assert.Zero(t, e.Attempts)
			if i > 0 {
				assert.Greater(t, e.Seq, got[i-1].Seq)
			}
		}
		assert.Equal(t, "user.updated", got[1].Type)
		assert.Equal(t, storage.KindGroup, got[2].Kind)
		assert.Equal(t, "g1", got[2].ResourceID)
		assert.Empty(t, mustEvents(t, s, tenantB), "events are per tenant")
		page, err := s.ListEvents(ctx, tenantA, got[1].Seq, 2)
		require.NoError(t, err)
		assert.Equal(t, []string{"e3@1", "e4@2"}, eventIDs(page))
	})

	t.Run("claims hand out the oldest undelivered event of each resource", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		u1 := newUser(t, "u1", "ann", nil)
		require.NoError(t, s.Create(ctx, tenantA, u1, ev("a1", storage.KindUser, "u1", "user.provisioned")))
		u1.Data = mustJSON(t, attrs{"userName": "ann", "title": "x"})
		require.NoError(t, s.Replace(ctx, tenantA, u1, ev("a2", storage.KindUser, "u1", "user.updated")))
		require.NoError(t, s.Create(ctx, tenantA, newUser(t, "u2", "bob", nil), ev("b1", storage.KindUser, "u2", "user.provisioned")))
		// Same resource id in another tenant: another resource.
		require.NoError(t, s.Create(ctx, tenantB, newUser(t, "u1", "ann", nil), ev("c1", storage.KindUser, "u1", "user.provisioned")))

		now := t0
		claim := func(owner string) []string {
			es, err := s.ClaimEvents(ctx, storage.Claim{Owner: owner, Limit: 10, Now: now, Lease: time.Minute})
			require.NoError(t, err)
			var out []string
			for _, e := range es {
				out = append(out, e.ID)
			}
			return out
		}
		byID := map[string]storage.Event{}
		for _, tn := range []string{tenantA, tenantB} {
			for _, e := range mustEvents(t, s, tn) {
				byID[e.ID] = e
			}
		}
		assert.Equal(t, []string{"a1", "b1", "c1"}, claim("d1"))
		assert.Empty(t, claim("d2"), "leased events and the events behind them are not handed out")

		require.NoError(t, s.AckEvent(ctx, byID["a1"].Seq, now))
		assert.Equal(t, []string{"a2"}, claim("d2"), "an ack frees the resource's next event")

		// A failed delivery: back-off, then the event comes again
		// with its attempt counted.
		require.NoError(t, s.RetryEvent(ctx, byID["a2"].Seq, now.Add(10*time.Second)))
		assert.Empty(t, claim("d2"))
		now = now.Add(10 * time.Second)
		es, err := s.ClaimEvents(ctx, storage.Claim{Owner: "d2", Limit: 10, Now: now, Lease: time.Minute})
		require.NoError(t, err)
		require.Len(t, es, 1)
		assert.Equal(t, "a2", es[0].ID)
		assert.Equal(t, 1, es[0].Attempts)
		assert.Equal(t, int64(2), es[0].Version)

		// An expired lease (its owner crashed) is claimable again.
		now = now.Add(2 * time.Minute)
		assert.Equal(t, []string{"a2", "b1", "c1"}, claim("d3"))
		for _, id := range []string{"a2", "b1", "c1"} {
			require.NoError(t, s.AckEvent(ctx, byID[id].Seq, now))
		}
		require.NoError(t, s.AckEvent(ctx, byID["a2"].Seq, now), "a second ack is not an error")
		require.NoError(t, s.RetryEvent(ctx, byID["a2"].Seq, now), "a retry after the ack changes nothing")
		now = now.Add(time.Hour)
		assert.Empty(t, claim("d3"))

		n, err := s.PruneEvents(ctx, t0.Add(30*time.Second))
		require.NoError(t, err)
		assert.Equal(t, 1, n, "only a1 was delivered before the cut")
		assert.Equal(t, []string{"a2@2", "b1@1"}, eventIDs(mustEvents(t, s, tenantA)))
		n, err = s.PruneEvents(ctx, now)
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		assert.Empty(t, mustEvents(t, s, tenantA))
		assert.Empty(t, mustEvents(t, s, tenantB))
	})

	t.Run("concurrent claimers deliver every event once per lease and never two of a resource at once", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		const users, updates = 8, 5
		for i := range users {
			u := newUser(t, fmt.Sprintf("u%d", i), fmt.Sprintf("user%d", i), nil)
			require.NoError(t, s.Create(ctx, tenantA, u, ev(fmt.Sprintf("u%d-0", i), storage.KindUser, u.ID, "user.provisioned")))
			for j := 1; j <= updates; j++ {
				u.Data = mustJSON(t, attrs{"userName": u.Name, "n": j})
				require.NoError(t, s.Replace(ctx, tenantA, u, ev(fmt.Sprintf("u%d-%d", i, j), storage.KindUser, u.ID, "user.updated")))
			}
		}
		var (
			mu        sync.Mutex
			busy      = map[string]bool{}
			delivered = map[string]int{}
			order     = map[string][]int64{}
			failures  atomic.Int32
		)
		var wg sync.WaitGroup
		for c := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				idle := 0
				for idle < 20 {
					es, err := s.ClaimEvents(ctx, storage.Claim{Owner: fmt.Sprint("d", c), Limit: 3, Now: time.Now(), Lease: time.Minute})
					if err != nil {
						if !errors.Is(err, storage.ErrUnavailable) {
							failures.Add(1)
						}
						return
					}
					if len(es) == 0 {
						idle++
						time.Sleep(time.Millisecond)
						continue
					}
					idle = 0
					for _, e := range es {
						mu.Lock()
						if busy[e.ResourceID] {
							failures.Add(1)
						}
						busy[e.ResourceID] = true
						mu.Unlock()
						time.Sleep(100 * time.Microsecond)
						mu.Lock()
						busy[e.ResourceID] = false
						delivered[e.ID]++
						order[e.ResourceID] = append(order[e.ResourceID], e.Seq)
						mu.Unlock()
						if err := s.AckEvent(ctx, e.Seq, time.Now()); err != nil {
							failures.Add(1)
						}
					}
				}
			}()
		}
		wg.Wait()
		assert.Zero(t, failures.Load(), "errors or two deliveries of one resource at once")
		assert.Len(t, delivered, users*(updates+1))
		for id, n := range delivered {
			assert.Equal(t, 1, n, "event %s", id)
		}
		for r, seqs := range order {
			assert.IsIncreasing(t, seqs, "order of %s", r)
		}
	})
}
