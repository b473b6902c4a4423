package scimkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
)

// This file replays the provisioning flows of Microsoft Entra ID and Okta
// (testdata/azuread/*.json, testdata/okta/*.json; see IDP.md) against a
// real Server on the memory backend, mounted as a host would mount it, and
// checks the IdP-facing details that are not one flow: route spelling,
// client errors, tenant isolation and tenant-in-URL mounting.

const (
	acmeToken   = "acme-0123456789abcdef"
	globexToken = "globex-0123456789abcdef"
	druvaURN    = "urn:ietf:params:scim:schemas:extension:Druva:2.0:User"
	errorURN    = "urn:ietf:params:scim:api:messages:2.0:Error"
	listURN     = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	userURN     = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN    = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimJSON    = "application/scim+json"
)

// fixedNow is the pinned clock of every test server.
var fixedNow = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// newTestServer builds the server every replay runs against: memory
// store, pinned clock, counter ids and Druva's custom extension.
func newTestServer(t *testing.T, opts ...scimkit.Option) (*scimkit.Server, *memory.Store) {
	t.Helper()
	store := memory.New()
	var n atomic.Int64
	srv, err := scimkit.New(store, store, append([]scimkit.Option{
		// No work limit unless a test asks for one: under -race on a
		// busy machine one large request takes seconds, which would
		// spend the tenant's share before the test's next page.
		scimkit.WithWorkLimit(0, 0),
		scimkit.WithClock(func() time.Time { return fixedNow }),
		scimkit.WithIDGenerator(func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1)) }),
		scimkit.WithUserExtension(scimkit.StringExtension(druvaURN, "userPrincipalName", "city", "country", "department")),
	}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(context.Background(), store, "acme", acmeToken))
	return srv, store
}

// harness is a test server mounted under /scim/v2 the way a host mounts it.
type harness struct {
	srv   *scimkit.Server
	store *memory.Store
	ts    *httptest.Server
	base  string // absolute SCIM base URL
}

func newHarness(t *testing.T, opts ...scimkit.Option) *harness {
	t.Helper()
	srv, store := newTestServer(t, opts...)
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &harness{srv: srv, store: store, ts: ts, base: ts.URL + "/scim/v2"}
}

// response is one decoded HTTP response.
type response struct {
	status int
	header http.Header
	raw    []byte
	doc    map[string]any // nil when the body is empty
}

// do sends one request with a bearer token ("" sends none) to base+path;
// path may carry an unescaped query (filter=userName eq "x").
func do(t *testing.T, client *http.Client, method, base, path, token string, body []byte, headers map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, requestURL(base, path), rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", scimJSON)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.doc); err != nil {
			t.Errorf("%s %s: response body is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	return r
}

// requestURL joins base and a fixture path, escaping the query values the
// way an HTTP client does (spaces as %20, quotes as %22).
func requestURL(base, path string) string {
	p, q, hasQuery := strings.Cut(path, "?")
	if !hasQuery {
		return base + p
	}
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	var parts []string
	for _, kv := range splitQuery(q) {
		k, v, hasValue := strings.Cut(kv, "=")
		if !hasValue {
			parts = append(parts, esc(k))
			continue
		}
		parts = append(parts, esc(k)+"="+esc(v))
	}
	return base + p + "?" + strings.Join(parts, "&")
}

// splitQuery splits a fixture query at the "&" that start a parameter
// ("&count=5", "&aadOptscim062020"), not at one inside a filter value
// ("R&D").
func splitQuery(q string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '&' {
			continue
		}
		j := i + 1
		for j < len(q) && (q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z' || q[j] >= '0' && q[j] <= '9') {
			j++
		}
		if j > i+1 && (j == len(q) || q[j] == '=' || q[j] == '&') {
			parts = append(parts, q[start:i])
			start = i + 1
		}
	}
	return append(parts, q[start:])
}

