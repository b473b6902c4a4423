package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// The outbox is the table scimkit_outbox (migration 3): one row per event,
// seq from an identity (PostgreSQL) or AUTOINCREMENT (SQLite) column, the
// lease (lease_until, in microseconds; 0 none), the back-off end (next_at)
// and delivered (NULL until acknowledged). A row is inserted after the
// change's own statements in the same transaction: the resource's row is
// locked by then, so the events of one resource get increasing seqs in
// commit order.

// appendEvents inserts evs for tenant at resource version v.
func (s *Store) appendEvents(ctx context.Context, tx Tx, tenant string, v int64, evs []storage.Event) error {
	for _, e := range evs {
		if _, err := tx.ExecContext(ctx, s.sql(`INSERT INTO scimkit_outbox
			(tenant, id, kind, resource_id, version, type, time, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			tenant, e.ID, string(e.Kind), e.ResourceID, v, e.Type, micros(e.Time), string(e.Data)); err != nil {
			return err
		}
	}
	return nil
}

const eventColumns = "seq, tenant, id, kind, resource_id, version, type, time, data, attempts"

func scanEvent(sc interface{ Scan(...any) error }) (storage.Event, error) {
	var (
		e          storage.Event
		kind, data string
		at         int64
	)
	if err := sc.Scan(&e.Seq, &e.Tenant, &e.ID, &kind, &e.ResourceID, &e.Version, &e.Type, &at, &data, &e.Attempts); err != nil {
		return e, err
	}
	e.Kind, e.Time, e.Data = storage.Kind(kind), fromMicros(at), []byte(data)
	return e, nil
}

// ListEvents returns the tenant's events with seq > after, in seq order.
func (s *Store) ListEvents(ctx context.Context, tenant string, after int64, limit int) ([]storage.Event, error) {
	if limit < 1 {
		limit = 100
	}
	rows, err := s.query(ctx, `SELECT `+eventColumns+` FROM scimkit_outbox
		WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT ?`, tenant, after, limit)
	if err != nil {
		return nil, s.read(err)
	}
	defer rows.Close()
	var out []storage.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, s.read(err)
		}
		out = append(out, e)
	}
	return out, s.read(rows.Err())
}

// ClaimEvents leases, in one statement, the oldest undelivered event of
// each resource that is due and not leased. On PostgreSQL the candidate
// rows are locked FOR UPDATE SKIP LOCKED, so dispatchers claiming at once
// take disjoint batches without waiting on each other; a later event of a
// resource is never a candidate while an older one is undelivered, leased
// or not.
func (s *Store) ClaimEvents(ctx context.Context, c storage.Claim) ([]storage.Event, error) {
	lock := s.d.ForUpdate()
	if lock != "" {
		lock += " SKIP LOCKED"
	}
	now := micros(c.Now)
	var out []storage.Event
	err := s.write(ctx, func(tx Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, s.sql(`UPDATE scimkit_outbox SET lease_until = ?, lease_owner = ?
			WHERE seq IN (SELECT o.seq FROM scimkit_outbox o
				WHERE o.delivered IS NULL AND o.next_at <= ? AND o.lease_until <= ?
				AND NOT EXISTS (SELECT 1 FROM scimkit_outbox p WHERE p.tenant = o.tenant AND p.kind = o.kind
					AND p.resource_id = o.resource_id AND p.delivered IS NULL AND p.seq < o.seq)
				ORDER BY o.seq`+s.limit()+lock+`)
			RETURNING `+eventColumns),
			micros(c.Now.Add(c.Lease)), c.Owner, now, now, max(c.Limit, 1))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("%s: claim events: %w", s.d.Name(), err)
	}
	slices.SortFunc(out, func(a, b storage.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// AckEvent marks the event delivered.
func (s *Store) AckEvent(ctx context.Context, seq int64, at time.Time) error {
	err := s.single(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, s.sql(`UPDATE scimkit_outbox SET delivered = ?, lease_until = 0, lease_owner = ''
			WHERE seq = ? AND delivered IS NULL`), micros(at), seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: ack event %d: %w", s.d.Name(), seq, err)
	}
	return nil
}

// RetryEvent frees the lease, counts the attempt and defers the event.
func (s *Store) RetryEvent(ctx context.Context, seq int64, at time.Time) error {
	err := s.single(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, s.sql(`UPDATE scimkit_outbox SET attempts = attempts + 1, next_at = ?, lease_until = 0, lease_owner = ''
			WHERE seq = ? AND delivered IS NULL`), micros(at), seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: retry event %d: %w", s.d.Name(), seq, err)
	}
	return nil
}

// PruneEvents deletes the events delivered before before.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.single(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, s.sql(`DELETE FROM scimkit_outbox WHERE delivered IS NOT NULL AND delivered < ?`), micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%s: prune events: %w", s.d.Name(), err)
	}
	return int(n), nil
}
