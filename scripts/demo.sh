#!/usr/bin/env bash
# The README's main job on a fresh machine: the `osscse` CLI encrypts a file exactly as the
# official OSS SDKs' encryption clients do, stores ciphertext + envelope in the offline local
# store (file://), decrypts it again and verifies the bytes. No network, no cloud account.
#
#   bash scripts/demo.sh [FILE]        (default: 8 MiB of generated data)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --quiet --release -p osscse-std
osscse="${CARGO_TARGET_DIR:-$root/target}/release/osscse"
work="$root/target/osscse-demo"
rm -rf "$work" && mkdir -p "$work"
src="${1:-}"
if [ -z "$src" ]; then
  src="$work/telemetry.bin"
  head -c $((8 << 20)) /dev/urandom > "$src"
fi

set -x
"$osscse" keygen --out "$work/keys"
"$osscse" put "$src" "file://$work/store/telemetry.bin" --public-key "$work/keys/public.pem" \
  --matdesc '{"device":"demo"}'
"$osscse" head "file://$work/store/telemetry.bin"
"$osscse" get "file://$work/store/telemetry.bin" "$work/decrypted.bin" \
  --private-key "$work/keys/private.pem"
cmp "$src" "$work/decrypted.bin"
{ set +x; } 2>/dev/null
echo "ok: $(stat -c %s "$src") bytes encrypted to file://$work/store/telemetry.bin, decrypted and verified"
