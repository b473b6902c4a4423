package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// sqlState is the product state in SQL tables beside scimkit's, in the
// database the SCIM store uses: backupd_tenants (one row per tenant whose
// settings were written), backupd_accounts (one row per backup account)
// and backupd_events (the ids of the provisioning events applied, for
// exactly-once effects from at-least-once delivery). Every write is one
// statement or, for an event, one transaction (record the id, change the
// account), so any number of backupd processes may share the database.
type sqlState struct {
	db *sql.DB
	// postgres: $1 placeholders, boolean columns and an advisory lock
	// around table creation; else SQLite (? placeholders).
	postgres bool
	// write runs one write: on SQLite through the scimkit store's one
	// writer (sqlite.Store.Write), so the dispatcher's writes queue behind the
	// SCIM writes in-process instead of waiting on SQLite's busy lock.
	write func(ctx context.Context, f func(ex execer) error) error
}

// execer is what a write needs: *sql.DB or the store's transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var _ productState = (*sqlState)(nil)

// productLockKey is the PostgreSQL advisory lock key that serialises the
// creation of backupd's tables ("bakd" in ASCII).
const productLockKey = 0x62616b64

// The tables, per database. created is Unix nanoseconds, the same in both.
var (
	sqliteSchema = []string{
		`CREATE TABLE IF NOT EXISTS backupd_tenants (
			tenant TEXT PRIMARY KEY,
			scim_enabled INTEGER NOT NULL DEFAULT 0,
			account_size_gb INTEGER NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS backupd_accounts (
			tenant TEXT NOT NULL,
			user_id TEXT NOT NULL,
			user_name TEXT NOT NULL,
			quota_gb INTEGER NOT NULL,
			active INTEGER NOT NULL,
			status TEXT NOT NULL,
			created INTEGER NOT NULL,
			PRIMARY KEY (tenant, user_id)
		)`,
		`CREATE TABLE IF NOT EXISTS backupd_events (
			event_id TEXT PRIMARY KEY,
			handled INTEGER NOT NULL
		)`,
		// The dashboard's user list: keyset pages in userName order
		// (case-insensitive), and userName prefix search.
		`CREATE INDEX IF NOT EXISTS backupd_accounts_by_name ON backupd_accounts (tenant, user_name COLLATE NOCASE, user_id)`,
		`CREATE TABLE IF NOT EXISTS backupd_admin (
			name TEXT PRIMARY KEY,
			value TEXT NOT NULL
		)`,
	}
	postgresSchema = []string{
		`CREATE TABLE IF NOT EXISTS backupd_tenants (
			tenant text COLLATE "C" PRIMARY KEY,
			scim_enabled boolean NOT NULL DEFAULT false,
			account_size_gb integer NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS backupd_accounts (
			tenant text COLLATE "C" NOT NULL,
			user_id text COLLATE "C" NOT NULL,
			user_name text NOT NULL,
			quota_gb integer NOT NULL,
			active boolean NOT NULL,
			status text NOT NULL,
			created bigint NOT NULL,
			PRIMARY KEY (tenant, user_id)
		)`,
		`CREATE TABLE IF NOT EXISTS backupd_events (
			event_id text COLLATE "C" PRIMARY KEY,
			handled bigint NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS backupd_accounts_by_name ON backupd_accounts (tenant, (lower(user_name) COLLATE "C"), user_id)`,
		`CREATE TABLE IF NOT EXISTS backupd_admin (
			name text COLLATE "C" PRIMARY KEY,
			value text NOT NULL
		)`,
	}
)

// newSQLState creates backupd's tables in db when they are missing and
// returns the state on them. db stays the caller's.
// write is nil for direct statements on db.
func newSQLState(ctx context.Context, db *sql.DB, postgres bool, write func(context.Context, func(execer) error) error) (*sqlState, error) {
	if write == nil {
		write = func(ctx context.Context, f func(execer) error) error { return f(db) }
	}
	s := &sqlState{db: db, postgres: postgres, write: write}
	if err := s.createTables(ctx); err != nil {
		return nil, fmt.Errorf("backupd tables: %w", err)
	}
	return s, nil
}

