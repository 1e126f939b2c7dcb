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
    for (key, word) in keys.iter_mut().zip(&round_keys.0) {
        // SAFETY: `word` is 16 readable bytes (a little-endian u128 holds the key bytes in
        // order on x86); unaligned loads are allowed.
        *key = unsafe { _mm_loadu_si128(core::ptr::from_ref(word).cast()) };
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
/// The 8-block loop is inline assembly (legacy SSE encoding, so it runs on AES-NI CPUs without
/// AVX): with 16 xmm registers LLVM de-interleaves the 8 chains and spills round keys. Here the
/// chains advance round by round, each round key is loaded once into `xmm8`, and k0, k14, the
/// counter, its increment and the byte-swap mask stay in registers.
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
    let iters = blocks / WIDE;
    if iters != 0 {
        let key_bytes = round_keys.0.as_ptr().cast::<u8>();
        // SAFETY: the CPU has AES-NI + SSSE3 (caller contract). Each iteration reads 128 bytes
        // at `input` and writes 128 bytes at `output`, `iters * 128 <= blocks * 16` bytes in
        // all, inside both buffers (caller contract); the round keys are read at offsets
        // 16..=208 of `key_bytes` (15 × 16 bytes). Only the named registers are touched; data
        // loads of a block precede its store, so in-place (`input == output`) is fine.
        unsafe {
            core::arch::asm!(
                "2:",
                // Counter blocks ^ k0.
                ".irp j, 0,1,2,3,4,5,6,7",
                "movdqa xmm\\j, xmm9",
                "pshufb xmm\\j, xmm10",
                "paddq xmm9, xmm11",
                "pxor xmm\\j, xmm12",
                ".endr",
                // Rounds 1..=13, all 8 chains per round key.
                ".irp off, 16,32,48,64,80,96,112,128,144,160,176,192,208",
                "movdqu xmm8, xmmword ptr [{keys} + \\off]",
                ".irp j, 0,1,2,3,4,5,6,7",
                "aesenc xmm\\j, xmm8",
                ".endr",
                ".endr",
                // Last round with the data folded into k14: out = aesenclast(b, k14 ^ in).
                ".irp j, 0,1,2,3,4,5,6,7",
                "movdqu xmm14, xmmword ptr [{input} + 16*\\j]",
                "pxor xmm14, xmm13",
                "aesenclast xmm\\j, xmm14",
                "movdqu xmmword ptr [{output} + 16*\\j], xmm\\j",
                ".endr",
                "add {input}, 128",
                "add {output}, 128",
                "dec {iters}",
                "jnz 2b",
                keys = in(reg) key_bytes,
                input = inout(reg) input,
                output = inout(reg) output,
                iters = inout(reg) iters => _,
                inout("xmm9") ctr,
                in("xmm10") bswap,
                in("xmm11") one,
                in("xmm12") keys[0],
                in("xmm13") keys[14],
                out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                out("xmm8") _, out("xmm14") _,
                options(nostack),
            );
        }
        blocks -= iters * WIDE;
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
