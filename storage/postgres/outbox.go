package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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

// AckEvent marks the event delivered at at.
func (s *Store) AckEvent(ctx context.Context, seq int64, at time.Time) error {
	err := retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, s.trace(`UPDATE scimkit_outbox SET delivered = $1, lease_until = 0, lease_owner = ''
			WHERE seq = $2 AND delivered IS NULL`), micros(at), seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: ack event %d: %w", seq, err)
	}
	return nil
}
