package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// seated returns a User holding a seat.
func seated(t *testing.T, id string) *storage.Resource {
	r := newUser(t, id, id+"@example.com", nil)
	r.Seat = true
	return r
}

func setLimit(t *testing.T, s storage.Store, tenant string, limit int) {
	t.Helper()
	ts, err := s.GetTenant(t.Context(), tenant)
	if !errors.Is(err, storage.ErrNotFound) {
		require.NoError(t, err)
	}
	ts.SeatLimit, ts.Policy, ts.Modified = limit, []byte(`{}`), t0
	require.NoError(t, s.PutTenant(t.Context(), tenant, &ts))
}

func testTenantSettings(t *testing.T, newStore newStoreFunc) {
	t.Run("settings are a compare-and-swap document", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.GetTenant(t.Context(), tenantA)
		require.ErrorIs(t, err, storage.ErrNotFound)

		ts := storage.TenantSettings{Policy: []byte(`{"seatLimit":3}`), SeatLimit: 3, Modified: t0}
		require.NoError(t, s.PutTenant(t.Context(), tenantA, &ts))
		assert.Equal(t, int64(1), ts.Version)
		got, err := s.GetTenant(t.Context(), tenantA)
		require.NoError(t, err)
		assert.Equal(t, `{"seatLimit":3}`, string(got.Policy))
		assert.Equal(t, 3, got.SeatLimit)
		assert.Equal(t, int64(1), got.Version)
		assert.WithinDuration(t, t0, got.Modified, 0)

		stale := storage.TenantSettings{Policy: []byte(`{}`)}
		require.ErrorIs(t, s.PutTenant(t.Context(), tenantA, &stale), storage.ErrVersionMismatch, "a second create")
		got.Policy, got.SeatLimit = []byte(`{}`), 0
		require.NoError(t, s.PutTenant(t.Context(), tenantA, &got))
		assert.Equal(t, int64(2), got.Version)
		got.Version = 1
		require.ErrorIs(t, s.PutTenant(t.Context(), tenantA, &got), storage.ErrVersionMismatch, "a stale version")

		_, err = s.GetTenant(t.Context(), tenantB)
		require.ErrorIs(t, err, storage.ErrNotFound, "settings are per tenant")
	})
}

