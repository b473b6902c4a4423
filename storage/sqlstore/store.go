package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimkit/scimkit/storage"
)

// Store is a [storage.Store] on a SQL database. It is safe for concurrent
// use.
type Store struct {
	db *sql.DB
	d  Dialect
	// maxRetries bounds the retries of a transaction the database
	// aborted (serialization failure, deadlock, busy).
	maxRetries int
	// trace, when set, sees the text of every statement.
	trace atomic.Pointer[func(query string)]

	stmts StmtCache // prepared reads, when the dialect wants them
}

var _ storage.Store = (*Store)(nil)

// New migrates db to the current schema and returns a Store on it.
func New(ctx context.Context, db *sql.DB, d Dialect) (*Store, error) {
	s := &Store{db: db, d: d, maxRetries: 20}
	if err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// DB returns the database handle.
func (s *Store) DB() *sql.DB { return s.db }

// Trace makes f see the text of every statement the store runs from now
// on (nil stops it), for tests and debugging. Statements carry values as
// bound parameters, so f never sees a token hash or an attribute value.
func (s *Store) Trace(f func(query string)) {
	if f == nil {
		s.trace.Store(nil)
		return
	}
	s.trace.Store(&f)
}

// queryRow runs a read on the database, prepared once per text where the
// dialect asks for it (SQLite compiles every unprepared statement anew).
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = s.sql(q)
	if st := s.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, q, args...)
}

// query is queryRow for several rows.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = s.sql(q)
	if st := s.prepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, q, args...)
}

// prepared returns q prepared on the database, or nil.
func (s *Store) prepared(ctx context.Context, q string) *sql.Stmt {
	if !s.d.Prepare() {
		return nil
	}
	return s.stmts.Get(ctx, q, s.db.PrepareContext)
}

// Close releases the prepared statements; the database stays open.
func (s *Store) Close() error { return s.stmts.Close() }

// StmtCache holds statements prepared once per text, up to a bound:
// filters of unusual shapes beyond it run unprepared. It is safe for
// concurrent use; the zero value is empty.
type StmtCache struct {
	mu    sync.Mutex           // guards stmts
	stmts map[string]*sql.Stmt // by text
}

// maxStmts bounds a StmtCache.
const maxStmts = 512

// Get returns the statement for q, preparing it with prepare, or nil
// when the cache is full or q does not prepare (running q unprepared
// then reports the error).
func (c *StmtCache) Get(ctx context.Context, q string, prepare func(context.Context, string) (*sql.Stmt, error)) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[q]; st != nil {
		return st
	}
	if len(c.stmts) >= maxStmts {
		return nil
	}
	st, err := prepare(ctx, q)
	if err != nil {
		return nil
	}
	if c.stmts == nil {
		c.stmts = make(map[string]*sql.Stmt)
	}
	c.stmts[q] = st
	return st
}

// Close closes and forgets every statement.
func (c *StmtCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}

// sql rebinds q for the dialect and traces it.
func (s *Store) sql(q string) string {
	q = s.d.Rebind(q)
	if f := s.trace.Load(); f != nil {
		(*f)(q)
	}
	return q
}

// write runs f in a write transaction, retrying the whole transaction when
// the database aborted it for a reason that retrying cures. Errors are
// mapped with the dialect's Classify.
func (s *Store) write(ctx context.Context, f func(tx Tx) error) error {
	return s.retry(ctx, s.d.Begin, f)
}

// Write runs f in one of s's write transactions, retried like the store's
// own (a backend exposes it to hosts with its own transaction type). It
// is a function, not a method, so that backends embedding *Store do not
// promote it.
func Write(ctx context.Context, s *Store, f func(tx Tx) error) error {
	return s.write(ctx, f)
}

// single is write for f running one statement, atomic on its own.
func (s *Store) single(ctx context.Context, f func(tx Tx) error) error {
	return s.retry(ctx, s.d.Single, f)
}

