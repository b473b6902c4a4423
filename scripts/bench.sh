#!/usr/bin/env bash
# Runs every benchmark of every path, with allocations: the whole server
# on the memory store (root module: each IdP path, one tenant against
# 10,000, lookup and group growth), the memory store alone, and the SQL
# modules (store benchmarks and the whole server on SQLite; PostgreSQL
# when SCIMKIT_POSTGRES_DSN is set, else it skips).
#
#   scripts/bench.sh                       # everything, once
#   COUNT=6 scripts/bench.sh > new.txt     # for benchstat old.txt new.txt
#   BENCH='Paths' scripts/bench.sh         # a subset (a -bench regexp)
#
# Output is go test's benchmark format on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-1}
BENCH=${BENCH:-.}
TIME=${BENCHTIME:-1s}
run() { # dir packages...
  local dir=$1; shift
  (cd "$dir" && go test -run '^$' -bench "$BENCH" -benchmem -count "$COUNT" -benchtime "$TIME" -timeout 60m "$@")
}
run . . ./storage/memory ./internal/schema
run storage/sqlite .
if [ -n "${SCIMKIT_POSTGRES_DSN:-}" ]; then
  run storage/postgres .
else
  echo "bench.sh: SCIMKIT_POSTGRES_DSN unset: PostgreSQL benchmarks skipped" >&2
fi
