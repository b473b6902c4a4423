package scimkit_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
)

// TestPolicyProtectedUserRename: a user protected by its userName cannot
// be renamed through SCIM, since a rename followed by a DELETE got past the
// protection in two requests; a case-only change keeps the protection and
// is accepted, and a user protected by id may be renamed (and stays
// protected).
func TestPolicyProtectedUserRename(t *testing.T) {
	renames := []struct{ name, method, body string }{
		{"Entra PATCH", http.MethodPatch, patchBody(`{"op":"Replace","path":"userName","value":"renamed@contoso.com"}`)},
		{"path-less PATCH", http.MethodPatch, patchBody(`{"op":"replace","value":{"userName":"renamed@contoso.com"}}`)},
		{"Okta PUT", http.MethodPut, fmt.Sprintf(`{"schemas":[%q],"userName":"renamed@contoso.com","active":true}`, userURN)},
	}
	for _, rn := range renames {
		t.Run(rn.name+" of a user protected by userName is refused", func(t *testing.T) {
			ph := newPolicyHarness(t, scimkit.Policy{Protected: []string{"OWNER@contoso.com"}})
			owner := ph.createUser(t, acmeToken, "owner@contoso.com")
			before := ph.get(t, owner)

			r := ph.send(t, rn.method, "/Users/"+owner, rn.body)
			assertRefused(t, r, `user "owner@contoso.com" is protected by this tenant's provisioning policy by its userName and cannot be renamed`)
			after := ph.get(t, owner)
			assert.Equal(t, "owner@contoso.com", after.doc["userName"])
			assert.Equal(t, before.header.Get("ETag"), after.header.Get("ETag"))
			assertRefused(t, ph.send(t, http.MethodDelete, "/Users/"+owner, ""), "is protected")
		})
	}
	t.Run("a case-only change is accepted", func(t *testing.T) {
		ph := newPolicyHarness(t, scimkit.Policy{Protected: []string{"owner@contoso.com"}})
		owner := ph.createUser(t, acmeToken, "owner@contoso.com")
		r := ph.send(t, http.MethodPatch, "/Users/"+owner, patchBody(`{"op":"Replace","path":"userName","value":"Owner@Contoso.com"}`))
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assertRefused(t, ph.send(t, http.MethodDelete, "/Users/"+owner, ""), "is protected")
	})
	t.Run("a user protected by id may be renamed and stays protected", func(t *testing.T) {
		ph := newPolicyHarness(t, scimkit.Policy{})
		owner := ph.createUser(t, acmeToken, "owner@contoso.com")
		require.NoError(t, ph.srv.SetPolicy(t.Context(), "acme", scimkit.Policy{Protected: []string{owner, "owner@contoso.com"}}))
		r := ph.send(t, http.MethodPatch, "/Users/"+owner, renames[0].body)
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assertRefused(t, ph.send(t, http.MethodDelete, "/Users/"+owner, ""), "is protected")
	})
}
