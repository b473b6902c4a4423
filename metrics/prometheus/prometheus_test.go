package prometheus_test

import (
	"context"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scimkit"
	scimprom "github.com/scimkit/scimkit/metrics/prometheus"
	"github.com/scimkit/scimkit/storage/memory"
)

func send(h http.Handler, method, target, token, body string) int {
	r := httptest.NewRequest(method, "http://scim.test"+target, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// traffic sends a fixed mix of requests for tenants acme and globex.
func traffic(t *testing.T, opts ...scimprom.Option) *prom.Registry {
	t.Helper()
	ctx := context.Background()
	m, err := scimprom.New(opts...)
	require.NoError(t, err)
	reg := prom.NewRegistry()
	require.NoError(t, reg.Register(m))
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithObserver(m))
	require.NoError(t, err)
	acme, _, err := scimkit.GenerateToken(ctx, store, "acme")
	require.NoError(t, err)
	globex, _, err := scimkit.GenerateToken(ctx, store, "globex")
	require.NoError(t, err)
	require.Equal(t, 201, send(srv, http.MethodPost, "/Users", acme, `{"userName":"a","roles":[{"displayName":"x"}]}`))
	require.Equal(t, 409, send(srv, http.MethodPost, "/Users", acme, `{"userName":"a"}`))
	require.Equal(t, 200, send(srv, http.MethodGet, "/Users", acme, ""))
	require.Equal(t, 200, send(srv, http.MethodGet, "/Users", globex, ""))
	require.Equal(t, 401, send(srv, http.MethodGet, "/Users", "wrong-token", ""))
	return reg
}

func TestMetrics(t *testing.T) {
	reg := traffic(t)
	want := `
# HELP scim_requests_total SCIM requests served, by tenant, resource type, operation, HTTP status and RFC 7644 scimType.
# TYPE scim_requests_total counter
scim_requests_total{operation="create",resource="User",scim_type="",status="201",tenant="acme"} 1
scim_requests_total{operation="create",resource="User",scim_type="uniqueness",status="409",tenant="acme"} 1
scim_requests_total{operation="list",resource="User",scim_type="",status="200",tenant="acme"} 1
scim_requests_total{operation="list",resource="User",scim_type="",status="200",tenant="globex"} 1
scim_requests_total{operation="list",resource="User",scim_type="",status="401",tenant=""} 1
# HELP scim_normalizations_total Requests changed to accept them (dropped unknown attributes, cleared extra primaries), by tenant and kind.
# TYPE scim_normalizations_total counter
scim_normalizations_total{kind="droppedAttribute",tenant="acme"} 1
# HELP scim_credentials_rejected_total Requests refused with 401: missing, unknown, revoked or expired tokens (tenant set only for an expired token).
# TYPE scim_credentials_rejected_total counter
scim_credentials_rejected_total{tenant=""} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"scim_requests_total", "scim_normalizations_total", "scim_credentials_rejected_total"))
	n, err := testutil.GatherAndCount(reg, "scim_request_duration_seconds")
	require.NoError(t, err)
	assert.Equal(t, 4, n, "one histogram per tenant, resource and operation")
}

func TestMetricsWithoutTenantLabel(t *testing.T) {
	reg := traffic(t, scimprom.WithoutTenantLabel(), scimprom.WithNamespace("acmeapp"))
	want := `
# HELP acmeapp_requests_total SCIM requests served, by tenant, resource type, operation, HTTP status and RFC 7644 scimType.
# TYPE acmeapp_requests_total counter
acmeapp_requests_total{operation="create",resource="User",scim_type="",status="201"} 1
acmeapp_requests_total{operation="create",resource="User",scim_type="uniqueness",status="409"} 1
acmeapp_requests_total{operation="list",resource="User",scim_type="",status="200"} 2
acmeapp_requests_total{operation="list",resource="User",scim_type="",status="401"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "acmeapp_requests_total"))
	n, err := testutil.GatherAndCount(reg, "acmeapp_request_duration_seconds")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func TestLimitHit(t *testing.T) {
	m, err := scimprom.New()
	require.NoError(t, err)
	m.Request(context.Background(), scimkit.RequestInfo{Tenant: "acme", Resource: "User", Operation: "patch", Status: 429, Limit: "rate"})
	require.NoError(t, testutil.CollectAndCompare(m, strings.NewReader(`
# HELP scim_limits_hit_total Requests a limit refused or shrank, by tenant and limit.
# TYPE scim_limits_hit_total counter
scim_limits_hit_total{limit="rate",tenant="acme"} 1
`), "scim_limits_hit_total"))
}

func TestOptions(t *testing.T) {
	for name, opt := range map[string]scimprom.Option{
		"bad namespace":        scimprom.WithNamespace("9x"),
		"no buckets":           scimprom.WithBuckets(nil),
		"decreasing buckets":   scimprom.WithBuckets([]float64{1, 0.5}),
		"bad const label name": scimprom.WithConstLabels(map[string]string{"a-b": "x"}),
		"nil option":           nil,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := scimprom.New(opt)
			require.Error(t, err)
		})
	}
}

// Example mounts a SCIM server with Prometheus metrics and a /metrics
// endpoint.
func Example() {
	ctx := context.Background()
	metrics, err := scimprom.New()
	if err != nil {
		log.Fatal(err)
	}
	reg := prom.NewRegistry()
	reg.MustRegister(metrics)
	store := memory.New()
	srv, err := scimkit.New(store, store, scimkit.WithObserver(metrics))
	if err != nil {
		log.Fatal(err)
	}
	token, _, err := scimkit.GenerateToken(ctx, store, "acme")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	send(mux, http.MethodGet, "/scim/v2/Users", token, "")
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(line, "scim_requests_total") {
			os.Stdout.WriteString(line + "\n")
		}
	}
	// Output:
	// scim_requests_total{operation="list",resource="User",scim_type="",status="200",tenant="acme"} 1
}
