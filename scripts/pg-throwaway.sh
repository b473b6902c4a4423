#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL cluster for the PostgreSQL
# backend tests.
#
#   eval "$(scripts/pg-throwaway.sh start)"   # exports SCIMKIT_POSTGRES_DSN
#                                             # and SCIMKIT_PG_DATA
#   scripts/pg-throwaway.sh stop [DIR]        # stops the cluster in DIR
#                                             # (default $SCIMKIT_PG_DATA)
#                                             # and removes DIR
#   scripts/pg-throwaway.sh available         # exit 0 when server binaries
#                                             # are installed
#   scripts/pg-throwaway.sh pause DIR         # stops the server in DIR and
#                                             # keeps its data (fault tests)
#   scripts/pg-throwaway.sh resume DIR        # starts it again on its port
#
# start prints only shell `export` lines on stdout; every log line goes to
# stderr. The cluster lives in a fresh temporary directory (data/,
# server.log and the unix socket), listens on 127.0.0.1 only, on the first
# free port from $SCIMKIT_PG_PORT (default 55432), trusts every local
# connection, has the superuser `scimkit` and the database `scimkit_test`,
# and runs with fsync, synchronous_commit and full_page_writes off: it is
# for tests only.
#
# With $SCIMKIT_PG_CPU set (a taskset CPU list, e.g. 1), start and resume
# run the server pinned to those CPUs (benchmarks that charge the database
# to the product's core).
#
# Server binaries are looked up in $PG_BIN_GLOB (default
# /usr/lib/postgresql/*/bin, newest version first). When none are found and
# SCIMKIT_INSTALL_POSTGRES=1, the Debian package `postgresql` is installed
# with apt-get (root only); otherwise start fails with a message.
#
# PostgreSQL refuses to run as root, so as root initdb and pg_ctl run as the
# `postgres` OS user (created when absent).
set -euo pipefail

