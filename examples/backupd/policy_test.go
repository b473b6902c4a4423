package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storeSpecs returns the -store values the policy tests run on: memory,
// SQLite, and PostgreSQL when $SCIMKIT_POSTGRES_DSN is set.
func storeSpecs(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"memory":   func(*testing.T) string { return "" },
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "backupd.db") },
		"postgres": func(t *testing.T) string { return "postgres:" + pgSchemaDSN(t) },
	}
}

// oktaPut is the PUT of the whole user Okta's AIW apps send for every
// update, deactivation included.
func oktaPut(userName string, active bool) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"active":%t,"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"primary":true,"type":"work","value":%q}],"groups":[]}`,
		userName, active, userName+"@contoso.example")
}

// oktaPatch is the path-less PATCH of Okta's OIN apps.
func oktaPatch(active bool) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":%t}}]}`, active)
}

// TestAdminPolicy sets a tenant's policy through the admin API and checks
// each decision through SCIM, on every store.
func TestAdminPolicy(t *testing.T) {
	t.Parallel()
	for name, spec := range storeSpecs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testAdminPolicy(t, spec(t))
		})
	}
}

func testAdminPolicy(t *testing.T, store string) {
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	e := newEnv(t, config{store: store, now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
	tok := e.onboard("acme", 20)
	st := e.admin(http.MethodPut, "/admin/tenants/acme/scim/settings",
		`{"seatLimit":2,"deactivation":"preserve","deletion":"preserve","retentionDays":30,"protected":["owner@acme.example"]}`)
	pol := st["policy"].(map[string]any)
	assert.EqualValues(t, 2, pol["seatLimit"])
	assert.Equal(t, "preserve", pol["deactivation"])
	assert.EqualValues(t, 20, st["accountSizeGB"], "the account size is kept")

	owner := e.createUser("/scim/v2", tok, "owner@acme.example")
	ada := e.createUser("/scim/v2", tok, "ada@acme.example")

	// Seat limit: the third create is refused; no account, no user.
	r := e.do(http.MethodPost, "/scim/v2/Users", tok, entraUser("third@acme.example"))
	require.Equal(t, http.StatusForbidden, r.status, "%s", r.body)
	assert.Contains(t, r.json(t)["detail"], "seat limit reached")
	assert.Len(t, e.accounts("acme"), 2)

	// Entra disables ada ("False"): preserved for 30 days, seat freed.
	r = e.do(http.MethodPatch, "/scim/v2/Users/"+ada, tok, entraPatch("active", `"False"`))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	acc := e.accounts("acme")[ada]
	assert.Equal(t, "preserved", acc["state"])
	assert.Equal(t, "preserved", acc["status"], "the product stopped the backups")
	assert.Equal(t, now.AddDate(0, 0, 30).Format(time.RFC3339), acc["preservedUntil"])
	third := e.createUser("/scim/v2", tok, "third@acme.example")

	// Reactivating ada needs a seat: Okta's PUT and PATCH are refused.
	for _, tc := range []struct{ method, body string }{
		{http.MethodPut, oktaPut("ada@acme.example", true)},
		{http.MethodPatch, oktaPatch(true)},
		{http.MethodPatch, entraPatch("active", `"True"`)},
	} {
		r = e.do(tc.method, "/scim/v2/Users/"+ada, tok, tc.body)
		require.Equal(t, http.StatusForbidden, r.status, "%s %s", tc.method, r.body)
		assert.Contains(t, r.json(t)["detail"], "nothing was changed")
	}
	r = e.do(http.MethodGet, "/scim/v2/Users/"+ada, tok, "")
	assert.Equal(t, false, r.json(t)["active"])

	// The owner is protected from Okta's deactivation and Entra's DELETE.
	r = e.do(http.MethodPut, "/scim/v2/Users/"+owner, tok, oktaPut("owner@acme.example", false))
	require.Equal(t, http.StatusForbidden, r.status, "%s", r.body)
	r = e.do(http.MethodDelete, "/scim/v2/Users/"+owner, tok, "")
	require.Equal(t, http.StatusForbidden, r.status, "%s", r.body)
	assert.Equal(t, "active", e.accounts("acme")[owner]["state"])

	// Entra's DELETE under "preserve": gone for the IdP, the account kept.
	r = e.do(http.MethodDelete, "/scim/v2/Users/"+third, tok, "")
	require.Equal(t, http.StatusNoContent, r.status, "%s", r.body)
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/scim/v2/Users/"+third, tok, "").status)
	acc = e.accounts("acme")[third]
	require.NotNil(t, acc, "the backup account is kept")
	assert.Equal(t, "preserved", acc["state"])

	// The audit log has the refusals, with the credential, never the token.
	au := e.admin(http.MethodGet, "/admin/tenants/acme/audit?since="+now.Format(time.RFC3339), "")
	entries := au["entries"].([]any)
	refused := 0
	for _, x := range entries {
		m := x.(map[string]any)
		if m["status"] == float64(http.StatusForbidden) {
			refused++
		}
		assert.NotEmpty(t, m["credential"])
		assert.NotContains(t, fmt.Sprint(m), tok)
	}
	assert.Equal(t, 6, refused, "%v", entries)
	au = e.admin(http.MethodGet, "/admin/tenants/acme/audit?since="+now.Add(time.Second).Format(time.RFC3339), "")
	assert.Empty(t, au["entries"])
	assert.Equal(t, http.StatusBadRequest, e.do(http.MethodGet, "/admin/tenants/acme/audit?since=yesterday", testAdminToken, "").status)

	// An invalid policy names its field and changes nothing.
	r = e.do(http.MethodPut, "/admin/tenants/acme/scim/settings", testAdminToken, `{"deactivation":"archive"}`)
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.Contains(t, r.json(t)["message"], "deactivation: must be")
	assert.Equal(t, "preserve", e.admin(http.MethodGet, "/admin/tenants/acme/scim", "")["policy"].(map[string]any)["deactivation"])

	// 30 days on, the purge removes the preserved users, and the product
	// their accounts.
	n, err := e.app.purgeOnce(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
	clock.Store(now.AddDate(0, 0, 30).UnixNano())
	n, err = e.app.purgeOnce(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	accs := e.accounts("acme")
	assert.NotContains(t, accs, ada)
	assert.NotContains(t, accs, third)
	assert.Contains(t, accs, owner)
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/scim/v2/Users/"+ada, tok, "").status)

	// Offboarding removes everything of acme.
	r = e.do(http.MethodDelete, "/admin/tenants/acme", testAdminToken, "")
	require.Equal(t, http.StatusNoContent, r.status, "%s", r.body)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/scim/v2/Users", tok, "").status)
	assert.Empty(t, e.accounts("acme"))
	assert.Empty(t, e.admin(http.MethodGet, "/admin/tenants/acme/audit", "")["entries"])
	st = e.admin(http.MethodGet, "/admin/tenants/acme/scim", "")
	assert.Empty(t, st["policy"], "the zero policy")
	assert.Equal(t, false, st["scimEnabled"])
}

// TestSeatLimitConcurrentCreates sends creates at once for the last seat
// through HTTP: exactly one gets it, on every store.
func TestSeatLimitConcurrentCreates(t *testing.T) {
	t.Parallel()
	for name, spec := range storeSpecs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, config{store: spec(t)})
			tok := e.onboard("acme", 0)
			e.admin(http.MethodPut, "/admin/tenants/acme/scim/settings", `{"seatLimit":3}`)
			e.createUser("/scim/v2", tok, "a@acme.example")
			e.createUser("/scim/v2", tok, "b@acme.example")
			const racers = 8
			statuses := make([]int, racers)
			var wg sync.WaitGroup
			for i := range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = e.do(http.MethodPost, "/scim/v2/Users", tok, entraUser(fmt.Sprintf("r%d@acme.example", i))).status
				}()
			}
			wg.Wait()
			created := 0
			for _, s := range statuses {
				if s == http.StatusCreated {
					created++
				} else {
					assert.Equal(t, http.StatusForbidden, s)
				}
			}
			assert.Equal(t, 1, created, "%v", statuses)
			assert.Len(t, e.accounts("acme"), 3)
		})
	}
}
