package storage

import (
	"context"
	"time"
)

// Event is one row of the transactional outbox: a change to a resource,
// recorded in the same atomic step as the change itself (the events passed
// to Create, Replace, Delete and in MemberChange.Events), so that an event
// exists if and only if its change committed. The payload is opaque to
// backends; package provisioning defines it.
type Event struct {
	// Seq orders events: set by the backend on append, unique across
	// the store and increasing in commit order for the events of one
	// resource (across resources, concurrent transactions may commit
	// out of Seq order). It is the handle of AckEvent and RetryEvent.
	Seq int64
	// ID is the event's stable, unique id, set by the caller (a consumer
	// deduplicates by it).
	ID string
	// Tenant owns the event; set by the backend on the way out.
	Tenant string
	// Kind and ResourceID name the resource the event is about.
	Kind       Kind
	ResourceID string
	// Version is the resource's version after the change (for a
	// deletion, the version it had), set by the backend.
	Version int64
	// Type is the event type (package provisioning's EventType).
	Type string
	// Time is when the change was made.
	Time time.Time
	// Data is the payload, stored verbatim.
	Data []byte
	// Attempts counts the failed deliveries so far (set by the backend).
	Attempts int
}

// Claim asks [Outbox.ClaimEvents] for a batch of events to deliver.
type Claim struct {
	// Owner names the claiming dispatcher (unique per process).
	Owner string
	// Limit bounds the batch; values below 1 mean 1.
	Limit int
	// Now is the claimer's clock: events whose lease or back-off ends
	// after it are not claimable. Dispatchers sharing a store need
	// synchronised clocks (well within Lease).
	Now time.Time
	// Lease is how long the claimed events stay reserved to Owner; after
	// it another dispatcher may claim them again (Owner crashed).
	Lease time.Duration
}

// Outbox stores the events appended by writes until a dispatcher has
// delivered them. Delivery is at least once and in order per resource:
// ClaimEvents hands out only the oldest undelivered event of each
// resource (by Seq), and only when no lease on it is running, so a
// failing event holds back the later events of its resource and of no
// other. Implementations must be safe for concurrent use; a backend shared
// by several processes (PostgreSQL) must also let several dispatchers
// claim at once without handing one event to two live leases.
type Outbox interface {
	// ListEvents returns the tenant's events, delivered or not, with
	// Seq > after, in Seq order, at most limit (values below 1 mean 100).
	// It is for inspection (an admin view, tests); consumers use
	// ClaimEvents, since a Seq cursor may pass an event whose
	// transaction commits later with a lower Seq.
	ListEvents(ctx context.Context, tenant string, after int64, limit int) ([]Event, error)
	// ClaimEvents leases up to c.Limit events to c.Owner until
	// c.Now+c.Lease and returns them in Seq order: for each resource its
	// oldest undelivered event, when that event's back-off has ended and
	// it carries no unexpired lease.
	ClaimEvents(ctx context.Context, c Claim) ([]Event, error)
	// AckEvent marks the event delivered at at (and frees its lease);
	// its resource's next event becomes claimable. An absent or already
	// delivered event is not an error.
	AckEvent(ctx context.Context, seq int64, at time.Time) error
	// RetryEvent records a failed delivery: it frees the lease, counts
	// the attempt and makes the event claimable again from at on.
	// An absent or delivered event is not an error.
	RetryEvent(ctx context.Context, seq int64, at time.Time) error
	// PruneEvents deletes the events delivered before before and returns
	// how many it deleted.
	PruneEvents(ctx context.Context, before time.Time) (int, error)
}
