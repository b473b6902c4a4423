package postgres_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/postgres"
)

// roundTrips counts the round trips a pool makes: each statement sent on
// its own is one, each batch (pipeline) is one.
type roundTrips struct {
	mu    sync.Mutex
	n     int
	stmts []string
}

func (c *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	c.n++
	c.stmts = append(c.stmts, strings.Join(strings.Fields(d.SQL), " "))
	c.mu.Unlock()
	return ctx
}

func (c *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	c.n++
	c.stmts = append(c.stmts, fmt.Sprintf("batch of %d", d.Batch.Len()))
	c.mu.Unlock()
	return ctx
}

func (c *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// take returns the round trips since the last take.
func (c *roundTrips) take() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, s := c.n, c.stmts
	c.n, c.stmts = 0, nil
	return n, s
}

// tracedServer is a scimkit server on a store whose pool counts round
// trips.
func tracedServer(t testing.TB) (*scimkit.Server, *roundTrips, *postgres.Store) {
	t.Helper()
	base := newPool(t)
	cfg := base.Config().Copy()
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st, err := postgres.New(context.Background(), pool)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	srv, err := scimkit.New(st, st, scimkit.WithOutbox(), scimkit.WithRateLimit(0, 0), scimkit.WithConcurrencyLimit(0))
	require.NoError(t, err)
	require.NoError(t, scimkit.SetToken(context.Background(), st, "t", "rt-token"))
	return srv, rt, st
}

func doReq(t testing.TB, h http.Handler, method, path, body string, want int) string {
	t.Helper()
	r := httptest.NewRequest(method, "http://scim.test"+path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer rt-token")
	r.Header.Set("Content-Type", "application/scim+json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, want, w.Code, "%s %s: %s", method, path, w.Body)
	return w.Body.String()
}

func rtUserBody(i int) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"externalId":"ext-%[1]d","userName":"u%[1]d@x.test","active":true,"displayName":"User %[1]d",
"emails":[{"primary":true,"type":"work","value":"u%[1]d@x.test"}],"name":{"givenName":"G%[1]d","familyName":"F%[1]d"},
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"%[1]d","department":"Dept"}}`, i)
}

func idOf(body string) string {
	i := strings.Index(body, `"id":"`)
	return body[i+6:][:36]
}

// TestRoundTripsPerRequest logs the database round trips of each bench
// workload's request (go test -v -run TestRoundTripsPerRequest).
func TestRoundTripsPerRequest(t *testing.T) {
	if os.Getenv(dsnEnv) == "" {
		t.Skip("no PostgreSQL")
	}
	h, rt, _ := tracedServer(t)
	var ids []string
	for i := range 120 {
		ids = append(ids, idOf(doReq(t, h, http.MethodPost, "/Users", rtUserBody(i), http.StatusCreated)))
	}
	gid := idOf(doReq(t, h, http.MethodPost, "/Groups", `{"displayName":"g"}`, http.StatusCreated))
	// The audit log is written in the background, in batches shared by
	// the requests of a moment: each request's own round trips are
	// counted apart from the flush of its audit entry.
	ctx := context.Background()
	require.NoError(t, h.Flush(ctx))
	rt.take()
	report := func(name string) {
		n, s := rt.take()
		require.NoError(t, h.Flush(ctx))
		a, _ := rt.take()
		t.Logf("%s: %d round trips (+%d to flush its audit entry alone)\n\t%s", name, n, a, strings.Join(s, "\n\t"))
	}
	doReq(t, h, http.MethodGet, "/Users?filter="+url.QueryEscape(`userName eq "new@x.test"`), "", http.StatusOK)
	doReq(t, h, http.MethodPost, "/Users", rtUserBody(1000), http.StatusCreated)
	report("W1 create (GET filter + POST)")
	doReq(t, h, http.MethodGet, "/Users?filter="+url.QueryEscape(`userName eq "u7@x.test"`), "", http.StatusOK)
	report("W2 lookup")
	doReq(t, h, http.MethodPatch, "/Users/"+ids[3], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
{"op":"Replace","path":"displayName","value":"New Name"},
{"op":"Replace","path":"name.familyName","value":"Family"},
{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"},
{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@x.test"}]}`, http.StatusOK)
	report("W3 patch")
	var sb strings.Builder
	sb.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[`)
	for i, id := range ids[:100] {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"value":%q}`, id)
	}
	sb.WriteString(`]}]}`)
	doReq(t, h, http.MethodPatch, "/Groups/"+gid, sb.String(), http.StatusNoContent)
	report("W4 add 100 members")
	doReq(t, h, http.MethodGet, "/Users?startIndex=1&count=100", "", http.StatusOK)
	report("W5 page")
	doReq(t, h, http.MethodPatch, "/Users/"+ids[5], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":false}]}`, http.StatusOK)
	report("W6 deprovision")
}
