// Package sqlite is a [storage.Store] on SQLite, through the pure-Go driver
// modernc.org/sqlite (no cgo): the embedded default for a product that runs
// as one process with a file next to it.
//
// The database runs in WAL mode, so reads never wait for the writer. Writes
// go through one connection: the store queues them in-process and takes
// SQLite's write lock up front (BEGIN IMMEDIATE), and a busy database
// (another process writing) is waited for and retried, never reported as
// an error. Writes that queue up meanwhile share one transaction and its
// commit (group commit), each inside a savepoint of its own, so one
// write's failure (a taken userName, a version mismatch) undoes only that
// write; every write returns only after the commit that holds it.
// Filters are translated to SQL over SQLite's JSON functions; lookups by
// userName, externalId, displayName and email, and member lookups, use
// indexes; pages come from the database in creation order.
//
// The schema is created and upgraded by [New] and [Open] from embedded,
// numbered migrations; running them again, or from two processes at once,
// is safe.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver for Open

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/sqlstore"
)

// Store is a [storage.Store] on SQLite. It is safe for concurrent use.
type Store struct {
	sql *sqlstore.Store
	// owned is set when Open opened the database, which Close closes.
	owned  bool
	writer *dialect
}

var _ storage.Store = (*Store)(nil)

// Open opens (creating it if needed) the SQLite database file at path with
// the settings the store wants: WAL journal, a 10s busy timeout, NORMAL
// synchronous (durable across process crashes; with WAL, a power loss
// can lose only the last transactions), foreign keys on. The store owns
// the handle; Close closes it.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: give a file path (an in-memory database is per connection)", path)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "synchronous(NORMAL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	// Keep connections for concurrent reads: opening one parses the
	// schema and takes the driver's allocator lock, so with the default
	// of two idle connections a burst of requests (one tenant's flood)
	// opens and closes a connection per query and slows every tenant.
	db.SetMaxIdleConns(idleConns)
	s, err := New(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// idleConns is how many idle connections Open keeps.
const idleConns = 32

// New returns a Store on a database the host opened with the
// modernc.org/sqlite driver. It switches the database to WAL mode and
// migrates the schema. The host keeps ownership of db; let it keep a few
// idle connections (db.SetMaxIdleConns(32), as [Open] does): with the
// default of two, concurrent requests open a connection each. The store keeps one
// of db's connections for its writes (with a 10s busy timeout) and reads
// on the others, so db must allow at least two open connections: New
// returns an error for a handle limited to one (db.SetMaxOpenConns(1),
// common SQLite advice that WAL mode and the store's own writer queue make
// unnecessary).
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	if n := db.Stats().MaxOpenConnections; n == 1 {
		return nil, errors.New("sqlite: the database handle allows one open connection (SetMaxOpenConns(1)); the store keeps one for its writes and reads on others, so allow at least two (0, no limit, is fine)")
	}
	if err := setWAL(ctx, db); err != nil {
		return nil, err
	}
	d := &dialect{}
	s, err := sqlstore.New(ctx, db, d)
	if err != nil {
		_ = d.close()
		return nil, err
	}
	return &Store{sql: s, writer: d}, nil
}

// Tx is the transaction [Store.Write] hands to its function.
type Tx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Write runs f in a write transaction on the store's one writer, for a
// host that keeps its own tables in the same file (a provisioning hook
// recording backup accounts, say). Its writes then queue in-process with
// the store's instead of polling SQLite's busy lock from another
// connection, which waits in steps of milliseconds. f may run more than
// once (the transaction is retried when another process holds the
// database), so it must have no other effects; its error rolls the
// transaction back and is returned.
func (s *Store) Write(ctx context.Context, f func(tx Tx) error) error {
	return sqlstore.Write(ctx, s.sql, func(tx sqlstore.Tx) error { return f(tx) })
}

