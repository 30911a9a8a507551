#!/usr/bin/env bash
# Install (once, cached outside the repository) and start a real Kafka-protocol broker
# for the end-to-end suite: tansu 0.6.0 from crates.io with in-memory storage.
#
#   scripts/test-broker.sh install          build tansu into the cache if it is missing
#   scripts/test-broker.sh start [PORT]     install if needed, start on 127.0.0.1:PORT,
#                                           wait until it answers; prints "PID PORT"
#   scripts/test-broker.sh stop PID         stop a broker started by `start`
#   scripts/test-broker.sh topic PORT NAME PARTITIONS   create a topic
#
# The cache is $COPYDESK_CACHE (default ~/.cache/copydesk); a cold build of tansu takes
# 10-20 minutes on two cores, later runs reuse the binary.
set -euo pipefail

TANSU_VERSION=0.6.0
CACHE=${COPYDESK_CACHE:-$HOME/.cache/copydesk}
ROOT="$CACHE/tansu-$TANSU_VERSION"
BIN="$ROOT/bin/tansu"

log() { echo "test-broker: $*" >&2; }

install_tansu() {
    if [[ -x "$BIN" ]]; then
        return 0
    fi
    mkdir -p "$ROOT"
    log "building tansu $TANSU_VERSION into $ROOT (cold build: 10-20 minutes)"
    CARGO_TARGET_DIR="$CACHE/tansu-target" \
        cargo install --locked tansu --version "$TANSU_VERSION" \
        --features dynostore --root "$ROOT" >&2
    rm -rf "$CACHE/tansu-target"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    local port=$1
    for _ in $(seq 1 150); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

start() {
    install_tansu
    local port=${1:-$(free_port)}
    local logfile="$CACHE/tansu-$port.log"
    "$BIN" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine "memory://tansu/" \
        >"$logfile" 2>&1 &
    local pid=$!
    if ! wait_port "$port"; then
        log "broker did not open port $port; log follows"
        cat "$logfile" >&2 || true
        kill "$pid" 2>/dev/null || true
        exit 1
    fi
    echo "$pid $port"
}

case "${1:-}" in
    install) install_tansu; echo "$BIN" ;;
    start) shift; start "$@" ;;
    stop) kill "$2" 2>/dev/null || true ;;
    topic)
        "$BIN" topic create --broker "tcp://127.0.0.1:$2" --name "$3" --partitions "$4" >&2
        ;;
    *) echo "usage: $0 install|start [PORT]|stop PID|topic PORT NAME PARTITIONS" >&2; exit 2 ;;
esac
