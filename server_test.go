package scimkit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// faultyStore fails List with a configured error, the way a broken driver
// would; everything else is the memory backend.
type faultyStore struct {
	*memory.Store
	listErr error
	panics  bool
}

func (f *faultyStore) List(ctx context.Context, tenant string, q storage.Query) (storage.Page, error) {
	if f.panics {
		panic("driver exploded")
	}
	if f.listErr != nil {
		return storage.Page{}, f.listErr
	}
	return f.Store.List(ctx, tenant, q)
}

func serve(t *testing.T, srv http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "http://scim.test"+path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+acmeToken)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	return w
}

func TestStorageFailuresBecomeSCIMErrors(t *testing.T) {
	tests := []struct {
		name       string
		store      func(*memory.Store) *faultyStore
		wantStatus int
		retry      bool
	}{
		{
			name: "driver error is a generic 500 without its text",
			store: func(m *memory.Store) *faultyStore {
				return &faultyStore{Store: m, listErr: errors.New(`pq: relation "users" does not exist`)}
			},
			wantStatus: http.StatusInternalServerError,
		},
		{
			name: "unavailable backend is 503 with Retry-After",
			store: func(m *memory.Store) *faultyStore {
				return &faultyStore{Store: m, listErr: fmt.Errorf("conn lost: %w", storage.ErrUnavailable)}
			},
			wantStatus: http.StatusServiceUnavailable,
			retry:      true,
		},
		{
			name:       "panic in a handler is a 500",
			store:      func(m *memory.Store) *faultyStore { return &faultyStore{Store: m, panics: true} },
			wantStatus: http.StatusInternalServerError,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.New()
			st := tc.store(mem)
			var logs strings.Builder
			var mu sync.Mutex
			srv, err := scimkit.New(st, mem, scimkit.WithLogger(newTestLogger(&logs, &mu)))
			require.NoError(t, err)
			require.NoError(t, scimkit.SetToken(t.Context(), mem, "acme", acmeToken))
			w := serve(t, srv, http.MethodGet, "/Users", "")
			assert.Equal(t, tc.wantStatus, w.Code)
			assert.Equal(t, "application/scim+json", w.Header().Get("Content-Type"))
			assert.JSONEq(t, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"%d","detail":%q}`,
				tc.wantStatus, map[int]string{500: "internal server error", 503: "the service is temporarily unavailable; retry later"}[tc.wantStatus]), w.Body.String())
			assert.NotContains(t, w.Body.String(), "pq:")
			assert.Equal(t, tc.retry, w.Header().Get("Retry-After") != "")
			mu.Lock()
			assert.Contains(t, logs.String(), "scim:", "the cause is logged")
			assert.NotContains(t, logs.String(), acmeToken, "the token is never logged")
			mu.Unlock()
		})
	}
}

func TestLifecycleHook(t *testing.T) {
	var mu sync.Mutex
	var events []provisioning.Event
	srv, _ := newTestServer(t, scimkit.WithHook(func(_ context.Context, e provisioning.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}))

	w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"bob","active":true}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	id := idOf(t, w.Body.String())
	steps := []struct {
		method, body string
		want         provisioning.EventType
	}{
		{http.MethodPatch, `{"Operations":[{"op":"Replace","path":"title","value":"CTO"}]}`, provisioning.Updated},
		{http.MethodPatch, `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`, provisioning.Deactivated},
		{http.MethodPut, `{"userName":"bob","active":true}`, provisioning.Reactivated},
		{http.MethodDelete, ``, provisioning.Deleted},
	}
	for _, s := range steps {
		w := serve(t, srv, s.method, "/Users/"+id, s.body)
		require.Less(t, w.Code, 300, w.Body.String())
	}
	mu.Lock()
	defer mu.Unlock()
	var got []provisioning.EventType
	for _, e := range events {
		got = append(got, e.Type)
		assert.Equal(t, "acme", e.Tenant)
		assert.Equal(t, id, e.ResourceID)
		assert.Equal(t, "bob", e.Name)
	}
	assert.Equal(t, []provisioning.EventType{provisioning.Provisioned, provisioning.Updated, provisioning.Deactivated, provisioning.Reactivated, provisioning.Deleted}, got)
	assert.False(t, events[2].Active)
}

func TestIfMatch(t *testing.T) {
	srv, _ := newTestServer(t)
	w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"bob"}`)
	require.Equal(t, http.StatusCreated, w.Code)
	id, tag := idOf(t, w.Body.String()), w.Header().Get("ETag")
	require.Equal(t, `W/"1"`, tag)
	tests := []struct {
		name, ifMatch string
		want          int
	}{
		{"stale version is refused", `W/"7"`, http.StatusPreconditionFailed},
		{"current version is applied", `W/"1"`, http.StatusOK},
		{"star always matches", `*`, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(t, srv, http.MethodPatch, "/Users/"+id, `{"Operations":[{"op":"add","path":"title","value":"`+tc.name+`"}]}`, "If-Match", tc.ifMatch)
			assert.Equal(t, tc.want, w.Code, w.Body.String())
		})
	}
}

