#!/usr/bin/env bash
# Runs every cargo-fuzz target for FUZZ_SECONDS (default 30) each; a crash fails the run.
# Installs cargo-fuzz (and the nightly toolchain) when missing. Corpora live in fuzz/corpus/
# (git-ignored), seeded from fuzz/seeds/<target>/ and, for the envelope targets, from the SDK
# fixtures' headers in ../shared/vectors/sdk-fixtures (converted at run time, never committed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-30}"
log() { echo "fuzz: $*" >&2; }

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

cd "$root/fuzz"
fixtures="$root/../shared/vectors/sdk-fixtures"
for t in $(cargo +nightly fuzz list); do
  mkdir -p "corpus/$t"
  [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
done
if [ -d "$fixtures" ]; then
  for meta in "$fixtures"/*.meta.json; do
    name="$(basename "$meta" .meta.json)"
    python3 -c 'import json,sys; print("\n".join(f"{k}: {v}" for k,v in json.load(open(sys.argv[1])).items()))' \
      "$meta" > "corpus/envelope_parse/fixture-$name.txt"
    cp "corpus/envelope_parse/fixture-$name.txt" "corpus/legacy/fixture-$name.txt"
  done
elif [ "${CI:-}" = "true" ]; then
  log "SDK fixtures missing at $fixtures (CI=true)"
  exit 1
fi

log "building all targets (nightly, ASan)"
cargo +nightly fuzz build -O
for t in $(cargo +nightly fuzz list); do
  log "$t for ${seconds}s"
  out="$(mktemp)"
  if ! cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" >"$out" 2>&1; then
    tail -40 "$out" >&2
    log "FAIL: $t crashed; reproduce with: cd fuzz && cargo +nightly fuzz run $t artifacts/$t/<crash file>"
    exit 1
  fi
  grep -E '^(#[0-9]+[[:space:]]+DONE|Done )' "$out" || true
  rm -f "$out"
done
log "all targets ran ${seconds}s without a crash"
