package scimkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
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
				release, _, err := a.admit(context.Background(), "t", nil)
				sent++
				if err != nil {
					refused++
					continue
				}
				release()
			}
			step := time.Duration(float64(time.Second) / tc.rps)
			for end := clk.t.Add(time.Minute); clk.t.Before(end); clk.t = clk.t.Add(step) {
				release, kind, err := a.admit(context.Background(), "t", nil)
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
	r1, _, err := a.admit(ctx, "a", nil)
	require.NoError(t, err)
	r2, _, err := a.admit(ctx, "a", nil)
	require.NoError(t, err)

	_, kind, err := a.admit(ctx, "a", nil)
	require.Error(t, err)
	assert.Equal(t, LimitConcurrency, kind)
	var se *Error
	require.True(t, errors.As(err, &se))
	assert.Equal(t, 429, se.Status())
	assert.Equal(t, "1", se.retryAfterHeader())

	rb, _, err := a.admit(ctx, "b", nil)
	require.NoError(t, err, "tenant b has its own slots")
	rb()

	done := make(chan error)
	go func() {
		r, _, err := a.admit(ctx, "a", nil)
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
	held, _, err := a.admit(context.Background(), "busy", nil)
	require.NoError(t, err)
	for i := range 1000 {
		r, _, err := a.admit(context.Background(), fmt.Sprint("tenant-", i), nil)
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

// countingTokens counts the credential lookups of a token store.
type countingTokens struct {
	*memory.Store
	lookups atomic.Int64
}

func (c *countingTokens) CredentialByHash(ctx context.Context, hash []byte) (storage.Credential, error) {
	c.lookups.Add(1)
	return c.Store.CredentialByHash(ctx, hash)
}

// TestThrottledTokenSkipsTheStore: once a token's request is refused for
// its tenant's rate, its requests are refused without a credential
// lookup while the tenant is over its rate, so a flood never reaches the
// store; the shortcut lasts throttledFor, never refuses a token in
// another tenant's URL (that is a 401), and is dropped when the token
// stops authenticating.
func TestThrottledTokenSkipsTheStore(t *testing.T) {
	ctx := context.Background()
	mem := memory.New()
	store := &countingTokens{Store: mem}
	require.NoError(t, SetToken(ctx, store, "acme", "acme-0123456789abcdef"))
	srv, err := New(mem, store, WithRateLimit(1, 1), WithWorkLimit(0, 0), WithConcurrencyLimit(0))
	require.NoError(t, err)
	clk := &fakeClock{t: time.Now()}
	srv.rates.now = clk.now
	srv.rates.sleep = func(context.Context, time.Duration) {}
	store.lookups.Store(0)
	get := func(tenant string) int {
		r := httptest.NewRequest(http.MethodGet, "http://scim.test/Users?count=1", nil)
		r.Header.Set("Authorization", "Bearer acme-0123456789abcdef")
		w := httptest.NewRecorder()
		if tenant != "" {
			srv.ServeTenant(w, r, tenant)
		} else {
			srv.ServeHTTP(w, r)
		}
		if w.Code == http.StatusTooManyRequests {
			assert.Equal(t, "1", w.Header().Get("Retry-After"))
		}
		return w.Code
	}
	assert.Equal(t, http.StatusOK, get(""))
	assert.Equal(t, http.StatusTooManyRequests, get(""))
	assert.EqualValues(t, 2, store.lookups.Load())
	for range 100 {
		require.Equal(t, http.StatusTooManyRequests, get(""))
	}
	assert.EqualValues(t, 2, store.lookups.Load(), "refused without a lookup")
	assert.Equal(t, http.StatusTooManyRequests, get("acme"), "the tenant's URL too")
	assert.Equal(t, http.StatusUnauthorized, get("globex"), "another tenant's URL is a 401")
	assert.EqualValues(t, 3, store.lookups.Load())

	clk.t = clk.t.Add(900 * time.Millisecond)
	assert.Equal(t, http.StatusTooManyRequests, get(""), "still over the rate")
	assert.EqualValues(t, 3, store.lookups.Load())
	clk.t = clk.t.Add(200 * time.Millisecond) // a token, and the shortcut has expired
	assert.Equal(t, http.StatusOK, get(""))
	assert.EqualValues(t, 4, store.lookups.Load())

	// Revoked: answered 429 until the tenant has a token again (at most
	// throttledFor), then 401, and the shortcut is gone.
	assert.Equal(t, http.StatusTooManyRequests, get(""))
	creds, err := mem.ListCredentials(ctx, "acme")
	require.NoError(t, err)
	require.NoError(t, RevokeToken(ctx, store, "acme", creds[0].ID))
	assert.Equal(t, http.StatusTooManyRequests, get(""))
	clk.t = clk.t.Add(time.Second)
	assert.Equal(t, http.StatusUnauthorized, get(""))
	assert.Empty(t, srv.rates.throttled)
	assert.Equal(t, http.StatusUnauthorized, get(""))
}
