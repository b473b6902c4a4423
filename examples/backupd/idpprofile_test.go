package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// doUA sends a SCIM request with a User-Agent, as Okta's client does.
func (e *env) doUA(method, path, token, body, userAgent string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("User-Agent", userAgent)
	res, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

const patchOp = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`

// TestIdPProfileAdmin: the admin API shows each tenant's detected client
// and normalisation counters after request shapes recorded from Entra's
// default job (testdata/azuread/create_user_default_job.json, groups.json
// in the root module) and Okta's OIN lifecycle (testdata/okta/lifecycle.json).
func TestIdPProfileAdmin(t *testing.T) {
	e := newEnv(t, config{store: "memory"})
	entra := e.onboard("acme", 0)
	okta := e.onboard("globex", 0)

	p := e.admin(http.MethodGet, "/admin/tenants/acme/scim/profile", "")
	assert.Equal(t, "generic", p["client"])
	assert.Equal(t, "none", p["confidence"])
	assert.Nil(t, p["lastSeen"])
	assert.Equal(t, []any{}, p["normalizations"])

	// Entra, default job.
	filter := "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "pat@contoso.com"`)
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, filter, entra, "").status)
	id := e.createUser("/scim/v2", entra, "pat@contoso.com")
	r := e.do(http.MethodPatch, "/scim/v2/Users/"+id, entra, patchOp+`{"op":"Replace","path":"active","value":"False"}]}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	r = e.do(http.MethodPost, "/scim/v2/Groups", entra, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","members":[]}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	gid := r.json(t)["id"].(string)
	for _, op := range []string{
		`{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + id + `"}]}`,
		`{"op":"Remove","path":"members","value":[{"value":"` + id + `"}]}`,
	} {
		r = e.do(http.MethodPatch, "/scim/v2/Groups/"+gid, entra, patchOp+op+`]}`)
		require.Equal(t, http.StatusNoContent, r.status, "%s", r.body)
	}

	// Okta, OIN app: lookup, create, deactivate with a path-less PATCH.
	const ua = "Okta SCIM Client 1.0.0"
	require.Equal(t, http.StatusOK, e.doUA(http.MethodGet, "/scim/v2/Users?startIndex=1&count=100&filter="+url.QueryEscape(`userName eq "kim@example.com"`), okta, "", ua).status)
	r = e.doUA(http.MethodPost, "/scim/v2/Users", okta, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"kim@example.com",`+
		`"name":{"givenName":"Kim","familyName":"Akers"},"emails":[{"primary":true,"value":"kim@example.com","type":"work"}],"displayName":"Kim Akers",`+
		`"locale":"en-US","externalId":"00u1","groups":[],"password":"1mz050nq","active":true}`, ua)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	kid := r.json(t)["id"].(string)
	r = e.doUA(http.MethodPatch, "/scim/v2/Users/"+kid, okta, patchOp+`{"op":"replace","value":{"active":false}}]}`, ua)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)

	p = e.admin(http.MethodGet, "/admin/tenants/acme/scim/profile", "")
	assert.Equal(t, "acme", p["tenant"])
	assert.Equal(t, "entra", p["client"])
	assert.Equal(t, "high", p["confidence"])
	assert.Equal(t, false, p["overridden"])
	assert.NotNil(t, p["lastSeen"])
	assert.Equal(t, map[string]float64{
		"capitalisedOp/Add":              1,
		"capitalisedOp/Remove":           1,
		"capitalisedOp/Replace":          1,
		"removeMembersWithValue/members": 1,
		"stringBoolean/active":           1,
	}, counters(t, p))
	assert.Equal(t, map[string]float64{"capitalisedOp": 3, "removeMembersWithValue": 1, "stringBoolean": 1}, evidence(t, p))

	p = e.admin(http.MethodGet, "/admin/tenants/globex/scim/profile", "")
	assert.Equal(t, "okta-oin", p["client"])
	assert.Equal(t, "high", p["confidence"])
	assert.Empty(t, counters(t, p), "Okta's requests needed no normalisation")
	assert.Equal(t, map[string]float64{"userAgent:Okta SCIM Client": 3, "pathlessActiveOrID": 1}, evidence(t, p))

	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/admin/tenants/acme/scim/profile", "", "").status, "the admin token is needed")
	assert.Equal(t, http.StatusMethodNotAllowed, e.do(http.MethodPost, "/admin/tenants/acme/scim/profile", testAdminToken, "").status)
}

func counters(t *testing.T, p map[string]any) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, x := range p["normalizations"].([]any) {
		n := x.(map[string]any)
		out[n["kind"].(string)+"/"+n["attribute"].(string)] = n["count"].(float64)
	}
	return out
}

func evidence(t *testing.T, p map[string]any) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, x := range p["evidence"].([]any) {
		ev := x.(map[string]any)
		out[ev["signal"].(string)] = ev["count"].(float64)
	}
	return out
}
