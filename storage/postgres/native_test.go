package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/postgres"
)

// openTraced returns a store whose pool counts round trips, with at most
// maxConns connections.
func openTraced(t *testing.T, maxConns int32) (*postgres.Store, *roundTrips, *pgxpool.Pool) {
	t.Helper()
	cfg := newPool(t).Config().Copy()
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s, err := postgres.New(context.Background(), pool)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	rt.take()
	return s, rt, pool
}

func testUser(i int) *storage.Resource {
	name := fmt.Sprintf("u%03d@x.test", i)
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	return &storage.Resource{Kind: storage.KindUser, ID: fmt.Sprintf("u%03d", i), Name: name, Emails: []string{name},
		Created: at, Modified: at, Seat: true, Data: []byte(`{"userName":"` + name + `","active":true}`)}
}

func testEvent(r *storage.Resource, typ string) storage.Event {
	return storage.Event{ID: r.ID + "-" + typ, Kind: r.Kind, ResourceID: r.ID, Type: typ, Time: r.Modified, Data: []byte(`{"t":"` + typ + `"}`)}
}

// TestRoundTrips pins the cost model of the pgx paths: a create or a
// replace with its seat check, state and events is one round trip, a
// member change of any size two, a lookup, a get, a page with its total
// and an authentication one each.
func TestRoundTrips(t *testing.T) {
	ctx := context.Background()
	s, rt, _ := openTraced(t, 4)
	for i := range 150 {
		require.NoError(t, s.Create(ctx, "acme", testUser(i)))
	}
	require.NoError(t, s.Create(ctx, "acme", &storage.Resource{Kind: storage.KindGroup, ID: "g", Name: "G", Data: []byte(`{"displayName":"G"}`)}))
	rt.take()
	check := func(name string, want int, f func() error) {
		t.Helper()
		require.NoError(t, f(), name)
		n, stmts := rt.take()
		assert.Equal(t, want, n, "%s: %q", name, stmts)
	}
	u := testUser(500)
	u.State = &storage.UserState{State: storage.StatePending}
	check("create with seat, state and two events", 1, func() error {
		return s.Create(ctx, "acme", u, testEvent(u, "a"), testEvent(u, "b"))
	})
	u.Data = []byte(`{"userName":"u500@x.test","active":true,"displayName":"x"}`)
	check("replace with seat, state and an event", 1, func() error { return s.Replace(ctx, "acme", u, testEvent(u, "c")) })
	check("get", 1, func() error { _, err := s.Get(ctx, "acme", storage.KindUser, "u001"); return err })
	check("userName lookup", 1, func() error {
		_, err := s.List(ctx, "acme", storage.Query{Kind: storage.KindUser, Lookup: &storage.Lookup{Field: storage.LookupName, Value: "U007@x.test"}})
		return err
	})
	check("page with total", 1, func() error {
		p, err := s.List(ctx, "acme", storage.Query{Kind: storage.KindUser, Count: 100})
		if err == nil && p.Total != 151 {
			err = fmt.Errorf("total %d", p.Total)
		}
		return err
	})
	var ms []storage.Member
	for i := range 100 {
		ms = append(ms, storage.Member{Value: fmt.Sprintf("u%03d", i)})
	}
	check("add 100 members with an event", 2, func() error {
		return s.ChangeMembers(ctx, "acme", "g", storage.MemberChange{Add: ms, Modified: time.Now(),
			Events: []storage.Event{{ID: "m1", Kind: storage.KindGroup, ResourceID: "g", Type: "members", Time: time.Now()}}})
	})
	check("remove one, add 40", 2, func() error {
		return s.ChangeMembers(ctx, "acme", "g", storage.MemberChange{Remove: []string{"u003"}, Add: ms[100-40:], Modified: time.Now()})
	})
	check("delete with an event", 2, func() error {
		return s.Delete(ctx, "acme", storage.KindUser, "u010", testEvent(testUser(10), "deleted"))
	})
	check("audit batch of 3", 1, func() error {
		return s.AppendAudit(ctx, "acme", []storage.AuditEntry{{Time: time.Now(), Operation: "a"}, {Time: time.Now(), Operation: "b"}, {Time: time.Now(), Operation: "c"}})
	})
}

