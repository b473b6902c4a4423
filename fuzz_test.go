package scimkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// The fuzz targets drive the real handler on the memory store. Their
// invariants: no panic (a panic is a 500, which fails them too), every
// non-2xx answer is SCIM error JSON with the status as a string (RFC 7644
// §3.12), and a refused request changes nothing. CI runs each for a few
// seconds (.ci/run); seeds are the RFC 7644 examples and the requests
// recorded from Entra and Okta in testdata.

// fuzzFixture is a server with one tenant holding two users and a group.
type fuzzFixture struct {
	srv    *scimkit.Server
	store  *memory.Store
	user   string // id of a user
	user2  string
	group  string // id of a group holding user
	tokens map[string]string
}

func newFuzzFixture(f *testing.F) *fuzzFixture {
	f.Helper()
	ctx := context.Background()
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithRateLimit(0, 0), scimkit.WithConcurrencyLimit(0), scimkit.WithWorkLimit(0, 0))
	if err != nil {
		f.Fatal(err)
	}
	fx := &fuzzFixture{srv: srv, store: store, tokens: map[string]string{"acme": acmeToken, "globex": "globex-0123456789abcdef"}}
	for tenant, tok := range fx.tokens {
		if err := scimkit.SetToken(ctx, store, tenant, tok); err != nil {
			f.Fatal(err)
		}
	}
	create := func(path, body string) string {
		w := fx.do("acme", http.MethodPost, path, body)
		if w.Code != http.StatusCreated {
			f.Fatalf("seed %s: %d %s", path, w.Code, w.Body)
		}
		var doc struct{ ID string }
		_ = json.Unmarshal(w.Body.Bytes(), &doc)
		return doc.ID
	}
	fx.user = create("/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen@example.com","externalId":"bjensen","name":{"familyName":"Jensen","givenName":"Barbara"},"displayName":"Babs Jensen","title":"Tour Guide","active":true,"emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],"phoneNumbers":[{"value":"555-555-8377","type":"work"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}}`)
	fx.user2 = create("/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jsmith","active":false,"emails":[{"value":"jsmith@example.org","type":"work"}]}`)
	fx.group = create("/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Tour Guides","members":[{"value":"`+fx.user+`"}]}`)
	return fx
}

func (fx *fuzzFixture) do(tenant, method, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://scim.test/", strings.NewReader(body))
	r.URL = &url.URL{Path: target}
	if p, q, ok := strings.Cut(target, "?"); ok {
		r.URL = &url.URL{Path: p, RawQuery: q}
	}
	r.RequestURI = r.URL.RequestURI()
	r.Header.Set("Authorization", "Bearer "+fx.tokens[tenant])
	r.Header.Set("Content-Type", "application/scim+json")
	w := httptest.NewRecorder()
	fx.srv.ServeHTTP(w, r)
	return w
}

// snapshot is everything the fixture's tenants hold.
func (fx *fuzzFixture) snapshot(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, tenant := range []string{"acme", "globex"} {
		for _, kind := range []storage.Kind{storage.KindUser, storage.KindGroup} {
			page, err := fx.store.List(ctx, tenant, storage.Query{Kind: kind, StartIndex: 1, Count: 1000, WithMembers: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Resources {
				b.WriteString(r.ID + " " + string(r.Data) + "\n")
				for _, m := range page.Members[r.ID] {
					b.WriteString("  member " + m.Value + "\n")
				}
			}
		}
	}
	return b.String()
}

// checkResponse asserts the invariants every response keeps.
func checkResponse(t *testing.T, w *httptest.ResponseRecorder, what string) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s: %d %s", what, w.Code, w.Body)
	}
	if w.Code < 300 {
		if w.Code != http.StatusNoContent && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s: %d with invalid JSON %q", what, w.Code, w.Body)
		}
		return
	}
	var e struct {
		Schemas []string `json:"schemas"`
		Status  any      `json:"status"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("%s: %d body is not JSON: %q", what, w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/scim+json" {
		t.Fatalf("%s: %d Content-Type %q", what, w.Code, ct)
	}
	s, ok := e.Status.(string)
	if !ok || s != itoa(w.Code) {
		t.Fatalf("%s: %d status attribute %#v is not the status as a string", what, w.Code, e.Status)
	}
	if len(e.Schemas) != 1 || e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Fatalf("%s: %d schemas %v", what, w.Code, e.Schemas)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// recorded is one request of the recorded IdP traffic in testdata.
type recorded struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body"`
}

