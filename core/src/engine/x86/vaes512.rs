//! VAES-512 (zmm) CTR kernel: 8 registers × 4 blocks = 32 blocks per iteration.
//!
//! Per register `b = bswap(counter lanes) ^ k0`, 13 × `vaesenc`, then
//! `vaesenclast(b, k14 ^ data)` folds the data XOR into the last round (PERFORMANCE.md, "The
//! hand-written VAES experiment").

use core::arch::x86_64::*;

use super::super::RoundKeys;
use super::aesni::{bswap_mask, counter_lanes, load_keys};

/// zmm registers in flight per iteration.
const WIDE: usize = 8;

/// Loads up to 4 blocks (`mask` selects the bytes) and returns `data ^ keystream`.
#[target_feature(enable = "avx512f,avx512bw,vaes,aes")]
fn encrypt_xor(keys: &[__m512i; 15], block: __m512i, data: __m512i) -> __m512i {
    let mut b = _mm512_xor_si512(block, keys[0]);
    for key in &keys[1..14] {
        b = _mm512_aesenc_epi128(b, *key);
    }
    _mm512_aesenclast_epi128(b, _mm512_xor_si512(keys[14], data))
}

/// Encrypts the next `n` (1..=4) counter blocks and XORs them from `input` into `output`.
///
/// # Safety
/// As [`xor_blocks`], with `n * 16` bytes readable at `input` and writable at `output`.
#[target_feature(enable = "avx512f,avx512bw,vaes,aes")]
unsafe fn up_to_4(
    keys: &[__m512i; 15],
    ctr: &mut __m512i,
    bswap: __m512i,
    n: usize,
    input: *const u8,
    output: *mut u8,
) {
    // Byte mask of the `n` blocks (all 64 bytes when n == 4).
    let mask: __mmask64 = if n >= 4 {
        u64::MAX
    } else {
        (1u64 << (16 * n)) - 1
    };
    let block = _mm512_shuffle_epi8(*ctr, bswap);
    *ctr = _mm512_add_epi64(
        *ctr,
        _mm512_set_epi64(0, n as i64, 0, n as i64, 0, n as i64, 0, n as i64),
    );
    // SAFETY: the mask covers exactly the `n * 16` bytes the caller guarantees; masked-off
    // bytes are neither read (no fault) nor written.
    unsafe {
        let data = _mm512_maskz_loadu_epi8(mask, input.cast());
        _mm512_mask_storeu_epi8(output.cast(), mask, encrypt_xor(keys, block, data));
    }
}

/// XORs the keystream of `blocks` blocks from `input` into `output`, block `i` using counter
/// `counter + i` (the low 64 bits must not wrap inside the call).
///
/// With `stream`, whole 64-byte lines of `output` are written with non-temporal stores (no
/// read-for-ownership of the destination; for large out-of-place buffers that will not be
/// read back from cache). `stream` requires `output` to be 16-byte aligned.
///
/// # Safety
/// The CPU must support AVX-512F, AVX-512BW, VAES and AES-NI. `input` must be readable and
/// `output` writable for `blocks * 16` bytes; they are either equal or do not overlap.
#[target_feature(enable = "avx512f,avx512bw,vaes,aes,ssse3")]
pub(super) unsafe fn xor_blocks(
    round_keys: &RoundKeys,
    counter: u128,
    mut input: *const u8,
    mut output: *mut u8,
    mut blocks: usize,
    stream: bool,
) {
    let keys128 = load_keys(round_keys);
    let mut keys = [_mm512_setzero_si512(); 15];
    for (key, k) in keys.iter_mut().zip(keys128) {
        *key = _mm512_broadcast_i32x4(k);
    }
    let bswap = _mm512_broadcast_i32x4(bswap_mask());
    let four = _mm512_set_epi64(0, 4, 0, 4, 0, 4, 0, 4);
    let mut ctr = _mm512_add_epi64(
        _mm512_broadcast_i32x4(counter_lanes(counter)),
        _mm512_set_epi64(0, 3, 0, 2, 0, 1, 0, 0),
    );
    if stream {
        // Bring `output` to a 64-byte boundary (it is 16-byte aligned).
        let head = ((64 - (output as usize % 64)) / 16 % 4).min(blocks);
        if head != 0 {
            // SAFETY: `head <= blocks` blocks are inside both buffers (caller contract).
            unsafe {
                up_to_4(&keys, &mut ctr, bswap, head, input, output);
                input = input.add(16 * head);
                output = output.add(16 * head);
            }
            blocks -= head;
        }
    }
    while blocks >= 4 * WIDE {
        let mut b = [_mm512_setzero_si512(); WIDE];
        for block in &mut b {
            *block = _mm512_xor_si512(_mm512_shuffle_epi8(ctr, bswap), keys[0]);
            ctr = _mm512_add_epi64(ctr, four);
        }
        for key in &keys[1..14] {
            for block in &mut b {
                *block = _mm512_aesenc_epi128(*block, *key);
            }
        }
        for (j, block) in b.iter().enumerate() {
            // SAFETY: `j < WIDE` and `4 * WIDE <= blocks`, so bytes `64 j .. 64 j + 64` are
            // inside both buffers (caller contract); unaligned access is allowed.
            unsafe {
                let data = _mm512_loadu_si512(input.add(64 * j).cast());
                let out = _mm512_aesenclast_epi128(*block, _mm512_xor_si512(keys[14], data));
                if stream {
                    // `output` is 64-byte aligned here (see above).
                    _mm512_stream_si512(output.add(64 * j).cast(), out);
                } else {
                    _mm512_storeu_si512(output.add(64 * j).cast(), out);
                }
            }
        }
        // SAFETY: advancing by the `4 * WIDE` blocks just processed stays within the buffers.
        unsafe {
            input = input.add(64 * WIDE);
            output = output.add(64 * WIDE);
        }
        blocks -= 4 * WIDE;
    }
    if stream {
        // Order the non-temporal stores before any later store (e.g. a flag to another thread).
        _mm_sfence();
    }
    while blocks > 0 {
        let n = blocks.min(4);
        // SAFETY: `n <= blocks` blocks remain in both buffers (caller contract).
        unsafe {
            up_to_4(&keys, &mut ctr, bswap, n, input, output);
            input = input.add(16 * n);
            output = output.add(16 * n);
        }
        blocks -= n;
    }
}
