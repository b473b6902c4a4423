package scimkit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	escim "github.com/elimity-com/scim/schema"

	"github.com/scimkit/scimkit/internal/schema"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
)

// Server is a SCIM 2.0 service provider (RFC 7644) for Users and Groups.
// It is an http.Handler; mount it under the SCIM base path of the host's
// mux. A Server is safe for concurrent use.
type Server struct {
	store    ResourceHandler
	tokens   TokenStore
	cfg      config
	users    *schema.ResourceType
	groups   *schema.ResourceType
	mux      *http.ServeMux
	locks    *resourceLocks // guards read-modify-write of resources, per tenant and id
	used     *usage         // records when credentials were last used
	rates    *rateLimits    // per-tenant rate and concurrency limits; nil for none
	norms    normCounts     // what normalisation did, per tenant
	health   healthTracker  // provisioning health, per tenant
	dispatch http.Handler   // the routes inside the host's middleware
	audit    *auditQueue    // audit entries waiting to be written
	profiles profiles       // which IdP client each tenant's requests come from
}

// Option configures a [Server]. Options are created only by this package's
// WithX functions.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	baseURL       *url.URL
	exts          []Extension
	logger        *slog.Logger
	now           func() time.Time
	newID         func() string
	maxBody       int64
	defaultCount  int
	maxCount      int
	norm          schema.Options
	hooks         []provisioning.Hook
	outbox        bool
	password      PasswordHandler
	userNames     []UserNamePolicy
	observers     []Observer
	middleware    []func(http.Handler) http.Handler
	limits        limits
	limitObserver func(context.Context, LimitEvent)
	admission     []AdmissionRule
	// auditRetention is how long audit entries are kept (0: forever).
	auditRetention time.Duration
}

// WithBaseURL sets the public origin used in meta.location and the
// Location header (RFC 7644 §3.1), e.g. "https://backup.example.com", when
// the server sits behind a proxy. The path under which the server is
// mounted is appended to it (taken from the request), so one setting serves
// both mounting styles: pass the origin, not the SCIM base URL
// ("https://backup.example.com/scim/v2" would give ".../scim/v2/scim/v2/Users").
// A path in it is kept in front of the mount path, for a proxy that strips
// a prefix. Without it the origin is taken from the request (scheme from
// TLS, host from the Host header, which the client chooses).
func WithBaseURL(origin string) Option {
	return optionFunc(func(c *config) error {
		u, err := url.Parse(origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("scim: base URL %q must be an absolute http(s) URL", origin)
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		c.baseURL = u
		return nil
	})
}

// WithUserExtension registers a custom User extension schema (RFC 7643
// §3.3). The enterprise extension is always registered.
func WithUserExtension(e Extension) Option {
	return optionFunc(func(c *config) error {
		if err := e.validate(); err != nil {
			return err
		}
		if strings.EqualFold(e.URN, schema.EnterpriseUserURN) || strings.EqualFold(e.URN, schema.UserURN) {
			return fmt.Errorf("scim: extension URN %q is reserved", e.URN)
		}
		for _, x := range c.exts {
			if strings.EqualFold(x.URN, e.URN) {
				return fmt.Errorf("scim: extension %q registered twice", e.URN)
			}
		}
		c.exts = append(c.exts, e)
		return nil
	})
}

// WithLogger sets the logger. The server logs one line per request
// ("scim: request", or "scim: request failed") with the tenant, the
// credential id, the operation ("create User", "list Groups"), the
// resource id, the status, the scimType of an error and the latency:
// successes at debug level, 4xx at warn (what gets an Entra job
// quarantined), 5xx at error with their server-side cause (see
// [RequestInfo]). The requests the server changed to accept them (dropped
// attributes and the like) get an info line with the tenant and
// attribute names (see [Server.Normalizations]). By default nothing is
// logged. Tokens, passwords, request bodies and query strings are never
// logged, and no userName reaches the log unless debug is enabled (an
// error's detail, which may quote one, is added to the request's line
// only when the logger is enabled at debug level).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return errors.New("scim: nil logger")
		}
		c.logger = l
		return nil
	})
}

