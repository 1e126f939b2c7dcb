#!/usr/bin/env bash
# Footprint report for osscse-embedded (a benchmark, not a test): builds the firmware example
# (hal-embedded/firmware: DRBG, RSA-2048 wrap of key and IV, AES-256-CTR, V4 signing) for
# thumbv7em-none-eabihf at opt-level "s" and "z" and reports
#   flash = .vector_table + .text + .rodata + .data (load image)
#   ram   = .data + .bss + .uninit (static RAM, including the 16 KiB heap arena; stack not counted)
# and the peak heap for the RSA-2048 wrap, measured by running the "s" build under
# qemu-system-arm (mps2-an386) with a high-water-mark allocator.
# Targets (issue 6): <= 96 KiB flash, <= 32 KiB RAM including heap.
# Also the symmetric build (`--no-default-features --features symmetric`: an AES-256 CMK and the
# AES-GCM wrap instead of the RSA public key) at opt-level "s", run the same way; target
# (issue 14): <= 48 KiB flash. Its line is the second last:
#   symmetric_flash_bytes=N symmetric_ram_bytes=N symmetric_heap_peak_bytes=N
# Then the firmware with the Uploader over plain HTTP and with the TLS connector (issue 15):
#   upload_flash_bytes=N upload_ram_bytes=N tls_flash_bytes=N tls_ram_bytes=N
# The last line is: flash_bytes=N ram_bytes=N heap_peak_bytes=N (RSA build, opt-level "s").
# Needs the thumbv7em-none-eabihf target and qemu-system-arm (run bash scripts/test-embedded.sh once).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
fw="$here/firmware"
elf_name=osscse-firmware-example

size_tool="$(command -v llvm-size || true)"
section_sizes() { # ELF -> "name size" lines
  if [ -n "$size_tool" ]; then
    "$size_tool" -A "$1" | awk 'NR>2 && NF>=3 {print $1, $2}'
  else
    readelf -S -W "$1" | awk '/^ *\[ *[0-9]+\]/ { sub(/^ *\[ *[0-9]+\] */, ""); print $1, strtonum("0x" $5) }'
  fi
}
sum_sections() { # ELF section-names...
  local elf="$1"; shift
  local names=" $* "
  section_sizes "$elf" | awk -v names="$names" 'index(names, " " $1 " ") {s += $2} END {print s + 0}'
}

