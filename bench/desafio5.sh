#!/bin/sh
# Desafio 5 benchmark: the same GET /users called three ways, in one run on
# one machine, over loopback only:
#
#   direct   wrk -> users service
#   gateway  wrk -> d5-gateway -> users service
#   nginx    wrk -> nginx (plain reverse proxy, keep-alive upstream) -> users service
#
# Prints requests/s and p50/p99 latency for each, twice: at a load that
# keeps every core busy (throughput), and one request at a time (the latency
# one hop adds; under saturation p50 is mostly time spent waiting in a
# queue). On a small shared machine one run of each case varies by several
# percent from the next, so each pass runs ROUNDS rounds, the three cases in
# a different order each round, and prints every round and the medians.
# Needs wrk and nginx from Debian (apt-get install -y wrk nginx) and a Rust
# toolchain. The binaries run on the host, not in containers, so Docker's
# port forwarding is not part of what is measured.
#
#   bench/desafio5.sh                 # 5 rounds of 5 s per case, 2 threads, 16 connections
#   ROUNDS=9 DURATION=10s CONNECTIONS=64 bench/desafio5.sh
set -eu

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
USERS_PORT=${USERS_PORT:-15503}
GATEWAY_PORT=${GATEWAY_PORT:-15504}
NGINX_PORT=${NGINX_PORT:-15505}

for tool in wrk nginx cargo; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
  command -v "$tool" >/dev/null 2>&1 || { echo "missing $tool (apt-get install -y wrk nginx)" >&2; exit 2; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
chmod 755 "$work"
pids=""
cleanup() {
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "building release binaries..." >&2
(cd "$root" && cargo build --release --locked -q -p d5-users -p d5-gateway -p fetch)
bin="$root/target/release"

# Wait (bounded) until a URL answers 2xx; never a blind sleep.
wait_for() {
  i=0
  until "$bin/fetch" --quiet --timeout 1s "$1" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 50 ] || { echo "$1 never answered" >&2; exit 1; }
    sleep 0.1
  done
}

# The service logs every request in all three cases. Neither proxy writes a
# line per request: nginx's access log is off, and the gateway's per-request
# line is at debug level (RUST_LOG=info). Logs go to files.
PORT=$USERS_PORT HOSTNAME=bench "$bin/d5-users" >"$work/users.log" 2>&1 &
pids="$pids $!"
PORT=$GATEWAY_PORT USERS_SERVICE=127.0.0.1:$USERS_PORT ORDERS_SERVICE=127.0.0.1:$USERS_PORT \
  RUST_LOG=info "$bin/d5-gateway" >"$work/gateway.log" 2>&1 &
pids="$pids $!"

mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream users_service {
    server 127.0.0.1:$USERS_PORT;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /users {
      proxy_pass http://users_service;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host users_service:5003;
    }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work/nginx" &
pids="$pids $!"

wait_for "http://127.0.0.1:$USERS_PORT/users"
wait_for "http://127.0.0.1:$GATEWAY_PORT/users"
wait_for "http://127.0.0.1:$NGINX_PORT/users"

# One case: "Requests/sec" and the 50%/99% lines of wrk --latency (in ms),
# printed and appended as "name rps p50 p99" to $work/results.
measure() {
  name=$1 url=$2 threads=$3 connections=$4
  wrk -t"$threads" -c"$connections" -d"$WARMUP" "$url" >/dev/null
  wrk -t"$threads" -c"$connections" -d"$DURATION" --latency "$url" >"$work/$name.txt"
  awk -v name="$name" '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v
    }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /^Requests\/sec/ { rps = $2 }
    /Non-2xx|Socket errors/ { errors = errors " " $0 }
    END {
      printf "  %-8s %12.0f %10.3f %10.3f%s\n", name, rps, p50, p99, errors
      printf "%s %s %s %s\n", name, rps, p50, p99 >> results
    }
  ' results="$work/results" "$work/$name.txt"
}

url_of() {
  case $1 in
    direct) echo "http://127.0.0.1:$USERS_PORT/users" ;;
    gateway) echo "http://127.0.0.1:$GATEWAY_PORT/users" ;;
    nginx) echo "http://127.0.0.1:$NGINX_PORT/users" ;;
  esac
}

# ROUNDS rounds of the three cases at one load, each round in another order
# (so neither proxy always runs right after the other), then the medians
# and what each proxy adds at p50 over the direct call.
cases() {
  threads=$1 connections=$2
  : >"$work/results"
  printf "  %-8s %12s %10s %10s\n" case "req/s" "p50 ms" "p99 ms"
  round=1
  while [ "$round" -le "$ROUNDS" ]; do
    case $((round % 3)) in
      1) order="direct gateway nginx" ;;
      2) order="nginx direct gateway" ;;
      0) order="gateway nginx direct" ;;
    esac
    echo "round $round"
    for name in $order; do
      measure "$name" "$(url_of "$name")" "$threads" "$connections"
    done
    round=$((round + 1))
  done
  awk '
    function median(list, n,   i, j, t, v) {
      split(list, v, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    { n[$1]++; rps[$1] = rps[$1] " " $2; p50[$1] = p50[$1] " " $3; p99[$1] = p99[$1] " " $4 }
    END {
      print "median of the rounds"
      split("direct gateway nginx", names, " ")
      for (i = 1; i <= 3; i++) {
        c = names[i]
        r[c] = median(rps[c], n[c]); q[c] = median(p50[c], n[c])
        printf "  %-8s %12.0f %10.3f %10.3f\n", c, r[c], q[c], median(p99[c], n[c])
      }
      printf "gateway throughput / nginx throughput: %.2fx\n", r["gateway"] / r["nginx"]
      printf "added at p50 over direct: gateway %.3f ms, nginx %.3f ms\n",
        q["gateway"] - q["direct"], q["nginx"] - q["direct"]
    }' "$work/results"
}

when=$(date -u +%Y-%m-%dT%H:%MZ)
echo "GET /users, $ROUNDS rounds of $DURATION per case, $(nproc) CPUs, $when"
echo
echo "Throughput: $THREADS threads, $CONNECTIONS connections (every core busy, so p50 is mostly queueing)"
cases "$THREADS" "$CONNECTIONS" | tee "$work/throughput"
echo
echo "Latency: 1 connection, one request at a time (what one hop costs)"
cases 1 1 | tee "$work/latency"

# The medians, and whether the targets hold, into bench/RESULTS.md.
ratio=$(awk '/throughput \/ nginx/ {sub(/x$/, "", $NF); print $NF}' "$work/throughput")
hop=$(awk '/added at p50/ {print $7}' "$work/latency")
met() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {ok = (op == ">=") ? v >= t : v <= t; print ok ? "met" : "not met"}'; }
python3 "$root/bench/section.py" desafio5 <<MD
## Desafio 5's gateway against nginx (bench/desafio5.sh)

$when, $(nproc) CPUs; \`GET /users\` on loopback, the users service called directly,
through d5-gateway and through nginx (plain reverse proxy, keep-alive upstream);
medians of $ROUNDS interleaved rounds of $DURATION per case.

\`\`\`text
Throughput: $THREADS threads, $CONNECTIONS connections
$(sed -n '/^median/,$p' "$work/throughput")

Latency: 1 connection, one request at a time
$(sed -n '/^median/,$p' "$work/latency")
\`\`\`

Throughput at least 0.9x nginx's: ${ratio}x, **$(met "$ratio" ">=" 0.9)**.
One hop adds at most 0.3 ms at p50: $hop ms, **$(met "$hop" "<=" 0.3)**.
MD
