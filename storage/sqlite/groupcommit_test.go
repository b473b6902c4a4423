package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

func testUser(id, name string) *storage.Resource {
	t := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	return &storage.Resource{Kind: storage.KindUser, ID: id, Name: name, Created: t, Modified: t,
		Data: []byte(`{"userName":"` + name + `"}`)}
}

// holdWriter takes the store's writer until n other writes wait for it,
// so that those n then run in one shared transaction, and returns once it
// has let go.
func holdWriter(t *testing.T, s *Store, n int, start func()) {
	t.Helper()
	err := s.Write(context.Background(), func(Tx) error {
		start()
		deadline := time.Now().Add(10 * time.Second)
		for s.writer.waiting.Load() < int32(n) {
			if time.Now().After(deadline) {
				return fmt.Errorf("only %d of %d writes queued", s.writer.waiting.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	})
	require.NoError(t, err)
}

// TestGroupCommitIsolatesFailures queues writes behind the writer so that
// they share one transaction, some of them failing: a create whose
// userName is taken, a replace with a stale version, and a host write
// that inserts a row and then returns an error. Each failing write gets
// its own error and leaves nothing behind (its savepoint is rolled back,
// its outbox event too); every other write commits, is readable from
// another connection, and got its answer only once committed. Without
// per-write savepoints the failed host write's row would commit with the
// batch; without batching the commit count would equal the writes.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "scim.db"))
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Write(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE host_rows (v TEXT NOT NULL)`)
		return err
	}))
	require.NoError(t, s.Create(ctx, "acme", testUser("taken", "taken@x.test")))
	require.NoError(t, s.Create(ctx, "acme", testUser("stale", "stale@x.test")))

	const good = 24
	type result struct {
		name string
		err  error
	}
	var (
		wg      sync.WaitGroup
		results = make(chan result, good+3)
	)
	ev := func(id string) storage.Event {
		return storage.Event{ID: "ev-" + id, Kind: storage.KindUser, ResourceID: id, Type: "user.created",
			Time: time.Now(), Data: []byte(`{}`)}
	}
	commits := s.writer.commits.Load()
	holdWriter(t, s, good+3, func() {
		for i := range good {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("u%02d", i)
				results <- result{id, s.Create(ctx, "acme", testUser(id, id+"@x.test"), ev(id))}
			}()
		}
		wg.Add(3)
		go func() {
			defer wg.Done()
			results <- result{"conflict", s.Create(ctx, "acme", testUser("dup", "TAKEN@x.test"), ev("dup"))}
		}()
		go func() {
			defer wg.Done()
			r := testUser("stale", "stale2@x.test")
			r.Version = 7
			results <- result{"stale", s.Replace(ctx, "acme", r, ev("stale"))}
		}()
		go func() {
			defer wg.Done()
			results <- result{"host", s.Write(ctx, func(tx Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO host_rows (v) VALUES ('rolled back')`); err != nil {
					return err
				}
				return errors.New("host write failed")
			})}
		}()
	})
	wg.Wait()
	close(results)
	for r := range results {
		switch r.name {
		case "conflict":
			assert.ErrorIs(t, r.err, storage.ErrConflict)
		case "stale":
			assert.ErrorIs(t, r.err, storage.ErrVersionMismatch)
		case "host":
			assert.EqualError(t, r.err, "host write failed")
		default:
			assert.NoError(t, r.err, r.name)
		}
	}
	// good+3 writes and the holder's in far fewer transactions.
	assert.Less(t, s.writer.commits.Load()-commits, int64(good/2), "writes were not batched")

	// Read back on the reader pool: every good write, nothing of the
	// failed ones.
	for i := range good {
		id := fmt.Sprintf("u%02d", i)
		got, err := s.Get(ctx, "acme", storage.KindUser, id)
		require.NoError(t, err, id)
		assert.Equal(t, id+"@x.test", got.Name)
	}
	_, err = s.Get(ctx, "acme", storage.KindUser, "dup")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	got, err := s.Get(ctx, "acme", storage.KindUser, "stale")
	require.NoError(t, err)
	assert.Equal(t, "stale@x.test", got.Name)
	var n int
	require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM host_rows`).Scan(&n))
	assert.Zero(t, n, "the failed host write's row committed")
	evs, err := s.ListEvents(ctx, "acme", 0, 1000)
	require.NoError(t, err)
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ResourceID)
	}
	assert.Len(t, ids, good)
	assert.NotContains(t, ids, "dup")
	assert.NotContains(t, ids, "stale")
}

// TestGroupCommitFirstWriteFails: the first write of a batch runs
// without a savepoint; when it fails, the writes queued behind it still
// commit in a transaction of their own.
func TestGroupCommitFirstWriteFails(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "scim.db"))
	require.NoError(t, err)
	defer s.Close()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	err = s.Write(ctx, func(tx Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE host_rows (v TEXT NOT NULL)`); err != nil {
			return err
		}
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Create(ctx, "acme", testUser(fmt.Sprint(i), fmt.Sprintf("u%d@x.test", i)))
			}()
		}
		for s.writer.waiting.Load() < n {
			time.Sleep(time.Millisecond)
		}
		return errors.New("first write failed")
	})
	require.EqualError(t, err, "first write failed")
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, i)
		_, err := s.Get(ctx, "acme", storage.KindUser, fmt.Sprint(i))
		require.NoError(t, err, i)
	}
	// The failed write's CREATE TABLE was rolled back with it.
	_, err = s.DB().ExecContext(ctx, `SELECT * FROM host_rows`)
	assert.ErrorContains(t, err, "no such table")
}