// checkWire checks what every response must satisfy: the media type of a
// body, no body on 204, the SCIM error shape (RFC 7644 §3.12) on errors,
// integer paging numbers in a ListResponse (Okta O1), and for every
// resource in the body an id, an absolute meta.location under base and no
// password.
func checkWire(t *testing.T, base string, r response) {
	t.Helper()
	if r.status == http.StatusNoContent {
		assert.Empty(t, r.raw, "204 must have no body")
		return
	}
	if len(bytes.TrimSpace(r.raw)) > 0 {
		mt, _, err := mime.ParseMediaType(r.header.Get("Content-Type"))
		assert.NoError(t, err, "Content-Type %q", r.header.Get("Content-Type"))
		assert.Equal(t, scimJSON, mt, "Content-Type of a body")
	}
	if r.doc == nil {
		t.Errorf("status %d without a JSON body", r.status)
		return
	}
	if r.status >= 400 {
		checkErrorShape(t, r)
		return
	}
	if hasSchema(r.doc, listURN) {
		for _, k := range []string{"totalResults", "itemsPerPage", "startIndex"} {
			assertJSONInteger(t, r.doc, k)
		}
		res, ok := r.doc["Resources"].([]any)
		if _, present := r.doc["Resources"]; present {
			assert.True(t, ok, "Resources must be an array")
		}
		for _, x := range res {
			m, isObj := x.(map[string]any)
			if assert.True(t, isObj, "Resources element must be an object") {
				checkResource(t, base, m)
			}
		}
		return
	}
	if _, ok := r.doc["id"]; ok {
		checkResource(t, base, r.doc)
	}
}

func checkErrorShape(t *testing.T, r response) {
	t.Helper()
	assert.True(t, hasSchema(r.doc, errorURN), "error schemas must contain %s: %s", errorURN, r.raw)
	assert.Equal(t, strconv.Itoa(r.status), r.doc["status"], "error status must be a string equal to the HTTP status: %s", r.raw)
	detail, _ := r.doc["detail"].(string)
	assert.NotEmpty(t, detail, "error detail: %s", r.raw)
	if r.status == http.StatusUnauthorized {
		assert.NotEmpty(t, r.header.Get("WWW-Authenticate"), "401 needs WWW-Authenticate (RFC 6750 §3)")
	}
}

func checkResource(t *testing.T, base string, doc map[string]any) {
	t.Helper()
	id, _ := doc["id"].(string)
	if !assert.NotEmpty(t, id, "resource without id: %v", doc) {
		return
	}
	meta, _ := doc["meta"].(map[string]any)
	if !assert.NotNil(t, meta, "resource %s without meta", id) {
		return
	}
	rt, _ := meta["resourceType"].(string)
	loc, _ := meta["location"].(string)
	assert.Equal(t, base+"/"+rt+"s/"+id, loc, "meta.location must be absolute and end with /%ss/{id}", rt)
	u, err := url.Parse(loc)
	if assert.NoError(t, err) {
		assert.True(t, u.IsAbs(), "meta.location %q must be absolute", loc)
	}
	assert.NotContains(t, doc, "password", "password is returned:never (RFC 7643 §4.1.1)")
}

func assertJSONInteger(t *testing.T, doc map[string]any, key string) {
	t.Helper()
	n, ok := doc[key].(json.Number)
	if !assert.True(t, ok, "%s must be a JSON number, got %#v", key, doc[key]) {
		return
	}
	_, err := strconv.ParseInt(n.String(), 10, 64)
	assert.NoError(t, err, "%s must be a JSON integer, got %s", key, n)
}

func hasSchema(doc map[string]any, urn string) bool {
	list, _ := doc["schemas"].([]any)
	for _, s := range list {
		if s == urn {
			return true
		}
	}
	return false
}

