package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pgEnv names the PostgreSQL server the PostgreSQL tests use, e.g.
// postgres://scimkit@127.0.0.1:55432/scimkit_test?sslmode=disable
// (scripts/pg-throwaway.sh start prints one).
const pgEnv = "SCIMKIT_POSTGRES_DSN"

// pgSchemaDSN creates a fresh schema on the server named by $SCIMKIT_POSTGRES_DSN,
// drops it at cleanup, and returns the DSN with search_path set to it, so
// the test's tables are its own. It skips the test when the variable is
// unset.
func pgSchemaDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		t.Skipf("$%s is unset: skipping the PostgreSQL test (start a throwaway server with: eval \"$(scripts/pg-throwaway.sh start)\")", pgEnv)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err, "connect to $%s", pgEnv)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})

	// pgx sends parameters it does not know (search_path) to the server as
	// run-time parameters.
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		require.NoError(t, err)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// forEachStore runs f in parallel subtests on each store: memory, a fresh
// SQLite file, and a fresh PostgreSQL schema when $SCIMKIT_POSTGRES_DSN is
// set.
func forEachStore(t *testing.T, f func(t *testing.T, store string)) {
	for _, name := range []string{"memory", "sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var store string
			switch name {
			case "memory":
				store = "memory"
			case "sqlite":
				store = "sqlite:" + filepath.Join(t.TempDir(), "backupd.db")
			case "postgres":
				store = "postgres:" + pgSchemaDSN(t)
			}
			f(t, store)
		})
	}
}

// TestRestartKeepsState runs the dashboard flow and a provisioning sync,
// closes backupd and opens a new one on the same database: tenants (SCIM
// enabled or not, account size), the token, users, groups and backup
// accounts are all still there.
func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := "sqlite:" + filepath.Join(t.TempDir(), "backupd.db")
			if name == "postgres" {
				store = "postgres:" + pgSchemaDSN(t)
			}
			testRestartKeepsState(t, store)
		})
	}
}