// WithClock sets the clock used for meta.created and meta.lastModified,
// for checking a token's expiry and for dating its last use. Times are
// kept to the microsecond, the precision every backend stores, so a
// resource reads back with the timestamps its write returned.
// A nil clock is an error at [New].
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) error {
		if now == nil {
			return errors.New("scim: nil clock")
		}
		c.now = now
		return nil
	})
}

// WithIDGenerator sets the generator of resource ids (default: random
// UUID v4). Ids must be unique within a tenant. A nil generator is an
// error at [New].
func WithIDGenerator(newID func() string) Option {
	return optionFunc(func(c *config) error {
		if newID == nil {
			return errors.New("scim: nil id generator")
		}
		c.newID = newID
		return nil
	})
}

// WithMaxBodyBytes bounds request bodies (default 1 MiB); larger bodies get
// 413 (ServiceProviderConfig bulk.maxPayloadSize).
func WithMaxBodyBytes(n int64) Option {
	return optionFunc(func(c *config) error {
		if n <= 0 {
			return errors.New("scim: max body bytes must be positive")
		}
		c.maxBody = n
		return nil
	})
}

// WithPageSize sets the default page size of list responses when the
// client sends no count (default 100) and the largest it may ask for
// (default 1000, advertised as filter.maxResults, RFC 7644 §3.4.2.4). They
// must satisfy 1 <= def <= max <= [MaxPageSize], else [New] returns an
// error.
func WithPageSize(def, max int) Option {
	return optionFunc(func(c *config) error {
		if def < 1 || max < def || max > MaxPageSize {
			return fmt.Errorf("scim: page sizes must satisfy 1 <= default <= max <= %d", MaxPageSize)
		}
		c.defaultCount, c.maxCount = def, max
		return nil
	})
}

// MaxPageSize is the largest page [WithPageSize] accepts: a page is built
// in memory and sent in one response, so its size bounds a request's work.
const MaxPageSize = 10000

// WithStrictBooleans rejects the strings "True" and "False" for boolean
// attributes, as values and as comparison values in filters and PATCH
// path value filters (`roles[primary eq "True"].value`), and numeric
// strings such as "3" for integer and decimal ones. By default they are
// accepted, in any case, because Entra's default provisioning job
// (without aadOptscim062020) sends them.
//
// Deprecated: use [WithStrictTypes], which does the same and says so.
func WithStrictBooleans() Option {
	return optionFunc(func(c *config) error { c.norm.StrictBooleans = true; return nil })
}

// WithStrictAttributes refuses requests that carry an attribute or
// sub-attribute no registered schema defines: 400 invalidSyntax for a POST
// or PUT body or a PATCH value, 400 invalidPath for a PATCH path. By
// default such attributes are dropped, counted ([Server.Normalizations])
// and logged, and the rest of the request is applied: Entra and Okta send
// attributes a product may not define (Entra's role mapping sends
// "roles.displayName"), and they retry, then quarantine, a job whose
// requests keep failing.
func WithStrictAttributes() Option {
	return optionFunc(func(c *config) error { c.norm.StrictAttributes = true; return nil })
}

// WithIgnoreUnknownAttributes drops attributes that no registered schema
// defines instead of answering 400 invalidSyntax.
//
// Deprecated: dropping unknown attributes is the default; this option
// only undoes an earlier [WithStrictAttributes].
func WithIgnoreUnknownAttributes() Option {
	return optionFunc(func(c *config) error { c.norm.StrictAttributes = false; return nil })
}

