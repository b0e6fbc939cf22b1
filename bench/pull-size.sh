#!/usr/bin/env bash
# What `docker compose pull` downloads for each challenge: its images pushed
# to a local registry (Debian's docker-registry package, on 127.0.0.1), then
# the compressed sizes their manifests list (config and layers), which is
# what a pull transfers. Prints the table and writes it to bench/RESULTS.md.
#
#   bench/pull-size.sh     # builds each challenge's images (cached builds
#                          # are quick) for this machine's architecture
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/config.yml" <<YAML
version: 0.1
storage: {filesystem: {rootdirectory: $work/data}}
http: {addr: "127.0.0.1:$port"}
YAML
docker-registry serve "$work/config.yml" >/dev/null 2>&1 &
registry=$!
trap 'kill $registry; rm -rf "$work"' EXIT
until curl -fs "http://127.0.0.1:$port/v2/" >/dev/null; do sleep 0.2; done

export DESAFIOS_REGISTRY=127.0.0.1:$port/desafios DESAFIOS_TAG=pull-size
rows=""
for n in 1 2 3 4 5; do
  dir=desafio$n
  (cd "$dir" && docker compose build -q)
  declare -A blobs=() # digest -> size: images of a challenge may share a layer
  for image in $(cd "$dir" && docker compose config --format json | jq -r '.services[] | select(.build) | .image'); do
    docker push -q "$image" >/dev/null
    name=${image#"$DESAFIOS_REGISTRY/"}
    name=${name%":$DESAFIOS_TAG"}
    bytes=0
    while read -r digest size; do
      blobs[$digest]=$size
      bytes=$((bytes + size))
    done < <(curl -fs -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      "http://127.0.0.1:$port/v2/desafios/$name/manifests/$DESAFIOS_TAG" |
      jq -r '.config, .layers[] | "\(.digest) \(.size)"')
    rows+="| $dir | $name | $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') |"$'\n'
    docker image rm -f "$image" >/dev/null
  done
  total=0
  for size in "${blobs[@]}"; do total=$((total + size)); done
  unset blobs
  rows+="| $dir | **all**, shared layers once | **$(awk -v b="$total" 'BEGIN { printf "%.1f", b / 1e6 }')** |"$'\n'
done

table="| challenge | image | download MB (compressed) |
|---|---|---:|
${rows%$'\n'}"
echo "$table"

python3 bench/section.py pull-size <<MD
## What \`docker compose pull\` downloads (bench/pull-size.sh)

$(date -u +%Y-%m-%dT%H:%MZ), $(uname -m): each challenge's images pushed to a
local registry, the compressed sizes of their config and layers summed, which
is what a pull transfers. Desafio 3's postgres and redis come on top (Docker
Hub's images, not ours).

$table
MD
