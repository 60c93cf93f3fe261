#!/usr/bin/env bash
# A throwaway PostgreSQL for memlane's tests: scripts/test.sh runs `start` before the tests and `stop` after.
#
#   scripts/services/postgres.sh start|stop
#
# `start`:
#   - installs PostgreSQL from Debian's packages when no initdb/pg_ctl is found (postgresql-15, else postgresql);
#   - finds the newest /usr/lib/postgresql/*/bin (or $MEMLANE_PG_BIN);
#   - runs initdb in $MEMLANE_CI_DIR/pg/data (trust authentication, loopback only) as the user `postgres` when run
#     as root (initdb refuses root; the user is created if missing), and starts the server on a free loopback port
#     (from 54329 up, or $MEMLANE_PG_PORT) with its socket in $MEMLANE_CI_DIR/pg;
#   - installs pgvector (scripts/pgvector-build.sh: built once from Debian's source package, then cached);
#   - creates two databases (dropping them first when the data directory is reused): `memlane_test` with the
#     `vector` extension and `memlane_test_novector` without it;
#   - appends to $MEMLANE_CI_ENV:
#       MEMLANE_TEST_POSTGRES_URL           the database with pgvector
#       MEMLANE_TEST_POSTGRES_NOVECTOR_URL  the one without (the URL also says pgvector=false)
#       MEMLANE_TEST_POSTGRES_BIN           the server's bin directory (the faults test starts its own cluster)
# `stop` stops the server (the data directory goes with $MEMLANE_CI_DIR).
#
# Locally:
#   export MEMLANE_CI_DIR=$(mktemp -d) MEMLANE_CI_ENV=$MEMLANE_CI_DIR/env
#   bash scripts/services/postgres.sh start; set -a; . $MEMLANE_CI_ENV; set +a
set -euo pipefail

cmd="${1:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${MEMLANE_CI_DIR:?set MEMLANE_CI_DIR to a directory for the cluster}"
base="$MEMLANE_CI_DIR/pg"
data="$base/data"
say() { printf 'postgres: %s\n' "$*" >&2; }

find_bin() {
    if [[ -n "${MEMLANE_PG_BIN:-}" ]]; then
        echo "$MEMLANE_PG_BIN"
        return
    fi
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
    if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
        echo "$d"
    elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
    fi
}

# Runs a command as the cluster's owner.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    : "${MEMLANE_CI_ENV:?set MEMLANE_CI_ENV to the file the test variables are appended to}"
    local bin
    bin="$(find_bin)"
    if [[ -z "$bin" ]]; then
        [[ $(id -u) -eq 0 ]] || { say "PostgreSQL is not installed and installing it needs root"; exit 1; }
        say "installing PostgreSQL from Debian's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null 2>&1 \
            || apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        bin="$(find_bin)"
        [[ -n "$bin" ]] || { say "no initdb/pg_ctl after installing postgresql"; exit 1; }
    fi
    say "using $("$bin/postgres" --version) from $bin"

    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
        chmod o+x "$MEMLANE_CI_DIR"
    fi
    bash "$here/../pgvector-build.sh" "$bin/pg_config"

    mkdir -p "$base"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$base"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 \
            || { cat "$base/initdb.log" >&2; exit 1; }
    fi
    local port="${MEMLANE_PG_PORT:-54329}"
    if [[ -z "${MEMLANE_PG_PORT:-}" ]]; then
        while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    fi
    echo "$port" >"$base/port"
    as_owner "$bin/pg_ctl" -D "$data" -l "$base/server.log" -w -t 60 start \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $base -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null || { tail -20 "$base/server.log" >&2; exit 1; }
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 30 || { say "the server does not answer"; exit 1; }

    local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
    # A data directory left by an earlier run (MEMLANE_CI_DIR reused) still has the databases: start them afresh.
    local db
    for db in memlane_test memlane_test_novector; do
        "${psql[@]}" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    done
    "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d memlane_test -c "CREATE EXTENSION vector"
    local url="postgres://postgres@127.0.0.1:$port"
    {
        echo "MEMLANE_TEST_POSTGRES_URL=$url/memlane_test"
        echo "MEMLANE_TEST_POSTGRES_NOVECTOR_URL=$url/memlane_test_novector?pgvector=false"
        echo "MEMLANE_TEST_POSTGRES_BIN=$bin"
    } >>"$MEMLANE_CI_ENV"
    say "ready on 127.0.0.1:$port (pgvector $("$bin/psql" -X -At -h 127.0.0.1 -p "$port" -U postgres -d memlane_test -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'"))"
}

stop() {
    [[ -f "$data/PG_VERSION" ]] || { say "no cluster in $data"; return 0; }
    local bin
    bin="$(find_bin)"
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    say "stopped"
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
