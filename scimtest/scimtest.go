// Package scimtest is a conformance kit a SCIM service provider runs in
// its own CI: it replays the request sequences Microsoft Entra ID and Okta
// send when they provision users and groups (see the scimkit README, "Connect an identity
// provider") against an http.Handler or a live base URL, and checks what
// each IdP checks: status codes, headers, response bodies, and read-backs
// of what was written.
//
//	func TestEntra(t *testing.T) { scimtest.Entra(t, srv, token) }
//	func TestOkta(t *testing.T)  { scimtest.Okta(t, srv, token) }
//
// Each step runs as a named subtest ("default job/create user"); a failure
// says what the IdP would have logged. The kit names what it creates
// "scimtest-<random>-…" and deletes it at the end, so it can run against a
// shared endpoint: the command scimcheck does that.
//
// The sequences follow Microsoft's "Tutorial: Develop and plan
// provisioning for a SCIM endpoint", "Known issues and resolutions with
// SCIM 2.0 protocol compliance" (the default job and the aadOptscim062020
// flag), Okta's "SCIM 2.0 Protocol Reference" and its OIN SCIM spec test.
package scimtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TB is the part of testing.TB the kit uses; *testing.T and *testing.B
// implement it. Steps run as subtests when t has a Run method like
// *testing.T's, or through [Stepper]; otherwise inline.
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	FailNow()
	Failed() bool
}

// Stepper is implemented by a TB that runs named steps itself (the
// scimcheck command does, to print one line per step). Step runs f with a
// TB for the step and reports whether it passed; f may call FailNow, which
// must end only the step.
type Stepper interface {
	Step(name string, f func(t TB)) bool
}

// Target is where the kit sends requests: an http.Handler serving SCIM at
// its root, or a live base URL ("http://127.0.0.1:8080/scim/v2").
type Target struct {
	base    string
	handler http.Handler
	client  *http.Client
	token   string
}

// Handler returns a Target that serves requests in process with h, which
// must serve SCIM at its root ("/Users"), as a scimkit.Server does.
func Handler(h http.Handler, token string) Target {
	return Target{base: "http://scimtest.example", handler: h, token: token}
}

// URL returns a Target that sends requests to the live SCIM base URL base
// with client (nil: a client with a 60-second timeout, Entra's deadline).
func URL(base, token string, client *http.Client) Target {
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	return Target{base: strings.TrimRight(base, "/"), client: client, token: token}
}

// Entra replays both Entra provisioning jobs against h (serving SCIM at
// its root) with the bearer token.
func Entra(t TB, h http.Handler, token string) { RunEntra(t, Handler(h, token)) }

// Okta replays Okta's OIN (PATCH) and custom-app (PUT) sequences against
// h with the bearer token.
func Okta(t TB, h http.Handler, token string) { RunOkta(t, Handler(h, token)) }

// response is one answer, read in full.
type response struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
	doc          map[string]any // the body as a JSON object, if it is one
	err          error
}

func (r *response) String() string {
	b := r.body
	if len(b) > 300 {
		b = append(b[:300:300], "..."...)
	}
	if r.err != nil {
		return fmt.Sprintf("%s %s: %v", r.method, r.path, r.err)
	}
	return fmt.Sprintf("%s %s -> %d %s", r.method, r.path, r.status, b)
}

// session is one run of a sequence: the target, the IdP's name for
// messages, and what the run created (for cleanup).
type session struct {
	Target
	idp    string // "Entra" or "Okta"
	run    string // random run id used in names
	users  []string
	groups []string
}

func newSession(tg Target, idp string) *session {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &session{Target: tg, idp: idp, run: hex.EncodeToString(b[:])}
}

// name returns a unique name for this run.
func (s *session) name(what string) string { return "scimtest-" + s.run + "-" + what }

// do sends one request; body is JSON text or "". As Entra does, it
// waits out a 429 (the server's rate limit) for the Retry-After it names
// and sends the request again, a few times at most.
func (s *session) do(method, path, body string, hdr ...string) *response {
	for try := 0; ; try++ {
		r := s.doOnce(method, path, body, hdr...)
		if r.status != http.StatusTooManyRequests || try >= 5 {
			return r
		}
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || secs < 1 {
			secs = 1
		}
		time.Sleep(time.Duration(min(secs, 10)) * time.Second)
	}
}

