package scimkit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for the rate limiter.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// TestDefaultRateLetsEntraThrough replays a minute of requests at a steady
// rate against the default limits: Entra's documented 25 requests per
// second per tenant (Microsoft's gallery checklist, IDP.md) always pass,
// even starting with a burst; four times that rate is held to the
// default sustained rate.
func TestDefaultRateLetsEntraThrough(t *testing.T) {
	tests := []struct {
		name        string
		rps         float64
		wantRefused func(t *testing.T, refused, sent int)
	}{
		{"Entra's 25 per second", 25, func(t *testing.T, refused, sent int) { assert.Zero(t, refused) }},
		{"twice that", 50, func(t *testing.T, refused, sent int) { assert.Zero(t, refused) }},
		{"four times Entra's rate", 100, func(t *testing.T, refused, sent int) {
			passed := sent - refused
			// A minute at DefaultRateLimit plus the burst.
			assert.InDelta(t, 60*DefaultRateLimit+DefaultRateBurst, passed, 2)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			a := newRateLimits(defaultLimits(), clk.now)
			refused, sent := 0, 0
			// Start with a burst of one second's worth at once.
			for range int(tc.rps) {
				release, _, err := a.admit(context.Background(), "t")
				sent++
				if err != nil {
					refused++
					continue
				}
				release()
			}
			step := time.Duration(float64(time.Second) / tc.rps)
			for end := clk.t.Add(time.Minute); clk.t.Before(end); clk.t = clk.t.Add(step) {
				release, kind, err := a.admit(context.Background(), "t")
				sent++
				if err != nil {
					assert.Equal(t, LimitRate, kind)
					var se *Error
					require.True(t, errors.As(err, &se))
					assert.Equal(t, 429, se.Status())
					assert.Equal(t, "1", se.retryAfterHeader())
					refused++
					continue
				}
				release()
			}
			tc.wantRefused(t, refused, sent)
		})
	}
}

// TestConcurrencyLimit holds a tenant's slots: one more request waits,
// gets a slot when one is freed, and is refused with 429 when none is
// freed in time; another tenant is not affected.
func TestConcurrencyLimit(t *testing.T) {
	lim := defaultLimits()
	lim.rate, lim.concurrency, lim.wait = 0, 2, 50*time.Millisecond
	a := newRateLimits(lim, time.Now)
	ctx := context.Background()
	r1, _, err := a.admit(ctx, "a")
	require.NoError(t, err)
	r2, _, err := a.admit(ctx, "a")
	require.NoError(t, err)

	_, kind, err := a.admit(ctx, "a")
	require.Error(t, err)
	assert.Equal(t, LimitConcurrency, kind)
	var se *Error
	require.True(t, errors.As(err, &se))
	assert.Equal(t, 429, se.Status())
	assert.Equal(t, "1", se.retryAfterHeader())

	rb, _, err := a.admit(ctx, "b")
	require.NoError(t, err, "tenant b has its own slots")
	rb()

	done := make(chan error)
	go func() {
		r, _, err := a.admit(ctx, "a")
		if err == nil {
			r()
		}
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	r1()
	require.NoError(t, <-done, "a waiting request gets the freed slot")
	r2()
}

// TestAdmissionMapIsBounded admits many tenants once: the map keeps at
// most its bound, forgetting idle tenants.
func TestAdmissionMapIsBounded(t *testing.T) {
	lim := defaultLimits()
	lim.tenants = 100
	clk := &fakeClock{t: time.Now()}
	a := newRateLimits(lim, clk.now)
	held, _, err := a.admit(context.Background(), "busy")
	require.NoError(t, err)
	for i := range 1000 {
		r, _, err := a.admit(context.Background(), fmt.Sprint("tenant-", i))
		require.NoError(t, err)
		r()
		clk.t = clk.t.Add(time.Millisecond)
		require.LessOrEqual(t, len(a.tenants), lim.tenants)
	}
	assert.Contains(t, a.tenants, "busy", "a tenant with a request in progress is kept")
	held()
}

// TestResourceLocksArePerTenant holds a resource's lock: the same id in
// another tenant is free, the same resource waits, and a waiter whose
// client has gone gives up.
func TestResourceLocksArePerTenant(t *testing.T) {
	l := newResourceLocks()
	ctx := context.Background()
	unlock, err := l.lock(ctx, "a", "1")
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	other, err := l.lock(short, "b", "1")
	require.NoError(t, err, "another tenant's resource of the same id is not held")
	other()

	gone, cancel2 := context.WithCancel(ctx)
	cancel2()
	_, err = l.lock(gone, "a", "1")
	assert.ErrorIs(t, err, context.Canceled)

	got := make(chan struct{})
	go func() {
		u, err := l.lock(ctx, "a", "1")
		if err == nil {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("the held lock was taken twice")
	case <-time.After(20 * time.Millisecond):
	}
	unlock()
	<-got
	total := 0
	for i := range l.shards {
		total += len(l.shards[i].m)
	}
	assert.Zero(t, total, "locks nobody holds are dropped")
}
