package postgres_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/postgres"
	"github.com/scimkit/scimkit/storage/sqlstore/sqlstoretest"
)

// TestIndexedLookups checks with EXPLAIN that PostgreSQL can answer every
// IdP lookup, and the unfiltered page in creation order, from an index.
// The tables are analyzed and sequential scans disabled for the check
// (they are too small for the planner to prefer an index on its own), so
// a plan that still scans means no index applies. A page's rows may be
// sorted after they were found: that sorts at most a page.
func TestIndexedLookups(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	conn, err := s.DB().Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	statements := sqlstoretest.IndexedStatements(t, s)
	for _, q := range []string{"ANALYZE", "SET enable_seqscan = off"} {
		_, err = conn.ExecContext(ctx, q)
		require.NoError(t, err)
	}
	for _, st := range statements {
		t.Run(st.Name, func(t *testing.T) {
			rows, err := conn.QueryContext(ctx, "EXPLAIN "+st.SQL, st.Args...)
			require.NoError(t, err)
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var line string
				require.NoError(t, rows.Scan(&line))
				plan = append(plan, line)
			}
			require.NoError(t, rows.Err())
			p := strings.Join(plan, "\n")
			assert.Regexp(t, st.Index, p, "plan:\n%s", p)
			assert.NotContains(t, p, "Seq Scan", "plan:\n%s", p)
		})
	}
}

// TestSerializationFailureIsRetried makes the server abort the first two
// attempts of a write with SQLSTATE 40001 (from a trigger counting on a
// sequence, which a rollback does not undo) and checks that the store
// retried the transaction until it went through.
func TestSerializationFailureIsRetried(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for _, q := range []string{
		`CREATE SEQUENCE flaky`,
		`CREATE FUNCTION flaky() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('flaky') <= 2 THEN
				RAISE EXCEPTION 'injected' USING ERRCODE = 'serialization_failure';
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER flaky BEFORE INSERT OR UPDATE ON scimkit_credentials FOR EACH ROW EXECUTE FUNCTION flaky()`,
	} {
		_, err := s.DB().ExecContext(ctx, q)
		require.NoError(t, err)
	}
	require.NoError(t, s.CreateCredential(ctx, "acme", storage.Credential{ID: "c1"}, []byte("h")))
	var calls int
	require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT last_value FROM flaky`).Scan(&calls))
	assert.Equal(t, 3, calls, "two aborted attempts, then the one that went through")
	c, err := s.CredentialByHash(ctx, []byte("h"))
	require.NoError(t, err)
	assert.Equal(t, "acme", c.Tenant)
}

// TestConnectionLoss kills the store's connections from the server side,
// then closes the pool: the store reports ErrUnavailable (never a
// driver error the server would answer with 500), recovers from killed
// connections, and the server answers 503 with Retry-After.
func TestConnectionLoss(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	s, err := postgres.New(ctx, pool)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, scimkit.SetToken(ctx, s, "acme", "test-token"))
	srv, err := scimkit.New(s, s)
	require.NoError(t, err)
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/Users?filter=userName%20eq%20%22x%22", nil)
		req.Header.Set("Authorization", "Bearer test-token")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w
	}
	require.Equal(t, http.StatusOK, get().Code)

	admin := newAdmin(t)
	_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE pid <> pg_backend_pid() AND query NOT ILIKE '%pg_terminate_backend%' AND datname = current_database()
		AND backend_type = 'client backend' AND application_name = 'scimkit-test-store'`)
	require.NoError(t, err)
	// A killed connection fails the request that finds it, with 503; the
	// pool then opens new ones.
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := get()
		if w.Code == http.StatusOK {
			break
		}
		require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
		require.True(t, time.Now().Before(deadline), "the store did not recover")
	}

	pool.Close()
	_, err = s.Get(ctx, "acme", storage.KindUser, "u1")
	assert.ErrorIs(t, err, storage.ErrUnavailable)
	w := get()
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	assert.Contains(t, w.Body.String(), `"status":"503"`)
	assert.NotContains(t, w.Body.String(), "pool")
}