// WithHook registers a best-effort provisioning hook: h sees the typed
// events of each change right after it committed, in the request's
// goroutine, with a context that is not cancelled when the client hangs
// up. A crash between the commit and the call loses the call: use
// [WithOutbox] and a provisioning.Dispatcher for what must happen. Each
// WithHook adds a hook; they run in the order given. A nil hook is an
// error at [New].
func WithHook(h provisioning.Hook) Option {
	return optionFunc(func(c *config) error {
		if h == nil {
			return errors.New("scim: nil hook")
		}
		c.hooks = append(c.hooks, h)
		return nil
	})
}

// New returns a Server that stores resources in store and authenticates
// requests with tokens. Every backend under storage/ implements both, so
// the usual call passes one store twice:
//
//	store := memory.New()
//	srv, err := scimkit.New(store, store)
//
// They are two arguments because they are two contracts: a host that
// keeps its users in its own product tables implements [ResourceHandler]
// over them and can keep tokens in a backend (or its own credential
// table) all the same.
//
// New returns an error, and no Server, when store or tokens is nil (or a
// nil pointer) or an option is invalid; a Server it returns is ready to
// serve.
func New(store ResourceHandler, tokens TokenStore, opts ...Option) (*Server, error) {
	if isNil(store) || isNil(tokens) {
		return nil, errors.New("scim: New needs a ResourceHandler and a TokenStore")
	}
	cfg := config{
		logger:       slog.New(slog.DiscardHandler),
		now:          time.Now,
		newID:        newUUID,
		maxBody:      1 << 20,
		defaultCount: 100,
		maxCount:     1000,
		limits:       defaultLimits(),
	}
	for _, o := range opts {
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	if _, ok := store.(storage.Outbox); cfg.outbox && !ok {
		return nil, errors.New("scim: WithOutbox needs a ResourceHandler that implements storage.Outbox")
	}
	clock := cfg.now
	cfg.now = func() time.Time { return clock().Truncate(time.Microsecond) }
	exts := []escim.Schema{escim.ExtensionEnterpriseUser()}
	for _, e := range cfg.exts {
		exts = append(exts, e.schema())
	}
	s := &Server{
		store:  store,
		tokens: tokens,
		cfg:    cfg,
		users:  schema.NewResourceType(storage.KindUser, "/Users", escim.CoreUserSchema(), exts...),
		groups: schema.NewResourceType(storage.KindGroup, "/Groups", escim.CoreGroupSchema()),
		locks:  newResourceLocks(),
		used:   newUsage(tokens, cfg.logger),
		rates:  newRateLimits(cfg.limits, time.Now),
	}
	if ps, ok := store.(PolicyStore); ok {
		s.audit = &auditQueue{store: ps, logger: cfg.logger}
	}
	s.routes()
	s.dispatch = s.mux
	for i := len(cfg.middleware) - 1; i >= 0; i-- {
		s.dispatch = cfg.middleware[i](s.dispatch)
	}
	return s, nil
}

// isNil reports whether v is nil or an interface holding a nil pointer,
// map, slice, func or channel.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// request is what every handler needs about the current request.
type request struct {
	tenant     string
	credential string // id of the credential that authenticated the request
	base       string // absolute SCIM base URL, no trailing slash

	// Set while serving, for the request log and observers (see observe).
	now                time.Time // the server's clock when the request arrived
	path               string    // canonical path, for classify
	urlTenant          string    // tenant named by the URL, if any
	rejectedTenant     string    // tenant of an expired credential refused
	rejectedCredential string
	err                error // the error answered, if any
	notes              []NormalizationKind
	filterReport       schema.Report // what a list filter's normalisation did
	limit              string
	aborted            bool
	sw                 *statusWriter // the response as observe sees it
	policy             *Policy       // the tenant's policy, loaded by the first write step needing it
	auditID            string        // id of the resource the request writes, for the audit log
	auditDetail        string        // what the lifecycle policy did, for the audit log
	life               *userChange   // what admission learned of a PUT or PATCH of a User, for its write
	auditNotes         []string      // normalisations applied (kind and attribute), for the audit log
	at                 time.Time     // the time the request's write was stamped with, for the audit log
	gated              bool          // an expensive request, admitted by the work budget (gateWork)
	workUpfront        time.Duration // what gateWork charged up front
	body               countingBody  // the request body, counted for the work budget

	swv statusWriter // what sw points to, allocated with the request
}

type reqKey struct{}

func (s *Server) routes() {
	m := http.NewServeMux()
	for _, rt := range []*schema.ResourceType{s.users, s.groups} {
		ep := rt.Endpoint
		m.HandleFunc("GET "+ep, s.wrap(func(w http.ResponseWriter, r *http.Request, q *request) error { return s.list(w, r, q, rt) }))
		m.HandleFunc("POST "+ep, s.wrap(func(w http.ResponseWriter, r *http.Request, q *request) error { return s.create(w, r, q, rt) }))
		m.HandleFunc("GET "+ep+"/{id}", s.wrap(func(w http.ResponseWriter, r *http.Request, q *request) error { return s.get(w, r, q, rt) }))
		m.HandleFunc("PUT "+ep+"/{id}", s.wrap(func(w http.ResponseWriter, r *http.Request, q *request) error { return s.replace(w, r, q, rt) }))
		m.HandleFunc("PATCH "+ep+"/{id}", s.wrap(func(w http.ResponseWriter, r *http.Request, q *request) error { return s.patch(w, r, q, rt) }))
		m.HandleFunc("DELETE "+ep+"/{id}", s.wrap(func(w http.ResponseWriter, r *http.Request, q *request) error { return s.delete(w, r, q, rt) }))
		m.HandleFunc(ep, s.methodNotAllowed("GET, HEAD, POST"))
		m.HandleFunc(ep+"/{id}", s.methodNotAllowed("GET, HEAD, PUT, PATCH, DELETE"))
	}
	m.HandleFunc("GET /ServiceProviderConfig", s.wrap(s.serviceProviderConfig))
	m.HandleFunc("GET /Schemas", s.wrap(s.schemas))
	m.HandleFunc("GET /Schemas/{id}", s.wrap(s.schemas))
	m.HandleFunc("GET /ResourceTypes", s.wrap(s.resourceTypes))
	m.HandleFunc("GET /ResourceTypes/{id}", s.wrap(s.resourceTypes))
	for _, p := range []string{"/ServiceProviderConfig", "/Schemas", "/Schemas/{id}", "/ResourceTypes", "/ResourceTypes/{id}"} {
		m.HandleFunc(p, s.methodNotAllowed("GET, HEAD"))
	}
	m.HandleFunc("/Bulk", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, ErrNotImplemented.WithDetail("bulk operations are not supported (see /ServiceProviderConfig)"))
	})
	m.HandleFunc("/Me", func(w http.ResponseWriter, r *http.Request) {
		// RFC 7644 §3.11: a provider without /Me answers 501.
		s.writeError(w, r, ErrNotImplemented.WithDetail("the /Me endpoint is not supported: tokens belong to tenants, not users"))
	})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, ErrNotFound.WithDetail("unknown endpoint "+r.URL.Path))
	})
	s.mux = m
}

