#!/usr/bin/env bash
# Release check: proves that a stranger can consume a release of scimkit.
#
# It publishes the working tree's released modules (the root module,
# storage/sqlite, storage/postgres and metrics/prometheus) at a test version into a file-based
# module proxy (scripts/releasecheck: zipped as the go command publishes a
# module, the inter-module requirements set to the test version, as the
# release procedure in the README does), then, in scratch modules outside
# the repository with GOWORK=off and that proxy in front of the usual one:
#
#   1. with the Go toolchain that the root and postgres go.mod files state
#      as their minimum, "go get"s both and builds a host using them;
#   2. with the minimum of storage/sqlite, "go get"s all three modules,
#      builds a ten-line host that mounts scimkit on SQLite, and runs it for
#      one SCIM request;
#   3. with the minimum of metrics/prometheus, "go get"s it with the root
#      module, builds a host that serves SCIM with Prometheus metrics, and
#      runs it for one SCIM request and one scrape.
#
# It fails when a released module has a replace directive, requires a
# version that is not published, or needs a newer Go than its go line
# states (GOTOOLCHAIN=local pins each step to that toolchain, which the go
# command downloads once into the module cache).
#
# SCIMKIT_RELEASE_VERSION overrides the test version (default
# v0.1.0-releasecheck).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
version=${SCIMKIT_RELEASE_VERSION:-v0.1.0-releasecheck}
work=$(mktemp -d)
cleanup() { chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

modcache=$(go env GOMODCACHE)
upstream=$(go env GOPROXY)

echo "release-check: publishing $version into a file proxy" >&2
(cd "$repo/scripts/releasecheck" && GOWORK=off GOFLAGS=-mod=mod go run . -repo "$repo" -version "$version" \
  -out "$work/proxy" storage/sqlite storage/postgres metrics/prometheus)

# gobin prints the go command of the newest toolchain that the go lines of
# the given go.mod files name (downloading it into the module cache the
# first time).
gobin() {
  local v
  v=$(for f in "$@"; do awk '$1 == "go" { v = $2; if (v !~ /\..*\./) v = v ".0"; print v; exit }' "$f"; done | sort -V | tail -1)
  echo "$(cd "$work" && GOTOOLCHAIN=go$v GOWORK=off go env GOROOT)/bin/go"
}

# scratch runs a go command in a scratch module as a stranger would: no
# workspace, only published versions (ours from the file proxy, the rest
# from the module cache's download directory or the usual proxy), the
# scimkit test versions unknown to the checksum database, and a module
# cache of its own, so nothing of a previous run is reused.
scratch() {
  if ! GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=mod \
    GOPROXY="file://$work/proxy,file://$modcache/cache/download,$upstream" \
    GONOSUMDB=github.com/scimkit GOMODCACHE="$work/modcache" "$@" >"$work/log" 2>&1; then
    cat "$work/log" >&2
    echo "release-check: failed: go ${*:2}" >&2
    return 1
  fi
}

go_pg=$(gobin "$repo/go.mod" "$repo/storage/postgres/go.mod")
go_sqlite=$(gobin "$repo/go.mod" "$repo/storage/sqlite/go.mod")
go_prom=$(gobin "$repo/go.mod" "$repo/metrics/prometheus/go.mod")

# 1. The root module and postgres on their stated minimum.
echo "release-check: root and storage/postgres with $("$go_pg" version | cut -d' ' -f3)" >&2
mkdir -p "$work/pghost"
cd "$work/pghost"
scratch "$go_pg" mod init example.com/pghost >/dev/null 2>&1
cat >main.go <<'GO'
package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/postgres"
)

func main() {
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	store, err := postgres.New(context.Background(), pool)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := scimkit.New(store, store)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(":8080", http.StripPrefix("/scim/v2", srv)))
}
GO
scratch "$go_pg" get "github.com/scimkit/scimkit@$version" "github.com/scimkit/scimkit/storage/postgres@$version"
scratch "$go_pg" build -trimpath -o /dev/null .

# 2. SQLite, on its stated minimum: one real request.
echo "release-check: root, storage/sqlite and storage/postgres with $("$go_sqlite" version | cut -d' ' -f3)" >&2
mkdir -p "$work/host"
cd "$work/host"
scratch "$go_sqlite" mod init example.com/host >/dev/null 2>&1
cat >main.go <<'GO'
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/scimkit/scimkit"
	"github.com/scimkit/scimkit/storage/sqlite"
)

func main() {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	srv, err := scimkit.New(store, store)
	if err != nil {
		log.Fatal(err)
	}
	token, _, err := scimkit.GenerateToken(ctx, store, "acme")
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(http.StripPrefix("/scim/v2", srv))
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/scim/v2/Users", strings.NewReader(
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"adele.vance@contoso.com"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, strings.TrimPrefix(resp.Header.Get("Location"), ts.URL))
	if resp.StatusCode != http.StatusCreated {
		os.Exit(1)
	}
}
GO
scratch "$go_sqlite" get "github.com/scimkit/scimkit@$version" \
  "github.com/scimkit/scimkit/storage/sqlite@$version" "github.com/scimkit/scimkit/storage/postgres@$version"
scratch "$go_sqlite" build -trimpath -o host .
out=$(./host "$work/scim.db")
echo "release-check: POST /scim/v2/Users on SQLite: $out" >&2
case $out in
  "201 /scim/v2/Users/"*) ;;
  *) echo "release-check: expected 201 with a Location under /scim/v2/Users/" >&2; exit 1 ;;
esac

# 3. Prometheus metrics, on their stated minimum: one request, one scrape.
echo "release-check: root and metrics/prometheus with $("$go_prom" version | cut -d' ' -f3)" >&2
mkdir -p "$work/promhost"
cd "$work/promhost"
scratch "$go_prom" mod init example.com/promhost >/dev/null 2>&1
cat >main.go <<'GO'
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/scimkit/scimkit"
	scimprom "github.com/scimkit/scimkit/metrics/prometheus"
	"github.com/scimkit/scimkit/storage/memory"
)

func main() {
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
	req := httptest.NewRequest(http.MethodGet, "/Users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	srv.ServeHTTP(httptest.NewRecorder(), req)
	w := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(line, "scim_requests_total") {
			fmt.Println(line)
		}
	}
}
GO
scratch "$go_prom" get "github.com/scimkit/scimkit@$version" "github.com/scimkit/scimkit/metrics/prometheus@$version"
scratch "$go_prom" build -trimpath -o promhost .
out=$(./promhost)
echo "release-check: scrape after GET /Users: $out" >&2
case $out in
  'scim_requests_total{operation="list",resource="User",scim_type="",status="200",tenant="acme"} 1') ;;
  *) echo "release-check: expected one scim_requests_total line for the GET" >&2; exit 1 ;;
esac
echo "release-check: ok" >&2