PG_BIN_GLOB=${PG_BIN_GLOB:-/usr/lib/postgresql/*/bin}
MARKER=.scimkit-pg-throwaway
DB_USER=scimkit
DB_NAME=scimkit_test

log() { printf 'pg-throwaway: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# find_bindir prints the newest directory matching $PG_BIN_GLOB that holds
# the server binaries (initdb, pg_ctl, postgres). The psql client package
# alone also creates /usr/lib/postgresql/N/bin, so the directory existing
# is not enough.
find_bindir() {
  local d
  # shellcheck disable=SC2086 # the glob must expand
  for d in $(printf '%s\n' $PG_BIN_GLOB | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
      printf '%s\n' "$d"
      return 0
    fi
  done
  return 1
}

install_postgres() {
  [ "$(id -u)" -eq 0 ] || die "installing PostgreSQL needs root (apt-get)"
  command -v apt-get >/dev/null || die "apt-get not found: install a PostgreSQL server by hand"
  log "PostgreSQL server not found: installing the Debian package postgresql"
  local t0=$SECONDS
  apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=300 postgresql >&2 || die "apt-get install postgresql failed"
  log "installed postgresql in $((SECONDS - t0))s"
  # The package may have created and started a default cluster; it is not
  # used here, so stop it to save memory (best effort).
  if command -v pg_lsclusters >/dev/null && command -v pg_ctlcluster >/dev/null; then
    local ver name _
    while read -r ver name _; do
      pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
    done < <(pg_lsclusters -h 2>/dev/null || true)
  fi
}

ensure_postgres_user() {
  getent passwd postgres >/dev/null && return 0
  log "creating system user postgres"
  useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
    --shell /bin/sh postgres >&2 || die "could not create the postgres user"
}

# as_pg runs a command as the cluster owner: the postgres OS user when we
# are root, ourselves otherwise. It runs from / because initdb and pg_ctl
# fail when the current directory is unreadable for them.
as_pg() {
  if [ "$(id -u)" -ne 0 ]; then
    (cd / && "$@")
  elif command -v runuser >/dev/null; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && su -s /bin/sh postgres -c "$(printf '%q ' "$@")")
  fi
}

# port_busy succeeds when something accepts connections on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

emit_env() {  # dir port
  printf "export SCIMKIT_POSTGRES_DSN='postgres://%s@127.0.0.1:%s/%s?sslmode=disable';\n" \
    "$DB_USER" "$2" "$DB_NAME"
  printf "export SCIMKIT_PG_DATA='%s';\n" "$1"
}

# read_marker DIR sets bindir and port from DIR's marker file.
read_marker() {
  bindir= port=
  # shellcheck disable=SC1090
  . "$1/$MARKER"
}

cmd_start() {
  # Idempotent: a live cluster already named by SCIMKIT_PG_DATA is reused.
  local prev=${SCIMKIT_PG_DATA:-}
  if [ -n "$prev" ] && [ -f "$prev/$MARKER" ]; then
    read_marker "$prev"
    if as_pg "$bindir/pg_ctl" status -D "$prev/data" >/dev/null 2>&1; then
      log "reusing the running cluster in $prev (port $port)"
      emit_env "$prev" "$port"
      return 0
    fi
  fi

  local t0=$SECONDS
  if ! bindir=$(find_bindir); then
    if [ "${SCIMKIT_INSTALL_POSTGRES:-}" = 1 ]; then
      install_postgres
      bindir=$(find_bindir) || die "no PostgreSQL server binaries in $PG_BIN_GLOB even after installing postgresql"
    else
      die "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in $PG_BIN_GLOB; install the Debian package postgresql (apt-get install postgresql), or rerun with SCIMKIT_INSTALL_POSTGRES=1 to install it automatically (root, apt)"
    fi
  fi
  log "using $bindir"

  local root=0
  [ "$(id -u)" -eq 0 ] && root=1
  [ $root -eq 1 ] && ensure_postgres_user

  # The temporary directory must be writable by the cluster owner; as root
  # a $TMPDIR under /root is not, so fall back to /tmp.
  dir=$(mktemp -d "${TMPDIR:-/tmp}/scimkit-pg.XXXXXX")
  if [ $root -eq 1 ]; then
    chown postgres: "$dir"
    if ! as_pg test -w "$dir" 2>/dev/null; then
      rm -rf "$dir"
      dir=$(mktemp -d /tmp/scimkit-pg.XXXXXX)
      chown postgres: "$dir"
    fi
  fi
  chmod 700 "$dir"
  trap 'start_failed' EXIT
  printf 'bindir=%q\nport=\n' "$bindir" >"$dir/$MARKER"

  local locale=C
  if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then locale=C.UTF-8; fi

  log "initdb in $dir/data (locale $locale)"
  if ! as_pg "$bindir/initdb" -D "$dir/data" -U "$DB_USER" -A trust -E UTF8 \
      --locale="$locale" --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed"
  fi
  cat >>"$dir/data/postgresql.conf" <<EOF

# scimkit throwaway test cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF

  # Start on the first free port. Another start running at the same time
  # may grab a port between the check and the bind: then try the next one.
  port=${SCIMKIT_PG_PORT:-55432}
  local tries=0 started=0
  while [ $tries -lt 50 ]; do
    tries=$((tries + 1))
    if port_busy "$port"; then port=$((port + 1)); continue; fi
    : >"$dir/server.log"
    [ $root -eq 1 ] && chown postgres: "$dir/server.log"
    if as_pg ${SCIMKIT_PG_CPU:+taskset -c "$SCIMKIT_PG_CPU"} "$bindir/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/server.log" \
        -o "-p $port" >/dev/null 2>>"$dir/pg_ctl.log"; then
      started=1
      break
    fi
    if grep -qE 'could not bind|Address already in use|could not create any TCP/IP sockets' "$dir/server.log"; then
      log "port $port taken, trying the next one"
      port=$((port + 1))
      continue
    fi
    die "pg_ctl start failed"
  done
  [ $started -eq 1 ] || die "no free port found from ${SCIMKIT_PG_PORT:-55432}"
  printf 'bindir=%q\nport=%q\n' "$bindir" "$port" >"$dir/$MARKER"

  local isready=$bindir/pg_isready psql=$bindir/psql i
  [ -x "$isready" ] || isready=pg_isready
  [ -x "$psql" ] || psql=psql
  for i in $(seq 1 100); do
    if "$isready" -q -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres; then break; fi
    [ "$i" -eq 100 ] && die "server on port $port not ready"
    sleep 0.1
  done
  PGCONNECT_TIMEOUT=10 "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
    -U "$DB_USER" -d postgres \
    -c "CREATE DATABASE $DB_NAME OWNER $DB_USER ENCODING 'UTF8' TEMPLATE template0" >&2 ||
    die "could not create database $DB_NAME"

  trap - EXIT
  log "PostgreSQL ready on 127.0.0.1:$port in $((SECONDS - t0))s (data in $dir)"
  emit_env "$dir" "$port"
  if [ -t 1 ]; then
    log "to use it: eval \"\$($0 start)\"; to stop it: $0 stop $dir"
  fi
}

# start_failed runs on a failed start: it shows the server log, stops
# whatever did start and removes the directory.
start_failed() {
  local rc=$?
  trap - EXIT
  if [ -n "${dir:-}" ] && [ -d "$dir" ]; then
    local f
    for f in pg_ctl.log server.log; do
      if [ -s "$dir/$f" ]; then
        log "---- $f ----"
        cat "$dir/$f" >&2
      fi
    done
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$bindir/pg_ctl" stop -D "$dir/data" -m immediate -w >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
  fi
  exit $((rc == 0 ? 1 : rc))
}

cmd_stop() {
  local dir=${1:-${SCIMKIT_PG_DATA:-}}
  if [ -z "$dir" ]; then
    log "nothing to stop: SCIMKIT_PG_DATA is unset and no directory given"
    return 0
  fi
  if [ ! -d "$dir" ]; then
    log "nothing to stop: $dir does not exist"
    return 0
  fi
  [ -f "$dir/$MARKER" ] || die "$dir is not a throwaway cluster made by this script; not touching it"
  read_marker "$dir"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bindir/pg_ctl" stop -D "$dir/data" -m immediate -w -t 30 >/dev/null 2>&1 ||
      log "pg_ctl stop failed (already stopped?)"
  fi
  rm -rf "$dir"
  log "stopped and removed $dir"
}

# cmd_pause stops the server of DIR (fast shutdown: sessions are
# terminated, as when a database goes away) and keeps the cluster.
cmd_pause() {
  local dir=${1:-}
  [ -n "$dir" ] && [ -f "$dir/$MARKER" ] || die "pause: $dir is not a throwaway cluster made by this script"
  read_marker "$dir"
  as_pg "$bindir/pg_ctl" stop -D "$dir/data" -m fast -w -t 30 >/dev/null || die "pg_ctl stop failed"
  log "paused the server in $dir"
}

# cmd_resume starts the paused server of DIR again on its port.
cmd_resume() {
  local dir=${1:-}
  [ -n "$dir" ] && [ -f "$dir/$MARKER" ] || die "resume: $dir is not a throwaway cluster made by this script"
  read_marker "$dir"
  as_pg ${SCIMKIT_PG_CPU:+taskset -c "$SCIMKIT_PG_CPU"} "$bindir/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/server.log" -o "-p $port" >/dev/null ||
    die "pg_ctl start failed"
  log "resumed the server in $dir on port $port"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop "${2:-}" ;;
  pause) cmd_pause "${2:-}" ;;
  resume) cmd_resume "${2:-}" ;;
  available) find_bindir >/dev/null ;;
  *)
    echo "usage: $0 start | stop [DIR] | pause DIR | resume DIR | available" >&2
    exit 2
    ;;
esac
