//! The AES-256 key schedule (FIPS 197 §5.2), shared by the hardware backends.
//!
//! The only non-linear step, `SubWord`, comes from the backend (one AES instruction), so the
//! schedule has no table lookups and no secret-dependent memory access.

use super::RoundKeys;

/// Expands a 256-bit key into the 15 round keys, with `sub_word` applying the AES S-box to each
/// byte of a word. Words are little-endian `u32`s over the key bytes, so `RotWord` is a right
/// rotation by 8 bits and `Rcon` lands in the low byte.
#[inline(always)]
pub(super) fn expand_key(key: &[u8; 32], mut sub_word: impl FnMut(u32) -> u32) -> RoundKeys {
    const RCON: [u32; 7] = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40];
    let mut w = [0u32; 60];
    for (word, bytes) in w.iter_mut().zip(key.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for i in 8..60 {
        let mut temp = w[i - 1];
        if i % 8 == 0 {
            temp = sub_word(temp).rotate_right(8) ^ RCON[i / 8 - 1];
        } else if i % 8 == 4 {
            temp = sub_word(temp);
        }
        w[i] = w[i - 8] ^ temp;
    }
    let mut keys = RoundKeys([0; 15]);
    for (round_key, words) in keys.0.iter_mut().zip(w.chunks_exact(4)) {
        // Little-endian words in order = the round key's bytes as a little-endian u128.
        *round_key = words
            .iter()
            .rev()
            .fold(0, |acc, word| (acc << 32) | u128::from(*word));
    }
    zeroize::Zeroize::zeroize(&mut w);
    keys
}
