package scimkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// RequestInfo describes one request the [Server] served, for an
// [Observer] and the request log line (see [WithLogger]). It holds no
// secret and no personal data: no token, no body, no query string.
type RequestInfo struct {
	// Tenant is the tenant the request was served for, or, for a request
	// refused with 401 because its token had expired, the tenant of that
	// token; "" when no tenant is known (a missing or unknown token).
	Tenant string
	// Credential is the id of the credential that authenticated the
	// request (or of the expired one refused), "" when none.
	Credential string
	// Resource is the resource type the request addressed: "User",
	// "Group", "ServiceProviderConfig", "Schema", "ResourceType", "Bulk",
	// "Me", or "" for an unknown endpoint. It takes only these values, so
	// it is safe as a metric label.
	Resource string
	// Operation is what the request asked for: "list", "get", "create",
	// "replace", "patch", "delete", or "other" (a method the endpoint
	// does not serve). It takes only these values.
	Operation string
	// ResourceID is the id the request addressed (the new id for a
	// create), "" for lists. It comes from the URL, so it is not a safe
	// metric label.
	ResourceID string
	// Status is the HTTP status of the response.
	Status int
	// ScimType is the scimType of an error response (RFC 7644 §3.12),
	// "" for success or an error without one.
	ScimType string
	// Duration is the time from the request reaching the Server to the
	// handler's return.
	Duration time.Duration
	// Normalizations lists what normalisation did to the request, one
	// entry per distinct kind and attribute (see [Server.Normalizations]),
	// for requests that succeeded.
	Normalizations []NormalizationKind
	// Limit names the limit that refused or shrank the request ("" when
	// none was hit).
	Limit string
	// Cause is the server-side cause of an error response: for a 5xx the
	// error a store returned or the panic; nil for success. It is logged
	// and given to observers, never sent to the client.
	Cause error
}

// Op returns the operation as a log line shows it: "create User",
// "patch Group", "list Users", "other" for a method an endpoint does not
// serve.
func (i RequestInfo) Op() string {
	switch {
	case i.Resource == "":
		return i.Operation
	case i.Operation == "list":
		return "list " + i.Resource + "s"
	}
	return i.Operation + " " + i.Resource
}

// Observer is told about every request a [Server] serves, after the
// handler returns: metrics, tracing or per-tenant accounting. Package
// metrics/prometheus (a module of its own) implements it with the
// official Prometheus client.
//
// Request is called on the request's goroutine, once per request,
// including requests refused before authentication (with Tenant "") and
// requests that panicked; it must be safe for concurrent use and should
// return quickly, because the response has been written but the handler
// has not returned yet. ctx is the request's context.
type Observer interface {
	Request(ctx context.Context, info RequestInfo)
}

// WithObserver adds an [Observer]; given several times, each is called in
// order. A nil Observer is an error at [New].
func WithObserver(o Observer) Option {
	return optionFunc(func(c *config) error {
		if isNil(o) {
			return errors.New("scim: nil observer")
		}
		c.observers = append(c.observers, o)
		return nil
	})
}

// WithMiddleware wraps the server's dispatch in a host middleware that
// runs after authentication: inside it, [TenantFromContext] and
// [CredentialFromContext] name the request's tenant and credential, in
// token mode ([Server.ServeHTTP]) as in URL mode ([Server.TenantHandler]).
// A host adds its own per-tenant metrics, limits or tracing this way; to
// refuse a request it answers with [Server.WriteError] (for example a 429
// with [NewError]), which the request log and observers then see like
// any other error. Given several times, the first is the outermost. A nil
// middleware is an error at [New].
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return optionFunc(func(c *config) error {
		if mw == nil {
			return errors.New("scim: nil middleware")
		}
		c.middleware = append(c.middleware, mw)
		return nil
	})
}

