package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// The dispatcher's claim and acknowledgement run on pgx, each one
// statement and one round trip (a claim is atomic on its own: it needs no
// BEGIN and COMMIT around it).

// ClaimEvents leases the oldest undelivered, due, unleased event of each
// resource, up to c.Limit, in Seq order (see [storage.Outbox]). The
// candidates are locked FOR UPDATE SKIP LOCKED, so dispatchers claiming
// at once, in any number of instances, take disjoint batches without
// waiting on each other.
func (s *Store) ClaimEvents(ctx context.Context, c storage.Claim) ([]storage.Event, error) {
	now := micros(c.Now)
	var out []storage.Event
	err := retry(ctx, func() error {
		out = out[:0]
		rows, err := s.pool.Query(ctx, s.trace(`UPDATE scimkit_outbox SET lease_until = $1, lease_owner = $2
			WHERE seq IN (SELECT o.seq FROM scimkit_outbox o
				WHERE o.delivered IS NULL AND o.next_at <= $3 AND o.lease_until <= $4
				AND NOT EXISTS (SELECT 1 FROM scimkit_outbox p WHERE p.tenant = o.tenant AND p.kind = o.kind
					AND p.resource_id = o.resource_id AND p.delivered IS NULL AND p.seq < o.seq)
				ORDER BY o.seq LIMIT $5 FOR UPDATE SKIP LOCKED)
			RETURNING seq, tenant, id, kind, resource_id, version, type, time, data, attempts`),
			micros(c.Now.Add(c.Lease)), c.Owner, now, now, max(c.Limit, 1))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e          storage.Event
				kind, data string
				at         int64
				attempts   int32
			)
			if err := rows.Scan(&e.Seq, &e.Tenant, &e.ID, &kind, &e.ResourceID, &e.Version, &e.Type, &at, &data, &attempts); err != nil {
				return err
			}
			e.Kind, e.Time, e.Data, e.Attempts = storage.Kind(kind), fromMicros(at), []byte(data), int(attempts)
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim events: %w", err)
	}
	slices.SortFunc(out, func(a, b storage.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// AckEvent marks the event delivered at at. Acknowledgements that
// arrive while another is being written are written together, in one
// statement, by the next of their callers (a dispatcher acknowledges the
// events of a batch from several workers at once); each call returns
// once its own acknowledgement is committed.
func (s *Store) AckEvent(ctx context.Context, seq int64, at time.Time) error {
	if err := s.acks.ack(ctx, s, seq, micros(at)); err != nil {
		return fmt.Errorf("postgres: ack event %d: %w", seq, err)
	}
	return nil
}

// acks combines concurrent acknowledgements: the first caller writes
// the pending ones; a caller arriving meanwhile waits, and the first of
// the waiters writes the next batch (so no caller waits for more than
// the batch in flight and its own).
type acks struct {
	mu      sync.Mutex
	pending []*ackReq
	writing bool
}

type ackReq struct {
	seq, at int64
	// done receives the outcome, or errLead when the caller is to write
	// the next batch.
	done chan error
}

// errLead hands the writing of the pending batch to a waiting caller.
var errLead = errors.New("postgres: write the pending acknowledgements")

func (a *acks) ack(ctx context.Context, s *Store, seq, at int64) error {
	r := &ackReq{seq: seq, at: at, done: make(chan error, 1)}
	a.mu.Lock()
	a.pending = append(a.pending, r)
	lead := !a.writing
	a.writing = true
	a.mu.Unlock()
	if !lead {
		if err := <-r.done; err != errLead {
			return err
		}
	}
	a.mu.Lock()
	batch := a.pending
	a.pending = nil
	a.mu.Unlock()
	seqs, ats := make([]int64, len(batch)), make([]int64, len(batch))
	for i, b := range batch {
		seqs[i], ats[i] = b.seq, b.at
	}
	// The batch is the waiters' too: one caller's cancellation must not
	// fail it.
	ctx = context.WithoutCancel(ctx)
	err := retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, s.trace(`UPDATE scimkit_outbox o SET delivered = x.at, lease_until = 0, lease_owner = ''
			FROM unnest($1::bigint[], $2::bigint[]) AS x(seq, at) WHERE o.seq = x.seq AND o.delivered IS NULL`), seqs, ats)
		return err
	})
	for _, b := range batch {
		if b != r {
			b.done <- err
		}
	}
	a.mu.Lock()
	if len(a.pending) > 0 {
		a.pending[0].done <- errLead
	} else {
		a.writing = false
	}
	a.mu.Unlock()
	return err
}
