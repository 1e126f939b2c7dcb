//! The AES-256-CTR keystream: one safe [`Keystream`] type over per-architecture backends.
//!
//! The counter is the full 16-byte block, incremented as a 128-bit big-endian integer
//! (wrapping at 2^128), which is what every official OSS SDK does inside one stream
//! (FORMAT.md §3.2). [`Keystream::seek`] moves to any byte offset relative to the initial
//! counter block, so ranged reads and multipart parts need no special code.
//!
//! This module is the only place in the crate allowed to contain `unsafe`, and only in its
//! per-architecture submodules.

use cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use zeroize::ZeroizeOnDrop;

use crate::error::Error;

type Reference = ctr::Ctr128BE<aes::Aes256>;

/// An AES-256-CTR keystream positioned at a byte offset.
///
/// Round keys and the counter are zeroized on drop; `Debug` prints no key material.
pub struct Keystream {
    inner: Reference,
    position: u64,
}

impl Keystream {
    /// Creates a keystream for `key` whose block 0 uses `counter` as the counter block.
    pub fn new(key: &[u8; 32], counter: &[u8; 16]) -> Self {
        Self {
            inner: Reference::new(key.into(), counter.into()),
            position: 0,
        }
    }

    /// Moves to byte `offset` of the stream (block `offset / 16`, byte `offset % 16`).
    pub fn seek(&mut self, offset: u64) {
        self.inner.seek(offset);
        self.position = offset;
    }

    /// The byte offset of the next keystream byte.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// XORs the keystream into `buf` in place and advances by `buf.len()` bytes.
    pub fn apply(&mut self, buf: &mut [u8]) {
        self.inner.apply_keystream(buf);
        self.position = self.position.wrapping_add(buf.len() as u64);
    }

    /// Writes `input` XOR keystream into `output` and advances by `input.len()` bytes.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the two slices differ in length; nothing is written.
    pub fn apply_to(&mut self, input: &[u8], output: &mut [u8]) -> Result<(), Error> {
        if input.len() != output.len() {
            return Err(Error::LengthMismatch);
        }
        output.copy_from_slice(input);
        self.apply(output);
        Ok(())
    }
}

impl ZeroizeOnDrop for Keystream {}

impl core::fmt::Debug for Keystream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keystream")
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}
