package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	msqlite "modernc.org/sqlite"

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/sqlstore"
)

// SQLite result codes (https://sqlite.org/rescode.html).
const (
	codeBusy       = 5
	codeLocked     = 6
	codeReadOnly   = 8
	codeIOErr      = 10
	codeFull       = 13
	codeCantOpen   = 14
	codeConstraint = 19
	// Extended constraint codes.
	codeConstraintForeignKey = 787
	codeConstraintPrimaryKey = 1555
	codeConstraintUnique     = 2067
)

// dialect is SQLite's [sqlstore.Dialect]. SQLite has one writer, and so
// does the dialect: one connection, kept for the store's life with its
// statements prepared. Writes in this process queue on mu rather than on
// SQLite's busy lock, and concurrent writes share one transaction and its
// commit (see groupcommit.go).
type dialect struct {
	mu    sync.Mutex         // held by the write running on the writer; guards conn, stmts, open and batch
	conn  *sql.Conn          // the writer, opened by the first Begin
	stmts sqlstore.StmtCache // prepared on conn
	// waiting counts the writes blocked on mu: while there are any, a
	// finished write leaves the transaction open for them and waits for
	// the commit they end with.
	waiting atomic.Int32
	// open is set while the writer holds a transaction (BEGIN IMMEDIATE
	// issued, neither committed nor rolled back); batch collects the
	// writes done in it.
	open  bool
	batch *batch
	// maxBatch bounds the writes one transaction collects (0: the
	// default), so that a steady stream of writes still commits.
	maxBatch int
	// stale is set when an error said the database cannot be written
	// (read-only, I/O error, full, cannot open): the next Begin opens a
	// new writer, so that once the file is writable again (permissions
	// fixed, disk remounted) writes resume with no restart. A connection
	// SQLite opened read-only stays read-only for its life.
	stale atomic.Bool
	// commits and writes count the transactions ended and the writes
	// they held (tests read them).
	commits, writes atomic.Int64
}

func (*dialect) Name() string { return "sqlite" }

func (*dialect) Migrations() [][]string { return migrations }

// Begin takes the writer, then joins the open transaction, or starts one
// with BEGIN IMMEDIATE, so a transaction never fails half-way for want of
// the lock; another process holding it is waited for (busy_timeout) and
// then retried.
func (d *dialect) Begin(ctx context.Context, db *sql.DB) (sqlstore.Tx, error) {
	d.waiting.Add(1)
	d.mu.Lock()
	d.waiting.Add(-1)
	if d.open {
		return d.join(ctx)
	}
	if d.stale.Swap(false) && d.conn != nil {
		// Discard the connection rather than return it to the pool,
		// where the next Begin could take it again. Connections the pool
		// opened while the file was read-only are read-only too: a
		// write on one marks the writer stale again, so each failed
		// write drains one, and writes resume once they are gone.
		_ = d.stmts.Close()
		_ = d.conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = d.conn.Close()
		d.conn = nil
	}
	if d.conn == nil {
		// Not ctx: the connection outlives this request.
		conn, err := db.Conn(context.Background())
		if err != nil {
			d.mu.Unlock()
			return nil, err
		}
		// Wait for another process's write rather than fail at once,
		// whatever the DSN of a host-opened database said.
		if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 10000"); err != nil {
			_ = conn.Close()
			d.mu.Unlock()
			return nil, err
		}
		d.conn = conn
	}
	if _, err := d.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		d.drop(err)
		d.mu.Unlock()
		return nil, err
	}
	d.open, d.batch = true, &batch{joined: 1, done: make(chan struct{})}
	return &tx{d: d, b: d.batch}, nil
}

// Single is Begin: a statement on the writer pays no round trip for
// BEGIN and COMMIT.
func (d *dialect) Single(ctx context.Context, db *sql.DB) (sqlstore.Tx, error) {
	return d.Begin(ctx, db)
}