// subset returns where got does not contain want: objects are compared
// recursively on want's keys, arrays element by element (same length),
// numbers by value.
func subset(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %s", path, show(got))}
		}
		var out []string
		for _, k := range sortedKeys(w) {
			gv, present := g[k]
			if !present {
				out = append(out, fmt.Sprintf("%s.%s: missing (want %s)", path, k, show(w[k])))
				continue
			}
			out = append(out, subset(path+"."+k, w[k], gv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %s", path, show(got))}
		}
		if len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %d elements, got %d: %s", path, len(w), len(g), show(got))}
		}
		var out []string
		for i := range w {
			out = append(out, subset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return []string{fmt.Sprintf("%s: want number %s, got %s", path, w, show(got))}
		}
		wf, err1 := w.Float64()
		gf, err2 := g.Float64()
		if err1 != nil || err2 != nil || wf != gf {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, w, g)}
		}
		return nil
	default:
		if want != got {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, show(want), show(got))}
		}
		return nil
	}
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// present reports whether a dotted key ("members", "meta.version",
// "Resources.members", "urn:...:enterprise:2.0:User.manager") names a
// value in v. Keys may contain dots themselves (URNs), so every split is
// tried; arrays are searched element by element.
func present(v any, key string) bool {
	switch x := v.(type) {
	case []any:
		for _, el := range x {
			if present(el, key) {
				return true
			}
		}
		return false
	case map[string]any:
		if _, ok := x[key]; ok {
			return true
		}
		for i := 0; i < len(key); i++ {
			if key[i] != '.' {
				continue
			}
			if child, ok := x[key[:i]]; ok && present(child, key[i+1:]) {
				return true
			}
		}
	}
	return false
}

