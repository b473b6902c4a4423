package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// checkSeat returns storage.ErrSeatLimit when the tenant may take no more
// seats. It runs inside the write transaction that adds the seat: on
// PostgreSQL it locks the tenant's settings row first, so writes adding
// seats to a limited tenant queue there and each counts the seats its
// predecessors committed (READ COMMITTED takes a new snapshot per
// statement); SQLite has a single writer. The count is answered from the
// partial index scimkit_resources_seats. A tenant without a limit costs
// one primary-key probe.
func (s *Store) checkSeat(ctx context.Context, tx Tx, tenant string) error {
	var limit int
	err := tx.QueryRowContext(ctx, s.sql(`SELECT seat_limit FROM scimkit_tenants WHERE tenant = ?`+s.d.ForUpdate()), tenant).Scan(&limit)
	if errors.Is(err, sql.ErrNoRows) || err == nil && limit <= 0 {
		return nil
	}
	if err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.sql(`SELECT count(*) FROM scimkit_resources
		WHERE tenant = ? AND kind = 'User' AND seat = 1`), tenant).Scan(&n); err != nil {
		return err
	}
	if n >= limit {
		return fmt.Errorf("%s: tenant %q holds %d of %d seats: %w", s.d.Name(), tenant, n, limit, storage.ErrSeatLimit)
	}
	return nil
}

// GetTenant returns the tenant's settings, or ErrNotFound.
func (s *Store) GetTenant(ctx context.Context, tenant string) (storage.TenantSettings, error) {
	var (
		ts       storage.TenantSettings
		policy   string
		modified int64
	)
	err := s.queryRow(ctx, `SELECT policy, seat_limit, version, modified FROM scimkit_tenants WHERE tenant = ?`, tenant).
		Scan(&policy, &ts.SeatLimit, &ts.Version, &modified)
	if errors.Is(err, sql.ErrNoRows) {
		return ts, fmt.Errorf("%s: settings of tenant %q: %w", s.d.Name(), tenant, storage.ErrNotFound)
	}
	if err != nil {
		return ts, s.read(err)
	}
	ts.Policy, ts.Modified = []byte(policy), fromMicros(modified)
	return ts, nil
}

// PutTenant stores ts if ts.Version is the stored version.
func (s *Store) PutTenant(ctx context.Context, tenant string, ts *storage.TenantSettings) error {
	err := s.write(ctx, func(tx Tx) error {
		var res sql.Result
		var err error
		if ts.Version == 0 {
			res, err = tx.ExecContext(ctx, s.sql(`INSERT INTO scimkit_tenants (tenant, policy, seat_limit, version, modified)
				VALUES (?, ?, ?, 1, ?) ON CONFLICT (tenant) DO NOTHING`),
				tenant, string(ts.Policy), ts.SeatLimit, micros(ts.Modified))
		} else {
			res, err = tx.ExecContext(ctx, s.sql(`UPDATE scimkit_tenants SET policy = ?, seat_limit = ?, version = version + 1, modified = ?
				WHERE tenant = ? AND version = ?`),
				string(ts.Policy), ts.SeatLimit, micros(ts.Modified), tenant, ts.Version)
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		return fmt.Errorf("%s: settings of tenant %q are not at version %d: %w", s.d.Name(), tenant, ts.Version, storage.ErrVersionMismatch)
	})
	if err != nil {
		return err
	}
	ts.Version++
	return nil
}

// DeleteTenant removes everything of the tenant in one transaction.
func (s *Store) DeleteTenant(ctx context.Context, tenant string) error {
	return s.write(ctx, func(tx Tx) error {
		for _, q := range []string{
			`DELETE FROM scimkit_members WHERE group_rid IN (SELECT rid FROM scimkit_resources WHERE tenant = ?)`,
			`DELETE FROM scimkit_members WHERE member_rid IN (SELECT rid FROM scimkit_resources WHERE tenant = ?)`,
			`DELETE FROM scimkit_emails WHERE tenant = ?`,
			`DELETE FROM scimkit_resources WHERE tenant = ?`,
			`DELETE FROM scimkit_credentials WHERE tenant = ?`,
			`DELETE FROM scimkit_tenants WHERE tenant = ?`,
			`DELETE FROM scimkit_user_states WHERE tenant = ?`,
			`DELETE FROM scimkit_audit WHERE tenant = ?`,
			`DELETE FROM scimkit_outbox WHERE tenant = ?`,
		} {
			if _, err := tx.ExecContext(ctx, s.sql(q), tenant); err != nil {
				return err
			}
		}
		return nil
	})
}

func nullMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func fromNullMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// PutUserState stores st, replacing the user's previous state.
func (s *Store) PutUserState(ctx context.Context, tenant string, st storage.UserState, ev ...storage.Event) error {
	begin := s.d.Single
	if len(ev) > 0 || st.Deleted {
		begin = s.d.Begin
	}
	return s.retry(ctx, begin, func(tx Tx) error {
		if st.Deleted {
			if err := s.deleteTx(ctx, tx, tenant, storage.KindUser, st.ID, ev); err != nil {
				return err
			}
			return s.putState(ctx, tx, tenant, st)
		}
		if err := s.putState(ctx, tx, tenant, st); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, tenant, 0, ev)
	})
}