func (s *Store) retry(ctx context.Context, begin func(context.Context, *sql.DB) (Tx, error), f func(tx Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.tryWrite(ctx, begin, f)
		if err == nil {
			return nil
		}
		mapped, retry := s.classify(err)
		if !retry || attempt >= s.maxRetries || ctx.Err() != nil {
			if retry {
				return fmt.Errorf("%s: gave up after %d retries: %w: %w", s.d.Name(), attempt, storage.ErrUnavailable, err)
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

func (s *Store) tryWrite(ctx context.Context, begin func(context.Context, *sql.DB) (Tx, error), f func(tx Tx) error) (err error) {
	tx, err := begin(ctx, s.db)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// classify maps err once: storage sentinels and context errors pass
// through, driver errors go to the dialect.
func (s *Store) classify(err error) (error, bool) {
	for _, e := range []error{storage.ErrNotFound, storage.ErrConflict, storage.ErrVersionMismatch,
		storage.ErrInvalidMember, storage.ErrSeatLimit, storage.ErrUnavailable, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return err, false
		}
	}
	return s.d.Classify(err)
}

// read maps the error of a read.
func (s *Store) read(err error) error {
	if err == nil {
		return nil
	}
	mapped, retry := s.classify(err)
	if retry {
		return fmt.Errorf("%s: %w: %w", s.d.Name(), storage.ErrUnavailable, err)
	}
	return mapped
}

func (s *Store) notFound(kind storage.Kind, id string) error {
	return fmt.Errorf("%s: %s %q: %w", s.d.Name(), kind, id, storage.ErrNotFound)
}

// row is a resource's stored form.
type row struct {
	name, nameFold, externalID string
	// emails is the JSON array of the emails, emailFolds that of their
	// distinct lower-cased forms, which triggers copy to scimkit_emails.
	emails, emailFolds string
	data, fold         []byte
	// seat is 1 for a User holding a seat, else 0.
	seat int
}

func toRow(r *storage.Resource) (row, error) {
	w := row{name: r.Name, nameFold: strings.ToLower(r.Name), externalID: r.ExternalID, data: r.Data, emailFolds: "[]"}
	if r.Seat && r.Kind == storage.KindUser {
		w.seat = 1
	}
	if len(r.Emails) > 0 {
		b, err := json.Marshal(r.Emails)
		if err != nil {
			return row{}, err
		}
		w.emails = string(b)
		seen := make(map[string]bool, len(r.Emails))
		folds := make([]string, 0, len(r.Emails))
		for _, e := range r.Emails {
			if f := strings.ToLower(e); !seen[f] {
				seen[f] = true
				folds = append(folds, f)
			}
		}
		if b, err = json.Marshal(folds); err != nil {
			return row{}, err
		}
		w.emailFolds = string(b)
	}
	var err error
	if w.fold, err = foldDocument(r.Data); err != nil {
		return row{}, fmt.Errorf("sqlstore: %s %q: document: %w", r.Kind, r.ID, err)
	}
	return w, nil
}

// foldDocument returns doc with every string value (not key) lower-cased
// as strings.ToLower does, the form case-insensitive filters query.
func foldDocument(doc []byte) ([]byte, error) {
	if len(doc) == 0 {
		return []byte("{}"), nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(foldValue(v)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func foldValue(v any) any {
	switch v := v.(type) {
	case string:
		return strings.ToLower(v)
	case []any:
		for i := range v {
			v[i] = foldValue(v[i])
		}
	case map[string]any:
		for k, x := range v {
			v[k] = foldValue(x)
		}
	}
	return v
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Create stores r (RFC 7644 §3.3), a Group with its initial r.Members,
// and appends ev to the outbox, in one transaction. A taken id or name
// gives ErrConflict, a member naming no resource ErrInvalidMember.
func (s *Store) Create(ctx context.Context, tenant string, r *storage.Resource, ev ...storage.Event) error {
	w, err := toRow(r)
	if err != nil {
		return err
	}
	var add string
	if r.Kind == storage.KindGroup {
		if add, err = addRows(r.Members); err != nil {
			return err
		}
	}
	begin := s.d.Single
	if add != "" || len(ev) > 0 || w.seat == 1 || r.State != nil {
		begin = s.d.Begin // the seat check, members and events are one step with the insert
	}
	err = s.retry(ctx, begin, func(tx Tx) error {
		if w.seat == 1 {
			if err := s.checkSeat(ctx, tx, tenant); err != nil {
				return err
			}
		}
		if err := s.checkMembers(ctx, tx, tenant, r.ID, add); err != nil {
			return err
		}
		var rid int64
		if err := tx.QueryRowContext(ctx, s.sql(`INSERT INTO scimkit_resources
			(tenant, kind, id, name, name_fold, external_id, emails, email_folds, version, created, modified, data, fold, seat)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?) RETURNING rid`),
			tenant, string(r.Kind), r.ID, w.name, w.nameFold, w.externalID, w.emails, w.emailFolds,
			micros(r.Created), micros(r.Modified), string(w.data), string(w.fold), w.seat).Scan(&rid); err != nil {
			return err
		}
		if err := s.insertMembers(ctx, tx, tenant, rid, add); err != nil {
			return err
		}
		if err := s.stateOnWrite(ctx, tx, tenant, r); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, tenant, 1, ev)
	})
	if err != nil {
		return fmt.Errorf("%s: create %s %q: %w", s.d.Name(), r.Kind, r.ID, err)
	}
	r.Version = 1
	if c, ok := s.d.(creationObserver); ok {
		c.Created(ctx, s.db)
	}
	return nil
}

// creationObserver is a Dialect that wants to know of every Create (for
// PostgreSQL's first statistics).
type creationObserver interface {
	Created(ctx context.Context, db *sql.DB)
}

const resourceColumns = "r.rid, r.id, r.external_id, r.name, r.emails, r.version, r.created, r.modified, r.data, r.seat"

// scanResource reads the columns of resourceColumns.
func scanResource(sc interface{ Scan(...any) error }, kind storage.Kind) (int64, *storage.Resource, error) {
	var (
		rid               int64
		r                 = &storage.Resource{Kind: kind}
		emails            string
		created, modified int64
		seat              int
	)
	if err := sc.Scan(&rid, &r.ID, &r.ExternalID, &r.Name, &emails, &r.Version, &created, &modified, &r.Data, &seat); err != nil {
		return 0, nil, err
	}
	r.Seat = seat == 1
	if emails != "" {
		if err := json.Unmarshal([]byte(emails), &r.Emails); err != nil {
			return 0, nil, fmt.Errorf("sqlstore: %s %q: emails column: %w", kind, r.ID, err)
		}
	}
	r.Created, r.Modified = fromMicros(created), fromMicros(modified)
	return rid, r, nil
}

// Get returns the resource or ErrNotFound.
func (s *Store) Get(ctx context.Context, tenant string, kind storage.Kind, id string) (*storage.Resource, error) {
	_, r, err := scanResource(s.queryRow(ctx, `SELECT `+resourceColumns+`
		FROM scimkit_resources r WHERE r.tenant = ? AND r.kind = ? AND r.id = ?`, tenant, string(kind), id), kind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound(kind, id)
	}
	if err != nil {
		return nil, s.read(err)
	}
	return r, nil
}

// Replace stores r over the stored resource if r.Version is the stored
// version (RFC 7644 §3.5.1, §3.14): one UPDATE that checks the version.
func (s *Store) Replace(ctx context.Context, tenant string, r *storage.Resource, ev ...storage.Event) error {
	w, err := toRow(r)
	if err != nil {
		return err
	}
	begin := s.d.Single
	if len(ev) > 0 || w.seat == 1 || r.State != nil {
		begin = s.d.Begin // the seat check, the update and the events are one step
	}
	err = s.retry(ctx, begin, func(tx Tx) error {
		if w.seat == 1 {
			var had int
			err := tx.QueryRowContext(ctx, s.sql(`SELECT seat FROM scimkit_resources
				WHERE tenant = ? AND kind = ? AND id = ?`), tenant, string(r.Kind), r.ID).Scan(&had)
			if errors.Is(err, sql.ErrNoRows) {
				return s.notFound(r.Kind, r.ID)
			}
			if err != nil {
				return err
			}
			if had == 0 {
				if err := s.checkSeat(ctx, tx, tenant); err != nil {
					return err
				}
			}
		}
		if _, err := s.update(ctx, tx, tenant, r, w, r.Modified); err != nil {
			return err
		}
		if err := s.stateOnWrite(ctx, tx, tenant, r); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, tenant, r.Version+1, ev)
	})
	if err != nil {
		return fmt.Errorf("%s: replace %s %q: %w", s.d.Name(), r.Kind, r.ID, err)
	}
	r.Version++
	return nil
}

// update writes r's attributes over the row with r's kind and id when its
// version is r.Version, and returns the row id. It tells ErrNotFound from
// ErrVersionMismatch.
func (s *Store) update(ctx context.Context, tx Tx, tenant string, r *storage.Resource, w row, modified time.Time) (int64, error) {
	var rid int64
	err := tx.QueryRowContext(ctx, s.sql(`UPDATE scimkit_resources SET
		name = ?, name_fold = ?, external_id = ?, emails = ?, email_folds = ?, version = version + 1, modified = ?, data = ?, fold = ?, seat = ?
		WHERE tenant = ? AND kind = ? AND id = ? AND version = ? RETURNING rid`),
		w.name, w.nameFold, w.externalID, w.emails, w.emailFolds, micros(modified), string(w.data), string(w.fold), w.seat,
		tenant, string(r.Kind), r.ID, r.Version).Scan(&rid)
	if !errors.Is(err, sql.ErrNoRows) {
		return rid, err
	}
	var version int64
	err = tx.QueryRowContext(ctx, s.sql(`SELECT version FROM scimkit_resources
		WHERE tenant = ? AND kind = ? AND id = ?`), tenant, string(r.Kind), r.ID).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, s.notFound(r.Kind, r.ID)
	case err != nil:
		return 0, err
	}
	return 0, fmt.Errorf("%s: %s %q has version %d, not %d: %w", s.d.Name(), r.Kind, r.ID, version, r.Version, storage.ErrVersionMismatch)
}

// Delete removes the resource, its emails, its members and every
// membership naming it, and appends ev to the outbox.
func (s *Store) Delete(ctx context.Context, tenant string, kind storage.Kind, id string, ev ...storage.Event) error {
	return s.write(ctx, func(tx Tx) error { return s.deleteTx(ctx, tx, tenant, kind, id, ev) })
}

// deleteTx is Delete inside the transaction tx.
func (s *Store) deleteTx(ctx context.Context, tx Tx, tenant string, kind storage.Kind, id string, ev []storage.Event) error {
	var rid, version int64
	err := tx.QueryRowContext(ctx, s.sql(`SELECT rid, version FROM scimkit_resources
		WHERE tenant = ? AND kind = ? AND id = ?`+s.d.ForUpdate()), tenant, string(kind), id).Scan(&rid, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return s.notFound(kind, id)
	}
	if err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM scimkit_members WHERE member_rid = ?`,
		`DELETE FROM scimkit_members WHERE group_rid = ?`,
		`DELETE FROM scimkit_emails WHERE rid = ?`,
		`DELETE FROM scimkit_resources WHERE rid = ?`,
	} {
		if _, err := tx.ExecContext(ctx, s.sql(q), rid); err != nil {
			return err
		}
	}
	return s.appendEvents(ctx, tx, tenant, version, ev)
}
