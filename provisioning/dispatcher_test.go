package provisioning_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// seed stores users u0..u(n-1) with a provisioned event each, then an
// updated event each.
func seed(t *testing.T, s *memory.Store, n int) {
	t.Helper()
	for i := range n {
		id := fmt.Sprint("u", i)
		r := &storage.Resource{Kind: storage.KindUser, ID: id, Name: id, Data: []byte(`{"userName":"` + id + `"}`)}
		for j, typ := range []provisioning.EventType{provisioning.Provisioned, provisioning.Updated} {
			rec, err := provisioning.Record(provisioning.Event{ID: fmt.Sprintf("%s-%d", id, j), Type: typ, Kind: storage.KindUser, ResourceID: id, Name: id})
			require.NoError(t, err)
			if j == 0 {
				require.NoError(t, s.Create(t.Context(), "acme", r, rec))
			} else {
				require.NoError(t, s.Replace(t.Context(), "acme", r, rec))
			}
		}
	}
}

func TestDispatcherRetriesInOrderPerResource(t *testing.T) {
	s := memory.New()
	seed(t, s, 3)
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var got []string
	fails := 2
	d, err := provisioning.NewDispatcher(s, func(_ context.Context, e provisioning.Event) error {
		got = append(got, fmt.Sprintf("%s#%d", e.ID, e.Attempt))
		if e.ID == "u1-0" && fails > 0 {
			fails--
			return errors.New("backup service down")
		}
		assert.Equal(t, "acme", e.Tenant)
		assert.Equal(t, e.ResourceID, e.Name)
		return nil
	}, provisioning.WithWorkers(1), provisioning.WithDispatcherClock(clk.Now), provisioning.WithBackoff(time.Second, time.Minute))
	require.NoError(t, err)
	deliver := func() int {
		n, err := d.Deliver(t.Context())
		require.NoError(t, err)
		return n
	}
	assert.Equal(t, 3, deliver())
	assert.Equal(t, []string{"u0-0#1", "u1-0#1", "u2-0#1"}, got)
	got = nil
	assert.Equal(t, 2, deliver(), "u1's update waits behind its failed create")
	assert.Equal(t, []string{"u0-1#1", "u2-1#1"}, got)
	assert.Equal(t, 0, deliver(), "back-off")
	clk.Add(time.Second)
	got = nil
	assert.Equal(t, 1, deliver())
	assert.Equal(t, []string{"u1-0#2"}, got)
	clk.Add(time.Second)
	assert.Equal(t, 0, deliver(), "the second failure doubles the delay")
	clk.Add(time.Second)
	got = nil
	assert.Equal(t, 1, deliver())
	assert.Equal(t, 1, deliver())
	assert.Equal(t, []string{"u1-0#3", "u1-1#1"}, got)
	assert.Equal(t, 0, deliver())
}

func TestDispatcherRedeliversAfterACrash(t *testing.T) {
	s := memory.New()
	seed(t, s, 1)
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	// A dispatcher claims the first event and dies in its handler.
	claimed, err := s.ClaimEvents(t.Context(), storage.Claim{Owner: "dead", Limit: 10, Now: clk.Now(), Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, claimed, 1)

	var got []string
	d, err := provisioning.NewDispatcher(s, func(_ context.Context, e provisioning.Event) error {
		got = append(got, e.ID)
		return nil
	}, provisioning.WithDispatcherClock(clk.Now), provisioning.WithLease(time.Minute))
	require.NoError(t, err)
	n, err := d.Deliver(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n, "the lease of the dead dispatcher still runs")
	clk.Add(time.Minute)
	for range 3 {
		_, err = d.Deliver(t.Context())
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"u0-0", "u0-1"}, got)
}

func TestDispatcherRunRecoversPanicsAndStops(t *testing.T) {
	s := memory.New()
	seed(t, s, 2)
	var mu sync.Mutex
	seen := map[string]int{}
	d, err := provisioning.NewDispatcher(s, func(_ context.Context, e provisioning.Event) error {
		mu.Lock()
		defer mu.Unlock()
		seen[e.ID]++
		if e.ID == "u0-1" && seen[e.ID] == 1 {
			panic("boom")
		}
		return nil
	}, provisioning.WithPollInterval(time.Millisecond), provisioning.WithBackoff(time.Millisecond, time.Millisecond), provisioning.WithRetention(0))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 4 && seen["u0-1"] == 2
	}, 5*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, map[string]int{"u0-0": 1, "u0-1": 2, "u1-0": 1, "u1-1": 1}, seen)
}

func TestNewDispatcherValidates(t *testing.T) {
	s := memory.New()
	h := func(context.Context, provisioning.Event) error { return nil }
	for name, opts := range map[string][]provisioning.DispatcherOption{
		"batch":   {provisioning.WithBatch(0)},
		"workers": {provisioning.WithWorkers(0)},
		"lease":   {provisioning.WithLease(time.Millisecond)},
		"poll":    {provisioning.WithPollInterval(0)},
		"backoff": {provisioning.WithBackoff(time.Minute, time.Second)},
		"owner":   {provisioning.WithOwner("")},
		"clock":   {provisioning.WithDispatcherClock(nil)},
		"logger":  {provisioning.WithDispatcherLogger(nil)},
		"retain":  {provisioning.WithRetention(-1)},
	} {
		_, err := provisioning.NewDispatcher(s, h, opts...)
		assert.Error(t, err, name)
	}
	_, err := provisioning.NewDispatcher(nil, h)
	assert.Error(t, err)
	_, err = provisioning.NewDispatcher(s, nil)
	assert.Error(t, err)
}