// putState upserts st in tx.
func (s *Store) putState(ctx context.Context, tx Tx, tenant string, st storage.UserState) error {
	_, err := tx.ExecContext(ctx, s.sql(`INSERT INTO scimkit_user_states (tenant, id, state, until, by_admin, deleted, name, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET state = excluded.state, until = excluded.until,
			by_admin = excluded.by_admin, deleted = excluded.deleted, name = excluded.name, data = excluded.data`),
		tenant, st.ID, st.State, nullMicros(st.Until), boolInt(st.ByAdmin), boolInt(st.Deleted), st.Name, string(st.Data))
	return err
}

// stateOnWrite applies r.State of a User write (see
// [storage.Resource.State]) in tx.
func (s *Store) stateOnWrite(ctx context.Context, tx Tx, tenant string, r *storage.Resource) error {
	if r.State == nil || r.Kind != storage.KindUser {
		return nil
	}
	if r.State.State == "" {
		_, err := tx.ExecContext(ctx, s.sql(`DELETE FROM scimkit_user_states WHERE tenant = ? AND id = ?`), tenant, r.ID)
		return err
	}
	st := *r.State
	st.ID = r.ID
	return s.putState(ctx, tx, tenant, st)
}

const stateColumns = "tenant, id, state, until, by_admin, deleted, name, data"

func scanState(sc interface{ Scan(...any) error }) (storage.UserState, error) {
	var (
		st              storage.UserState
		until           int64
		byAdmin, delted int
		data            string
	)
	if err := sc.Scan(&st.Tenant, &st.ID, &st.State, &until, &byAdmin, &delted, &st.Name, &data); err != nil {
		return st, err
	}
	st.Until, st.ByAdmin, st.Deleted = fromNullMicros(until), byAdmin == 1, delted == 1
	if data != "" {
		st.Data = []byte(data)
	}
	return st, nil
}

// GetUserState returns the user's state, or ErrNotFound.
func (s *Store) GetUserState(ctx context.Context, tenant, id string) (storage.UserState, error) {
	st, err := scanState(s.queryRow(ctx, `SELECT `+stateColumns+` FROM scimkit_user_states WHERE tenant = ? AND id = ?`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("%s: state of user %q: %w", s.d.Name(), id, storage.ErrNotFound)
	}
	return st, s.read(err)
}

// DeleteUserState removes the user's state.
func (s *Store) DeleteUserState(ctx context.Context, tenant, id string, ev ...storage.Event) error {
	begin := s.d.Single
	if len(ev) > 0 {
		begin = s.d.Begin
	}
	return s.retry(ctx, begin, func(tx Tx) error {
		if _, err := tx.ExecContext(ctx, s.sql(`DELETE FROM scimkit_user_states WHERE tenant = ? AND id = ?`), tenant, id); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, tenant, 0, ev)
	})
}