func (s *session) doOnce(method, path, body string, hdr ...string) *response {
	r := &response{method: method, path: path}
	u := s.base + path
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	if s.handler != nil {
		req = httptest.NewRequest(method, u, rd)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if req, r.err = http.NewRequestWithContext(ctx, method, u, rd); r.err != nil {
			return r
		}
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "application/scim+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	var res *http.Response
	if s.handler != nil {
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		res = rec.Result()
	} else if res, r.err = s.client.Do(req); r.err != nil {
		return r
	}
	defer res.Body.Close()
	r.status, r.header = res.StatusCode, res.Header
	if r.body, r.err = io.ReadAll(io.LimitReader(res.Body, 8<<20)); r.err != nil {
		return r
	}
	if len(bytes.TrimSpace(r.body)) > 0 {
		_ = json.Unmarshal(r.body, &r.doc)
	}
	return r
}

// step runs f as a named subtest of t.
func step(t TB, name string, f func(t TB)) bool {
	t.Helper()
	switch x := t.(type) {
	case interface {
		Run(string, func(*testing.T)) bool
	}:
		return x.Run(name, func(st *testing.T) { f(st) })
	case Stepper:
		return x.Step(name, f)
	}
	f(t)
	return !t.Failed()
}

// check is one step's assertions; each failure is reported with what the
// IdP would have logged.
type check struct {
	t   TB
	s   *session
	ctx string // what the IdP was doing, e.g. "creating user x"
}

func (s *session) check(t TB, ctx string) *check { return &check{t: t, s: s, ctx: ctx} }

// failf reports a failure.
func (c *check) failf(r *response, format string, args ...any) {
	c.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if r != nil {
		msg += "\n\tgot: " + r.String()
	}
	c.t.Errorf("%s would log while %s: %s", c.s.idp, c.ctx, msg)
}

// fatalf reports a failure and ends the step.
func (c *check) fatalf(r *response, format string, args ...any) {
	c.t.Helper()
	c.failf(r, format, args...)
	c.t.FailNow()
}

// status wants one of the statuses and a SCIM content type on any body;
// it ends the step otherwise.
func (c *check) status(r *response, want ...int) {
	c.t.Helper()
	if r.err != nil {
		c.fatalf(r, "the request failed")
	}
	ok := false
	for _, w := range want {
		ok = ok || r.status == w
	}
	if !ok {
		c.fatalf(r, "want HTTP %v", want)
	}
	if len(bytes.TrimSpace(r.body)) > 0 {
		mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
		if mt != "application/scim+json" && mt != "application/json" {
			c.failf(r, "Content-Type %q, want application/scim+json", r.header.Get("Content-Type"))
		}
		if r.doc == nil {
			c.fatalf(r, "the body is not a JSON object")
		}
	}
}

// resource checks a returned resource: id, schemas, meta with an absolute
// location ending in endpoint/id.
func (c *check) resource(r *response, endpoint string) string {
	c.t.Helper()
	id, _ := r.doc["id"].(string)
	if id == "" {
		c.fatalf(r, "the returned resource has no id (Okta: \"returned empty user\")")
	}
	meta, _ := r.doc["meta"].(map[string]any)
	loc, _ := meta["location"].(string)
	if u, err := url.Parse(loc); err != nil || !u.IsAbs() || !strings.HasSuffix(u.Path, endpoint+"/"+id) {
		c.failf(r, "meta.location %q is not an absolute URI ending %s/%s", loc, endpoint, id)
	}
	if _, ok := r.doc["schemas"].([]any); !ok {
		c.failf(r, "the resource has no schemas")
	}
	return id
}

// errorBody checks a SCIM error response (RFC 7644 §3.12).
func (c *check) errorBody(r *response, status int) {
	c.t.Helper()
	c.status(r, status)
	if !hasString(r.doc["schemas"], "urn:ietf:params:scim:api:messages:2.0:Error") {
		c.failf(r, "the error lacks the Error schema")
	}
	if r.doc["status"] != fmt.Sprint(status) {
		c.failf(r, "the error's status is not the string %q", fmt.Sprint(status))
	}
	if _, ok := r.doc["detail"].(string); !ok && status != 404 {
		c.failf(r, "the error has no detail")
	}
}

// list checks a ListResponse (RFC 7644 §3.4.2): integer counters, and
// returns the resources.
func (c *check) list(r *response) []map[string]any {
	c.t.Helper()
	c.status(r, http.StatusOK)
	if !hasString(r.doc["schemas"], "urn:ietf:params:scim:api:messages:2.0:ListResponse") {
		c.failf(r, "not a ListResponse")
	}
	for _, k := range []string{"totalResults", "itemsPerPage", "startIndex"} {
		if f, ok := r.doc[k].(float64); !ok || f != float64(int64(f)) {
			if k == "totalResults" || r.doc[k] != nil {
				c.failf(r, "%s must be a JSON integer", k)
			}
		}
	}
	var out []map[string]any
	list, _ := r.doc["Resources"].([]any)
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	if total, _ := r.doc["totalResults"].(float64); int(total) < len(out) {
		c.failf(r, "totalResults %v is below the %d resources returned", total, len(out))
	}
	return out
}

// total reads totalResults.
func total(r *response) int { f, _ := r.doc["totalResults"].(float64); return int(f) }

// equal wants got == want at a path, for a read-back.
func (c *check) equal(r *response, path string, want any) {
	c.t.Helper()
	if got := get(r.doc, path); fmt.Sprint(got) != fmt.Sprint(want) {
		c.failf(r, "%s reads back as %v, want %v", path, show(got), show(want))
	}
}

func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// get walks a dotted path; a URN segment is taken whole
// ("urn:...:enterprise:2.0:User|department" uses | as the separator
// after a URN). Case-insensitive keys.
func get(doc map[string]any, path string) any {
	var parts []string
	if urn, rest, ok := strings.Cut(path, "|"); ok {
		parts = append([]string{urn}, strings.Split(rest, ".")...)
	} else {
		parts = strings.Split(path, ".")
	}
	var v any = doc
	for _, p := range parts {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = nil
		for k, x := range m {
			if strings.EqualFold(k, p) {
				v = x
				break
			}
		}
	}
	return v
}

func hasString(list any, s string) bool {
	l, _ := list.([]any)
	for _, x := range l {
		if str, ok := x.(string); ok && strings.EqualFold(str, s) {
			return true
		}
	}
	return false
}

// memberIDs returns the member values of a group document.
func memberIDs(doc map[string]any) map[string]bool {
	out := map[string]bool{}
	l, _ := doc["members"].([]any)
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			if v, ok := m["value"].(string); ok {
				out[v] = true
			}
		}
	}
	return out
}

