//! ARMv8 AES CTR kernel, 8 blocks interleaved.
//!
//! One AES round is `AESMC(AESE(b, k))`: `AESE` = AddRoundKey + ShiftRows + SubBytes, so
//! AES-256 is 13 × (AESE, AESMC), a final AESE with round key 13 and an XOR with round key 14.

use core::arch::aarch64::*;

use super::super::RoundKeys;

/// Blocks in flight per iteration.
const WIDE: usize = 8;

/// Applies the AES S-box to each byte of `word` (the key schedule's `SubWord`).
///
/// # Safety
/// The CPU must support the AES extension.
#[target_feature(enable = "aes,neon")]
pub(super) unsafe fn sub_word(word: u32) -> u32 {
    // With all four columns equal, ShiftRows is the identity, so AESE with a zero key is
    // SubBytes on each copy of the word.
    let state = vreinterpretq_u8_u32(vdupq_n_u32(word));
    vgetq_lane_u32::<0>(vreinterpretq_u32_u8(vaeseq_u8(state, vdupq_n_u8(0))))
}

/// Loads one 16-byte block.
#[target_feature(enable = "neon")]
fn load(bytes: &[u8; 16]) -> uint8x16_t {
    // SAFETY: `bytes` is 16 readable bytes.
    unsafe { vld1q_u8(bytes.as_ptr()) }
}

/// The first 13 rounds over the counter block for `counter`.
#[target_feature(enable = "aes,neon")]
fn rounds_1_to_13(keys: &[uint8x16_t; 15], counter: u128) -> uint8x16_t {
    let mut b = load(&counter.to_be_bytes());
    for key in &keys[..13] {
        b = vaesmcq_u8(vaeseq_u8(b, *key));
    }
    b
}

/// XORs the keystream of `blocks` blocks from `input` into `output`, block `i` using counter
/// `counter + i` (mod 2^128).
///
/// # Safety
/// The CPU must support the AES extension. `input` must be readable and `output` writable for
/// `blocks * 16` bytes; they are either equal or do not overlap.
#[target_feature(enable = "aes,neon")]
pub(super) unsafe fn xor_blocks(
    round_keys: &RoundKeys,
    mut counter: u128,
    mut input: *const u8,
    mut output: *mut u8,
    mut blocks: usize,
) {
    let mut keys = [vdupq_n_u8(0); 15];
    for (key, word) in keys.iter_mut().zip(&round_keys.0) {
        *key = load(&word.to_le_bytes());
    }
    while blocks >= WIDE {
        let mut b = [vdupq_n_u8(0); WIDE];
        for block in &mut b {
            *block = load(&counter.to_be_bytes());
            counter = counter.wrapping_add(1);
        }
        for key in &keys[..13] {
            for block in &mut b {
                *block = vaesmcq_u8(vaeseq_u8(*block, *key));
            }
        }
        for (j, block) in b.iter().enumerate() {
            let keystream = veorq_u8(vaeseq_u8(*block, keys[13]), keys[14]);
            // SAFETY: `j < WIDE <= blocks`, so bytes `16 j .. 16 j + 16` are inside both
            // buffers (caller contract).
            unsafe {
                let data = vld1q_u8(input.add(16 * j));
                vst1q_u8(output.add(16 * j), veorq_u8(keystream, data));
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
        let b = rounds_1_to_13(&keys, counter);
        let keystream = veorq_u8(vaeseq_u8(b, keys[13]), keys[14]);
        counter = counter.wrapping_add(1);
        // SAFETY: `blocks > 0`, so one whole block remains in both buffers.
        unsafe {
            let data = vld1q_u8(input);
            vst1q_u8(output, veorq_u8(keystream, data));
            input = input.add(16);
            output = output.add(16);
        }
        blocks -= 1;
    }
}
