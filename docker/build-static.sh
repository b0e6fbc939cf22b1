#!/bin/sh
# Builds workspace binaries as fully static executables and copies them to
# /out, for a FROM-scratch final stage. Runs inside the rust builder stage of
# every Dockerfile in this repository; the Dockerfiles of one challenge all
# ask for the same binaries, so BuildKit runs this once per challenge:
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

# The target/ cache mount is shared by every build on this machine, of every
# checkout, and cargo decides what to recompile by file times: a checkout
# whose files are older than another one's last build would pass for built.
# So each crate's files get a time from their contents: long ago if they are
# what this cache last compiled for that crate (nothing to redo), now if not.
stamps=target/source-stamps
mkdir -p "$stamps"
digest() { (cd "crates/$1" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum); }
for dir in crates/*/; do
  crate=$(basename "$dir")
  if [ "$(digest "$crate")" = "$(cat "$stamps/$crate" 2>/dev/null)" ]; then
    find "$dir" -exec touch -d @1 {} +
  else
    find "$dir" -exec touch {} +
  fi
done

target=$(rustc -vV | sed -n 's/^host: //p')
bins=""
for bin in "$@"; do bins="$bins --bin $bin"; done
# Cargo turns on, in every crate, each feature that any selected package
# asks for, and `--bin` alone selects the whole workspace. So the packages
# are the workspace without the test support (e2e, whose reqwest blocks)
# and, unless it is asked for, the checker (desafios, with bollard): what
# only they need is not compiled into the challenges. Every challenge still
# selects the same packages, so one reuses what another compiled.
skip="--exclude e2e"
case " $* " in *" desafios "*) ;; *) skip="$skip --exclude desafios" ;; esac
# shellcheck disable=SC2086 # $skip and $bins are lists of flags
RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build --release --locked --workspace $skip --target "$target" $bins \
  --message-format=json-render-diagnostics >target/artifacts.json

# Stamp only the crates this build compiled (cargo lists each one it
# checked, path crates by their folder): the others were not compiled from
# these files, whatever their contents.
sed -n 's|.*"reason":"compiler-artifact","package_id":"path+file:///src/crates/\([^#"]*\).*|\1|p' \
  target/artifacts.json | sort -u | while read -r crate; do
  digest "$crate" >"$stamps/$crate"
done
mkdir -p /out
for bin in "$@"; do
  cp "target/$target/release/$bin" /out/
done
ls -l /out