// drop closes the writer after an error that broke it; the next Begin
// opens another. The caller holds mu.
func (d *dialect) drop(err error) {
	if !errors.Is(err, driver.ErrBadConn) && !errors.Is(err, sql.ErrConnDone) {
		return
	}
	d.closeWriter()
}

// closeWriter closes the statements and the writer. The caller holds mu.
func (d *dialect) closeWriter() error {
	errs := []error{d.stmts.Close()}
	if d.conn != nil {
		errs = append(errs, d.conn.Close())
		d.conn = nil
	}
	return errors.Join(errs...)
}

// close releases the writer.
func (d *dialect) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closeWriter()
}

// stmt returns q prepared on the writer, or nil (run it unprepared).
func (d *dialect) stmt(ctx context.Context, q string) *sql.Stmt {
	return d.stmts.Get(ctx, q, d.conn.PrepareContext)
}

// tx is one write in the writer's transaction: the first of its batch
// runs in the transaction itself, each later one inside a savepoint of
// its own (sp), so that it can be undone alone.
type tx struct {
	d    *dialect
	b    *batch
	sp   bool
	done bool
}

// The statements of a write ignore its context's cancellation: SQLite
// answers an interrupted write by rolling back the whole transaction,
// which holds the other writes of the batch. A statement is short; the
// request's own wait for the writer still honours its context.

func (t *tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if st := t.d.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.d.conn.ExecContext(ctx, q, args...)
}

func (t *tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	if st := t.d.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.d.conn.QueryContext(ctx, q, args...)
}

func (t *tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st := t.d.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.d.conn.QueryRowContext(ctx, q, args...)
}

// LockMigrations is a no-op: BEGIN IMMEDIATE already excludes every other
// writer, in this process and in others.
func (*dialect) LockMigrations(context.Context, sqlstore.Tx) error { return nil }

func (*dialect) Rebind(q string) string { return q }

// Limit and Offset add 0 to the bound value: SQLite's planner reads a
// bare bound LIMIT, which makes every execution with another value
// recompile the statement; an expression it leaves to run time.
func (*dialect) Limit() string  { return "LIMIT ? + 0" }
func (*dialect) Offset() string { return "OFFSET ? + 0" }

func (*dialect) Prepare() bool { return true }

// Classify is the one place where SQLite errors become storage errors.
func (d *dialect) Classify(err error) (error, bool) {
	if err == nil {
		return nil, false
	}
	code := 0
	var se *msqlite.Error
	if errors.As(err, &se) {
		code = se.Code()
	} else {
		// Another driver: SQLite's own messages are stable.
		msg := err.Error()
		switch {
		case strings.Contains(msg, "UNIQUE constraint failed"):
			code = codeConstraintUnique
		case strings.Contains(msg, "database is locked"):
			code = codeBusy
		case strings.Contains(msg, "attempt to write a readonly database"):
			code = codeReadOnly
		}
	}
	switch {
	case code == codeConstraintUnique || code == codeConstraintPrimaryKey:
		return fmt.Errorf("sqlite: %w: %w", storage.ErrConflict, err), false
	case code == codeConstraintForeignKey:
		return fmt.Errorf("sqlite: %w: %w", storage.ErrInvalidMember, err), false
	case code&0xff == codeBusy || code&0xff == codeLocked:
		return err, true
	case code&0xff == codeReadOnly || code&0xff == codeIOErr || code&0xff == codeFull || code&0xff == codeCantOpen:
		d.stale.Store(true)
		return fmt.Errorf("sqlite: %w: %w", storage.ErrUnavailable, err), false
	case errors.Is(err, sql.ErrConnDone), err.Error() == "sql: database is closed":
		return fmt.Errorf("sqlite: %w: %w", storage.ErrUnavailable, err), false
	case code&0xff == codeConstraint:
		return fmt.Errorf("sqlite: %w", err), false
	}
	return err, false
}

func (*dialect) ForUpdate() string { return "" }
func (*dialect) Collate() string   { return "" }
func (*dialect) RowJSON() string   { return "" }
func (*dialect) True() string      { return "1" }
func (*dialect) False() string     { return "0" }

