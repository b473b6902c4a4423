package scimkit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// slowCreate holds Create until release is closed.
type slowCreate struct {
	*memory.Store
	entered, release chan struct{}
}

func (s *slowCreate) Create(ctx context.Context, tenant string, r *storage.Resource, ev ...storage.Event) error {
	close(s.entered)
	<-s.release
	return s.Store.Create(ctx, tenant, r, ev...)
}

// TestGracefulShutdown shuts the host's http.Server down while a POST is
// in the store: Shutdown waits for it, the client gets its 201 and the
// user is stored; then Flush writes the credential's last use, the
// sequence the README gives a host.
func TestGracefulShutdown(t *testing.T) {
	mem := memory.New()
	store := &slowCreate{Store: mem, entered: make(chan struct{}), release: make(chan struct{})}
	srv, err := scimkit.New(store, mem)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, scimkit.SetToken(ctx, mem, "acme", acmeToken))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	type result struct {
		code int
		err  error
	}
	got := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/Users", strings.NewReader(userBody("inflight@x.com", "")))
		req.Header.Set("Authorization", "Bearer "+acmeToken)
		res, err := hs.Client().Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		res.Body.Close()
		got <- result{code: res.StatusCode}
	}()
	<-store.entered

	shut := make(chan error, 1)
	go func() {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		shut <- hs.Config.Shutdown(sctx)
	}()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(store.release)
	r := <-got
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusCreated, r.code, "the in-flight request completed")
	require.NoError(t, <-shut)
	require.NoError(t, srv.Flush(ctx))

	page, err := mem.List(ctx, "acme", storage.Query{Kind: storage.KindUser})
	require.NoError(t, err)
	assert.Equal(t, 1, page.Total)
	creds, err := mem.ListCredentials(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, creds, 1)
	assert.False(t, creds[0].LastUsed.IsZero(), "Flush wrote the last use")
}
