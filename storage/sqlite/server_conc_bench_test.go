package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage/sqlite"
)

// The benchmarks below drive the whole SCIM handler on a SQLite file the
// way examples/backupd runs it (outbox on, a dispatcher draining it, no
// rate limits) with benchConc requests in flight, as the load harness
// does: one request of each IdP path per op, allocations included.
//
//	go test -run XXX -bench Server -benchmem ./storage/sqlite
const benchConc = 4

// benchServer is a SCIM server on a new SQLite file.
type benchServer struct {
	h     http.Handler
	store *sqlite.Store
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "scim.db"))
	require.NoError(b, err)
	srv, err := scimkit.New(s, s, scimkit.WithOutbox(), scimkit.WithRateLimit(0, 0), scimkit.WithConcurrencyLimit(0), scimkit.WithWorkLimit(0, 0))
	require.NoError(b, err)
	require.NoError(b, scimkit.SetToken(ctx, s, "bench", "bench-token"))
	d, err := provisioning.NewDispatcher(s, func(context.Context, provisioning.Event) error { return nil },
		provisioning.WithPollInterval(250*time.Millisecond))
	require.NoError(b, err)
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	b.Cleanup(func() {
		cancel()
		<-done
		require.NoError(b, s.Close())
	})
	return &benchServer{h: srv, store: s}
}

// do runs one request and fails unless it answers want.
func (s *benchServer) do(b *testing.B, method, path, body string, want int) []byte {
	r := httptest.NewRequest(method, "http://scim.test"+path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer bench-token")
	r.Header.Set("Content-Type", "application/scim+json")
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	if w.Code != want {
		b.Errorf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
	return w.Body.Bytes()
}

// parallel runs op(0..n-1) on benchConc goroutines.
func parallel(n int, op func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchConc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				op(i)
			}
		}()
	}
	wg.Wait()
}

func benchUserBody(prefix string, i int) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"externalId":"ext-%[2]s%[1]d","userName":"%[2]s%[1]d@x.test","active":true,"displayName":"User %[1]d",
"emails":[{"primary":true,"type":"work","value":"%[2]s%[1]d@x.test"}],"name":{"givenName":"G%[1]d","familyName":"F%[1]d"},
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"%[1]d","department":"Dept","manager":{"value":"m%[1]d"}}}`, i, prefix)
}

// create is Entra's W1 step: the userName pre-check, then the POST. It
// returns the new user's id.
func (s *benchServer) create(b *testing.B, prefix string, i int) string {
	q := url.QueryEscape(fmt.Sprintf(`userName eq "%s%d@x.test"`, prefix, i))
	s.do(b, http.MethodGet, "/Users?filter="+q, "", http.StatusOK)
	out := s.do(b, http.MethodPost, "/Users", benchUserBody(prefix, i), http.StatusCreated)
	var v struct{ ID string }
	_ = json.Unmarshal(out, &v)
	return v.ID
}

// seed creates n users with prefix through the handler, untimed.
func (s *benchServer) seed(b *testing.B, prefix string, n int) []string {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	ids := make([]string, n)
	parallel(n, func(i int) {
		out := s.do(b, http.MethodPost, "/Users", benchUserBody(prefix, i), http.StatusCreated)
		var v struct{ ID string }
		_ = json.Unmarshal(out, &v)
		ids[i] = v.ID
	})
	return ids
}

const benchUsers = 2000

func BenchmarkServer(b *testing.B) {
	b.Run("Create", func(b *testing.B) {
		s := newBenchServer(b)
		b.ReportAllocs()
		b.ResetTimer()
		parallel(b.N, func(i int) { s.create(b, "c", i) })
	})
	b.Run("Lookup", func(b *testing.B) {
		s := newBenchServer(b)
		s.seed(b, "l", benchUsers)
		b.ReportAllocs()
		b.ResetTimer()
		parallel(b.N, func(i int) {
			q := url.QueryEscape(fmt.Sprintf(`userName eq "L%d@x.test"`, (i*7919)%benchUsers))
			s.do(b, http.MethodGet, "/Users?filter="+q, "", http.StatusOK)
		})
	})
	b.Run("Patch", func(b *testing.B) {
		s := newBenchServer(b)
		ids := s.seed(b, "p", benchUsers)
		b.ReportAllocs()
		b.ResetTimer()
		parallel(b.N, func(i int) {
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
{"op":"Replace","path":"displayName","value":"Name %[1]d"},
{"op":"Replace","path":"name.familyName","value":"Family %[1]d"},
{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Dept %[1]d"},
{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new%[1]d@x.test"}]}`, i)
			s.do(b, http.MethodPatch, "/Users/"+ids[i%benchUsers], body, http.StatusOK)
		})
	})
	b.Run("GroupAdd100", func(b *testing.B) {
		s := newBenchServer(b)
		ids := s.seed(b, "g", benchUsers)
		out := s.do(b, http.MethodPost, "/Groups", `{"displayName":"g"}`, http.StatusCreated)
		var g struct{ ID string }
		require.NoError(b, json.Unmarshal(out, &g))
		batch := func(op string, ids []string) string {
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
		// The group holds half the users; each op adds a batch of the
		// other half, removed again untimed.
		half := benchUsers / 2
		for i := 0; i < half; i += 100 {
			s.do(b, http.MethodPatch, "/Groups/"+g.ID, batch("Add", ids[i:i+100]), http.StatusNoContent)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			first := half + (i%(half/100))*100
			s.do(b, http.MethodPatch, "/Groups/"+g.ID, batch("Add", ids[first:first+100]), http.StatusNoContent)
			b.StopTimer()
			s.do(b, http.MethodPatch, "/Groups/"+g.ID, batch("Remove", ids[first:first+100]), http.StatusNoContent)
			b.StartTimer()
		}
	})
	b.Run("Page100", func(b *testing.B) {
		s := newBenchServer(b)
		s.seed(b, "pg", benchUsers)
		b.ReportAllocs()
		b.ResetTimer()
		parallel(b.N, func(i int) {
			s.do(b, http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=100", 1+(i%(benchUsers/100))*100), "", http.StatusOK)
		})
	})
	b.Run("Deprovision", func(b *testing.B) {
		s := newBenchServer(b)
		ids := s.seed(b, "d", b.N)
		b.ReportAllocs()
		b.ResetTimer()
		parallel(b.N, func(i int) {
			s.do(b, http.MethodPatch, "/Users/"+ids[i], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":false}]}`, http.StatusOK)
		})
	})
}