// workEmail returns the value of the work e-mail.
func workEmail(doc map[string]any) string {
	l, _ := doc["emails"].([]any)
	for _, x := range l {
		if m, ok := x.(map[string]any); ok && strings.EqualFold(fmt.Sprint(m["type"]), "work") {
			return fmt.Sprint(m["value"])
		}
	}
	return ""
}

func q(s string) string { return url.QueryEscape(s) }

// js encodes a string as JSON.
func js(s string) string { b, _ := json.Marshal(s); return string(b) }

func patch(ops ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

// need ends a step whose input an earlier step failed to make.
func need(t TB, what, id string) {
	t.Helper()
	if id == "" {
		t.Errorf("skipped: no %s (an earlier step failed)", what)
		t.FailNow()
	}
}

// cleanup deletes what the session created, groups first; resources
// already gone are fine.
func (s *session) cleanup(t TB) {
	step(t, "cleanup", func(t TB) {
		c := s.check(t, "cleaning up")
		for _, g := range s.groups {
			if r := s.do("DELETE", "/Groups/"+g, ""); r.err != nil || r.status != 204 && r.status != 404 {
				c.failf(r, "deleting group %s", g)
			}
		}
		for _, u := range s.users {
			if r := s.do("DELETE", "/Users/"+u, ""); r.err != nil || r.status != 204 && r.status != 404 {
				c.failf(r, "deleting user %s", u)
			}
		}
	})
}
