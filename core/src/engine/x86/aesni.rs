//! AES-NI (xmm) CTR kernel, 8 blocks interleaved.

use core::arch::x86_64::*;

use super::super::RoundKeys;

/// Byte-reverses each 128-bit lane: little-endian counter lanes → big-endian counter block.
#[target_feature(enable = "sse2")]
pub(super) fn bswap_mask() -> __m128i {
    _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
}

/// The counter as `[low 64, high 64]` lanes.
#[target_feature(enable = "sse2")]
pub(super) fn counter_lanes(counter: u128) -> __m128i {
    _mm_set_epi64x((counter >> 64) as i64, counter as i64)
}

/// Loads the 15 round keys.
#[target_feature(enable = "sse2")]
pub(super) fn load_keys(round_keys: &RoundKeys) -> [__m128i; 15] {
    let mut keys = [_mm_setzero_si128(); 15];
    for (key, bytes) in keys.iter_mut().zip(&round_keys.0) {
        // SAFETY: `bytes` is a 16-byte array; unaligned loads are allowed.
        *key = unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) };
    }
    keys
}

/// Applies the AES S-box to each byte of `word` (the key schedule's `SubWord`).
///
/// # Safety
/// The CPU must support AES-NI.
#[target_feature(enable = "aes,sse2")]
pub(super) unsafe fn sub_word(word: u32) -> u32 {
    // AESKEYGENASSIST returns SubWord(X1) in dword 0 when the input's dword 1 is X1.
    let x = _mm_set_epi32(0, 0, word as i32, 0);
    _mm_cvtsi128_si32(_mm_aeskeygenassist_si128::<0>(x)) as u32
}

/// Encrypts one counter-block register and XORs it with `data`.
#[target_feature(enable = "aes,sse2")]
fn encrypt_xor(keys: &[__m128i; 15], block: __m128i, data: __m128i) -> __m128i {
    let mut b = _mm_xor_si128(block, keys[0]);
    for key in &keys[1..14] {
        b = _mm_aesenc_si128(b, *key);
    }
    _mm_aesenclast_si128(b, _mm_xor_si128(keys[14], data))
}

/// XORs the keystream of `blocks` blocks from `input` into `output`, block `i` using counter
/// `counter + i` (the low 64 bits must not wrap inside the call).
///
/// # Safety
/// The CPU must support AES-NI and SSSE3. `input` must be readable and `output` writable for
/// `blocks * 16` bytes; they are either equal or do not overlap.
#[target_feature(enable = "aes,sse2,ssse3")]
pub(super) unsafe fn xor_blocks(
    round_keys: &RoundKeys,
    counter: u128,
    mut input: *const u8,
    mut output: *mut u8,
    mut blocks: usize,
) {
    const WIDE: usize = 8;
    let keys = load_keys(round_keys);
    let bswap = bswap_mask();
    let one = _mm_set_epi64x(0, 1);
    let mut ctr = counter_lanes(counter);
    while blocks >= WIDE {
        let mut b = [_mm_setzero_si128(); WIDE];
        for block in &mut b {
            *block = _mm_xor_si128(_mm_shuffle_epi8(ctr, bswap), keys[0]);
            ctr = _mm_add_epi64(ctr, one);
        }
        for key in &keys[1..14] {
            for block in &mut b {
                *block = _mm_aesenc_si128(*block, *key);
            }
        }
        for (j, block) in b.iter().enumerate() {
            // SAFETY: `j < WIDE <= blocks`, so bytes `16 j .. 16 j + 16` are inside both
            // buffers (caller contract); unaligned access is allowed.
            unsafe {
                let data = _mm_loadu_si128(input.add(16 * j).cast());
                let out = _mm_aesenclast_si128(*block, _mm_xor_si128(keys[14], data));
                _mm_storeu_si128(output.add(16 * j).cast(), out);
            }
        }
        // SAFETY: advancing by the `WIDE` blocks just processed stays within the buffers.
        unsafe {
            input = input.add(16 * WIDE);
            output = output.add(16 * WIDE);
        }
        blocks -= WIDE;
    }
    while blocks > 0 {
        let block = _mm_shuffle_epi8(ctr, bswap);
        ctr = _mm_add_epi64(ctr, one);
        // SAFETY: `blocks > 0`, so one whole block remains in both buffers.
        unsafe {
            let data = _mm_loadu_si128(input.cast());
            _mm_storeu_si128(output.cast(), encrypt_xor(&keys, block, data));
            input = input.add(16);
            output = output.add(16);
        }
        blocks -= 1;
    }
}
