package scimkit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

const acmeURN = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User"

func acmeExtension() scimkit.Extension {
	return scimkit.NewExtension(acmeURN).
		String("tier", scimkit.CanonicalValues("gold", "silver"), scimkit.CaseExact()).
		Integer("seats", scimkit.Required(), scimkit.Uniqueness("server")).
		Decimal("ratio").
		Boolean("vip").
		DateTime("hired").
		Reference("homepage").
		Binary("badge").
		String("tags", scimkit.MultiValued()).
		Integer("codes", scimkit.MultiValued())
}

func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	return m
}

// TestExtensionTypes checks extension values against RFC 7643 §2.3 types,
// with Entra's string forms ("3", "True") accepted by one rule and refused
// together by WithStrictTypes.
func TestExtensionTypes(t *testing.T) {
	tests := []struct {
		name   string
		ext    string // JSON object under the URN
		strict bool
		want   int
		check  func(t *testing.T, ext map[string]any)
	}{
		{name: "numbers as JSON numbers", ext: `{"seats":3,"ratio":2.5}`, want: 201,
			check: func(t *testing.T, e map[string]any) {
				assert.Equal(t, 3.0, e["seats"])
				assert.Equal(t, 2.5, e["ratio"])
			}},
		{name: "integer sent as a string is stored as a number", ext: `{"seats":"3"}`, want: 201,
			check: func(t *testing.T, e map[string]any) { assert.Equal(t, 3.0, e["seats"]) }},
		{name: "decimal sent as a string", ext: `{"ratio":"-2.5e1"}`, want: 201,
			check: func(t *testing.T, e map[string]any) { assert.Equal(t, -25.0, e["ratio"]) }},
		{name: "boolean sent as True", ext: `{"vip":"True"}`, want: 201,
			check: func(t *testing.T, e map[string]any) { assert.Equal(t, true, e["vip"]) }},
		{name: "multi-valued integers as strings", ext: `{"codes":["1","2"]}`, want: 201,
			check: func(t *testing.T, e map[string]any) { assert.Equal(t, []any{1.0, 2.0}, e["codes"]) }},
		{name: "multi-valued strings", ext: `{"tags":["a","b"]}`, want: 201,
			check: func(t *testing.T, e map[string]any) { assert.Equal(t, []any{"a", "b"}, e["tags"]) }},
		{name: "fraction in an integer string is refused", ext: `{"seats":"3.5"}`, want: 400},
		{name: "hex string is not a number", ext: `{"seats":"0x10"}`, want: 400},
		{name: "padded string is not a number", ext: `{"seats":" 3"}`, want: 400},
		{name: "Inf is not a number", ext: `{"ratio":"Inf"}`, want: 400},
		{name: "text in an integer", ext: `{"seats":"three"}`, want: 400},
		{name: "bad dateTime", ext: `{"hired":"yesterday"}`, want: 400},
		{name: "good dateTime", ext: `{"hired":"2024-05-06T07:08:09Z"}`, want: 201},
		{name: "list for a single-valued attribute", ext: `{"seats":[1,2]}`, want: 400},
		{name: "strict: integer string refused", ext: `{"seats":"3"}`, strict: true, want: 400},
		{name: "strict: True refused", ext: `{"vip":"True"}`, strict: true, want: 400},
		{name: "strict: numbers fine", ext: `{"seats":3,"vip":true}`, strict: true, want: 201},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := []scimkit.Option{scimkit.WithUserExtension(acmeExtension())}
			if tc.strict {
				opts = append(opts, scimkit.WithStrictTypes())
			}
			srv, _ := newTestServer(t, opts...)
			w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"u","`+acmeURN+`":`+tc.ext+`}`)
			require.Equal(t, tc.want, w.Code, w.Body.String())
			if tc.check != nil {
				tc.check(t, decode(t, w.Body.String())[acmeURN].(map[string]any))
			}
		})
	}
}

func TestExtensionPatchNumericString(t *testing.T) {
	srv, _ := newTestServer(t, scimkit.WithUserExtension(acmeExtension()))
	id := idOf(t, serve(t, srv, http.MethodPost, "/Users", `{"userName":"u"}`).Body.String())
	w := serve(t, srv, http.MethodPatch, "/Users/"+id, patchBody(`{"op":"Add","path":"`+acmeURN+`:seats","value":"7"}`))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, 7.0, decode(t, w.Body.String())[acmeURN].(map[string]any)["seats"])
}

func TestExtensionSchema(t *testing.T) {
	srv, _ := newTestServer(t, scimkit.WithUserExtension(acmeExtension()))
	w := serve(t, srv, http.MethodGet, "/Schemas/"+acmeURN, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	attrs := map[string]map[string]any{}
	for _, a := range decode(t, w.Body.String())["attributes"].([]any) {
		m := a.(map[string]any)
		attrs[m["name"].(string)] = m
	}
	assert.Equal(t, []any{"gold", "silver"}, attrs["tier"]["canonicalValues"])
	assert.Equal(t, true, attrs["tier"]["caseExact"])
	assert.Equal(t, "integer", attrs["seats"]["type"])
	assert.Equal(t, true, attrs["seats"]["required"])
	assert.Equal(t, "server", attrs["seats"]["uniqueness"])
	assert.Equal(t, "decimal", attrs["ratio"]["type"])
	assert.Equal(t, "boolean", attrs["vip"]["type"])
	assert.Equal(t, "dateTime", attrs["hired"]["type"])
	assert.Equal(t, "reference", attrs["homepage"]["type"])
	assert.Equal(t, "binary", attrs["badge"]["type"])
	assert.Equal(t, true, attrs["tags"]["multiValued"])
	assert.Equal(t, false, attrs["ratio"]["multiValued"])
}

func TestExtensionBuilderErrors(t *testing.T) {
	tests := []struct {
		name string
		ext  scimkit.Extension
	}{
		{"no attributes", scimkit.NewExtension(acmeURN)},
		{"bad uniqueness", scimkit.NewExtension(acmeURN).String("a", scimkit.Uniqueness("unique"))},
		{"canonical values on an integer", scimkit.NewExtension(acmeURN).Integer("a", scimkit.CanonicalValues("1"))},
		{"duplicate", scimkit.NewExtension(acmeURN).String("a").Boolean("A")},
		{"bad URN", scimkit.NewExtension("acme").String("a")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			_, err := scimkit.New(st, st, scimkit.WithUserExtension(tc.ext))
			assert.Error(t, err)
		})
	}
	// The builder returns copies: extending one value leaves the other.
	base := scimkit.NewExtension(acmeURN).String("a")
	_ = base.String("b")
	assert.Len(t, base.Attributes, 1)
}

// TestTypedUser provisions a user the way Entra does (POST, manager PATCH,
// group membership) and reads it back through the typed view.
func TestTypedUser(t *testing.T) {
	srv, _ := newTestServer(t, scimkit.WithUserExtension(acmeExtension()))
	body := `{"schemas":["` + userURN + `"],"userName":"Ada@Example.com","externalId":"e1","active":"False",
	 "displayName":"Ada L","title":"Engineer","name":{"givenName":"Ada","familyName":"Lovelace"},
	 "emails":[{"type":"home","value":"ada@home.example"},{"type":"work","value":"ada@example.com","primary":true}],
	 "phoneNumbers":[{"type":"mobile","value":"+1 555"}],
	 "addresses":[{"type":"work","locality":"London","country":"GB","primary":true}],
	 "roles":[{"value":"admin"}],"entitlements":[{"value":"backup"}],
	 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","employeeNumber":"42","costCenter":"C1","organization":"O","division":"D"},
	 "` + acmeURN + `":{"seats":"3","ratio":1.5,"vip":"True","hired":"2024-05-06T07:08:09Z","tags":["x","y"],"tier":"gold"}}`
	w := serve(t, srv, http.MethodPost, "/Users", body)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	id := idOf(t, w.Body.String())
	mgr := idOf(t, serve(t, srv, http.MethodPost, "/Users", `{"userName":"boss"}`).Body.String())
	require.Equal(t, http.StatusOK, serve(t, srv, http.MethodPatch, "/Users/"+id,
		patchBody(`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"`+mgr+`"}`)).Code)
	gid := idOf(t, serve(t, srv, http.MethodPost, "/Groups", `{"displayName":"Backup Admins","members":[{"value":"`+id+`"}]}`).Body.String())
	serve(t, srv, http.MethodPost, "/Groups", `{"displayName":"Others","members":[{"value":"`+mgr+`"}]}`)

	u, err := srv.User(context.Background(), "acme", id)
	require.NoError(t, err)
	assert.Equal(t, id, u.ID)
	assert.Equal(t, "Ada@Example.com", u.UserName)
	assert.Equal(t, "e1", u.ExternalID)
	assert.False(t, u.Active)
	assert.Equal(t, "Ada L", u.DisplayName)
	assert.Equal(t, "Engineer", u.Title)
	assert.Equal(t, scimkit.Name{GivenName: "Ada", FamilyName: "Lovelace"}, u.Name)
	assert.Equal(t, "ada@example.com", u.PrimaryEmail())
	assert.Equal(t, "ada@home.example", u.Email("HOME"))
	assert.Equal(t, []scimkit.MultiValue{{Value: "+1 555", Type: "mobile"}}, u.PhoneNumbers)
	assert.Equal(t, []scimkit.Address{{Type: "work", Locality: "London", Country: "GB", Primary: true}}, u.Addresses)
	assert.Equal(t, "admin", u.Roles[0].Value)
	assert.Equal(t, "backup", u.Entitlements[0].Value)
	assert.Equal(t, scimkit.EnterpriseUser{Department: "R&D", EmployeeNumber: "42", CostCenter: "C1", Organization: "O", Division: "D", ManagerID: mgr}, u.Enterprise)
	assert.Equal(t, []scimkit.GroupRef{{Value: gid, Display: "Backup Admins"}}, u.Groups)
	assert.Equal(t, fixedNow, u.Created.UTC())
	assert.EqualValues(t, 2, u.Version)

	x := u.Extension("URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ACME:2.0:USER")
	n, ok := x.Int("seats")
	assert.True(t, ok)
	assert.EqualValues(t, 3, n)
	f, ok := x.Decimal("ratio")
	assert.True(t, ok)
	assert.Equal(t, 1.5, f)
	_, ok = x.Int("ratio")
	assert.False(t, ok, "1.5 is no integer")
	b, ok := x.Bool("VIP")
	assert.True(t, ok)
	assert.True(t, b)
	tm, ok := x.Time("hired")
	assert.True(t, ok)
	assert.Equal(t, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), tm)
	assert.Equal(t, []string{"x", "y"}, x.Strings("tags"))
	assert.Equal(t, "gold", x.String("tier"))
	assert.False(t, x.Has("badge"))
	_, ok = u.Extension("urn:none").Int("seats")
	assert.False(t, ok)

	// Paths as IdPs name them.
	assert.Equal(t, "ada@example.com", u.Value(`emails[type eq "work"].value`))
	assert.Equal(t, "ada@example.com", u.Value(`emails[primary eq true].value`))
	assert.Equal(t, "ada@example.com", u.Value(`emails.value`), "the primary one")
	assert.Equal(t, mgr, u.Value("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"))
	assert.Equal(t, "Ada", u.Value("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName"))
	assert.Nil(t, u.Value(`emails[type eq "other"].value`))

	g, err := srv.Group(context.Background(), "acme", gid)
	require.NoError(t, err)
	assert.Equal(t, "Backup Admins", g.DisplayName)
	require.Len(t, g.Members, 1)
	assert.Equal(t, id, g.Members[0].Value)

	_, err = srv.User(context.Background(), "acme", "nope")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	_, err = srv.User(context.Background(), "globex", id)
	assert.ErrorIs(t, err, storage.ErrNotFound, "another tenant's user")
}

type mapped struct {
	Login   string    `scim:"userName,transform=shout"`
	Seats   int       `scim:"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:seats,default=5"`
	Ratio   float64   `scim:"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:ratio"`
	VIP     bool      `scim:"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:vip"`
	Hired   time.Time `scim:"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:hired"`
	Tags    []string  `scim:"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:tags"`
	Manager string    `scim:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"`
	Phone   string    `scim:"phoneNumbers[type eq \"mobile\"].value"`
	Given   string    `scim:"name.givenName,default=Unknown, Person"`
	Skipped string
}

