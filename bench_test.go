package scimkit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/internal/tenantbench"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// All benchmarks of the module, with allocations, are one command:
// scripts/bench.sh (or go test -run XXX -bench . -benchmem .).

func openMemory(*testing.B) tenantbench.Store { return memory.New() }

// BenchmarkPaths runs every IdP path through the whole handler on the
// memory store (see tenantbench.Paths).
func BenchmarkPaths(b *testing.B) { tenantbench.Paths(b, openMemory) }

// BenchmarkTenants: W1 and W2 with one tenant and with 10,000 must cost
// about the same (see tenantbench.Tenants).
func BenchmarkTenants(b *testing.B) { tenantbench.Tenants(b, openMemory) }

// benchServer is a server on the memory store with a token for tenant "t".
type benchServer struct {
	srv   *scimkit.Server
	store *memory.Store
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	st := memory.New()
	srv, err := scimkit.New(st, st, tenantbench.Options(st)...)
	require.NoError(b, err)
	require.NoError(b, scimkit.SetToken(b.Context(), st, "t", "bench-token"))
	return &benchServer{srv: srv, store: st}
}

func (s *benchServer) do(b *testing.B, method, path, body string, want int) string {
	r := httptest.NewRequest(method, "http://scim.test"+path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer bench-token")
	w := httptest.NewRecorder()
	s.srv.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
	return w.Body.String()
}

func entraUserBody(i int) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"externalId":"ext-%[1]d","userName":"u%[1]d@x.test","active":true,"displayName":"User %[1]d",
"emails":[{"primary":true,"type":"work","value":"u%[1]d@x.test"}],"name":{"givenName":"G%[1]d","familyName":"F%[1]d"},
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"%[1]d","department":"Dept"}}`, i)
}

// seed stores n users directly in the store (fast), returning their ids.
func (s *benchServer) seed(b *testing.B, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("id-%d", i)
		r := &storage.Resource{Kind: storage.KindUser, ID: ids[i], Name: fmt.Sprintf("u%d@x.test", i), Version: 1,
			Data: []byte(fmt.Sprintf(`{"userName":"u%d@x.test","active":true,"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}`, i))}
		require.NoError(b, s.store.Create(b.Context(), "t", r))
	}
	return ids
}

// BenchmarkUserNameLookup is Entra's pre-create check at growing sizes:
// the cost must stay flat (an index lookup, never a scan).
func BenchmarkUserNameLookup(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			s := newBenchServer(b)
			s.seed(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				q := url.QueryEscape(fmt.Sprintf(`userName eq "U%d@x.test"`, i%n))
				s.do(b, http.MethodGet, "/Users?filter="+q, "", http.StatusOK)
			}
		})
	}
}

// BenchmarkGroupAddBatch adds a batch of 100 members to groups of 100 and
// 10,000 members: the cost must not grow with the group.
func BenchmarkGroupAddBatch(b *testing.B) {
	for _, size := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			s := newBenchServer(b)
			ids := s.seed(b, size+100)
			out := s.do(b, http.MethodPost, "/Groups", `{"displayName":"g"}`, http.StatusCreated)
			gid := out[strings.Index(out, `"id":"`)+6:][:36]
			add := func(ids []string) string {
				var sb strings.Builder
				sb.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[`)
				for i, id := range ids {
					if i > 0 {
						sb.WriteByte(',')
					}
					fmt.Fprintf(&sb, `{"value":%q}`, id)
				}
				sb.WriteString(`]}]}`)
				return sb.String()
			}
			for i := 0; i < size; i += 100 {
				s.do(b, http.MethodPatch, "/Groups/"+gid, add(ids[i:i+100]), http.StatusNoContent)
			}
			batch := add(ids[size:])
			var remove strings.Builder
			remove.WriteString(`{"Operations":[{"op":"Remove","path":"members","value":[`)
			for i, id := range ids[size:] {
				if i > 0 {
					remove.WriteByte(',')
				}
				fmt.Fprintf(&remove, `{"value":%q}`, id)
			}
			remove.WriteString(`]}]}`)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				s.do(b, http.MethodPatch, "/Groups/"+gid, batch, http.StatusNoContent)
				b.StopTimer()
				s.do(b, http.MethodPatch, "/Groups/"+gid, remove.String(), http.StatusNoContent)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkPatchUser is Entra's default-job PATCH of four attributes.
func BenchmarkPatchUser(b *testing.B) {
	s := newBenchServer(b)
	out := s.do(b, http.MethodPost, "/Users", entraUserBody(1), http.StatusCreated)
	id := out[strings.Index(out, `"id":"`)+6:][:36]
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
{"op":"Replace","path":"displayName","value":"New Name"},
{"op":"Replace","path":"name.familyName","value":"Family"},
{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"},
{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@x.test"}]}`
	b.ReportAllocs()
	for b.Loop() {
		s.do(b, http.MethodPatch, "/Users/"+id, body, http.StatusOK)
	}
}

// BenchmarkCreateUser is Entra's POST of a new user.
func BenchmarkCreateUser(b *testing.B) {
	s := newBenchServer(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.do(b, http.MethodPost, "/Users", entraUserBody(i), http.StatusCreated)
	}
}