// setWAL switches the database to WAL mode (a setting kept in the file).
// The switch needs the database to itself, so when another connection
// holds it (instances starting at once) it is retried for up to 10s.
func setWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		switch _, busy := (&dialect{}).Classify(err); {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("sqlite: set WAL mode: journal mode is %q", mode)
		case !busy || time.Now().After(deadline):
			return fmt.Errorf("sqlite: set WAL mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sqlite: set WAL mode: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Close releases the store's connection and prepared statements, and
// closes the database if Open opened it; a handle the host passed to New
// is left open.
func (s *Store) Close() error {
	errs := []error{s.sql.Close(), s.writer.close()}
	if s.owned {
		errs = append(errs, s.DB().Close())
	}
	return errors.Join(errs...)
}

// migrations are the schema steps, oldest first (see sqlstore.Migrate).
// Released steps are never edited.
var migrations = [][]string{
	// 1: resources, emails (kept by triggers), members, tokens.
	{
		`CREATE TABLE scimkit_resources (
			rid INTEGER PRIMARY KEY,
			tenant TEXT NOT NULL,
			kind TEXT NOT NULL,
			id TEXT NOT NULL,
			name TEXT NOT NULL,
			name_fold TEXT NOT NULL,
			external_id TEXT NOT NULL DEFAULT '',
			emails TEXT NOT NULL DEFAULT '',
			email_folds TEXT NOT NULL DEFAULT '[]',
			version INTEGER NOT NULL,
			created INTEGER NOT NULL,
			modified INTEGER NOT NULL,
			data TEXT NOT NULL,
			fold TEXT NOT NULL
		)`,
		`CREATE UNIQUE INDEX scimkit_resources_id ON scimkit_resources (tenant, kind, id)`,
		`CREATE UNIQUE INDEX scimkit_resources_name ON scimkit_resources (tenant, kind, name_fold)`,
		`CREATE INDEX scimkit_resources_external_id ON scimkit_resources (tenant, kind, external_id)`,
		`CREATE INDEX scimkit_resources_order ON scimkit_resources (tenant, kind)`,
		`CREATE TABLE scimkit_emails (
			rid INTEGER NOT NULL REFERENCES scimkit_resources (rid) ON DELETE CASCADE,
			tenant TEXT NOT NULL,
			email_fold TEXT NOT NULL,
			PRIMARY KEY (rid, email_fold)
		) WITHOUT ROWID`,
		`CREATE INDEX scimkit_emails_value ON scimkit_emails (tenant, email_fold)`,
		`CREATE TRIGGER scimkit_emails_insert AFTER INSERT ON scimkit_resources BEGIN
			INSERT INTO scimkit_emails (rid, tenant, email_fold)
				SELECT NEW.rid, NEW.tenant, value FROM json_each(NEW.email_folds);
		END`,
		`CREATE TRIGGER scimkit_emails_update AFTER UPDATE OF email_folds ON scimkit_resources
			WHEN OLD.email_folds <> NEW.email_folds BEGIN
			DELETE FROM scimkit_emails WHERE rid = NEW.rid;
			INSERT INTO scimkit_emails (rid, tenant, email_fold)
				SELECT NEW.rid, NEW.tenant, value FROM json_each(NEW.email_folds);
		END`,
		`CREATE TABLE scimkit_members (
			pos INTEGER PRIMARY KEY,
			group_rid INTEGER NOT NULL,
			member_rid INTEGER NOT NULL REFERENCES scimkit_resources (rid) ON DELETE CASCADE,
			display TEXT NOT NULL DEFAULT '',
			display_fold TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE UNIQUE INDEX scimkit_members_pair ON scimkit_members (group_rid, member_rid)`,
		`CREATE INDEX scimkit_members_order ON scimkit_members (group_rid, pos)`,
		`CREATE INDEX scimkit_members_member ON scimkit_members (member_rid)`,
		`CREATE TABLE scimkit_tokens (
			tenant TEXT PRIMARY KEY,
			hash BLOB NOT NULL UNIQUE
		)`,
	},
	// 2: several credentials per tenant, with label, expiry and last
	// use; each tenant's token becomes a credential labelled "migrated".
	{
		`CREATE TABLE scimkit_credentials (
			tenant TEXT NOT NULL,
			id TEXT NOT NULL,
			hash BLOB NOT NULL,
			label TEXT NOT NULL DEFAULT '',
			created INTEGER NOT NULL,
			expires INTEGER,
			last_used INTEGER,
			PRIMARY KEY (tenant, id)
		) WITHOUT ROWID`,
		`CREATE UNIQUE INDEX scimkit_credentials_hash ON scimkit_credentials (hash)`,
		`INSERT INTO scimkit_credentials (tenant, id, hash, label, created)
			SELECT tenant, lower(hex(randomblob(16))), hash, 'migrated', CAST(strftime('%s', 'now') AS INTEGER) * 1000000
			FROM scimkit_tokens`,
		`DROP TABLE scimkit_tokens`,
	},
	// 3: the transactional outbox of provisioning events.
	{
		`CREATE TABLE scimkit_outbox (
			seq INTEGER PRIMARY KEY AUTOINCREMENT,
			tenant TEXT NOT NULL,
			id TEXT NOT NULL,
			kind TEXT NOT NULL,
			resource_id TEXT NOT NULL,
			version INTEGER NOT NULL,
			type TEXT NOT NULL,
			time INTEGER NOT NULL,
			data TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			next_at INTEGER NOT NULL DEFAULT 0,
			lease_until INTEGER NOT NULL DEFAULT 0,
			lease_owner TEXT NOT NULL DEFAULT '',
			delivered INTEGER
		)`,
		`CREATE INDEX scimkit_outbox_pending ON scimkit_outbox (tenant, kind, resource_id, seq) WHERE delivered IS NULL`,
		`CREATE INDEX scimkit_outbox_due ON scimkit_outbox (seq) WHERE delivered IS NULL`,
		`CREATE INDEX scimkit_outbox_tenant ON scimkit_outbox (tenant, seq)`,
		`CREATE INDEX scimkit_outbox_delivered ON scimkit_outbox (delivered) WHERE delivered IS NOT NULL`,
	},
	// 4: seats (the active Users a tenant's seat limit counts), tenant
	// settings, user lifecycle states and the audit log.
	{
		`ALTER TABLE scimkit_resources ADD COLUMN seat INTEGER NOT NULL DEFAULT 0`,
		`UPDATE scimkit_resources SET seat = 1
			WHERE kind = 'User' AND COALESCE(json_extract(data, '$.active'), 1) <> 0`,
		`CREATE INDEX scimkit_resources_seats ON scimkit_resources (tenant) WHERE kind = 'User' AND seat = 1`,
		`CREATE TABLE scimkit_tenants (
			tenant TEXT NOT NULL PRIMARY KEY,
			policy TEXT NOT NULL,
			seat_limit INTEGER NOT NULL,
			version INTEGER NOT NULL,
			modified INTEGER NOT NULL
		) WITHOUT ROWID`,
		`CREATE TABLE scimkit_user_states (
			tenant TEXT NOT NULL,
			id TEXT NOT NULL,
			state TEXT NOT NULL,
			until INTEGER NOT NULL,
			by_admin INTEGER NOT NULL,
			deleted INTEGER NOT NULL,
			name TEXT NOT NULL,
			data TEXT NOT NULL,
			PRIMARY KEY (tenant, id)
		) WITHOUT ROWID`,
		`CREATE INDEX scimkit_user_states_until ON scimkit_user_states (until) WHERE until > 0`,
		`CREATE TABLE scimkit_audit (
			seq INTEGER PRIMARY KEY,
			tenant TEXT NOT NULL,
			at INTEGER NOT NULL,
			credential TEXT NOT NULL,
			operation TEXT NOT NULL,
			resource_id TEXT NOT NULL,
			status INTEGER NOT NULL,
			scim_type TEXT NOT NULL,
			detail TEXT NOT NULL,
			normalizations TEXT NOT NULL
		)`,
		`CREATE INDEX scimkit_audit_tenant ON scimkit_audit (tenant, at, seq)`,
		`CREATE INDEX scimkit_audit_at ON scimkit_audit (at)`,
	},
}
