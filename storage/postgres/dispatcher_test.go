package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/postgres"
)

// Two dispatchers, each with its own pool as two processes would have,
// drain one outbox: every event is delivered, at least once, in order per
// resource, and never to two handlers of one resource at once, also while
// handlers fail and are retried.
func TestTwoDispatchers(t *testing.T) {
	ctx := t.Context()
	pool := newPool(t)
	s, err := postgres.New(ctx, pool)
	require.NoError(t, err)
	const users, updates = 20, 4
	for i := range users {
		id := fmt.Sprint("u", i)
		r := &storage.Resource{Kind: storage.KindUser, ID: id, Name: id, Data: []byte(`{"userName":"` + id + `"}`)}
		for j := 0; j <= updates; j++ {
			rec, err := provisioning.Record(provisioning.Event{ID: fmt.Sprintf("%s-%d", id, j), Type: provisioning.Updated,
				Kind: storage.KindUser, ResourceID: id})
			require.NoError(t, err)
			if j == 0 {
				require.NoError(t, s.Create(ctx, "acme", r, rec))
			} else {
				require.NoError(t, s.Replace(ctx, "acme", r, rec))
			}
		}
	}
	var (
		mu      sync.Mutex
		busy    = map[string]bool{}
		last    = map[string]int64{}
		done    = map[string]bool{}
		overlap []string
		order   []string
	)
	handler := func(_ context.Context, e provisioning.Event) error {
		mu.Lock()
		if busy[e.ResourceID] {
			overlap = append(overlap, e.ID)
		}
		busy[e.ResourceID] = true
		if e.Seq < last[e.ResourceID] {
			order = append(order, e.ID)
		}
		fail := e.Attempt == 1 && e.Seq%3 == 0 // a third fail once
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		busy[e.ResourceID] = false
		if fail {
			return errors.New("transient")
		}
		last[e.ResourceID] = e.Seq
		done[e.ID] = true
		return nil
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 2 {
		p, err := postgres.New(ctx, newPoolOn(t, pool))
		require.NoError(t, err)
		d, err := provisioning.NewDispatcher(p, handler, provisioning.WithBatch(4), provisioning.WithPollInterval(5*time.Millisecond),
			provisioning.WithBackoff(10*time.Millisecond, 20*time.Millisecond))
		require.NoError(t, err)
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Run(runCtx) }()
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(done) == users*(updates+1)
	}, 30*time.Second, 10*time.Millisecond)
	cancel()
	wg.Wait()
	assert.Empty(t, overlap, "events handled while another of their resource was")
	assert.Empty(t, order, "events handled after a later one of their resource")
}

// newPoolOn returns another pool with the configuration (and schema) of p,
// as a second process would open.
func newPoolOn(t *testing.T, p *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	q, err := pgxpool.NewWithConfig(t.Context(), p.Config().Copy())
	require.NoError(t, err)
	t.Cleanup(q.Close)
	return q
}
