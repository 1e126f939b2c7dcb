//! The host's RSA master key: osscse-core's [`RsaMasterKey`] (parsing, key-size policy,
//! wrapping, the legacy RSA-OAEP unwrap) with the PKCS#1 v1.5 private-key operation of every
//! unwrap done by AWS-LC (feature `aws-lc`, on by default).
//!
//! Writing an object costs two public-key operations (0.15 ms with the `rsa` crate, a few
//! tens of microseconds with AWS-LC); reading one costs two RSA private-key operations (the data key and the IV are wrapped
//! separately), and that dominates small-object reads: on a Zen 3 core the pure-Rust `rsa`
//! crate takes about 2.7 ms per RSA-2048 decryption, AWS-LC about 0.7 ms
//! (`concurrency-report` prints both). Keys AWS-LC does not take (under 2048 bits, as in some
//! SDK test fixtures) and builds without the feature use the `rsa` crate, so every key that
//! opened objects before still opens them.
//!
//! Both paths make the same checks first ([`RsaMasterKey::check_unwrap`]: private key held,
//! key-size policy, wrapped value as long as the modulus) and both turn any failure of the
//! decryption into [`WrapError::WrongKey`]. The `rsa` crate rejects bad padding implicitly
//! (pseudo-random bytes), AWS-LC explicitly (an error): after [`osscse_core::wrap::open`]'s
//! length and IV-layout checks, which map both to the same `WrongKey`, a caller learns the
//! same thing either way (SECURITY.md, "Wrong keys").

#[cfg(feature = "aws-lc")]
use std::sync::Arc;

use osscse_core::content::ContentMaterial;
use osscse_core::envelope::{LegacyEnvelope, Matdesc, WrapAlg};
#[cfg(any(feature = "aws-lc", test))]
use osscse_core::error::WrapError;
use osscse_core::wrap::{CryptoSource, MasterKey, RsaMasterKey};
use zeroize::Zeroizing;

/// An RSA customer master key for std hosts: an [`RsaMasterKey`] whose unwraps run on AWS-LC
/// when the feature `aws-lc` is on and the key is one AWS-LC takes (2048 to 8192 bits).
///
/// Made from an [`RsaMasterKey`] with [`RsaKey::new`] or `From` (so
/// `Keyring::new(load_rsa_key(path)?)` uses it). Cloning shares the AWS-LC key. `Debug` shows
/// what [`RsaMasterKey`]'s does and which implementation unwraps; never key material. The
/// `rsa` crate zeroizes its copy of the private key on drop; AWS-LC clears its copy when the
/// last clone is dropped (its `OPENSSL_free` cleanses every allocation), and the PKCS#8
/// document that carries the key across is zeroized as soon as AWS-LC has parsed it.
#[derive(Clone)]
pub struct RsaKey {
    key: RsaMasterKey,
    #[cfg(feature = "aws-lc")]
    fast: Option<Arc<aws_lc_rs::rsa::Pkcs1PrivateDecryptingKey>>,
    #[cfg(feature = "aws-lc")]
    fast_public: Option<Arc<aws_lc_rs::rsa::Pkcs1PublicEncryptingKey>>,
}

impl core::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaKey")
            .field("key", &self.key)
            .field("unwrap_backend", &self.unwrap_backend())
            .finish()
    }
}

impl RsaKey {
    /// Wraps `key`, handing its private key (when held) to AWS-LC when the feature is on; a key
    /// AWS-LC refuses keeps unwrapping with the `rsa` crate.
    pub fn new(key: RsaMasterKey) -> Self {
        Self {
            #[cfg(feature = "aws-lc")]
            fast: accelerate(&key),
            #[cfg(feature = "aws-lc")]
            fast_public: accelerate_public(&key),
            key,
        }
    }

    /// The core key (its public key, policy and matdesc).
    pub fn master_key(&self) -> &RsaMasterKey {
        &self.key
    }

