#!/usr/bin/env bash
# Redis for the tests: a standalone server and a Redis Cluster of three masters, on loopback ports, under
# $MEMLANE_CI_DIR/redis (daemonized, pidfiles and logs there, no persistence).
#
#   scripts/services/redis.sh start   # installs redis-server, redis-tools and openssl (Debian packages) if missing,
#                                     # starts both, waits until they answer, and appends to $MEMLANE_CI_ENV:
#                                     #   MEMLANE_TEST_REDIS_URL=redis://127.0.0.1:PORT
#                                     #   MEMLANE_TEST_REDIS_CLUSTER_URL=redis://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3?cluster=true
#   scripts/services/redis.sh stop    # shuts down what start started
#
# Ports: the first free ones from 16379 (standalone) and 17001 (cluster; each node also uses its port + 10000).
# To run the Redis tests by hand:
#   export MEMLANE_CI_DIR=$(mktemp -d) MEMLANE_CI_ENV=$MEMLANE_CI_DIR/env
#   bash scripts/services/redis.sh start; set -a; . $MEMLANE_CI_ENV; set +a
#   cargo test -p memlane --features redis --test 'redis_*'
# The faults and TLS tests start servers of their own (redis-server on free ports).
set -euo pipefail

: "${MEMLANE_CI_DIR:?set MEMLANE_CI_DIR to a directory for the server files}"
dir="$MEMLANE_CI_DIR/redis"
say() { echo "redis.sh: $*" >&2; }

# Whether something listens on 127.0.0.1:$1.
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p=$1
    while in_use "$p" || in_use $((p + 10000)) || [[ " ${taken[*]:-} " == *" $p "* ]]; do
        p=$((p + 1))
    done
    echo "$p"
}

# redis-server and redis-cli, and openssl (the TLS test makes a certificate with it).
install() {
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 &&
        command -v openssl >/dev/null 2>&1 && return
    say "installing redis-server, redis-tools and openssl"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools openssl >/dev/null
}

# Starts one server on port $1 named $2, with extra arguments after.
serve() {
    local port=$1 name=$2
    shift 2
    mkdir -p "$dir/$name"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
        --pidfile "$dir/$name.pid" --logfile "$dir/$name.log" --dir "$dir/$name" \
        --save '' --appendonly no "$@"
    echo "$port" >"$dir/$name.port"
}

wait_for() {
    local port=$1 what=$2 i
    for i in $(seq 1 100); do
        if [[ $(redis-cli -p "$port" "${@:3}" 2>/dev/null) == *"$what"* ]]; then
            return 0
        fi
        sleep 0.1
    done
    say "127.0.0.1:$port did not answer ${*:3} with $what; its log:"
    tail -n 20 "$dir"/*.log >&2 || true
    return 1
}

start() {
    : "${MEMLANE_CI_ENV:?set MEMLANE_CI_ENV to the file that receives the variables}"
    install
    # A previous run in the same directory: stop its servers, forget its cluster state.
    stop
    rm -rf "$dir"
    mkdir -p "$dir"
    taken=()
    local standalone
    standalone=$(free_port 16379)
    taken+=("$standalone")
    serve "$standalone" standalone
    wait_for "$standalone" PONG ping

    local nodes=() p=17001 port
    for i in 1 2 3; do
        port=$(free_port "$p")
        taken+=("$port")
        serve "$port" "node$i" --cluster-enabled yes --cluster-config-file "$dir/node$i/nodes.conf" \
            --cluster-node-timeout 5000
        nodes+=("127.0.0.1:$port")
        p=$((port + 1))
    done
    for n in "${nodes[@]}"; do
        wait_for "${n#*:}" PONG ping
    done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 || {
        cat "$dir/cluster-create.log" >&2
        return 1
    }
    for n in "${nodes[@]}"; do
        wait_for "${n#*:}" cluster_state:ok cluster info
    done

    local joined
    joined=$(IFS=,; echo "${nodes[*]}")
    {
        echo "MEMLANE_TEST_REDIS_URL=redis://127.0.0.1:$standalone"
        echo "MEMLANE_TEST_REDIS_CLUSTER_URL=redis://$joined?cluster=true"
    } >>"$MEMLANE_CI_ENV"
    say "standalone on 127.0.0.1:$standalone, cluster on $joined"
}

stop() {
    local pidfile pid name
    for pidfile in "$dir"/*.pid; do
        [[ -e "$pidfile" ]] || continue
        name=$(basename "$pidfile" .pid)
        pid=$(cat "$pidfile")
        if [[ -f "$dir/$name.port" ]]; then
            redis-cli -p "$(cat "$dir/$name.port")" shutdown nosave >/dev/null 2>&1 || true
        fi
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 start|stop" >&2
        exit 2
        ;;
esac