declare -A flash ram elf_of
# build NAME OPT [cargo args...]: records flash[NAME], ram[NAME], elf_of[NAME]
build() {
  local name="$1" opt="$2"; shift 2
  local target_dir="$fw/target/footprint-$name"
  (cd "$fw" && CARGO_TARGET_DIR="$target_dir" CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" \
    cargo build --release --quiet "$@")
  local elf="$target_dir/thumbv7em-none-eabihf/release/$elf_name"
  elf_of[$name]="$elf"
  flash[$name]=$(sum_sections "$elf" .vector_table .text .rodata .data)
  ram[$name]=$(sum_sections "$elf" .data .bss .uninit)
}
build s s
build z z
build sym s --no-default-features --features symmetric

qemu="${OSSCSE_QEMU_SYSTEM_ARM:-}"
if [ -z "$qemu" ]; then
  if command -v qemu-system-arm >/dev/null; then qemu=qemu-system-arm
  elif [ -x "$root/.tools/qemu-root/usr/bin/qemu-system-arm" ]; then qemu="$root/.tools/qemu-root/usr/bin/qemu-system-arm"
  else echo "footprint: qemu-system-arm not found; run bash scripts/test-embedded.sh first" >&2; exit 1
  fi
fi
run() { # ELF -> firmware output (fails the report when the firmware does not print result=ok)
  local out
  out="$(timeout 120 "$qemu" -cpu cortex-m4 -machine mps2-an386 -nographic -monitor none \
    -semihosting-config enable=on,target=native -kernel "$1")"
  grep -qx 'result=ok' <<<"$out" || { echo "footprint: firmware run failed ($1):" >&2; echo "$out" >&2; exit 1; }
  echo "$out"
}
out="$(run "${elf_of[s]}")"
heap_wrap=$(sed -n 's/^heap_wrap_peak_bytes=//p' <<<"$out")
heap_total=$(sed -n 's/^heap_peak_bytes=//p' <<<"$out")
sym_out="$(run "${elf_of[sym]}")"
sym_heap_wrap=$(sed -n 's/^heap_wrap_peak_bytes=//p' <<<"$sym_out")
sym_heap_total=$(sed -n 's/^heap_peak_bytes=//p' <<<"$sym_out")

kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
printf '%-10s %12s %12s\n' "opt-level" "flash" "static RAM"
for opt in s z; do
  printf '%-10s %12s %12s\n' "\"$opt\"" "$(kib "${flash[$opt]}")" "$(kib "${ram[$opt]}")"
done
printf '%-10s %12s %12s   %s\n' "\"s\" sym" "$(kib "${flash[sym]}")" "$(kib "${ram[sym]}")" \
  "symmetric CMK (AES-256-GCM wrap) instead of RSA"
echo "heap peak: RSA-2048 wrap of key and IV $heap_wrap B; whole run $heap_total B (arena 16384 B, counted in static RAM)"
echo "heap peak (symmetric): AES-GCM wrap of key and IV $sym_heap_wrap B; whole run $sym_heap_total B (arena 8192 B, counted in static RAM)"
# Payload signing (issue 15): the same firmware with the ciphertext's Content-MD5 in the signed
# PUT (osscse-embedded's default PayloadSigning::ContentMd5), and the hash cost per KiB measured
# with SysTick under QEMU -icount shift=0 (1 instruction = 1 virtual ns; SysTick at the AN386's
# 25 MHz SYSCLK, so ticks x 40 = instructions; a Cortex-M4 runs about one instruction a cycle).
md5_dir="$fw/target/footprint-md5"
(cd "$fw" && CARGO_TARGET_DIR="$md5_dir" CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
  cargo build --release --quiet --features payload-md5)
md5_elf="$md5_dir/thumbv7em-none-eabihf/release/$elf_name"
flash_md5=$(sum_sections "$md5_elf" .vector_table .text .rodata .data)
md5_out="$(timeout 120 "$qemu" -cpu cortex-m4 -machine mps2-an386 -nographic -monitor none \
  -icount shift=0 -semihosting-config enable=on,target=native -kernel "$md5_elf")"
grep -qx 'result=ok' <<<"$md5_out" || { echo "footprint: payload-md5 firmware failed:" >&2; echo "$md5_out" >&2; exit 1; }
per_kib() { awk -v t="$1" 'BEGIN { printf "%.0f", t * 40 / 16 }'; }
md5_kib=$(per_kib "$(sed -n 's/^md5_16k_ticks=//p' <<<"$md5_out")")
sha_kib=$(per_kib "$(sed -n 's/^sha256_16k_ticks=//p' <<<"$md5_out")")
printf '%-10s %12s   (+%d B for Content-MD5 payload signing)\n' '"s"+md5' "$(kib "$flash_md5")" \
  "$((flash_md5 - flash[s]))"
echo "hash cost on Cortex-M4 (QEMU icount): MD5 ~$md5_kib insns/KiB (default signing), SHA-256 ~$sha_kib insns/KiB (ContentMd5AndSha256); the AES-CTR pass runs twice when signing"
# The uploader (issue 15): the same firmware also PUTs the payload with osscse-embedded's
# Uploader (reqwless, payload signing) through an in-memory transport with no server, over
# plain HTTP (feature upload) and over HTTPS with the TLS connector (feature tls: embedded-tls,
# pinned CA with P-256/P-384/Ed25519 chain checks, 16 640 + 4 096 B record buffers in static
# RAM). Both run under QEMU (the handshake stops at the missing server: upload=no-server).
build upload s --features upload
build tls s --features tls
for v in upload tls; do
  grep -qx 'upload=no-server' <<<"$(run "${elf_of[$v]}")" || { echo "footprint: $v firmware did not try its PUT" >&2; exit 1; }
done
printf '%-10s %12s %12s   %s\n' '"s"+upload' "$(kib "${flash[upload]}")" "$(kib "${ram[upload]}")" \
  "+ Uploader over plain HTTP (reqwless, Content-MD5 signing)"
printf '%-10s %12s %12s   %s\n' '"s"+tls' "$(kib "${flash[tls]}")" "$(kib "${ram[tls]}")" \
  "+ Uploader over TLS 1.3 with a pinned CA (+$((flash[tls] - flash[upload])) B flash, +$((ram[tls] - ram[upload])) B RAM over plain HTTP)"
echo "upload_flash_bytes=${flash[upload]} upload_ram_bytes=${ram[upload]} tls_flash_bytes=${flash[tls]} tls_ram_bytes=${ram[tls]}"
echo "targets: flash <= 98304 B (symmetric <= 49152 B), RAM incl. heap <= 32768 B"
echo "symmetric_flash_bytes=${flash[sym]} symmetric_ram_bytes=${ram[sym]} symmetric_heap_peak_bytes=$sym_heap_wrap"
echo "flash_bytes=${flash[s]} ram_bytes=${ram[s]} heap_peak_bytes=$heap_wrap"
