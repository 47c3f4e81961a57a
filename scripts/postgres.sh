#!/usr/bin/env bash
# A throwaway PostgreSQL server for the `postgres` tests; prints the DSN for the caller to eval:
#
#     eval "$(scripts/postgres.sh)"          # sets DATAVASK_TEST_PG_DSN
#     scripts/postgres.sh stop               # stops the server (its data directory stays)
#
# Idempotent: a second call reuses the running server (or restarts the stopped one) and prints
# the same DSN. The cluster lives in $DATAVASK_PG_DIR (default /tmp/datavask-pg), listens on
# 127.0.0.1 only, on a port that was free when the cluster was created, and asks for a password
# (scram-sha-256) on TCP so the tests can check bad credentials. Run as root, the server runs as
# the `postgres` user (PostgreSQL refuses to run as root); otherwise as the calling user.
# Everything but the `export` line goes to stderr.
set -euo pipefail

DIR="${DATAVASK_PG_DIR:-/tmp/datavask-pg}"
DATA="$DIR/data"
ROLE=datavask
DB=datavask_test

say() { echo "postgres.sh: $*" >&2; }

find_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$bin" ] && command -v pg_config >/dev/null 2>&1; then
    bin=$(pg_config --bindir)
  fi
  [ -n "$bin" ] && [ -x "$bin/initdb" ] && echo "$bin"
}

BIN=$(find_bin || true)
if [ -z "$BIN" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing PostgreSQL (Debian package) ..."
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    BIN=$(find_bin)
  else
    say "PostgreSQL is not installed and cannot be installed without root: install Debian's postgresql"
    exit 1
  fi
fi

if [ "$(id -u)" = 0 ]; then
  as_server() { runuser -u postgres -- "$@"; }
  OWNER=postgres
else
  as_server() { "$@"; }
  OWNER=$(id -un)
fi

if [ "${1:-}" = stop ]; then
  if [ -f "$DATA/PG_VERSION" ]; then
    as_server "$BIN/pg_ctl" -D "$DATA" -m fast stop >&2 || true
  fi
  exit 0
fi

mkdir -p "$DIR"
chown "$OWNER" "$DIR"
chmod 700 "$DIR"

if [ ! -f "$DATA/PG_VERSION" ]; then
  say "creating a cluster in $DATA ..."
  rm -rf "$DATA"
  # A port that is free now; kept in the directory so later calls print the same DSN.
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
    >"$DIR/port"
  python3 -c 'import secrets; print(secrets.token_hex(16))' >"$DIR/password"
  chown "$OWNER" "$DIR/port" "$DIR/password"
  chmod 600 "$DIR/password"
  as_server "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $(cat "$DIR/port")
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOF
fi
PORT=$(cat "$DIR/port")
PASSWORD=$(cat "$DIR/password")

if ! as_server "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  say "starting PostgreSQL on 127.0.0.1:$PORT ..."
  as_server "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start >/dev/null
fi

psql_admin() { as_server "$BIN/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -qtAX "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" >/dev/null
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE $DB OWNER $ROLE ENCODING 'UTF8'" >/dev/null
fi

echo "export DATAVASK_TEST_PG_DSN=postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
