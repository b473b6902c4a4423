#!/usr/bin/env bash
# Runs every check of the project: go vet and the race-enabled tests of
# every module listed in go.work (the library, its examples and, when
# present, the SQL storage modules).
#
# The PostgreSQL backend tests need a real server, named by
# SCIMKIT_POSTGRES_DSN. When it is unset, this script starts a throwaway
# cluster with scripts/pg-throwaway.sh (server binaries from the Debian
# package postgresql; with SCIMKIT_INSTALL_POSTGRES=1 the package is
# installed when missing) and stops it on exit. SCIMKIT_SKIP_POSTGRES=1
# turns that off; without a server the PostgreSQL tests skip.
set -euo pipefail
cd "$(dirname "$0")"

pg_data=
stop_pg() {
  if [ -n "$pg_data" ]; then
    bash scripts/pg-throwaway.sh stop "$pg_data" || true
    pg_data=
  fi
}
trap stop_pg EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${SCIMKIT_POSTGRES_DSN:-}" ]; then
  echo "test.sh: PostgreSQL tests use SCIMKIT_POSTGRES_DSN from the environment" >&2
elif [ "${SCIMKIT_SKIP_POSTGRES:-}" = 1 ]; then
  echo "test.sh: SCIMKIT_SKIP_POSTGRES=1: PostgreSQL tests will be skipped" >&2
elif [ "${SCIMKIT_INSTALL_POSTGRES:-}" = 1 ] || bash scripts/pg-throwaway.sh available; then
  pg_env=$(SCIMKIT_PG_DATA= bash scripts/pg-throwaway.sh start)
  eval "$pg_env"
  pg_data=$SCIMKIT_PG_DATA
  export SCIMKIT_POSTGRES_DSN
else
  echo "test.sh: no PostgreSQL server found: PostgreSQL tests will be skipped (to run them set SCIMKIT_POSTGRES_DSN, install the Debian package postgresql, or run with SCIMKIT_INSTALL_POSTGRES=1)" >&2
fi

if [ "${SCIMKIT_TEST_DRY_RUN:-}" = 1 ]; then
  # For checking the PostgreSQL set-up alone: print what the tests would get.
  echo "test.sh: dry run: SCIMKIT_POSTGRES_DSN=${SCIMKIT_POSTGRES_DSN:-}" >&2
  exit 0
fi

pkgs=()
for dir in $(go list -m -f '{{.Dir}}'); do pkgs+=("$dir/..."); done
go vet "${pkgs[@]}"
go test -race -count=1 -timeout 30m "${pkgs[@]}"
