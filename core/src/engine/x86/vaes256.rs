//! VAES-256 (ymm, AVX2) CTR kernel: 8 registers × 2 blocks = 16 blocks per iteration, for CPUs
//! with VAES but without AVX-512 (Zen 3, Alder Lake).
//!
//! The wide loop is inline assembly: with only 16 ymm registers (no AVX-512VL), LLVM
//! de-interleaves the 8 chains to save registers (block after block, round keys spilled),
//! which leaves the AES units idle (PERFORMANCE.md, "The hand-written VAES experiment").
//! Here the 8 chains advance round by round, each round key is broadcast once into `ymm8`,
//! and k0, k14, the counter, its increment and the byte-swap mask stay in registers.

use core::arch::x86_64::*;

use super::super::RoundKeys;
use super::aesni::{bswap_mask, counter_lanes};

/// Blocks per iteration of the wide loop (8 ymm registers × 2 blocks).
const WIDE_BLOCKS: usize = 16;

/// XORs the keystream of `blocks` blocks from `input` into `output`, block `i` using counter
/// `counter + i` (the low 64 bits must not wrap inside the call).
///
/// # Safety
/// The CPU must support AVX2, VAES and AES-NI. `input` must be readable and `output` writable
/// for `blocks * 16` bytes; they are either equal or do not overlap.
#[target_feature(enable = "avx2,vaes,aes,ssse3")]
pub(super) unsafe fn xor_blocks(
    round_keys: &RoundKeys,
    counter: u128,
    mut input: *const u8,
    mut output: *mut u8,
    blocks: usize,
) {
    let iters = blocks / WIDE_BLOCKS;
    if iters != 0 {
        let keys = round_keys.0.as_ptr().cast::<u8>();
        // SAFETY: `keys` points at 15 × 16 readable bytes (k0 and k14 are loaded here).
        let (k0, k14) = unsafe {
            (
                _mm256_broadcastsi128_si256(_mm_loadu_si128(keys.cast())),
                _mm256_broadcastsi128_si256(_mm_loadu_si128(keys.add(14 * 16).cast())),
            )
        };
        let bswap = _mm256_broadcastsi128_si256(bswap_mask());
        let two = _mm256_set_epi64x(0, 2, 0, 2);
        // Lanes [counter, counter + 1] as little-endian (low, high) 64-bit pairs.
        let ctr = _mm256_add_epi64(
            _mm256_broadcastsi128_si256(counter_lanes(counter)),
            _mm256_set_epi64x(0, 1, 0, 0),
        );
        // SAFETY: the CPU has AVX2 + VAES (caller contract). Each iteration reads 256 bytes
        // at `input` and writes 256 bytes at `output`, `iters * 256 <= blocks * 16` bytes in
        // all, inside both buffers (caller contract); the round keys are read at offsets
        // 16..=208 of `keys` (15 × 16 bytes). Only the named registers are touched; data
        // loads of a chunk precede its stores, so in-place (`input == output`) is fine.
        unsafe {
            core::arch::asm!(
                "2:",
                // Counter blocks ^ k0 for the 8 registers (2 blocks each).
                ".irp j, 0,1,2,3,4,5,6,7",
                "vpshufb ymm\\j, ymm9, ymm10",
                "vpaddq ymm9, ymm9, ymm11",
                "vpxor ymm\\j, ymm\\j, ymm12",
                ".endr",
                // Rounds 1..=13, all 8 chains per round key.
                ".irp off, 16,32,48,64,80,96,112,128,144,160,176,192,208",
                "vbroadcasti128 ymm8, xmmword ptr [{keys} + \\off]",
                ".irp j, 0,1,2,3,4,5,6,7",
                "vaesenc ymm\\j, ymm\\j, ymm8",
                ".endr",
                ".endr",
                // Last round with the data folded into k14: out = aesenclast(b, k14 ^ in).
                ".irp j, 0,1,2,3,4,5,6,7",
                "vpxor ymm14, ymm13, ymmword ptr [{input} + 32*\\j]",
                "vaesenclast ymm\\j, ymm\\j, ymm14",
                "vmovdqu ymmword ptr [{output} + 32*\\j], ymm\\j",
                ".endr",
                "add {input}, 256",
                "add {output}, 256",
                "dec {iters}",
                "jnz 2b",
                keys = in(reg) keys,
                input = inout(reg) input,
                output = inout(reg) output,
                iters = inout(reg) iters => _,
                inout("ymm9") ctr => _,
                in("ymm10") bswap,
                in("ymm11") two,
                in("ymm12") k0,
                in("ymm13") k14,
                out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _,
                out("ymm4") _, out("ymm5") _, out("ymm6") _, out("ymm7") _,
                out("ymm8") _, out("ymm14") _,
                options(nostack),
            );
        }
    }
    let done = iters * WIDE_BLOCKS;
    // Fewer than 16 blocks left: the AES-NI kernel finishes them at the right counter.
    // SAFETY: AES-NI + SSSE3 are implied by this kernel's features; the remaining blocks are
    // inside both buffers (caller contract), and `input`/`output` were advanced past the
    // `done` blocks by the loop.
    unsafe {
        super::aesni::xor_blocks(
            round_keys,
            counter.wrapping_add(done as u128),
            input,
            output,
            blocks - done,
        );
    }
}
