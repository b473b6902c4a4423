package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/sqlite"
	"github.com/scimkit/scimkit/storage/sqlstore/sqlstoretest"
)

// TestIndexedLookups checks with EXPLAIN QUERY PLAN that SQLite answers
// every IdP lookup, and the unfiltered page in creation order, from an
// index: no full scan of the resources and no sort.
func TestIndexedLookups(t *testing.T) {
	s := open(t)
	for _, st := range sqlstoretest.IndexedStatements(t, s) {
		t.Run(st.Name, func(t *testing.T) {
			rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+st.SQL, st.Args...)
			require.NoError(t, err)
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
				plan = append(plan, detail)
			}
			require.NoError(t, rows.Err())
			p := strings.Join(plan, "\n")
			assert.Regexp(t, st.Index, p, "plan:\n%s", p)
			for _, line := range plan {
				assert.NotRegexp(t, `^SCAN (r|scimkit_resources)\b`, line, "full scan of the resources:\n%s", p)
				if strings.HasPrefix(st.Name, "page") { // lookups and member adds sort their few rows
					assert.NotContains(t, line, "TEMP B-TREE", "sort instead of index order:\n%s", p)
				}
				assert.NotRegexp(t, `scimkit_resources_id \(tenant=\?( AND kind=\?)?\)`, line, "id lookup on an index prefix:\n%s", p)
			}
		})
	}
}

// TestBusyDatabaseIsWaitedFor holds SQLite's write lock from another
// connection (as another process would) and checks that a write waits
// for it instead of failing, on a database the store opened and on one
// the host opened without a busy timeout.
func TestBusyDatabaseIsWaitedFor(t *testing.T) {
	openers := map[string]func(t *testing.T, path string) *sqlite.Store{
		"Open": func(t *testing.T, path string) *sqlite.Store {
			s, err := sqlite.Open(context.Background(), path)
			require.NoError(t, err)
			return s
		},
		"New": func(t *testing.T, path string) *sqlite.Store {
			db, err := sql.Open("sqlite", "file:"+path)
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			s, err := sqlite.New(context.Background(), db)
			require.NoError(t, err)
			return s
		},
	}
	for name, openStore := range openers {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "scim.db")
			s := openStore(t, path)
			defer s.Close()
			require.NoError(t, s.CreateCredential(ctx, "warm", storage.Credential{ID: "w"}, []byte("w")), "the writer is open")

			other, err := sql.Open("sqlite", "file:"+path)
			require.NoError(t, err)
			defer other.Close()
			conn, err := other.Conn(ctx)
			require.NoError(t, err)
			defer conn.Close()
			_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
			require.NoError(t, err)
			released := make(chan struct{})
			go func() {
				time.Sleep(300 * time.Millisecond)
				_, err := conn.ExecContext(ctx, "COMMIT")
				assert.NoError(t, err)
				close(released)
			}()

			start := time.Now()
			require.NoError(t, s.CreateCredential(ctx, "acme", storage.Credential{ID: "c1"}, []byte("h")))
			assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "the write waited for the lock")
			<-released
			c, err := s.CredentialByHash(ctx, []byte("h"))
			require.NoError(t, err)
			assert.Equal(t, "acme", c.Tenant)
		})
	}
}

// TestErrors checks the translation of SQLite errors: a uniqueness
// violation is ErrConflict, a closed database ErrUnavailable, which the
// server answers with 503 and Retry-After and no driver text.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	u := &storage.Resource{Kind: storage.KindUser, ID: "u1", Name: "Ann", Data: []byte(`{"userName":"Ann"}`)}
	require.NoError(t, s.Create(ctx, "acme", u))
	dup := *u
	dup.ID, dup.Name = "u2", "ANN"
	assert.ErrorIs(t, s.Create(ctx, "acme", &dup), storage.ErrConflict)

	srv, err := scimkit.New(s, s)
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(ctx, s, "acme", "test-token"))
	require.NoError(t, s.Close()) // as a lost database would leave it

	_, err = s.Get(ctx, "acme", storage.KindUser, "u1")
	assert.ErrorIs(t, err, storage.ErrUnavailable)
	assert.ErrorIs(t, s.Create(ctx, "acme", &dup), storage.ErrUnavailable)

	req := httptest.NewRequest(http.MethodGet, "/Users", nil)
	req.Header.Set("Authorization", "Bearer test-token")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	assert.Contains(t, w.Body.String(), `"status":"503"`)
	assert.NotContains(t, w.Body.String(), "sql")
}

func TestOpenRejectsMemoryDatabases(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file::memory:"} {
		_, err := sqlite.Open(context.Background(), p)
		assert.Error(t, err, p)
	}
}

// TestWrite runs a host's statements on the store's writer: they commit
// together, and an error rolls them all back.
func TestWrite(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	_, err := s.DB().ExecContext(ctx, `CREATE TABLE accounts (user_id TEXT PRIMARY KEY, quota INTEGER NOT NULL)`)
	require.NoError(t, err)
	count := func() (n int) {
		require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n))
		return n
	}
	require.NoError(t, s.Write(ctx, func(tx sqlite.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts VALUES ('u1', 10), ('u2', 10)`)
		return err
	}))
	assert.Equal(t, 2, count())

	boom := errors.New("boom")
	err = s.Write(ctx, func(tx sqlite.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts VALUES ('u3', 10)`); err != nil {
			return err
		}
		return boom
	})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 2, count(), "the failed write left nothing")

	err = s.Write(ctx, func(tx sqlite.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts VALUES ('u1', 10)`)
		return err
	})
	assert.ErrorIs(t, err, storage.ErrConflict, "driver errors are translated")
}
