//! Key wrapping: the master-key trait, sealing a data key and IV into an [`Envelope`] and
//! opening it again, and the RSA master key.
//!
//! The data key and the IV are wrapped **separately** (two RSA or KMS ciphertexts), as every
//! official SDK does. After unwrapping, the lengths are checked (32 and 16 bytes): with RSA
//! PKCS#1 v1.5 implicit rejection a wrong private key yields random bytes, not an error.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use crate::content::ContentMaterial;
use crate::envelope::{Envelope, Matdesc, WrapAlg};
use crate::error::{Error, WrapError};

#[cfg(feature = "rsa")]
mod rsa_key;
#[cfg(feature = "rsa")]
pub use rsa_key::{KeyPolicy, RsaMasterKey};

#[cfg(feature = "aes-gcm-wrap")]
mod aes_gcm;
#[cfg(feature = "aes-gcm-wrap")]
pub use aes_gcm::{AES_GCM_KEY_LEN, AES_GCM_NONCE_LEN, AES_GCM_TAG_LEN, AesGcmMasterKey};

/// A source of cryptographically secure random bytes, object-safe so that master keys can be
/// used as trait objects. Every `rand_core::TryCryptoRng` is one.
pub trait CryptoSource {
    /// Fills `dest` with random bytes.
    ///
    /// # Errors
    /// [`Error::Rng`] when the source fails; `dest` must then not be used.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), Error>;
}

impl<R: rand_core::TryCryptoRng + ?Sized> CryptoSource for R {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self.try_fill_bytes(dest).map_err(|_| Error::Rng)
    }
}

/// Adapts a `&mut dyn CryptoSource` back into a `rand_core` RNG (for the `rsa` crate).
#[cfg(feature = "rsa")]
pub(crate) struct SourceRng<'a>(pub(crate) &'a mut dyn CryptoSource);