func TestConcurrentPatchesLoseNothing(t *testing.T) {
	srv, _ := newTestServer(t, scimkit.WithConcurrencyLimit(0)) // 64 at once, as a stress test
	w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"bob"}`)
	require.Equal(t, http.StatusCreated, w.Code)
	id := idOf(t, w.Body.String())
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"Operations":[{"op":"add","path":"emails","value":[{"type":"t%d","value":"e%d@x"}]}]}`, i, i)
			w := serve(t, srv, http.MethodPatch, "/Users/"+id, body)
			assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
		}()
	}
	wg.Wait()
	w = serve(t, srv, http.MethodGet, "/Users/"+id, "")
	require.Equal(t, http.StatusOK, w.Code)
	for i := range 64 {
		assert.Contains(t, w.Body.String(), fmt.Sprintf(`"e%d@x"`, i))
	}
	assert.Equal(t, `W/"65"`, w.Header().Get("ETag"))
}

func idOf(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `"id":"`)
	require.GreaterOrEqual(t, i, 0, body)
	rest := body[i+6:]
	return rest[:strings.IndexByte(rest, '"')]
}

// A group PATCH is all or nothing: a rename with an invalid member, or an
// invalid member with a valid one, leaves the group as it was.
func TestGroupPatchIsAtomic(t *testing.T) {
	tests := []struct {
		name   string
		ops    string
		status int
	}{
		{"rename plus unknown member", `[{"op":"replace","value":{"displayName":"Renamed"}},{"op":"add","path":"members","value":[{"value":"nobody"}]}]`, http.StatusBadRequest},
		{"valid plus unknown member", `[{"op":"add","path":"members","value":[{"value":"{{uid}}"},{"value":"nobody"}]}]`, http.StatusBadRequest},
		{"rename onto a taken name plus a valid member", `[{"op":"replace","path":"displayName","value":"OTHER"},{"op":"add","path":"members","value":[{"value":"{{uid}}"}]}]`, http.StatusConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newTestServer(t)
			uid := idOf(t, serve(t, srv, http.MethodPost, "/Users", `{"userName":"bob"}`).Body.String())
			require.Equal(t, http.StatusCreated, serve(t, srv, http.MethodPost, "/Groups", `{"displayName":"other"}`).Code)
			w := serve(t, srv, http.MethodPost, "/Groups", `{"displayName":"Eng"}`)
			require.Equal(t, http.StatusCreated, w.Code)
			gid := idOf(t, w.Body.String())
			before := serve(t, srv, http.MethodGet, "/Groups/"+gid, "").Body.String()

			w = serve(t, srv, http.MethodPatch, "/Groups/"+gid, `{"Operations":`+strings.ReplaceAll(tc.ops, "{{uid}}", uid)+`}`)
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			w = serve(t, srv, http.MethodGet, "/Groups/"+gid, "")
			assert.JSONEq(t, before, w.Body.String(), "nothing changed")
		})
	}
}

// Escaped ids reach the handler decoded, on both mounts, and meta.location
// keeps the mount prefix.
func TestEscapedPathsOnBothMounts(t *testing.T) {
	srv, _ := newTestServer(t)
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv))
	mux.Handle("/t/{tenant}/scim/v2/", srv.TenantHandler("tenant"))
	tests := []struct {
		name, path, want string
		status           int
	}{
		{"escaped slash in an id, shared URL", "/scim/v2/Users/a%2Fb", `User \"a/b\" not found`, http.StatusNotFound},
		{"escaped slash in an id, tenant URL", "/t/acme/scim/v2/Users/a%2Fb", `User \"a/b\" not found`, http.StatusNotFound},
		{"escaped space, tenant URL", "/t/acme/scim/v2/Users/a%20b", `User \"a b\" not found`, http.StatusNotFound},
		{"escaped slash in an id on a lower-case route", "/scim/v2/users/a%2Fb/", `User \"a/b\" not found`, http.StatusNotFound},
		{"location under the tenant URL", "/t/acme/scim/v2/ServiceProviderConfig", `"location":"http://scim.test/t/acme/scim/v2/ServiceProviderConfig"`, http.StatusOK},
		{"location under the shared URL", "/scim/v2/ServiceProviderConfig", `"location":"http://scim.test/scim/v2/ServiceProviderConfig"`, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(t, mux, http.MethodGet, tc.path, "")
			assert.Equal(t, tc.status, w.Code)
			assert.Contains(t, w.Body.String(), tc.want)
		})
	}
}

func TestStringBooleansInFilters(t *testing.T) {
	tests := []struct {
		name string
		opts []scimkit.Option
		want int
	}{
		{"accepted by default", nil, http.StatusOK},
		{"rejected with WithStrictBooleans", []scimkit.Option{scimkit.WithStrictBooleans()}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newTestServer(t, tc.opts...)
			w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"bob","roles":[{"value":"Admin","primary":true}]}`)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			id := idOf(t, w.Body.String())
			w = serve(t, srv, http.MethodGet, "/Users?filter="+url.QueryEscape(`roles[primary eq "True"]`), "")
			assert.Equal(t, tc.want, w.Code, w.Body.String())
			w = serve(t, srv, http.MethodPatch, "/Users/"+id, `{"Operations":[{"op":"replace","path":"roles[primary eq \"True\"].value","value":"Owner"}]}`)
			assert.Equal(t, tc.want, w.Code, w.Body.String())
			if tc.want == http.StatusBadRequest {
				assert.Contains(t, w.Body.String(), `"invalidPath"`)
			}
		})
	}
}
