#!/usr/bin/env bash
# The README's main job on a fresh machine: encrypt a file the way the official OSS SDKs do,
# store ciphertext + envelope locally, decrypt it again and verify (no network, no account).
#
#   bash scripts/demo.sh [FILE]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
exec cargo run --quiet --release -p osscse-core --features rsa,std --example local_roundtrip -- "$@"
