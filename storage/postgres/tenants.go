package postgres

import (
	"context"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// The methods below are the [storage.Tenants], [storage.UserStates] and
// [storage.AuditLog] contracts, forwarded to the wrapped SQL store.

// PutTenant stores ts if ts.Version is the stored version (0: none
// stored), else it returns [storage.ErrVersionMismatch].
func (s *Store) PutTenant(ctx context.Context, tenant string, ts *storage.TenantSettings) error {
	return s.sql.PutTenant(ctx, tenant, ts)
}

// DeleteTenant removes everything of the tenant in one transaction.
func (s *Store) DeleteTenant(ctx context.Context, tenant string) error {
	return s.sql.DeleteTenant(ctx, tenant)
}

// PutUserState stores st, replacing the user's previous state.
func (s *Store) PutUserState(ctx context.Context, tenant string, st storage.UserState, ev ...storage.Event) error {
	return s.sql.PutUserState(ctx, tenant, st, ev...)
}

// GetUserState returns the user's state, or [storage.ErrNotFound].
func (s *Store) GetUserState(ctx context.Context, tenant, id string) (storage.UserState, error) {
	return s.sql.GetUserState(ctx, tenant, id)
}

// DeleteUserState removes the user's state; none is not an error.
func (s *Store) DeleteUserState(ctx context.Context, tenant, id string, ev ...storage.Event) error {
	return s.sql.DeleteUserState(ctx, tenant, id, ev...)
}

// ListUserStates returns up to limit states with ID after after, by ID.
func (s *Store) ListUserStates(ctx context.Context, tenant, after string, limit int) ([]storage.UserState, error) {
	return s.sql.ListUserStates(ctx, tenant, after, limit)
}

// DueUserStates returns up to limit states of any tenant due at at.
func (s *Store) DueUserStates(ctx context.Context, at time.Time, limit int) ([]storage.UserState, error) {
	return s.sql.DueUserStates(ctx, at, limit)
}

// ListAudit returns up to limit entries with since <= Time < until, oldest
// first.
func (s *Store) ListAudit(ctx context.Context, tenant string, since, until time.Time, limit int) ([]storage.AuditEntry, error) {
	return s.sql.ListAudit(ctx, tenant, since, until, limit)
}

// PruneAudit removes the entries older than before.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	return s.sql.PruneAudit(ctx, before)
}
