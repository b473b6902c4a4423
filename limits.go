package scimkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimkit/scimkit/internal/schema"
	"github.com/scimkit/scimkit/storage"
)

// Default limits: see [WithMaxValues] and the other options of this file.
// Each bounds the work one request can cost, so that one tenant's mistake
// or attack costs that tenant alone. The README lists them in one table.
const (
	DefaultMaxValues         = 1000      // values of one multi-valued attribute
	DefaultMaxValueBytes     = 64 << 10  // bytes of one string value
	DefaultMaxResourceBytes  = 256 << 10 // bytes of a stored resource document
	DefaultMaxMembers        = 10000     // members one request adds, removes or sets
	DefaultMaxFilterTerms    = 50        // comparisons in one filter
	DefaultMaxFilterDepth    = 16        // nesting of not, [..] and mixed and/or
	DefaultMaxPageBytes      = 4 << 20   // bytes of the resources of one list page
	DefaultRateLimit         = 50        // requests per second per tenant, sustained
	DefaultRateBurst         = 100       // requests per tenant in a burst
	DefaultConcurrencyLimit  = 16        // requests of one tenant in progress at once
	MaxIndexedValueBytes     = 2048      // bytes of userName, externalId, an email value, a group displayName
	defaultMaxLimitedTenants = 10000     // tenants whose limiter state is kept
)

// limits holds the per-request bounds.
type limits struct {
	values, valueBytes, resourceBytes, members int
	filterTerms, filterDepth, pageBytes        int
	rate                                       float64       // requests per second; 0 = off
	burst, concurrency                         int           // concurrency 0 = off
	tenants                                    int           // bound of the limiter map
	work, workBurst                            time.Duration // request time per second and burst; 0 = off
	wait                                       time.Duration // for a concurrency slot
}

func defaultLimits() limits {
	return limits{
		values: DefaultMaxValues, valueBytes: DefaultMaxValueBytes, resourceBytes: DefaultMaxResourceBytes,
		members: DefaultMaxMembers, filterTerms: DefaultMaxFilterTerms, filterDepth: DefaultMaxFilterDepth,
		pageBytes: DefaultMaxPageBytes, rate: DefaultRateLimit, burst: DefaultRateBurst,
		concurrency: DefaultConcurrencyLimit, tenants: defaultMaxLimitedTenants, wait: concurrencyWait,
		work: DefaultWorkLimit, workBurst: DefaultWorkBurst,
	}
}

func positive(name string, n int, set func(*config) *int) Option {
	return optionFunc(func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("scim: %s must be positive", name)
		}
		*set(c) = n
		return nil
	})
}

// WithMaxValues bounds the values of one multi-valued attribute of a
// stored resource, such as emails (default [DefaultMaxValues]); a write
// that would store more is refused with 400 invalidValue. Group members
// are bounded per request instead ([WithMaxMembers]).
func WithMaxValues(n int) Option {
	return positive("max values", n, func(c *config) *int { return &c.limits.values })
}

// WithMaxValueBytes bounds the bytes (UTF-8) of one string value of a
// stored resource (default [DefaultMaxValueBytes]); a write with a longer
// one is refused with 400 invalidValue.
func WithMaxValueBytes(n int) Option {
	return positive("max value bytes", n, func(c *config) *int { return &c.limits.valueBytes })
}

// WithMaxResourceBytes bounds the stored document of one resource, as
// JSON (default [DefaultMaxResourceBytes]); a write (POST, PUT or a PATCH
// that grows the resource) that would store a larger one is refused with
// 413. It also bounds the work of every later read of the resource.
func WithMaxResourceBytes(n int) Option {
	return positive("max resource bytes", n, func(c *config) *int { return &c.limits.resourceBytes })
}