func testSeatLimit(t *testing.T, newStore newStoreFunc) {
	t.Run("create and reactivation beyond the limit are refused and write nothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		setLimit(t, s, tenantA, 2)
		mustCreate(t, s, tenantA, seated(t, "u1"), seated(t, "u2"))
		require.ErrorIs(t, s.Create(t.Context(), tenantA, seated(t, "u3")), storage.ErrSeatLimit)
		_, err := s.Get(t.Context(), tenantA, storage.KindUser, "u3")
		require.ErrorIs(t, err, storage.ErrNotFound, "the refused create wrote nothing")

		// A user without a seat (inactive) is always admitted.
		mustCreate(t, s, tenantA, newUser(t, "u4", "u4@example.com", attrs{"active": false}))
		// Reactivating it is refused, and the stored user is unchanged.
		r := mustGet(t, s, tenantA, storage.KindUser, "u4")
		r.Seat, r.Data = true, []byte(`{"active":true}`)
		require.ErrorIs(t, s.Replace(t.Context(), tenantA, r), storage.ErrSeatLimit)
		got := mustGet(t, s, tenantA, storage.KindUser, "u4")
		assert.False(t, got.Seat)
		assert.Equal(t, int64(1), got.Version)

		// Updating a seated user is never refused.
		u1 := mustGet(t, s, tenantA, storage.KindUser, "u1")
		assert.True(t, u1.Seat, "Seat round-trips")
		u1.Data = []byte(`{"title":"x"}`)
		require.NoError(t, s.Replace(t.Context(), tenantA, u1))

		// Freeing a seat (deactivation, deletion) makes room.
		u1.Seat = false
		require.NoError(t, s.Replace(t.Context(), tenantA, u1))
		r = mustGet(t, s, tenantA, storage.KindUser, "u4")
		r.Seat = true
		require.NoError(t, s.Replace(t.Context(), tenantA, r))
		require.ErrorIs(t, s.Create(t.Context(), tenantA, seated(t, "u5")), storage.ErrSeatLimit)
		require.NoError(t, s.Delete(t.Context(), tenantA, storage.KindUser, "u2"))
		mustCreate(t, s, tenantA, seated(t, "u5"))

		// Other tenants and no limit: unlimited.
		for i := range 5 {
			mustCreate(t, s, tenantB, seated(t, fmt.Sprint("b", i)))
		}
		setLimit(t, s, tenantA, 0)
		mustCreate(t, s, tenantA, seated(t, "u6"))
	})

	t.Run("a limit lowered below the count refuses only new seats", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		mustCreate(t, s, tenantA, seated(t, "u1"), seated(t, "u2"), seated(t, "u3"))
		setLimit(t, s, tenantA, 1)
		require.ErrorIs(t, s.Create(t.Context(), tenantA, seated(t, "u4")), storage.ErrSeatLimit)
		u2 := mustGet(t, s, tenantA, storage.KindUser, "u2")
		u2.Data = []byte(`{"title":"kept"}`)
		require.NoError(t, s.Replace(t.Context(), tenantA, u2))
	})

	t.Run("concurrent creates at limit-1 admit exactly one", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const limit, racers = 5, 8
		setLimit(t, s, tenantA, limit)
		for i := range limit - 1 {
			mustCreate(t, s, tenantA, seated(t, fmt.Sprint("u", i)))
		}
		for round := range 3 {
			var wg sync.WaitGroup
			errs := make([]error, racers)
			for i := range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.Create(t.Context(), tenantA, seated(t, fmt.Sprintf("r%d-%d", round, i)))
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else {
					require.ErrorIs(t, err, storage.ErrSeatLimit)
				}
			}
			assert.Equal(t, 1, ok, "round %d: exactly one racer takes the last seat", round)
			p := mustList(t, s, tenantA, storage.Query{Kind: storage.KindUser, TotalOnly: true})
			assert.Equal(t, limit, p.Total)
			// Free the seat again for the next round.
			for i, err := range errs {
				if err == nil {
					require.NoError(t, s.Delete(t.Context(), tenantA, storage.KindUser, fmt.Sprintf("r%d-%d", round, i)))
				}
			}
		}
	})

	t.Run("concurrent reactivations at limit-1 admit exactly one", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const limit, racers = 3, 6
		for i := range limit - 1 {
			mustCreate(t, s, tenantA, seated(t, fmt.Sprint("u", i)))
		}
		for i := range racers {
			mustCreate(t, s, tenantA, newUser(t, fmt.Sprint("off", i), fmt.Sprint("off", i), nil))
		}
		setLimit(t, s, tenantA, limit)
		var wg sync.WaitGroup
		errs := make([]error, racers)
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.Get(t.Context(), tenantA, storage.KindUser, fmt.Sprint("off", i))
				if err != nil {
					errs[i] = err
					return
				}
				r.Seat = true
				errs[i] = s.Replace(t.Context(), tenantA, r)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				require.ErrorIs(t, err, storage.ErrSeatLimit)
			}
		}
		assert.Equal(t, 1, ok)
	})
}

