package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/memory"
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
	addr           string
	baseURL        string // public origin, e.g. https://backup.example.com
	store          string // storage spec, see openStore
	devToken       string
	adminToken     string
	userExtensions []scimkit.Extension
	logLevel       slog.Level
}

// backend is what backupd needs from storage: the SCIM resources and the
// tenants' token hashes.
type backend interface {
	scimkit.ResourceHandler
	scimkit.TokenStore
}

// openStore opens the storage named by spec. Only "memory" exists so far.
// A SQL backend slots in here: parse "sqlite:/var/lib/backupd.db" or
// "postgres://…", open the *sql.DB (the host picks the driver), hand it to
// the backend's New, and return db.Close as the closer.
func openStore(_ context.Context, spec string) (backend, func() error, error) {
	switch spec {
	case "", "memory":
		return memory.New(), func() error { return nil }, nil
	}
	return nil, nil, fmt.Errorf("unknown store %q (supported: memory)", spec)
}

// app is the whole product: SCIM mounted twice beside the admin API and the
// product's own routes. It is an http.Handler, so tests drive it through
// httptest without a real port.
type app struct {
	cfg     config
	log     *slog.Logger
	scim    *scimkit.Server
	tokens  scimkit.TokenStore
	product *product
	handler http.Handler
	close   func() error

	// adminToken guards /admin/; adminTokenGenerated says it was made at
	// start (and must be printed) rather than given with -admin-token.
	adminToken          string
	adminTokenGenerated bool

	// adminMu serialises the admin state changes (enable, disable, token)
	// so that "a token exists only while SCIM is enabled" holds.
	adminMu sync.Mutex
}

// newApp builds the product from cfg. The caller must call Close.
func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	store, closeStore, err := openStore(ctx, cfg.store)
	if err != nil {
		return nil, err
	}
	a := &app{
		cfg:        cfg,
		log:        log,
		tokens:     store,
		product:    newProduct(log),
		close:      closeStore,
		adminToken: cfg.adminToken,
	}
	opts := []scimkit.Option{
		scimkit.WithLogger(log),
		scimkit.WithHook(a.product.hook),
	}
	if cfg.baseURL != "" {
		opts = append(opts, scimkit.WithBaseURL(cfg.baseURL))
	}
	for _, e := range cfg.userExtensions {
		opts = append(opts, scimkit.WithUserExtension(e))
	}
	if a.scim, err = scimkit.New(store, store, opts...); err != nil {
		_ = closeStore()
		return nil, err
	}
	if a.adminToken == "" {
		a.adminToken = randomSecret("adm_")
		a.adminTokenGenerated = true
	}
	if cfg.devToken != "" {
		if err := scimkit.SetToken(ctx, store, devTenant, cfg.devToken); err != nil {
			_ = closeStore()
			return nil, fmt.Errorf("-dev-token: %w", err)
		}
		a.product.setSCIMEnabled(devTenant, true)
		log.Warn("-dev-token set: tenant \"default\" accepts a fixed token; for local testing only")
	}

	mux := http.NewServeMux()
	mux.Handle(scimBase+"/", http.StripPrefix(scimBase, a.scim))
	mux.Handle(tenantPattern, a.scim.TenantHandler("tenant"))
	mux.Handle("/admin/", a.adminRoutes())
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

// ServeHTTP implements http.Handler.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Close releases the store.
func (a *app) Close() error { return a.close() }

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
