package scimkit_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
)

const acmeExtURN = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"

// TestNormalizationKindsCounted: each kind of normalisation is counted
// once per request and attribute, through HTTP; the expected counts are
// worked out by hand from the requests.
func TestNormalizationKindsCounted(t *testing.T) {
	type req struct{ method, path, body string }
	user := `{"userName":"pat@contoso.com","name":{"givenName":"Pat"},"emails":[{"type":"work","value":"pat@contoso.com"}]}`
	cases := []struct {
		name string
		opts []scimkit.Option
		reqs []req // {{id}}: the user created first; {{gid}}: a group holding it
		want []scimkit.Normalization
	}{
		{
			name: "string booleans in a PATCH value and a filter",
			reqs: []req{
				{"PATCH", "/Users/{{id}}", patchBody(`{"op":"replace","path":"active","value":"False"}`)},
				{"PATCH", "/Users/{{id}}", patchBody(`{"op":"replace","path":"active","value":"True"}`)},
				{"GET", `/Users?filter=active eq "True"`, ""},
			},
			want: []scimkit.Normalization{{Kind: scimkit.StringBoolean, Attribute: "active", Count: 3}},
		},
		{
			name: "numeric strings for an integer extension attribute",
			opts: []scimkit.Option{scimkit.WithUserExtension(scimkit.NewExtension(acmeExtURN).Integer("seats"))},
			reqs: []req{
				{"PATCH", "/Users/{{id}}", patchBody(`{"op":"add","path":"` + acmeExtURN + `:seats","value":"3"}`)},
				{"PATCH", "/Users/{{id}}", patchBody(`{"op":"add","path":"` + acmeExtURN + `:seats","value":4}`)}, // a number: nothing to count
			},
			want: []scimkit.Normalization{{Kind: scimkit.NumericString, Attribute: acmeExtURN + ":seats", Count: 1}},
		},
		{
			name: "path-less replace with dotted and flat extension keys (aadOptscim062020)",
			reqs: []req{{"PATCH", "/Users/{{id}}", patchBody(`{"op":"replace","value":{"displayName":"Pat","name.givenName":"Patricia","name.familyName":"Doe",` +
				`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"7"}}`)}},
			want: []scimkit.Normalization{
				{Kind: scimkit.DottedKey, Attribute: "name.familyName", Count: 1},
				{Kind: scimkit.DottedKey, Attribute: "name.givenName", Count: 1},
				{Kind: scimkit.FlatExtensionKey, Attribute: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", Count: 1},
			},
		},
		{
			name: "bare-string manager, twice in one request counts once",
			reqs: []req{{"PATCH", "/Users/{{id}}", patchBody(
				`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"},` +
					`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m2"}`)}},
			want: []scimkit.Normalization{{Kind: scimkit.BareStringValue, Attribute: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", Count: 1}},
		},
		{
			name: "remove members with a value list, capitalised ops",
			reqs: []req{
				{"PATCH", "/Groups/{{gid}}", patchBody(`{"op":"Remove","path":"members","value":[{"value":"{{id}}"}]}`)},
				{"PATCH", "/Groups/{{gid}}", patchBody(`{"op":"remove","path":"members[value eq \"{{id}}\"]"}`)}, // the RFC form
				{"PATCH", "/Groups/{{gid}}", patchBody(`{"op":"Add","path":"members","value":[{"value":"{{id}}"}]},{"op":"Replace","path":"displayName","value":"Ops"}`)},
			},
			want: []scimkit.Normalization{
				{Kind: scimkit.CapitalisedOp, Attribute: "Add", Count: 1},
				{Kind: scimkit.CapitalisedOp, Attribute: "Remove", Count: 1},
				{Kind: scimkit.CapitalisedOp, Attribute: "Replace", Count: 1},
				{Kind: scimkit.RemoveMembersWithValue, Attribute: "members", Count: 1},
			},
		},
		{
			name: "userName sanitised by Druva's policy",
			opts: []scimkit.Option{scimkit.WithUserNamePolicy(scimkit.DruvaUserNames())},
			reqs: []req{
				{"POST", "/Users", `{"userName":"a*b@contoso.com"}`},
				{"PATCH", "/Users/{{id}}", patchBody(`{"op":"replace","path":"userName","value":"c?d@contoso.com"}`)},
				{"PATCH", "/Users/{{id}}", patchBody(`{"op":"replace","path":"userName","value":"plain@contoso.com"}`)}, // unchanged by the rule
			},
			want: []scimkit.Normalization{{Kind: scimkit.SanitizedUserName, Attribute: "userName", Count: 2}},
		},
		{
			name: "Entra's value-path filter form",
			reqs: []req{
				{"GET", `/Users?filter=emails[type eq "work"].value eq "pat@contoso.com"`, ""},
				{"GET", `/Users?filter=emails[type eq "work" and value eq "pat@contoso.com"]`, ""}, // the RFC form
			},
			want: []scimkit.Normalization{{Kind: scimkit.ValuePathFilter, Attribute: "emails", Count: 1}},
		},
		{
			name: "dropped attribute and cleared primary",
			reqs: []req{{"POST", "/Users", `{"userName":"lee@contoso.com","shoeSize":"9","emails":[{"value":"a@x.com","primary":true},{"value":"b@x.com","primary":true}]}`}},
			want: []scimkit.Normalization{
				{Kind: scimkit.ClearedPrimary, Attribute: "emails", Count: 1},
				{Kind: scimkit.DroppedAttribute, Attribute: "shoeSize", Count: 1},
			},
		},
		{
			name: "a failed request counts nothing",
			reqs: []req{{"PATCH", "/Users/{{id}}", patchBody(`{"op":"Replace","path":"active","value":"False"},{"op":"replace","path":"userName","value":42}`)}},
			want: nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newTestServer(t, tc.opts...)
			w := serve(t, srv, http.MethodPost, "/Users", user)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			id := idOf(t, w.Body.String())
			w = serve(t, srv, http.MethodPost, "/Groups", `{"displayName":"Eng","members":[{"value":"`+id+`"}]}`)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			gid := idOf(t, w.Body.String())
			require.Empty(t, srv.Normalizations("acme"), "the set-up normalises nothing")
			for _, r := range tc.reqs {
				path := replaceAll(r.path, id, gid)
				w := serve(t, srv, r.method, path, strings.NewReplacer("{{id}}", id, "{{gid}}", gid).Replace(r.body))
				if tc.want != nil {
					require.Less(t, w.Code, 300, "%s %s: %s", r.method, path, w.Body.String())
				}
			}
			assert.Equal(t, tc.want, srv.Normalizations("acme"))
		})
	}
}

func replaceAll(s, id, gid string) string {
	return escapeQuery(strings.NewReplacer("{{id}}", id, "{{gid}}", gid).Replace(s))
}

// escapeQuery escapes the values of a path's query (filter=userName eq "x").
func escapeQuery(path string) string {
	p, q, ok := strings.Cut(path, "?")
	if !ok {
		return path
	}
	parts := strings.Split(q, "&")
	for i, kv := range parts {
		if k, v, ok := strings.Cut(kv, "="); ok {
			parts[i] = k + "=" + url.QueryEscape(v)
		}
	}
	return p + "?" + strings.Join(parts, "&")
}

// TestNormalizationsPerTenant: one tenant's quirks never show in
// another's counters or profile.
func TestNormalizationsPerTenant(t *testing.T) {
	srv, store := newTestServer(t)
	require.NoError(t, scimkit.SetToken(context.Background(), store, "globex", globexToken))
	w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"pat@contoso.com","active":"True"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	w = serve(t, srv, http.MethodPost, "/Users", `{"userName":"kim@globex.com","name.givenName":"Kim"}`,
		"Authorization", "Bearer "+globexToken, "User-Agent", "Okta SCIM Client 1.0.0")
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())

	assert.Equal(t, []scimkit.Normalization{{Kind: scimkit.StringBoolean, Attribute: "active", Count: 1}}, srv.Normalizations("acme"))
	assert.Equal(t, []scimkit.Normalization{{Kind: scimkit.DottedKey, Attribute: "name.givenName", Count: 1}}, srv.Normalizations("globex"))
	assert.Equal(t, scimkit.ClientEntra, srv.IdPProfile("acme").Client)
	assert.Equal(t, scimkit.ClientOktaCustom, srv.IdPProfile("globex").Client)
	assert.Equal(t, scimkit.ClientGeneric, srv.IdPProfile("initech").Client)
}

// TestIdPProfileFromRecordedTraffic replays each recorded sequence
// (testdata/azuread, testdata/okta; see IDP.md) against a fresh server and
// checks the client detected. The expectations follow from each file's
// content: the default job sends "False" and capitalised ops, the flagged
// job carries aadOptscim062020 in every URL, Okta's lifecycle deactivates
// with a path-less PATCH (OIN), Okta's group push ends with an App
// Integration Wizard PUT of the group, and Okta's spec test sends only the
// User-Agent.
func TestIdPProfileFromRecordedTraffic(t *testing.T) {
	cases := []struct {
		file       string
		client     scimkit.IdPClient
		confidence scimkit.Confidence
		signal     scimkit.Signal // one signal the evidence must hold
	}{
		{"azuread/create_user_default_job.json", scimkit.ClientEntra, scimkit.ConfidenceHigh, scimkit.SignalStringBoolean},
		{"azuread/create_user_aadoptscim062020.json", scimkit.ClientEntraFlag, scimkit.ConfidenceHigh, scimkit.SignalDottedPatch},
		{"azuread/groups.json", scimkit.ClientEntra, scimkit.ConfidenceHigh, scimkit.SignalRemoveMembersWithValue},
		{"azuread/test_connection.json", scimkit.ClientEntra, scimkit.ConfidenceLow, scimkit.SignalValuePathFilter},
		{"azuread/pagination.json", scimkit.ClientGeneric, scimkit.ConfidenceNone, ""},
		{"okta/lifecycle.json", scimkit.ClientOktaOIN, scimkit.ConfidenceHigh, scimkit.SignalPathlessActive},
		{"okta/groups.json", scimkit.ClientOktaCustom, scimkit.ConfidenceHigh, scimkit.SignalPutGroup},
		{"okta/spec_test.json", scimkit.ClientOktaCustom, scimkit.ConfidenceLow, scimkit.SignalOktaUserAgent},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			ids := map[string]string{}
			for _, s := range loadSequence(t, filepath.Join("testdata", filepath.FromSlash(tc.file))) {
				h.replay(t, s, ids)
			}
			p := h.srv.IdPProfile("acme")
			assert.Equal(t, tc.client, p.Client)
			assert.Equal(t, tc.client, p.Detected)
			assert.Equal(t, tc.confidence, p.Confidence)
			assert.False(t, p.Overridden)
			if tc.signal == "" {
				assert.Empty(t, p.Evidence)
				assert.True(t, p.FirstSeen.IsZero())
				return
			}
			var sigs []scimkit.Signal
			for _, e := range p.Evidence {
				sigs = append(sigs, e.Signal)
				assert.Positive(t, e.Count)
			}
			assert.Contains(t, sigs, tc.signal)
			assert.Equal(t, fixedNow, p.FirstSeen)
			assert.Equal(t, fixedNow, p.LastSeen)
		})
	}
}