    /// Names this key with `matdesc` in new envelopes (and matches on it when reading).
    #[must_use]
    pub fn with_matdesc(self, matdesc: Matdesc) -> Self {
        Self {
            key: self.key.with_matdesc(matdesc),
            #[cfg(feature = "aws-lc")]
            fast: self.fast,
            #[cfg(feature = "aws-lc")]
            fast_public: self.fast_public,
        }
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> u32 {
        self.key.bits()
    }

    /// Whether the private key is held (needed to read objects).
    pub fn has_private_key(&self) -> bool {
        self.key.has_private_key()
    }

    /// Which implementation runs this key's PKCS#1 v1.5 unwraps: `"aws-lc"` or `"rsa"` (the
    /// pure-Rust crate: a public-only key, a key under 2048 bits, or a build without the
    /// `aws-lc` feature). Wraps use AWS-LC for every key of 2048 bits or more (public-only
    /// too) when the feature is on.
    pub fn unwrap_backend(&self) -> &'static str {
        #[cfg(feature = "aws-lc")]
        if self.fast.is_some() {
            return "aws-lc";
        }
        "rsa"
    }

    /// Opens a legacy oss2 envelope (RSA-OAEP-SHA1, always with the `rsa` crate: legacy
    /// objects are rare and AWS-LC's OAEP API is not needed for them).
    ///
    /// # Errors
    /// As [`RsaMasterKey::open_legacy`].
    pub fn open_legacy(
        &self,
        envelope: &LegacyEnvelope,
        rng: &mut dyn CryptoSource,
    ) -> Result<ContentMaterial, osscse_core::Error> {
        self.key.open_legacy(envelope, rng)
    }
}

impl From<RsaMasterKey> for RsaKey {
    fn from(key: RsaMasterKey) -> Self {
        Self::new(key)
    }
}

/// The AWS-LC form of `key`'s private key, or `None` when there is none or AWS-LC refuses it
/// (it takes 2048 to 8192 bits).
#[cfg(feature = "aws-lc")]
fn accelerate(key: &RsaMasterKey) -> Option<Arc<aws_lc_rs::rsa::Pkcs1PrivateDecryptingKey>> {
    use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
    use pkcs8::EncodePrivateKey;
    let private = key.private_key()?;
    // A `SecretDocument`: zeroized when dropped at the end of this function.
    let der = private.to_pkcs8_der().ok()?;
    let parsed = PrivateDecryptingKey::from_pkcs8(der.as_bytes()).ok()?;
    Pkcs1PrivateDecryptingKey::new(parsed).ok().map(Arc::new)
}

/// The AWS-LC form of `key`'s public key, or `None` when AWS-LC refuses it.
#[cfg(feature = "aws-lc")]
fn accelerate_public(key: &RsaMasterKey) -> Option<Arc<aws_lc_rs::rsa::Pkcs1PublicEncryptingKey>> {
    use aws_lc_rs::rsa::{Pkcs1PublicEncryptingKey, PublicEncryptingKey};
    use spki::EncodePublicKey;
    let der = key.public_key().to_public_key_der().ok()?;
    let parsed = PublicEncryptingKey::from_der(der.as_bytes()).ok()?;
    Pkcs1PublicEncryptingKey::new(parsed).ok().map(Arc::new)
}

impl MasterKey for RsaKey {
    type Error = osscse_core::Error;

    fn wrap_alg(&self) -> WrapAlg {
        self.key.wrap_alg()
    }

    fn matdesc(&self) -> Option<&Matdesc> {
        self.key.matdesc()
    }

