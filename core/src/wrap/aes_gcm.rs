//! Symmetric master keys: AES-256-GCM key wrapping (`AES/GCM/NoPadding`, docs/symmetric.md).
//!
//! Each wrapped value is `nonce (12 random bytes) ‖ ciphertext ‖ tag (16)` under the 32-byte CMK,
//! with the content algorithm `AES/CTR/NoPadding` as associated data.

use alloc::vec::Vec;

use aes_gcm11::aead::AeadInOut;
use aes_gcm11::{Aes256Gcm, KeyInit, Nonce, Tag};
use zeroize::Zeroizing;

use super::{CryptoSource, MasterKey};
use crate::envelope::{CEK_ALG_AES_CTR, Matdesc, WrapAlg};
use crate::error::{Error, WrapError};

/// Length of the random GCM nonce that starts every wrapped value.
pub const AES_GCM_NONCE_LEN: usize = 12;
/// Length of the GCM tag that ends every wrapped value.
pub const AES_GCM_TAG_LEN: usize = 16;
/// Length of an AES-256 CMK.
pub const AES_GCM_KEY_LEN: usize = 32;

/// A symmetric customer master key: AES-256-GCM wrapping of the data key and IV.
///
/// The same key writes and reads objects (there is no public half). Every wrap uses a fresh
/// random 96-bit nonce, so one CMK must wrap at most 2^32 values (2^31 objects; NIST SP
/// 800-38D §8.3, docs/symmetric.md §3): rotate it, with a new matdesc, well before that.
///
/// The key bytes are zeroized on drop, and so is every transient AES-GCM key schedule. `Debug`
/// shows only the matdesc.
#[derive(Clone)]
pub struct AesGcmMasterKey {
    key: Zeroizing<[u8; AES_GCM_KEY_LEN]>,
    matdesc: Option<Matdesc>,
}

impl core::fmt::Debug for AesGcmMasterKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AesGcmMasterKey")
            .field("key", &"<redacted>")
            .field("matdesc", &self.matdesc.as_ref().map(Matdesc::as_str))
            .finish_non_exhaustive()
    }
}

/// The only secret field is a `Zeroizing` array, wiped when the key drops.
impl zeroize::ZeroizeOnDrop for AesGcmMasterKey {}

impl AesGcmMasterKey {
    /// Uses 32 raw key bytes (copied; zeroize the caller's copy yourself).
    ///
    /// # Errors
    /// [`WrapError::InvalidKey`] when `key` is not exactly 32 bytes.
    pub fn from_bytes(key: &[u8]) -> Result<Self, WrapError> {
        let mut bytes = Zeroizing::new([0u8; AES_GCM_KEY_LEN]);
        if key.len() != AES_GCM_KEY_LEN {
            return Err(WrapError::InvalidKey);
        }
        bytes.copy_from_slice(key);
        Ok(Self {
            key: bytes,
            matdesc: None,
        })
    }

    /// Sets the material description written into new envelopes (and matched on read).
    #[must_use]
    pub fn with_matdesc(mut self, matdesc: Matdesc) -> Self {
        self.matdesc = Some(matdesc);
        self
    }

    /// The AES-256-GCM instance; its key schedule and GHASH key are zeroized when it drops
    /// (aes-gcm's `zeroize` feature).
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&(*self.key).into())
    }
}

impl MasterKey for AesGcmMasterKey {
    type Error = Error;

    fn wrap_alg(&self) -> WrapAlg {
        WrapAlg::AesGcm
    }

    fn matdesc(&self) -> Option<&Matdesc> {
        self.matdesc.as_ref()
    }

    fn wrap(&self, rng: &mut dyn CryptoSource, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(AES_GCM_NONCE_LEN + plaintext.len() + AES_GCM_TAG_LEN);
        let mut nonce = [0u8; AES_GCM_NONCE_LEN];
        rng.fill(&mut nonce)?;
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher()
            .encrypt_inout_detached(
                &Nonce::from(nonce),
                CEK_ALG_AES_CTR.as_bytes(),
                out[AES_GCM_NONCE_LEN..].as_mut().into(),
            )
            .map_err(|_| WrapError::Crypto)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn unwrap(
        &self,
        _rng: &mut dyn CryptoSource,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let wrong = || Error::from(WrapError::WrongKey);
        let (nonce, rest) = wrapped
            .split_first_chunk::<AES_GCM_NONCE_LEN>()
            .ok_or_else(wrong)?;
        let (body, tag) = rest
            .split_last_chunk::<AES_GCM_TAG_LEN>()
            .ok_or_else(wrong)?;
        let mut plain = Zeroizing::new(body.to_vec());
        self.cipher()
            .decrypt_inout_detached(
                &Nonce::from(*nonce),
                CEK_ALG_AES_CTR.as_bytes(),
                plain.as_mut_slice().into(),
                &Tag::from(*tag),
            )
            .map_err(|_| wrong())?;
        Ok(plain)
    }
}
