#!/usr/bin/env bash
# End-to-end benchmark against a real Kafka-protocol broker (tansu, co-located):
# raw relay vs copydesk pass-through vs full pipeline, latency at a fixed load, peak RSS.
#   scripts/bench.sh [STORIES]        (default 100000) → bench/RESULTS.md
set -euo pipefail
cd "$(dirname "$0")/.."
stories=${1:-100000}
cargo build --release --locked
read -r broker_pid broker_port < <(scripts/test-broker.sh start)
trap 'scripts/test-broker.sh stop "$broker_pid"' EXIT
./target/release/copydesk bench --brokers "127.0.0.1:$broker_port" --stories "$stories" \
    --log-format text > bench/RESULTS.md.new
mv bench/RESULTS.md.new bench/RESULTS.md
cat bench/RESULTS.md
