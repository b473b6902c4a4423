package scimkit

import (
	"context"
	"errors"
	"sync"
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

// takes returns a cost function for admit: the request's work took d on
// clk, and is charged or not.
func takes(clk *fakeClock, d time.Duration, charged bool) func() (time.Time, bool) {
	return func() (time.Time, bool) {
		clk.t = clk.t.Add(d)
		return clk.t, charged
	}
}

// TestWorkBudget follows a tenant's work budget through its arithmetic: a
// tenant whose requests each take 300 ms of charged time, at 250 ms per
// second with bursts of 1 s, gets 5 of them admitted back to back (the
// burst and what refilled in the 1.5 s they took, the last one into
// debt), is then refused with a Retry-After that pays the debt, and is
// admitted again once it has;
// meanwhile another tenant, and a tenant whose uncharged requests take
// seconds, are never refused.
func TestWorkBudget(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := workLimits(clk, 250*time.Millisecond, time.Second)
	ctx := context.Background()

	admitted := 0
	var refusal error
	for range 10 {
		release, kind, err := a.admit(ctx, "heavy", takes(clk, 300*time.Millisecond, true))
		if err != nil {
			assert.Equal(t, LimitWork, kind)
			refusal = err
			break
		}
		release()
		admitted++
	}
	// Each request starts with a positive balance: 1 s, then 0.775,
	// 0.55, 0.325 and 0.1 s (the 300 ms it cost less the 75 ms that
	// refilled meanwhile), and the 5th leaves a debt of 0.2 s.
	assert.Equal(t, 5, admitted)
	var se *Error
	require.True(t, errors.As(refusal, &se), "refused: %v", refusal)
	assert.Equal(t, 429, se.Status())
	// The debt is 0.2 s: at 250 ms per second, 0.8 s pays it.
	assert.Equal(t, "1", se.retryAfterHeader())

	for range 20 {
		release, _, err := a.admit(ctx, "light", takes(clk, 3*time.Second, false))
		require.NoError(t, err, "a tenant whose requests are not charged is never refused")
		release()
	}
	// 60 s went by in the light tenant's requests: the heavy tenant's
	// budget is full again.
	release, _, err := a.admit(ctx, "heavy", takes(clk, 300*time.Millisecond, true))
	require.NoError(t, err)
	release()
	release, _, err = a.admit(ctx, "other", nil)
	require.NoError(t, err, "another tenant has its own budget")
	release()
}

// TestWorkBudgetCountsRequestsInProgress: admitting a request charges its
// tenant's recent average cost before the request runs, so a tenant with
// many clients sending expensive requests at once gets about as many
// admitted as its balance pays for, not one per client.
func TestWorkBudgetCountsRequestsInProgress(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := workLimits(clk, 250*time.Millisecond, time.Second)
	ctx := context.Background()
	// Teach the budget that this tenant's requests cost 400 ms, and let
	// it refill.
	for range 8 {
		release, _, err := a.admit(ctx, "heavy", takes(clk, 400*time.Millisecond, true))
		if err == nil {
			release()
		}
		clk.t = clk.t.Add(2 * time.Second)
	}
	clk.t = clk.t.Add(10 * time.Second)
	// 16 clients at once.
	var releases []func()
	for range 16 {
		release, _, err := a.admit(ctx, "heavy", takes(clk, 400*time.Millisecond, true))
		if err == nil {
			releases = append(releases, release)
		}
	}
	assert.LessOrEqual(t, len(releases), 3, "about 1 s of burst over 400 ms each")
	assert.GreaterOrEqual(t, len(releases), 2)
	for _, r := range releases {
		r()
	}
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
	for range maxPausing + 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.pause(ctx, "t")
		}()
	}
	// The pauses beyond maxPausing return at once; the others wait.
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(pauses) == maxPausing
	}, 5*time.Second, time.Millisecond)
	done := make(chan struct{})
	go func() { a.pause(ctx, "u"); close(done) }() // unknown tenant: nothing to pause for
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
	a.pause(ctx, "t")
	assert.Equal(t, []time.Duration{maxRefusalPause}, pauses)
}
