// Package tenantbench holds the store-agnostic benchmarks of a whole
// [scimkit.Server], request by request through ServeHTTP: the IdP paths
// one at a time ([Paths]) and the cost of spreading the same traffic over
// many tenants ([Tenants]). The root package runs them on the memory
// store, storage/sqlite on SQLite.
package tenantbench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
)

// Store is what a benchmark needs of a backend.
type Store interface {
	scimkit.ResourceHandler
	scimkit.TokenStore
}

// Opener returns a fresh, empty store; the benchmark closes nothing, so
// the opener registers its cleanup with b.Cleanup.
type Opener func(b *testing.B) Store

// Options are the server options every benchmark uses: those of a
// product under load (examples/backupd with -rate-limit 0 would switch
// the limiter off; here it and the work limit run with a rate no
// benchmark reaches, so their per-tenant state is part of the cost), an
// outbox when the store has one, and a logger enabled at error level
// only, as backupd's -log-level error.
func Options(st Store) []scimkit.Option {
	opts := []scimkit.Option{
		scimkit.WithRateLimit(1e9, 1e9),
		scimkit.WithConcurrencyLimit(1 << 20),
		scimkit.WithWorkLimit(time.Hour, time.Hour), // on, never reached
		scimkit.WithLogger(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))),
		scimkit.WithObserver(nopObserver{}),
	}
	if _, ok := st.(storage.Outbox); ok {
		opts = append(opts, scimkit.WithOutbox())
	}
	return opts
}

type nopObserver struct{}

func (nopObserver) Request(context.Context, scimkit.RequestInfo) {}

// Server is a server under benchmark with tokens for tenants t0, t1, ...
type Server struct {
	Srv    *scimkit.Server
	Store  Store
	tokens []string // by tenant number
}

// New returns a server on st with a token for each of n tenants.
func New(b *testing.B, st Store, tenants int) *Server {
	b.Helper()
	srv, err := scimkit.New(st, st, Options(st)...)
	if err != nil {
		b.Fatal(err)
	}
	s := &Server{Srv: srv, Store: st, tokens: make([]string, tenants)}
	for i := range tenants {
		s.tokens[i] = fmt.Sprintf("bench-token-%06d", i)
		if err := scimkit.SetToken(context.Background(), st, Tenant(i), s.tokens[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { _ = srv.Flush(context.Background()) })
	return s
}

// loop runs f(i) for i = 0, 1, ... while b.Loop() says so, and reports
// the process's CPU time per op as cpu-ns/op beside the wall time: on a
// shared machine it is the steadier figure.
// untimed, when not nil, runs after each f outside the timers.
func loop(b *testing.B, f, untimed func(i int)) {
	b.ReportAllocs()
	var cpu time.Duration
	c0, n := cpuTime(), 0
	for b.Loop() {
		f(n)
		if untimed != nil {
			b.StopTimer()
			c1 := cpuTime()
			cpu += c1 - c0
			untimed(n)
			c0 = cpuTime()
			b.StartTimer()
		}
		n++
	}
	cpu += cpuTime() - c0
	if n > 0 {
		b.ReportMetric(float64(cpu)/float64(n), "cpu-ns/op")
	}
}

// Tenant names tenant number i.
func Tenant(i int) string { return fmt.Sprintf("t%06d", i) }

// Do sends one request as tenant number t and returns the body; another
// status than want fails the benchmark.
func (s *Server) Do(b *testing.B, t int, method, path, body string, want int) string {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "http://scim.test"+path, rd)
	r.Header.Set("Authorization", "Bearer "+s.tokens[t])
	if body != "" {
		r.Header.Set("Content-Type", "application/scim+json")
	}
	w := httptest.NewRecorder()
	s.Srv.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
	return w.Body.String()
}

// UserName is the userName of user number i.
func UserName(i int) string { return fmt.Sprintf("user%07d@example.com", i) }

// UserBody is the POST /Users body Entra sends for user number i
// (the shape of ../shared/bench's scimload).
func UserBody(i int) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],`+
		`"externalId":"%08x-0000-4000-8000-%012x","userName":%q,"active":true,"displayName":"Given%[4]d Family%[4]d",`+
		`"emails":[{"primary":true,"type":"work","value":%[3]q}],"meta":{"resourceType":"User"},`+
		`"name":{"formatted":"Given%[4]d Family%[4]d","familyName":"Family%[4]d","givenName":"Given%[4]d"},`+
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"E%07[4]d","department":"Dept %d"}}`,
		i, i, UserName(i), i, i%37)
}

