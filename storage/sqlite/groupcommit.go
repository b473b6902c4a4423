package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Group commit. SQLite has one writer and a commit costs more than most
// writes, so concurrent writes of this process share one transaction:
//
//   - The first write takes the writer, issues BEGIN IMMEDIATE and runs in
//     the transaction. When it finishes and other writes are waiting for
//     the writer, it leaves the transaction open for them and waits.
//   - Each later write runs inside a SAVEPOINT of its own, released when
//     it succeeds and rolled back when it fails (a taken userName, a
//     version mismatch, a seat limit): its failure undoes its own
//     statements and nothing of the others.
//   - The write that finds nobody waiting (or the batch full) commits, and
//     every write of the batch gets the commit's outcome. A write returns
//     only after the commit that holds it, so nothing is acknowledged
//     before it is durable, as without batching.
//
// When the transaction itself is lost (SQLite rolls it back on an I/O
// error, a full disk or a broken connection), every write of the batch
// fails with that error; none was acknowledged.

// defaultMaxBatch bounds the writes one transaction collects: the first
// write of a batch waits for at most that many others.
const defaultMaxBatch = 64

// savepoint names the savepoint of a write that joined a transaction.
const savepoint = "scimkit_write"

// batch is the writes of one transaction.
type batch struct {
	joined int           // writes that ran in the transaction, failed ones included
	n      int           // writes done in the transaction, awaiting its commit
	err    error         // the commit's outcome, set before done closes
	lost   error         // why the transaction is gone (rolled back under the batch), if it is
	done   chan struct{} // closed when the transaction ended
}

// join runs a write in the open transaction, inside a savepoint. The
// caller holds mu.
func (d *dialect) join(ctx context.Context) (*tx, error) {
	if _, err := d.exec(ctx, "SAVEPOINT "+savepoint); err != nil {
		d.lose(err)
		d.leave()
		return nil, err
	}
	d.batch.joined++
	return &tx{d: d, b: d.batch, sp: true}, nil
}

// exec runs a statement of the writer's own, prepared once. With no
// writer (the store was closed, or the connection broke, while a batch's
// transaction was open) it fails with sql.ErrConnDone, which ends the
// batch with that error.
func (d *dialect) exec(ctx context.Context, q string) (sql.Result, error) {
	if d.conn == nil {
		return nil, sql.ErrConnDone
	}
	ctx = context.WithoutCancel(ctx)
	if st := d.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx)
	}
	return d.conn.ExecContext(ctx, q)
}

// lose records that the transaction is gone, or may be: the error came
// from a statement that manages it (SAVEPOINT, RELEASE, ROLLBACK TO).
// The caller holds mu.
func (d *dialect) lose(err error) {
	if d.batch != nil && d.batch.lost == nil {
		d.batch.lost = fmt.Errorf("sqlite: the transaction shared by concurrent writes was lost: %w", err)
	}
	d.drop(err)
}

// Commit adds the write to its batch and returns once the batch's
// transaction has ended: nil when it committed.
func (t *tx) Commit() error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	d, b := t.d, t.b
	if t.sp {
		if _, err := d.exec(context.Background(), "RELEASE "+savepoint); err != nil {
			d.lose(err)
		}
	}
	b.n++
	d.leave()
	<-b.done
	return b.err
}

// Rollback undoes the write alone and returns at once: none of it will
// commit.
func (t *tx) Rollback() error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	d := t.d
	var err error
	if t.sp {
		if _, err = d.exec(context.Background(), "ROLLBACK TO "+savepoint); err == nil {
			_, err = d.exec(context.Background(), "RELEASE "+savepoint)
		}
		if err != nil {
			d.lose(err)
		}
	}
	// The first write of a batch has no savepoint; with nothing else in
	// the transaction (b.n == 0), leave rolls the transaction back.
	d.leave()
	return err
}

// leave lets go of the writer after a write: it hands the open
// transaction to a waiting write, or ends it (commit, or rollback when it
// holds no write or is lost) and tells its batch. The caller holds mu;
// leave releases it.
func (d *dialect) leave() {
	defer d.mu.Unlock()
	if !d.open {
		return
	}
	b := d.batch
	max := d.maxBatch
	if max <= 0 {
		max = defaultMaxBatch
	}
	// The bound counts failed writes too: writes that retry a version
	// mismatch against a row the batch changed (and other connections
	// see unchanged until the commit) must not keep it open forever.
	if b.lost == nil && d.conn != nil && b.n > 0 && b.joined < max && d.waiting.Load() > 0 {
		return // a waiting write continues the transaction and ends it
	}
	var err error
	switch {
	case d.conn == nil && b.lost == nil:
		b.lost = errors.New("sqlite: the writer's connection broke")
	case d.conn == nil:
	case b.lost != nil || b.n == 0:
		if _, rerr := d.conn.ExecContext(context.Background(), "ROLLBACK"); rerr != nil && b.lost == nil {
			d.drop(rerr)
		}
	default:
		// A commit must not be cut short by a cancelled request.
		if _, err = d.conn.ExecContext(context.Background(), "COMMIT"); err != nil {
			_, _ = d.conn.ExecContext(context.Background(), "ROLLBACK")
			d.drop(err)
		}
	}
	if b.lost != nil {
		err = b.lost
	}
	d.open, d.batch = false, nil
	d.commits.Add(1)
	d.writes.Add(int64(b.n))
	b.err = err
	close(b.done)
}
