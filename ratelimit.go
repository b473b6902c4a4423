package scimkit

import (
	"context"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrTooManyRequests answers a request over its tenant's rate or
// concurrency limit: 429 with a Retry-After header ([WithRateLimit],
// [WithConcurrencyLimit]). RFC 7644 §3.12 has no scimType for it.
var ErrTooManyRequests = &Error{status: 429, detail: "too many requests for this tenant; retry after the time in Retry-After"}

// rateLimits keeps each tenant's rate limiter and count of requests in
// progress. Its map is bounded: tenants idle long enough to have a full
// bucket and no request in progress are forgotten (they lose nothing),
// and past the bound any idle tenant is.
type rateLimits struct {
	lim     limits
	now     func() time.Time
	mu      sync.Mutex
	tenants map[string]*tenantRate
}

type tenantRate struct {
	limiter *rate.Limiter // nil without a rate limit
	slots   chan struct{} // one per request in progress; nil without a concurrency limit
	refs    int           // requests in progress or waiting for a slot; guarded by rateLimits.mu
}

// concurrencyWait is how long a request waits for one of its tenant's
// slots before it is refused: a burst of parallel requests queues, a
// tenant whose requests stay slow is told to come back.
const concurrencyWait = 2 * time.Second

func newRateLimits(lim limits, now func() time.Time) *rateLimits {
	if lim.rate == 0 && lim.concurrency == 0 {
		return nil
	}
	return &rateLimits{lim: lim, now: now, tenants: make(map[string]*tenantRate)}
}

// admit lets a request of tenant in, or returns the limit it meets and an
// error carrying Retry-After. Over the concurrency limit it waits up to
// concurrencyWait (or until ctx is done) for a slot. The caller calls
// release when the request ends.
func (a *rateLimits) admit(ctx context.Context, tenant string) (release func(), kind LimitKind, err error) {
	if a == nil {
		return func() {}, "", nil
	}
	now := a.now()
	a.mu.Lock()
	t := a.tenants[tenant]
	if t == nil {
		if len(a.tenants) >= a.lim.tenants {
			a.evict(now)
		}
		t = &tenantRate{}
		if a.lim.rate > 0 {
			t.limiter = rate.NewLimiter(rate.Limit(a.lim.rate), a.lim.burst)
		}
		if a.lim.concurrency > 0 {
			t.slots = make(chan struct{}, a.lim.concurrency)
		}
		a.tenants[tenant] = t
	}
	if t.limiter != nil {
		r := t.limiter.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			a.mu.Unlock()
			return nil, LimitRate, ErrTooManyRequests.withRetryAfter(d)
		}
	}
	t.refs++
	a.mu.Unlock()
	unref := func() {
		a.mu.Lock()
		t.refs--
		a.mu.Unlock()
	}
	if t.slots != nil {
		select {
		case t.slots <- struct{}{}:
		default:
			timer := time.NewTimer(a.lim.wait)
			defer timer.Stop()
			select {
			case t.slots <- struct{}{}:
			case <-timer.C:
				unref()
				return nil, LimitConcurrency, ErrTooManyRequests.WithDetail("too many requests of this tenant in progress; retry later").withRetryAfter(time.Second)
			case <-ctx.Done():
				unref()
				return nil, LimitConcurrency, ErrUnavailable.WithCause(ctx.Err())
			}
		}
	}
	return func() {
		if t.slots != nil {
			<-t.slots
		}
		unref()
	}, "", nil
}

// evict forgets idle tenants: first those whose bucket has refilled, then,
// when that freed too little, any without a request in progress. Called
// with a.mu held, when the map is full, so its cost is spread over as many
// admissions as it frees.
func (a *rateLimits) evict(now time.Time) {
	for k, t := range a.tenants {
		if t.refs == 0 && (t.limiter == nil || t.limiter.TokensAt(now) >= float64(a.lim.burst)) {
			delete(a.tenants, k)
		}
	}
	for k, t := range a.tenants {
		if len(a.tenants) < a.lim.tenants*9/10 {
			return
		}
		if t.refs == 0 {
			delete(a.tenants, k)
		}
	}
}

// withRetryAfter returns a copy of e that asks the client to wait d
// (rounded up to whole seconds, at least one) in a Retry-After header.
func (e *Error) withRetryAfter(d time.Duration) *Error {
	c := *e
	c.retryAfter = max(1, int(math.Ceil(d.Seconds())))
	return &c
}

// retryAfterHeader is the Retry-After value of e's response, "" for none.
func (e *Error) retryAfterHeader() string {
	switch {
	case e.retryAfter > 0:
		return strconv.Itoa(e.retryAfter)
	case e.status == 503:
		return "5"
	}
	return ""
}

// admit applies the tenant's rate and concurrency limits to a request.
func (s *Server) admitRate(ctx context.Context, tenant string) (release func(), err error) {
	release, kind, err := s.rates.admit(ctx, tenant)
	if err != nil {
		s.limitHit(ctx, tenant, kind)
	}
	return release, err
}