// LookupPath is Entra's userName eq query for user number i.
func LookupPath(i int) string {
	return "/Users?filter=" + url.QueryEscape(fmt.Sprintf(`userName eq "%s"`, UserName(i)))
}

// ID returns the "id" of a resource document.
func ID(b *testing.B, doc string) string {
	i := strings.Index(doc, `"id":"`)
	if i < 0 {
		b.Fatalf("no id in %s", doc)
	}
	doc = doc[i+6:]
	return doc[:strings.IndexByte(doc, '"')]
}

// Tenants runs W1 (Entra's create: userName eq lookup, then POST) and W2
// (userName eq lookups of existing users) with one tenant and with
// 10,000 tenants, the users spread evenly: the two must cost about the
// same per request. Sub-benchmarks are named W1/tenants=N and
// W2/tenants=N; "memory" reports the heap bytes a tenant costs (see
// [TenantBytes]) as B/token, B/lookups, B/user and B/patch.
func Tenants(b *testing.B, open Opener) {
	b.Run("memory", func(b *testing.B) {
		var token, lookups, user, patch float64
		for b.Loop() {
			token, lookups, user, patch = TenantBytes(b, open, 10_000)
		}
		b.ReportMetric(token, "B/token")
		b.ReportMetric(user, "B/user")
		b.ReportMetric(lookups, "B/lookups")
		b.ReportMetric(patch, "B/patch")
	})
	for _, n := range []int{1, 10_000} {
		b.Run(fmt.Sprintf("W1/tenants=%d", n), func(b *testing.B) {
			s := New(b, open(b), n)
			loop(b, func(u int) {
				t := u % n
				s.Do(b, t, http.MethodGet, LookupPath(u), "", http.StatusOK)
				s.Do(b, t, http.MethodPost, "/Users", UserBody(u), http.StatusCreated)
			}, nil)
		})
		b.Run(fmt.Sprintf("W2/tenants=%d", n), func(b *testing.B) {
			const users = 10_000
			s := New(b, open(b), n)
			for u := range users {
				s.Do(b, u%n, http.MethodPost, "/Users", UserBody(u), http.StatusCreated)
			}
			loop(b, func(i int) {
				u := i * 7919 % users // not in creation order
				s.Do(b, u%n, http.MethodGet, LookupPath(u), "", http.StatusOK)
			}, nil)
		})
	}
}

// TenantBytes measures the heap a tenant costs the server and its store,
// per tenant of n: with a token only; then the further cost of having
// been served two userName lookups (the server's per-tenant state:
// rate-limit bucket, health, credential use); then of one user created
// (the store's data: the user, its audit entry and outbox event); then of
// one Entra PATCH of it (normalisation counters and IdP profile, the
// store's audit entry and outbox event).
func TenantBytes(b *testing.B, open Opener, n int) (token, lookups, user, patch float64) {
	st := open(b)
	heap := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	flush := func(s *Server) {
		if err := s.Srv.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	h0 := heap()
	s := New(b, st, n)
	h1 := heap()
	for t := range n {
		s.Do(b, t, http.MethodGet, LookupPath(t), "", http.StatusOK)
		s.Do(b, t, http.MethodGet, LookupPath(t+n), "", http.StatusOK)
	}
	flush(s)
	h2 := heap()
	ids := make([]string, n)
	for t := range n {
		ids[t] = ID(b, s.Do(b, t, http.MethodPost, "/Users", UserBody(t), http.StatusCreated))
	}
	flush(s)
	h3 := heap()
	for t := range n {
		s.Do(b, t, http.MethodPatch, "/Users/"+ids[t], PatchBody(t), http.StatusOK)
	}
	flush(s)
	h4 := heap()
	runtime.KeepAlive(s)
	per := func(d int64) float64 { return float64(d) / float64(n) }
	return per(h1 - h0), per(h2 - h1), per(h3 - h2), per(h4 - h3)
}

// PatchBody is Entra's default-job PATCH of user number i: four
// capitalised Replace operations.
func PatchBody(i int) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+
		`{"op":"Replace","path":"displayName","value":"Given%[1]d Patched%[1]d"},`+
		`{"op":"Replace","path":"name.familyName","value":"Patched%[1]d"},`+
		`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Dept P%[2]d"},`+
		`{"op":"Replace","path":"emails[type eq \"work\"].value","value":%[3]q}]}`, i, i%41, UserName(i))
}

