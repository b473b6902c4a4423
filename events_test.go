package scimkit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// outboxEvents decodes every event of the tenant's outbox.
func outboxEvents(t *testing.T, s *memory.Store, tenant string) []provisioning.Event {
	t.Helper()
	recs, err := s.ListEvents(t.Context(), tenant, 0, 1000)
	require.NoError(t, err)
	var out []provisioning.Event
	for _, r := range recs {
		e, err := provisioning.FromRecord(r)
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

// brief is what a test checks of an event.
type brief struct {
	Type           provisioning.EventType
	Resource       string
	Version        int64
	Added, Removed []string
	Changed        []string
}

func briefs(es []provisioning.Event) []brief {
	var out []brief
	for _, e := range es {
		b := brief{Type: e.Type, Resource: e.ResourceID, Version: e.Version, Added: e.Added, Removed: e.Removed}
		for _, c := range e.Changes {
			b.Changed = append(b.Changed, c.Attribute)
		}
		out = append(out, b)
	}
	return out
}

// Each request that changes something yields its typed events in the
// outbox with the resource's new version; requests that change nothing
// yield none and keep the version.
func TestOutboxEventsPerRequest(t *testing.T) {
	srv, store := newTestServer(t, scimkit.WithOutbox())
	const (
		ann   = "00000000-0000-4000-8000-000000000001"
		bob   = "00000000-0000-4000-8000-000000000002"
		carol = "00000000-0000-4000-8000-000000000003"
		staff = "00000000-0000-4000-8000-000000000004"
	)
	patch := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
	}
	steps := []struct {
		name, method, path, body string
		etag                     string
		want                     []brief
	}{
		{"create ann", http.MethodPost, "/Users", `{"userName":"ann","active":true}`, `W/"1"`,
			[]brief{{Type: provisioning.Provisioned, Resource: ann, Version: 1}}},
		{"create bob", http.MethodPost, "/Users", `{"userName":"bob","active":true}`, "", []brief{{Type: provisioning.Provisioned, Resource: bob, Version: 1}}},
		{"create carol", http.MethodPost, "/Users", `{"userName":"carol"}`, "", []brief{{Type: provisioning.Provisioned, Resource: carol, Version: 1}}},
		{"entra sets a title", http.MethodPatch, "/Users/" + ann, patch(`{"op":"Replace","path":"title","value":"CTO"}`), `W/"2"`,
			[]brief{{Type: provisioning.Updated, Resource: ann, Version: 2, Changed: []string{"title"}}}},
		{"the same title again is a no-op", http.MethodPatch, "/Users/" + ann, patch(`{"op":"Replace","path":"title","value":"CTO"}`), `W/"2"`, nil},
		{"an identical PUT is a no-op", http.MethodPut, "/Users/" + ann, `{"userName":"ann","active":true,"title":"CTO"}`, `W/"2"`, nil},
		{"entra deactivates", http.MethodPatch, "/Users/" + ann, patch(`{"op":"Replace","path":"active","value":"False"}`), `W/"3"`,
			[]brief{{Type: provisioning.Deactivated, Resource: ann, Version: 3, Changed: []string{"active"}}}},
		{"okta reactivates by PUT", http.MethodPut, "/Users/" + ann, `{"userName":"ann","active":true,"title":"CTO"}`, `W/"4"`,
			[]brief{{Type: provisioning.Reactivated, Resource: ann, Version: 4, Changed: []string{"active"}}}},
		{"group created with members", http.MethodPost, "/Groups", `{"displayName":"staff","members":[{"value":"` + ann + `"},{"value":"` + bob + `"}]}`, `W/"1"`,
			[]brief{{Type: provisioning.GroupCreated, Resource: staff, Version: 1, Added: []string{ann, bob}}}},
		{"rename and add", http.MethodPatch, "/Groups/" + staff + "?attributes=id", patch(`{"op":"Replace","path":"displayName","value":"Staff"},{"op":"Add","path":"members","value":[{"value":"` + carol + `"}]}`), `W/"2"`,
			[]brief{{Type: provisioning.GroupRenamed, Resource: staff, Version: 2, Changed: []string{"displayName"}},
				{Type: provisioning.MembersAdded, Resource: staff, Version: 2, Added: []string{carol}}}},
		{"okta PUT of the group: exact delta", http.MethodPut, "/Groups/" + staff, `{"displayName":"Staff","members":[{"value":"` + ann + `"},{"value":"` + carol + `"}]}`, `W/"3"`,
			[]brief{{Type: provisioning.MembersRemoved, Resource: staff, Version: 3, Removed: []string{bob}}}},
		{"the same PUT again is a no-op", http.MethodPut, "/Groups/" + staff, `{"displayName":"Staff","members":[{"value":"` + carol + `"},{"value":"` + ann + `"}]}`, `W/"3"`, nil},
		{"entra removes a member", http.MethodPatch, "/Groups/" + staff + "?attributes=id", patch(`{"op":"Remove","path":"members[value eq \"` + ann + `\"]"}`), `W/"4"`,
			[]brief{{Type: provisioning.MembersRemoved, Resource: staff, Version: 4, Removed: []string{ann}}}},
		{"delete bob", http.MethodDelete, "/Users/" + bob, "", "", []brief{{Type: provisioning.Deleted, Resource: bob, Version: 1}}},
		{"delete the group", http.MethodDelete, "/Groups/" + staff, "", "", []brief{{Type: provisioning.GroupDeleted, Resource: staff, Version: 4}}},
	}
	seen := 0
	for _, s := range steps {
		w := serve(t, srv, s.method, s.path, s.body)
		require.Less(t, w.Code, 300, "%s: %s", s.name, w.Body.String())
		if s.etag != "" {
			assert.Equal(t, s.etag, w.Header().Get("ETag"), s.name)
		}
		all := outboxEvents(t, store, "acme")
		assert.Equal(t, s.want, briefs(all[seen:]), s.name)
		seen = len(all)
	}

	all := outboxEvents(t, store, "acme")
	ids := map[string]bool{}
	for _, e := range all {
		assert.False(t, ids[e.ID], "event ids are unique")
		ids[e.ID] = true
		assert.Equal(t, "acme", e.Tenant)
		assert.Equal(t, fixedNow, e.Time)
	}
	// Enough to act without reading the resource back.
	title := all[3]
	assert.Equal(t, "ann", title.Name)
	assert.True(t, title.Active)
	assert.JSONEq(t, `"CTO"`, string(title.Changes[0].After))
	assert.Empty(t, title.Changes[0].Before)
	assert.Contains(t, string(title.Resource), `"title":"CTO"`)
	deact := all[4]
	assert.False(t, deact.Active)
	assert.JSONEq(t, `true`, string(deact.Changes[0].Before))
	assert.JSONEq(t, `false`, string(deact.Changes[0].After))
	deleted := all[len(all)-2]
	assert.Equal(t, "bob", deleted.Name)
	assert.Contains(t, string(deleted.Resource), `"userName":"bob"`)
}

// countingStore counts the write calls that reach the store.
type countingStore struct {
	*memory.Store
	creates, changes atomic.Int32
}

func (c *countingStore) Create(ctx context.Context, tenant string, r *storage.Resource, ev ...storage.Event) error {
	c.creates.Add(1)
	return c.Store.Create(ctx, tenant, r, ev...)
}

func (c *countingStore) ChangeMembers(ctx context.Context, tenant, id string, ch storage.MemberChange) error {
	c.changes.Add(1)
	return c.Store.ChangeMembers(ctx, tenant, id, ch)
}

// A group created with members is one write: a crash cannot leave the
// group without its members, and an invalid member leaves nothing.
func TestGroupCreateWithMembersIsOneWrite(t *testing.T) {
	store := &countingStore{Store: memory.New()}
	srv, err := scimkit.New(store, store, scimkit.WithOutbox(), scimkit.WithRateLimit(0, 0), scimkit.WithWorkLimit(0, 0))
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(t.Context(), store, "acme", acmeToken))
	var members []string
	for i := range 300 {
		w := serve(t, srv, http.MethodPost, "/Users", `{"userName":"u`+string(rune('a'+i%26))+strings.Repeat("x", i/26)+`"}`)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		members = append(members, `{"value":"`+idOf(t, w.Body.String())+`"}`)
	}
	store.creates.Store(0)
	w := serve(t, srv, http.MethodPost, "/Groups", `{"displayName":"all","members":[`+strings.Join(members, ",")+`]}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	assert.Equal(t, int32(1), store.creates.Load())
	assert.Zero(t, store.changes.Load())
	ms, err := store.ListMembers(t.Context(), "acme", idOf(t, w.Body.String()))
	require.NoError(t, err)
	assert.Len(t, ms, 300)

	w = serve(t, srv, http.MethodPost, "/Groups", `{"displayName":"bad","members":[`+members[0]+`,{"value":"ghost"}]}`)
	assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
	p, err := store.List(t.Context(), "acme", storage.Query{Kind: storage.KindGroup, TotalOnly: true})
	require.NoError(t, err)
	assert.Equal(t, 1, p.Total, "the refused group is not stored")
	evs := outboxEvents(t, store.Store, "acme")
	assert.Equal(t, provisioning.GroupCreated, evs[len(evs)-1].Type, "and has no event")
	assert.Len(t, evs[len(evs)-1].Added, 300)
}

// Hooks are best-effort but run to completion: a client that hung up
// does not cancel them, and a second WithHook adds a hook.
func TestHooksOutliveTheClientAndAppend(t *testing.T) {
	var mu sync.Mutex
	var first, second []provisioning.EventType
	var ctxErrs []error
	srv, _ := newTestServer(t,
		scimkit.WithHook(func(ctx context.Context, e provisioning.Event) {
			mu.Lock()
			defer mu.Unlock()
			first = append(first, e.Type)
			ctxErrs = append(ctxErrs, ctx.Err())
		}),
		scimkit.WithHook(func(_ context.Context, e provisioning.Event) {
			mu.Lock()
			defer mu.Unlock()
			second = append(second, e.Type)
		}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone by the time the hook runs
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "http://scim.test/Users", strings.NewReader(`{"userName":"ann"}`))
	r.Header.Set("Authorization", "Bearer "+acmeToken)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	w = serve(t, srv, http.MethodPatch, "/Users/"+idOf(t, w.Body.String()),
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"Ann"}]}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []provisioning.EventType{provisioning.Provisioned, provisioning.Updated}, first)
	assert.Equal(t, first, second)
	assert.Equal(t, []error{nil, nil}, ctxErrs)
}

func TestWithOutboxNeedsAnOutbox(t *testing.T) {
	_, err := scimkit.New(handlerOnly{memory.New()}, memory.New(), scimkit.WithOutbox())
	assert.ErrorContains(t, err, "storage.Outbox")
}

// handlerOnly hides every method but the ResourceHandler's.
type handlerOnly struct{ scimkit.ResourceHandler }