func (s *Store) listStates(ctx context.Context, q string, args ...any) ([]storage.UserState, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, s.read(err)
	}
	defer rows.Close()
	var out []storage.UserState
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, s.read(err)
		}
		out = append(out, st)
	}
	return out, s.read(rows.Err())
}

// ListUserStates returns up to limit states with ID after after, by ID.
func (s *Store) ListUserStates(ctx context.Context, tenant, after string, limit int) ([]storage.UserState, error) {
	return s.listStates(ctx, `SELECT `+stateColumns+` FROM scimkit_user_states
		WHERE tenant = ? AND id > ?`+s.d.Collate()+` ORDER BY id`+s.d.Collate()+` LIMIT ?`, tenant, after, limit)
}

// DueUserStates returns up to limit states whose Until is set and not
// after at, from the partial index on until.
func (s *Store) DueUserStates(ctx context.Context, at time.Time, limit int) ([]storage.UserState, error) {
	return s.listStates(ctx, `SELECT `+stateColumns+` FROM scimkit_user_states
		WHERE until > 0 AND until <= ? ORDER BY until LIMIT ?`, micros(at), limit)
}

// AppendAudit stores entries in one transaction.
func (s *Store) AppendAudit(ctx context.Context, tenant string, entries []storage.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	norms := make([]string, len(entries))
	for i, e := range entries {
		if len(e.Normalizations) > 0 {
			b, err := json.Marshal(e.Normalizations)
			if err != nil {
				return err
			}
			norms[i] = string(b)
		}
	}
	return s.write(ctx, func(tx Tx) error {
		for i, e := range entries {
			if _, err := tx.ExecContext(ctx, s.sql(`INSERT INTO scimkit_audit
				(tenant, at, credential, operation, resource_id, status, scim_type, detail, normalizations)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				tenant, micros(e.Time), e.Credential, e.Operation, e.ResourceID, e.Status, e.ScimType, e.Detail, norms[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListAudit returns up to limit entries with since <= Time < until,
// oldest first, from the index on (tenant, at).
func (s *Store) ListAudit(ctx context.Context, tenant string, since, until time.Time, limit int) ([]storage.AuditEntry, error) {
	hi := int64(1<<63 - 1)
	if !until.IsZero() {
		hi = micros(until)
	}
	if limit < 0 {
		limit = 1<<31 - 1
	}
	rows, err := s.query(ctx, `SELECT at, credential, operation, resource_id, status, scim_type, detail, normalizations
		FROM scimkit_audit WHERE tenant = ? AND at >= ? AND at < ? ORDER BY at, seq LIMIT ?`,
		tenant, micros(since), hi, limit)
	if err != nil {
		return nil, s.read(err)
	}
	defer rows.Close()
	var out []storage.AuditEntry
	for rows.Next() {
		var (
			e     storage.AuditEntry
			at    int64
			norms string
		)
		if err := rows.Scan(&at, &e.Credential, &e.Operation, &e.ResourceID, &e.Status, &e.ScimType, &e.Detail, &norms); err != nil {
			return nil, s.read(err)
		}
		e.Time = fromMicros(at)
		if norms != "" {
			if err := json.Unmarshal([]byte(norms), &e.Normalizations); err != nil {
				return nil, fmt.Errorf("%s: audit normalizations: %w", s.d.Name(), err)
			}
		}
		out = append(out, e)
	}
	return out, s.read(rows.Err())
}

// PruneAudit removes entries older than before, from the index on at.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.single(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, s.sql(`DELETE FROM scimkit_audit WHERE at < ?`), micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