// TestStaleReplaceWritesNothing: a replace whose version check fails
// leaves the resource, its user state and the outbox as they were, though
// its events and state travel in the same statement.
func TestStaleReplaceWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTraced(t, 2)
	u := testUser(1)
	u.State = &storage.UserState{State: storage.StatePending}
	require.NoError(t, s.Create(ctx, "acme", u, testEvent(u, "created")))
	stale := *u
	u.Data = []byte(`{"userName":"u001@x.test","active":true,"displayName":"first"}`)
	require.NoError(t, s.Replace(ctx, "acme", u, testEvent(u, "first")))

	stale.Data = []byte(`{"userName":"u001@x.test","active":true,"displayName":"stale"}`)
	stale.State = &storage.UserState{State: storage.StatePreserved, Until: time.Unix(1e9, 0)}
	require.ErrorIs(t, s.Replace(ctx, "acme", &stale, testEvent(&stale, "stale")), storage.ErrVersionMismatch)
	deleted := stale
	deleted.State = &storage.UserState{}
	require.ErrorIs(t, s.Replace(ctx, "acme", &deleted, testEvent(&deleted, "stale2")), storage.ErrVersionMismatch)

	got, err := s.Get(ctx, "acme", storage.KindUser, "u001")
	require.NoError(t, err)
	assert.Equal(t, int64(2), got.Version)
	assert.JSONEq(t, string(u.Data), string(got.Data))
	st, err := s.GetUserState(ctx, "acme", "u001")
	require.NoError(t, err)
	assert.Equal(t, storage.StatePending, st.State)
	evs, err := s.ListEvents(ctx, "acme", 0, 10)
	require.NoError(t, err)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{"created", "first"}, types)
	assert.Equal(t, []int64{1, 2}, []int64{evs[0].Version, evs[1].Version})

	missing := testUser(9)
	missing.Version = 1
	require.ErrorIs(t, s.Replace(ctx, "acme", missing, testEvent(missing, "x")), storage.ErrNotFound)
}

// TestEventsOfOneWriteInOrder: the events of one write get increasing
// seqs in the order given.
func TestEventsOfOneWriteInOrder(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTraced(t, 2)
	u := testUser(1)
	var evs []storage.Event
	for i := range 5 {
		evs = append(evs, testEvent(u, fmt.Sprintf("e%d", 4-i)))
	}
	require.NoError(t, s.Create(ctx, "acme", u, evs...))
	got, err := s.ListEvents(ctx, "acme", 0, 10)
	require.NoError(t, err)
	require.Len(t, got, 5)
	for i, e := range got {
		assert.Equal(t, fmt.Sprintf("e%d", 4-i), e.Type)
		assert.JSONEq(t, fmt.Sprintf(`{"t":"e%d"}`, 4-i), string(e.Data))
		assert.Equal(t, u.Modified, e.Time)
		if i > 0 {
			assert.Greater(t, e.Seq, got[i-1].Seq)
		}
	}
}

// TestFailedMemberChangeLeavesConnectionClean: a member change refused in
// either round trip (missing group, invalid member, stale version, taken
// name) changes nothing and leaves no transaction open on the pool's only
// connection.
func TestFailedMemberChangeLeavesConnectionClean(t *testing.T) {
	ctx := context.Background()
	s, _, pool := openTraced(t, 1)
	for i := range 3 {
		require.NoError(t, s.Create(ctx, "acme", testUser(i)))
	}
	g := &storage.Resource{Kind: storage.KindGroup, ID: "g", Name: "G", Data: []byte(`{"displayName":"G"}`)}
	require.NoError(t, s.Create(ctx, "acme", g))
	other := &storage.Resource{Kind: storage.KindGroup, ID: "h", Name: "H", Data: []byte(`{"displayName":"H"}`)}
	require.NoError(t, s.Create(ctx, "acme", other))
	require.NoError(t, s.ChangeMembers(ctx, "acme", "g", storage.MemberChange{Add: []storage.Member{{Value: "u000"}}}))

	var pid int
	require.NoError(t, pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	ev := []storage.Event{{ID: "bad", Kind: storage.KindGroup, ResourceID: "g", Type: "members", Time: time.Now()}}
	renamed := *g
	renamed.Version, renamed.Name, renamed.Data = 2, "H", []byte(`{"displayName":"H"}`)
	stale := *g
	stale.Data = []byte(`{"displayName":"stale"}`)
	for _, tc := range []struct {
		name  string
		group string
		ch    storage.MemberChange
		want  error
	}{
		{"missing group", "nope", storage.MemberChange{Add: []storage.Member{{Value: "u001"}}}, storage.ErrNotFound},
		{"invalid member", "g", storage.MemberChange{Remove: []string{"u000"}, Add: []storage.Member{{Value: "u001"}, {Value: "ghost"}}}, storage.ErrInvalidMember},
		{"stale version", "g", storage.MemberChange{Remove: []string{"u000"}, Group: &stale}, storage.ErrVersionMismatch},
		{"taken name", "g", storage.MemberChange{Remove: []string{"u000"}, Add: []storage.Member{{Value: "u002"}}, Group: &renamed}, storage.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.ch.Events, tc.ch.Modified = ev, time.Now()
			require.ErrorIs(t, s.ChangeMembers(ctx, "acme", tc.group, tc.ch), tc.want)
			ms, err := s.ListMembers(ctx, "acme", "g")
			require.NoError(t, err)
			assert.Equal(t, []storage.Member{{Value: "u000", Type: storage.KindUser}}, ms)
			got, err := s.Get(ctx, "acme", storage.KindGroup, "g")
			require.NoError(t, err)
			assert.Equal(t, int64(2), got.Version)
			assert.Equal(t, "G", got.Name)
			evs, err := s.ListEvents(ctx, "acme", 0, 10)
			require.NoError(t, err)
			assert.Empty(t, evs)
			var now int
			require.NoError(t, pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&now))
			assert.Equal(t, pid, now, "the connection was kept, its transaction ended")
		})
	}
}