#[cfg(feature = "rsa")]
impl rand_core::TryRng for SourceRng<'_> {
    type Error = Error;
    fn try_next_u32(&mut self) -> Result<u32, Error> {
        let mut b = [0; 4];
        self.0.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Error> {
        let mut b = [0; 8];
        self.0.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Error> {
        self.0.fill(dst)
    }
}

#[cfg(feature = "rsa")]
impl rand_core::TryCryptoRng for SourceRng<'_> {}

/// A customer master key (CMK) that wraps and unwraps data keys and IVs.
///
/// Implemented here for RSA ([`RsaMasterKey`], with feature `rsa`) and symmetric AES-256-GCM keys
/// (`AesGcmMasterKey`, with feature `aes-gcm-wrap`), and in `osscse-std` for KMS.
///
/// # Implementing a master key
///
/// ```
/// use osscse_core::envelope::{Matdesc, WrapAlg};
/// use osscse_core::wrap::{CryptoSource, MasterKey};
/// use osscse_core::Error;
/// use zeroize::Zeroizing;
///
/// /// A toy key that XORs with a constant (never do this for real).
/// struct Xor(u8);
///
/// impl MasterKey for Xor {
///     type Error = Error;
///     fn wrap_alg(&self) -> WrapAlg { WrapAlg::Kms }
///     fn matdesc(&self) -> Option<&Matdesc> { None }
///     fn wrap(&self, _rng: &mut dyn CryptoSource, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
///         Ok(plaintext.iter().map(|b| b ^ self.0).collect())
///     }
///     fn unwrap(&self, _rng: &mut dyn CryptoSource, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
///         Ok(Zeroizing::new(wrapped.iter().map(|b| b ^ self.0).collect()))
///     }
/// }
/// ```
pub trait MasterKey {
    /// The error of this key's operations (a KMS key adds network failures).
    type Error: From<Error>;

    /// The `wrap-alg` this key writes and reads.
    fn wrap_alg(&self) -> WrapAlg;

    /// The material description that names this key, written into new envelopes.
    fn matdesc(&self) -> Option<&Matdesc>;

    /// Wraps a data key or an IV.
    ///
    /// # Errors
    /// Whatever stops the key from wrapping (policy, RNG, transport).
    fn wrap(&self, rng: &mut dyn CryptoSource, plaintext: &[u8]) -> Result<Vec<u8>, Self::Error>;

    /// Unwraps a value produced by [`MasterKey::wrap`] (possibly by another SDK).
    ///
    /// # Errors
    /// Whatever stops the key from unwrapping; a wrong key may also "succeed" with random
    /// bytes, which [`open`] catches by length.
    fn unwrap(
        &self,
        rng: &mut dyn CryptoSource,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Self::Error>;
}

/// Wraps `material`'s key and IV with `key` into a new [`Envelope`] carrying the key's
/// matdesc (no multipart fields, no plaintext length or MD5: set those on the result).
///
/// # Errors
/// The master key's errors.
pub fn seal<K: MasterKey + ?Sized>(
    key: &K,
    material: &ContentMaterial,
    rng: &mut dyn CryptoSource,
) -> Result<Envelope, K::Error> {
    let wrapped_key = key.wrap(rng, material.key())?;
    let wrapped_iv = key.wrap(rng, material.iv())?;
    Ok(Envelope {
        wrapped_key,
        wrapped_iv,
        wrap_alg: key.wrap_alg(),
        matdesc: key.matdesc().filter(|m| !m.is_empty()).cloned(),
        unencrypted_content_length: None,
        unencrypted_content_md5: None,
        data_size: None,
        part_size: None,
    })
}

/// Which unwrapped IVs [`open_with`] accepts.
///
/// Every official SDK (Go, Java, Python, C++, PHP) and osscse generate IVs whose bytes 8..12
/// are zero (FORMAT.md §3.1), so by default an unwrapped IV without that structure is taken
/// as the sign of a wrong master key: with RSA PKCS#1 v1.5 implicit rejection, a wrong private
/// key returns pseudo-random bytes of pseudo-random length instead of an error, and the length
/// check alone lets about one such value in `k − 10` through (SECURITY.md, "Wrong keys").
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IvLayout {
    /// Bytes 8..12 of the IV must be zero, as every official SDK writes them (the default).
    #[default]
    Sdk,
    /// Any 16-byte IV: only for objects from a foreign writer that draws all 16 bytes at
    /// random. This weakens wrong-key detection to the length check.
    Any,
}

impl IvLayout {
    /// Whether `iv` has this layout.
    pub fn accepts(self, iv: &[u8; crate::content::IV_LEN]) -> bool {
        match self {
            Self::Sdk => iv[8..12] == [0; 4],
            Self::Any => true,
        }
    }
}

/// Unwraps `envelope`'s data key and IV with `key`, requiring the SDKs' IV layout
/// ([`IvLayout::Sdk`]).
///
/// # Errors
/// [`WrapError::AlgorithmMismatch`] when the envelope's wrap-alg is not the key's,
/// [`WrapError::WrongKey`] when the unwrapped key is not 32 bytes, the IV not 16 or the IV's
/// bytes 8..12 are not zero, and the master key's own errors.
pub fn open<K: MasterKey + ?Sized>(
    key: &K,
    envelope: &Envelope,
    rng: &mut dyn CryptoSource,
) -> Result<ContentMaterial, K::Error> {
    open_with(key, envelope, rng, IvLayout::Sdk)
}

/// As [`open`], with the IV layout to accept.
///
/// # Errors
/// As [`open`]; with [`IvLayout::Any`] the IV's bytes 8..12 are not checked.
pub fn open_with<K: MasterKey + ?Sized>(
    key: &K,
    envelope: &Envelope,
    rng: &mut dyn CryptoSource,
    layout: IvLayout,
) -> Result<ContentMaterial, K::Error> {
    if envelope.wrap_alg != key.wrap_alg() {
        return Err(Error::from(WrapError::AlgorithmMismatch).into());
    }
    let data_key = key.unwrap(rng, &envelope.wrapped_key)?;
    let iv = key.unwrap(rng, &envelope.wrapped_iv)?;
    let material = ContentMaterial::from_slices(&data_key, &iv).map_err(Error::from)?;
    if !layout.accepts(material.iv()) {
        return Err(Error::from(WrapError::WrongKey).into());
    }
    Ok(material)
}

/// Whether an error from [`open_with`] means "this key is not the object's key, try the next
/// one": a wrong key, a wrapped value of another key size, or another algorithm.
pub fn is_wrong_key(error: &Error) -> bool {
    matches!(
        error,
        Error::Wrap(
            WrapError::WrongKey | WrapError::WrappedLength { .. } | WrapError::AlgorithmMismatch
        )
    )
}

/// Opens `envelope` with the first of several master keys that can: the keys whose matdesc
/// equals the envelope's (semantically) first, then `default`, then every other key, in
/// order, each tried at most once. A key that fails as a wrong key ([`is_wrong_key`]: a
/// length, IV-layout or algorithm mismatch) is skipped; any other error (a KMS outage, a
/// public-only key, an RNG failure) stops the search and is returned.
///
/// Returns the material and the index in `keys` of the key that opened it (`keys.len()` for
/// `default`).
///
/// # Errors
/// [`WrapError::NoMatchingKey`] when there is no key at all, otherwise the error of the last
/// key tried when every key was a wrong key.
pub fn open_any<K, E>(
    keys: &[&K],
    default: Option<&K>,
    envelope: &Envelope,
    rng: &mut dyn CryptoSource,
    layout: IvLayout,
    wrong_key: impl Fn(&E) -> bool,
) -> Result<(ContentMaterial, usize), E>
where
    K: MasterKey<Error = E> + ?Sized,
    E: From<Error>,
{
    let wanted = envelope.matdesc.as_ref().filter(|m| !m.is_empty());
    let matches = |k: &K| k.matdesc().filter(|m| !m.is_empty()) == wanted;
    let order = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| matches(k))
        .chain(default.iter().map(|k| (keys.len(), k)))
        .chain(keys.iter().enumerate().filter(|(_, k)| !matches(k)));
    let mut last = None;
    for (i, key) in order {
        match open_with(*key, envelope, rng, layout) {
            Ok(material) => return Ok((material, i)),
            Err(e) if wrong_key(&e) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::from(WrapError::NoMatchingKey).into()))
}

/// Picks the key for an object's matdesc: the first key whose matdesc is semantically equal
/// to the envelope's, else `default`.
///
/// # Errors
/// [`WrapError::NoMatchingKey`] when nothing matches and there is no default.
pub fn select<'k, K: MasterKey + ?Sized>(
    keys: &'k [&'k K],
    default: Option<&'k K>,
    matdesc: Option<&Matdesc>,
) -> Result<&'k K, Error> {
    let wanted = matdesc.filter(|m| !m.is_empty());
    keys.iter()
        .copied()
        .find(|k| k.matdesc().filter(|m| !m.is_empty()) == wanted)
        .or(default)
        .ok_or(Error::Wrap(WrapError::NoMatchingKey))
}

/// The initial counter block of a legacy oss2 object: its unwrapped `start` is an ASCII
/// decimal integer `n`, and the counter block is `n` as a 128-bit big-endian integer.
///
/// # Errors
/// [`EnvelopeError::LegacyCounter`](crate::error::EnvelopeError::LegacyCounter) when the
/// bytes are not a decimal number below 2^128.
pub fn legacy_counter(start: &[u8]) -> Result<[u8; 16], Error> {
    let bad = Error::Envelope(crate::error::EnvelopeError::LegacyCounter);
    if start.is_empty() || start.len() > 39 || !start.iter().all(u8::is_ascii_digit) {
        return Err(bad);
    }
    let mut n: u128 = 0;
    for &d in start {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u128::from(d - b'0')))
            .ok_or(bad)?;
    }
    Ok(n.to_be_bytes())
}