func TestMappingRoundTrip(t *testing.T) {
	m, err := scimkit.NewMapping[mapped](scimkit.WithTransform("shout", func(s string) string { return s + "!" }))
	require.NoError(t, err)
	u, err := scimkit.UserFromJSON([]byte(`{"userName":"ada","phoneNumbers":[{"type":"work","value":"1"},{"type":"mobile","value":"2"}],
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":{"value":"m1"},
	  "` + acmeURN + `":{"ratio":0.5,"vip":true,"hired":"2024-05-06T07:08:09Z","tags":["a"]}}`))
	require.NoError(t, err)
	got, err := m.FromUser(u)
	require.NoError(t, err)
	want := mapped{Login: "ada!", Seats: 5, Ratio: 0.5, VIP: true, Hired: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		Tags: []string{"a"}, Manager: "m1", Phone: "2", Given: "Unknown, Person"}
	assert.Equal(t, want, got)

	doc := m.ToSCIM(&got)
	assert.Equal(t, []any{userURN, acmeURN, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}[0], doc["schemas"].([]any)[0])
	assert.ElementsMatch(t, []any{userURN, acmeURN, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}, doc["schemas"])
	assert.Equal(t, map[string]any{"value": "m1"}, doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)["manager"])
	assert.Equal(t, []any{map[string]any{"type": "mobile", "value": "2"}}, doc["phoneNumbers"])
	assert.Equal(t, map[string]any{"givenName": "Unknown, Person"}, doc["name"])
	assert.Equal(t, 5.0, doc[acmeURN].(map[string]any)["seats"])

	// The SCIM document read back maps to the same struct (but for the
	// transform, which runs SCIM → host only).
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	u2, err := scimkit.UserFromJSON(b)
	require.NoError(t, err)
	again, err := m.FromUser(u2)
	require.NoError(t, err)
	want.Login = "ada!!"
	assert.Equal(t, want, again)

	_, err = m.FromUser(mustUser(t, `{"`+acmeURN+`":{"seats":"many"}}`))
	assert.ErrorContains(t, err, "Seats")
}

