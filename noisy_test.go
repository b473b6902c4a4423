package scimkit_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/internal/noisytest"
	"github.com/scimkit/scimkit/storage/memory"
)

// TestNoisyNeighbour runs the noisy-neighbour test on the memory store:
// see package noisytest. SCIMKIT_NOISY_SECONDS lengthens the attack
// (default 2 s, for CI).
func TestNoisyNeighbour(t *testing.T) {
	if testing.Short() {
		t.Skip("noisy-neighbour test skipped in -short mode")
	}
	st := memory.New()
	ctx := context.Background()
	require.NoError(t, scimkit.SetToken(ctx, st, "a", "token-a-0123456789"))
	require.NoError(t, scimkit.SetToken(ctx, st, "b", "token-b-0123456789"))
	setup, err := scimkit.New(st, st, scimkit.WithRateLimit(0, 0), scimkit.WithWorkLimit(0, 0))
	require.NoError(t, err)
	srv, err := scimkit.New(st, st)
	require.NoError(t, err)
	res := noisytest.Run(t, noisytest.Config{
		Setup: setup, Server: srv, TokenA: "token-a-0123456789", TokenB: "token-b-0123456789",
		Duration: noisySeconds(t), HugeUsers: 30, SmallUsers: 1000,
	})
	checkNoisy(t, res)
}

func noisySeconds(t *testing.T) time.Duration {
	if v := os.Getenv("SCIMKIT_NOISY_SECONDS"); v != "" {
		d, err := time.ParseDuration(v + "s")
		require.NoError(t, err)
		return d
	}
	return 2 * time.Second
}

func checkNoisy(t *testing.T, res noisytest.Result) {
	t.Helper()
	t.Log(res)
	assert.Empty(t, res.BFailures, "every request of tenant B succeeds")
	for code, n := range res.AStatuses {
		assert.Contains(t, []int{http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests}, code,
			"tenant A got %d %d times", code, n)
	}
	sent := 0
	for _, n := range res.AStatuses {
		sent += n
	}
	if over := float64(sent) - scimkit.DefaultRateBurst - scimkit.DefaultRateLimit*res.Seconds; over > 0 {
		// 10% slack: the harness's clock and the limiter's do not start
		// at the same instant.
		assert.GreaterOrEqual(t, float64(res.AStatuses[http.StatusTooManyRequests]), 0.9*over, "A was rate limited")
	} else {
		t.Logf("A sent %d requests in %.1f s: too few to meet the rate limit on this (loaded) machine", sent, res.Seconds)
	}
	assert.Positive(t, res.AStatuses[http.StatusBadRequest], "A's worst requests were refused")
	p99 := noisytest.Quantile(res.Attack, 0.99)
	if os.Getenv("SCIMKIT_NOISY_STRICT") == "1" {
		// The figure of the issue: run without -race on an idle machine.
		assert.Less(t, p99, 50*time.Millisecond, "B's p99 under attack")
		return
	}
	// CI (-race, a shared 2-core machine) holds B's p99 relative to its
	// baseline: a tenant queued behind A's work (a lock shared with A, as
	// before) waits out whole scans and fails this.
	bound := max(500*time.Millisecond, 20*noisytest.Quantile(res.Baseline, 0.99))
	if raceEnabled {
		bound *= 2
	}
	assert.Less(t, p99, bound, "B's p99 under attack")
}
