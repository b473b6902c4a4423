package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scimkit/scimkit/storage"
)

// Delete removes the resource, its members and every membership naming
// it, and appends ev to the outbox, in one transaction, or returns
// [storage.ErrNotFound]. It is two round trips: the first locks the row
// (its version is the events'), the second deletes and commits.
func (s *Store) Delete(ctx context.Context, tenant string, kind storage.Kind, id string, ev ...storage.Event) error {
	err := retry(ctx, func() error {
		return s.tx(ctx, func(conn *pgxpool.Conn) error {
			var rid, version int64
			b := &pgx.Batch{}
			b.Queue("begin")
			s.queue(b, `SELECT rid, version FROM scimkit_resources
		WHERE tenant = $1 AND kind = $2 AND id = $3 FOR UPDATE`, tenant, string(kind), id)
			br := conn.SendBatch(ctx, b)
			_, err := br.Exec()
			if err == nil {
				err = br.QueryRow().Scan(&rid, &version)
			}
			if cerr := br.Close(); err == nil {
				err = cerr
			}
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("postgres: %s %q: %w", kind, id, storage.ErrNotFound)
			}
			if err != nil {
				return err
			}
			b = &pgx.Batch{}
			for _, q := range []string{
				`DELETE FROM scimkit_members WHERE member_rid = $1`,
				`DELETE FROM scimkit_members WHERE group_rid = $1`,
				`DELETE FROM scimkit_emails WHERE rid = $1`,
				`DELETE FROM scimkit_resources WHERE rid = $1`,
			} {
				s.queue(b, q, rid)
			}
			queueEvents(s, b, tenant, version, ev)
			b.Queue("commit")
			return conn.SendBatch(ctx, b).Close()
		})
	})
	if err != nil {
		return fmt.Errorf("postgres: delete %s %q: %w", kind, id, err)
	}
	return nil
}

// tx runs f, which begins a transaction on conn and commits it, on a
// connection of the pool; when f fails it rolls the transaction back
// (whatever its state: a failed statement leaves it aborted), and a
// connection that cannot roll back is closed, so the pool never hands
// out one inside a transaction.
func (s *Store) tx(ctx context.Context, f func(conn *pgxpool.Conn) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if err := f(conn); err != nil {
		if _, rerr := conn.Exec(context.WithoutCancel(ctx), "rollback"); rerr != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
		return err
	}
	return nil
}

// queueEvents adds the outbox inserts of evs at version v to b.
func queueEvents(s *Store, b *pgx.Batch, tenant string, v int64, evs []storage.Event) {
	for _, e := range evs {
		s.queue(b, `INSERT INTO scimkit_outbox
			(tenant, id, kind, resource_id, version, type, time, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			tenant, e.ID, string(e.Kind), e.ResourceID, v, e.Type, micros(e.Time), string(e.Data))
	}
}