// WithMaxMembers bounds the group members one request adds, removes or
// sets (a POST or PUT body's members, or the member values of all the
// operations of a PATCH; default [DefaultMaxMembers]); more is refused
// with 400 tooMany (RFC 7644 §3.12). A group can hold more members than
// this: an IdP sends them in batches.
func WithMaxMembers(n int) Option {
	return positive("max members", n, func(c *config) *int { return &c.limits.members })
}

// WithMaxFilter bounds a filter (RFC 7644 §3.4.2.2) by its comparisons
// (terms: each attrPath op value, or attrPath pr; default
// [DefaultMaxFilterTerms]) and its nesting depth (each "not", each
// value path "[...]" and each change between "and" and "or" is one level;
// a chain of one operator is one level; default [DefaultMaxFilterDepth]).
// They are counted after parsing and before any store sees the filter; a
// larger filter is refused with 400 invalidFilter.
func WithMaxFilter(terms, depth int) Option {
	return optionFunc(func(c *config) error {
		if terms <= 0 || depth <= 0 {
			return errors.New("scim: filter terms and depth must be positive")
		}
		c.limits.filterTerms, c.limits.filterDepth = terms, depth
		return nil
	})
}

// WithMaxPageBytes bounds the resources of one list response, in bytes
// (default [DefaultMaxPageBytes]). A page that would be larger is cut
// short, never refused: it holds the resources that fit (at least one),
// and itemsPerPage says how many, so a client asks for the next page from
// startIndex + itemsPerPage (RFC 7644 §3.4.2.4).
func WithMaxPageBytes(n int) Option {
	return positive("max page bytes", n, func(c *config) *int { return &c.limits.pageBytes })
}

// WithRateLimit sets each tenant's request rate: rps requests per second
// sustained, with bursts of up to burst requests (a token bucket,
// golang.org/x/time/rate). A request over the rate gets 429 with a
// Retry-After header (seconds) and a SCIM error body. The default,
// [DefaultRateLimit] per second with bursts of [DefaultRateBurst], is twice
// the 25 requests per second Microsoft's gallery checklist asks a SCIM
// endpoint to accept per tenant, so Entra's provisioning never meets it.
// WithRateLimit(0, 0) turns the rate limit off. The limit is per Server
// instance: see the README for several instances.
func WithRateLimit(rps float64, burst int) Option {
	return optionFunc(func(c *config) error {
		switch {
		case rps == 0 && burst == 0:
		case rps <= 0 || burst <= 0 || rps != rps:
			return errors.New("scim: rate limit needs rps > 0 and burst > 0 (or both 0 for none)")
		}
		c.limits.rate, c.limits.burst = rps, burst
		return nil
	})
}

// WithConcurrencyLimit bounds the requests of one tenant in progress at
// once on this Server (default [DefaultConcurrencyLimit]); one more waits
// up to 2 s for a slot, then gets 429 with Retry-After. n = 0 turns the
// limit off.
func WithConcurrencyLimit(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return errors.New("scim: concurrency limit must not be negative")
		}
		c.limits.concurrency = n
		return nil
	})
}

// LimitKind names a limit of the server.
type LimitKind string

// The limits a [LimitEvent] reports.
const (
	LimitRate          LimitKind = "rate"          // 429: [WithRateLimit]
	LimitConcurrency   LimitKind = "concurrency"   // 429: [WithConcurrencyLimit]
	LimitWork          LimitKind = "work"          // 429: [WithWorkLimit]
	LimitBody          LimitKind = "body"          // 413: [WithMaxBodyBytes]
	LimitValues        LimitKind = "values"        // 400: [WithMaxValues]
	LimitValueBytes    LimitKind = "valueBytes"    // 400: [WithMaxValueBytes]
	LimitResourceBytes LimitKind = "resourceBytes" // 413: [WithMaxResourceBytes]
	LimitMembers       LimitKind = "members"       // 400: [WithMaxMembers]
	LimitFilter        LimitKind = "filter"        // 400: [WithMaxFilter]
	LimitPageBytes     LimitKind = "pageBytes"     // 200 with a shorter page: [WithMaxPageBytes]
	LimitIndexedValue  LimitKind = "indexedValue"  // 400: [MaxIndexedValueBytes]
	LimitNUL           LimitKind = "nul"           // 400: a string holding U+0000
)

