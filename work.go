package scimkit

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// Default work limit: see [WithWorkLimit].
const (
	DefaultWorkLimit = 250 * time.Millisecond // request time of expensive requests per second per tenant, sustained
	DefaultWorkBurst = time.Second            // request time of expensive requests per tenant in a burst
)

// workBudget is one tenant's share of the server's time for expensive
// requests: a token bucket of request time, refilled at the work limit's
// rate up to its burst ([WithWorkLimit]).
//
// Expensive requests are those whose shape can make them so: lists that
// no index lookup answers (pages, scans by filter, counts) and requests
// with a body over costlyBytes (or of unknown length) are gated
// (Server.gateWork) before their expensive part, and refused (429) while
// the budget is spent; they, and any request whose response was over
// costlyBytes, are charged their time when they end. The requests an IdP
// provisions with (lookups by userName, externalId, displayName or email,
// and single-resource reads and writes of normal size) are neither gated
// nor charged: they are served even when their tenant's budget is spent,
// and cost nothing however long a busy server takes over them, so a
// tenant is never refused for being slowed down by another's load. The
// rate limit bounds those.
//
// A request's cost is known only when it ends, so the gate charges the
// tenant's recent average cost up front and the difference is settled at
// the end: a tenant sending expensive requests from many clients at once
// gets about as many admitted as its balance pays for, not one per
// client. Guarded by rateLimits.mu.
type workBudget struct {
	balance time.Duration // request time available; negative is debt
	at      time.Time     // when balance was last refilled
	est     time.Duration // average charge of the tenant's recent requests
}

// costlyBytes is the request or response size past which a request is
// expensive for its tenant's work budget: larger than any request or
// response of an IdP's provisioning cycle, smaller than the ones a huge
// PATCH or a page of large resources makes.
const costlyBytes = 64 << 10

// refill brings b's balance to now at rate (request time per second), up
// to burst.
func (b *workBudget) refill(now time.Time, rate, burst time.Duration) {
	if b.at.IsZero() {
		b.balance, b.at = burst, now
		return
	}
	if dt := now.Sub(b.at); dt > 0 {
		b.balance = min(burst, b.balance+time.Duration(float64(dt)*rate.Seconds()))
		b.at = now
	}
}

// wait is how long until b's balance is positive again at rate.
func (b *workBudget) wait(rate time.Duration) time.Duration {
	if b.balance > 0 {
		return 0
	}
	return time.Duration(float64(-b.balance)/rate.Seconds()) + time.Millisecond
}

// admit charges b the estimated cost of a request and returns it.
func (b *workBudget) admit() time.Duration {
	b.balance -= b.est
	return b.est
}

// settle replaces the estimate charged at admission with the cost of the
// request, and updates the estimate.
func (b *workBudget) settle(charged, cost time.Duration) {
	b.balance += charged - cost
	b.est += (cost - b.est) / 4
}

// errWorkLimit answers a request of a tenant whose work budget is spent.
var errWorkLimit = ErrTooManyRequests.WithDetail("this tenant's expensive requests have used their share of the server's time; retry after the time in Retry-After")

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// costly reports whether q's time is charged to its tenant's work budget:
// it passed the work gate, or its body or response was larger than
// costlyBytes.
func (q *request) costly() bool {
	return q.gated || q.body.n > costlyBytes || q.sw != nil && q.sw.bytes > costlyBytes
}

// workCost returns the end of q's work (when its response began, or a
// zero time: now), whether it is charged to its tenant's work budget, and
// what the work gate charged it up front.
func (q *request) workCost() (end time.Time, charged bool, upfront time.Duration) {
	if q.sw != nil {
		end = q.sw.began
	}
	return end, q.costly(), q.workUpfront
}

// bodyCostly reports whether a request body makes the request expensive
// before it is read: over costlyBytes, or of unknown length.
func bodyCostly(r *http.Request) bool {
	return r.ContentLength > costlyBytes || r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody
}

// WithWorkLimit sets each tenant's share of the server's time for
// expensive requests: they may take perSecond of request time per second,
// sustained, with bursts of up to burst (default [DefaultWorkLimit] and
// [DefaultWorkBurst]). Expensive requests are lists that no index lookup
// answers (a page of resources, a filter other than an equality on
// userName, externalId, displayName or an email, RFC 7644 §3.4.2.2) and
// requests whose body (or response) is over 64 KiB; each is charged its
// time from admission to the first byte of its response. Once a tenant's
// expensive requests have used its share, its next ones get 429 with
// Retry-After until the share refills. Lookups and single-resource reads
// and writes of normal size are never charged nor refused by it, so an
// IdP's provisioning never meets this limit, however busy the server.
// It complements [WithRateLimit], which counts requests whatever they
// cost; WithWorkLimit(0, 0) turns it off.
func WithWorkLimit(perSecond, burst time.Duration) Option {
	return optionFunc(func(c *config) error {
		switch {
		case perSecond == 0 && burst == 0:
		case perSecond <= 0 || burst <= 0:
			return errors.New("scim: work limit needs perSecond > 0 and burst > 0 (or both 0 for none)")
		}
		c.limits.work, c.limits.workBurst = perSecond, burst
		return nil
	})
}
