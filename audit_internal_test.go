package scimkit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// auditRecorder is a storage.AuditLog that records what it is given.
type auditRecorder struct {
	mu    sync.Mutex
	calls int
	by    map[string][]string // operations by tenant, in the order stored
}

func (a *auditRecorder) AppendAudit(_ context.Context, tenant string, es []storage.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	for _, e := range es {
		a.by[tenant] = append(a.by[tenant], e.Operation)
	}
	return nil
}

func (a *auditRecorder) ListAudit(context.Context, string, time.Time, time.Time, int) ([]storage.AuditEntry, error) {
	return nil, nil
}

func (a *auditRecorder) PruneAudit(context.Context, time.Time) (int, error) { return 0, nil }

// TestAuditQueueGroupsTenants: the writer stores a batch with one call per
// tenant, each tenant's entries in the order they were added, however
// the tenants interleave.
func TestAuditQueueGroupsTenants(t *testing.T) {
	rec := &auditRecorder{by: map[string][]string{}}
	q := &auditQueue{store: rec, logger: slog.New(slog.DiscardHandler)}
	want := map[string][]string{}
	q.mu.Lock() // queue everything before the writer starts
	for i := range 300 {
		tenant := fmt.Sprintf("t%d", i*7%5)
		op := fmt.Sprintf("op%03d", i)
		q.queue = append(q.queue, queuedAudit{tenant, storage.AuditEntry{Operation: op}})
		want[tenant] = append(want[tenant], op)
	}
	q.running, q.done = true, make(chan struct{})
	go q.drain(q.done)
	q.mu.Unlock()
	require.NoError(t, q.flush(context.Background()))
	assert.Equal(t, want, rec.by)
	assert.Equal(t, 5, rec.calls, "one call per tenant of the batch")
}