func mustUser(t *testing.T, body string) *scimkit.User {
	t.Helper()
	u, err := scimkit.UserFromJSON([]byte(body))
	require.NoError(t, err)
	return u
}

func TestMappingErrors(t *testing.T) {
	type badOpt struct {
		A string `scim:"userName,upper"`
	}
	type badTransform struct {
		A string `scim:"userName,transform=nope"`
	}
	type badType struct {
		A map[string]string `scim:"userName"`
	}
	type badDefault struct {
		A int `scim:"userName,default=x"`
	}
	type badPath struct {
		A string `scim:"emails[type ne \"work\"].value"`
	}
	type notSent struct {
		A string `scim:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"`
	}
	type none struct{ A string }
	_, err := scimkit.NewMapping[badOpt]()
	assert.ErrorContains(t, err, "unknown tag option")
	_, err = scimkit.NewMapping[badTransform]()
	assert.ErrorContains(t, err, "unknown transform")
	_, err = scimkit.NewMapping[badType]()
	assert.ErrorContains(t, err, "unsupported field type")
	_, err = scimkit.NewMapping[badDefault]()
	assert.ErrorContains(t, err, "default")
	_, err = scimkit.NewMapping[badPath]()
	assert.ErrorContains(t, err, "[attr eq value]")
	_, err = scimkit.NewMapping[notSent](scimkit.ForPreset(scimkit.OktaPreset()))
	assert.ErrorContains(t, err, "does not send")
	_, err = scimkit.NewMapping[notSent](scimkit.ForPreset(scimkit.EntraPreset()))
	assert.ErrorContains(t, err, "does not send", "Druva's department is in its own extension")
	_, err = scimkit.NewMapping[none]()
	assert.Error(t, err)
	_, err = scimkit.NewMapping[int]()
	assert.Error(t, err)
}

