package scimkit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// workLimits is a rate limiter with only a work limit, on a fake clock.
func workLimits(clk *fakeClock, perSecond, burst time.Duration) *rateLimits {
	lim := defaultLimits()
	lim.rate, lim.burst, lim.concurrency = 0, 0, 0
	lim.work, lim.workBurst = perSecond, burst
	return newRateLimits(lim, clk.now)
}

// run admits a request of tenant, gates it when gate, lets it take d on
// clk, and releases it; it returns the gate's wait (0: it ran).
func run(t *testing.T, a *rateLimits, clk *fakeClock, tenant string, d time.Duration, gate bool) time.Duration {
	t.Helper()
	var upfront time.Duration
	start := clk.t
	release, _, err := a.admit(context.Background(), tenant, func() (time.Time, bool, time.Duration) {
		return start.Add(d), gate, upfront
	})
	require.NoError(t, err)
	if gate {
		var wait time.Duration
		upfront, wait = a.gateWork(tenant)
		if wait > 0 {
			upfront, d = 0, 0
			release()
			return wait
		}
	}
	clk.t = clk.t.Add(d)
	release()
	return 0
}

// TestWorkBudget follows a tenant's work budget through its arithmetic: a
// tenant whose expensive requests each take 300 ms, at 250 ms per second
// with bursts of 1 s, gets 5 of them admitted back to back (the burst and
// what refilled in the 1.5 s they took, the last one into debt), then
// its next expensive request waits for the debt to be paid, and runs
// once it is; meanwhile its cheap requests, another tenant's, and a
// tenant whose cheap requests take seconds are never refused.
func TestWorkBudget(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := workLimits(clk, 250*time.Millisecond, time.Second)

	admitted := 0
	var wait time.Duration
	for range 10 {
		if wait = run(t, a, clk, "heavy", 300*time.Millisecond, true); wait > 0 {
			break
		}
		admitted++
	}
	// Each request starts with a positive balance: 1 s, then 0.775,
	// 0.55, 0.325 and 0.1 s (the 300 ms it cost less the 75 ms that
	// refilled meanwhile), and the 5th leaves a debt of 0.2 s, which
	// 0.8 s at 250 ms per second pays.
	assert.Equal(t, 5, admitted)
	assert.Equal(t, 801*time.Millisecond, wait)
	assert.Zero(t, run(t, a, clk, "heavy", 10*time.Millisecond, false), "its cheap requests are served")
	assert.Zero(t, run(t, a, clk, "other", 300*time.Millisecond, true), "another tenant has its own budget")
	for range 20 {
		assert.Zero(t, run(t, a, clk, "light", 3*time.Second, false), "cheap requests are never charged")
	}
	// 60 s went by in the light tenant's requests: the heavy tenant's
	// budget is full again.
	assert.Zero(t, run(t, a, clk, "heavy", 300*time.Millisecond, true))

	// A response over costlyBytes is charged when it ends, without the
	// gate: a tenant whose reads return huge resources spends its share.
	b := workLimits(clk, 250*time.Millisecond, time.Second)
	release, _, err := b.admit(context.Background(), "reads", func() (time.Time, bool, time.Duration) {
		return clk.t.Add(2 * time.Second), true, 0
	})
	require.NoError(t, err)
	release()
	_, wait = b.gateWork("reads")
	assert.Positive(t, wait)
}

// TestWorkBudgetCountsRequestsInProgress: the gate charges a tenant's
// recent average cost up front, so a tenant with many clients sending
// expensive requests at once gets about as many admitted as its balance
// pays for, not one per client.
func TestWorkBudgetCountsRequestsInProgress(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := workLimits(clk, 250*time.Millisecond, time.Second)
	// Teach the budget that this tenant's requests cost 400 ms, and let
	// it refill.
	for range 8 {
		run(t, a, clk, "heavy", 400*time.Millisecond, true)
		clk.t = clk.t.Add(2 * time.Second)
	}
	clk.t = clk.t.Add(10 * time.Second)
	admitted := 0
	for range 16 { // 16 clients at once: none has ended yet
		if _, wait := a.gateWork("heavy"); wait == 0 {
			admitted++
		}
	}
	assert.LessOrEqual(t, admitted, 3, "about 1 s of burst over 400 ms each")
	assert.GreaterOrEqual(t, admitted, 2)
}

// TestRefusalPause holds the pause of a refused request: until the
// tenant's next token (here 1/rate = 40 ms), at most maxRefusalPause,
// and for at most maxPausing requests of a tenant at once; other
// tenants' refusals pause on their own count.
func TestRefusalPause(t *testing.T) {
	lim := defaultLimits()
	lim.rate, lim.burst, lim.concurrency, lim.work = 25, 1, 0, 0
	a := newRateLimits(lim, time.Now)
	var mu sync.Mutex
	var pauses []time.Duration
	hold := make(chan struct{})
	a.sleep = func(_ context.Context, d time.Duration) {
		mu.Lock()
		pauses = append(pauses, d)
		mu.Unlock()
		<-hold
	}
	ctx := context.Background()
	release, _, err := a.admit(ctx, "t", nil)
	require.NoError(t, err)
	release()
	_, kind, err := a.admit(ctx, "t", nil)
	require.Error(t, err)
	assert.Equal(t, LimitRate, kind)

	var wg sync.WaitGroup
	var returned atomic.Int64
	for range maxPausing + 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.pause(ctx, "t", LimitRate)
			returned.Add(1)
		}()
	}
	// The pauses beyond maxPausing return at once; the others wait.
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(pauses) == maxPausing && returned.Load() == 10
	}, 10*time.Second, time.Millisecond)
	done := make(chan struct{})
	go func() { a.pause(ctx, "u", LimitRate); close(done) }() // unknown tenant: nothing to pause for
	<-done
	close(hold)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, pauses, maxPausing)
	for _, d := range pauses {
		assert.Greater(t, d, time.Duration(0))
		assert.LessOrEqual(t, d, 40*time.Millisecond, "until the next token")
	}

	// A slow rate pauses for maxRefusalPause, not until the token.
	lim.rate = 0.1
	a = newRateLimits(lim, time.Now)
	a.sleep = func(_ context.Context, d time.Duration) { pauses = append(pauses[:0], d) }
	release, _, err = a.admit(ctx, "t", nil)
	require.NoError(t, err)
	release()
	a.pause(ctx, "t", LimitRate)
	assert.Equal(t, []time.Duration{maxRefusalPause}, pauses)
}
