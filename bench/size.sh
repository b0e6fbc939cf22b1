#!/usr/bin/env bash
# Code size as a learner meets it: non-blank lines of each crate's src/,
# leaving out the unit tests (each file up to its `#[cfg(test)]`). Comments
# count: a learner reads them.
#
#   bench/size.sh        # prints the table and writes it to bench/RESULTS.md
set -euo pipefail
cd "$(dirname "$0")/.."

lines() { # non-blank lines of the given files, each up to `#[cfg(test)]`
  local n=0 f
  for f in "$@"; do
    n=$((n + $(awk '/^#\[cfg\(test\)\]/ { exit } NF { n++ } END { print n + 0 }' "$f")))
  done
  echo "$n"
}

table="| crate | files | lines | target |
|---|---:|---:|---|"
for dir in crates/*/; do
  crate=$(basename "$dir")
  mapfile -t files < <(find "$dir/src" -name '*.rs' | sort)
  n=$(lines "${files[@]}")
  case "$crate" in
    kit) target="at most 850: $([ "$n" -le 850 ] && echo '**met**' || echo '**not met**')" ;;
    d5-gateway) target="at most 700: $([ "$n" -le 700 ] && echo '**met**' || echo '**not met**')" ;;
    *) target="" ;;
  esac
  table+=$'\n'"| $crate | ${#files[@]} | $n | $target |"
done
echo "$table"

python3 bench/section.py size <<MD
## Code size (bench/size.sh)

$(date -u +%Y-%m-%dT%H:%MZ): non-blank lines of each crate's \`src/\`, unit
tests left out (each file up to its \`#[cfg(test)]\`), comments counted.

$table
MD
