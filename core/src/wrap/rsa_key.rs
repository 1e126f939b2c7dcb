//! RSA master keys: PKCS#1 v1.5 wrapping (`RSA/NONE/PKCS1Padding`) and the legacy oss2
//! RSA-OAEP-SHA1 unwrap.

use alloc::vec::Vec;

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, Pkcs1v15Encrypt, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use super::{CryptoSource, MasterKey, SourceRng};
use crate::content::ContentMaterial;
use crate::envelope::{LegacyEnvelope, LegacyWrapAlg, Matdesc, WrapAlg};
use crate::error::{Error, WrapError};

/// Which RSA key sizes a master key accepts.
///
/// The default refuses keys under 2048 bits for wrapping (new objects) and accepts 1024-bit
/// keys for unwrapping, since the official SDKs' test objects use one (SECURITY.md §3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Smallest modulus, in bits, used to wrap.
    pub min_wrap_bits: u32,
    /// Smallest modulus, in bits, used to unwrap.
    pub min_unwrap_bits: u32,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            min_wrap_bits: 2048,
            min_unwrap_bits: 1024,
        }
    }
}

impl KeyPolicy {
    /// Also wrap with keys down to 1024 bits (only to write objects for legacy readers).
    pub fn allow_small_keys_for_wrapping(mut self) -> Self {
        self.min_wrap_bits = 1024;
        self
    }
}

/// An RSA customer master key: public only (enough to write objects, e.g. on a device) or
/// with its private key (to read them).
///
/// `Debug` shows the size, whether a private key is held and the matdesc; never key material.
/// The private key is zeroized on drop (by the `rsa` crate).
#[derive(Clone)]
pub struct RsaMasterKey {
    public: PublicKey,
    private: Option<PrivateKey>,
    matdesc: Option<Matdesc>,
    policy: KeyPolicy,
}

impl core::fmt::Debug for RsaMasterKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaMasterKey")
            .field("bits", &self.bits())
            .field("has_private_key", &self.private.is_some())
            .field("matdesc", &self.matdesc.as_ref().map(Matdesc::as_str))
            .finish_non_exhaustive()
    }
}

impl RsaMasterKey {
    fn new(public: PublicKey, private: Option<PrivateKey>) -> Result<Self, WrapError> {
        if public.e() != &rsa::BoxedUint::from(65_537u32) {
            return Err(WrapError::UnsupportedExponent);
        }
        Ok(Self {
            public,
            private,
            matdesc: None,
            policy: KeyPolicy::default(),
        })
    }

    /// Loads a public key from PEM: `BEGIN PUBLIC KEY` (SPKI) or `BEGIN RSA PUBLIC KEY`
    /// (PKCS#1). A private-key PEM is accepted too (its public half is used).
    ///
    /// # Errors
    /// [`WrapError::InvalidKey`] or [`WrapError::UnsupportedExponent`].
    pub fn from_public_pem(pem: &str) -> Result<Self, WrapError> {
        let pem = pem.trim();
        if let Ok(k) = PublicKey::from_public_key_pem(pem) {
            return Self::new(k, None);
        }
        if let Ok(k) = PublicKey::from_pkcs1_pem(pem) {
            return Self::new(k, None);
        }
        let private = Self::from_private_pem(pem)?;
        Self::new(private.public, None)
    }

    /// Loads a public key from DER: SPKI or PKCS#1.
    ///
    /// # Errors
    /// [`WrapError::InvalidKey`] or [`WrapError::UnsupportedExponent`].
    pub fn from_public_der(der: &[u8]) -> Result<Self, WrapError> {
        let k = PublicKey::from_public_key_der(der)
            .or_else(|_| PublicKey::from_pkcs1_der(der))
            .map_err(|_| WrapError::InvalidKey)?;
        Self::new(k, None)
    }

    /// Loads a private key from PEM: `BEGIN PRIVATE KEY` (PKCS#8) or `BEGIN RSA PRIVATE KEY`
    /// (PKCS#1). Encrypted PEM is not supported.
    ///
    /// # Errors
    /// [`WrapError::InvalidKey`] or [`WrapError::UnsupportedExponent`].
    pub fn from_private_pem(pem: &str) -> Result<Self, WrapError> {
        let pem = Zeroizing::new(alloc::string::String::from(pem.trim()));
        let k = PrivateKey::from_pkcs8_pem(&pem)
            .or_else(|_| PrivateKey::from_pkcs1_pem(&pem))
            .map_err(|_| WrapError::InvalidKey)?;
        Self::new(k.to_public_key(), Some(k))
    }

    /// Loads a private key from DER: PKCS#8 or PKCS#1.
    ///
    /// # Errors
    /// [`WrapError::InvalidKey`] or [`WrapError::UnsupportedExponent`].
    pub fn from_private_der(der: &[u8]) -> Result<Self, WrapError> {
        let k = PrivateKey::from_pkcs8_der(der)
            .or_else(|_| PrivateKey::from_pkcs1_der(der))
            .map_err(|_| WrapError::InvalidKey)?;
        Self::new(k.to_public_key(), Some(k))
    }

    /// Uses an existing `rsa` key pair.
    ///
    /// # Errors
    /// [`WrapError::UnsupportedExponent`].
    pub fn from_private_key(key: PrivateKey) -> Result<Self, WrapError> {
        Self::new(key.to_public_key(), Some(key))
    }

