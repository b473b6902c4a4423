// Command backupd is a small cloud-backup product that provisions its
// backup accounts from Microsoft Entra ID or Okta over SCIM 2.0. It mounts
// scimkit on its own http.ServeMux beside its own routes:
//
//	/scim/v2/...              SCIM, one Tenant URL for all tenants (the token names the tenant)
//	/t/{tenant}/scim/v2/...   SCIM, one URL per tenant (the token must be that tenant's)
//	/admin/                   the admin dashboard (HTML): Settings → SCIM User Management
//	/admin/tenants/...        the JSON admin API behind it
//	/healthz                  liveness
//
// Each user the identity provider provisions gets a backup account with the
// tenant's account size; deactivating the user suspends the account (its
// data is kept), deleting the user removes it.
//
// Everything (tenants and their settings, token hashes, users, groups and
// backup accounts) is kept in one database: by default SQLite in the file
// backupd.db in the working directory, so a restart keeps it all. Several
// backupd processes behind a load balancer share a PostgreSQL database.
//
// # Run it
//
//	cd examples && go run ./backupd -dev-token dev-token-123
//
// Flags:
//
//	-addr 127.0.0.1:8080     listen address (port 0 picks a free port; the real address is printed)
//	-base-url https://...    public origin behind a proxy (used in meta.location and printed URLs)
//	-dev-token T             tenant "default" accepts token T: for local testing only; a start
//	                         without it revokes the dev token an earlier start set
//	-admin-password P        dashboard password of at least 12 bytes (or $BACKUPD_ADMIN_PASSWORD);
//	                         else the first start on a database makes one and prints it once
//	-admin-token S           admin API secret of at least 16 bytes (or $BACKUPD_ADMIN_TOKEN); random
//	                         and printed if unset
//	-user-extension 'URN:a,b'  custom User extension schema, repeatable
//	-store sqlite:./backupd.db  storage: sqlite:PATH (the default), postgres:DSN, or memory (lost on restart)
//	-log-level info          debug logs every request
//
// On start backupd prints its Tenant URLs, the admin dashboard's URL (and,
// on the first start with a database, the dashboard password it made: only
// its hash is stored), the admin token when it made one, and the dev
// token. The admin token is not stored: without -admin-token or
// $BACKUPD_ADMIN_TOKEN each start makes a new one.
//
// # Admin dashboard
//
// http://127.0.0.1:8080/admin/ is the product's "Settings → SCIM User
// Management" page (dashboard.go): sign in with the dashboard password,
// create a tenant, enable SCIM, set the account size, generate an API token
// (shown once), and watch the provisioned users, groups, health and audit
// log. Sign-in, sessions and CSRF protection are described in dashauth.go.
//
// # Storage
//
//	-store sqlite:./backupd.db   SQLite file, created when missing (the default)
//	-store postgres:DSN          PostgreSQL: DSN is a URL or keyword/value string, e.g.
//	                             postgres:postgres://backupd:secret@db:5432/backupd?sslmode=require
//	                             postgres:host=db user=backupd dbname=backupd pool_max_conns=20
//	                             (a bare postgres://… URL works too)
//	-store memory                in memory: everything is lost on restart
//
// scimkit creates its tables (scimkit_*) and backupd its own (backupd_*) on
// start; with PostgreSQL they go in the first schema of the search_path.
//
// # Try it
//
// With the dev token, as Entra's "Test Connection" and first sync would:
//
//	T=dev-token-123 B=http://127.0.0.1:8080/scim/v2
//	curl -H "Authorization: Bearer $T" "$B/ServiceProviderConfig"
//	curl -G -H "Authorization: Bearer $T" "$B/Users" --data-urlencode 'filter=userName eq "f1c6e1b8-2b4e-4c4e-9a55-0a4a8a0c6f11"'
//	curl -H "Authorization: Bearer $T" -H 'Content-Type: application/scim+json' "$B/Users" \
//	  -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","externalId":"alice","active":true}'
//	curl -X PATCH -H "Authorization: Bearer $T" -H 'Content-Type: application/scim+json' "$B/Users/<id>" \
//	  -d '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}'
//	curl -H "Authorization: Bearer $T" -H 'Content-Type: application/scim+json' "$B/Groups" \
//	  -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Backup Admins"}'
//
// Then the admin's view (A is the admin token printed on start):
//
//	curl -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/default/accounts
//
// The dashboard flow for a new customer tenant "acme":
//
//	curl -X POST -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim/enable
//	curl -X PUT  -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim/settings -d '{"accountSizeGB":50}'
//	curl -X POST -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim/token
//	curl         -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim
//	curl -X POST -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim/disable
//
// Its provisioning policy (seat limit, what deactivation and deletion do,
// protected users), audit log and offboarding:
//
//	curl -X PUT    -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim/settings -d '{"seatLimit":25,"deactivation":"preserve","retentionDays":30}'
//	curl           -H "Authorization: Bearer $A" 'http://127.0.0.1:8080/admin/tenants/acme/audit?since=2025-01-01T00:00:00Z'
//	curl -X DELETE -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme
//
// Several tokens per tenant (one per IdP job), each shown once, valid 365
// days unless expiresInDays says otherwise, revoked or rotated on its own:
//
//	curl -X POST   -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim/tokens -d '{"label":"Entra","expiresInDays":365}'
//	curl           -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim/tokens
//	curl -X POST   -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim/tokens/ID/rotate -d '{"overlapHours":24}'
//	curl -X DELETE -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim/tokens/ID
//
// Provisioning health of a tenant (last success, failures in the last
// hour, a warning when Entra would quarantine the job), and Prometheus
// metrics (scrape with the admin token as bearer token):
//
//	curl -H "Authorization: Bearer $A" http://127.0.0.1:8080/admin/tenants/acme/scim/health
//	curl -H "Authorization: Bearer $A" http://127.0.0.1:8080/metrics
//
// Paste the Tenant URL and the token into Entra ("Provisioning → Admin
// Credentials") or Okta ("SCIM connector base URL", "HTTP Header" auth).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/scimkit/scimkit"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "backupd:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into a config.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("backupd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen `address` (port 0 picks a free port)")
	fs.StringVar(&cfg.baseURL, "base-url", "", "public `origin` (e.g. https://backup.example.com) when behind a proxy")
	fs.StringVar(&cfg.store, "store", defaultStore, "storage `spec`: sqlite:PATH, postgres:DSN (a postgres:// URL or \"host=… dbname=…\"), or memory (lost on restart)")
	fs.StringVar(&cfg.devToken, "dev-token", "", "create tenant \"default\" with this fixed SCIM `token` (local testing only)")
	fs.StringVar(&cfg.adminToken, "admin-token", os.Getenv("BACKUPD_ADMIN_TOKEN"), "admin API `secret` (default $BACKUPD_ADMIN_TOKEN, else random and printed)")
	fs.StringVar(&cfg.adminPassword, "admin-password", os.Getenv("BACKUPD_ADMIN_PASSWORD"), "dashboard `password`, at least 12 bytes (default $BACKUPD_ADMIN_PASSWORD; else the first start makes one and prints it once)")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
	fs.Float64Var(&cfg.rateLimit, "rate-limit", scimkit.DefaultRateLimit, "SCIM requests per `second` per tenant, with bursts of twice that (0: no limit)")
	fs.IntVar(&cfg.concurrency, "concurrency-limit", scimkit.DefaultConcurrencyLimit, "SCIM requests in progress at once per tenant (0: no limit)")
	fs.DurationVar(&cfg.workLimit, "work-limit", scimkit.DefaultWorkLimit, "request `time` per second per tenant for expensive SCIM requests (pages, scans, large bodies), with bursts of four times that (0: no limit)")
	fs.Func("user-extension", "register a custom User extension `URN:attr1,attr2` (repeatable)", func(s string) error {
		e, err := scimkit.ParseExtension(s)
		if err != nil {
			return err
		}
		cfg.userExtensions = append(cfg.userExtensions, e)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, nil
}

// run serves until ctx ends or SIGINT/SIGTERM arrives, then shuts down
// gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(); err != nil {
			log.Error("closing store", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	printBanner(stdout, a, ln.Addr())
	log.Info("listening", "addr", ln.Addr().String())

	dctx, stopEvents := context.WithCancel(context.Background())
	delivered := make(chan struct{})
	go func() { a.deliverEvents(dctx); close(delivered) }()
	defer func() { stopEvents(); <-delivered }()

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	purged := make(chan struct{})
	go func() { defer close(purged); a.runPurge(ctx, time.Hour) }()
	defer func() { stop(); <-purged }() // before the store closes
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills the process
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// printBanner tells a new user where everything is. The first line,
// "backupd listening on <origin>", is what scripts and tests read.
func printBanner(w io.Writer, a *app, addr net.Addr) {
	origin := "http://" + displayHost(addr)
	fmt.Fprintf(w, "backupd listening on %s\n", origin)
	if a.cfg.baseURL != "" {
		origin = a.cfg.baseURL
		fmt.Fprintf(w, "  public origin (-base-url):  %s\n", origin)
	}
	fmt.Fprintf(w, "  SCIM Tenant URL:            %s%s  (the token picks the tenant)\n", origin, scimBase)
	fmt.Fprintf(w, "  SCIM per-tenant URL:        %s/t/{tenant}%s\n", origin, scimBase)
	fmt.Fprintf(w, "  admin dashboard:            %s/admin/\n", origin)
	switch {
	case a.adminPassword != "":
		fmt.Fprintf(w, "  dashboard password:         %s  (shown this once: save it; -admin-password replaces it)\n", a.adminPassword)
		a.adminPassword = ""
	case a.cfg.adminPassword != "":
		fmt.Fprintf(w, "  dashboard password:         (from -admin-password / $BACKUPD_ADMIN_PASSWORD)\n")
	default:
		fmt.Fprintf(w, "  dashboard password:         (set on the first start; -admin-password replaces it)\n")
	}
	fmt.Fprintf(w, "  admin API:                  %s/admin/tenants/{tenant}/scim\n", origin)
	fmt.Fprintf(w, "  storage:                    %s\n", storeDisplay(a.cfg.store))
	if a.adminTokenGenerated {
		fmt.Fprintf(w, "  admin token (generated):    %s\n", a.adminToken)
	} else {
		fmt.Fprintf(w, "  admin token:                (from -admin-token / $BACKUPD_ADMIN_TOKEN)\n")
	}
	if a.cfg.devToken != "" {
		fmt.Fprintf(w, "\n"+
			"  ************************************************************************\n"+
			"  WARNING: -dev-token is for LOCAL TESTING ONLY. Tenant %q accepts a\n"+
			"  fixed, guessable token. Never use it in production: enable SCIM per\n"+
			"  tenant through the admin API and generate a token instead.\n"+
			"  ************************************************************************\n"+
			"  dev tenant:                 %s\n"+
			"  dev tenant URL:             %s%s  (or %s/t/%s%s)\n"+
			"  dev token:                  %s\n",
			devTenant, devTenant, origin, scimBase, origin, devTenant, scimBase, a.cfg.devToken)
	}
}

// storeDisplay describes a -store spec for the banner without the
// PostgreSQL DSN, which may hold a password.
func storeDisplay(spec string) string {
	switch kind, path, _ := strings.Cut(spec, ":"); {
	case spec == "" || spec == "memory":
		return "memory (lost on restart)"
	case kind == "sqlite":
		return "SQLite " + path
	}
	return "PostgreSQL"
}

// displayHost turns a listen address into one a browser can reach:
// an unspecified IP (0.0.0.0, ::) becomes localhost.
func displayHost(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
