package sqlstore

import (
	"context"
	"database/sql"
)

// Tx is a write transaction: *sql.Tx, or a connection on which the dialect
// issued its own BEGIN (SQLite's BEGIN IMMEDIATE).
type Tx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	Commit() error
	Rollback() error
}

// Dialect is what differs between databases. Queries are written with ?
// placeholders; Rebind turns them into the database's form.
type Dialect interface {
	// Name prefixes error messages ("sqlite", "postgres").
	Name() string
	// Migrations are the schema steps, each a list of statements; step i
	// is version i+1. A step is never edited once released, only
	// appended.
	Migrations() [][]string
	// Begin starts a write transaction. SQLite takes the write lock at
	// once (one writer); PostgreSQL starts a READ COMMITTED transaction.
	Begin(ctx context.Context, db *sql.DB) (Tx, error)
	// Single is Begin for a write of one statement, which is atomic on
	// its own: PostgreSQL runs it without BEGIN and COMMIT (two round
	// trips fewer); SQLite's Single is its Begin.
	Single(ctx context.Context, db *sql.DB) (Tx, error)
	// LockMigrations serialises migrations between processes inside tx.
	LockMigrations(ctx context.Context, tx Tx) error
	// Prepare tells whether reads should be prepared once and reused
	// (SQLite; pgx already caches statements per connection).
	Prepare() bool
	// Rebind rewrites ? placeholders.
	Rebind(query string) string
	// Classify maps a driver error: it returns an error wrapping a
	// storage sentinel (or err itself) and whether the whole transaction
	// may be retried (serialization failure, deadlock, busy database).
	Classify(err error) (mapped error, retry bool)
	// ForUpdate is the row-lock suffix of a SELECT in a write
	// transaction ("" where the transaction already excludes writers).
	ForUpdate() string
	// Collate is appended to a text expression compared with < or > so
	// that strings order byte-wise, as Go compares them.
	Collate() string

	// RowJSON is a FROM item joined to the resource row r of a list
	// query, giving the JSON access below what it needs (PostgreSQL parses
	// the row's documents once there); "" when none is needed.
	RowJSON() string

	// JSON access for filter pushdown. A Loc is a JSON value inside the
	// current row, made by Root, Child or Elements.
	Root(keys ...string) Loc
	Child(l Loc, key string) Loc
	// ValueOf is l's "value" sub-attribute when l is an object, else l.
	ValueOf(l Loc) Loc
	// Elements returns a FROM item iterating the elements of the array at
	// l (none when l is not an array) under alias, and the element's Loc.
	Elements(l Loc, alias string) (from string, elem Loc)
	// Type predicates; never NULL.
	IsString(l Loc) string
	IsNumber(l Loc) string
	IsTrue(l Loc) string
	IsFalse(l Loc) string
	IsNull(l Loc) string // JSON null or absent
	// Present is true when l holds a non-empty string, array or object, a
	// number or a boolean (RFC 7644 §3.4.2.2 "pr").
	Present(l Loc) string
	// Text is the string at l; fold selects the lower-cased document.
	Text(l Loc, fold bool) string
	// Number is the number at l, NULL for anything else.
	Number(l Loc) string
	// Contains, HasPrefix and HasSuffix test a text expression against a
	// bound pattern (one ? each; n is the pattern's length in runes).
	Contains(s string) string
	HasPrefix(s string, n int) string
	HasSuffix(s string, n int) string
	// JSONRows is a FROM item over a bound JSON array of arrays (one ?):
	// column i of element j is Col(alias, i), Ord(alias) its position.
	JSONRows(alias string) string
	Col(alias string, i int) string
	ColInt(alias string, i int) string // column i as an integer
	Ord(alias string) string
	// True and False are the boolean literals.
	True() string
	False() string
}

// Loc is a dialect's handle on a JSON value.
type Loc any
