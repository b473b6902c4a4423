package scimkit

import (
	"context"
	"crypto/sha256"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrTooManyRequests answers a request over its tenant's rate, work or
// concurrency limit: 429 with a Retry-After header ([WithRateLimit],
// [WithWorkLimit], [WithConcurrencyLimit]). RFC 7644 §3.12 has no
// scimType for it.
var ErrTooManyRequests = &Error{status: 429, detail: "too many requests for this tenant; retry after the time in Retry-After"}

// rateLimits keeps each tenant's rate limiter and count of requests in
// progress. Its map is bounded: tenants idle long enough to have a full
// bucket and no request in progress are forgotten (they lose nothing),
// and past the bound any idle tenant is.
type rateLimits struct {
	lim     limits
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) // for d or until ctx is done
	mu      sync.Mutex
	tenants map[string]*tenantRate
	// throttled maps the token hashes of requests refused for their
	// tenant's rate to that tenant, so that the next requests with the
	// token, while the tenant is still over its rate,
	// are refused before any store lookup: a flood over the limit costs
	// a hash and a map lookup per request, and never reaches the store
	// other tenants use. An entry lasts throttledFor (then the token is
	// looked up again, and the entry renewed if it is still over), goes
	// with its tenant, and when the token stops authenticating. Bounded
	// by lim.tenants.
	throttled map[[sha256.Size]byte]throttledToken
}

// throttledToken is a credential whose requests met its tenant's rate
// at noted.
type throttledToken struct {
	t                  *tenantRate
	tenant, credential string
	noted              time.Time
}

// throttledFor is how long a token refused for its tenant's rate is
// refused without a lookup while the tenant stays over it: the longest
// a revoked token can be answered 429 rather than 401.
const throttledFor = time.Second

type tenantRate struct {
	limiter *rate.Limiter // nil without a rate limit
	slots   chan struct{} // one per request in progress; nil without a concurrency limit
	refs    int           // requests in progress, waiting for a slot or pausing; guarded by rateLimits.mu
	pausing int           // refused requests pausing before their 429; guarded by rateLimits.mu
	work    workBudget    // guarded by rateLimits.mu
}

// maxRefusalPause bounds the pause of a request refused for its tenant's
// rate or work limit (see rateLimits.pause), and maxPausing the refused requests of one
// tenant pausing at once; refusals beyond it are answered at once.
const (
	maxRefusalPause = 100 * time.Millisecond
	maxPausing      = 64
)

// concurrencyWait is how long a request waits for one of its tenant's
// slots before it is refused: a burst of parallel requests queues, a
// tenant whose requests stay slow is told to come back.
const concurrencyWait = 2 * time.Second

func newRateLimits(lim limits, now func() time.Time) *rateLimits {
	if lim.rate == 0 && lim.concurrency == 0 && lim.work == 0 {
		return nil
	}
	return &rateLimits{
		lim: lim, now: now, sleep: sleep,
		tenants: make(map[string]*tenantRate), throttled: make(map[[sha256.Size]byte]throttledToken),
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// admit lets a request of tenant in, or returns the limit it meets and an
// error carrying Retry-After. Over the concurrency limit it waits up to
// concurrencyWait (or until ctx is done) for a slot. The caller calls
// release when the request ends. cost tells whether the request is
// charged to its tenant's work budget, when its work ended (a zero time:
// at the release) and what gateWork charged it up front; a nil cost
// charges every request until its release.
func (a *rateLimits) admit(ctx context.Context, tenant string, cost func() (end time.Time, charged bool, upfront time.Duration)) (release func(), kind LimitKind, err error) {
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
	if d := a.rateDelay(t, now, true); d > 0 {
		a.mu.Unlock()
		return nil, LimitRate, ErrTooManyRequests.withRetryAfter(d)
	}
	t.refs++
	a.mu.Unlock()
	settle := func(upfront, cost time.Duration) {
		a.mu.Lock()
		t.refs--
		if a.lim.work > 0 && (upfront > 0 || cost > 0) {
			t.work.refill(a.now(), a.lim.work, a.lim.workBurst)
			t.work.settle(upfront, cost)
		}
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
				settle(0, 0)
				return nil, LimitConcurrency, ErrTooManyRequests.WithDetail("too many requests of this tenant in progress; retry later").withRetryAfter(time.Second)
			case <-ctx.Done():
				settle(0, 0)
				return nil, LimitConcurrency, ErrUnavailable.WithCause(ctx.Err())
			}
		}
	}
	start := a.now()
	return func() {
		if t.slots != nil {
			<-t.slots
		}
		end, charged, upfront := time.Time{}, true, time.Duration(0)
		if cost != nil {
			end, charged, upfront = cost()
		}
		if end.IsZero() {
			end = a.now()
		}
		if !charged {
			end = start
		}
		settle(upfront, end.Sub(start))
	}, "", nil
}

