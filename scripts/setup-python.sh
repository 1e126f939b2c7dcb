#!/usr/bin/env bash
# Creates (or reuses) the Python virtual environment with the official OSS SDKs that the interop
# tests drive: .venv/ at the repository root. Idempotent: a venv whose packages already match
# the pinned versions is left alone (about 0.3 s).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
# Pinned: the versions the interop suites were written against (DEPENDENCIES.md §8).
pkgs=(oss2==2.19.1 alibabacloud-oss-v2==1.4.1 aliyun-python-sdk-kms==2.16.5 cryptography pycryptodome)
stamp="$venv/.osscse-pins"
want="${pkgs[*]}"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "setup-python: $python not found; install Python 3.9+" >&2; exit 1; }
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pkgs[@]}"
printf '%s' "$want" > "$stamp"
echo "setup-python: $venv ready ($want)"