func testUserStates(t *testing.T, newStore newStoreFunc) {
	t.Run("a state rides on the write of its user, with its events", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		state := func(id string) (storage.UserState, error) { return s.GetUserState(ctx, tenantA, id) }

		// Create with a pending state: one step.
		u := seated(t, "u1")
		u.State = &storage.UserState{State: storage.StatePending}
		require.NoError(t, s.Create(ctx, tenantA, u, ev("e1", storage.KindUser, "u1", "user.provisioned")))
		st, err := state("u1")
		require.NoError(t, err)
		assert.Equal(t, storage.StatePending, st.State)
		got, err := s.Get(ctx, tenantA, storage.KindUser, "u1")
		require.NoError(t, err)
		assert.Nil(t, got.State, "never set on the way out")

		// A refused create stores no state.
		dup := seated(t, "u1")
		dup.State = &storage.UserState{State: storage.StatePreserved}
		require.ErrorIs(t, s.Create(ctx, tenantA, dup), storage.ErrConflict)
		st, err = state("u1")
		require.NoError(t, err)
		assert.Equal(t, storage.StatePending, st.State)

		// Replace with a preserved state, then with an empty one (removed).
		got.State = &storage.UserState{State: storage.StatePreserved, Until: t0.Add(time.Hour)}
		require.NoError(t, s.Replace(ctx, tenantA, got, ev("e2", storage.KindUser, "u1", "user.preserved")))
		st, err = state("u1")
		require.NoError(t, err)
		assert.Equal(t, storage.StatePreserved, st.State)
		assert.WithinDuration(t, t0.Add(time.Hour), st.Until, 0)
		stale := *got
		stale.Version = 1
		stale.State = &storage.UserState{}
		require.ErrorIs(t, s.Replace(ctx, tenantA, &stale), storage.ErrVersionMismatch)
		_, err = state("u1")
		require.NoError(t, err, "a refused replace keeps the state")
		got.State = &storage.UserState{}
		require.NoError(t, s.Replace(ctx, tenantA, got))
		_, err = state("u1")
		require.ErrorIs(t, err, storage.ErrNotFound)

		// PutUserState with Deleted removes the user in the same step.
		gone := storage.UserState{ID: "u1", State: storage.StatePreserved, Deleted: true, Name: "u1@example.com"}
		require.NoError(t, s.PutUserState(ctx, tenantA, gone, ev("e3", storage.KindUser, "u1", "user.preserved")))
		_, err = s.Get(ctx, tenantA, storage.KindUser, "u1")
		require.ErrorIs(t, err, storage.ErrNotFound)
		st, err = state("u1")
		require.NoError(t, err)
		assert.True(t, st.Deleted)
		require.ErrorIs(t, s.PutUserState(ctx, tenantA, storage.UserState{ID: "nobody", State: storage.StatePreserved, Deleted: true},
			ev("x", storage.KindUser, "nobody", "user.preserved")), storage.ErrNotFound)
		_, err = state("nobody")
		require.ErrorIs(t, err, storage.ErrNotFound, "nothing stored for an absent user")

		// DeleteUserState appends its events.
		require.NoError(t, s.DeleteUserState(ctx, tenantA, "u1", ev("e4", storage.KindUser, "u1", "user.purged")))
		_, err = state("u1")
		require.ErrorIs(t, err, storage.ErrNotFound)

		// A deletion's events carry the version the user had;
		// DeleteUserState's 0.
		assert.Equal(t, []string{"e1@1", "e2@2", "e3@3", "e4@0"}, eventIDs(mustEvents(t, s, tenantA)))
	})
	t.Run("states round-trip, list by id and come due by time", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		_, err := s.GetUserState(ctx, tenantA, "u1")
		require.ErrorIs(t, err, storage.ErrNotFound)
		pending := storage.UserState{ID: "u1", State: storage.StatePending}
		kept := storage.UserState{ID: "u2", State: storage.StatePreserved, Until: t0.Add(time.Hour), Deleted: true,
			Name: "bob@example.com", Data: []byte(`{"userName":"bob@example.com"}`)}
		admin := storage.UserState{ID: "u3", State: storage.StatePreserved, ByAdmin: true}
		other := storage.UserState{ID: "u9", State: storage.StatePreserved, Until: t0.Add(2 * time.Hour)}
		mustCreate(t, s, tenantA, newUser(t, "u2", "bob@example.com", nil)) // kept is of a user deleted with it
		for _, st := range []storage.UserState{kept, pending, admin} {
			require.NoError(t, s.PutUserState(ctx, tenantA, st))
		}
		require.NoError(t, s.PutUserState(ctx, tenantB, other))

		got, err := s.GetUserState(ctx, tenantA, "u2")
		require.NoError(t, err)
		assert.Equal(t, tenantA, got.Tenant)
		assert.Equal(t, storage.StatePreserved, got.State)
		assert.WithinDuration(t, kept.Until, got.Until, 0)
		assert.True(t, got.Deleted)
		assert.False(t, got.ByAdmin)
		assert.Equal(t, kept.Name, got.Name)
		assert.Equal(t, string(kept.Data), string(got.Data))
		got, err = s.GetUserState(ctx, tenantA, "u3")
		require.NoError(t, err)
		assert.True(t, got.ByAdmin)
		assert.True(t, got.Until.IsZero())

		list, err := s.ListUserStates(ctx, tenantA, "", 2)
		require.NoError(t, err)
		require.Len(t, list, 2)
		assert.Equal(t, []string{"u1", "u2"}, []string{list[0].ID, list[1].ID})
		list, err = s.ListUserStates(ctx, tenantA, "u2", 10)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, "u3", list[0].ID)

		due, err := s.DueUserStates(ctx, t0.Add(90*time.Minute), 10)
		require.NoError(t, err)
		require.Len(t, due, 1, "only u2 is due; u3 never, u9 later")
		assert.Equal(t, "u2", due[0].ID)
		assert.Equal(t, tenantA, due[0].Tenant)
		due, err = s.DueUserStates(ctx, t0.Add(3*time.Hour), 10)
		require.NoError(t, err)
		assert.Len(t, due, 2)

		pending.State = storage.StatePreserved
		require.NoError(t, s.PutUserState(ctx, tenantA, pending), "a put replaces")
		got, err = s.GetUserState(ctx, tenantA, "u1")
		require.NoError(t, err)
		assert.Equal(t, storage.StatePreserved, got.State)
		require.NoError(t, s.DeleteUserState(ctx, tenantA, "u1"))
		require.NoError(t, s.DeleteUserState(ctx, tenantA, "u1"), "deleting an absent state is no error")
		_, err = s.GetUserState(ctx, tenantA, "u1")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