// rateDelay returns how long t must wait before a request of its is
// within its rate (0: it need not). With take, a request admitted takes
// one of the rate's tokens. The caller holds a.mu.
func (a *rateLimits) rateDelay(t *tenantRate, now time.Time, take bool) time.Duration {
	if t.limiter == nil {
		return 0
	}
	r := t.limiter.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d > 0 || !take {
		r.CancelAt(now)
	}
	return max(d, 0)
}

// gateWork admits an expensive request of tenant, already admitted by
// admit, against its work budget: it returns what it charged up front
// (settled by admit's release), or how long until the budget allows one.
func (a *rateLimits) gateWork(tenant string) (upfront, wait time.Duration) {
	if a == nil || a.lim.work == 0 {
		return 0, 0
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tenants[tenant]
	if t == nil {
		return 0, 0
	}
	t.work.refill(now, a.lim.work, a.lim.workBurst)
	if d := t.work.wait(a.lim.work); d > 0 {
		return 0, d
	}
	return t.work.admit(), 0
}

// evict forgets idle tenants: first those whose bucket has refilled, then,
// when that freed too little, any without a request in progress. Called
// with a.mu held, when the map is full, so its cost is spread over as many
// admissions as it frees.
func (a *rateLimits) evict(now time.Time) {
	defer func() {
		for h, tt := range a.throttled {
			if a.tenants[tt.tenant] != tt.t {
				delete(a.throttled, h)
			}
		}
	}()
	for k, t := range a.tenants {
		if t.refs == 0 && (t.limiter == nil || t.limiter.TokensAt(now) >= float64(a.lim.burst)) && a.rested(t, now) {
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

// rested reports whether t's work budget has refilled, so that
// forgetting t forgives it nothing. The caller holds a.mu.
func (a *rateLimits) rested(t *tenantRate, now time.Time) bool {
	if a.lim.work == 0 {
		return true
	}
	t.work.refill(now, a.lim.work, a.lim.workBurst)
	return t.work.balance >= a.lim.workBurst
}

// noteThrottled remembers that the credential of tenant with token hash h
// met its tenant's rate limit.
func (a *rateLimits) noteThrottled(h [sha256.Size]byte, tenant, credential string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tenants[tenant]
	if t == nil {
		return
	}
	if _, ok := a.throttled[h]; !ok && len(a.throttled) >= a.lim.tenants {
		clear(a.throttled) // only a shortcut: the tokens are looked up again
	}
	a.throttled[h] = throttledToken{t: t, tenant: tenant, credential: credential, noted: a.now()}
}

// refuseThrottled refuses a request whose token met its tenant's rate
// limit while the tenant is still over it, with the same 429 and
// Retry-After as admit: it returns the token's tenant and credential, for
// the request's log line, and the limit and the error to answer. It
// returns a nil error for any other request, which is authenticated and
// admitted as usual. pathTenant is the tenant a URL names, "" in token
// mode: a token of another tenant is not refused here (authentication
// answers it 401).
func (a *rateLimits) refuseThrottled(h [sha256.Size]byte, pathTenant string) (tt throttledToken, kind LimitKind, err error) {
	if a == nil {
		return tt, "", nil
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	tt, found := a.throttled[h]
	if !found || pathTenant != "" && pathTenant != tt.tenant || now.Sub(tt.noted) >= throttledFor {
		return tt, "", nil
	}
	if d := a.rateDelay(tt.t, now, false); d > 0 {
		return tt, LimitRate, ErrTooManyRequests.withRetryAfter(d)
	}
	return tt, "", nil
}

// pause holds a request of tenant refused for limit kind (its rate or
// its work budget) until the tenant may send it again (at most maxRefusalPause, and until ctx
// is done)
// before the caller answers 429. A client that retries at once, whatever
// Retry-After says, then retries at about the rate it is allowed rather
// than as fast as the server can refuse it, and its refusals cost parked
// goroutines instead of the CPU other tenants' requests need. At most
// maxPausing refusals of a tenant pause at once; others are answered at
// once.
func (a *rateLimits) pause(ctx context.Context, tenant string, kind LimitKind) {
	if a == nil {
		return
	}
	now := a.now()
	a.mu.Lock()
	t := a.tenants[tenant]
	if t == nil || t.pausing >= maxPausing {
		a.mu.Unlock()
		return
	}
	var d time.Duration
	switch kind {
	case LimitRate:
		d = a.rateDelay(t, now, false)
	case LimitWork:
		t.work.refill(now, a.lim.work, a.lim.workBurst)
		d = t.work.wait(a.lim.work)
	}
	d = min(d, maxRefusalPause)
	if d <= 0 {
		a.mu.Unlock()
		return
	}
	t.pausing++
	t.refs++
	a.mu.Unlock()
	a.sleep(ctx, d)
	a.mu.Lock()
	t.pausing--
	t.refs--
	a.mu.Unlock()
}

// forget drops the shortcut of a token that did not authenticate for
// pathTenant ("" in token mode): revoked or expired. A token refused in
// another tenant's URL keeps it.
func (a *rateLimits) forget(h [sha256.Size]byte, pathTenant string) {
	if a == nil {
		return
	}
	a.mu.Lock()
	if tt, ok := a.throttled[h]; ok && (pathTenant == "" || pathTenant == tt.tenant) {
		delete(a.throttled, h)
	}
	a.mu.Unlock()
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

// admitRate applies the tenant's rate and concurrency limits to an
// authenticated request.
func (s *Server) admitRate(r *http.Request, q *request) (release func(), err error) {
	release, kind, err := s.rates.admit(r.Context(), q.tenant, q.workCost)
	if err != nil {
		s.limitHit(r.Context(), q.tenant, kind)
		if kind == LimitRate {
			if tok, ok := bearer(r); ok {
				s.rates.noteThrottled(sha256.Sum256([]byte(tok)), q.tenant, q.credential)
			}
			s.rates.pause(r.Context(), q.tenant, kind)
		}
	}
	return release, err
}

// refuseThrottled answers 429, before authentication and without a store
// lookup, a request whose token met its tenant's rate limit while
// the tenant is still over it (see rateLimits.throttled), and reports
// whether it did.
func (s *Server) refuseThrottled(w http.ResponseWriter, r *http.Request, q *request, pathTenant string) bool {
	if s.rates == nil {
		return false
	}
	tok, ok := bearer(r)
	if !ok {
		return false
	}
	tt, kind, err := s.rates.refuseThrottled(sha256.Sum256([]byte(tok)), pathTenant)
	if err == nil {
		return false
	}
	q.tenant, q.credential = tt.tenant, tt.credential
	s.limitHit(r.Context(), tt.tenant, kind)
	s.rates.pause(r.Context(), tt.tenant, kind)
	s.writeError(w, r, err)
	return true
}

// forgetThrottled drops the shortcut of a request's token that did not
// authenticate (revoked or expired).
func (s *Server) forgetThrottled(r *http.Request, pathTenant string) {
	if tok, ok := bearer(r); ok && s.rates != nil {
		s.rates.forget(sha256.Sum256([]byte(tok)), pathTenant)
	}
}

// gateWork admits a request of an expensive shape (see workBudget)
// against its tenant's work budget, once, before its expensive part: a
// tenant whose budget is spent is answered 429 (LimitWork), paced like a
// rate refusal. Its other requests are not refused.
func (s *Server) gateWork(r *http.Request, q *request) error {
	if q.gated {
		return nil
	}
	q.gated = true
	upfront, wait := s.rates.gateWork(q.tenant)
	if wait > 0 {
		s.limitHit(r.Context(), q.tenant, LimitWork)
		s.rates.pause(r.Context(), q.tenant, LimitWork)
		return errWorkLimit.withRetryAfter(wait)
	}
	q.workUpfront = upfront
	return nil
}