// step is one request of a replayed sequence.
type step struct {
	Name    string            `json:"name"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
	Status  int               `json:"status"`
	Save    string            `json:"save,omitempty"`
	Expect  json.RawMessage   `json:"expect,omitempty"`
	Absent  []string          `json:"absent,omitempty"`
}

func loadSequence(t *testing.T, file string) []step {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var steps []step
	require.NoError(t, dec.Decode(&steps), "fixture %s", file)
	require.NotEmpty(t, steps, "fixture %s has no steps", file)
	names := map[string]bool{}
	for i, s := range steps {
		require.NotEmpty(t, s.Name, "%s: step %d has no name", file, i)
		require.False(t, names[s.Name], "%s: duplicate step name %q", file, s.Name)
		names[s.Name] = true
		require.NotEmpty(t, s.Method, "%s: step %q has no method", file, s.Name)
		require.True(t, strings.HasPrefix(s.Path, "/"), "%s: step %q: path must start with /", file, s.Name)
		require.NotZero(t, s.Status, "%s: step %q has no status", file, s.Name)
		if len(s.Expect) > 0 {
			var m map[string]any
			require.NoError(t, json.Unmarshal(s.Expect, &m), "%s: step %q: expect must be an object", file, s.Name)
		}
	}
	return steps
}

var placeholder = regexp.MustCompile(`\{\{(id:[A-Za-z0-9_.-]+|base)\}\}`)

// substitute replaces {{id:alias}} with the id saved under alias and
// {{base}} with the absolute SCIM base URL.
func substitute(t *testing.T, s string, ids map[string]string, base string) string {
	t.Helper()
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-2]
		if name == "base" {
			return base
		}
		id, ok := ids[strings.TrimPrefix(name, "id:")]
		if !ok {
			t.Fatalf("placeholder %s: no id saved under that alias by an earlier step", m)
		}
		return id
	})
}

// TestIdPReplay replays every fixture sequence, each against a fresh
// server: status, media type, the SCIM error shape, Location on 201, the
// expected response subset and the keys that must be absent.
func TestIdPReplay(t *testing.T) {
	var files []string
	for _, dir := range []string{"azuread", "okta"} {
		fs, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, fs, "no fixtures in testdata/%s", dir)
		files = append(files, fs...)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.ToSlash(strings.TrimPrefix(file, "testdata"+string(filepath.Separator))), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			steps := loadSequence(t, file)
			h := newHarness(t)
			ids := map[string]string{}
			for i, s := range steps {
				t.Run(fmt.Sprintf("%02d_%s", i+1, s.Name), func(t *testing.T) {
					h.replay(t, s, ids)
				})
			}
		})
	}
}

func (h *harness) replay(t *testing.T, s step, ids map[string]string) {
	path := substitute(t, s.Path, ids, h.base)
	var body []byte
	if len(s.Body) > 0 {
		body = []byte(substitute(t, string(s.Body), ids, h.base))
	}
	headers := map[string]string{}
	for k, v := range s.Headers {
		headers[k] = substitute(t, v, ids, h.base)
	}
	r := do(t, h.ts.Client(), s.Method, h.base, path, acmeToken, body, headers)
	if !assert.Equal(t, s.Status, r.status, "%s %s\nrequest: %s\nresponse: %s", s.Method, path, body, r.raw) {
		// Keep checking: the other checks say what else is wrong.
		t.Logf("response body: %s", r.raw)
	}
	checkWire(t, h.base, r)
	if r.status == http.StatusCreated && r.doc != nil {
		loc := r.header.Get("Location")
		meta, _ := r.doc["meta"].(map[string]any)
		assert.NotEmpty(t, loc, "201 needs a Location header (RFC 7644 §3.3)")
		assert.Equal(t, meta["location"], loc, "Location must equal meta.location")
		assert.True(t, strings.HasPrefix(loc, h.base+"/"), "Location %q must be absolute under %s", loc, h.base)
	}
	if len(s.Expect) > 0 {
		dec := json.NewDecoder(strings.NewReader(substitute(t, string(s.Expect), ids, h.base)))
		dec.UseNumber()
		var want map[string]any
		require.NoError(t, dec.Decode(&want))
		if r.doc == nil {
			t.Errorf("%s %s: expected a body containing %s, got none", s.Method, path, show(want))
		} else if diffs := subset("$", want, r.doc); len(diffs) > 0 {
			t.Errorf("%s %s: response does not contain the expected subset:\n  %s\nresponse: %s", s.Method, path, strings.Join(diffs, "\n  "), r.raw)
		}
	}
	for _, k := range s.Absent {
		assert.False(t, present(r.doc, k), "%s %s: %q must be absent from the response: %s", s.Method, path, k, r.raw)
	}
	if s.Save != "" {
		id, _ := r.doc["id"].(string)
		if id == "" {
			t.Fatalf("step %q: no id in the response to save as %q", s.Name, s.Save)
		}
		ids[s.Save] = id
	}
}

// createUser posts a minimal user for acme (or another tenant's token) and
// returns its id.
func (h *harness) createUser(t *testing.T, token, userName string) string {
	t.Helper()
	body := fmt.Sprintf(`{"schemas":[%q],"userName":%q,"active":true,"name":{"givenName":"Adele","familyName":"Vance"},"emails":[{"type":"work","value":%q,"primary":true}]}`, userURN, userName, userName)
	r := do(t, h.ts.Client(), http.MethodPost, h.base, "/Users", token, []byte(body), nil)
	require.Equal(t, http.StatusCreated, r.status, "create user: %s", r.raw)
	id, _ := r.doc["id"].(string)
	require.NotEmpty(t, id)
	return id
}

func (h *harness) createGroup(t *testing.T, token, displayName string, members ...string) string {
	t.Helper()
	var ms []string
	for _, m := range members {
		ms = append(ms, fmt.Sprintf(`{"value":%q}`, m))
	}
	body := fmt.Sprintf(`{"schemas":[%q],"displayName":%q,"members":[%s]}`, groupURN, displayName, strings.Join(ms, ","))
	r := do(t, h.ts.Client(), http.MethodPost, h.base, "/Groups", token, []byte(body), nil)
	require.Equal(t, http.StatusCreated, r.status, "create group: %s", r.raw)
	id, _ := r.doc["id"].(string)
	require.NotEmpty(t, id)
	return id
}

// total returns totalResults of a list request.
func (h *harness) total(t *testing.T, token, path string) int {
	t.Helper()
	r := do(t, h.ts.Client(), http.MethodGet, h.base, path, token, nil, nil)
	require.Equal(t, http.StatusOK, r.status, "GET %s: %s", path, r.raw)
	n, ok := r.doc["totalResults"].(json.Number)
	require.True(t, ok, "totalResults: %s", r.raw)
	v, err := n.Int64()
	require.NoError(t, err)
	return int(v)
}

// TestIdPRoutes: Microsoft's validator and Postman collection send
// "/users" and "/Users/?filter=..." (IDP.md §6); endpoint names are
// matched case-insensitively and a trailing slash is ignored.
func TestIdPRoutes(t *testing.T) {
	const userName = "adele.vance@contoso.com"
	cases := []struct {
		name     string
		method   string
		path     string // {{id}} is the user's id
		body     string
		status   int
		wantList int // totalResults when >= 0 and the answer is a ListResponse
		wantID   bool
	}{
		{name: "lower-case /users lists users", method: "GET", path: "/users", status: 200, wantList: 1},
		{name: "trailing slash /Users/ lists users", method: "GET", path: "/Users/", status: 200, wantList: 1},
		{name: "upper-case /USERS with a filter", method: "GET", path: `/USERS?filter=userName eq "` + userName + `"`, status: 200, wantList: 1},
		{name: "trailing slash with a filter", method: "GET", path: `/Users/?filter=userName eq "` + userName + `"`, status: 200, wantList: 1},
		{name: "lower-case /users with an unmatched filter", method: "GET", path: `/users?filter=userName eq "nobody@contoso.com"`, status: 200, wantList: 0},
		{name: "lower-case /users/{id} gets the user", method: "GET", path: "/users/{{id}}", status: 200, wantList: -1, wantID: true},
		{name: "trailing slash /Users/{id}/ gets the user", method: "GET", path: "/Users/{{id}}/", status: 200, wantList: -1, wantID: true},
		{name: "mixed-case PATCH /uSeRs/{id}", method: "PATCH", path: "/uSeRs/{{id}}", status: 200, wantList: -1, wantID: true,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"Adele V."}]}`},
		{name: "lower-case POST /users creates", method: "POST", path: "/users", status: 201, wantList: -1,
			body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alex.wilber@contoso.com"}`},
		{name: "trailing slash POST /Users/ creates", method: "POST", path: "/Users/", status: 201, wantList: -1,
			body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alex.wilber@contoso.com"}`},
		{name: "lower-case /groups lists groups", method: "GET", path: "/groups/", status: 200, wantList: 0},
		{name: "lower-case /schemas lists schemas", method: "GET", path: "/schemas", status: 200, wantList: -1},
		{name: "lower-case /serviceproviderconfig", method: "GET", path: "/serviceproviderconfig/", status: 200, wantList: -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			id := h.createUser(t, acmeToken, userName)
			path := strings.ReplaceAll(tc.path, "{{id}}", id)
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			r := do(t, h.ts.Client(), tc.method, h.base, path, acmeToken, body, nil)
			require.Equal(t, tc.status, r.status, "%s %s: %s", tc.method, path, r.raw)
			checkWire(t, h.base, r)
			if tc.wantList >= 0 {
				require.True(t, hasSchema(r.doc, listURN), "want a ListResponse: %s", r.raw)
				assert.Equal(t, json.Number(strconv.Itoa(tc.wantList)), r.doc["totalResults"])
			}
			if tc.wantID {
				assert.Equal(t, id, r.doc["id"])
			}
			if tc.status == http.StatusCreated {
				newID, _ := r.doc["id"].(string)
				assert.Equal(t, h.base+"/Users/"+newID, r.header.Get("Location"))
			}
		})
	}
}

const patchURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

func patchBody(ops string) string {
	return `{"schemas":["` + patchURN + `"],"Operations":[` + ops + `]}`
}

// TestIdPClientErrors: malformed requests get a SCIM error with the
// RFC 7644 §3.12 scimType, and change nothing.
func TestIdPClientErrors(t *testing.T) {
	huge := `{"schemas":["` + userURN + `"],"userName":"big@contoso.com","displayName":"` + strings.Repeat("x", 1<<20) + `"}`
	cases := []struct {
		name      string
		method    string
		path      string // {{id}} is an existing user's id
		body      string
		status    int
		scimType  string
		wantUsers int  // users acme has afterwards (one exists before)
		strict    bool // the server runs WithStrictAttributes
	}{
		{name: "body over 1 MiB returns 413", method: "POST", path: "/Users", body: huge, status: 413, wantUsers: 1},
		{name: "malformed JSON returns 400 invalidSyntax", method: "POST", path: "/Users", body: `{"userName":"x@contoso.com",`, status: 400, scimType: "invalidSyntax", wantUsers: 1},
		{name: "a JSON array body returns 400 invalidSyntax", method: "POST", path: "/Users", body: `[{"userName":"x@contoso.com"}]`, status: 400, scimType: "invalidSyntax", wantUsers: 1},
		{name: "numeric userName returns 400 invalidValue", method: "POST", path: "/Users",
			body: `{"schemas":["` + userURN + `"],"userName":5}`, status: 400, scimType: "invalidValue", wantUsers: 1},
		{name: "active maybe returns 400 invalidValue", method: "POST", path: "/Users",
			body: `{"schemas":["` + userURN + `"],"userName":"x@contoso.com","active":"maybe"}`, status: 400, scimType: "invalidValue", wantUsers: 1},
		{name: "PUT with active maybe returns 400 invalidValue", method: "PUT", path: "/Users/{{id}}",
			body: `{"schemas":["` + userURN + `"],"userName":"adele.vance@contoso.com","active":"maybe"}`, status: 400, scimType: "invalidValue", wantUsers: 1},
		{name: "PATCH active maybe returns 400 invalidValue", method: "PATCH", path: "/Users/{{id}}",
			body: patchBody(`{"op":"Replace","path":"active","value":"maybe"}`), status: 400, scimType: "invalidValue", wantUsers: 1},
		{name: "filter without a value returns 400 invalidFilter", method: "GET", path: `/Users?filter=userName eq`, status: 400, scimType: "invalidFilter", wantUsers: 1},
		{name: "filter with an unterminated string returns 400 invalidFilter", method: "GET", path: `/Users?filter=userName eq "adele`, status: 400, scimType: "invalidFilter", wantUsers: 1},
		{name: "filter with an unknown operator returns 400 invalidFilter", method: "GET", path: `/Users?filter=userName is "adele"`, status: 400, scimType: "invalidFilter", wantUsers: 1},
		{name: "filter on an unknown attribute returns 400 invalidFilter", method: "GET", path: `/Users?filter=shoeSize eq "42"`, status: 400, scimType: "invalidFilter", wantUsers: 1},
		{name: "filter on an unknown extension attribute returns 400 invalidFilter", method: "GET",
			path: `/Users?filter=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize eq "42"`, status: 400, scimType: "invalidFilter", wantUsers: 1},
		{name: "group filter on an unknown attribute returns 400 invalidFilter", method: "GET", path: `/Groups?filter=userName eq "x"`, status: 400, scimType: "invalidFilter", wantUsers: 1},
		{name: "strict: PATCH path naming an unknown attribute returns 400 invalidPath", method: "PATCH", path: "/Users/{{id}}", strict: true,
			body: patchBody(`{"op":"replace","path":"shoeSize","value":"42"}`), status: 400, scimType: "invalidPath", wantUsers: 1},
		{name: "strict: PATCH path naming an unknown sub-attribute returns 400 invalidPath", method: "PATCH", path: "/Users/{{id}}", strict: true,
			body: patchBody(`{"op":"replace","path":"name.shoeSize","value":"42"}`), status: 400, scimType: "invalidPath", wantUsers: 1},
		{name: "strict: POST with an unknown sub-attribute returns 400 invalidSyntax", method: "POST", path: "/Users", strict: true,
			body: `{"schemas":["` + userURN + `"],"userName":"x@contoso.com","roles":[{"value":"Admin","displayName":"Admin"}]}`, status: 400, scimType: "invalidSyntax", wantUsers: 1},
		{name: "PATCH path with unbalanced brackets returns 400 invalidPath", method: "PATCH", path: "/Users/{{id}}",
			body: patchBody(`{"op":"replace","path":"emails[type eq \"work\".value","value":"a@contoso.com"}`), status: 400, scimType: "invalidPath", wantUsers: 1},
		{name: "PATCH remove without path returns 400 noTarget", method: "PATCH", path: "/Users/{{id}}",
			body: patchBody(`{"op":"remove"}`), status: 400, scimType: "noTarget", wantUsers: 1},
		{name: "PATCH of an unknown user returns 404", method: "PATCH", path: "/Users/does-not-exist",
			body: patchBody(`{"op":"replace","path":"displayName","value":"x"}`), status: 404, wantUsers: 1},
		{name: "DELETE of an unknown user returns 404", method: "DELETE", path: "/Users/does-not-exist", status: 404, wantUsers: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []scimkit.Option
			if tc.strict {
				opts = append(opts, scimkit.WithStrictAttributes())
			}
			h := newHarness(t, opts...)
			id := h.createUser(t, acmeToken, "adele.vance@contoso.com")
			before := do(t, h.ts.Client(), http.MethodGet, h.base, "/Users/"+id, acmeToken, nil, nil)
			require.Equal(t, http.StatusOK, before.status)
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			path := strings.ReplaceAll(tc.path, "{{id}}", id)
			r := do(t, h.ts.Client(), tc.method, h.base, path, acmeToken, body, nil)
			require.Equal(t, tc.status, r.status, "%s %s: %s", tc.method, path, r.raw)
			checkWire(t, h.base, r)
			if tc.scimType != "" {
				assert.Equal(t, tc.scimType, r.doc["scimType"], "scimType: %s", r.raw)
			}
			assert.Equal(t, tc.wantUsers, h.total(t, acmeToken, "/Users"), "users after the failed request")
			after := do(t, h.ts.Client(), http.MethodGet, h.base, "/Users/"+id, acmeToken, nil, nil)
			assert.JSONEq(t, string(before.raw), string(after.raw), "the existing user must be unchanged")
		})
	}
}

