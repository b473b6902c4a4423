package memory

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit/storage"
)

// TestTenantsLockApart holds one tenant's lock, as a long scan of that
// tenant does: another tenant's reads and writes go on, the held tenant's
// write waits for it.
func TestTenantsLockApart(t *testing.T) {
	s := New()
	ctx := context.Background()
	user := func(id string) *storage.Resource {
		return &storage.Resource{Kind: storage.KindUser, ID: id, Name: id, Data: []byte(`{"userName":"` + id + `"}`)}
	}
	require.NoError(t, s.Create(ctx, "a", user("a1")))
	tn := s.tenant("a", false)
	tn.mu.RLock() // a scan of tenant a in progress

	done := make(chan error, 1)
	go func() { done <- s.Create(ctx, "b", user("b1")) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("tenant b's write waited for tenant a's scan")
	}
	_, err := s.List(ctx, "b", storage.Query{Kind: storage.KindUser})
	require.NoError(t, err)

	go func() { done <- s.Create(ctx, "a", user("a2")) }()
	select {
	case <-done:
		t.Fatal("tenant a's write did not wait for its own scan")
	case <-time.After(20 * time.Millisecond):
	}
	tn.mu.RUnlock()
	assert.NoError(t, <-done)
}

// TestListStopsWhenClientGone cancels a scan's context: the scan returns
// the context's error instead of finishing.
func TestListStopsWhenClientGone(t *testing.T) {
	s := New()
	ctx := context.Background()
	for i := range 1000 {
		id := string(rune('a'+i%26)) + time.Duration(i).String()
		require.NoError(t, s.Create(ctx, "a", &storage.Resource{Kind: storage.KindUser, ID: id, Name: id, Data: []byte(`{}`)}))
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	f := storage.Compare{Path: storage.AttrPath{Name: "userName"}, Op: storage.OpPresent}
	_, err := s.List(gone, "a", storage.Query{Kind: storage.KindUser, Filter: f})
	assert.ErrorIs(t, err, context.Canceled)
}
