#!/usr/bin/env bash
# Desafio 1 benchmark: prints figures, asserts nothing.
#
#   bench/desafio1.sh              # throughput, latency, memory, image sizes
#   bench/desafio1.sh --builds     # also cold build of every image (prunes the
#                                  # BuildKit cache!) and a one-line-change rebuild
#
# Throughput and latency: wrk against 127.0.0.1 only, fixed threads and
# connections, bounded duration. On a machine with two or more cores the
# servers are pinned to CPU 0 and wrk to CPU 1 (taskset), so the two do not
# fight over one core. The real d1-server (all shared layers, one log line
# per request, stdout to /dev/null) and a bare axum handler returning the
# same JSON (crates/d1-server/examples/bare.rs) take turns, ROUNDS times.
# Memory: VmRSS at idle and VmHWM (peak) after the load, from /proc.
# Results go to stdout and to bench/results/desafio1.json.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  on_server="taskset -c 0" on_client="taskset -c 1"
else
  on_server="" on_client=""
fi
SERVER_PORT=${SERVER_PORT:-18080}
BARE_PORT=${BARE_PORT:-18081}
with_builds=false
[ "${1:-}" = "--builds" ] && with_builds=true

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
mkdir -p bench/results

echo "== building release binaries"
cargo build --release --locked -q -p d1-server --bin d1-server --example bare

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# Waits (bounded) until the URL answers; no sleep-and-hope.
wait_ready() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "not ready: $1" >&2; return 1
}

kib() { awk -v f="$2" '$1==f":" {print $2}' "/proc/$1/status"; }

# run NAME URL -> one measured wrk run; prints a line, sets RPS P50 P99
run() {
  local out
  out=$($on_client wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2")
  RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  P50=$(awk '$1=="50%" {print $2}' <<<"$out")
  P99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%-10s %12s req/s   p50 %-9s p99 %s\n' "$1" "$RPS" "$P50" "$P99"
}
median() { tr -s ' ' '\n' | sed '/^$/d' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

PORT=$SERVER_PORT HOSTNAME=bench $on_server target/release/d1-server >/dev/null &
pids+=($!); server_pid=$!
PORT=$BARE_PORT $on_server target/release/examples/bare &
pids+=($!); bare_pid=$!
server_url="http://127.0.0.1:$SERVER_PORT/" bare_url="http://127.0.0.1:$BARE_PORT/"
wait_ready "http://127.0.0.1:$SERVER_PORT/health"
wait_ready "$bare_url"
s_idle=$(kib "$server_pid" VmRSS) b_idle=$(kib "$bare_pid" VmRSS)

# The machine's speed drifts by more than the difference measured here, so
# the two servers take turns ($ROUNDS rounds, after one warm-up each) and
# each one's median round counts: a drift then weighs on both alike.
echo "== load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds each, taking turns, loopback only"
for url in "$server_url" "$bare_url"; do $on_client wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$url" >/dev/null; done
s_all="" b_all="" s_p50s="" b_p50s="" s_p99s="" b_p99s=""
for _ in $(seq 1 "$ROUNDS"); do
  run d1-server "$server_url"; s_all+=" $RPS"; s_p50s+=" $P50"; s_p99s+=" $P99"
  run bare-axum "$bare_url"; b_all+=" $RPS"; b_p50s+=" $P50"; b_p99s+=" $P99"
done
s_peak=$(kib "$server_pid" VmHWM) b_peak=$(kib "$bare_pid" VmHWM)
s_rps=$(median <<<"$s_all") b_rps=$(median <<<"$b_all")
# The round that gave the median throughput gives its latencies.
pick() { awk -v m="$1" -v all="$2" -v lat="$3" 'BEGIN {n=split(all,a," "); split(lat,l," "); for (i=1;i<=n;i++) if (a[i]==m) {print l[i]; exit}}'; }
s_p50=$(pick "$s_rps" "$s_all" "$s_p50s") s_p99=$(pick "$s_rps" "$s_all" "$s_p99s")
b_p50=$(pick "$b_rps" "$b_all" "$b_p50s") b_p99=$(pick "$b_rps" "$b_all" "$b_p99s")
printf 'd1-server  median %s req/s   RSS idle %s KiB, peak %s KiB\n' "$s_rps" "$s_idle" "$s_peak"
printf 'bare-axum  median %s req/s   RSS idle %s KiB, peak %s KiB\n' "$b_rps" "$b_idle" "$b_peak"
ratio=$(awk -v a="$s_rps" -v b="$b_rps" 'BEGIN {printf "%.2f", a/b}')
echo "d1-server / bare axum throughput (medians): ${ratio}x"
verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.8) ? "met" : "not met"}')
python3 bench/section.py desafio1 <<MD
## Desafio 1 against a bare axum handler (bench/desafio1.sh)

