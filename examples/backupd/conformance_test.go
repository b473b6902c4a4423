package main

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/scimtest"
)

// TestConformanceKit runs scimkit's Entra and Okta replays against
// backupd's SCIM mount, as a host runs them in its CI, on the memory
// store and on SQLite, through both Tenant URL styles.
func TestConformanceKit(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"memory", "sqlite"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			spec := store
			if store == "sqlite" {
				spec = "sqlite:" + filepath.Join(t.TempDir(), "backupd.db")
			}
			e := newEnv(t, config{store: spec})
			tok := e.onboard("acme", 0)
			for _, base := range []string{"/scim/v2", "/t/acme/scim/v2"} {
				tg := scimtest.URL(e.srv.URL+base, tok, e.srv.Client())
				t.Run(base+"/entra", func(t *testing.T) { scimtest.RunEntra(t, tg) })
				t.Run(base+"/okta", func(t *testing.T) { scimtest.RunOkta(t, tg) })
			}
			// The kit cleaned up: no users, so no backup accounts, are left.
			assert.Empty(t, e.accounts("acme"))
		})
	}
}

// TestAccountProfiles: the admin's account list carries what the IdP
// presets map (Druva's extension from Entra, names from Okta) and the
// user's groups.
func TestAccountProfiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, config{store: "memory"})
	tok := e.onboard("acme", 0)
	r := e.do(http.MethodPost, "/scim/v2/Users", tok, `{
	  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "externalId": "0a21f0f2", "userName": "ada@contoso.example", "active": true, "displayName": "Ada Lovelace",
	  "emails": [{"primary": true, "type": "work", "value": "ada.work@contoso.example"}],
	  "name": {"givenName": "Ada", "familyName": "Lovelace"},
	  "urn:ietf:params:scim:schemas:extension:Druva:2.0:User": {"city": "London", "country": "GB", "department": "Analytics"}}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	id := r.json(t)["id"].(string)
	r = e.do(http.MethodPost, "/scim/v2/Groups", tok, `{"displayName":"Backup Admins","members":[{"value":"`+id+`"}]}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)

	acc := e.accounts("acme")[id]
	require.NotNil(t, acc)
	assert.Equal(t, "ada@contoso.example", acc["userName"])
	assert.Equal(t, map[string]any{
		"displayName": "Ada Lovelace", "email": "ada.work@contoso.example", "givenName": "Ada", "familyName": "Lovelace",
		"externalId": "0a21f0f2", "city": "London", "country": "GB", "department": "Analytics",
		"groups": []any{"Backup Admins"},
	}, acc["profile"])
}
