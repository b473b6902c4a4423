package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/sqlstore"
)

// migrationLock is the advisory lock key that serialises migrations
// ("scim" in ASCII).
const migrationLock = 0x7363696d

// dialect is PostgreSQL's [sqlstore.Dialect].
type dialect struct {
	stats *statistics
}

// statistics gives the planner its first statistics. Until autovacuum
// has analyzed the resources table (up to a minute after it starts
// filling, autovacuum_naptime), the planner has no column statistics and
// prices a userName lookup through its unique index the same as a walk
// of the tenant's rows, and may pick the walk: an initial sync would then
// scan on every lookup. So after its first 1,000 creates, a store
// analyzes the tables if nothing has yet; from then on autovacuum keeps
// the statistics current.
type statistics struct {
	creates atomic.Int64
}

// Created counts a create and, at the 1,000th, checks the statistics.
func (d dialect) Created(ctx context.Context, db *sql.DB) {
	if d.stats == nil || d.stats.creates.Add(1) != 1000 {
		return
	}
	// Statistics are an optimisation: errors are ignored, the write
	// succeeded.
	var analyzed bool
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(last_analyze, last_autoanalyze) IS NOT NULL
		FROM pg_stat_user_tables WHERE relid = 'scimkit_resources'::regclass`).Scan(&analyzed); err != nil || analyzed {
		return
	}
	_, _ = db.ExecContext(ctx, `ANALYZE scimkit_resources, scimkit_emails, scimkit_members`)
}

func (dialect) Name() string { return "postgres" }

func (dialect) Migrations() [][]string { return migrations }

// Begin starts a READ COMMITTED transaction; writes lock the rows they
// change (SELECT ... FOR UPDATE on the group of a member change) and
// check versions in their UPDATE.
func (dialect) Begin(ctx context.Context, db *sql.DB) (sqlstore.Tx, error) {
	return db.BeginTx(ctx, nil)
}

// Single runs the statement without a transaction block: it commits on
// its own, two round trips fewer than BEGIN ... COMMIT.
func (dialect) Single(_ context.Context, db *sql.DB) (sqlstore.Tx, error) {
	return autocommit{db}, nil
}

// autocommit is a Tx whose statements commit each on their own.
type autocommit struct{ *sql.DB }

func (autocommit) Commit() error   { return nil }
func (autocommit) Rollback() error { return nil }

func (dialect) LockMigrations(ctx context.Context, tx sqlstore.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock("+strconv.Itoa(migrationLock)+")")
	return err
}

// Rebind turns ? placeholders into $1, $2, ...
func (dialect) Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Classify is the one place where PostgreSQL and pgx errors become storage
// errors (SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html).
func (dialect) Classify(err error) (error, bool) {
	if err == nil {
		return nil, false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return fmt.Errorf("postgres: %w: %w", storage.ErrConflict, err), false
		case pe.Code == "23503", // foreign_key_violation: a member deleted meanwhile
			// not_null_violation of the member's row id: the member was
			// deleted between the check and the insert, which read
			// committed allows.
			pe.Code == "23502" && pe.TableName == "scimkit_members":
			return fmt.Errorf("postgres: %w: %w", storage.ErrInvalidMember, err), false
		case pe.Code == "40001", pe.Code == "40P01": // serialization_failure, deadlock_detected
			return err, true
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "57P"), // admin shutdown, crash shutdown, cannot connect now
			pe.Code == "53300":                // too_many_connections
			return fmt.Errorf("postgres: %w: %w", storage.ErrUnavailable, err), false
		}
		return err, false
	}
	var (
		ce *pgconn.ConnectError
		ne net.Error
	)
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		strings.Contains(err.Error(), "closed pool") || strings.Contains(err.Error(), "conn closed") ||
		err.Error() == "sql: database is closed" {
		return fmt.Errorf("postgres: %w: %w", storage.ErrUnavailable, err), false
	}
	return err, false
}

func (dialect) Prepare() bool { return false }

func (dialect) ForUpdate() string { return " FOR UPDATE" }
func (dialect) Collate() string   { return ` COLLATE "C"` }
func (dialect) True() string      { return "true" }
func (dialect) False() string     { return "false" }

// RowJSON parses the row's documents once per row of a list query; the
// planner drops it when the filter does not use them.
func (dialect) RowJSON() string {
	return " CROSS JOIN LATERAL (SELECT r.data::jsonb AS doc, r.fold::jsonb AS docf) j"
}

// loc is a jsonb expression in the document and the same place in the
// lower-cased document.
type loc struct{ doc, fold string }

func quote(k string) string { return "'" + strings.ReplaceAll(k, "'", "''") + "'" }

func (dialect) Root(keys ...string) sqlstore.Loc {
	l := loc{"j.doc", "j.docf"}
	for _, k := range keys {
		l.doc += "->" + quote(k)
		l.fold += "->" + quote(k)
	}
	return l
}

func (dialect) Child(l sqlstore.Loc, key string) sqlstore.Loc {
	x := l.(loc)
	return loc{"(" + x.doc + ")->" + quote(key), "(" + x.fold + ")->" + quote(key)}
}

func (d dialect) ValueOf(l sqlstore.Loc) sqlstore.Loc {
	x, v := l.(loc), d.Child(l, "value").(loc)
	obj := "jsonb_typeof(" + x.doc + ") = 'object'"
	return loc{"(CASE WHEN " + obj + " THEN " + v.doc + " ELSE " + x.doc + " END)",
		"(CASE WHEN " + obj + " THEN " + v.fold + " ELSE " + x.fold + " END)"}
}

func arrayOf(x string) string {
	return "CASE WHEN jsonb_typeof(" + x + ") = 'array' THEN " + x + " ELSE '[]'::jsonb END"
}

// Elements zips the array in both documents, element by element.
func (dialect) Elements(l sqlstore.Loc, alias string) (string, sqlstore.Loc) {
	x := l.(loc)
	return "ROWS FROM (jsonb_array_elements(" + arrayOf(x.doc) + "), jsonb_array_elements(" + arrayOf(x.fold) + ")) AS " +
		alias + "(v, f)", loc{alias + ".v", alias + ".f"}
}

func typeIs(l sqlstore.Loc, t string) string {
	return "(COALESCE(jsonb_typeof(" + l.(loc).doc + "), '') = '" + t + "')"
}

func (dialect) IsString(l sqlstore.Loc) string { return typeIs(l, "string") }
func (dialect) IsNumber(l sqlstore.Loc) string { return typeIs(l, "number") }
func (dialect) IsTrue(l sqlstore.Loc) string {
	return "COALESCE(" + l.(loc).doc + " = 'true'::jsonb, false)"
}
func (dialect) IsFalse(l sqlstore.Loc) string {
	return "COALESCE(" + l.(loc).doc + " = 'false'::jsonb, false)"
}
func (dialect) IsNull(l sqlstore.Loc) string {
	return "(COALESCE(jsonb_typeof(" + l.(loc).doc + "), 'null') = 'null')"
}

func (dialect) Present(l sqlstore.Loc) string {
	x := l.(loc).doc
	return "COALESCE(CASE COALESCE(jsonb_typeof(" + x + "), 'null')" +
		" WHEN 'string' THEN " + x + " <> '\"\"'::jsonb" +
		" WHEN 'array' THEN " + x + " <> '[]'::jsonb" +
		" WHEN 'object' THEN " + x + " <> '{}'::jsonb" +
		" WHEN 'null' THEN false ELSE true END, false)"
}

func (dialect) Text(l sqlstore.Loc, fold bool) string {
	x := l.(loc)
	if fold {
		return "(" + x.fold + " #>> '{}')"
	}
	return "(" + x.doc + " #>> '{}')"
}

func (dialect) Number(l sqlstore.Loc) string {
	x := l.(loc).doc
	return "(CASE WHEN jsonb_typeof(" + x + ") = 'number' THEN (" + x + " #>> '{}')::float8 END)"
}

func (dialect) Contains(s string) string { return "(strpos(" + s + ", ?::text) > 0)" }
func (dialect) HasPrefix(s string, _ int) string {
	return "starts_with(" + s + ", ?::text)"
}
func (dialect) HasSuffix(s string, n int) string {
	return fmt.Sprintf("(right(%s, %d) = ?::text)", s, n)
}

func (dialect) JSONRows(alias string) string {
	return "jsonb_array_elements(?::text::jsonb) WITH ORDINALITY AS " + alias + "(v, o)"
}
func (dialect) Col(alias string, i int) string {
	return fmt.Sprintf("(%s.v->>%d)", alias, i)
}
func (dialect) ColInt(alias string, i int) string {
	return fmt.Sprintf("(%s.v->>%d)::bigint", alias, i)
}
func (dialect) Ord(alias string) string { return alias + ".o" }
