package scimkit

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// WithAuditRetention sets how long audit entries are kept: [Server.Purge]
// removes older ones (default: kept until the tenant is deleted). It must
// be positive.
func WithAuditRetention(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return errors.New("scim: audit retention must be positive")
		}
		c.auditRetention = d
		return nil
	})
}

// auditTimeout bounds the write of one audit entry.
const auditTimeout = 2 * time.Second

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// auditRecorder returns a recorder when the request is one the audit log
// may keep: an authenticated request of a tenant whose store keeps an
// audit log.
func (s *Server) auditRecorder(w http.ResponseWriter, r *http.Request, q *request) *statusRecorder {
	if q == nil || s.policyStore() == nil {
		return nil
	}
	return &statusRecorder{ResponseWriter: w}
}

// recordAudit appends the request to the tenant's audit log when it wrote
// (POST, PUT, PATCH, DELETE, whatever the outcome) or was refused (any
// other request answered 4xx or 5xx, except 404 of a GET: Entra and Okta
// look users up by id as a matter of course).
//
// The entry is written after the response, best-effort: with a context
// that the client's hanging up does not cancel, bounded by a short
// timeout, and a failure is logged, never sent to the client. It is not in
// the transaction of the change: the audit log records requests, refused
// ones included, and must not fail or lengthen a provisioning write; the
// record of changes a host must not lose is the event stream.
func (s *Server) recordAudit(r *http.Request, q *request, status int, err error) {
	write := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch || r.Method == http.MethodDelete
	if status == 0 {
		status = http.StatusOK
	}
	if !write && (status < 400 || status == http.StatusNotFound && r.Method == http.MethodGet) {
		return
	}
	at := q.at // the write's own time: no second reading of the clock
	if at.IsZero() {
		at = s.cfg.now()
	}
	e := storage.AuditEntry{
		Time:           at,
		Credential:     q.credential,
		Operation:      r.Method + " " + endpointOf(r.URL.Path),
		ResourceID:     truncate(q.auditID, maxPolicyString),
		Status:         status,
		Normalizations: q.notes,
		Detail:         q.auditDetail,
	}
	if err != nil {
		se := asError(err)
		e.ScimType, e.Detail = se.scimType, truncate(se.detail, 1024)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditTimeout)
	defer cancel()
	if err := s.policyStore().AppendAudit(ctx, q.tenant, e); err != nil {
		s.cfg.logger.ErrorContext(ctx, "scim: audit entry not stored", "tenant", q.tenant, "operation", e.Operation, "err", err)
	}
}

// endpointOf is the endpoint of a SCIM path: "/Users/42" gives "/Users".
func endpointOf(p string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return "/" + truncate(seg, 64)
}

// AuditEntry is one entry of a tenant's audit log: a SCIM request that
// wrote (or tried to) or was refused.
type AuditEntry = storage.AuditEntry

// Audit returns up to limit entries of tenant's audit log with a time at
// or after since and before until (zero: no bound), oldest first. A limit
// outside 1 to 10000 is taken as 10000.
func (s *Server) Audit(ctx context.Context, tenant string, since, until time.Time, limit int) ([]AuditEntry, error) {
	ps := s.policyStore()
	if ps == nil {
		return nil, ErrNoPolicyStore
	}
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	return ps.ListAudit(ctx, tenant, since, until, limit)
}