// TestConcurrentReplacesLoseNothing: writers of one resource, each a
// read, a change and a versioned replace retried on a mismatch, from two
// stores (two instances) on one database, lose no update, and each
// success wrote exactly one event at its version.
func TestConcurrentReplacesLoseNothing(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	s1, err := postgres.New(ctx, pool)
	require.NoError(t, err)
	s2, err := postgres.New(ctx, pool)
	require.NoError(t, err)
	u := testUser(1)
	require.NoError(t, s1.Create(ctx, "acme", u))
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		s := []*postgres.Store{s1, s2}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r, err := s.Get(ctx, "acme", storage.KindUser, "u001")
				if err != nil {
					errs[i] = err
					return
				}
				r.Data = append(r.Data[:len(r.Data)-1], fmt.Sprintf(`,"w%02d":true}`, i)...)
				err = s.Replace(ctx, "acme", r, storage.Event{ID: fmt.Sprintf("w%02d", i), Kind: storage.KindUser, ResourceID: "u001", Type: "w", Time: time.Now()})
				if err == nil || !assert.ErrorIs(t, err, storage.ErrVersionMismatch) {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	got, err := s1.Get(ctx, "acme", storage.KindUser, "u001")
	require.NoError(t, err)
	assert.Equal(t, int64(n+1), got.Version)
	for i := range n {
		assert.Contains(t, string(got.Data), fmt.Sprintf(`"w%02d":true`, i))
	}
	evs, err := s1.ListEvents(ctx, "acme", 0, 2*n)
	require.NoError(t, err)
	require.Len(t, evs, n)
	for i, e := range evs {
		assert.Equal(t, int64(i+2), e.Version, "event %d", i)
	}
}

// TestAuditBatchOrder: one batch keeps its entries and their order.
func TestAuditBatchOrder(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTraced(t, 2)
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	var in []storage.AuditEntry
	for i := range 5 {
		in = append(in, storage.AuditEntry{Time: at, Credential: "c", Operation: fmt.Sprintf("op%d", i), ResourceID: "r",
			Status: 200 + i, ScimType: "t", Detail: "d", Normalizations: []string{fmt.Sprintf("n%d", i), "x"}})
	}
	require.NoError(t, s.AppendAudit(ctx, "acme", in))
	got, err := s.ListAudit(ctx, "acme", at, at.Add(time.Second), 10)
	require.NoError(t, err)
	require.Len(t, got, 5)
	for i := range in {
		assert.Equal(t, in[i].Operation, got[i].Operation)
		assert.Equal(t, in[i].Status, got[i].Status)
		assert.Equal(t, in[i].Normalizations, got[i].Normalizations)
		assert.True(t, in[i].Time.Equal(got[i].Time))
	}
}

// TestConcurrentAcks: acknowledgements from many goroutines at once,
// written in combined batches, each land once: nothing is claimable
// after, and every event counts as delivered.
func TestConcurrentAcks(t *testing.T) {
	ctx := context.Background()
	s, rt, _ := openTraced(t, 4)
	const n = 300
	for i := range n {
		u := testUser(i)
		u.Seat = false
		require.NoError(t, s.Create(ctx, "acme", u, testEvent(u, "created")))
	}
	now := time.Now()
	evs, err := s.ClaimEvents(ctx, storage.Claim{Owner: "o", Limit: n, Now: now, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, evs, n)
	rt.take()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for _, e := range evs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs <- s.AckEvent(ctx, e.Seq, now)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	writes, _ := rt.take()
	t.Logf("%d acknowledgements in %d statements", n, writes)
	assert.LessOrEqual(t, writes, n)
	again, err := s.ClaimEvents(ctx, storage.Claim{Owner: "o2", Limit: n, Now: now.Add(time.Hour), Lease: time.Minute})
	require.NoError(t, err)
	assert.Empty(t, again, "every event was acknowledged")
	pruned, err := s.PruneEvents(ctx, now.Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, n, pruned)
}
