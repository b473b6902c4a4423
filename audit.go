package scimkit

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
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

// auditTimeout bounds one batch of audit writes.
const auditTimeout = 10 * time.Second

// recordAudit queues the request for the tenant's audit log when it wrote
// (POST, PUT, PATCH, DELETE, whatever the outcome) or was refused (any
// other request answered 4xx or 5xx, except 404 of a GET: Entra and Okta
// look users up by id as a matter of course).
//
// Entries are written in the background, in batches, by [auditQueue]:
// not in the transaction of the change, and never delaying or failing the
// request. The audit log records requests, refused ones included; the
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
		Normalizations: q.auditNotes,
		Detail:         q.auditDetail,
	}
	if err != nil {
		se := asError(err)
		e.ScimType, e.Detail = se.scimType, truncate(se.detail, 1024)
	}
	s.audit.add(q.tenant, e)
}

// maxAuditQueue bounds the audit entries waiting to be written; beyond it
// new entries are dropped (and the drop logged), so a store that is down
// cannot make the server's memory grow.
const maxAuditQueue = 10000

// auditBatch bounds the entries one write stores.
const auditBatch = 500

type queuedAudit struct {
	tenant string
	e      storage.AuditEntry
}

// auditQueue writes audit entries in the background: one short-lived
// goroutine, started when an entry is queued and gone when the queue is
// empty, writes them in batches (one transaction per tenant and batch),
// so a request never waits for its audit entry and a burst of requests
// costs few transactions. It is safe for concurrent use.
type auditQueue struct {
	store  storage.AuditLog
	logger *slog.Logger

	mu      sync.Mutex // guards the fields below
	queue   []queuedAudit
	dropped int           // entries dropped since the last report
	running bool          // a writer goroutine is draining queue
	done    chan struct{} // closed when that writer exits
}

func (a *auditQueue) add(tenant string, e storage.AuditEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queue) >= maxAuditQueue {
		a.dropped++
		return
	}
	a.queue = append(a.queue, queuedAudit{tenant, e})
	if !a.running {
		a.running = true
		a.done = make(chan struct{})
		go a.drain(a.done)
	}
}

// drain writes queued entries until the queue is empty. A failed write is
// logged and its entries dropped.
func (a *auditQueue) drain(done chan struct{}) {
	defer close(done)
	for {
		a.mu.Lock()
		n := min(len(a.queue), auditBatch)
		if n == 0 {
			a.running = false
			a.mu.Unlock()
			return
		}
		batch := a.queue[:n:n]
		a.queue = a.queue[n:]
		if len(a.queue) == 0 {
			a.queue = nil
		}
		dropped := a.dropped
		a.dropped = 0
		a.mu.Unlock()
		if dropped > 0 {
			a.logger.Warn("scim: audit entries dropped: the store is not keeping up", "dropped", dropped)
		}
		// Group by tenant, keeping each tenant's order.
		// One call per tenant, each tenant's entries in their order: a
		// stable sort by tenant and one slice of entries, whose runs are
		// the calls (no map or slice per tenant, however many tenants
		// share the batch).
		slices.SortStableFunc(batch, func(x, y queuedAudit) int { return strings.Compare(x.tenant, y.tenant) })
		entries := make([]storage.AuditEntry, len(batch))
		for i := range batch {
			entries[i] = batch[i].e
		}
		ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
		for i := 0; i < len(batch); {
			t, j := batch[i].tenant, i+1
			for j < len(batch) && batch[j].tenant == t {
				j++
			}
			if err := a.store.AppendAudit(ctx, t, entries[i:j:j]); err != nil {
				a.logger.Error("scim: audit entries not stored", "tenant", t, "entries", j-i, "err", err)
			}
			i = j
		}
		cancel()
	}
}

// flush waits until the entries queued so far are written, or ctx ends.
func (a *auditQueue) flush(ctx context.Context) error {
	a.mu.Lock()
	done, running := a.done, a.running
	a.mu.Unlock()
	if !running {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
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

// Audit returns up to limit entries of tenant's audit log (after writing
// the entries still queued) with a time at
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
	if err := s.audit.flush(ctx); err != nil { // read what was recorded
		return nil, err
	}
	return ps.ListAudit(ctx, tenant, since, until, limit)
}
