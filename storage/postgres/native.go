package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scimkit/scimkit/storage"
)

// The hot paths of an IdP's traffic (create, lookup, get, replace, member
// changes, pages, authentication, the audit log) run on pgx directly,
// without database/sql, and send each request's statements in as few
// round trips as they can: the statements of a write go in one pipeline
// (a pgx batch). A batch without BEGIN is one implicit transaction: the
// server runs its statements up to the batch's Sync as one atomic unit and
// rolls all of them back when one fails (PostgreSQL protocol, "Pipelining"
// and "Extended Query"). pgx prepares each statement text once per
// connection and reuses it. The rest of the contract runs on the shared
// SQL store (package sqlstore) through database/sql on the same pool.

// seatLimitCode is the SQLSTATE the function scimkit_take_seat (migration
// 5) raises when a tenant's seats are taken.
const seatLimitCode = "SK001"

// trace reports q to the statement hook, as the shared store does.
func (s *Store) trace(q string) string {
	if f := s.tracer.Load(); f != nil {
		(*f)(q)
	}
	return q
}

// classify maps err once: storage sentinels and context errors pass
// through, driver errors go to the dialect.
func classify(err error) (error, bool) {
	for _, e := range []error{storage.ErrNotFound, storage.ErrConflict, storage.ErrVersionMismatch,
		storage.ErrInvalidMember, storage.ErrSeatLimit, storage.ErrUnavailable, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return err, false
		}
	}
	if pe := pgError(err); pe != nil && pe.Code == seatLimitCode {
		return fmt.Errorf("postgres: %s: %w", pe.Message, storage.ErrSeatLimit), false
	}
	return dialect{}.Classify(err)
}

// readErr maps the error of a read.
func readErr(err error) error {
	if err == nil {
		return nil
	}
	mapped, retry := classify(err)
	if retry {
		return fmt.Errorf("postgres: %w: %w", storage.ErrUnavailable, err)
	}
	return mapped
}

// maxRetries bounds the retries of a transaction the server aborted
// (serialization failure, deadlock), as the shared store does.
const maxRetries = 20

// retry runs f, again when the server aborted it for a reason that
// retrying cures, and maps its error.
func retry(ctx context.Context, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		mapped, again := classify(err)
		if !again || attempt >= maxRetries || ctx.Err() != nil {
			if again {
				return fmt.Errorf("postgres: gave up after %d retries: %w: %w", attempt, storage.ErrUnavailable, err)
			}
			return mapped
		}
		// Jittered backoff, growing to about 50ms.
		d := time.Duration(1+min(attempt, 6)) * time.Duration(1+rand.IntN(8)) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

// batch sends b in one round trip as one implicit transaction and hands
// its results to read, which must consume them in order.
func (s *Store) batch(ctx context.Context, b *pgx.Batch, read func(br pgx.BatchResults) error) error {
	br := s.pool.SendBatch(ctx, b)
	err := read(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// pgError returns err's PostgreSQL error, or nil.
func pgError(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// queue adds q to b, traced.
func (s *Store) queue(b *pgx.Batch, q string, args ...any) {
	b.Queue(s.trace(q), args...)
}
