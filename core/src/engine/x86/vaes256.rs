//! VAES-256 (ymm, AVX2) CTR kernel: 8 registers × 2 blocks = 16 blocks per iteration, for CPUs
//! with VAES but without AVX-512 (Zen 3, Alder Lake).

use core::arch::x86_64::*;

use super::super::RoundKeys;
use super::aesni::{bswap_mask, counter_lanes, load_keys};

/// ymm registers in flight per iteration.
const WIDE: usize = 8;

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
    mut blocks: usize,
) {
    let keys128 = load_keys(round_keys);
    let mut keys = [_mm256_setzero_si256(); 15];
    for (key, k) in keys.iter_mut().zip(keys128) {
        *key = _mm256_broadcastsi128_si256(k);
    }
    let bswap = _mm256_broadcastsi128_si256(bswap_mask());
    let two = _mm256_set_epi64x(0, 2, 0, 2);
    let mut ctr = _mm256_add_epi64(
        _mm256_broadcastsi128_si256(counter_lanes(counter)),
        _mm256_set_epi64x(0, 1, 0, 0),
    );
    let mut next = counter;
    while blocks >= 2 * WIDE {
        let mut b = [_mm256_setzero_si256(); WIDE];
        for block in &mut b {
            *block = _mm256_xor_si256(_mm256_shuffle_epi8(ctr, bswap), keys[0]);
            ctr = _mm256_add_epi64(ctr, two);
        }
        for key in &keys[1..14] {
            for block in &mut b {
                *block = _mm256_aesenc_epi128(*block, *key);
            }
        }
        for (j, block) in b.iter().enumerate() {
            // SAFETY: `j < WIDE` and `2 * WIDE <= blocks`, so bytes `32 j .. 32 j + 32` are
            // inside both buffers (caller contract); unaligned access is allowed.
            unsafe {
                let data = _mm256_loadu_si256(input.add(32 * j).cast());
                let out = _mm256_aesenclast_epi128(*block, _mm256_xor_si256(keys[14], data));
                _mm256_storeu_si256(output.add(32 * j).cast(), out);
            }
        }
        // SAFETY: advancing by the `2 * WIDE` blocks just processed stays within the buffers.
        unsafe {
            input = input.add(32 * WIDE);
            output = output.add(32 * WIDE);
        }
        blocks -= 2 * WIDE;
        next = next.wrapping_add(2 * WIDE as u128);
    }
    // Fewer than 16 blocks left: the AES-NI kernel finishes them at the right counter.
    // SAFETY: AES-NI + SSSE3 are implied by this kernel's features; the remaining `blocks`
    // blocks are inside both buffers (caller contract).
    unsafe { super::aesni::xor_blocks(round_keys, next, input, output, blocks) }
}
