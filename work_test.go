package scimkit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// slowStore is a memory store whose reads take 20 ms, like a busy
// database: what a request is charged to its tenant's work budget is
// its time, so every request here takes long enough to spend a small
// budget.
type slowStore struct{ *memory.Store }

const slowRead = 20 * time.Millisecond

func (s slowStore) Get(ctx context.Context, tenant string, kind storage.Kind, id string) (*storage.Resource, error) {
	time.Sleep(slowRead)
	return s.Store.Get(ctx, tenant, kind, id)
}

func (s slowStore) List(ctx context.Context, tenant string, q storage.Query) (storage.Page, error) {
	time.Sleep(slowRead)
	return s.Store.List(ctx, tenant, q)
}

// TestWorkLimit sends each shape of request ten times, slowly, with a
// work budget of 10 ms per second and bursts of 30 ms, then a page: the
// shapes that can be expensive (lists no index lookup answers, bodies
// over 64 KiB) spend it and are refused with 429 and Retry-After, as is
// the page after them and after responses over 64 KiB (charged, never
// refused); the shapes of an IdP's provisioning (lookups, reads and writes
// of one resource of normal size) are never charged nor refused, however
// long they take, and the page after them is served. With
// WithWorkLimit(0, 0) nothing is refused.
func TestWorkLimit(t *testing.T) {
	padding := strings.Repeat(" ", 70<<10)
	huge := strings.Repeat("x", 40<<10)
	tests := []struct {
		name               string
		method, path, body string
		gated, charged     bool
		wantStatus         int
	}{
		{"a page", http.MethodGet, "/Users", "", true, true, 200},
		{"a scan by a filter", http.MethodGet, "/Users?filter=" + q(`title co "engineer"`), "", true, true, 200},
		{"a count", http.MethodGet, "/Users?count=0&filter=" + q(`active eq true`), "", true, true, 200},
		{"a body over 64 KiB", http.MethodPatch, "/Users/{id}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],` + padding + `"Operations":[{"op":"replace","path":"title","value":"x"}]}`, true, true, 200},
		{"a response over 64 KiB", http.MethodGet, "/Users/{huge}", "", false, true, 200},
		{"a lookup by userName", http.MethodGet, "/Users?filter=" + q(`userName eq "ann@acme.example"`), "", false, false, 200},
		{"a lookup by externalId and more", http.MethodGet, "/Users?filter=" + q(`externalId eq "e1" and active eq true`), "", false, false, 200},
		{"a read", http.MethodGet, "/Users/{id}", "", false, false, 200},
		{"a write", http.MethodPatch, "/Users/{id}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"x"}]}`, false, false, 200},
		{"a create", http.MethodPost, "/Users", "", false, false, 201},
	}
	for _, tc := range tests {
		for _, on := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/limit %v", tc.name, on), func(t *testing.T) {
				mem := memory.New()
				var log limitLog
				opts := []scimkit.Option{scimkit.WithRateLimit(0, 0), scimkit.WithLimitObserver(log.observe)}
				if on {
					opts = append(opts, scimkit.WithWorkLimit(10*time.Millisecond, 30*time.Millisecond))
				} else {
					opts = append(opts, scimkit.WithWorkLimit(0, 0))
				}
				srv, err := scimkit.New(slowStore{mem}, mem, opts...)
				require.NoError(t, err)
				require.NoError(t, scimkit.SetToken(context.Background(), mem, "acme", acmeToken))
				setup, err := scimkit.New(mem, mem)
				require.NoError(t, err)
				w := serve(t, setup, http.MethodPost, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@acme.example","externalId":"e1","active":true,"title":"engineer"}`)
				require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
				id := idOf(t, w.Body.String())
				w = serve(t, setup, http.MethodPost, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"huge","displayName":"`+huge+`","nickName":"`+huge+`"}`)
				require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
				hugeID := idOf(t, w.Body.String())

				path := strings.NewReplacer("{id}", id, "{huge}", hugeID).Replace(tc.path)
				refused := 0
				for i := range 10 {
					body := tc.body
					if tc.method == http.MethodPost {
						body = fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new%d"}`, i)
					}
					w := serve(t, srv, tc.method, path, body)
					if w.Code == http.StatusTooManyRequests {
						refused++
						assert.NotEmpty(t, w.Header().Get("Retry-After"))
						continue
					}
					require.Equal(t, tc.wantStatus, w.Code, w.Body.String())
				}
				page := serve(t, srv, http.MethodGet, "/Users", "").Code
				switch {
				case on && tc.gated:
					assert.Positive(t, refused, "expensive requests spend the budget")
				case on && tc.charged:
					assert.Zero(t, refused, "charged, but not refused")
				default:
					assert.Zero(t, refused)
				}
				if on && tc.charged {
					assert.Equal(t, http.StatusTooManyRequests, page, "the budget is spent")
					assert.Contains(t, log.kinds(), scimkit.LimitWork)
					return
				}
				assert.Equal(t, http.StatusOK, page)
				assert.NotContains(t, log.kinds(), scimkit.LimitWork)
			})
		}
	}
}

// q escapes a filter for a URL.
func q(filter string) string { return url.QueryEscape(filter) }

// TestWorkLimitOption checks the option's arguments.
func TestWorkLimitOption(t *testing.T) {
	st := memory.New()
	for _, tc := range []struct {
		perSecond, burst time.Duration
		ok               bool
	}{
		{0, 0, true}, {time.Second, time.Second, true}, {-1, time.Second, false},
		{time.Second, 0, false}, {0, time.Second, false},
	} {
		_, err := scimkit.New(st, st, scimkit.WithWorkLimit(tc.perSecond, tc.burst))
		if tc.ok {
			assert.NoError(t, err, "%v %v", tc.perSecond, tc.burst)
		} else {
			assert.Error(t, err, "%v %v", tc.perSecond, tc.burst)
		}
	}
}

// TestRefusalsArePaced: a client that retries at once, ignoring
// Retry-After, is answered each 429 when its tenant would have a token
// again, so in half a second at 20 requests per second it sends tens of
// requests, not the tens of thousands the server could refuse, and
// another tenant is served meanwhile.
func TestRefusalsArePaced(t *testing.T) {
	srv, store := newTestServer(t, scimkit.WithRateLimit(20, 1), scimkit.WithWorkLimit(0, 0))
	require.NoError(t, scimkit.SetToken(context.Background(), store, "globex", globexToken))
	codes := map[int]int{}
	end := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(end) {
		codes[serve(t, srv, http.MethodGet, "/Users?count=1", "").Code]++
	}
	sent := codes[200] + codes[429]
	assert.Equal(t, sent, codes[200]+codes[429], "only 200 and 429: %v", codes)
	assert.Positive(t, codes[429])
	assert.Less(t, sent, 100, "paced: %v", codes)
	assert.Equal(t, http.StatusOK, serve(t, srv, http.MethodGet, "/Users?count=1", "", "Authorization", "Bearer "+globexToken).Code)
}