func testRestartKeepsState(t *testing.T, store string) {
	const userName = "persist@acme.example"
	e := newEnv(t, config{store: store})
	tok := e.onboard("acme", 42)
	id := e.createUser("/scim/v2", tok, userName)
	r := e.do(http.MethodPost, "/scim/v2/Groups", tok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Backup Admins","members":[{"value":"`+id+`"}]}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	gid := r.json(t)["id"].(string)
	suspended := e.createUser("/t/acme/scim/v2", tok, "leaver@acme.example")
	r = e.do(http.MethodPatch, "/scim/v2/Users/"+suspended, tok, entraPatch("active", `"False"`))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	// A tenant enabled and sized but without a token, and one disabled.
	e.admin(http.MethodPost, "/admin/tenants/initech/scim/enable", "")
	e.admin(http.MethodPut, "/admin/tenants/initech/scim/settings", `{"accountSizeGB":7}`)
	e.onboard("globex", 0)
	e.admin(http.MethodPost, "/admin/tenants/globex/scim/disable", "")
	accountsBefore := e.accounts("acme")
	require.Len(t, accountsBefore, 2)
	e.close()

	e = newEnv(t, config{store: store})

	// The token still authenticates, on both URLs, and finds the user.
	for _, base := range []string{"/scim/v2", "/t/acme/scim/v2"} {
		r = e.do(http.MethodGet, base+"/Users"+filterQuery(`userName eq "`+userName+`"`), tok, "")
		require.Equal(t, http.StatusOK, r.status, "%s: %s", base, r.body)
		list := r.json(t)
		assert.EqualValues(t, 1, list["totalResults"], base)
		require.Len(t, list["Resources"], 1, base)
		assert.Equal(t, id, list["Resources"].([]any)[0].(map[string]any)["id"], base)
	}
	r = e.do(http.MethodGet, "/scim/v2/Users/"+suspended, tok, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, false, r.json(t)["active"])
	r = e.do(http.MethodGet, "/scim/v2/Groups/"+gid, tok, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	members, _ := r.json(t)["members"].([]any)
	require.Len(t, members, 1)
	assert.Equal(t, id, members[0].(map[string]any)["value"])
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/scim/v2/Users", "scim_not-the-token", "").status)

	// Tenant settings.
	st := e.admin(http.MethodGet, "/admin/tenants/acme/scim", "")
	assert.Equal(t, true, st["scimEnabled"])
	assert.Equal(t, true, st["tokenSet"])
	assert.EqualValues(t, 42, st["accountSizeGB"])
	assert.EqualValues(t, 2, st["accounts"])
	st = e.admin(http.MethodGet, "/admin/tenants/initech/scim", "")
	assert.Equal(t, true, st["scimEnabled"])
	assert.Equal(t, false, st["tokenSet"])
	assert.EqualValues(t, 7, st["accountSizeGB"])
	st = e.admin(http.MethodGet, "/admin/tenants/globex/scim", "")
	assert.Equal(t, false, st["scimEnabled"])
	assert.Equal(t, false, st["tokenSet"])
	r = e.do(http.MethodPost, "/admin/tenants/globex/scim/token", testAdminToken, "")
	assert.Equal(t, http.StatusConflict, r.status, "globex is still disabled")

	// The backup accounts, exactly as they were.
	assert.Equal(t, accountsBefore, e.accounts("acme"))
	assert.Equal(t, "suspended", accountsBefore[suspended]["status"])
	assert.EqualValues(t, 42, accountsBefore[id]["quotaGB"])

	// Provisioning carries on: an update keeps the account's quota and
	// creation time, a new user gets the stored account size.
	r = e.do(http.MethodPatch, "/scim/v2/Users/"+suspended, tok, entraPatch("active", `"True"`))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	newID := e.createUser("/scim/v2", tok, "joiner@acme.example")
	accs := e.accounts("acme")
	require.Len(t, accs, 3)
	assert.Equal(t, "active", accs[suspended]["status"])
	assert.Equal(t, accountsBefore[suspended]["created"], accs[suspended]["created"])
	assert.Equal(t, accountsBefore[suspended]["quotaGB"], accs[suspended]["quotaGB"])
	assert.EqualValues(t, 42, accs[newID]["quotaGB"])
}

// TestProductStateDefaults checks what a tenant never written looks like,
// and that deleting an account that is not there is not an error, on each
// product state.
func TestProductStateDefaults(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		st, err := openStore(context.Background(), store)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, st.close()) })
		ctx := context.Background()

		s, err := st.state.settings(ctx, "nobody")
		require.NoError(t, err)
		assert.Equal(t, tenantSettings{AccountSizeGB: defaultAccountSizeGB}, s)
		accs, err := st.state.accounts(ctx, "nobody")
		require.NoError(t, err)
		assert.NotNil(t, accs, "an empty list, not null, in JSON")
		assert.Empty(t, accs)
		_, ok, err := st.state.deleteAccount(ctx, "nobody", "u1")
		require.NoError(t, err)
		assert.False(t, ok)

		// Settings written in either order keep each other.
		require.NoError(t, st.state.setAccountSize(ctx, "t1", 33))
		require.NoError(t, st.state.setSCIMEnabled(ctx, "t1", true))
		require.NoError(t, st.state.setSCIMEnabled(ctx, "t2", true))
		require.NoError(t, st.state.setAccountSize(ctx, "t2", 44))
		for tenant, gb := range map[string]int{"t1": 33, "t2": 44} {
			s, err := st.state.settings(ctx, tenant)
			require.NoError(t, err)
			assert.Equal(t, tenantSettings{Exists: true, SCIMEnabled: true, AccountSizeGB: gb}, s, tenant)
		}
		for tenant, want := range map[string]bool{"t1": true, "nobody": false} {
			ok, err := st.state.tenantExists(ctx, tenant)
			require.NoError(t, err)
			assert.Equal(t, want, ok, tenant)
		}
		// Only written tenants are listed (reading "nobody" made none).
		ids, err := st.state.tenantList(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, []tenantRow{{"t1", true}, {"t2", true}}, ids)
		ids, err = st.state.tenantList(ctx, 1)
		require.NoError(t, err)
		assert.Equal(t, []tenantRow{{"t1", true}}, ids)

		// putAccount creates, then updates; the quota and creation time
		// stay.
		now := time.Now().UTC()
		acc, created, err := st.state.putAccount(ctx, "t1", account{UserID: "u1", UserName: "a", Active: true, Status: "active", Created: now})
		require.NoError(t, err)
		assert.True(t, created)
		assert.Equal(t, account{UserID: "u1", UserName: "a", QuotaGB: 33, Active: true, Status: "active", Created: now}, acc)
		require.NoError(t, st.state.setAccountSize(ctx, "t1", 1))
		acc, created, err = st.state.putAccount(ctx, "t1", account{UserID: "u1", UserName: "b", Status: "suspended", Created: now.Add(time.Hour)})
		require.NoError(t, err)
		assert.False(t, created)
		assert.Equal(t, account{UserID: "u1", UserName: "b", QuotaGB: 33, Status: "suspended", Created: now}, acc)

		// Tenants are kept apart.
		accs, err = st.state.accounts(ctx, "t2")
		require.NoError(t, err)
		assert.Empty(t, accs)
		acc, ok, err = st.state.deleteAccount(ctx, "t1", "u1")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "b", acc.UserName)
	})
}

func TestOpenStoreErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{
		"postgres://backupd:hunter2@127.0.0.1:1/backupd?connect_timeout=5",
		"postgres:postgres://backupd:hunter2@127.0.0.1:1/backupd?connect_timeout=5",
		"postgres:host=127.0.0.1 port=1 user=backupd password=hunter2 connect_timeout=5",
		"postgres:host=127.0.0.1 port=x password=hunter2",
		"postgress://backupd:hunter2@db/backupd",
	} {
		_, err := newApp(context.Background(), config{store: spec}, slog.New(slog.DiscardHandler))
		require.Error(t, err, spec)
		assert.NotContains(t, err.Error(), "hunter2", spec)
	}
}

func TestStoreDisplay(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "memory (lost on restart)", storeDisplay("memory"))
	assert.Equal(t, "SQLite ./backupd.db", storeDisplay(defaultStore))
	assert.Equal(t, "PostgreSQL", storeDisplay("postgres:postgres://u:secret@db/backupd"))
	assert.Equal(t, "PostgreSQL", storeDisplay("postgres://u:secret@db/backupd"))
}

// racingTokens is a token store whose CreateCredential reports a conflict
// after storing, as PostgreSQL does when another instance inserted the
// same token at the same moment.
type racingTokens struct{ scimkit.TokenStore }

func (r racingTokens) CreateCredential(ctx context.Context, tenant string, c storage.Credential, hash []byte) error {
	if err := r.TokenStore.CreateCredential(ctx, tenant, c, hash); err != nil {
		return err
	}
	return fmt.Errorf("racing: %w", storage.ErrConflict)
}

func TestSyncDevTokenToleratesARacingInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tokens := memory.New()
	require.NoError(t, syncDevToken(ctx, racingTokens{tokens}, "dev-token-123", time.Now), "the tenant has this very token")
	cs, err := scimkit.ListTokens(ctx, tokens, devTenant)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, devTokenLabel, cs[0].Label)

	// Another tenant holding the same token is a real conflict.
	require.NoError(t, scimkit.SetToken(ctx, tokens, "acme", "shared-token"))
	err = syncDevToken(ctx, tokens, "shared-token", time.Now)
	require.ErrorIs(t, err, storage.ErrConflict)
}
