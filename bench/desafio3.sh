#!/bin/sh
# Desafio 3 benchmark, through the compose stack as a learner runs it, over
# loopback only (wrk -> 127.0.0.1:published port -> web):
#
#   health      GET /health           web alone (the HTTP path's own cost)
#   cache hit   GET /api/posts/cache  web -> Redis GET (warm copy)
#   db read     GET /api/posts        web -> PostgreSQL SELECT
#   write       POST /api/posts       web -> PostgreSQL INSERT + Redis DEL
#   redis GET   redis-benchmark GET   a bare Redis round trip, from a
#               container on the internal network (as web reaches it)
#
# Each HTTP case runs twice: 1 connection (latency: p50/p99 of one request
# at a time) and CONNECTIONS connections (throughput). The target of issue 3:
# the extra cost of a cache hit over /health is at most a bare Redis GET
# round trip + 0.2 ms at p50.
#
#   bench/desafio3.sh                         # 5 s per run
#   DURATION=10s CONNECTIONS=32 bench/desafio3.sh
#
# Needs wrk (apt-get install -y wrk) and Docker. Brings the stack up if it
# is not (port D3_WEB_PORT, default 5000) and leaves it as it found it.
# Writes posts: run `docker compose down -v` in desafio3/ for a clean slate.
set -eu

DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
PORT=${D3_WEB_PORT:-5000}
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null 2>&1 || { echo "missing wrk (apt-get install -y wrk)" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
started=""
cleanup() {
  rm -rf "$work"
  if [ -n "$started" ]; then
    (cd "$root/desafio3" && docker compose down --timeout 5 >/dev/null 2>&1) || true
  fi
}
trap cleanup EXIT INT TERM

if ! wrk -t1 -c1 -d1s "$BASE/health" >/dev/null 2>&1; then
  echo "starting the desafio3 stack..." >&2
  (cd "$root/desafio3" && D3_WEB_PORT=$PORT docker compose up -d --build --wait --wait-timeout 300 >&2)
  started=yes
fi
# The client container polls every 15 s; stop it so it does not disturb us.
(cd "$root/desafio3" && docker compose stop client >/dev/null 2>&1) || true

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"titulo":"bench","conteudo":"escrito pelo wrk","autor":"wrk"}'
LUA
# wrk prints latency in us/ms/s; convert to milliseconds.
cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("%.0f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, errors))
end
LUA
cat "$work/post.lua" "$work/report.lua" >"$work/post-report.lua"

# run NAME PATH SCRIPT CONNECTIONS -> "rps p50 p99 requests errors"
run() {
  threads=$THREADS
  [ "$4" -lt "$threads" ] && threads=$4
  wrk -t"$threads" -c"$4" -d"$DURATION" -s "$3" "$BASE$2" | tail -n 1
}

# Warm the cached copy (and check every case answers 2xx before measuring).
curl_ok() { wrk -t1 -c1 -d1s -s "$work/report.lua" "$BASE$1" | tail -n 1 | awk '{ exit ($5 != 0) }'; }
for path in /health /api/posts/cache /api/posts; do
  curl_ok "$path" || { echo "GET $path does not answer 2xx" >&2; exit 1; }
done

printf '%-10s %6s %10s %10s %10s %10s %9s\n' case conns req/s p50_ms p99_ms requests errors
# measure NAME PATH SCRIPT: one row per connection count.
measure() {
  name=$1 path=$2 script=$3
  for conns in 1 "$CONNECTIONS"; do
    # "rps p50 p99 requests errors"
    result=$(run "$name" "$path" "$script" "$conns")
    # shellcheck disable=SC2086 # word splitting of the five numbers
    set -- $result
    printf '%-10s %6s %10s %10s %10s %10s %9s\n' "$name" "$conns" "$1" "$2" "$3" "$4" "$5"
    echo "$name $conns $1 $2 $3" >>"$work/results"
  done
}
measure health /health "$work/report.lua"
# A write in between would invalidate the copy: reads first, writes last.
measure cache_hit /api/posts/cache "$work/report.lua"
measure db_read /api/posts "$work/report.lua"
measure write /api/posts "$work/post-report.lua"

# A bare Redis GET from a container on the same internal network as web.
# redis-benchmark --csv: "test","rps","avg","min","p50","p95","p99","max".
redis_line=$(docker run --rm --network desafio3_rede-aplicacao --entrypoint redis-benchmark \
  redis:7-bookworm -h cache -t get -n 20000 -c 1 -d 300 --csv 2>/dev/null | grep '"GET"' | tr -d '"')
redis_p50=$(echo "$redis_line" | cut -d, -f5)
redis_rps=$(echo "$redis_line" | cut -d, -f2)
printf '%-10s %6s %10s %10s\n' redis_get 1 "${redis_rps%.*}" "$redis_p50"

awk -v redis="$redis_p50" '
  $2 == 1 && $1 == "health" { h = $4 }
  $2 == 1 && $1 == "cache_hit" { c = $4 }
  $2 == 1 && $1 == "db_read" { d = $4 }
  $2 != 1 && $1 == "cache_hit" { crps = $3 }
  $2 != 1 && $1 == "db_read" { drps = $3 }
  END {
    extra = c - h
    printf "\ncache hit over /health at p50: %.3f ms (bare Redis GET p50 %.3f ms; target <= %.3f ms): %s\n",
      extra, redis, redis + 0.2, (extra <= redis + 0.2) ? "met" : "NOT met"
    printf "cache saves at p50: %.3f ms per read (%.0f%%); throughput %.1fx of the database read\n",
      d - c, (d > 0) ? 100 * (d - c) / d : 0, (drps > 0) ? crps / drps : 0
  }' "$work/results"

(cd "$root/desafio3" && docker compose start client >/dev/null 2>&1) || true