func testAuditLog(t *testing.T, newStore newStoreFunc) {
	t.Run("entries are listed by tenant and time and pruned by age", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		for i := range 5 {
			e := storage.AuditEntry{Time: t0.Add(time.Duration(i) * time.Minute), Credential: "c1", Operation: "POST /Users",
				ResourceID: fmt.Sprint("u", i), Status: 201}
			if i == 2 {
				e.Status, e.ScimType, e.Detail = 409, "uniqueness", "taken"
				e.Normalizations = []string{"DroppedAttribute roles.displayName"}
			}
			require.NoError(t, s.AppendAudit(ctx, tenantA, []storage.AuditEntry{e}))
		}
		require.NoError(t, s.AppendAudit(ctx, tenantB, []storage.AuditEntry{{Time: t0, Operation: "DELETE /Users", Status: 204}}))

		all, err := s.ListAudit(ctx, tenantA, time.Time{}, time.Time{}, 100)
		require.NoError(t, err)
		require.Len(t, all, 5)
		assert.Equal(t, "u0", all[0].ResourceID)
		assert.Equal(t, 409, all[2].Status)
		assert.Equal(t, "uniqueness", all[2].ScimType)
		assert.Equal(t, "taken", all[2].Detail)
		assert.Equal(t, []string{"DroppedAttribute roles.displayName"}, all[2].Normalizations)
		assert.Equal(t, "c1", all[2].Credential)
		assert.WithinDuration(t, t0.Add(2*time.Minute), all[2].Time, 0)

		page, err := s.ListAudit(ctx, tenantA, t0.Add(time.Minute), t0.Add(4*time.Minute), 2)
		require.NoError(t, err)
		require.Len(t, page, 2)
		assert.Equal(t, []string{"u1", "u2"}, []string{page[0].ResourceID, page[1].ResourceID})

		n, err := s.PruneAudit(ctx, t0.Add(3*time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 4, n, "three of A, one of B")
		all, err = s.ListAudit(ctx, tenantA, time.Time{}, time.Time{}, 100)
		require.NoError(t, err)
		require.Len(t, all, 2)
		assert.Equal(t, "u3", all[0].ResourceID)
	})
}