// LimitEvent tells a [WithLimitObserver] callback that a request met a
// limit: its tenant and which limit. It holds no request data.
type LimitEvent struct {
	Tenant string
	Limit  LimitKind
}

// WithLimitObserver registers f, called synchronously each time a
// request meets a limit (before the response is written), e.g. to count
// limits hit per tenant in metrics. f must be fast and safe for
// concurrent use. A nil f is an error at [New].
func WithLimitObserver(f func(ctx context.Context, ev LimitEvent)) Option {
	return optionFunc(func(c *config) error {
		if f == nil {
			return errors.New("scim: nil limit observer")
		}
		c.limitObserver = f
		return nil
	})
}

// limitHit reports a limit met by the request's tenant.
func (s *Server) limitHit(ctx context.Context, tenant string, k LimitKind) {
	limitHit(ctx, string(k)) // the request's log line, RequestInfo.Limit and metrics
	if s.cfg.limitObserver != nil {
		s.cfg.limitObserver(ctx, LimitEvent{Tenant: tenant, Limit: k})
	}
}

// limitError is a refusal by a limit: the SCIM error and which limit.
type limitError struct {
	err  *Error
	kind LimitKind
}

func (e *limitError) Error() string { return e.err.Error() }
func (e *limitError) Unwrap() error { return e.err }

func (s *Server) refuseLimit(kind LimitKind, base *Error, format string, args ...any) error {
	return &limitError{err: base.WithDetail(fmt.Sprintf(format, args...)), kind: kind}
}

// checkDocument checks a document about to be stored against the value
// limits: values per multi-valued attribute, bytes per string, no NUL
// (PostgreSQL cannot store U+0000 in text or jsonb, so every store
// refuses it alike). It walks the document once.
func (s *Server) checkDocument(doc map[string]any) error {
	return s.checkValue(nil, doc)
}

// valuePath names a value inside a document (its attribute, dotted), as
// a chain of keys built on the stack; the name is spelled out only for an
// error.
type valuePath struct {
	up  *valuePath
	key string
}

func (p *valuePath) String() string {
	if p == nil {
		return ""
	}
	if up := p.up.String(); up != "" {
		return up + "." + p.key
	}
	return p.key
}

