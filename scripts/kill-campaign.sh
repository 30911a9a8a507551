#!/usr/bin/env bash
# Crash campaign on the real broker: runs the end-to-end suite N times, each time
# SIGKILLing copydesk at a different, random point of the stream, and reports per run
# whether every input was answered and how many duplicates the crash caused.
#   scripts/kill-campaign.sh [RUNS] [STORIES]     (default 20 runs of 5,000 stories)
# Results: bench/KILLS.md. Uses the tansu broker of scripts/test-broker.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
stories=${2:-5000}
cargo build --release --locked --tests >/dev/null
read -r broker_pid broker_port < <(scripts/test-broker.sh start)
trap 'scripts/test-broker.sh stop "$broker_pid"' EXIT
out=bench/KILLS.md.new
{
  echo "# Kill campaign: $runs runs × $stories stories, one SIGKILL each at a random point"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, tansu (scripts/test-broker.sh) co-located, release build."
  echo
  echo "| run | kill at | answers at kill | outputs | unique | duplicates | lost | result |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
} > "$out"
total_dup=0; total_lost=0; failed=0
for run in $(seq 1 "$runs"); do
  # Up to 60% of the stream: later kill points often landed after the daemon had already
  # answered everything (the suite's collector trails it by about a second), which the
  # suite rejects as "not mid-stream" (4 of 20 runs of 3,000 stories at 0.69-0.86).
  at=$(python3 -c "import random; print(round(random.uniform(0.05, 0.6), 3))")
  log=$(mktemp)
  if COPYDESK_E2E_BROKERS="127.0.0.1:$broker_port" COPYDESK_E2E_STORIES=$stories \
      COPYDESK_E2E_KILL_AT=$at cargo test --release --locked --test e2e -- --nocapture sigkill_mid_stream \
      >"$log" 2>&1; then result=pass; else result=FAIL; failed=$((failed + 1)); fi
  killed=$(grep -oP 'after \K[0-9]+(?= answers)' "$log" | head -1 || true)
  read -r outputs unique dup < <(grep -oP '[0-9]+ outputs, [0-9]+ unique, [0-9]+ duplicates' "$log" \
      | grep -oP '[0-9]+' | tr '\n' ' '; echo) || true
  lost=$(( stories - ${unique:-0} ))
  total_dup=$((total_dup + ${dup:-0})); total_lost=$((total_lost + lost))
  echo "| $run | $at | ${killed:-?} | ${outputs:-?} | ${unique:-?} | ${dup:-?} | $lost | $result |" >> "$out"
  echo "run $run/$runs: kill at $at → $result, ${dup:-?} duplicates, $lost lost" >&2
  if [[ $result == FAIL ]]; then
    keep=${TMPDIR:-/tmp}/copydesk-kill-run-$run.log
    mv "$log" "$keep"
    echo "run $run: log kept in $keep" >&2
  else
    rm -f "$log"
  fi
done
{
  echo
  echo "Total: $((runs * stories)) inputs, $total_lost lost, $total_dup duplicates" \
       "($(python3 -c "print(round(100*$total_dup/($runs*$stories), 2))") %), $failed failed runs."
} >> "$out"
mv "$out" bench/KILLS.md
cat bench/KILLS.md
[ "$failed" -eq 0 ]
