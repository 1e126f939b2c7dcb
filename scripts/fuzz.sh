#!/usr/bin/env bash
# Runs every cargo-fuzz target; a crash fails the run. Installs cargo-fuzz (and the nightly
# toolchain) when missing.
#
#   bash scripts/fuzz.sh                  # CI mode: deterministic, the same work on every run
#   bash scripts/fuzz.sh --explore 600    # exploratory: SECONDS per target, persistent corpus
#   bash scripts/fuzz.sh --explore 600 envelope_parse    # one target
#
# CI mode starts each target from a fresh corpus built from fuzz/seeds/<target>/,
# fuzz/regressions/<target>/ and (for the envelope targets) the SDK fixtures' headers in
# ../shared/vectors/sdk-fixtures, and runs it with a fixed libFuzzer seed (-seed) and a fixed
# number of executions (-runs, FUZZ_RUNS overrides), so two runs of the same commit do the same
# work and print the same statistics (cov/ft/corp; exec/s is left out, it depends on load).
# Explore mode grows fuzz/corpus/<target>/ (git-ignored) for as long as asked, with a random seed.
# Crashes land in fuzz/artifacts/<target>/: fix the bug and copy the input to
# fuzz/regressions/<target>/ (see fuzz/regressions/README.md), where `cargo test` replays it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "fuzz: $*" >&2; }

mode=ci
explore_seconds=0
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --explore)
      mode=explore
      explore_seconds="${2:?--explore needs SECONDS}"
      shift 2
      ;;
    -h | --help)
      sed -n '2,18p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    -*)
      log "unknown option $1 (see --help)"
      exit 2
      ;;
    *)
      only="$1"
      shift
      ;;
  esac
done

# The executions each target runs in CI mode: sized so that each takes roughly 10-40 s on a
# 2-core machine under ASan. Fixed numbers, not time limits, so the work does not depend on load.
runs_for() {
  case "$1" in
    envelope_parse) echo 400000 ;;
    matdesc) echo 400000 ;;
    plan) echo 400000 ;;
    legacy) echo 400000 ;;
    sign_canonical) echo 100000 ;;
    stream_decrypt) echo 50000 ;;
    oss_xml) echo 200000 ;;
    *) echo 100000 ;;
  esac
}
# One fixed libFuzzer seed for CI mode (any fixed value; changing it changes the work done).
seed=20261202

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

cd "$root/fuzz"
fixtures="$root/../shared/vectors/sdk-fixtures"
if [ ! -d "$fixtures" ] && [ "${CI:-}" = "true" ]; then
  log "SDK fixtures missing at $fixtures (CI=true)"
  exit 1
fi

# Fills directory $2 with the starting inputs of target $1.
seed_corpus() {
  local t="$1" dir="$2" sub meta name
  mkdir -p "$dir"
  for sub in seeds regressions; do
    if [ -d "$sub/$t" ]; then
      find "$sub/$t" -maxdepth 1 -type f -exec cp -n {} "$dir/" \;
    fi
  done
  if [ -d "$fixtures" ] && { [ "$t" = envelope_parse ] || [ "$t" = legacy ]; }; then
    for meta in "$fixtures"/*.meta.json; do
      name="$(basename "$meta" .meta.json)"
      python3 -c 'import json,sys; print("\n".join(f"{k}: {v}" for k,v in json.load(open(sys.argv[1])).items()))' \
        "$meta" >"$dir/fixture-$name.txt"
    done
  fi
}

log "building all targets (nightly, ASan)"
cargo +nightly fuzz build -O
targets="$(cargo +nightly fuzz list)"
if [ -n "$only" ]; then
  grep -qx "$only" <<<"$targets" || { log "no target $only (have: $(echo $targets))"; exit 2; }
  targets="$only"
fi

launcher=()
if [ "$mode" = ci ]; then
  if setarch -R true 2>/dev/null; then
    launcher=(setarch -R)
  else
    log "warning: setarch -R (no ASLR) is not permitted here; statistics may differ between runs"
  fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for t in $targets; do
  out="$work/$t.log"
  if [ "$mode" = ci ]; then
    corpus="$work/corpus-$t"
    seed_corpus "$t" "$corpus"
    runs="${FUZZ_RUNS:-$(runs_for "$t")}"
    log "$t: -seed=$seed -runs=$runs from $(find "$corpus" -type f | wc -l) inputs"
    # -reload=0: libFuzzer re-reads the corpus directory every second by default, which makes
    # the work depend on timing. ASLR changes the pointer values its compare tracing records,
    # so run without it (setarch -R) where the kernel allows.
    # -entropic=0: with the entropic power schedule two clean-clone runs of one commit ended
    # with different statistics for sign_canonical and stream_decrypt.
    # -use_cmp=0 -use_memmem=0: traced comparisons record heap addresses (Rust iterators
    # compare pointers), whose values depend on the timing of libFuzzer's background work, so
    # with compare tracing the statistics of sign_canonical, then of oss_xml and plan, differed
    # between runs of one build under different load (oss_xml cov 1008 quiet, 1007 with two
    # CPU burners beside it; plan 180 and 181). Without it every target printed the same
    # statistics quiet and loaded (2026-12-06). -rss_limit_mb=0 (no RSS thread) did not help.
    # --explore keeps entropic and compare tracing, which find more.
    args=(-seed="$seed" -runs="$runs" -reload=0 -entropic=0 -use_cmp=0 -use_memmem=0)
  else
    corpus="corpus/$t"
    seed_corpus "$t" "$corpus"
    log "$t: exploring for ${explore_seconds}s (corpus $corpus)"
    args=(-max_total_time="$explore_seconds")
  fi
  start=$SECONDS
  if ! "${launcher[@]}" cargo +nightly fuzz run -O "$t" "$corpus" -- "${args[@]}" >"$out" 2>&1; then
    tail -40 "$out" >&2
    log "FAIL: $t crashed; reproduce with: cd fuzz && cargo +nightly fuzz run $t artifacts/$t/<crash file>"
    log "then fix it and keep the input in fuzz/regressions/$t/ (fuzz/regressions/README.md)"
    exit 1
  fi
  # The final statistics line without the load-dependent fields (exec/s, rss).
  stats="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$out" | tail -1 |
    sed -E 's/ exec\/s: [0-9]+//; s/ rss: [0-9]+Mb//' || true)"
  echo "fuzz: $t: ${stats:-no DONE line} ($((SECONDS - start)) s)"
done
if [ "$mode" = ci ]; then
  log "all targets ran their fixed -runs without a crash"
else
  log "all targets explored ${explore_seconds}s without a crash"
fi
