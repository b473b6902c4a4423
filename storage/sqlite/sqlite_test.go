package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
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

func TestTokenMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scim.db")
	sqlstoretest.TokenMigration(t, sqlstoretest.Closed(t, func(ctx context.Context) (*sqlite.Store, error) { return sqlite.Open(ctx, path) }),
		`CREATE TABLE scimkit_tokens (tenant TEXT PRIMARY KEY, hash BLOB NOT NULL UNIQUE)`,
		`INSERT INTO scimkit_tokens (tenant, hash) VALUES
			('acme', X'`+hex.EncodeToString(scimkit.HashToken("old-token-acme"))+`'),
			('globex', X'`+hex.EncodeToString(scimkit.HashToken("old-token-globex"))+`')`)
}

// TestNewRefusesOneConnection: a handle limited to one connection would
// leave reads waiting for the connection the writer keeps, so New refuses
// it instead of timing out on the first request.
func TestNewRefusesOneConnection(t *testing.T) {
	tests := []struct {
		name    string
		maxOpen int
		wantErr bool
	}{
		{"one connection is refused", 1, true},
		{"two connections work", 2, false},
		{"no limit works", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "scim.db"))
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			db.SetMaxOpenConns(tc.maxOpen)
			s, err := sqlite.New(ctx, db)
			if tc.wantErr {
				require.ErrorContains(t, err, "SetMaxOpenConns(1)")
				assert.Nil(t, s)
				return
			}
			require.NoError(t, err)
			defer s.Close()
			// A write and a read both finish well within the deadline.
			require.NoError(t, s.CreateCredential(ctx, "acme", storage.Credential{ID: "c1", Tenant: "acme", Label: "t", Created: time.Now()}, []byte("h")))
			require.NoError(t, s.Create(ctx, "acme", &storage.Resource{Kind: storage.KindUser, ID: "u1", Name: "u1", Version: 1, Data: []byte(`{}`)}))
			p, err := s.List(ctx, "acme", storage.Query{Kind: storage.KindUser})
			require.NoError(t, err)
			assert.Equal(t, 1, p.Total)
		})
	}
}
