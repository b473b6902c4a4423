package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/sqlite"
	"github.com/scimkit/scimkit/storage/sqlstore/sqlstoretest"
	"github.com/scimkit/scimkit/storage/storagetest"
)

// open returns a store on a new database file in a temporary directory.
func open(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "scim.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestStore(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t) })
}

func TestSQL(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T) sqlstoretest.Opener {
		path := filepath.Join(t.TempDir(), "scim.db")
		return sqlstoretest.Closed(t, func(ctx context.Context) (*sqlite.Store, error) { return sqlite.Open(ctx, path) })
	})
}

// BenchmarkStore: go test -run XXX -bench . ./storage/sqlite
func BenchmarkStore(b *testing.B) {
	path := filepath.Join(b.TempDir(), "scim.db")
	sqlstoretest.Bench(b, sqlstoretest.Closed(b, func(ctx context.Context) (*sqlite.Store, error) { return sqlite.Open(ctx, path) }))
}
