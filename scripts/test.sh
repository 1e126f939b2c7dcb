#!/usr/bin/env bash
# The README's test command: installs what the tests need (idempotent, quick when present) and
# runs every check and test of the workspace. Exits non-zero on the first failure.
#
#   bash scripts/test.sh
#
# Under CI=true, tests that need an external tool (Python SDKs, qemu, cross linkers) fail when it
# is missing instead of skipping.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
start=$SECONDS
step() { printf '\n== [%4ds] %s\n' "$((SECONDS - start))" "$*"; }

step "setup: rustup components and targets"
installed_components="$(rustup component list --installed)"
for c in rustfmt clippy; do
  grep -q "^$c" <<<"$installed_components" || rustup component add "$c"
done
installed_targets="$(rustup target list --installed)"
for t in thumbv7em-none-eabihf thumbv6m-none-eabi; do
  grep -qx "$t" <<<"$installed_targets" || rustup target add "$t"
done

step "setup: system packages (OpenSSL headers for the comparison benches)"
need=()
for p in libssl-dev pkg-config; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-cache show "${need[0]}" >/dev/null 2>&1 || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

step "setup: Python venv with the official OSS SDKs"
bash scripts/setup-python.sh
export OSSCSE_PYTHON="$root/.venv/bin/python"

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy -D warnings, one package at a time (no feature unification)"
cargo clippy --quiet -p osscse-core --all-targets --all-features -- -D warnings
cargo clippy --quiet -p osscse-core --lib --no-default-features -- -D warnings
for pkg in osscse-std osscse-tests osscse-embedded osscse-benches; do
  cargo clippy --quiet -p "$pkg" --all-targets -- -D warnings
done
# osscse-std without its default features: RSA unwraps on the pure-Rust `rsa` crate, no CLI.
cargo clippy --quiet -p osscse-std --lib --tests --no-default-features -- -D warnings

step "no_std: osscse-core for Cortex-M4F (with RSA) and Cortex-M0 (without RSA), both with the AES-GCM wrap"
cargo build --quiet -p osscse-core --target thumbv7em-none-eabihf --features rsa,sign,async,aes-gcm-wrap
cargo build --quiet -p osscse-core --target thumbv6m-none-eabi --features sign,async,aes-gcm-wrap
# No std-only crate may sneak into those builds (they would not link without std anyway; this
# names the culprit).
for spec in "thumbv7em-none-eabihf rsa,sign,async,aes-gcm-wrap" "thumbv6m-none-eabi sign,async,aes-gcm-wrap"; do
  set -- $spec
  tree="$(cargo tree -p osscse-core --target "$1" --features "$2" -e normal --prefix none --format '{p}')"
  if grep -E '^(std|libc|getrandom|once_cell|serde_json|tokio|ureq|rustls|ring|thiserror|anyhow) ' <<<"$tree"; then
    echo "std-only crates in the $1 build of osscse-core (above)" >&2
    exit 1
  fi
done

step "tests: osscse-core (fixtures, Python SDK interop, negative, streams, signing, docs)"
cargo test -p osscse-core --all-features

step "tests: osscse-std and the osscse CLI"
cargo test -p osscse-std
# The keys without AWS-LC (feature aws-lc off): the same tests on the `rsa` crate.
cargo test -p osscse-std --no-default-features --lib keys

step "tests: osscse-tests (loopback server with the official SDKs)"
cargo test -p osscse-tests

step "tests: osscse-embedded TLS connector against a local TLS server (feature tls)"
cargo test -p osscse-embedded --features tls --test tls

step "cargo doc --workspace --no-deps, warnings denied"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --workspace --no-deps

if [ -f scripts/fuzz.sh ]; then
  step "fuzz: every target, fixed seed and run count (scripts/fuzz.sh)"
  bash scripts/fuzz.sh
fi

for area in engine embedded; do
  if [ -f "scripts/test-$area.sh" ]; then
    step "scripts/test-$area.sh"
    bash "scripts/test-$area.sh"
  fi
done

step "done in $((SECONDS - start)) s"