// TestIdPProfileDetection: short request sequences; the latest specific
// signal of the majority vendor decides.
func TestIdPProfileDetection(t *testing.T) {
	okta := []string{"User-Agent", "Okta SCIM Client 1.0.0"}
	type req struct {
		method, path, body string
		hdr                []string
	}
	cases := []struct {
		name   string
		reqs   []req
		client scimkit.IdPClient
	}{
		{"no requests", nil, scimkit.ClientGeneric},
		{"plain RFC traffic", []req{{"PATCH", "/Users/{{id}}", patchBody(`{"op":"replace","path":"active","value":false}`), nil}}, scimkit.ClientGeneric},
		{"Entra default job deactivates with \"False\"", []req{{"PATCH", "/Users/{{id}}", patchBody(`{"op":"replace","path":"active","value":"False"}`), nil}}, scimkit.ClientEntra},
		{"flag in the Tenant URL", []req{{"GET", "/Users?aadOptscim062020&filter=userName eq \"x\"", "", nil}}, scimkit.ClientEntraFlag},
		{"default job, then the flag is added", []req{
			{"PATCH", "/Users/{{id}}", patchBody(`{"op":"Replace","path":"active","value":"True"}`), nil},
			{"PATCH", "/Users/{{id}}?aadOptscim062020", patchBody(`{"op":"replace","value":{"name.givenName":"P"}}`), nil},
		}, scimkit.ClientEntraFlag},
		{"Okta OIN deactivates with a path-less PATCH", []req{{"PATCH", "/Users/{{id}}", patchBody(`{"op":"replace","value":{"active":false}}`), okta}}, scimkit.ClientOktaOIN},
		{"Okta custom app PUTs users", []req{{"PUT", "/Users/{{id}}", `{"userName":"pat@contoso.com","active":false}`, okta}}, scimkit.ClientOktaCustom},
		{"Okta custom app without its User-Agent", []req{{"PUT", "/Groups/{{gid}}", `{"displayName":"Eng"}`, nil}}, scimkit.ClientOktaCustom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newTestServer(t)
			w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"pat@contoso.com"}`)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			id := idOf(t, w.Body.String())
			w = serve(t, srv, http.MethodPost, "/Groups", `{"displayName":"Eng"}`)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			gid := idOf(t, w.Body.String())
			for _, r := range tc.reqs {
				w := serve(t, srv, r.method, replaceAll(r.path, id, gid), r.body, r.hdr...)
				require.Less(t, w.Code, 300, w.Body.String())
			}
			assert.Equal(t, tc.client, srv.IdPProfile("acme").Client)
		})
	}
}

// TestSetIdPProfile: the host's override wins and detection goes on.
func TestSetIdPProfile(t *testing.T) {
	srv, _ := newTestServer(t)
	w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"pat@contoso.com","active":"True"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())

	srv.SetIdPProfile("acme", scimkit.ClientOktaOIN)
	p := srv.IdPProfile("acme")
	assert.Equal(t, scimkit.ClientOktaOIN, p.Client)
	assert.True(t, p.Overridden)
	assert.Equal(t, scimkit.ClientEntra, p.Detected)
	assert.Equal(t, scimkit.ClientGeneric, srv.IdPProfile("globex").Client, "per tenant")

	srv.SetIdPProfile("acme", "")
	p = srv.IdPProfile("acme")
	assert.Equal(t, scimkit.ClientEntra, p.Client)
	assert.False(t, p.Overridden)
}