    /// Sets the material description written into new envelopes (and matched on read).
    #[must_use]
    pub fn with_matdesc(mut self, matdesc: Matdesc) -> Self {
        self.matdesc = Some(matdesc);
        self
    }

    /// Sets the key-size policy.
    #[must_use]
    pub fn with_policy(mut self, policy: KeyPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Modulus size in bits: the bit length of the modulus itself, so a 2041-bit modulus is
    /// 2041 (not its byte length × 8) and does not pass a 2048-bit policy.
    pub fn bits(&self) -> u32 {
        self.public.n().as_ref().bit_width()
    }

    /// Whether the private key is held.
    pub fn has_private_key(&self) -> bool {
        self.private.is_some()
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The private key, when held: for a host that runs the PKCS#1 v1.5 private-key
    /// operation with another implementation (osscse-std does it with AWS-LC). Such a host
    /// must call [`RsaMasterKey::check_unwrap`] first, as [`MasterKey::unwrap`] does.
    pub fn private_key(&self) -> Option<&PrivateKey> {
        self.private.as_ref()
    }

    /// The checks [`MasterKey::unwrap`] makes before decrypting, without decrypting: the
    /// private key is held, its size meets the unwrap policy, and `wrapped` is exactly as long
    /// as the modulus.
    ///
    /// # Errors
    /// [`WrapError::PublicKeyOnly`], [`WrapError::KeyTooSmall`] or
    /// [`WrapError::WrappedLength`].
    pub fn check_unwrap(&self, wrapped: &[u8]) -> Result<(), WrapError> {
        self.private_for_unwrap(wrapped).map(|_| ())
    }

    /// The check [`MasterKey::wrap`] makes before encrypting: the key's size meets the wrap
    /// policy. For a host that runs the public-key operation with another implementation.
    ///
    /// # Errors
    /// [`WrapError::KeyTooSmall`].
    pub fn check_wrap(&self) -> Result<(), WrapError> {
        if self.bits() < self.policy.min_wrap_bits {
            return Err(WrapError::KeyTooSmall {
                bits: self.bits(),
                minimum: self.policy.min_wrap_bits,
            });
        }
        Ok(())
    }

    fn private_for_unwrap(&self, wrapped: &[u8]) -> Result<&PrivateKey, WrapError> {
        let private = self.private.as_ref().ok_or(WrapError::PublicKeyOnly)?;
        if self.bits() < self.policy.min_unwrap_bits {
            return Err(WrapError::KeyTooSmall {
                bits: self.bits(),
                minimum: self.policy.min_unwrap_bits,
            });
        }
        let expected = self.public.size();
        if wrapped.len() != expected {
            return Err(WrapError::WrappedLength {
                expected,
                actual: wrapped.len(),
            });
        }
        Ok(private)
    }

    /// Opens a legacy oss2 RSA object (`wrap-alg: rsa`, RSA-OAEP-SHA1): its data key and the
    /// counter block to decrypt with.
    ///
    /// # Errors
    /// [`WrapError::AlgorithmMismatch`] for a KMS legacy object, [`WrapError::WrongKey`] when
    /// OAEP fails or the lengths are wrong, and `LegacyCounter` for a bad start value.
    pub fn open_legacy(
        &self,
        envelope: &LegacyEnvelope,
        rng: &mut dyn CryptoSource,
    ) -> Result<ContentMaterial, Error> {
        if envelope.wrap_alg != LegacyWrapAlg::RsaOaepSha1 {
            return Err(WrapError::AlgorithmMismatch.into());
        }
        let oaep =
            |wrapped: &[u8], rng: &mut dyn CryptoSource| -> Result<Zeroizing<Vec<u8>>, Error> {
                let private = self.private_for_unwrap(wrapped)?;
                private
                    .decrypt_blinded(&mut SourceRng(rng), Oaep::<sha1::Sha1>::new(), wrapped)
                    .map(Zeroizing::new)
                    .map_err(|_| WrapError::WrongKey.into())
            };
        let key = oaep(&envelope.wrapped_key, rng)?;
        let start = oaep(&envelope.wrapped_start, rng)?;
        let counter = super::legacy_counter(&start)?;
        Ok(ContentMaterial::from_slices(&key, &counter)?)
    }
}

impl MasterKey for RsaMasterKey {
    type Error = Error;

    fn wrap_alg(&self) -> WrapAlg {
        WrapAlg::Rsa
    }

    fn matdesc(&self) -> Option<&Matdesc> {
        self.matdesc.as_ref()
    }

    fn wrap(&self, rng: &mut dyn CryptoSource, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        self.check_wrap()?;
        self.public
            .encrypt(&mut SourceRng(rng), Pkcs1v15Encrypt, plaintext)
            .map_err(|_| WrapError::Crypto.into())
    }

    fn unwrap(
        &self,
        rng: &mut dyn CryptoSource,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let private = self.private_for_unwrap(wrapped)?;
        // Blinded, constant-time decryption; with implicit rejection a wrong key returns
        // synthetic bytes, which `open` rejects by length.
        private
            .decrypt_blinded(&mut SourceRng(rng), Pkcs1v15Encrypt, wrapped)
            .map(Zeroizing::new)
            .map_err(|_| WrapError::WrongKey.into())
    }
}