// TenantFromContext returns the tenant of the request whose context ctx
// is (or derives from), once the [Server] has authenticated it: inside a
// [WithMiddleware] middleware, a [provisioning.Hook] or a store called
// for the request. ok is false outside a Server's request or before
// authentication.
func TenantFromContext(ctx context.Context) (tenant string, ok bool) {
	q, _ := ctx.Value(reqKey{}).(*request)
	if q == nil || q.tenant == "" {
		return "", false
	}
	return q.tenant, true
}

// CredentialFromContext returns the id of the credential
// ([storage.Credential.ID]) that authenticated the request whose context
// ctx is, like [TenantFromContext]. It is an id, never the token.
func CredentialFromContext(ctx context.Context) (id string, ok bool) {
	q, _ := ctx.Value(reqKey{}).(*request)
	if q == nil || q.tenant == "" {
		return "", false
	}
	return q.credential, true
}

// WriteError answers err as a SCIM error (RFC 7644 §3.12: JSON with the
// Error schema and status as a string), as the server's own handlers do:
// an [*Error] as it is, anything else as a 500 whose cause is logged,
// never sent. A 503 gets a Retry-After header; a host middleware that
// answers 429 sets its own before calling WriteError.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeError(w, r, err)
}

// statusWriter records the status a handler writes.
type statusWriter struct {
	http.ResponseWriter
	status int
	began  time.Time // when the response began: the end of the work a tenant's budget is charged for
	bytes  int64     // of the response body written
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status, w.began = code, time.Now()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status, w.began = http.StatusOK, time.Now()
	}
	w.bytes += int64(len(p))
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe serves a request through h with the request state in its
// context, then logs it and tells the observers and the health tracker.
// It is the one place every request passes through.
func (s *Server) observe(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request, *request)) {
	start := time.Now()
	q := &request{now: s.cfg.now()}
	r = r.WithContext(context.WithValue(r.Context(), reqKey{}, q))
	q.swv.ResponseWriter = w // one allocation for both
	sw := &q.swv
	q.sw = sw
	defer s.finish(sw, r, q, start)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				q.aborted = true
				panic(v)
			}
			err := ErrInternal.WithCause(fmt.Errorf("scim: panic: %v", v))
			if sw.status == 0 {
				s.writeError(sw, r, err)
			} else {
				q.err = err
			}
		}
	}()
	h(sw, r, q)
}

// finish logs a served request and reports it.
func (s *Server) finish(sw *statusWriter, r *http.Request, q *request, start time.Time) {
	if q.aborted {
		return
	}
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	info := RequestInfo{
		Tenant:         q.tenant,
		Credential:     q.credential,
		Status:         status,
		Duration:       time.Since(start),
		Normalizations: q.notes,
		Limit:          q.limit,
	}
	if info.Tenant == "" {
		info.Tenant, info.Credential = q.rejectedTenant, q.rejectedCredential
	}
	info.Resource, info.Operation, info.ResourceID = classify(r.Method, q.path)
	if info.Operation == "create" && status == http.StatusCreated {
		if loc := sw.Header().Get("Location"); loc != "" {
			info.ResourceID = loc[strings.LastIndexByte(loc, '/')+1:]
		}
	}
	var se *Error
	if q.err != nil {
		if errors.As(q.err, &se) {
			info.ScimType = se.scimType
			info.Cause = se.cause
		} else {
			info.Cause = q.err
		}
	}
	s.logRequest(r, q, info, se)
	switch {
	case info.Tenant != "":
		s.health.record(info.Tenant, q.now, status, info.ScimType, true)
	case q.urlTenant != "":
		// A tenant URL with a wrong token: the URL's tenant is anyone's
		// guess, so it counts only for a tenant already tracked, and is
		// no metric label.
		s.health.record(q.urlTenant, q.now, status, info.ScimType, false)
	}
	for _, o := range s.cfg.observers {
		o.Request(r.Context(), info)
	}
}

// maxLoggedID bounds the bytes of the id a log line quotes from the URL:
// ids are UUIDs, and a URL of any length (up to the host's
// MaxHeaderBytes, 1 MiB by default) would otherwise make a line that long,
// for anyone, with any token.
const maxLoggedID = 256