// methodNotAllowed answers 405 with the Allow header RFC 9110 §15.5.6
// requires, listing the methods the endpoint serves.
func (s *Server) methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		s.writeError(w, r, ErrMethodNotAllowed.WithDetail("method "+r.Method+" not allowed on "+r.URL.Path))
	}
}

// wrap adapts a handler that returns an error.
func (s *Server) wrap(h func(http.ResponseWriter, *http.Request, *request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, _ := r.Context().Value(reqKey{}).(*request)
		err := h(w, r, q)
		if err != nil {
			s.writeError(w, r, err)
		}
		// An authenticated request of a tenant whose store keeps an audit
		// log; observe's writer saw the status, whatever host middleware
		// wraps it.
		if q != nil && q.sw != nil && s.audit != nil {
			s.recordAudit(r, q, q.sw.status, err)
		}
	}
}

// ServeHTTP serves SCIM with the tenant named by the bearer token.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, "") }

// canonicalPath returns an escaped request path with its endpoint segment
// in canonical case, without trailing slashes and with runs of slashes made
// one: routes are matched case-insensitively, as Microsoft's validator sends
// "/users" and "/Users/?filter=", and a Tenant URL entered with a trailing
// slash makes "/scim/v2//Users".
func canonicalPath(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	p = strings.TrimRight(p, "/")
	seg, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	for _, c := range [...]string{"Users", "Groups", "Schemas", "ResourceTypes", "ServiceProviderConfig", "Bulk", "Me"} {
		if strings.EqualFold(seg, c) || strings.EqualFold(seg, "ServiceProviderConfigs") && c == "ServiceProviderConfig" {
			if seg == c && strings.HasPrefix(p, "/") {
				return p // canonical already: no copy
			}
			seg = c
			break
		}
	}
	if rest != "" {
		return "/" + seg + "/" + rest
	}
	return "/" + seg
}