// TestGroupCommitCrash kills a process that writes with many writes in
// flight (so that they share transactions) and checks that every write
// it acknowledged is in the database: a write returns only after the
// commit that holds it. The child is this test binary, re-run.
func TestGroupCommitCrash(t *testing.T) {
	if path := os.Getenv("SCIMKIT_GROUPCOMMIT_CHILD"); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "scim.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestGroupCommitCrash$")
	cmd.Env = append(os.Environ(), "SCIMKIT_GROUPCOMMIT_CHILD="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked = append(acked, id)
			if len(acked) == 400 {
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
				break
			}
		}
	}
	_ = cmd.Wait()
	require.Len(t, acked, 400, "the child stopped early")

	s, err := Open(context.Background(), path)
	require.NoError(t, err)
	defer s.Close()
	for _, id := range acked {
		_, err := s.Get(context.Background(), "acme", storage.KindUser, id)
		require.NoError(t, err, "acknowledged write %s lost", id)
	}
}

// crashChild creates users from 16 goroutines until it is killed,
// printing each acknowledged id, while a slow write holds the writer now
// and then.
func crashChild(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	// A slow write joins the batches now and then, holding their commit
	// back: a write acknowledged before its commit would be lost when
	// the kill lands meanwhile.
	go func() {
		for {
			_ = s.Write(ctx, func(Tx) error { time.Sleep(20 * time.Millisecond); return nil })
			time.Sleep(time.Millisecond)
		}
	}()
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				if err := s.Create(ctx, "acme", testUser(id, id+"@x.test")); err != nil {
					fmt.Println("create:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Println("acked " + id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestWriteAfterCloseInBatch: the store closed (its writer gone) while a
// batch's transaction was open, as when a host closes the store while a
// background write (a credential's last use) is queued behind others.
// The queued write gets an error and the batch ends with it; it used to
// dereference the nil writer and crash the process.
func TestWriteAfterCloseInBatch(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "scim.db"))
	require.NoError(t, err)
	defer s.Close()
	d := s.writer
	d.mu.Lock()
	b := &batch{joined: 1, n: 1, done: make(chan struct{})}
	d.open, d.batch = true, b
	require.NoError(t, d.closeWriter())
	d.mu.Unlock()

	began := make(chan error, 1)
	go func() { _, err := d.Begin(ctx, s.DB()); began <- err }()
	select {
	case err = <-began:
		require.ErrorIs(t, err, sql.ErrConnDone)
	case <-time.After(5 * time.Second):
		t.Fatal("the write never returned")
	}
	select {
	case <-b.done:
		assert.Error(t, b.err, "the batch ended with the error")
	case <-time.After(5 * time.Second):
		t.Fatal("the batch never ended")
	}
}