func recordedTraffic(f *testing.F) []recorded {
	f.Helper()
	var out []recorded
	for _, dir := range []string{"testdata/azuread", "testdata/okta"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			var steps []recorded
			if err := json.Unmarshal(b, &steps); err != nil {
				f.Fatalf("%s: %v", file, err)
			}
			out = append(out, steps...)
		}
	}
	if len(out) == 0 {
		f.Fatal("no recorded traffic in testdata")
	}
	return out
}

// rfcFilters are the filter examples of RFC 7644 §3.4.2.2, and a few
// shapes that stress the parser.
var rfcFilters = []string{
	`userName Eq "john"`,
	`Username eq "john"`,
	`userName eq "bjensen"`,
	`name.familyName co "O'Malley"`,
	`userName sw "J"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
	`title pr`,
	`meta.lastModified gt "2011-05-13T04:42:34Z"`,
	`meta.lastModified ge "2011-05-13T04:42:34Z"`,
	`meta.lastModified lt "2011-05-13T04:42:34Z"`,
	`meta.lastModified le "2011-05-13T04:42:34Z"`,
	`title pr and userType eq "Employee"`,
	`title pr or userType eq "Intern"`,
	`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
	`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`userType eq "Employee" and (emails.type eq "work")`,
	`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
	`members[value eq "x"]`,
	`displayName eq "Tour Guides"`,
	`active eq true`,
	`not(not(not(active eq false)))`,
	`userName eq "\"quoted\\"`,
	`emails[not(type eq "work")].value`,
	`x eq 1.5e3`,
	`meta.created gt "not a date"`,
}

// FuzzFilter parses and evaluates filters on Users and Groups: every
// answer is a 200 ListResponse or a 400 SCIM error.
func FuzzFilter(f *testing.F) {
	fx := newFuzzFixture(f)
	for _, s := range rfcFilters {
		f.Add(s)
	}
	for _, r := range recordedTraffic(f) {
		if _, q, ok := strings.Cut(r.Path, "?"); ok {
			if v, err := url.ParseQuery(q); err == nil && v.Get("filter") != "" {
				f.Add(v.Get("filter"))
			}
		}
	}
	before := fx.snapshot(f)
	f.Fuzz(func(t *testing.T, filter string) {
		for _, ep := range []string{"/Users", "/Groups"} {
			w := fx.do("acme", http.MethodGet, ep+"?filter="+url.QueryEscape(filter), "")
			checkResponse(t, w, "GET "+ep+" filter "+filter)
			if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
				t.Fatalf("filter %q: status %d", filter, w.Code)
			}
		}
		if after := fx.snapshot(t); after != before {
			t.Fatalf("a filter changed the store")
		}
	})
}

