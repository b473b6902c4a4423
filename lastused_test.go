package scimkit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
)

// touchCounter counts the last-use writes reaching the store; with gate
// set, each write waits for it to close.
type touchCounter struct {
	*memory.Store
	gate chan struct{}

	mu      sync.Mutex // guards touches
	touches []time.Time
}

func (c *touchCounter) TouchCredential(ctx context.Context, tenant, id string, at time.Time) error {
	if c.gate != nil {
		<-c.gate
	}
	c.mu.Lock()
	c.touches = append(c.touches, at)
	c.mu.Unlock()
	return c.Store.TouchCredential(ctx, tenant, id, at)
}

func (c *touchCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.touches)
}

func lastUsed(t *testing.T, s *memory.Store, tenant, id string) time.Time {
	t.Helper()
	cs, err := s.ListCredentials(t.Context(), tenant)
	require.NoError(t, err)
	for _, c := range cs {
		if c.ID == id {
			return c.LastUsed
		}
	}
	t.Fatalf("no credential %q", id)
	return time.Time{}
}

func TestLastUseIsWrittenAtMostOncePerResolution(t *testing.T) {
	t.Parallel()
	counter := &touchCounter{Store: memory.New()}
	s := newCredServer(t, counter)
	s.store = counter.Store
	tok, c := s.generate(t, "acme")
	t0 := s.clock.now()

	// A burst of concurrent requests in one minute: one write.
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assertStatus(t, http.StatusOK, s.get("/scim/v2/Users", tok), "a request")
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool { return counter.count() == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, t0, lastUsed(t, counter.Store, "acme", c.ID))

	// More uses within the minute are not written on their own...
	for range 5 {
		s.clock.advance(10 * time.Second)
		assertStatus(t, http.StatusOK, s.get("/scim/v2/Users", tok), "a request")
	}
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, 1, counter.count(), "uses within a minute of the last write wait")
	// ...until Flush writes the latest.
	require.NoError(t, s.srv.Flush(t.Context()))
	assert.Equal(t, 2, counter.count())
	assert.Equal(t, t0.Add(50*time.Second), lastUsed(t, counter.Store, "acme", c.ID))

	// A use a minute after the last write is written.
	s.clock.set(t0.Add(50*time.Second + scimkit.LastUsedResolution))
	assertStatus(t, http.StatusOK, s.get("/t/acme/scim/v2/Users", tok), "a request")
	require.NoError(t, s.srv.Flush(t.Context()))
	assert.Equal(t, 3, counter.count())
	assert.Equal(t, s.clock.now(), lastUsed(t, counter.Store, "acme", c.ID))
	require.NoError(t, s.srv.Flush(t.Context()), "flushing with nothing pending")
	assert.Equal(t, 3, counter.count())
}

// TestPendingUsesAreWrittenWithoutFlush: a use that waited for its minute
// is written once the minute is over, when any request comes.
func TestPendingUsesAreWrittenWithoutFlush(t *testing.T) {
	t.Parallel()
	counter := &touchCounter{Store: memory.New()}
	s := newCredServer(t, counter)
	s.store = counter.Store
	tok, c := s.generate(t, "acme")
	other, _ := s.generate(t, "globex")
	t0 := s.clock.now()
	assertStatus(t, http.StatusOK, s.get("/scim/v2/Users", tok), "first use")
	s.clock.advance(30 * time.Second)
	assertStatus(t, http.StatusOK, s.get("/scim/v2/Users", tok), "a use within the minute")
	require.Eventually(t, func() bool { return counter.count() == 1 }, 5*time.Second, time.Millisecond)

	s.clock.advance(scimkit.LastUsedResolution)
	assertStatus(t, http.StatusOK, s.get("/scim/v2/Users", other), "another tenant's request")
	require.Eventually(t, func() bool {
		return lastUsed(t, counter.Store, "acme", c.ID).Equal(t0.Add(30 * time.Second))
	}, 5*time.Second, time.Millisecond, "the waiting use was written")
}

// TestRequestsNeverWaitForTheLastUseWrite: a store whose writes hang does
// not slow authentication down.
func TestRequestsNeverWaitForTheLastUseWrite(t *testing.T) {
	t.Parallel()
	counter := &touchCounter{Store: memory.New(), gate: make(chan struct{})}
	s := newCredServer(t, counter)
	s.store = counter.Store
	tok, c := s.generate(t, "acme")
	for range 3 {
		done := make(chan int)
		go func() { done <- s.get("/scim/v2/Users", tok).Code }()
		select {
		case code := <-done:
			assert.Equal(t, http.StatusOK, code)
		case <-time.After(5 * time.Second):
			t.Fatal("a request waited for the last-use write")
		}
		s.clock.advance(2 * scimkit.LastUsedResolution)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.srv.Flush(ctx), context.DeadlineExceeded, "Flush waits for the hanging write")
	close(counter.gate)
	require.NoError(t, s.srv.Flush(t.Context()))
	// The first use's write may start before or after the later uses
	// arrive; either way the three uses cost at most two writes.
	assert.GreaterOrEqual(t, counter.count(), 1)
	assert.LessOrEqual(t, counter.count(), 2, "the uses queued behind the hanging write were coalesced into one")
	assert.Equal(t, s.clock.now().Add(-2*scimkit.LastUsedResolution), lastUsed(t, counter.Store, "acme", c.ID))
}

// failingTouches is a store whose last-use writes fail.
type failingTouches struct{ *memory.Store }

func (failingTouches) TouchCredential(context.Context, string, string, time.Time) error {
	return storage.ErrUnavailable
}

// TestFailedLastUseWritesAreBestEffort: a failed write is logged, the
// request is served.
func TestFailedLastUseWritesAreBestEffort(t *testing.T) {
	t.Parallel()
	mem := memory.New()
	var (
		logs strings.Builder
		mu   sync.Mutex
	)
	srv, err := scimkit.New(mem, failingTouches{mem}, scimkit.WithLogger(newTestLogger(&logs, &mu)))
	require.NoError(t, err)
	tok, _, err := scimkit.GenerateToken(t.Context(), mem, "acme")
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "/Users", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	assert.Equal(t, http.StatusOK, w.Code)
	require.NoError(t, srv.Flush(t.Context()))
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logs.String(), "last use")
	assert.NotContains(t, logs.String(), tok, "the token is never logged")
}