// loc is a JSON path into the row's documents: a quoted literal, or an
// expression built on an element's fullkey.
type loc struct{ path string }

func quoteKey(k string) string {
	// Keys are canonical schema names and URNs: no quotes in them.
	return `"` + strings.NewReplacer(`"`, ``, `'`, ``).Replace(k) + `"`
}

func (*dialect) Root(keys ...string) sqlstore.Loc {
	p := "$"
	for _, k := range keys {
		p += "." + quoteKey(k)
	}
	return loc{"'" + p + "'"}
}

func (*dialect) Child(l sqlstore.Loc, key string) sqlstore.Loc {
	p := l.(loc).path
	if strings.HasPrefix(p, "'") {
		return loc{strings.TrimSuffix(p, "'") + "." + quoteKey(key) + "'"}
	}
	return loc{"(" + p + " || '." + quoteKey(key) + "')"}
}

func (d *dialect) ValueOf(l sqlstore.Loc) sqlstore.Loc {
	return loc{"(CASE WHEN " + typ(l) + " = 'object' THEN " + d.Child(l, "value").(loc).path + " ELSE " + l.(loc).path + " END)"}
}

func (*dialect) Elements(l sqlstore.Loc, alias string) (string, sqlstore.Loc) {
	return "json_each(r.data, " + l.(loc).path + ") AS " + alias, loc{alias + ".fullkey"}
}

func typ(l sqlstore.Loc) string { return "json_type(r.data, " + l.(loc).path + ")" }

func (*dialect) IsString(l sqlstore.Loc) string { return "(COALESCE(" + typ(l) + ", '') = 'text')" }
func (*dialect) IsNumber(l sqlstore.Loc) string {
	return "(COALESCE(" + typ(l) + ", '') IN ('integer', 'real'))"
}
func (*dialect) IsTrue(l sqlstore.Loc) string  { return "(COALESCE(" + typ(l) + ", '') = 'true')" }
func (*dialect) IsFalse(l sqlstore.Loc) string { return "(COALESCE(" + typ(l) + ", '') = 'false')" }
func (*dialect) IsNull(l sqlstore.Loc) string  { return "(COALESCE(" + typ(l) + ", 'null') = 'null')" }

func (*dialect) Present(l sqlstore.Loc) string {
	p := l.(loc).path
	return "(CASE COALESCE(" + typ(l) + ", 'null')" +
		" WHEN 'null' THEN 0" +
		" WHEN 'text' THEN json_extract(r.data, " + p + ") <> ''" +
		" WHEN 'array' THEN json_array_length(r.data, " + p + ") > 0" +
		" WHEN 'object' THEN json_extract(r.data, " + p + ") <> '{}'" +
		" ELSE 1 END)"
}

func (*dialect) Text(l sqlstore.Loc, fold bool) string {
	doc := "r.data"
	if fold {
		doc = "r.fold"
	}
	return "json_extract(" + doc + ", " + l.(loc).path + ")"
}

func (d *dialect) Number(l sqlstore.Loc) string {
	return "(CASE WHEN " + d.IsNumber(l) + " THEN json_extract(r.data, " + l.(loc).path + ") END)"
}

func (*dialect) Contains(s string) string { return "(instr(" + s + ", ?) > 0)" }
func (*dialect) HasPrefix(s string, n int) string {
	return fmt.Sprintf("(substr(%s, 1, %d) = ?)", s, n)
}
func (*dialect) HasSuffix(s string, n int) string {
	return fmt.Sprintf("(substr(%s, -%d) = ?)", s, n)
}

func (*dialect) JSONRows(alias string) string { return "json_each(?) AS " + alias }
func (*dialect) Col(alias string, i int) string {
	return fmt.Sprintf("json_extract(%s.value, '$[%d]')", alias, i)
}
func (d *dialect) ColInt(alias string, i int) string { return d.Col(alias, i) }
func (*dialect) Ord(alias string) string             { return alias + ".key" }
