// Package prometheus exports a scimkit [scimkit.Server]'s requests as
// Prometheus metrics through the official client
// (github.com/prometheus/client_golang). It is a module of its own, so a
// host that does not use Prometheus pulls none of its dependencies.
//
//	metrics := prometheus.New()
//	registry.MustRegister(metrics)
//	srv, err := scimkit.New(store, store, scimkit.WithObserver(metrics))
//
// # Metrics
//
// With the default namespace "scim":
//
//   - scim_requests_total{tenant,resource,operation,status,scim_type}:
//     requests served, by the HTTP status answered and the RFC 7644
//     §3.12 scimType of an error ("" for none).
//   - scim_request_duration_seconds{tenant,resource,operation}: a
//     histogram of the time to serve a request.
//   - scim_normalizations_total{tenant,kind}: requests the server changed
//     to accept them ([scimkit.NormalizationKind]), one per distinct
//     attribute of a request.
//   - scim_credentials_rejected_total{tenant}: requests refused with 401;
//     tenant is set only for an expired token of a known tenant, "" for
//     a missing or unknown token.
//   - scim_limits_hit_total{tenant,limit}: requests a limit refused or
//     shrank ([scimkit.RequestInfo.Limit]).
//
// resource is "User", "Group", "ServiceProviderConfig", "Schema",
// "ResourceType", "Bulk", "Me" or ""; operation is "list", "get",
// "create", "replace", "patch", "delete" or "other" (see
// [scimkit.RequestInfo]).
//
// # Cardinality
//
// Every label but tenant takes a few fixed values: about 150 series per
// tenant for the request counter and, with the default 11 buckets, about
// 14 request-duration series per tenant, resource and operation, some
// 300 in all per active tenant. A deployment with thousands of tenants
// therefore holds hundreds of thousands of series. Drop the tenant label
// with [WithoutTenantLabel] (the per-tenant view is then
// [scimkit.Server.Health], the request log, or a host's own metrics from a
// [scimkit.WithMiddleware] middleware), or keep it and let the scrape
// drop it with metric relabelling. Tenant ids are validated by scimkit
// (at most 128 bytes of letters, digits and "-_."), and a tenant appears
// only after one of its tokens authenticated a request, so an
// unauthenticated client cannot create series.
package prometheus

import (
	"context"
	"errors"
	"regexp"
	"strconv"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/scimkit/scimkit"
)

// Metrics observes a [scimkit.Server] ([scimkit.Observer]) and is a
// Prometheus collector (prometheus.Collector): register it with a
// registry and give it to [scimkit.WithObserver]. It is safe for
// concurrent use.
type Metrics struct {
	tenant    bool
	requests  *prom.CounterVec
	duration  *prom.HistogramVec
	norms     *prom.CounterVec
	rejected  *prom.CounterVec
	limitsHit *prom.CounterVec
}

var (
	_ scimkit.Observer = (*Metrics)(nil)
	_ prom.Collector   = (*Metrics)(nil)
)

// Option configures [New]. Options are created only by this package.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	namespace string
	noTenant  bool
	buckets   []float64
	constant  prom.Labels
}

// WithoutTenantLabel drops the tenant label from every metric, so the
// number of series no longer grows with the number of tenants (see
// Cardinality in the package doc).
func WithoutTenantLabel() Option {
	return optionFunc(func(c *config) error { c.noTenant = true; return nil })
}

// WithNamespace sets the metric name prefix (default "scim"): a valid
// Prometheus metric name component, [a-zA-Z_][a-zA-Z0-9_]*.
func WithNamespace(ns string) Option {
	return optionFunc(func(c *config) error {
		if !nameRE.MatchString(ns) {
			return errors.New("prometheus: namespace must match [a-zA-Z_][a-zA-Z0-9_]*")
		}
		c.namespace = ns
		return nil
	})
}

