#!/usr/bin/env bash
# Embedded checks for osscse-embedded (issue 6):
#   1. rustup targets thumbv7em-none-eabihf and thumbv6m-none-eabi; builds the crate for both;
#   2. qemu-system-arm: if not installed, installs its library dependencies (--no-upgrade) and
#      unpacks Debian's qemu-system-arm/-common/-data privately into .tools/qemu-root
#      (DEPENDENCIES.md §3.1; installing the package itself would remove qemu-utils);
#   3. cargo test -p osscse-embedded: host tests (health tests, CAVP CTR_DRBG, Python cross-check,
#      uploader against the loopback server) and the firmware example run under qemu-system-arm
#      mps2-an386 with semihosting, its output compared with osscse-core on the host.
# Idempotent; about a second of checks when everything is installed. Exits non-zero on any failure;
# under CI=true the tests fail (instead of skipping) when a tool is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
log() { echo "test-embedded: $*" >&2; }

# 1. Targets and no_std builds.
targets=(thumbv7em-none-eabihf thumbv6m-none-eabi)
installed="$(rustup target list --installed)"
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
# thumbv6m (Cortex-M0) without RSA: rsa 0.10's crypto-bigint needs atomic CAS (DEPENDENCIES.md §1.2).
log "cargo build -p osscse-embedded --target thumbv7em-none-eabihf --features tls,log"
cargo build --quiet -p osscse-embedded --target thumbv7em-none-eabihf --features tls,log
log "cargo build -p osscse-embedded --target thumbv6m-none-eabi --no-default-features"
cargo build --quiet -p osscse-embedded --target thumbv6m-none-eabi --no-default-features

# 2. qemu-system-arm (private unpack).
qemu_root="$root/.tools/qemu-root"
qemu_libs=(libaio1 libasound2 libbpf1 libbrlapi0.8 libcacard0 libcap-ng0 libcapstone4 libepoxy0 libfdt1
  libfuse3-3 libgbm1 libglib2.0-0 libgmp10 libgnutls30 libhogweed6 libibverbs1 libjpeg62-turbo libncursesw6
  libnettle8 libnuma1 libpixman-1-0 libpmem1 libpng16-16 librdmacm1 libsasl2-2 libseccomp2 libslirp0 libsndio7.0
  libspice-server1 libtinfo6 libudev1 liburing2 libusb-1.0-0 libusbredirparser1 libvdeplug2 libzstd1 zlib1g)
qemu_works() { "$1" --version >/dev/null 2>&1; }
if qemu_works qemu-system-arm; then
  qemu="$(command -v qemu-system-arm)"
elif qemu_works "$qemu_root/usr/bin/qemu-system-arm"; then
  qemu="$qemu_root/usr/bin/qemu-system-arm"
else
  log "installing qemu-system-arm privately into .tools/qemu-root"
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    log "cannot install qemu-system-arm (needs root and apt-get)"
    exit 1
  fi
  missing=()
  for p in "${qemu_libs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ] || ! apt-cache show qemu-system-arm >/dev/null 2>&1; then
    apt-get update -qq
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade "${missing[@]}" >/dev/null
  fi
  debs="$root/.tools/debs"
  rm -rf "$debs" "$qemu_root"
  mkdir -p "$debs" "$qemu_root"
  (cd "$debs" && apt-get download -qq qemu-system-arm qemu-system-common qemu-system-data)
  for f in "$debs"/*.deb; do dpkg -x "$f" "$qemu_root"; done
  qemu="$qemu_root/usr/bin/qemu-system-arm"
  qemu_works "$qemu" || { log "unpacked qemu-system-arm does not run"; "$qemu" --version; exit 1; }
fi
log "using $("$qemu" --version | head -n1) ($qemu)"
export OSSCSE_QEMU_SYSTEM_ARM="$qemu"

# 3. Host tests, the firmware under QEMU, and the Python cross-checks (need the venv).
bash "$root/scripts/setup-python.sh"
log "cargo test -p osscse-embedded --features log"
cargo test --quiet -p osscse-embedded --features log
