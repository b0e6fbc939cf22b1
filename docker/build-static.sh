#!/bin/sh
# Builds workspace binaries as fully static executables and copies them to
# /out, for a FROM-scratch final stage. Runs inside the rust builder stage of
# every Dockerfile in this repository:
#
#   docker/build-static.sh d1-server fetch
#
# Why each step:
# - `+crt-static` links glibc statically, so the binary needs no libc in the
#   image (scratch has none) and still resolves compose service names.
# - An explicit `--target` equal to the builder's own triple is required with
#   `+crt-static` (without it proc-macros are linked statically too and
#   break). Reading the triple from rustc keeps the same Dockerfile working on
#   amd64 and on arm64 (Apple Silicon), natively.
# - `--locked` builds exactly the committed Cargo.lock.
set -eu
[ "$#" -gt 0 ] || { echo "usage: build-static.sh BIN [BIN...]" >&2; exit 2; }
# - The target/ cache mount is shared by every build on this machine, of
#   every checkout. Cargo decides what to recompile by file times, so a
#   checkout whose files are older than the last build from another one
#   would be taken as already built, and ship that other tree's code.
#   Touching our own sources makes cargo recompile the workspace crates
#   (seconds); the compiled dependencies stay cached.
find crates -name '*.rs' -exec touch {} +
target=$(rustc -vV | sed -n 's/^host: //p')
bins=""
for bin in "$@"; do bins="$bins --bin $bin"; done
# shellcheck disable=SC2086 # $bins is a list of flags
RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build --release --locked --target "$target" $bins
mkdir -p /out
for bin in "$@"; do
  cp "target/$target/release/$bin" /out/
done
ls -l /out