// WithBuckets sets the request-duration histogram's upper bounds, in
// seconds, increasing (default 5 ms to 10 s: prometheus.DefBuckets;
// Entra times requests out after 60 s).
func WithBuckets(b []float64) Option {
	return optionFunc(func(c *config) error {
		if len(b) == 0 {
			return errors.New("prometheus: no buckets")
		}
		for i := 1; i < len(b); i++ {
			if b[i] <= b[i-1] {
				return errors.New("prometheus: buckets must increase")
			}
		}
		c.buckets = append([]float64(nil), b...)
		return nil
	})
}

// WithConstLabels adds labels with fixed values to every metric (an
// instance or deployment name).
func WithConstLabels(l map[string]string) Option {
	return optionFunc(func(c *config) error {
		c.constant = prom.Labels{}
		for k, v := range l {
			if !nameRE.MatchString(k) {
				return errors.New("prometheus: invalid label name " + strconv.Quote(k))
			}
			c.constant[k] = v
		}
		return nil
	})
}

var nameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// New returns the metrics, unregistered. It returns an error for an
// invalid option.
func New(opts ...Option) (*Metrics, error) {
	cfg := config{namespace: "scim", buckets: prom.DefBuckets}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("prometheus: nil option")
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	labels := func(l ...string) []string {
		if cfg.noTenant {
			return l
		}
		return append([]string{"tenant"}, l...)
	}
	m := &Metrics{tenant: !cfg.noTenant}
	m.requests = prom.NewCounterVec(prom.CounterOpts{
		Namespace: cfg.namespace, Name: "requests_total", ConstLabels: cfg.constant,
		Help: "SCIM requests served, by tenant, resource type, operation, HTTP status and RFC 7644 scimType.",
	}, labels("resource", "operation", "status", "scim_type"))
	m.duration = prom.NewHistogramVec(prom.HistogramOpts{
		Namespace: cfg.namespace, Name: "request_duration_seconds", ConstLabels: cfg.constant, Buckets: cfg.buckets,
		Help: "Time to serve a SCIM request, by tenant, resource type and operation.",
	}, labels("resource", "operation"))
	m.norms = prom.NewCounterVec(prom.CounterOpts{
		Namespace: cfg.namespace, Name: "normalizations_total", ConstLabels: cfg.constant,
		Help: "Requests changed to accept them (dropped unknown attributes, cleared extra primaries), by tenant and kind.",
	}, labels("kind"))
	m.rejected = prom.NewCounterVec(prom.CounterOpts{
		Namespace: cfg.namespace, Name: "credentials_rejected_total", ConstLabels: cfg.constant,
		Help: "Requests refused with 401: missing, unknown, revoked or expired tokens (tenant set only for an expired token).",
	}, labels())
	m.limitsHit = prom.NewCounterVec(prom.CounterOpts{
		Namespace: cfg.namespace, Name: "limits_hit_total", ConstLabels: cfg.constant,
		Help: "Requests a limit refused or shrank, by tenant and limit.",
	}, labels("limit"))
	return m, nil
}

// Request records one request ([scimkit.Observer]).
func (m *Metrics) Request(_ context.Context, i scimkit.RequestInfo) {
	with := func(l ...string) []string {
		if m.tenant {
			return append([]string{i.Tenant}, l...)
		}
		return l
	}
	m.requests.WithLabelValues(with(i.Resource, i.Operation, strconv.Itoa(i.Status), i.ScimType)...).Inc()
	m.duration.WithLabelValues(with(i.Resource, i.Operation)...).Observe(i.Duration.Seconds())
	for _, k := range i.Normalizations {
		m.norms.WithLabelValues(with(string(k))...).Inc()
	}
	if i.Status == 401 {
		m.rejected.WithLabelValues(with()...).Inc()
	}
	if i.Limit != "" {
		m.limitsHit.WithLabelValues(with(i.Limit)...).Inc()
	}
}

// Describe sends the metrics' descriptors (prometheus.Collector).
func (m *Metrics) Describe(ch chan<- *prom.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect sends the metrics' current values (prometheus.Collector).
func (m *Metrics) Collect(ch chan<- prom.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

func (m *Metrics) collectors() []prom.Collector {
	return []prom.Collector{m.requests, m.duration, m.norms, m.rejected, m.limitsHit}
}