func (s *Server) checkValue(name *valuePath, v any) error {
	switch v := v.(type) {
	case string:
		if len(v) > s.cfg.limits.valueBytes {
			return s.refuseLimit(LimitValueBytes, ErrInvalidValue, "a value of %q has %d bytes; at most %d are accepted", name.String(), len(v), s.cfg.limits.valueBytes)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return s.refuseLimit(LimitNUL, ErrInvalidValue, "a value of %q holds the character U+0000, which cannot be stored", name.String())
		}
	case []any:
		if len(v) > s.cfg.limits.values {
			return s.refuseLimit(LimitValues, ErrInvalidValue, "%q has %d values; at most %d are accepted", name.String(), len(v), s.cfg.limits.values)
		}
		for _, x := range v {
			if err := s.checkValue(name, x); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, x := range v {
			if strings.IndexByte(k, 0) >= 0 {
				return s.refuseLimit(LimitNUL, ErrInvalidValue, "an attribute name holds the character U+0000")
			}
			if err := s.checkValue(&valuePath{name, k}, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkWrite checks a document about to be stored and the members the
// request changes (n of them; add are the ones it adds).
func (s *Server) checkWrite(doc map[string]any, n int, add ...[]storage.Member) error {
	if err := s.checkMembers(n, add...); err != nil {
		return err
	}
	return s.checkDocument(doc)
}

// checkEncoded checks an encoded resource: its size, and the indexed
// values every store keeps in an index (PostgreSQL's btree rows hold
// about 2,700 bytes).
func (s *Server) checkEncoded(rt *schema.ResourceType, res *storage.Resource) error {
	if len(res.Data) > s.cfg.limits.resourceBytes {
		return s.refuseLimit(LimitResourceBytes, ErrPayloadTooLarge, "the %s would have %d bytes; at most %d are accepted", rt.Kind, len(res.Data), s.cfg.limits.resourceBytes)
	}
	long := func(attr, v string) error {
		if len(v) > MaxIndexedValueBytes {
			return s.refuseLimit(LimitIndexedValue, ErrInvalidValue, "%s has %d bytes; at most %d are accepted", attr, len(v), MaxIndexedValueBytes)
		}
		return nil
	}
	if err := long(rt.NameAttr, res.Name); err != nil {
		return err
	}
	if err := long("externalId", res.ExternalID); err != nil {
		return err
	}
	for _, e := range res.Emails {
		if err := long("an email value", e); err != nil {
			return err
		}
	}
	return nil
}

// checkMembers checks the members one request changes: their number and
// their ids (no NUL, valid UTF-8, as any id).
func (s *Server) checkMembers(n int, ms ...[]storage.Member) error {
	if n > s.cfg.limits.members {
		return s.refuseLimit(LimitMembers, ErrTooMany, "the request changes %d members; at most %d are accepted per request", n, s.cfg.limits.members)
	}
	for _, l := range ms {
		for _, m := range l {
			if !validID(m.Value) {
				return s.refuseLimit(LimitNUL, ErrInvalidValue, "a member value holds U+0000 or is not valid UTF-8")
			}
		}
	}
	return nil
}

// validID reports whether an id (from a path or a member value) can name
// a resource in every store: valid UTF-8 without U+0000.
func validID(id string) bool {
	return utf8.ValidString(id) && strings.IndexByte(id, 0) < 0
}

// checkFilter counts the terms and depth of a parsed filter and checks its
// string operands for U+0000.
func (s *Server) checkFilter(f storage.Filter) error {
	terms, depth, nul := 0, 0, false
	var walk func(f storage.Filter, d int, parent string)
	walk = func(f storage.Filter, d int, parent string) {
		depth = max(depth, d)
		switch f := f.(type) {
		case storage.Compare:
			terms++
			if v, ok := f.Value.(string); ok && !validID(v) {
				nul = true
			}
		case storage.And:
			if parent != "and" {
				d++
			}
			walk(f.Left, d, "and")
			walk(f.Right, d, "and")
		case storage.Or:
			if parent != "or" {
				d++
			}
			walk(f.Left, d, "or")
			walk(f.Right, d, "or")
		case storage.Not:
			walk(f.X, d+1, "")
		case storage.ValuePath:
			walk(f.Filter, d+1, "")
		}
	}
	walk(f, 0, "")
	switch {
	case terms > s.cfg.limits.filterTerms:
		return s.refuseLimit(LimitFilter, ErrInvalidFilter, "the filter has %d comparisons; at most %d are accepted", terms, s.cfg.limits.filterTerms)
	case depth > s.cfg.limits.filterDepth:
		return s.refuseLimit(LimitFilter, ErrInvalidFilter, "the filter nests %d levels deep; at most %d are accepted", depth, s.cfg.limits.filterDepth)
	case nul:
		return s.refuseLimit(LimitNUL, ErrInvalidFilter, "a filter value holds U+0000 or is not valid UTF-8")
	}
	return nil
}

// noteLimit reports the limit behind err, if any, to the observer.
func (s *Server) noteLimit(r *http.Request, err error) {
	q, _ := r.Context().Value(reqKey{}).(*request)
	if q == nil {
		return
	}
	var le *limitError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &le):
		s.limitHit(r.Context(), q.tenant, le.kind)
	case errors.As(err, &mbe):
		s.limitHit(r.Context(), q.tenant, LimitBody)
	}
}