// hasDotSegment reports whether the escaped path p has a "." or ".."
// segment.
func hasDotSegment(p string) bool {
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, pathTenant string) {
	s.observe(w, r, func(w http.ResponseWriter, r *http.Request, q *request) {
		q.path, q.urlTenant = canonicalPath(r.URL.Path), pathTenant
		if s.refuseThrottled(w, r, q, pathTenant) {
			return
		}
		cred, err := s.authenticate(r, pathTenant)
		if err != nil {
			q.rejectedTenant, q.rejectedCredential = cred.Tenant, cred.ID
			s.forgetThrottled(r, pathTenant)
			s.writeError(w, r, err)
			return
		}
		q.tenant, q.credential, q.base = cred.Tenant, cred.ID, s.baseURL(r)
		s.profiles.record(q.tenant, requestSignals(r), q.now)
		release, err := s.admitRate(r, q)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer release()
		r2 := r
		esc := r.URL.EscapedPath()
		if hasDotSegment(esc) {
			// net/http's mux would answer an HTML redirect to the cleaned
			// path, which drops the host's mount prefix: no SCIM client
			// sends one, so it names no endpoint.
			s.writeError(w, r, ErrNotFound.WithDetail("unknown endpoint "+r.URL.Path))
			return
		}
		if canonicalPath(esc) != esc {
			// Work on the escaped form, so an id holding "%2F" stays one
			// segment.
			u := *r.URL
			u.RawPath = canonicalPath(esc)
			u.Path, _ = url.PathUnescape(u.RawPath) // valid: it came from EscapedPath
			r2 = new(http.Request)
			*r2 = *r
			r2.URL = &u
		}
		if bodyCostly(r) {
			if err := s.gateWork(r, q); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if r.Body != nil && r.Body != http.NoBody {
			if r2 == r {
				r2 = new(http.Request)
				*r2 = *r
			}
			q.body.ReadCloser = http.MaxBytesReader(w, r.Body, s.cfg.maxBody)
			r2.Body = &q.body
		}
		s.dispatch.ServeHTTP(w, r2)
	})
}

// baseURL returns the absolute SCIM base URL of a request: the configured
// or requested origin plus the path the server is mounted under.
func (s *Server) baseURL(r *http.Request) string {
	var origin string
	if s.cfg.baseURL != nil {
		origin = s.cfg.baseURL.Scheme + "://" + s.cfg.baseURL.Host + s.cfg.baseURL.Path
	} else {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		origin = scheme + "://" + r.Host
	}
	// The mount prefix is the part of the request path that StripPrefix
	// (or TenantHandler) removed. Compare escaped forms: both keep them.
	reqPath := r.RequestURI
	if i := strings.IndexAny(reqPath, "?#"); i >= 0 {
		reqPath = reqPath[:i]
	}
	if !strings.HasPrefix(reqPath, "/") { // absolute-form request target
		if u, err := url.Parse(reqPath); err == nil {
			reqPath = u.EscapedPath()
		}
	}
	prefix, ok := strings.CutSuffix(reqPath, r.URL.EscapedPath())
	if !ok {
		prefix = ""
	}
	return origin + strings.TrimSuffix(prefix, "/")
}

// Error is a SCIM error response (RFC 7644 §3.12): an HTTP status, an
// optional scimType keyword and a human-readable detail. Handlers in this
// package answer every failure with one, as
// application/scim+json with the "urn:ietf:params:scim:api:messages:2.0:Error"
// schema and status as a string.
//
// Use the predeclared values with errors.Is; refine them with
// [Error.WithDetail] and [Error.WithCause], which return copies. An Error
// cannot be changed once made (its fields are read through [Error.Status],
// [Error.ScimType] and [Error.Detail]), so no caller can corrupt the
// predeclared values. A [ResourceHandler] may return its own with
// [NewError].
type Error struct {
	status     int
	scimType   string
	detail     string
	cause      error
	retryAfter int // seconds for a Retry-After header; 0 for the default
}

// NewError returns a SCIM error with the given HTTP status (400 to 599),
// scimType keyword (RFC 7644 §3.12 Table 9, or "" for none) and detail,
// which is sent to the client; a status outside 400 to 599 becomes 500.
// Prefer a predeclared value refined with
// [Error.WithDetail]: errors.Is(NewError(409, "uniqueness", "..."),
// ErrUniqueness) holds all the same.
func NewError(status int, scimType, detail string) *Error {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	return &Error{status: status, scimType: scimType, detail: detail}
}

// Status is the HTTP status of the response (sent as a string in the
// "status" attribute, RFC 7644 §3.12).
func (e *Error) Status() int { return e.status }

// ScimType is the RFC 7644 §3.12 scimType keyword, "" when the status has
// none.
func (e *Error) ScimType() string { return e.scimType }

// Detail is the human-readable message sent to the client.
func (e *Error) Detail() string { return e.detail }

// Predeclared errors: one for each scimType of RFC 7644 §3.12 Table 9, and
// the statuses without one.
var (
	ErrInvalidFilter = &Error{status: http.StatusBadRequest, scimType: "invalidFilter", detail: "the filter syntax is invalid or names an unknown attribute"}
	ErrTooMany       = &Error{status: http.StatusBadRequest, scimType: "tooMany", detail: "the request would return or change too many resources"}
	ErrUniqueness    = &Error{status: http.StatusConflict, scimType: "uniqueness", detail: "a value is already in use"}
	ErrMutability    = &Error{status: http.StatusBadRequest, scimType: "mutability", detail: "the attribute cannot be changed"}
	ErrInvalidSyntax = &Error{status: http.StatusBadRequest, scimType: "invalidSyntax", detail: "the request body is not valid"}
	ErrInvalidPath   = &Error{status: http.StatusBadRequest, scimType: "invalidPath", detail: "the path attribute is invalid"}
	ErrNoTarget      = &Error{status: http.StatusBadRequest, scimType: "noTarget", detail: "the path did not yield a value to operate on"}
	ErrInvalidValue  = &Error{status: http.StatusBadRequest, scimType: "invalidValue", detail: "a required value is missing or a value is not compatible"}
	ErrInvalidVers   = &Error{status: http.StatusBadRequest, scimType: "invalidVers", detail: "the SCIM protocol version is not supported"}
	ErrSensitive     = &Error{status: http.StatusForbidden, scimType: "sensitive", detail: "the request cannot be completed as given"}

	ErrUnauthorized       = &Error{status: http.StatusUnauthorized, detail: "authorization failure: the bearer token is missing or invalid"}
	ErrNotFound           = &Error{status: http.StatusNotFound, detail: "resource not found"}
	ErrMethodNotAllowed   = &Error{status: http.StatusMethodNotAllowed, detail: "method not allowed on this endpoint"}
	ErrPreconditionFailed = &Error{status: http.StatusPreconditionFailed, detail: "the resource version does not match If-Match"}
	ErrPayloadTooLarge    = &Error{status: http.StatusRequestEntityTooLarge, detail: "the request body is too large"}
	ErrNotImplemented     = &Error{status: http.StatusNotImplemented, detail: "not implemented"}
	ErrUnavailable        = &Error{status: http.StatusServiceUnavailable, detail: "the service is temporarily unavailable; retry later"}
	ErrInternal           = &Error{status: http.StatusInternalServerError, detail: "internal server error"}
)

// Error implements error.
func (e *Error) Error() string {
	s := fmt.Sprintf("scim: %d", e.status)
	if e.scimType != "" {
		s += " " + e.scimType
	}
	return s + ": " + e.detail
}

// Unwrap returns the cause given to WithCause.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same status and scimType,
// so errors.Is(err, ErrUniqueness) holds after WithDetail.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.status == e.status && t.scimType == e.scimType
}