func TestPresetsAreFresh(t *testing.T) {
	p := scimkit.EntraPreset()
	p.Rules[0].Target = "changed"
	p.Extensions[0].Attributes[0].Name = "changed"
	assert.Equal(t, "userName", scimkit.EntraPreset().Rules[0].Target)
	assert.Equal(t, "userPrincipalName", scimkit.EntraPreset().Extensions[0].Attributes[0].Name)
	// The preset's options register the Druva extension.
	st := memory.New()
	srv, err := scimkit.New(st, st, scimkit.EntraPreset().Options()...)
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(context.Background(), st, "acme", acmeToken))
	assert.Equal(t, http.StatusOK, serve(t, srv, http.MethodGet, "/Schemas/"+druvaURN, "").Code)
}

func TestUserNamePolicy(t *testing.T) {
	tests := []struct {
		name     string
		policies []scimkit.UserNamePolicy
		in       string
		want     string // stored userName; "" means 400
		detail   string
	}{
		{"Druva rule", []scimkit.UserNamePolicy{scimkit.DruvaUserNames()}, `a?b*c/d\e<f>g@x.com`, "a_b_c_d_e_f_g@x.com", ""},
		{"lower-case", []scimkit.UserNamePolicy{scimkit.LowerCaseUserNames()}, "Ada@X.com", "ada@x.com", ""},
		{"both, in order", []scimkit.UserNamePolicy{scimkit.DruvaUserNames(), scimkit.LowerCaseUserNames()}, "A/B", "a_b", ""},
		{"e-mail accepted", []scimkit.UserNamePolicy{scimkit.EmailUserNames()}, "ada@x.com", "ada@x.com", ""},
		{"e-mail refused", []scimkit.UserNamePolicy{scimkit.EmailUserNames()}, "ada", "", `breaks the rule \"e-mail address only\"`},
		{"display-name form refused", []scimkit.UserNamePolicy{scimkit.EmailUserNames()}, "Ada <ada@x.com>", "", "e-mail address only"},
		{"reject characters", []scimkit.UserNamePolicy{scimkit.RejectUserNames("/\\")}, "a/b", "", `contains \"/\"`},
		{"rewrite to empty refused", []scimkit.UserNamePolicy{scimkit.NewUserNamePolicy("strip", func(s string) (string, error) { return strings.TrimPrefix(s, "x"), nil })}, "x", "", "becomes empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newTestServer(t, scimkit.WithUserNamePolicy(tc.policies...))
			body := `{"userName":` + string(mustJSON(t, tc.in)) + `}`
			for _, method := range []string{"POST", "PUT", "PATCH"} {
				var w = serve(t, srv, http.MethodPost, "/Users", `{"userName":"seed-`+method+`@x.com"}`)
				require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
				id := idOf(t, w.Body.String())
				switch method {
				case "POST":
					serve(t, srv, http.MethodDelete, "/Users/"+id, "")
					w = serve(t, srv, http.MethodPost, "/Users", body)
				case "PUT":
					w = serve(t, srv, http.MethodPut, "/Users/"+id, body)
				case "PATCH":
					w = serve(t, srv, http.MethodPatch, "/Users/"+id, patchBody(`{"op":"replace","path":"userName","value":`+string(mustJSON(t, tc.in))+`}`))
				}
				if tc.want == "" {
					require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", method, w.Body.String())
					assert.Contains(t, w.Body.String(), `"scimType":"invalidValue"`)
					assert.Contains(t, w.Body.String(), tc.detail)
					continue
				}
				require.True(t, w.Code == 200 || w.Code == 201, "%s: %d %s", method, w.Code, w.Body.String())
				assert.Equal(t, tc.want, decode(t, w.Body.String())["userName"], method)
				serve(t, srv, http.MethodDelete, "/Users/"+idOf(t, w.Body.String()), "")
			}
		})
	}
}

func TestUserNamePolicyLeavesStoredNamesAlone(t *testing.T) {
	// A user stored before the policy keeps its name through PATCHes of
	// other attributes.
	srv, store := newTestServer(t)
	id := idOf(t, serve(t, srv, http.MethodPost, "/Users", `{"userName":"legacy"}`).Body.String())
	strict, err := scimkit.New(store, store, scimkit.WithUserNamePolicy(scimkit.EmailUserNames()))
	require.NoError(t, err)
	w := serve(t, strict, http.MethodPatch, "/Users/"+id, patchBody(`{"op":"replace","path":"active","value":false}`))
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestREADMETables: the README shows each preset's table as produced.
func TestREADMETables(t *testing.T) {
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	assert.Contains(t, string(b), scimkit.EntraPreset().Markdown())
	assert.Contains(t, string(b), scimkit.OktaPreset().Markdown())
}
