//! Master keys on std hosts: OS entropy, loading RSA keys from files, RSA key generation and
//! the [`Keyring`] that picks a key (RSA or KMS) for an object by its matdesc.

use std::path::Path;

use osscse_core::content::ContentMaterial;
use osscse_core::envelope::{Envelope, LegacyEnvelope, LegacyWrapAlg, Matdesc, WrapAlg};
use osscse_core::error::WrapError;
use osscse_core::wrap::{self, MasterKey, RsaMasterKey};

use crate::error::{Error, Result};
use crate::kms::AnyMasterKey;

/// The operating system's cryptographically secure generator (getrandom), usable wherever
/// osscse-core takes an RNG (`rand_core::TryCryptoRng` / `CryptoSource`).
pub use getrandom::SysRng;

/// Loads an RSA key from a PEM (or DER) file: a private key when the file holds one, else a
/// public key.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Core`] when it holds no usable RSA key.
pub fn load_rsa_key(path: &Path) -> Result<RsaMasterKey> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::io(format!("reading key file {}", path.display()), e))?;
    let key = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => {
            if text.contains("PRIVATE KEY-----") {
                RsaMasterKey::from_private_pem(text)
            } else {
                RsaMasterKey::from_public_pem(text)
            }
        }
        _ => RsaMasterKey::from_private_der(&bytes)
            .or_else(|_| RsaMasterKey::from_public_der(&bytes)),
    };
    key.map_err(|e| {
        Error::Config(format!(
            "{}: {}",
            path.display(),
            osscse_core::Error::from(e)
        ))
    })
}

/// A freshly generated RSA key pair as PEM texts.
#[derive(Debug)]
pub struct GeneratedKeyPair {
    /// PKCS#8 `-----BEGIN PRIVATE KEY-----` (zeroized on drop).
    pub private_pem: zeroize::Zeroizing<String>,
    /// SPKI `-----BEGIN PUBLIC KEY-----`.
    pub public_pem: String,
}

/// Generates an RSA key pair of `bits` bits (2048 to 8192) from the OS generator.
///
/// # Errors
/// [`Error::Config`] for an unsupported size, [`Error::Core`] when generation fails.
pub fn generate_rsa(bits: usize) -> Result<GeneratedKeyPair> {
    use pkcs8::EncodePrivateKey;
    use spki::EncodePublicKey;
    if !(2048..=8192).contains(&bits) || !bits.is_multiple_of(8) {
        return Err(Error::Config(format!(
            "--bits {bits}: choose a size from 2048 to 8192 (3072 recommended)"
        )));
    }
    let mut rng = SysRng;
    let private = rsa::PrivateKey::new(&mut rng, bits).map_err(|_| osscse_core::Error::Rng)?;
    let private_pem = private
        .to_pkcs8_pem(pkcs8::LineEnding::LF)
        .map_err(|_| Error::Core(WrapError::Crypto.into()))?;
    let public_pem = private
        .to_public_key()
        .to_public_key_pem(pkcs8::LineEnding::LF)
        .map_err(|_| Error::Core(WrapError::Crypto.into()))?;
    Ok(GeneratedKeyPair {
        private_pem,
        public_pem,
    })
}

/// The master keys a client knows, RSA ([`RsaMasterKey`]) or KMS
/// ([`crate::kms::KmsMasterKey`]): one default key (used to write, and to read objects whose
/// matdesc matches no other key) and any number of extra keys picked by matdesc on read.
///
/// Matdesc comparison is semantic (`{"k": "v"}` written by Python matches `{"k":"v"}`). When
/// no key is registered for an object's matdesc and the default key uses the other wrapping
/// algorithm (RSA vs KMS), the first key of the object's algorithm is used instead.
#[derive(Debug, Default, Clone)]
pub struct Keyring {
    default: Option<AnyMasterKey>,
    extra: Vec<AnyMasterKey>,
}

impl Keyring {
    /// A keyring whose default key is `key`.
    pub fn new(key: impl Into<AnyMasterKey>) -> Self {
        Self {
            default: Some(key.into()),
            extra: Vec::new(),
        }
    }