// WithDetail returns a copy of e with the given detail.
func (e *Error) WithDetail(detail string) *Error {
	c := *e
	c.detail = detail
	return &c
}

// WithCause returns a copy of e wrapping cause. The cause is logged, never
// sent to the client.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// writeError answers err as a SCIM error (RFC 7644 §3.12). Anything that
// is not an *Error is logged and answered as a generic 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	se := asError(err)
	s.noteLimit(r, err)
	if q, _ := r.Context().Value(reqKey{}).(*request); q != nil {
		q.err = se // logged with its cause when the request ends (observe)
		if se != err && se.cause == nil {
			q.err = se.WithCause(err)
		}
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	if se.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="SCIM"`)
	}
	if ra := se.retryAfterHeader(); ra != "" {
		h.Set("Retry-After", ra)
	}
	w.WriteHeader(se.status)
	var b buf
	b.WriteString(`{"schemas":["` + schema.ErrorURN + `"],"status":"`)
	b.WriteString(strconv.Itoa(se.status))
	b.WriteString(`"`)
	if se.scimType != "" {
		b.WriteString(`,"scimType":`)
		b.str(se.scimType)
	}
	b.WriteString(`,"detail":`)
	b.str(se.detail)
	b.WriteString("}")
	_, _ = w.Write(b.Bytes())
}

// asError returns the SCIM error answered for err.
func asError(err error) *Error {
	var se *Error
	if !errors.As(err, &se) {
		var mbe *http.MaxBytesError
		var ie *schema.Error
		switch {
		case errors.As(err, &mbe):
			se = ErrPayloadTooLarge.WithDetail(fmt.Sprintf("the request body exceeds %d bytes", mbe.Limit))
		case errors.As(err, &ie):
			se = &Error{status: http.StatusBadRequest, scimType: ie.ScimType, detail: ie.Detail}
		default:
			se = storeError(err).(*Error)
		}
	}
	return se
}

// storeError maps a storage error to a SCIM error, keeping the cause for
// the log.
func storeError(err error) error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return ErrNotFound.WithCause(err)
	case errors.Is(err, storage.ErrConflict):
		return ErrUniqueness.WithCause(err)
	case errors.Is(err, storage.ErrSeatLimit):
		return ErrPolicy.WithDetail("seat limit reached: all of this tenant's seats are taken; nothing was changed").WithCause(err)
	case errors.Is(err, storage.ErrInvalidMember):
		return ErrInvalidValue.WithDetail("a member value names no User or Group of this tenant").WithCause(err)
	case errors.Is(err, storage.ErrVersionMismatch):
		// Retries ran out against writers on other instances: ask the
		// client to come back (IdPs retry 503 with Retry-After).
		return ErrUnavailable.WithDetail("the resource is being changed concurrently; retry later").WithCause(err)
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ErrUnavailable.WithCause(err)
	}
	return ErrInternal.WithCause(err)
}

