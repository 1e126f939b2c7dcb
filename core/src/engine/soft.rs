//! The portable backend: counter blocks → any [`BlockCipher256`] → XOR, in chunks.
//!
//! [`Soft`] is the `aes` crate's AES-256 (constant-time fixsliced software AES on targets
//! without AES instructions, such as Cortex-M); the same generic loop drives MCU peripherals
//! through [`BlockCipher256`]'s default methods.

use cipher::array::Array;
use cipher::{BlockCipherEncrypt, KeyInit};
use zeroize::Zeroize;

use super::{BLOCK_LEN, BlockCipher256, Data};

/// Blocks per chunk of the generic loop (512 bytes of stack).
const CHUNK_BLOCKS: usize = 32;

/// Portable software AES-256 (zeroized on drop by the `aes` crate's `zeroize` feature).
#[derive(Clone)]
pub(super) struct Soft(aes::Aes256);

impl Soft {
    pub(super) fn new(key: &[u8; 32]) -> Self {
        Self(aes::Aes256::new(key.into()))
    }
}

impl BlockCipher256 for Soft {
    fn encrypt_blocks(&mut self, blocks: &mut [[u8; BLOCK_LEN]]) {
        self.0
            .encrypt_blocks(Array::cast_slice_from_core_mut(blocks));
    }
}

/// CTR over `cipher.encrypt_blocks`: block `i` of `data` uses `counter + i` (mod 2^128); a
/// final partial block uses the first bytes of its keystream block.
pub(super) fn xor_keystream_generic<B: BlockCipher256 + ?Sized>(
    cipher: &mut B,
    mut counter: u128,
    mut data: Data<'_>,
) {
    let mut keystream = [[0u8; BLOCK_LEN]; CHUNK_BLOCKS];
    while data.len() != 0 {
        let len = data.len().min(CHUNK_BLOCKS * BLOCK_LEN);
        let blocks = len.div_ceil(BLOCK_LEN);
        for block in &mut keystream[..blocks] {
            *block = counter.to_be_bytes();
            counter = counter.wrapping_add(1);
        }
        cipher.encrypt_blocks(&mut keystream[..blocks]);
        let (head, rest) = data.split_at(len);
        head.xor_from(keystream.as_flattened());
        data = rest;
    }
    keystream.zeroize();
}
