package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// outbox holds the events of every tenant in Seq order. It is guarded by
// the Store's outMu, which a write takes inside its tenant's lock, so an
// event is appended in the same critical section as its change.
type outbox struct {
	seq    int64
	events []*outEvent
	// head is a lower bound of the index of the first undelivered
	// event, so claims skip the delivered prefix kept for retention.
	head int
}

type outEvent struct {
	ev        storage.Event
	delivered time.Time // zero: not yet
	leased    time.Time // lease end; zero: none
	next      time.Time // back-off end
}

// appendEvents appends copies of evs for tenant at the resource version v.
// Callers hold the tenant's write lock.
func (s *Store) appendEvents(tenant string, v int64, evs []storage.Event) {
	if len(evs) == 0 {
		return
	}
	s.outMu.Lock()
	defer s.outMu.Unlock()
	for _, e := range evs {
		s.out.seq++
		e.Seq, e.Tenant, e.Version, e.Attempts = s.out.seq, tenant, v, 0
		e.Data = slices.Clone(e.Data)
		s.out.events = append(s.out.events, &outEvent{ev: e})
	}
}

func (o *outEvent) copy() storage.Event {
	e := o.ev
	e.Data = slices.Clone(e.Data)
	return e
}

// ListEvents returns the tenant's events with Seq > after, in Seq order.
func (s *Store) ListEvents(_ context.Context, tenant string, after int64, limit int) ([]storage.Event, error) {
	if limit < 1 {
		limit = 100
	}
	var out []storage.Event
	err := s.outTx(func() error {
		i, _ := slices.BinarySearchFunc(s.out.events, after+1, func(o *outEvent, seq int64) int { return cmp.Compare(o.ev.Seq, seq) })
		for _, o := range s.out.events[i:] {
			if len(out) == limit {
				break
			}
			if o.ev.Tenant == tenant {
				out = append(out, o.copy())
			}
		}
		return nil
	})
	return out, err
}

type resourceKey struct {
	tenant string
	kind   storage.Kind
	id     string
}

// ClaimEvents leases the oldest undelivered event of each resource whose
// back-off has ended and which no unexpired lease holds, up to c.Limit.
func (s *Store) ClaimEvents(_ context.Context, c storage.Claim) ([]storage.Event, error) {
	limit := max(c.Limit, 1)
	var out []storage.Event
	err := s.outTx(func() error {
		blocked := make(map[resourceKey]bool)
		for s.out.head < len(s.out.events) && !s.out.events[s.out.head].delivered.IsZero() {
			s.out.head++
		}
		for _, o := range s.out.events[s.out.head:] {
			if len(out) == limit {
				break
			}
			if !o.delivered.IsZero() {
				continue
			}
			k := resourceKey{o.ev.Tenant, o.ev.Kind, o.ev.ResourceID}
			if blocked[k] {
				continue
			}
			blocked[k] = true
			if o.next.After(c.Now) || o.leased.After(c.Now) {
				continue
			}
			o.leased = c.Now.Add(c.Lease)
			out = append(out, o.copy())
		}
		return nil
	})
	return out, err
}

// outTx runs f holding outMu.
func (s *Store) outTx(f func() error) error {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	return f()
}

// find returns the event with seq, or nil. Callers hold outMu.
func (s *Store) find(seq int64) *outEvent {
	i, ok := slices.BinarySearchFunc(s.out.events, seq, func(o *outEvent, seq int64) int { return cmp.Compare(o.ev.Seq, seq) })
	if !ok {
		return nil
	}
	return s.out.events[i]
}

// AckEvent marks the event delivered.
func (s *Store) AckEvent(_ context.Context, seq int64, at time.Time) error {
	return s.outTx(func() error {
		if o := s.find(seq); o != nil && o.delivered.IsZero() {
			o.delivered, o.leased = at, time.Time{}
		}
		return nil
	})
}

// RetryEvent frees the event's lease, counts the attempt and defers the
// next one to at.
func (s *Store) RetryEvent(_ context.Context, seq int64, at time.Time) error {
	return s.outTx(func() error {
		if o := s.find(seq); o != nil && o.delivered.IsZero() {
			o.leased, o.next = time.Time{}, at
			o.ev.Attempts++
		}
		return nil
	})
}

// PruneEvents deletes the events delivered before before.
func (s *Store) PruneEvents(_ context.Context, before time.Time) (int, error) {
	n := 0
	err := s.outTx(func() error {
		kept := s.out.events[:0]
		for _, o := range s.out.events {
			if !o.delivered.IsZero() && o.delivered.Before(before) {
				n++
				continue
			}
			kept = append(kept, o)
		}
		clear(s.out.events[len(kept):])
		s.out.events = kept
		s.out.head = 0
		return nil
	})
	return n, err
}

// dropTenantEvents removes every event of tenant. Callers hold the write
// lock.
func (s *Store) dropTenantEvents(tenant string) {
	kept := s.out.events[:0]
	for _, o := range s.out.events {
		if o.ev.Tenant != tenant {
			kept = append(kept, o)
		}
	}
	clear(s.out.events[len(kept):])
	s.out.events = kept
	s.out.head = 0
}