// FuzzPatch sends one PATCH operation with a fuzzed op, path and value
// to a User and a Group. A refused PATCH changes nothing; an accepted one
// leaves a resource that reads back.
func FuzzPatch(f *testing.F) {
	fx := newFuzzFixture(f)
	seeds := []struct{ op, path, value string }{
		// RFC 7644 §3.5.2 examples.
		{"add", "members", `[{"display":"Babs Jensen","$ref":"https://example.com/v2/Users/2819c223","value":"2819c223-7f76-453a-919d-413861904646"}]`},
		{"add", "", `{"emails":[{"value":"babs@jensen.org","type":"home"}],"nickname":"Babs"}`},
		{"remove", `members[value eq "2819c223-7f76-453a-919d-413861904646"]`, ``},
		{"remove", "members", ``},
		{"remove", `emails[type eq "work" and value ew "example.com"]`, ``},
		{"replace", "members", `[{"value":"x"}]`},
		{"replace", `addresses[type eq "work"]`, `{"type":"work","streetAddress":"911 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"US","formatted":"911 Universal City Plaza\nHollywood, CA 91608 US","primary":true}`},
		{"replace", `addresses[type eq "work"].streetAddress`, `"1010 Broadway Ave"`},
		{"replace", "", `{"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"nickname":"Babs"}`},
		{"Replace", "active", `"False"`},
		{"Add", `emails[type eq "work"].value`, `"x@example.com"`},
		{"add", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", `"26118915-6090-4610-87e4-49d8ca9f808d"`},
		{"replace", "name.givenName", `null`},
		{"remove", "roles.displayName", ``},
		{"add", "emails", `[` + strings.Repeat(`{"value":"a@b.c"},`, 20) + `{"value":"z@b.c","primary":true}]`},
	}
	for _, s := range seeds {
		f.Add(s.op, s.path, s.value)
	}
	for _, r := range recordedTraffic(f) {
		if r.Method != http.MethodPatch {
			continue
		}
		var body struct {
			Operations []struct {
				Op    string          `json:"op"`
				Path  string          `json:"path"`
				Value json.RawMessage `json:"value"`
			} `json:"Operations"`
		}
		if json.Unmarshal(r.Body, &body) == nil {
			for _, op := range body.Operations {
				f.Add(op.Op, op.Path, string(op.Value))
			}
		}
	}
	f.Fuzz(func(t *testing.T, op, path, value string) {
		o := map[string]any{"op": op}
		if path != "" {
			o["path"] = path
		}
		if value != "" {
			if !json.Valid([]byte(value)) {
				value = `"` + strings.ReplaceAll(strings.ReplaceAll(value, `\`, `\\`), `"`, `\"`) + `"`
				if !json.Valid([]byte(value)) {
					return
				}
			}
			o["value"] = json.RawMessage(value)
		}
		ops, err := json.Marshal(map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{o},
		})
		if err != nil {
			return
		}
		for _, target := range []string{"/Users/" + fx.user, "/Groups/" + fx.group} {
			before := fx.snapshot(t)
			w := fx.do("acme", http.MethodPatch, target, string(ops))
			checkResponse(t, w, "PATCH "+target+" "+string(ops))
			if w.Code >= 300 {
				if after := fx.snapshot(t); after != before {
					t.Fatalf("refused PATCH %s (%d) changed the store", ops, w.Code)
				}
				continue
			}
			g := fx.do("acme", http.MethodGet, target, "")
			if g.Code != http.StatusOK {
				t.Fatalf("after PATCH %s: GET %d %s", ops, g.Code, g.Body)
			}
		}
	})
}

// FuzzBody sends fuzzed bodies as POST, PUT and PATCH of Users and
// Groups. A refused request changes nothing; a created resource is
// deleted again so the fixture stays small.
func FuzzBody(f *testing.F) {
	fx := newFuzzFixture(f)
	for _, r := range recordedTraffic(f) {
		if len(r.Body) == 0 {
			continue
		}
		switch {
		case r.Method == http.MethodPost:
			f.Add(uint8(0), []byte(r.Body))
		case r.Method == http.MethodPut:
			f.Add(uint8(2), []byte(r.Body))
		case r.Method == http.MethodPatch:
			f.Add(uint8(4), []byte(r.Body))
		}
	}
	f.Add(uint8(1), []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Group A","members":[{"value":"nope"}]}`))
	f.Add(uint8(0), []byte(`{"userName":"a","userName":"b"}`))
	f.Add(uint8(0), []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\u0000"}`))
	f.Add(uint8(2), []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jsmith"}`))
	f.Add(uint8(0), []byte(`[]`))
	f.Add(uint8(0), []byte(`{} {}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		methods := []string{http.MethodPost, http.MethodPut, http.MethodPatch}
		method := methods[int(which>>1)%len(methods)]
		target := "/Users"
		if which&1 == 1 {
			target = "/Groups"
		}
		if method != http.MethodPost {
			if target == "/Users" {
				target += "/" + fx.user2
			} else {
				target += "/" + fx.group
			}
		}
		before := fx.snapshot(t)
		w := fx.do("acme", method, target, string(body))
		checkResponse(t, w, method+" "+target)
		if w.Code >= 300 {
			if after := fx.snapshot(t); after != before {
				t.Fatalf("refused %s %s (%d) changed the store: %q", method, target, w.Code, body)
			}
			return
		}
		if method == http.MethodPost {
			loc := w.Header().Get("Location")
			d := fx.do("acme", http.MethodDelete, loc[strings.Index(loc, target):], "")
			if d.Code != http.StatusNoContent {
				t.Fatalf("delete of created %s: %d", loc, d.Code)
			}
		}
	})
}

// FuzzAuth fuzzes the Authorization header and the tenant path segment
// of a tenant URL (TenantHandler). Only a tenant's own token, sent as a
// bearer token to its own URL, is ever served; everything else is a 401
// or 404 SCIM error.
func FuzzAuth(f *testing.F) {
	fx := newFuzzFixture(f)
	mux := http.NewServeMux()
	mux.Handle("/t/{tenant}/scim/v2/", fx.srv.TenantHandler("tenant"))
	f.Add("Bearer "+acmeToken, "acme")
	f.Add("bearer  "+acmeToken+" ", "acme")
	f.Add("Bearer "+acmeToken, "globex")
	f.Add("Bearer globex-0123456789abcdef", "acme")
	f.Add("Basic YWNtZTpzZWNyZXQ=", "acme")
	f.Add("Bearer", "acme")
	f.Add("Bearer "+acmeToken, "%2e%2e")
	f.Add("Bearer "+acmeToken, "..")
	f.Add("Bearer "+acmeToken, "ACME")
	f.Add("Bearer "+acmeToken+"\x00", "acme")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, auth, tenant string) {
		if !utf8.ValidString(tenant) || strings.ContainsAny(tenant, "/?#") {
			return
		}
		for _, target := range []string{"/t/" + url.PathEscape(tenant) + "/scim/v2/Users", "/Users"} {
			r := httptest.NewRequest(http.MethodGet, "http://scim.test/", nil)
			r.URL = &url.URL{Path: target}
			if p, err := url.PathUnescape(target); err == nil {
				r.URL.Path, r.URL.RawPath = p, target
			}
			r.RequestURI = target
			r.Header["Authorization"] = []string{auth}
			w := httptest.NewRecorder()
			if strings.HasPrefix(target, "/t/") {
				mux.ServeHTTP(w, r)
			} else {
				fx.srv.ServeHTTP(w, r)
			}
			if w.Code == http.StatusMovedPermanently || w.Code == http.StatusTemporaryRedirect {
				continue // the mux cleaning a path such as "/t/../": not ours
			}
			if w.Code == http.StatusNotFound && !bytes.Contains(w.Body.Bytes(), []byte("urn:ietf:params:scim:api:messages:2.0:Error")) {
				continue // the mux found no route (an empty segment)
			}
			checkResponse(t, w, "GET "+target)
			if w.Code != http.StatusOK {
				if w.Code != http.StatusUnauthorized && w.Code != http.StatusNotFound {
					t.Fatalf("GET %s with %q: status %d", target, auth, w.Code)
				}
				continue
			}
			if !strings.EqualFold(auth[:min(len(auth), 7)], "bearer ") {
				t.Fatalf("GET %s served with Authorization %q", target, auth)
			}
			sent := strings.TrimSpace(auth[7:])
			served := false
			for tn, tk := range fx.tokens {
				if sent == tk && (target == "/Users" || tn == tenant) {
					served = true
				}
			}
			if !served {
				t.Fatalf("GET %s served with Authorization %q", target, auth)
			}
		}
	})
}