    /// An empty keyring (reads only plain objects; cannot write).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds a key that is chosen for objects whose matdesc equals the key's.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<AnyMasterKey>) -> Self {
        self.add(key);
        self
    }

    /// Adds a key: the first key becomes the default, later ones are picked by matdesc.
    pub fn add(&mut self, key: impl Into<AnyMasterKey>) {
        let key = key.into();
        if self.default.is_none() {
            self.default = Some(key);
        } else {
            self.extra.push(key);
        }
    }

    /// The key used to write new objects.
    ///
    /// # Errors
    /// [`Error::Config`] when the keyring is empty.
    pub fn writer(&self) -> Result<&AnyMasterKey> {
        self.default.as_ref().ok_or_else(|| {
            Error::Config(
                "no master key: pass --public-key (or a private key) or --kms-key-id to encrypt"
                    .into(),
            )
        })
    }

    fn candidates(&self) -> Vec<&AnyMasterKey> {
        self.default.iter().chain(self.extra.iter()).collect()
    }

    /// The key for an object with `matdesc` wrapped with `alg`: the key registered for the
    /// matdesc, else the default key, unless only a key of the other algorithm would be
    /// picked that way and a key of `alg` is loaded.
    fn pick(&self, matdesc: Option<&Matdesc>, alg: WrapAlg) -> Result<&AnyMasterKey> {
        let key = self.pick_by_matdesc(matdesc)?;
        let registered = matdesc
            .filter(|m| !m.is_empty())
            .is_some_and(|m| key.matdesc() == Some(m));
        if registered || key.wrap_alg() == alg {
            return Ok(key);
        }
        Ok(self
            .default
            .iter()
            .chain(self.extra.iter())
            .find(|k| k.wrap_alg() == alg)
            .unwrap_or(key))
    }

    fn pick_by_matdesc(&self, matdesc: Option<&Matdesc>) -> Result<&AnyMasterKey> {
        let all = self.candidates();
        let chosen =
            wrap::select(&all, self.default.as_ref(), matdesc).map_err(|_| match matdesc {
                Some(m) => Error::NoKeyForMatdesc {
                    matdesc: m.as_str().to_owned(),
                },
                None => Error::Config(
                    "no master key loaded: pass --private-key or --kms-key-id to decrypt".into(),
                ),
            })?;
        // Map the choice back to a reference into `self` (select borrows the temporary list).
        let index = all
            .iter()
            .position(|k| std::ptr::eq(*k, chosen))
            .unwrap_or(0);
        self.default
            .iter()
            .chain(self.extra.iter())
            .nth(index)
            .ok_or_else(|| {
                Error::Config(
                    "no master key loaded: pass --private-key or --kms-key-id to decrypt".into(),
                )
            })
    }

    /// Unwraps an object's data key and IV: the keys whose matdesc equals the object's
    /// (semantically) first, then the default, then every other key. A key that fails as a
    /// wrong key (another key size, an unwrapped key or IV of the wrong length, an IV without
    /// the SDKs' layout: see `osscse_core::wrap::open_any`) is skipped, so a keyring of several
    /// keys opens the object with the one that fits instead of failing on the first.
    ///
    /// # Errors
    /// [`Error::NoKeyForMatdesc`] when no key opens an object whose matdesc no key carries;
    /// the last wrong-key error when every key was tried; a KMS or public-only error as soon
    /// as one stops the search.
    pub fn open(&self, envelope: &Envelope) -> Result<ContentMaterial> {
        let extra: Vec<&AnyMasterKey> = self.extra.iter().collect();
        let wanted = envelope.matdesc.as_ref().filter(|m| !m.is_empty());
        if extra.is_empty() && self.default.is_none() {
            return Err(match wanted {
                Some(m) => Error::NoKeyForMatdesc {
                    matdesc: m.as_str().to_owned(),
                },
                None => Error::Config(
                    "no master key loaded: pass --private-key or --kms-key-id to decrypt".into(),
                ),
            });
        }
        let registered =
            wanted.is_some_and(|m| self.candidates().iter().any(|k| k.matdesc() == Some(m)));
        // Keys of the other algorithm only fail with AlgorithmMismatch: leave them out when a
        // key of the object's algorithm is loaded, so the error reported is that key's (a
        // wrong RSA key next to a KMS key is WrongKey, not the KMS key's mismatch).
        let fits = |k: &&AnyMasterKey| k.wrap_alg() == envelope.wrap_alg;
        let any_fits = self.candidates().iter().any(fits);
        let extra: Vec<&AnyMasterKey> =
            extra.into_iter().filter(|k| !any_fits || fits(k)).collect();
        wrap::open_any(
            &extra,
            self.default.as_ref().filter(|k| !any_fits || fits(k)),
            envelope,
            &mut SysRng,
            wrap::IvLayout::Sdk,
            |e: &Error| matches!(e, Error::Core(core) if wrap::is_wrong_key(core)),
        )
        .map(|(material, _)| material)
        .map_err(|e| match (e, wanted) {
            (Error::Core(core), Some(m)) if !registered && wrap::is_wrong_key(&core) => {
                Error::NoKeyForMatdesc {
                    matdesc: m.as_str().to_owned(),
                }
            }
            (e, _) => e,
        })
    }

    /// Opens a legacy oss2 (2.5 – 2.7) object's key and counter.
    ///
    /// # Errors
    /// As [`Keyring::open`].
    pub fn open_legacy(&self, envelope: &LegacyEnvelope) -> Result<ContentMaterial> {
        let alg = match envelope.wrap_alg {
            LegacyWrapAlg::Kms => WrapAlg::Kms,
            _ => WrapAlg::Rsa,
        };
        let key = self.pick(envelope.matdesc.as_ref(), alg)?;
        key.open_legacy(envelope, &mut SysRng)
    }

    /// Wraps fresh content material with the writer key into a new envelope.
    ///
    /// # Errors
    /// No writer key, RNG failure, key policy (a key below 2048 bits).
    pub fn seal_new(&self) -> Result<(ContentMaterial, Envelope)> {
        let key = self.writer()?;
        let material = ContentMaterial::generate(&mut SysRng)?;
        let envelope = wrap::seal(key, &material, &mut SysRng)?;
        Ok((material, envelope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_rng_feeds_content_material() {
        let a = ContentMaterial::generate(&mut SysRng).unwrap();
        let b = ContentMaterial::generate(&mut SysRng).unwrap();
        assert_ne!(a.key(), b.key());
        assert_eq!(&a.iv()[8..12], &[0, 0, 0, 0]);
    }

    #[test]
    fn bad_sizes_are_refused_before_generating() {
        assert!(matches!(generate_rsa(1024), Err(Error::Config(_))));
        assert!(matches!(generate_rsa(3000 + 1), Err(Error::Config(_))));
    }

    #[test]
    fn empty_keyring_says_what_to_pass() {
        let k = Keyring::empty();
        let msg = k.writer().unwrap_err().to_string();
        assert!(msg.contains("--public-key"), "{msg}");
    }
}