$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs; wrk -t$THREADS -c$CONNECTIONS -d$DURATION on loopback,
the servers on CPU 0 and wrk on CPU 1, $ROUNDS rounds each, taking turns; each
server's median round. \`GET /\` of d1-server (kit's layers:
request id, its log span, bounds, JSON errors; one log line per request) against
\`crates/d1-server/examples/bare.rs\` (the same JSON, chrono's \`format\` for the
timestamp, no layers, no log line).

| server | req/s | p50 | p99 |
|---|---:|---:|---:|
| d1-server | $s_rps | $s_p50 | $s_p99 |
| bare axum | $b_rps | $b_p50 | $b_p99 |

Every round, req/s: d1-server$s_all; bare axum$b_all.

Throughput ratio ${ratio}x; target at least 0.8x: **$verdict**.
MD
cleanup; pids=()

if $with_builds; then
  echo "== cold build of every image (BuildKit cache pruned first)"
  docker builder prune -af >/dev/null
  start=$(date +%s.%N)
  for dir in desafio*/; do (cd "$dir" && docker compose build -q); done
  cold=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.0f", e-s}')
  echo "cold build, all images: ${cold} s"

  echo "== rebuild after a one-line change in crates/d1-server/src/lib.rs"
  cp crates/d1-server/src/lib.rs /tmp/d1-lib.rs.bak
  trap 'cp /tmp/d1-lib.rs.bak crates/d1-server/src/lib.rs; cleanup' EXIT
  sed -i 's/Servidor Rust (axum) em andamento!/Servidor Rust (axum) em andamento!!/' crates/d1-server/src/lib.rs
  start=$(date +%s.%N)
  (cd desafio1 && docker compose build -q flask-server)
  rebuild=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e-s}')
  cp /tmp/d1-lib.rs.bak crates/d1-server/src/lib.rs
  (cd desafio1 && docker compose build -q flask-server)
  echo "rebuild after one-line change: ${rebuild} s"
else
  cold=null rebuild=null
fi

echo "== image sizes (every image of this project)"
for dir in desafio*/; do (cd "$dir" && docker compose build -q) >/dev/null; done
images_json=$(docker images --filter "label=org.opencontainers.image.source" --filter dangling=false \
  --format '{{.Repository}}:{{.Tag}} {{.Size}}' | sort -u |
  while read -r ref size; do
    bytes=$(docker image inspect --format '{{.Size}}' "$ref")
    printf '%-28s %6.1f MB\n' "$ref" "$(awk -v b="$bytes" 'BEGIN {print b/1e6}')" >&2
    printf '"%s": %s,' "$ref" "$bytes"
  done)

cat >bench/results/desafio1.json <<JSON
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)",
  "load_average_at_start": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "load": {"tool": "wrk", "threads": $THREADS, "connections": $CONNECTIONS, "duration": "$DURATION", "rounds": $ROUNDS, "pinned": "${on_server:+server CPU 0, wrk CPU 1}"},
  "d1_server": {"rps": $s_rps, "rounds_rps": [$(tr -s ' ' ',' <<<"${s_all# }")], "p50": "$s_p50", "p99": "$s_p99", "rss_idle_kib": $s_idle, "rss_peak_kib": $s_peak},
  "bare_axum": {"rps": $b_rps, "rounds_rps": [$(tr -s ' ' ',' <<<"${b_all# }")], "p50": "$b_p50", "p99": "$b_p99", "rss_idle_kib": $b_idle, "rss_peak_kib": $b_peak},
  "throughput_ratio": $ratio,
  "cold_build_s": $cold,
  "rebuild_one_line_s": $rebuild,
  "image_bytes": {${images_json%,}}
}
JSON
echo "== written bench/results/desafio1.json"
