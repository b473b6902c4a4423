package sqlstoretest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
)

// TokenMigration checks migration 2 on a database that schema version 1
// left with one token per tenant: each token becomes a credential
// labelled "migrated" that still authenticates its tenant. v1 are the
// statements that turn the (version 2) schema back into version 1 with
// the token "old-token-acme" for tenant acme and "old-token-globex" for
// globex: recreating scimkit_tokens and inserting the two hashes.
func TokenMigration(t *testing.T, open Opener, v1 ...string) {
	ctx := context.Background()
	s := mustOpen(t, open)
	db := s.(interface{ DB() *sql.DB }).DB()
	latest, err := s.(versioned).Version(ctx)
	require.NoError(t, err)
	for _, q := range append([]string{
		`DELETE FROM scimkit_migrations WHERE version > 1`,
		`DROP TABLE scimkit_credentials`,
		`DROP TABLE scimkit_outbox`, // migration 3
		// Undo migration 4 (seats, tenant settings, user states, audit).
		`DROP INDEX scimkit_resources_seats`,
		`ALTER TABLE scimkit_resources DROP COLUMN seat`,
		`DROP TABLE scimkit_tenants`,
		`DROP TABLE scimkit_user_states`,
		`DROP TABLE scimkit_audit`,
	}, v1...) {
		_, err := db.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	v, err := s.(versioned).Version(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, v)

	before := time.Now().Add(-time.Second)
	s2 := mustOpen(t, open)
	v, err = s2.(versioned).Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, latest, v, "every migration ran again")
	for _, tenant := range []string{"acme", "globex"} {
		c, err := s2.CredentialByHash(ctx, scimkit.HashToken("old-token-"+tenant))
		require.NoError(t, err, tenant)
		assert.Equal(t, tenant, c.Tenant)
		assert.Equal(t, "migrated", c.Label)
		assert.NotEmpty(t, c.ID)
		assert.WithinRange(t, c.Created, before, time.Now().Add(time.Second))
		assert.True(t, c.Expires.IsZero(), "a migrated token keeps never expiring")
		assert.True(t, c.LastUsed.IsZero())
		cs, err := s2.ListCredentials(ctx, tenant)
		require.NoError(t, err)
		require.Len(t, cs, 1)
		assert.Equal(t, c.ID, cs[0].ID)
	}

	srv, err := scimkit.New(s2, s2)
	require.NoError(t, err)
	h := &server{h: srv, token: "old-token-acme"}
	status, body := h.do(t, "GET", "/Users", nil)
	assert.Equal(t, 200, status, "the migrated token authenticates: %v", body)
	require.NoError(t, srv.Flush(ctx))

	// The old table is gone: nothing can write a token beside the
	// credentials any more.
	_, err = db.ExecContext(ctx, `SELECT 1 FROM scimkit_tokens`)
	assert.Error(t, err)
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM scimkit_credentials`).Scan(&n))
	assert.Equal(t, 2, n)
}