const contentType = "application/scim+json"

// buf builds JSON responses.
type buf struct{ bytes.Buffer }

// str writes s as a JSON string (RFC 8259 §7), escaping only what JSON
// requires, as [schema.Marshal] does; invalid UTF-8 becomes U+FFFD.
func (b *buf) str(s string) {
	b.WriteByte('"')
	b.strBody(s)
	b.WriteByte('"')
}

// strBody writes s escaped as in a JSON string, without the quotes.
func (b *buf) strBody(s string) {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i++
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
}

// time writes t as an xsd:dateTime in UTC (RFC 7643 §2.3.5).
func (b *buf) time(t time.Time) {
	var scratch [40]byte
	b.Write(t.UTC().AppendFormat(scratch[:0], time.RFC3339Nano))
}

// serviceProviderConfig answers RFC 7643 §5.
func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request, q *request) error {
	doc := map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://pkg.go.dev/github.com/scimkit/scimkit",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": s.cfg.maxBody},
		"filter":           map[string]any{"supported": true, "maxResults": s.cfg.maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "Authentication with the tenant's API token in an Authorization: Bearer header (RFC 6750).",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": q.base + "/ServiceProviderConfig"},
	}
	return writeDoc(w, doc)
}

func writeDoc(w http.ResponseWriter, doc any) error {
	body, err := schema.Marshal(doc)
	if err != nil {
		return ErrInternal.WithCause(err)
	}
	return writeJSON(w, http.StatusOK, body)
}

