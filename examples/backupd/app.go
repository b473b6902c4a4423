package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scimkit/scimkit"
	scimprom "github.com/scimkit/scimkit/metrics/prometheus"
	"github.com/scimkit/scimkit/provisioning"
	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/memory"
	"github.com/scimkit/scimkit/storage/postgres"
	"github.com/scimkit/scimkit/storage/sqlite"
)

// The paths SCIM is served under.
const (
	// scimBase serves every tenant at one Tenant URL; the bearer token
	// names the tenant.
	scimBase = "/scim/v2"
	// tenantPattern serves each tenant at its own URL; the token must be
	// that tenant's.
	tenantPattern = "/t/{tenant}/scim/v2/"
	// devTenant is the tenant -dev-token provisions.
	devTenant = "default"
)

// config is what backupd is configured with; parseFlags fills it from the
// command line.
type config struct {
	addr       string
	baseURL    string // public origin, e.g. https://backup.example.com
	store      string // storage spec, see openStore
	devToken   string
	adminToken string
	// adminPassword, when set, becomes the dashboard password (its hash
	// is stored); else the first start makes one.
	adminPassword string
	// passwordCost is the bcrypt cost of the dashboard password's hash
	// (0: bcrypt.DefaultCost); tests lower it.
	passwordCost   int
	userExtensions []scimkit.Extension
	logLevel       slog.Level
	// rateLimit is each tenant's SCIM request rate per second (0: no
	// limit; the crash test bursts far beyond an IdP's rate).
	rateLimit float64
	// concurrency bounds each tenant's SCIM requests in progress (0: no
	// limit).
	concurrency int
	// workLimit is each tenant's request time per second for expensive
	// requests, with bursts of four times that (0: no limit).
	workLimit time.Duration
	// now is the clock (nil: time.Now); tests pin it to step through
	// token expiry.
	now func() time.Time
}

// minAdminTokenBytes is the shortest -admin-token accepted: the admin
// token guards every tenant's credentials.
const minAdminTokenBytes = 16

// devTokenLabel labels the credential -dev-token makes; the admin API
// refuses it for other tokens, so backupd can find (and forget) the dev
// token on every start.
const devTokenLabel = "-dev-token"

// backend is what backupd needs from storage: the SCIM resources and the
// tenants' token hashes.
type backend interface {
	scimkit.ResourceHandler
	scimkit.TokenStore
	storage.Outbox
}

// stores is what openStore opened: the SCIM store, the product's own state
// (in the same database) and what closes both.
type stores struct {
	backend backend
	state   productState
	close   func() error
}

// The -store default: SQLite in a file in the working directory.
const defaultStore = "sqlite:./backupd.db"

// openStore opens the storage named by spec:
//
//	sqlite:PATH      SQLite file at PATH, created when missing (the default, sqlite:./backupd.db)
//	postgres:DSN     PostgreSQL; DSN is a URL (postgres://user:pass@host:5432/db?sslmode=require)
//	                 or keyword/value string ("host=db user=backupd dbname=backupd"); pgxpool
//	                 settings such as pool_max_conns=20 go in it too
//	postgres://…     the same, the URL alone
//	memory           in memory: everything is lost on restart
//
// "" means memory too (a zero config, as tests build it). With SQLite and
// PostgreSQL the product state lives in the same database as the SCIM
// users and tokens, so a restart keeps all of it.
func openStore(ctx context.Context, spec string) (*stores, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	if strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://") {
		kind, arg = "postgres", spec
	}
	switch {
	case spec == "" || spec == "memory":
		return &stores{backend: memory.New(), state: newMemState(), close: func() error { return nil }}, nil
	case kind == "sqlite" && arg == "":
		return nil, errors.New("-store sqlite: needs a file path, e.g. sqlite:./backupd.db")
	case kind == "sqlite":
		return openSQLite(ctx, arg)
	case kind == "postgres" && arg == "":
		return nil, errors.New("-store postgres: needs a DSN, e.g. postgres:postgres://backupd@localhost:5432/backupd")
	case kind == "postgres":
		return openPostgres(ctx, arg)
	}
	// Only the part before ':' is shown: the rest may hold a password.
	return nil, fmt.Errorf("unknown -store %q: use sqlite:PATH, postgres:DSN or memory", kind)
}

func openSQLite(ctx context.Context, path string) (*stores, error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	state, err := newSQLState(ctx, st.DB(), false, func(ctx context.Context, f func(execer) error) error {
		return st.Write(ctx, func(tx sqlite.Tx) error { return f(tx) })
	})
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return &stores{backend: st, state: state, close: st.Close}, nil
}