func testDeleteTenant(t *testing.T, newStore newStoreFunc) {
	t.Run("deleting a tenant removes everything of it and nothing else", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		for _, tn := range []string{tenantA, tenantB} {
			setLimit(t, s, tn, 10)
			mustCreate(t, s, tn, seated(t, "u1"), newGroup(t, "g1", "Admins", nil))
			mustChange(t, s, tn, "g1", add("u1"))
			require.NoError(t, s.CreateCredential(ctx, tn, storage.Credential{ID: "c1", Created: t0}, []byte("hash-"+tn)))
			require.NoError(t, s.PutUserState(ctx, tn, storage.UserState{ID: "u1", State: storage.StatePending}))
			require.NoError(t, s.AppendAudit(ctx, tn, []storage.AuditEntry{{Time: t0, Operation: "POST /Users", Status: 201}}))
			require.NoError(t, s.Create(ctx, tn, seated(t, "u2"), ev("e-"+tn, storage.KindUser, "u2", "user.provisioned")))
		}
		// One event of tenantA delivered, one pending: both go.
		claimed, err := s.ClaimEvents(ctx, storage.Claim{Owner: "d", Limit: 10, Now: t0, Lease: time.Minute})
		require.NoError(t, err)
		for _, e := range claimed {
			if e.Tenant == tenantA {
				require.NoError(t, s.AckEvent(ctx, e.Seq, t0))
			}
		}
		require.NoError(t, s.Create(ctx, tenantA, seated(t, "u3"), ev("e2-"+tenantA, storage.KindUser, "u3", "user.provisioned")))
		require.NoError(t, s.DeleteTenant(ctx, tenantA))
		require.NoError(t, s.DeleteTenant(ctx, "nobody"), "an empty tenant is no error")

		_, err = s.Get(ctx, tenantA, storage.KindUser, "u1")
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.ListMembers(ctx, tenantA, "g1")
		require.ErrorIs(t, err, storage.ErrNotFound)
		p := mustList(t, s, tenantA, storage.Query{Kind: storage.KindGroup, TotalOnly: true})
		assert.Zero(t, p.Total)
		_, err = s.CredentialByHash(ctx, []byte("hash-"+tenantA))
		require.ErrorIs(t, err, storage.ErrNotFound)
		creds, err := s.ListCredentials(ctx, tenantA)
		require.NoError(t, err)
		assert.Empty(t, creds)
		_, err = s.GetTenant(ctx, tenantA)
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.GetUserState(ctx, tenantA, "u1")
		require.ErrorIs(t, err, storage.ErrNotFound)
		audit, err := s.ListAudit(ctx, tenantA, time.Time{}, time.Time{}, 10)
		require.NoError(t, err)
		assert.Empty(t, audit)
		assert.Empty(t, mustEvents(t, s, tenantA), "the tenant's outbox is emptied")
		claimed, err = s.ClaimEvents(ctx, storage.Claim{Owner: "d2", Limit: 10, Now: t0.Add(time.Hour), Lease: time.Minute})
		require.NoError(t, err)
		for _, e := range claimed {
			assert.NotEqual(t, tenantA, e.Tenant, "no event of a deleted tenant is delivered")
		}
		// The tenant can start again from nothing, with its old names.
		mustCreate(t, s, tenantA, seated(t, "u1"))

		assert.Equal(t, []string{"u1"}, memberIDs(mustMembers(t, s, tenantB, "g1")))
		_, err = s.CredentialByHash(ctx, []byte("hash-"+tenantB))
		require.NoError(t, err)
		_, err = s.GetTenant(ctx, tenantB)
		require.NoError(t, err)
		_, err = s.GetUserState(ctx, tenantB, "u1")
		require.NoError(t, err)
		audit, err = s.ListAudit(ctx, tenantB, time.Time{}, time.Time{}, 10)
		require.NoError(t, err)
		assert.Len(t, audit, 1)
		assert.Equal(t, []string{"e-" + tenantB + "@1"}, eventIDs(mustEvents(t, s, tenantB)))
	})
}