// allSchemas returns the schemas served, core first.
func (s *Server) allSchemas() []*schema.Schema {
	out := []*schema.Schema{s.users.Core}
	out = append(out, s.users.Extensions...)
	return append(out, s.groups.Core)
}

// schemas answers /Schemas and /Schemas/{id} (RFC 7644 §4): a ListResponse,
// as Entra requires, or one schema.
func (s *Server) schemas(w http.ResponseWriter, r *http.Request, q *request) error {
	render := func(sc *schema.Schema) map[string]any {
		m := sc.Document()
		m["meta"] = map[string]any{"resourceType": "Schema", "location": q.base + "/Schemas/" + sc.URN}
		return m
	}
	if id := r.PathValue("id"); id != "" {
		for _, sc := range s.allSchemas() {
			if strings.EqualFold(sc.URN, id) {
				return writeDoc(w, render(sc))
			}
		}
		return ErrNotFound.WithDetail(fmt.Sprintf("schema %q not found", id))
	}
	var list []any
	for _, sc := range s.allSchemas() {
		list = append(list, render(sc))
	}
	return writeDoc(w, listDoc(list))
}

func listDoc(list []any) map[string]any {
	return map[string]any{
		"schemas":      []string{schema.ListResponseURN},
		"totalResults": len(list),
		"itemsPerPage": len(list),
		"startIndex":   1,
		"Resources":    list,
	}
}

// resourceTypes answers /ResourceTypes (RFC 7643 §6).
func (s *Server) resourceTypes(w http.ResponseWriter, r *http.Request, q *request) error {
	render := func(rt *schema.ResourceType) map[string]any {
		name := string(rt.Kind)
		m := map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
			"id":          name,
			"name":        name,
			"endpoint":    rt.Endpoint,
			"description": name + " accounts",
			"schema":      rt.Core.URN,
			"meta":        map[string]any{"resourceType": "ResourceType", "location": q.base + "/ResourceTypes/" + name},
		}
		if len(rt.Extensions) > 0 {
			var exts []any
			for _, e := range rt.Extensions {
				exts = append(exts, map[string]any{"schema": e.URN, "required": false})
			}
			m["schemaExtensions"] = exts
		}
		return m
	}
	rts := []*schema.ResourceType{s.users, s.groups}
	if id := r.PathValue("id"); id != "" {
		for _, rt := range rts {
			if strings.EqualFold(string(rt.Kind), id) {
				return writeDoc(w, render(rt))
			}
		}
		return ErrNotFound.WithDetail(fmt.Sprintf("resource type %q not found", id))
	}
	return writeDoc(w, listDoc([]any{render(s.users), render(s.groups)}))
}