func openPostgres(ctx context.Context, dsn string) (*stores, error) {
	// The pool connects lazily: a bad DSN fails here, an unreachable
	// server in postgres.New. Errors never echo the DSN (it may hold a
	// password).
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	st, err := postgres.New(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	state, err := newSQLState(ctx, st.DB(), true, nil)
	if err != nil {
		_ = st.Close()
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &stores{backend: st, state: state, close: func() error {
		err := st.Close()
		pool.Close()
		return err
	}}, nil
}

// app is the whole product: SCIM mounted twice beside the admin API and the
// product's own routes. It is an http.Handler, so tests drive it through
// httptest without a real port.
type app struct {
	cfg  config
	log  *slog.Logger
	scim *scimkit.Server
	// profileMap maps a provisioned user into its account's profile.
	profileMap *scimkit.Mapping[accountProfile]
	tokens     scimkit.TokenStore
	// resources is the SCIM store: the dashboard lists groups from it.
	resources scimkit.ResourceHandler
	product   *product
	// events delivers scimkit's outbox to product.handle; run starts it.
	events  *provisioning.Dispatcher
	handler http.Handler
	close   func() error

	// adminToken guards /admin/; adminTokenGenerated says it was made at
	// start (and must be printed) rather than given with -admin-token.
	adminToken          string
	adminTokenGenerated bool
	// adminPassword is the dashboard password this start made, printed
	// once in the banner ("" when it was given or made before).
	adminPassword string

	metrics  *scimprom.Metrics    // SCIM request metrics, served on /metrics
	registry *prometheus.Registry // what /metrics serves

	// adminMu serialises the admin state changes (enable, disable, token)
	// so that "a token exists only while SCIM is enabled" holds.
	adminMu sync.Mutex
}

// auditRetention is how long the SCIM audit log is kept.
const auditRetention = 90 * 24 * time.Hour

// newApp builds the product from cfg. The caller must call Close.
func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	if cfg.adminToken != "" && len(cfg.adminToken) < minAdminTokenBytes {
		return nil, fmt.Errorf("-admin-token (or $BACKUPD_ADMIN_TOKEN) has %d bytes, fewer than %d: use a long random secret (e.g. openssl rand -base64 32), or leave it unset for a random one",
			len(cfg.adminToken), minAdminTokenBytes)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	st, err := openStore(ctx, cfg.store)
	if err != nil {
		return nil, err
	}
	store, closeStore := st.backend, st.close
	a := &app{
		cfg:        cfg,
		log:        log,
		tokens:     store,
		resources:  store,
		product:    newProduct(log, st.state),
		close:      closeStore,
		adminToken: cfg.adminToken,
	}
	if a.metrics, err = scimprom.New(); err != nil {
		_ = closeStore()
		return nil, err
	}
	a.registry = prometheus.NewRegistry()
	a.registry.MustRegister(a.metrics, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := []scimkit.Option{
		scimkit.WithLogger(log),
		scimkit.WithOutbox(),
		scimkit.WithObserver(a.metrics),
		scimkit.WithClock(cfg.now),
		scimkit.WithRateLimit(cfg.rateLimit, burst(cfg.rateLimit)),
		scimkit.WithConcurrencyLimit(cfg.concurrency),
		scimkit.WithWorkLimit(cfg.workLimit, 4*cfg.workLimit),
		scimkit.WithAuditRetention(auditRetention),
	}
	if cfg.baseURL != "" {
		opts = append(opts, scimkit.WithBaseURL(cfg.baseURL))
	}
	for _, e := range cfg.userExtensions {
		opts = append(opts, scimkit.WithUserExtension(e))
	}
	opts = append(opts, presetOptions(cfg.userExtensions)...)
	if a.profileMap, err = scimkit.NewMapping[accountProfile](); err != nil {
		_ = closeStore()
		return nil, err
	}
	if a.scim, err = scimkit.New(store, store, opts...); err != nil {
		_ = closeStore()
		return nil, err
	}
	if a.events, err = provisioning.NewDispatcher(store, a.product.handle,
		provisioning.WithDispatcherLogger(log), provisioning.WithPollInterval(250*time.Millisecond),
		provisioning.WithLease(eventLease), provisioning.WithBackoff(time.Second, time.Minute),
		provisioning.WithDispatcherClock(cfg.now)); err != nil {
		_ = closeStore()
		return nil, err
	}
	if a.adminToken == "" {
		a.adminToken = randomSecret("adm_")
		a.adminTokenGenerated = true
	}
	// Without -dev-token, a dev token an earlier start set is forgotten.
	if err := syncDevToken(ctx, store, cfg.devToken, cfg.now); err != nil {
		_ = closeStore()
		return nil, fmt.Errorf("-dev-token: %w", err)
	}
	if cfg.devToken != "" {
		if err := a.product.setSCIMEnabled(ctx, devTenant, true); err != nil {
			_ = closeStore()
			return nil, fmt.Errorf("-dev-token: %w", err)
		}
		log.Warn("-dev-token set: tenant \"default\" accepts a fixed token; for local testing only")
	}

	if a.adminPassword, err = initAdminPassword(ctx, st.state, cfg.adminPassword, cfg.passwordCost); err != nil {
		_ = closeStore()
		return nil, err
	}
	dash, err := newDashboard(a)
	if err != nil {
		_ = closeStore()
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle(scimBase+"/", http.StripPrefix(scimBase, a.scim))
	mux.Handle(tenantPattern, a.scim.TenantHandler("tenant"))
	mux.Handle("/admin/tenants/", a.adminRoutes())
	mux.Handle("/admin/", dash)
	// Metrics name tenants: behind the admin token, which a Prometheus
	// scrape sends as its bearer token (authorization in scrape_config).
	mux.Handle("GET /metrics", a.requireAdmin(promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{
			"product":      "backupd",
			"tenantURL":    a.origin(r) + scimBase,
			"perTenantURL": a.origin(r) + "/t/{tenant}" + scimBase,
		})
	})
	a.handler = a.accessLog(mux)
	return a, nil
}

// eventLease is how long the dispatcher holds the events it claimed: a
// process killed mid-delivery delays its events by at most this much (the
// next process, or another instance, delivers them after it). Account
// writes take milliseconds, so it is short.
const eventLease = 5 * time.Second

// deliverEvents runs the outbox dispatcher until ctx ends: every change
// scimkit stored reaches product.handle at least once, also the changes a
// previous process stored and died before delivering. It also forgets,
// hourly, the ids of events handled over a week ago.
func (a *app) deliverEvents(ctx context.Context) {
	if p, ok := a.product.productState.(interface {
		pruneEvents(context.Context, time.Time) error
	}); ok {
		go func() {
			t := time.NewTicker(time.Hour)
			defer t.Stop()
			for {
				if err := p.pruneEvents(ctx, a.cfg.now().Add(-7*24*time.Hour)); err != nil && ctx.Err() == nil {
					a.log.Error("pruning handled event ids", "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	_ = a.events.Run(ctx)
}

// drainEvents delivers every due event now, for tests: it returns when a
// claim finds none.
func (a *app) drainEvents(ctx context.Context) error {
	for {
		n, err := a.events.Deliver(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// syncDevToken makes token the only credential of tenant "default"
// labelled -dev-token, or, with token "", revokes every such credential:
// a dev token does not outlive the flag. Instances starting at once on
// one PostgreSQL database with the same flag all end with the one token
// (scimkit.SetToken tolerates the race).
func syncDevToken(ctx context.Context, tokens scimkit.TokenStore, token string, now func() time.Time) error {
	keep := ""
	if token != "" {
		if err := scimkit.SetToken(ctx, tokens, devTenant, token, scimkit.WithTokenLabel(devTokenLabel), scimkit.WithTokenClock(now)); err != nil {
			return err
		}
		c, err := tokens.CredentialByHash(ctx, scimkit.HashToken(token))
		if err != nil {
			return err
		}
		keep = c.ID
	}
	cs, err := scimkit.ListTokens(ctx, tokens, devTenant)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Label == devTokenLabel && c.ID != keep {
			if err := scimkit.RevokeToken(ctx, tokens, devTenant, c.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Close records the credential uses not written yet and releases the
// store.
func (a *app) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.scim.Flush(ctx); err != nil {
		a.log.Warn("recording last token uses", "err", err)
	}
	return a.close()
}

// origin returns the public origin for URLs shown to admins: -base-url, or
// the one the request came in on.
func (a *app) origin(r *http.Request) string {
	if a.cfg.baseURL != "" {
		return strings.TrimSuffix(a.cfg.baseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// randomSecret returns prefix plus 256 random bits.
func randomSecret(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// accessLog logs each request at debug level. It never logs headers (the
// Authorization header carries tokens) nor the query (filters carry user
// names).
func (a *app) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		a.log.DebugContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// burst is the rate limiter's burst for rate: twice the rate, at least
// one request (0 with no limit).
func burst(rate float64) int {
	if rate == 0 {
		return 0
	}
	return max(1, int(2*rate))
}
