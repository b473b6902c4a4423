package sqlite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	msqlite "modernc.org/sqlite"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/sqlite"
)

// flipConnector opens SQLite connections read-write, or read-only
// (mode=ro: SQLite's own read-only file access) while readOnly is set.
type flipConnector struct {
	path     string
	readOnly atomic.Bool
}

func (c *flipConnector) Connect(context.Context) (driver.Conn, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	if c.readOnly.Load() {
		q.Set("mode", "ro")
	}
	return (&msqlite.Driver{}).Open("file:" + c.path + "?" + q.Encode())
}

func (c *flipConnector) Driver() driver.Driver { return &msqlite.Driver{} }

// TestReadOnlyDatabase makes the database file read-only while the server
// runs, as a disk remounted read-only or a restore in progress does: the
// store's write connection is made read-only (PRAGMA query_only: an open
// read-write handle keeps writing through a chmod, and root ignores file
// modes anyway), and every connection opened meanwhile opens the file
// read-only (mode=ro). SQLite answers writes with "attempt to write a
// readonly database" (SQLITE_READONLY). Writes get 503 with Retry-After
// and change nothing, reads go on, and once the file is writable again the
// server writes with no restart.
func TestReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	conn := &flipConnector{path: filepath.Join(t.TempDir(), "scim.db")}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { _ = db.Close() })
	s, err := sqlite.New(ctx, db)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	srv, err := scimkit.New(s, s)
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(ctx, s, "acme", "test-token"))
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer test-token")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w
	}
	user := func(name string) string {
		return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + name + `"}`
	}
	w := do(http.MethodPost, "/Users", user("ann"))
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	id := strings.Split(strings.Split(w.Body.String(), `"id":"`)[1], `"`)[0]
	before := do(http.MethodGet, "/Users", "").Body.String()

	conn.readOnly.Store(true)
	// Connections opened before would fail too on a read-only disk: drop
	// the idle ones, so the pool opens new, read-only ones.
	db.SetMaxIdleConns(0)
	db.SetMaxIdleConns(2)
	require.NoError(t, s.Write(ctx, func(tx sqlite.Tx) error {
		_, err := tx.ExecContext(ctx, "PRAGMA query_only = 1")
		return err
	}))
	for i := range 2 { // the second round runs on a writer reopened read-only
		for _, req := range []struct{ method, path, body string }{
			{http.MethodPost, "/Users", user("bob")},
			{http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":"` + id + `"}]}`},
			{http.MethodPatch, "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Ann"}]}`},
			{http.MethodDelete, "/Users/" + id, ""},
		} {
			w := do(req.method, req.path, req.body)
			assert.Equal(t, http.StatusServiceUnavailable, w.Code, "round %d: %s %s: %s", i, req.method, req.path, w.Body.String())
			assert.Equal(t, "5", w.Header().Get("Retry-After"))
			assert.Contains(t, w.Body.String(), `"status":"503"`)
			assert.NotContains(t, w.Body.String(), "readonly", "no driver text")
		}
	}
	w = do(http.MethodGet, "/Users", "")
	assert.Equal(t, http.StatusOK, w.Code, "reads go on")
	assert.Equal(t, before, w.Body.String(), "nothing was written")
	assert.Contains(t, do(http.MethodGet, "/Groups", "").Body.String(), `"totalResults":0`, "no half-created group")

	conn.readOnly.Store(false)
	// The pool may hold connections opened read-only meanwhile: each
	// failed write discards one; the IdP's retries get through once
	// they are gone.
	tries := 0
	for w = do(http.MethodPost, "/Users", user("bob")); w.Code == http.StatusServiceUnavailable && tries < 5; tries++ {
		w = do(http.MethodPost, "/Users", user("bob"))
	}
	assert.Equal(t, http.StatusCreated, w.Code, "recovered without a restart: %s", w.Body.String())
	t.Logf("writes refused after the file became writable again: %d", tries)
	w = do(http.MethodPatch, "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Ann"}]}`)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
}