// TestIdPTenantIsolation: a second tenant with its own token never sees,
// changes or deletes the first tenant's resources; ids of another tenant
// are simply not found.
func TestIdPTenantIsolation(t *testing.T) {
	const userName = "adele.vance@contoso.com"
	cases := []struct {
		name   string
		method string
		path   string // {{uid}}, {{gid}}: acme's user and group
		body   string
		status int
		total  int // totalResults for a list answer; -1 otherwise
	}{
		{name: "GET of acme's user is 404", method: "GET", path: "/Users/{{uid}}", status: 404, total: -1},
		{name: "PUT of acme's user is 404", method: "PUT", path: "/Users/{{uid}}", status: 404, total: -1,
			body: `{"schemas":["` + userURN + `"],"userName":"mallory@globex.com","active":false}`},
		{name: "PATCH of acme's user is 404", method: "PATCH", path: "/Users/{{uid}}", status: 404, total: -1,
			body: patchBody(`{"op":"replace","path":"active","value":false}`)},
		{name: "DELETE of acme's user is 404", method: "DELETE", path: "/Users/{{uid}}", status: 404, total: -1},
		{name: "GET of acme's group is 404", method: "GET", path: "/Groups/{{gid}}", status: 404, total: -1},
		{name: "PATCH of acme's group is 404", method: "PATCH", path: "/Groups/{{gid}}", status: 404, total: -1,
			body: patchBody(`{"op":"remove","path":"members"}`)},
		{name: "DELETE of acme's group is 404", method: "DELETE", path: "/Groups/{{gid}}", status: 404, total: -1},
		{name: "user list is empty", method: "GET", path: "/Users", status: 200, total: 0},
		{name: "filter by acme's userName finds nothing", method: "GET", path: `/Users?filter=userName eq "` + userName + `"`, status: 200, total: 0},
		{name: "filter by acme's id finds nothing", method: "GET", path: `/Users?filter=id eq "{{uid}}"`, status: 200, total: 0},
		{name: "group list is empty", method: "GET", path: "/Groups", status: 200, total: 0},
		{name: "the same userName can be created", method: "POST", path: "/Users", status: 201, total: -1,
			body: `{"schemas":["` + userURN + `"],"userName":"` + userName + `"}`},
		{name: "a group naming acme's user as member is refused", method: "POST", path: "/Groups", status: 400, total: -1,
			body: `{"schemas":["` + groupURN + `"],"displayName":"Thieves","members":[{"value":"{{uid}}"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			require.NoError(t, scimkit.SetToken(context.Background(), h.store, "globex", globexToken))
			uid := h.createUser(t, acmeToken, userName)
			gid := h.createGroup(t, acmeToken, "Sales", uid)
			userBefore := do(t, h.ts.Client(), http.MethodGet, h.base, "/Users/"+uid, acmeToken, nil, nil)
			groupBefore := do(t, h.ts.Client(), http.MethodGet, h.base, "/Groups/"+gid, acmeToken, nil, nil)

			path := strings.NewReplacer("{{uid}}", uid, "{{gid}}", gid).Replace(tc.path)
			var body []byte
			if tc.body != "" {
				body = []byte(strings.NewReplacer("{{uid}}", uid, "{{gid}}", gid).Replace(tc.body))
			}
			r := do(t, h.ts.Client(), tc.method, h.base, path, globexToken, body, nil)
			require.Equal(t, tc.status, r.status, "%s %s as globex: %s", tc.method, path, r.raw)
			checkWire(t, h.base, r)
			if tc.total >= 0 {
				assert.Equal(t, json.Number(strconv.Itoa(tc.total)), r.doc["totalResults"], "%s", r.raw)
			}

			userAfter := do(t, h.ts.Client(), http.MethodGet, h.base, "/Users/"+uid, acmeToken, nil, nil)
			groupAfter := do(t, h.ts.Client(), http.MethodGet, h.base, "/Groups/"+gid, acmeToken, nil, nil)
			require.Equal(t, http.StatusOK, userAfter.status, "acme's user must survive")
			require.Equal(t, http.StatusOK, groupAfter.status, "acme's group must survive")
			assert.JSONEq(t, string(userBefore.raw), string(userAfter.raw), "acme's user must be unchanged")
			assert.JSONEq(t, string(groupBefore.raw), string(groupAfter.raw), "acme's group must be unchanged")
			assert.Equal(t, 1, h.total(t, acmeToken, "/Users"), "acme's user list")
		})
	}
}

// TestIdPTenantHandler: with the tenant in the URL the token must be that
// tenant's (another tenant's token is 401, like a wrong one), and
// meta.location and Location name the tenant's own base URL.
func TestIdPTenantHandler(t *testing.T) {
	srv, store := newTestServer(t)
	require.NoError(t, scimkit.SetToken(context.Background(), store, "globex", globexToken))
	mux := http.NewServeMux()
	mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant"))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	acmeBase := ts.URL + "/t/acme/scim/v2"
	globexBase := ts.URL + "/t/globex/scim/v2"

	created := do(t, ts.Client(), http.MethodPost, acmeBase, "/Users", acmeToken,
		[]byte(`{"schemas":["`+userURN+`"],"userName":"adele.vance@contoso.com"}`), nil)
	require.Equal(t, http.StatusCreated, created.status, "%s", created.raw)
	checkWire(t, acmeBase, created)
	uid, _ := created.doc["id"].(string)
	require.NotEmpty(t, uid)
	assert.Equal(t, acmeBase+"/Users/"+uid, created.header.Get("Location"))

	cases := []struct {
		name   string
		base   string
		token  string
		method string
		path   string
		status int
		check  func(t *testing.T, r response)
	}{
		{name: "acme's token on globex's URL is 401", base: globexBase, token: acmeToken, method: "GET", path: "/Users", status: 401},
		{name: "acme's token on globex's URL cannot read acme's user", base: globexBase, token: acmeToken, method: "GET", path: "/Users/" + uid, status: 401},
		{name: "no token is 401", base: acmeBase, token: "", method: "GET", path: "/Users", status: 401},
		{name: "acme's token on acme's URL lists acme's user", base: acmeBase, token: acmeToken, method: "GET", path: "/Users", status: 200,
			check: func(t *testing.T, r response) {
				assert.Equal(t, json.Number("1"), r.doc["totalResults"])
			}},
		{name: "acme's user has a location under /t/acme/scim/v2", base: acmeBase, token: acmeToken, method: "GET", path: "/Users/" + uid, status: 200,
			check: func(t *testing.T, r response) {
				meta, _ := r.doc["meta"].(map[string]any)
				assert.Equal(t, acmeBase+"/Users/"+uid, meta["location"])
			}},
		{name: "lower-case route under the tenant URL", base: acmeBase, token: acmeToken, method: "GET", path: "/users/" + uid, status: 200},
		{name: "globex's token on globex's URL does not see acme's user", base: globexBase, token: globexToken, method: "GET", path: "/Users/" + uid, status: 404},
		{name: "globex's list is empty", base: globexBase, token: globexToken, method: "GET", path: "/Users", status: 200,
			check: func(t *testing.T, r response) {
				assert.Equal(t, json.Number("0"), r.doc["totalResults"])
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, ts.Client(), tc.method, tc.base, tc.path, tc.token, nil, nil)
			require.Equal(t, tc.status, r.status, "%s %s%s: %s", tc.method, tc.base, tc.path, r.raw)
			checkWire(t, tc.base, r)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}