    /// With AWS-LC the padding's random bytes come from AWS-LC's own generator (seeded by the
    /// OS), not from `rng`; the key-size policy is checked first either way.
    fn wrap(
        &self,
        rng: &mut dyn CryptoSource,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, osscse_core::Error> {
        #[cfg(feature = "aws-lc")]
        if let Some(fast) = &self.fast_public {
            self.key.check_wrap()?;
            let mut out = vec![0u8; fast.ciphertext_size()];
            let len = fast
                .encrypt(plaintext, &mut out)
                .map_err(|_| WrapError::Crypto)?
                .len();
            out.truncate(len);
            return Ok(out);
        }
        self.key.wrap(rng, plaintext)
    }

    fn unwrap(
        &self,
        rng: &mut dyn CryptoSource,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, osscse_core::Error> {
        #[cfg(feature = "aws-lc")]
        if let Some(fast) = &self.fast {
            self.key.check_unwrap(wrapped)?;
            let mut out = Zeroizing::new(vec![0u8; fast.min_output_size()]);
            let len = fast
                .decrypt(wrapped, &mut out)
                .map_err(|_| WrapError::WrongKey)?
                .len();
            out.truncate(len);
            return Ok(out);
        }
        self.key.unwrap(rng, wrapped)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use osscse_core::wrap;

    use super::*;
    use crate::keys::SysRng;
    use crate::keys::test_key as key;

    /// Both implementations open what either wrapped, and refuse the other key's objects
    /// with the same error.
    #[test]
    fn both_backends_agree_on_right_and_wrong_keys() {
        let a = key("test-a-private.pem");
        let b = key("test-b-private.pem");
        let fast = RsaKey::new(a.clone());
        let expected = if cfg!(feature = "aws-lc") {
            "aws-lc"
        } else {
            "rsa"
        };
        assert_eq!(fast.unwrap_backend(), expected);
        for round in 0..8u8 {
            let material = ContentMaterial::generate(&mut SysRng).unwrap();
            let by_core = wrap::seal(&a, &material, &mut SysRng).unwrap();
            let by_host = wrap::seal(&fast, &material, &mut SysRng).unwrap();
            for envelope in [&by_core, &by_host] {
                let opened = wrap::open(&fast, envelope, &mut SysRng).unwrap();
                assert_eq!(opened.key(), material.key(), "round {round}");
                assert_eq!(opened.iv(), material.iv());
                let opened = wrap::open(&a, envelope, &mut SysRng).unwrap();
                assert_eq!(opened.key(), material.key());
            }
            let wrong = RsaKey::new(b.clone());
            let err = wrap::open(&wrong, &by_core, &mut SysRng).unwrap_err();
            assert!(wrap::is_wrong_key(&err), "{err:?}");
        }
    }

    #[test]
    fn the_core_checks_run_before_aws_lc() {
        let fast = RsaKey::new(key("test-a-private.pem"));
        let err = fast.unwrap(&mut SysRng, &[0u8; 100]).unwrap_err();
        assert!(
            matches!(
                err,
                osscse_core::Error::Wrap(WrapError::WrappedLength { actual: 100, .. })
            ),
            "{err:?}"
        );
        let public = RsaKey::new(key("test-a-public.pem"));
        assert_eq!(public.unwrap_backend(), "rsa");
        let err = public.unwrap(&mut SysRng, &[0u8; 256]).unwrap_err();
        assert!(
            matches!(err, osscse_core::Error::Wrap(WrapError::PublicKeyOnly)),
            "{err:?}"
        );
    }

    /// AWS-LC refuses 1024-bit keys (some SDK fixtures use one): they keep opening objects
    /// through the `rsa` crate.
    #[test]
    fn a_key_aws_lc_refuses_unwraps_with_the_rsa_crate() {
        let private = rsa::PrivateKey::new(&mut SysRng, 1024).unwrap();
        let small = RsaMasterKey::from_private_key(private)
            .unwrap()
            .with_policy(wrap::KeyPolicy::default().allow_small_keys_for_wrapping());
        let host = RsaKey::new(small);
        assert_eq!(host.unwrap_backend(), "rsa");
        let material = ContentMaterial::generate(&mut SysRng).unwrap();
        let envelope = wrap::seal(&host, &material, &mut SysRng).unwrap();
        assert_eq!(
            wrap::open(&host, &envelope, &mut SysRng).unwrap().key(),
            material.key()
        );
    }

    /// The key-size policy binds the AWS-LC wrap too, and a public-only key wraps through it
    /// into values the private key opens.
    #[test]
    fn wraps_keep_the_policy_and_public_keys_wrap() {
        let strict = wrap::KeyPolicy {
            min_wrap_bits: 3072,
            min_unwrap_bits: 1024,
        };
        let host = RsaKey::new(key("test-a-private.pem").with_policy(strict));
        let err = host.wrap(&mut SysRng, &[1u8; 32]).unwrap_err();
        assert!(
            matches!(
                err,
                osscse_core::Error::Wrap(WrapError::KeyTooSmall { bits: 2048, .. })
            ),
            "{err:?}"
        );
        let public = RsaKey::new(key("test-a-public.pem"));
        let material = ContentMaterial::generate(&mut SysRng).unwrap();
        let envelope = wrap::seal(&public, &material, &mut SysRng).unwrap();
        assert_eq!(envelope.wrapped_key.len(), 256);
        let private = RsaKey::new(key("test-a-private.pem"));
        assert_eq!(
            wrap::open(&private, &envelope, &mut SysRng).unwrap().key(),
            material.key()
        );
    }

    #[test]
    fn debug_names_the_backend_and_no_key_material() {
        let fast = RsaKey::new(key("test-a-private.pem"));
        let text = format!("{fast:?}");
        assert!(text.contains("unwrap_backend"), "{text}");
        assert!(!text.to_lowercase().contains("prime"), "{text}");
    }
}
