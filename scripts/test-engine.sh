#!/usr/bin/env bash
# AES-256-CTR engine checks (issue 4): every backend against ctr::Ctr128BE<aes::Aes256> (NIST
# SP 800-38A F.5.5/F.5.6 + randomized differential test, core/tests/engine.rs):
#   1. host: the test runs every backend this CPU has in one process (Engine::with_backend);
#   2. each backend once more through the forcing cfg (--cfg osscse_backend="…"), so
#      Keystream::new's dispatch is tested too; "soft" also sets aes_backend="soft" so the
#      portable backend really runs software AES. These builds use their own target dirs
#      ($CARGO_TARGET_DIR/engine-*) so the main build cache stays valid;
#      Forcing a backend of another architecture must be a compile error (2b);
#   3. aarch64 (ARMv8 AES backend) under qemu-user (DEPENDENCIES.md §3.2); installs
#      qemu-user-static, gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and the rustup target;
#      then (3b) the forced VAES-512 build under qemu-x86_64 -cpu max (no AVX-512) must panic
#      naming the missing CPU feature, so a forced backend never falls back silently;
#   4. no_std builds for thumbv7em-none-eabihf and thumbv6m-none-eabi (portable backend).
# Idempotent; quick once built. Exits non-zero on any failure; under CI=true a missing tool is a
# failure, otherwise that step is skipped with a printed reason.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
base="$CARGO_TARGET_DIR"
log() { echo "test-engine: $*" >&2; }
missing() {
  if [ "${CI:-}" = "true" ]; then
    log "FAIL (CI=true): $*"
    exit 1
  fi
  log "skipping: $*"
}
test_engine() { cargo test --quiet -p osscse-core --test engine "$@"; }

# 1. All backends of this CPU, natively dispatched.
log "cargo test -p osscse-core --test engine (host)"
test_engine

# 2. Forced backends (x86-64 only; the CPU must have the instructions).
# With nightly cargo, -Z profile-rustflags applies the cfg to osscse-core (and `aes`) only, so the
# dependencies are built once in $CARGO_TARGET_DIR/engine-forced and each variant rebuilds just
# the core (seconds). Without nightly, RUSTFLAGS with one target dir per variant (a full build
# each).
if rustup run nightly cargo --version >/dev/null 2>&1; then nightly=1; else nightly=0; fi
forced_cargo() { # backend, cfg for osscse-core, cfg for aes (may be empty), cargo command...
  local backend="$1" core_cfg="$2" aes_cfg="$3"
  shift 3
  if [ "$nightly" = 1 ]; then
    local args=(-Z profile-rustflags
      --config "profile.dev.package.osscse-core.rustflags=[\"--cfg\", '$core_cfg']")
    [ -n "$aes_cfg" ] && args+=(--config "profile.dev.package.aes.rustflags=[\"--cfg\", '$aes_cfg']")
    log "cargo +nightly $1 with --cfg $core_cfg${aes_cfg:+ --cfg $aes_cfg}: ${*:2}"
    CARGO_TARGET_DIR="$base/engine-forced" cargo +nightly "$1" "${args[@]}" "${@:2}"
  else
    local flags="--cfg $core_cfg${aes_cfg:+ --cfg $aes_cfg}"
    log "RUSTFLAGS='$flags' cargo $*"
    RUSTFLAGS="$flags" CARGO_TARGET_DIR="$base/engine-$backend" cargo "$@"
  fi
}
forced_test() { # backend, cfg for osscse-core, cfg for aes (may be empty)
  OSSCSE_EXPECT_BACKEND="$1" forced_cargo "$1" "$2" "$3" test --quiet -p osscse-core --test engine
}
if [ "$(uname -m)" = "x86_64" ]; then
  cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  has() { for f in "$@"; do [[ "$cpu_flags" == *" $f "* ]] || return 1; done; }
  for backend in soft aesni vaes256 vaes512; do
    case "$backend" in
      soft) need=() ;;
      aesni) need=(aes ssse3) ;;
      vaes256) need=(aes avx2 vaes) ;;
      vaes512) need=(aes avx512f avx512bw vaes) ;;
    esac
    if [ "${#need[@]}" -gt 0 ] && ! has "${need[@]}"; then
      log "skipping forced $backend: this CPU lacks one of: ${need[*]}"
      continue
    fi
    aes_cfg=""
    [ "$backend" = soft ] && aes_cfg='aes_backend="soft"'
    forced_test "$backend" "osscse_backend=\"$backend\"" "$aes_cfg"
  done

  # 2b. Forcing a backend of another architecture does not compile (no silent fallback).
  if out=$(forced_cargo armv8 'osscse_backend="armv8"' "" check --quiet -p osscse-core 2>&1); then
    log "FAIL: --cfg osscse_backend=\"armv8\" compiled on x86_64"
    exit 1
  fi
  if ! grep -q 'forces the ARMv8 AES backend, which needs an aarch64 target' <<<"$out"; then
    printf '%s\n' "$out" >&2
    log "FAIL: --cfg osscse_backend=\"armv8\" on x86_64 failed without the expected compile_error"
    exit 1
  fi
  log "ok: --cfg osscse_backend=\"armv8\" on x86_64 is a compile error"
fi

# 3. aarch64 under qemu-user.
aarch64_ready() {
  command -v qemu-aarch64-static >/dev/null && command -v aarch64-linux-gnu-gcc >/dev/null &&
    [ -d /usr/aarch64-linux-gnu/lib ]
}
if ! aarch64_ready && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  log "installing qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
  apt-cache show qemu-user-static >/dev/null 2>&1 || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
fi
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu || true
fi
if aarch64_ready && rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu -cpu max"
  log "cargo test -p osscse-core --test engine --target aarch64-unknown-linux-gnu (qemu-user)"
  OSSCSE_EXPECT_BACKEND=armv8 test_engine --target aarch64-unknown-linux-gnu
else
  missing "aarch64 tests need qemu-aarch64-static, aarch64-linux-gnu-gcc, libc6-dev-arm64-cross and the rustup target aarch64-unknown-linux-gnu"
fi

# 3b. A forced backend on a CPU without its instructions panics, naming the missing feature:
# the forced VAES-512 build under qemu-x86_64 -cpu max (QEMU's TCG has no AVX-512).
if [ "$(uname -m)" = "x86_64" ]; then
  if command -v qemu-x86_64-static >/dev/null; then
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="qemu-x86_64-static -cpu max" \
      OSSCSE_EXPECT_MISSING=avx512f \
      forced_cargo vaes512 'osscse_backend="vaes512"' "" test --quiet -p osscse-core --test engine \
      -- --exact forced_backend_is_the_one_running
    log "ok: forced vaes512 without AVX-512 (qemu-x86_64) panics naming avx512f"
  else
    missing "the forced-backend-without-the-CPU check needs qemu-x86_64-static (apt: qemu-user-static)"
  fi
fi

# 4. Portable backend on microcontrollers (build only; test-embedded.sh runs firmware).
for t in thumbv7em-none-eabihf thumbv6m-none-eabi; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  log "cargo build -p osscse-core --target $t"
  cargo build --quiet -p osscse-core --target "$t"
done
log "all engine checks passed"
