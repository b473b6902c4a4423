package provisioning

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// Dispatcher delivers the events of an outbox (scimkit.WithOutbox) to a
// [Handler]: at least once, in order per resource, retrying a failed event
// with exponential back-off while the events of other resources flow on.
//
// It claims batches of events with a lease (see [storage.Outbox]); each
// batch holds at most one event per resource, and its events are handled
// concurrently (up to [WithWorkers]). A handler runs with a deadline inside
// the lease, so while it runs no other dispatcher can take its event: run
// as many dispatchers as you like on PostgreSQL (one per process is
// usual); on SQLite and the memory store, run one per store. When a
// process dies mid-handler, its events are delivered again once their
// lease expires.
//
// Delivered events are kept for [WithRetention] (default 24 h), then
// pruned by Run.
type Dispatcher struct {
	out storage.Outbox
	h   Handler
	cfg dispatcherConfig
}

type dispatcherConfig struct {
	owner               string
	batch, workers      int
	lease, poll         time.Duration
	minDelay, maxDelay  time.Duration
	retention, pruneGap time.Duration
	now                 func() time.Time
	logger              *slog.Logger
}

// DispatcherOption configures a [Dispatcher]. Only this package creates
// them.
type DispatcherOption interface {
	apply(*dispatcherConfig) error
}

type dispatcherOption func(*dispatcherConfig) error

func (f dispatcherOption) apply(c *dispatcherConfig) error { return f(c) }

// WithBatch sets how many events one claim takes (default 64, at least 1).
func WithBatch(n int) DispatcherOption {
	return dispatcherOption(func(c *dispatcherConfig) error {
		if n < 1 {
			return fmt.Errorf("provisioning: batch %d must be at least 1", n)
		}
		c.batch = n
		return nil
	})
}

// WithWorkers sets how many events of a batch are handled at once
// (default 8, at least 1). They are always of distinct resources.
func WithWorkers(n int) DispatcherOption {
	return dispatcherOption(func(c *dispatcherConfig) error {
		if n < 1 {
			return fmt.Errorf("provisioning: workers %d must be at least 1", n)
		}
		c.workers = n
		return nil
	})
}

// WithLease sets how long a claimed event is reserved to this dispatcher
// (default 1 minute, at least 1 s). A handler gets a deadline of 90% of
// it; an event whose dispatcher died is delivered again after it.
func WithLease(d time.Duration) DispatcherOption {
	return dispatcherOption(func(c *dispatcherConfig) error {
		if d < time.Second {
			return fmt.Errorf("provisioning: lease %v must be at least 1s", d)
		}
		c.lease = d
		return nil
	})
}

// WithPollInterval sets how long Run waits after finding no due event
// (default 1 s, positive).
func WithPollInterval(d time.Duration) DispatcherOption {
	return dispatcherOption(func(c *dispatcherConfig) error {
		if d <= 0 {
			return fmt.Errorf("provisioning: poll interval %v must be positive", d)
		}
		c.poll = d
		return nil
	})
}

// WithBackoff sets the delay before retrying a failed event: min after the
// first failure, doubling with each further one up to max, with jitter
// (default 1 s to 5 min).
func WithBackoff(min, max time.Duration) DispatcherOption {
	return dispatcherOption(func(c *dispatcherConfig) error {
		if min <= 0 || max < min {
			return fmt.Errorf("provisioning: back-off %v..%v must be positive and ordered", min, max)
		}
		c.minDelay, c.maxDelay = min, max
		return nil
	})
}

// WithRetention sets how long delivered events are kept before Run prunes
// them (default 24 h; 0 prunes them at once).
func WithRetention(d time.Duration) DispatcherOption {
	return dispatcherOption(func(c *dispatcherConfig) error {
		if d < 0 {
			return fmt.Errorf("provisioning: retention %v must not be negative", d)
		}
		c.retention = d
		return nil
	})
}

// WithOwner names the dispatcher in the leases it takes (default: random,
// unique per Dispatcher). Two live dispatchers must not share a name.
func WithOwner(name string) DispatcherOption {
	return dispatcherOption(func(c *dispatcherConfig) error {
		if name == "" {
			return errors.New("provisioning: empty owner")
		}
		c.owner = name
		return nil
	})
}

// WithDispatcherClock sets the clock of leases and back-offs (default
// time.Now). Dispatchers sharing a store need clocks in step (well within
// the lease).
func WithDispatcherClock(now func() time.Time) DispatcherOption {
	return dispatcherOption(func(c *dispatcherConfig) error {
		if now == nil {
			return errors.New("provisioning: nil clock")
		}
		c.now = now
		return nil
	})
}