func (s *sqlState) createTables(ctx context.Context) error {
	if !s.postgres {
		// Each statement is its own write transaction; SQLite's busy
		// timeout covers another process creating them at the same time.
		for _, stmt := range sqliteSchema {
			if _, err := s.db.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	}
	// Two PostgreSQL sessions running CREATE TABLE IF NOT EXISTS at once
	// can both miss the table and one then fails on the catalog's unique
	// index: take a lock first, as instances may start together.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock("+strconv.Itoa(productLockKey)+")"); err != nil {
		return err
	}
	for _, stmt := range postgresSchema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// q turns the ? placeholders of query into $1, $2, … for PostgreSQL. The
// queries below hold no ? in literals.
func (s *sqlState) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (s *sqlState) settings(ctx context.Context, tenant string) (tenantSettings, error) {
	st := tenantSettings{AccountSizeGB: defaultAccountSizeGB}
	err := s.db.QueryRowContext(ctx, s.q(`SELECT scim_enabled, account_size_gb FROM backupd_tenants WHERE tenant = ?`), tenant).
		Scan(&st.SCIMEnabled, &st.AccountSizeGB)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return tenantSettings{}, err
	}
	st.Exists = err == nil
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM backupd_accounts WHERE tenant = ?`), tenant).
		Scan(&st.Accounts); err != nil {
		return tenantSettings{}, err
	}
	return st, nil
}

// exec runs one statement through s.write.
func (s *sqlState) exec(ctx context.Context, query string, args ...any) error {
	return s.write(ctx, func(ex execer) error {
		_, err := ex.ExecContext(ctx, s.q(query), args...)
		return err
	})
}

func (s *sqlState) setSCIMEnabled(ctx context.Context, tenant string, on bool) error {
	return s.exec(ctx, `INSERT INTO backupd_tenants (tenant, scim_enabled, account_size_gb) VALUES (?, ?, ?)
		ON CONFLICT (tenant) DO UPDATE SET scim_enabled = excluded.scim_enabled`, tenant, on, defaultAccountSizeGB)
}

func (s *sqlState) setAccountSize(ctx context.Context, tenant string, gb int) error {
	return s.exec(ctx, `INSERT INTO backupd_tenants (tenant, account_size_gb) VALUES (?, ?)
		ON CONFLICT (tenant) DO UPDATE SET account_size_gb = excluded.account_size_gb`, tenant, gb)
}

const accountColumns = `user_id, user_name, quota_gb, active, status, created`

// scanAccount reads the accountColumns of one row.
func scanAccount(row interface{ Scan(...any) error }) (account, error) {
	var (
		a       account
		created int64
	)
	if err := row.Scan(&a.UserID, &a.UserName, &a.QuotaGB, &a.Active, &a.Status, &created); err != nil {
		return account{}, err
	}
	a.Created = time.Unix(0, created).UTC()
	return a, nil
}

func (s *sqlState) accounts(ctx context.Context, tenant string) ([]account, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+accountColumns+` FROM backupd_accounts WHERE tenant = ? ORDER BY created, user_id`), tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// putAccount is one upsert: the quota of a new account is read from the
// tenant's settings in the same statement, and an existing account keeps
// its quota and creation time. The account was created by this call when
// the stored creation time is the one it passed.
func (s *sqlState) putAccount(ctx context.Context, tenant string, a account) (account, bool, error) {
	var got account
	err := s.write(ctx, func(ex execer) error {
		var err error
		got, err = s.upsert(ctx, ex, tenant, a)
		return err
	})
	if err != nil {
		return account{}, false, err
	}
	return got, got.Created.Equal(a.Created), nil
}

// upsert is putAccount's statement.
func (s *sqlState) upsert(ctx context.Context, ex execer, tenant string, a account) (account, error) {
	return scanAccount(ex.QueryRowContext(ctx, s.q(`INSERT INTO backupd_accounts (tenant, user_id, user_name, quota_gb, active, status, created)
		VALUES (?, ?, ?, COALESCE((SELECT account_size_gb FROM backupd_tenants WHERE tenant = ?), ?), ?, ?, ?)
		ON CONFLICT (tenant, user_id) DO UPDATE SET user_name = excluded.user_name, active = excluded.active, status = excluded.status
		RETURNING `+accountColumns),
		tenant, a.UserID, a.UserName, tenant, defaultAccountSizeGB, a.Active, a.Status, a.Created.UnixNano()))
}

// deleteTenant removes the tenant's accounts and settings in one
// transaction.
func (s *sqlState) deleteTenant(ctx context.Context, tenant string) error {
	return s.write(ctx, func(ex execer) error {
		for _, q := range []string{`DELETE FROM backupd_accounts WHERE tenant = ?`, `DELETE FROM backupd_tenants WHERE tenant = ?`} {
			if _, err := ex.ExecContext(ctx, s.q(q), tenant); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *sqlState) deleteAccount(ctx context.Context, tenant, userID string) (account, bool, error) {
	var (
		a  account
		ok bool
	)
	err := s.write(ctx, func(ex execer) error {
		var err error
		a, ok, err = s.remove(ctx, ex, tenant, userID)
		return err
	})
	return a, ok, err
}

// remove is deleteAccount's statement.
func (s *sqlState) remove(ctx context.Context, ex execer, tenant, userID string) (account, bool, error) {
	a, err := scanAccount(ex.QueryRowContext(ctx, s.q(`DELETE FROM backupd_accounts WHERE tenant = ? AND user_id = ? RETURNING `+accountColumns), tenant, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return account{}, false, nil
	}
	if err != nil {
		return account{}, false, err
	}
	return a, true, nil
}

// applyEvent records the event id and applies the account change in one
// transaction: a redelivered event finds its id and changes nothing.
func (s *sqlState) applyEvent(ctx context.Context, tenant, eventID, userID string, put *account) (account, bool, error) {
	var (
		acc     account
		applied bool
	)
	err := s.tx(ctx, func(ex execer) error {
		acc, applied = account{}, false
		res, err := ex.ExecContext(ctx, s.q(`INSERT INTO backupd_events (event_id, handled) VALUES (?, ?)
			ON CONFLICT (event_id) DO NOTHING`), eventID, time.Now().UnixNano())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // handled before
		}
		applied = true
		if put == nil {
			acc, _, err = s.remove(ctx, ex, tenant, userID)
			return err
		}
		acc, err = s.upsert(ctx, ex, tenant, *put)
		return err
	})
	return acc, applied, err
}

// pruneEvents forgets the ids of events handled before before: the
// outbox redelivers an event only until it is acknowledged.
func (s *sqlState) pruneEvents(ctx context.Context, before time.Time) error {
	return s.exec(ctx, `DELETE FROM backupd_events WHERE handled < ?`, before.UnixNano())
}

// tx runs f in one transaction: on SQLite s.write is one already (the
// store's writer); on PostgreSQL a transaction of its own.
func (s *sqlState) tx(ctx context.Context, f func(ex execer) error) error {
	if !s.postgres {
		return s.write(ctx, f)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}
