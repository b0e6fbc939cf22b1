#!/usr/bin/env bash
# A class's first run, as a learner meets it: a fresh clone, the base images
# present and nothing else cached, each challenge's first
# `docker compose up --build --wait` in the order a learner takes them (1 to
# 5, each reusing what the ones before it compiled), then one line changed in
# Desafio 1's server and its `up --build --wait` again. Prints the times and
# writes them to bench/RESULTS.md.
#
#   bench/first-run.sh     # PRUNES the BuildKit cache first: not on a
#                          # machine others build on
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/repo"

seconds_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }'; }
down() { (cd "$work/repo/desafio$1" && docker compose down -v --remove-orphans >/dev/null 2>&1) || true; }

# One-shot Desafio 2 has nothing to wait for: its first run is the build and
# one `run`, as its README types it.
up() {
  if [ "$1" = 2 ]; then
    docker compose run --rm --build writer >/dev/null
  else
    docker compose up --build -d --wait >/dev/null
  fi
}

for n in 1 2 3 4 5; do down "$n"; done
echo "== pruning the BuildKit cache"
docker builder prune -af >/dev/null

rows=""
for n in 1 2 3 4 5; do
  start=$(date +%s.%N)
  (cd "$work/repo/desafio$n" && up "$n")
  took=$(seconds_since "$start")
  echo "desafio$n: ${took} s"
  rows+="| Desafio $n, first \`up --build\` | $took s |"$'\n'
  [ "$n" = 1 ] || down "$n"
done

echo "// first-run.sh: a one-line change" >>"$work/repo/crates/d1-server/src/lib.rs"
start=$(date +%s.%N)
(cd "$work/repo/desafio1" && up 1)
took=$(seconds_since "$start")
echo "desafio1 after a one-line change: ${took} s"
rows+="| Desafio 1 again, one line of its server changed | $took s |"$'\n'

# The same through `docker compose watch` (the compose file's `develop:`
# section): from the saved file to the new container healthy.
cd "$work/repo/desafio1"
started() { docker inspect -f '{{.State.StartedAt}} {{.State.Health.Status}}' desafio1-flask-server 2>/dev/null; }
before=$(started | cut -d' ' -f1)
docker compose watch >"$work/watch.log" 2>&1 &
watch_pid=$!
# Watch is ready once it says it is watching; bounded, no blind sleep.
for _ in $(seq 1 600); do grep -qi "watch enabled" "$work/watch.log" && break; sleep 0.1; done
start=$(date +%s.%N)
echo "// first-run.sh: a second one-line change" >>"$work/repo/crates/d1-server/src/lib.rs"
took=timeout
for _ in $(seq 1 1200); do
  read -r now health <<<"$(started)"
  if [ "$now" != "$before" ] && [ "$health" = healthy ]; then took=$(seconds_since "$start"); break; fi
  sleep 0.1
done
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
cd "$root"
echo "desafio1 after a one-line change, through compose watch: ${took} s"
rows+="| the same through \`docker compose watch\` | $took s |"
down 1

python3 bench/section.py first-run <<MD
## A class's first run (bench/first-run.sh)

$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs; a fresh clone, base images present,
BuildKit cache pruned; each time is \`docker compose up --build -d --wait\`
until every service is healthy (Desafio 2: its build and one \`run\`), the
challenges taken in order, each reusing what the ones before it built.
Targets (issue 20): Desafio 1 within 60 s, each later challenge within 60 s,
a one-line change within 15 s.

| step | time |
|---|---:|
$rows
MD