// WithDispatcherLogger sets where failed deliveries and store errors are
// logged (default: discarded).
func WithDispatcherLogger(l *slog.Logger) DispatcherOption {
	return dispatcherOption(func(c *dispatcherConfig) error {
		if l == nil {
			return errors.New("provisioning: nil logger")
		}
		c.logger = l
		return nil
	})
}

// NewDispatcher returns a Dispatcher delivering the events of out to h.
// It returns an error when out or h is nil or an option is invalid.
func NewDispatcher(out storage.Outbox, h Handler, opts ...DispatcherOption) (*Dispatcher, error) {
	if out == nil || h == nil {
		return nil, errors.New("provisioning: NewDispatcher needs an outbox and a handler")
	}
	var id [8]byte
	_, _ = crand.Read(id[:])
	cfg := dispatcherConfig{
		owner: "dispatcher-" + hex.EncodeToString(id[:]),
		batch: 64, workers: 8,
		lease: time.Minute, poll: time.Second,
		minDelay: time.Second, maxDelay: 5 * time.Minute,
		retention: 24 * time.Hour, pruneGap: time.Minute,
		now:    time.Now,
		logger: slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	return &Dispatcher{out: out, h: h, cfg: cfg}, nil
}

// Run delivers events until ctx is cancelled, then returns nil after the
// handlers it started have returned. Store errors are logged and retried
// after the poll interval. Run may be called by several goroutines (or
// processes, on PostgreSQL) at once.
func (d *Dispatcher) Run(ctx context.Context) error {
	var pruned time.Time
	for ctx.Err() == nil {
		n, err := d.Deliver(ctx)
		if err != nil && ctx.Err() == nil {
			d.cfg.logger.ErrorContext(ctx, "provisioning: claim events", "err", err)
		}
		if now := d.cfg.now(); now.Sub(pruned) >= d.cfg.pruneGap {
			pruned = now
			if _, err := d.out.PruneEvents(ctx, now.Add(-d.cfg.retention)); err != nil && ctx.Err() == nil {
				d.cfg.logger.ErrorContext(ctx, "provisioning: prune events", "err", err)
			}
		}
		if n > 0 && err == nil {
			continue
		}
		t := time.NewTimer(d.cfg.poll)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return nil
}

// Deliver claims one batch of due events and handles it: acknowledging
// each event its handler accepted, scheduling a retry of each it refused.
// It returns how many events it claimed. Run calls it in a loop; tests
// and batch jobs may call it directly.
func (d *Dispatcher) Deliver(ctx context.Context) (int, error) {
	recs, err := d.out.ClaimEvents(ctx, storage.Claim{Owner: d.cfg.owner, Limit: d.cfg.batch, Now: d.cfg.now(), Lease: d.cfg.lease})
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, d.cfg.workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, r := range recs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := d.deliver(ctx, r); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(recs), errors.Join(errs...)
}

// deliver hands one event to the handler and records the outcome. The
// outcome is recorded even when ctx is cancelled: an unrecorded success
// would be delivered again, an unrecorded failure only after the lease.
func (d *Dispatcher) deliver(ctx context.Context, r storage.Event) error {
	rec := context.WithoutCancel(ctx)
	e, err := FromRecord(r)
	if err == nil {
		hctx, cancel := context.WithTimeout(ctx, d.cfg.lease*9/10)
		err = d.call(hctx, e)
		cancel()
	}
	if err == nil {
		return d.out.AckEvent(rec, r.Seq, d.cfg.now())
	}
	delay := d.delay(r.Attempts)
	d.cfg.logger.WarnContext(ctx, "provisioning: event delivery failed", "event", r.ID, "type", r.Type,
		"tenant", r.Tenant, "resource", r.ResourceID, "attempt", r.Attempts+1, "retry_in", delay, "err", err)
	return d.out.RetryEvent(rec, r.Seq, d.cfg.now().Add(delay))
}

// call runs the handler, turning a panic into an error.
func (d *Dispatcher) call(ctx context.Context, e Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("provisioning: handler panicked: %v", p)
		}
	}()
	return d.h(ctx, e)
}

// delay returns the back-off after the failure numbered attempts+1: min
// doubled attempts times, capped at max, with up to 25% jitter.
func (d *Dispatcher) delay(attempts int) time.Duration {
	delay := d.cfg.minDelay
	for range min(attempts, 40) {
		if delay >= d.cfg.maxDelay/2 {
			delay = d.cfg.maxDelay
			break
		}
		delay *= 2
	}
	delay = min(delay, d.cfg.maxDelay)
	return delay - time.Duration(rand.Int64N(int64(delay)/4+1))
}
