//! The AES seam: every AES block this crate computes (content encryption in
//! [`SealedObject`](crate::SealedObject), the payload hash pass of
//! [`Uploader::put`](crate::Uploader::put), and the [`CtrDrbg`](crate::CtrDrbg)) goes through a
//! [`LoadKey`] cipher, by default osscse-core's [`Engine`].
//!
//! A microcontroller with an AES peripheral implements osscse-core's [`BlockCipher256`] for its
//! driver (AES-256 ECB encryption of blocks in place, or a hardware CTR mode through the trait's
//! `xor_keystream*` methods) plus [`LoadKey`], and passes it to
//! [`SealedObject::new_with_cipher`](crate::SealedObject::new_with_cipher) and
//! [`CtrDrbg::instantiate_with`](crate::CtrDrbg::instantiate_with) /
//! [`EntropyDrbg::new_with_cipher`](crate::EntropyDrbg::new_with_cipher).
//!
//! The driver owns the key while it is loaded: clear the peripheral's key registers when the
//! driver is dropped (the software [`Engine`] zeroizes its round keys).

pub use osscse_core::engine::{BLOCK_LEN, BlockCipher256, Engine};

/// An AES-256 block cipher whose key can be (re)loaded: the DRBG rekeys on every update, and
/// each sealed object keys its own cipher with the data key.
pub trait LoadKey: BlockCipher256 {
    /// Replaces the key; every later block is encrypted under `key`. Clear the old key.
    fn load_key(&mut self, key: &[u8; 32]);
}

impl LoadKey for Engine {
    fn load_key(&mut self, key: &[u8; 32]) {
        // The old engine is dropped here, which zeroizes its round keys.
        *self = Engine::new(key);
    }
}

/// A cipher lent to a [`Keystream`](osscse_core::Keystream) for one operation.
pub(crate) struct Lent<'c, B: ?Sized>(pub(crate) &'c mut B);

impl<B: BlockCipher256 + ?Sized> BlockCipher256 for Lent<'_, B> {
    fn encrypt_blocks(&mut self, blocks: &mut [[u8; BLOCK_LEN]]) {
        self.0.encrypt_blocks(blocks);
    }

    fn xor_keystream_in_place(&mut self, counter: u128, buf: &mut [u8]) {
        self.0.xor_keystream_in_place(counter, buf);
    }

    fn xor_keystream(&mut self, counter: u128, input: &[u8], output: &mut [u8]) {
        self.0.xor_keystream(counter, input, output);
    }
}

/// XORs the AES-256-CTR keystream of `cipher` (block 0 at counter `iv`) at byte `offset` into
/// `buf`.
pub(crate) fn apply_at<B: BlockCipher256 + ?Sized>(
    cipher: &mut B,
    iv: &[u8; 16],
    offset: u64,
    buf: &mut [u8],
) {
    let mut ks = osscse_core::Keystream::with_cipher(Lent(cipher), iv);
    ks.seek(offset);
    ks.apply(buf);
}