// DeactivateBody is Entra's deprovisioning PATCH.
const DeactivateBody = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":false}]}`

// ReactivateBody undoes [DeactivateBody].
const ReactivateBody = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":true}]}`

// Paths runs each IdP path of ../shared/bench's scimload through the
// whole handler, one request (W1: two) per op:
//
//   - W1-create: Entra's create, a userName eq lookup that finds nothing,
//     then the POST
//   - create: the POST alone
//   - W2-lookup: userName eq of one of 10,000 users
//   - W3-patch: Entra's 4-op PATCH of one of 1,000 users
//   - W4-group-add: one PATCH adding 100 members to a group (they are
//     removed again outside the timer)
//   - W5-page: a page of 100 of 10,000 users, with totalResults
//   - W6-deprovision: PATCH active false (reactivated outside the timer)
func Paths(b *testing.B, open Opener) {
	b.Run("W1-create", func(b *testing.B) {
		s := New(b, open(b), 1)
		loop(b, func(u int) {
			s.Do(b, 0, http.MethodGet, LookupPath(u), "", http.StatusOK)
			s.Do(b, 0, http.MethodPost, "/Users", UserBody(u), http.StatusCreated)
		}, nil)
	})
	b.Run("create", func(b *testing.B) {
		s := New(b, open(b), 1)
		loop(b, func(u int) {
			s.Do(b, 0, http.MethodPost, "/Users", UserBody(u), http.StatusCreated)
		}, nil)
	})
	b.Run("W2-lookup", func(b *testing.B) {
		const users = 10_000
		s := New(b, open(b), 1)
		s.users(b, users)
		loop(b, func(i int) {
			s.Do(b, 0, http.MethodGet, LookupPath(i*7919%users), "", http.StatusOK)
		}, nil)
	})
	b.Run("W3-patch", func(b *testing.B) {
		const users = 1_000
		s := New(b, open(b), 1)
		ids := s.users(b, users)
		loop(b, func(i int) {
			s.Do(b, 0, http.MethodPatch, "/Users/"+ids[i%users], PatchBody(i), http.StatusOK)
		}, nil)
	})
	b.Run("W4-group-add", func(b *testing.B) {
		s := New(b, open(b), 1)
		ids := s.users(b, 1_100)
		gid := ID(b, s.Do(b, 0, http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","externalId":"g"}`, http.StatusCreated))
		for i := 0; i < 1_000; i += 100 {
			s.Do(b, 0, http.MethodPatch, "/Groups/"+gid, MembersBody("Add", ids[i:i+100]), http.StatusNoContent)
		}
		add, remove := MembersBody("Add", ids[1_000:]), MembersBody("Remove", ids[1_000:])
		loop(b, func(int) {
			s.Do(b, 0, http.MethodPatch, "/Groups/"+gid, add, http.StatusNoContent)
		}, func(int) {
			s.Do(b, 0, http.MethodPatch, "/Groups/"+gid, remove, http.StatusNoContent)
		})
	})
	b.Run("W5-page", func(b *testing.B) {
		const users = 10_000
		s := New(b, open(b), 1)
		s.users(b, users)
		loop(b, func(i int) {
			s.Do(b, 0, http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=100", 1+i*100%users), "", http.StatusOK)
		}, nil)
	})
	b.Run("W6-deprovision", func(b *testing.B) {
		const users = 1_000
		s := New(b, open(b), 1)
		ids := s.users(b, users)
		loop(b, func(i int) {
			s.Do(b, 0, http.MethodPatch, "/Users/"+ids[i%users], DeactivateBody, http.StatusOK)
		}, func(i int) {
			s.Do(b, 0, http.MethodPatch, "/Users/"+ids[i%users], ReactivateBody, http.StatusOK)
		})
	})
}

// users creates n users in tenant 0 through the server and returns their
// ids.
func (s *Server) users(b *testing.B, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for u := range n {
		ids[u] = ID(b, s.Do(b, 0, http.MethodPost, "/Users", UserBody(u), http.StatusCreated))
	}
	return ids
}

// MembersBody is Entra's PATCH adding (op "Add") or removing ("Remove")
// the given members.
func MembersBody(op string, ids []string) string {
	var sb strings.Builder
	sb.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"` + op + `","path":"members","value":[`)
	for i, id := range ids {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"value":%q}`, id)
	}
	sb.WriteString(`]}]}`)
	return sb.String()
}
