package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/postgres"
	"github.com/scimkit/scimkit/storage/sqlstore/sqlstoretest"
	"github.com/scimkit/scimkit/storage/storagetest"
)

// dsnEnv names the database the tests use. ./test.sh sets it to a
// throwaway cluster when PostgreSQL is installed.
const dsnEnv = "SCIMKIT_POSTGRES_DSN"

// newPool returns a pool whose search_path is a new, empty schema that is
// dropped after the test, so parallel tests never see each other's rows.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://user@127.0.0.1:5432/db?sslmode=disable), "+
			"or run ./test.sh, which starts a throwaway server when the postgresql package is installed", dsnEnv)
	}
	ctx := context.Background()
	admin := newAdmin(t)
	schema := "t_" + hex.EncodeToString(randomBytes(t, 6))
	_, err := admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		require.NoError(t, err)
	})
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = "scimkit-test-store"
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// newAdmin returns a pool on the test database's default schema.
func newAdmin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	admin, err := pgxpool.New(context.Background(), os.Getenv(dsnEnv))
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	return admin
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func open(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.New(context.Background(), newPool(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestStore(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t) })
}

func TestSQL(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T) sqlstoretest.Opener {
		pool := newPool(t)
		return sqlstoretest.Closed(t, func(ctx context.Context) (*postgres.Store, error) { return postgres.New(ctx, pool) })
	})
}

// BenchmarkStore: SCIMKIT_POSTGRES_DSN=... go test -run XXX -bench . ./storage/postgres
func BenchmarkStore(b *testing.B) {
	pool := newPool(b)
	sqlstoretest.Bench(b, sqlstoretest.Closed(b, func(ctx context.Context) (*postgres.Store, error) { return postgres.New(ctx, pool) }))
}

func TestTokenMigration(t *testing.T) {
	pool := newPool(t)
	sqlstoretest.TokenMigration(t, sqlstoretest.Closed(t, func(ctx context.Context) (*postgres.Store, error) { return postgres.New(ctx, pool) }),
		`CREATE TABLE scimkit_tokens (tenant text COLLATE "C" PRIMARY KEY, hash bytea NOT NULL UNIQUE)`,
		`INSERT INTO scimkit_tokens (tenant, hash) VALUES
			('acme', '\x`+hex.EncodeToString(scimkit.HashToken("old-token-acme"))+`'::bytea),
			('globex', '\x`+hex.EncodeToString(scimkit.HashToken("old-token-globex"))+`'::bytea)`)
}
