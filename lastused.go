package scimkit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// LastUsedResolution is how precisely a [Server] records when a credential
// was last used ([storage.Credential.LastUsed]): a credential's use is
// written at most about once per LastUsedResolution, in the background,
// so a stored LastUsed trails the real last use by less than this (until
// [Server.Flush] writes the rest). Authentication never waits for the
// write.
const LastUsedResolution = time.Minute

// touchTimeout bounds one batch of last-use writes.
const touchTimeout = 10 * time.Second

// credKey names a credential.
type credKey struct{ tenant, id string }

// useState is what a usage tracker knows of one credential's uses.
type useState struct {
	// written is the latest use stored or being stored.
	written time.Time
	// pending is a later use not yet written (zero: none).
	pending time.Time
}

// usage coalesces the last-use writes of credentials: at most one write
// per credential per LastUsedResolution, done by one short-lived
// goroutine that exits when nothing is queued. It is safe for concurrent
// use.
type usage struct {
	store  storage.Credentials
	logger *slog.Logger

	mu      sync.Mutex           // guards the fields below
	seen    map[credKey]useState // credentials used in the last resolution period
	queue   map[credKey]time.Time
	swept   time.Time     // when seen was last swept
	running bool          // a writer goroutine is draining queue
	done    chan struct{} // closed when that writer exits
}

func newUsage(store storage.Credentials, logger *slog.Logger) *usage {
	return &usage{store: store, logger: logger, seen: make(map[credKey]useState), queue: make(map[credKey]time.Time)}
}

// record notes that c authenticated a request at now. c.LastUsed is what
// the store held when c was read.
func (u *usage) record(c storage.Credential, now time.Time) {
	k := credKey{c.Tenant, c.ID}
	u.mu.Lock()
	defer u.mu.Unlock()
	st := u.seen[k]
	if c.LastUsed.After(st.written) {
		st.written = c.LastUsed
	}
	switch {
	case now.Sub(st.written) >= LastUsedResolution:
		st = useState{written: now}
		u.enqueue(k, now)
	case now.After(st.written) && now.After(st.pending):
		st.pending = now
	}
	u.seen[k] = st
	if now.Sub(u.swept) >= LastUsedResolution {
		u.sweep(now)
	}
}

// sweep forgets the credentials whose last write is a resolution period
// old, queueing the uses not written yet. It runs at most once per
// period, so seen holds only recently used credentials. The caller holds
// mu.
func (u *usage) sweep(now time.Time) {
	u.swept = now
	for k, st := range u.seen {
		if now.Sub(st.written) < LastUsedResolution {
			continue
		}
		if !st.pending.IsZero() {
			u.enqueue(k, st.pending)
		}
		delete(u.seen, k)
	}
}

// enqueue queues a write of at and starts the writer if needed. The
// caller holds mu.
func (u *usage) enqueue(k credKey, at time.Time) {
	if at.After(u.queue[k]) {
		u.queue[k] = at
	}
	if !u.running {
		u.running = true
		u.done = make(chan struct{})
		go u.drain(u.done)
	}
}

// drain writes queued uses until the queue is empty. A failed write is
// logged and dropped: last use is best effort.
func (u *usage) drain(done chan struct{}) {
	defer close(done)
	for {
		u.mu.Lock()
		batch := u.queue
		if len(batch) == 0 {
			u.running = false
			u.mu.Unlock()
			return
		}
		u.queue = make(map[credKey]time.Time)
		u.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), touchTimeout)
		for k, at := range batch {
			if err := u.store.TouchCredential(ctx, k.tenant, k.id, at); err != nil {
				u.logger.Warn("scim: recording a credential's last use failed", "tenant", k.tenant, "credential", k.id, "err", err)
			}
		}
		cancel()
	}
}

// flush queues every use not written yet and waits until the writer has
// stored them, or ctx ends.
func (u *usage) flush(ctx context.Context) error {
	u.mu.Lock()
	for k, st := range u.seen {
		if !st.pending.IsZero() {
			u.enqueue(k, st.pending)
			st.written, st.pending = st.pending, time.Time{}
			u.seen[k] = st
		}
	}
	done, running := u.done, u.running
	u.mu.Unlock()
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

// Flush writes the credential uses not recorded yet (see
// [LastUsedResolution]) and waits for the writes in flight, or until ctx
// ends. Call it on shutdown, after the HTTP server has stopped serving
// (http.Server.Shutdown), so the stored last use is exact; tests call it
// before closing a store. The Server stays usable. Without Flush, the
// last minute of uses may not be recorded, and a write may still run
// briefly after the last request.
//
// Flush also waits for the audit entries queued so far to be written.
func (s *Server) Flush(ctx context.Context) error {
	if s.audit != nil {
		if err := s.audit.flush(ctx); err != nil {
			return err
		}
	}
	return s.used.flush(ctx)
}