// logRequest writes the request's log line: success at debug, 4xx at
// warn, 5xx at error with the cause. Never the token, the body or the
// query string (a filter names userNames); an error's detail (which may
// quote a value) only when the logger is enabled at debug level.
func (s *Server) logRequest(r *http.Request, q *request, info RequestInfo, se *Error) {
	l := s.cfg.logger
	ctx := r.Context()
	level := slog.LevelDebug
	switch {
	case info.Status >= 500:
		level = slog.LevelError
	case info.Status >= 400:
		level = slog.LevelWarn
	}
	if !l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String("tenant", info.Tenant),
		slog.String("credential", info.Credential),
		slog.String("op", info.Op()),
		slog.String("id", truncate(info.ResourceID, maxLoggedID)),
		slog.Int("status", info.Status),
		slog.Duration("latency", info.Duration),
	)
	if info.Tenant == "" && q.urlTenant != "" {
		attrs = append(attrs, slog.String("urlTenant", q.urlTenant))
	}
	if info.ScimType != "" {
		attrs = append(attrs, slog.String("scimType", info.ScimType))
	}
	if info.Limit != "" {
		attrs = append(attrs, slog.String("limit", info.Limit))
	}
	if info.Status >= 500 && info.Cause != nil {
		attrs = append(attrs, slog.String("cause", info.Cause.Error()))
	}
	if se != nil && l.Enabled(ctx, slog.LevelDebug) {
		attrs = append(attrs, slog.String("detail", se.detail))
	}
	msg := "scim: request"
	if info.Status >= 400 {
		msg = "scim: request failed"
	}
	l.LogAttrs(ctx, level, msg, attrs...)
}

// requestTime returns the time the server's clock gave the request whose
// context ctx is when it arrived (read once, so an injected clock sees one
// call per request for authentication and health alike), or now() outside
// a request.
func requestTime(ctx context.Context, now func() time.Time) time.Time {
	if q, _ := ctx.Value(reqKey{}).(*request); q != nil && !q.now.IsZero() {
		return q.now
	}
	return now()
}

// limitHit records that a limit (a short stable name, e.g. "rate" or
// "filterTerms") refused or shrank the current request: the request log
// line and [RequestInfo.Limit] name it. Code enforcing a limit calls it
// with the request's context; outside a request it does nothing.
func limitHit(ctx context.Context, limit string) {
	if q, _ := ctx.Value(reqKey{}).(*request); q != nil {
		q.limit = limit
	}
}

// classify names the resource, operation and id of a request from its
// method and canonical path (see canonicalPath), with values from fixed
// sets only (the id aside).
func classify(method, path string) (resource, op, id string) {
	seg, rest, hasRest := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	switch seg {
	case "Users":
		resource = "User"
	case "Groups":
		resource = "Group"
	case "Schemas":
		resource = "Schema"
	case "ResourceTypes":
		resource = "ResourceType"
	case "ServiceProviderConfig", "Bulk", "Me":
		resource = seg
	default:
		return "", "other", ""
	}
	if hasRest {
		id = rest
	}
	switch {
	case resource == "ServiceProviderConfig" && method == http.MethodGet && !hasRest:
		op = "get"
	case resource == "Bulk" || resource == "Me":
		op = "other"
	case method == http.MethodGet && !hasRest:
		op = "list"
	case method == http.MethodGet:
		op = "get"
	case method == http.MethodPost && !hasRest && (resource == "User" || resource == "Group"):
		op = "create"
	case method == http.MethodPut && hasRest && (resource == "User" || resource == "Group"):
		op = "replace"
	case method == http.MethodPatch && hasRest && (resource == "User" || resource == "Group"):
		op = "patch"
	case method == http.MethodDelete && hasRest && (resource == "User" || resource == "Group"):
		op = "delete"
	default:
		op = "other"
	}
	return resource, op, id
}
