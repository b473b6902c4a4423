package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// The methods below are the [storage.Store] contract; see package storage
// for what each must return. They run on the shared SQL store of package
// sqlstore, which the Store wraps (a field no caller can reach).

// ListMembers returns the group's members in insertion order, or
// [storage.ErrNotFound].
func (s *Store) ListMembers(ctx context.Context, tenant, groupID string) ([]storage.Member, error) {
	return s.sql.ListMembers(ctx, tenant, groupID)
}

// CreateCredential stores a new API credential with the hash of its
// token; errors are those of [storage.Credentials] ([storage.ErrConflict]
// on a used id or hash).
func (s *Store) CreateCredential(ctx context.Context, tenant string, c storage.Credential, hash []byte) error {
	return s.sql.CreateCredential(ctx, tenant, c, hash)
}

// ListCredentials returns the tenant's credentials ordered by Created,
// then ID, never their hashes.
func (s *Store) ListCredentials(ctx context.Context, tenant string) ([]storage.Credential, error) {
	return s.sql.ListCredentials(ctx, tenant)
}

// ExpireCredential sets the credential's expiry to at unless it already
// expires earlier; [storage.ErrNotFound] when absent.
func (s *Store) ExpireCredential(ctx context.Context, tenant, id string, at time.Time) error {
	return s.sql.ExpireCredential(ctx, tenant, id, at)
}

// RevokeCredential deletes the credential, or returns [storage.ErrNotFound].
func (s *Store) RevokeCredential(ctx context.Context, tenant, id string) error {
	return s.sql.RevokeCredential(ctx, tenant, id)
}

// TouchCredential records a use of the credential at at, keeping the
// latest time; a missing credential is not an error.
func (s *Store) TouchCredential(ctx context.Context, tenant, id string, at time.Time) error {
	return s.sql.TouchCredential(ctx, tenant, id, at)
}

// ListEvents returns the tenant's outbox events with Seq > after, in Seq
// order, at most limit (below 1: 100).
func (s *Store) ListEvents(ctx context.Context, tenant string, after int64, limit int) ([]storage.Event, error) {
	return s.sql.ListEvents(ctx, tenant, after, limit)
}

// RetryEvent records a failed delivery; the event is due again at at.
func (s *Store) RetryEvent(ctx context.Context, seq int64, at time.Time) error {
	return s.sql.RetryEvent(ctx, seq, at)
}

// PruneEvents deletes the events delivered before before and returns how
// many.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	return s.sql.PruneEvents(ctx, before)
}

// DB returns the database handle the store runs on (a database/sql view of the pool given to [New]).
func (s *Store) DB() *sql.DB { return s.sql.DB() }

// Trace makes f see the text of every statement the store runs from now
// on (nil stops it), for tests and debugging. Statements carry values as
// bound parameters, so f never sees a token hash or an attribute value.
func (s *Store) Trace(f func(query string)) {
	if f == nil {
		s.tracer.Store(nil)
	} else {
		s.tracer.Store(&f)
	}
	s.sql.Trace(f)
}

// Migrate brings the schema to the newest version; [New] already did.
// Each numbered step runs once, under a lock, so running it again or
// from several processes at once is safe.
func (s *Store) Migrate(ctx context.Context) error { return s.sql.Migrate(ctx) }

// Version returns the schema version the database is at (the number of
// migration steps applied).
func (s *Store) Version(ctx context.Context) (int, error) { return s.sql.Version(ctx) }
