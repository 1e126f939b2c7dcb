//! The [`Keyring`]: the master keys a client knows, and which one opens an object.

use osscse_core::content::ContentMaterial;
use osscse_core::envelope::{Envelope, LegacyEnvelope, LegacyWrapAlg, Matdesc, WrapAlg};
use osscse_core::wrap::{self, MasterKey};

use super::{KeyError, SysRng};
use crate::error::{Error, Result};
use crate::kms::AnyMasterKey;

/// The master keys a client knows, RSA ([`osscse_core::wrap::RsaMasterKey`]), KMS
/// ([`crate::kms::KmsMasterKey`]) or symmetric ([`osscse_core::wrap::AesGcmMasterKey`]): one
/// default key (used to write, and tried early on read) and any number of extra keys.
///
/// To open an object, only the keys that **fit** it are tried: keys of the object's wrap-alg
/// and, for RSA, whose modulus is as long as a wrapped value (a 3072-bit key for 384-byte
/// values). Of those, the keys whose matdesc equals the object's (semantically: `{"k": "v"}`
/// written by Python matches `{"k":"v"}`) come first, then the default, then every other one;
/// a key that turns out to be a wrong key is skipped for the next.
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
                "no master key: pass --public-key (or a private key), --symmetric-key or --kms-key-id to encrypt"
                    .into(),
            )
        })
    }

    fn all(&self) -> impl Iterator<Item = &AnyMasterKey> {
        self.default.iter().chain(self.extra.iter())
    }

    /// The error for an object that no key opens: the matdesc no key carries, else that no key
    /// fits, else the last wrong-key error (`last`).
    fn none_opens(&self, matdesc: Option<&Matdesc>, object: String, last: Option<Error>) -> Error {
        let wanted = matdesc.filter(|m| !m.is_empty());
        let registered = wanted.is_some_and(|m| self.all().any(|k| k.matdesc() == Some(m)));
        match (wanted, last) {
            (Some(m), last) if !registered && last.as_ref().is_none_or(is_wrong_key) => {
                Error::NoKeyForMatdesc {
                    matdesc: m.as_str().to_owned(),
                }
            }
            (_, Some(e)) => e,
            (_, None) if self.default.is_none() => Error::Config(
                "no master key loaded: pass --private-key, --symmetric-key or --kms-key-id to decrypt"
                    .into(),
            ),
            (_, None) => KeyError::NoFittingKey {
                object,
                loaded: self.all().map(describe).collect::<Vec<_>>().join(", "),
            }
            .into(),
        }
    }

    /// Unwraps an object's data key and IV with the first key that can (see [`Keyring`] for
    /// the order); a key that fails as a wrong key (an unwrapped key or IV of the wrong
    /// length, an IV without the SDKs' layout, a GCM tag that does not verify: see
    /// `osscse_core::wrap::open_any`) is skipped.
    ///
    /// # Errors
    /// [`Error::NoKeyForMatdesc`] when no key opens an object whose matdesc no key carries;
    /// [`KeyError::NoFittingKey`] when no loaded key has the object's wrap-alg and size; the
    /// last wrong-key error when every fitting key was tried; a KMS or public-only error as
    /// soon as one stops the search.
    pub fn open(&self, envelope: &Envelope) -> Result<ContentMaterial> {
        let lens = [envelope.wrapped_key.len(), envelope.wrapped_iv.len()];
        let fits = |k: &&AnyMasterKey| fits(k, envelope.wrap_alg, &lens);
        let extra: Vec<&AnyMasterKey> = self.extra.iter().filter(fits).collect();
        let default = self.default.as_ref().filter(fits);
        let object = describe_object(envelope.wrap_alg, lens[0]);
        if extra.is_empty() && default.is_none() {
            return Err(self.none_opens(envelope.matdesc.as_ref(), object, None));
        }
        wrap::open_any(
            &extra,
            default,
            envelope,
            &mut SysRng,
            wrap::IvLayout::Sdk,
            is_wrong_key,
        )
        .map(|(material, _)| material)
        .map_err(|e| match e {
            e if is_wrong_key(&e) => self.none_opens(envelope.matdesc.as_ref(), object, Some(e)),
            e => e,
        })
    }

    /// Opens a legacy oss2 (2.5 – 2.7) object's key and counter, trying the fitting keys in
    /// the order of [`Keyring::open`].
    ///
    /// # Errors
    /// As [`Keyring::open`].
    pub fn open_legacy(&self, envelope: &LegacyEnvelope) -> Result<ContentMaterial> {
        let alg = match envelope.wrap_alg {
            LegacyWrapAlg::Kms => WrapAlg::Kms,
            _ => WrapAlg::Rsa,
        };
        let lens = [envelope.wrapped_key.len(), envelope.wrapped_start.len()];
        let wanted = envelope.matdesc.as_ref().filter(|m| !m.is_empty());
        let matches = |k: &AnyMasterKey| k.matdesc().filter(|m| !m.is_empty()) == wanted;
        let mut order: Vec<&AnyMasterKey> = self.extra.iter().filter(|k| matches(k)).collect();
        order.extend(self.default.iter());
        order.extend(self.extra.iter().filter(|k| !matches(k)));
        let mut last = None;
        for key in order.into_iter().filter(|k| fits(k, alg, &lens)) {
            match key.open_legacy(envelope, &mut SysRng) {
                Ok(material) => return Ok(material),
                Err(e) if is_wrong_key(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        let object = describe_object(alg, lens[0]);
        Err(self.none_opens(envelope.matdesc.as_ref(), object, last))
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

/// Whether `key` can be the key of an object wrapped with `alg` into values of `lens` bytes:
/// the same algorithm and, for RSA, a modulus as long as one of the wrapped values. One is
/// enough: when the key's and the IV's wrapped lengths differ the envelope is damaged, and the
/// key whose size one of them has reports that (`WrapError::WrappedLength`) instead of the
/// search ending in a misleading "no key of this size".
fn fits(key: &AnyMasterKey, alg: WrapAlg, lens: &[usize]) -> bool {
    key.wrap_alg() == alg
        && match key {
            AnyMasterKey::Rsa(k) => {
                let modulus = usize::try_from(k.bits().div_ceil(8)).unwrap_or(usize::MAX);
                lens.contains(&modulus)
            }
            AnyMasterKey::Kms(_) | AnyMasterKey::AesGcm(_) => true,
        }
}

fn is_wrong_key(e: &Error) -> bool {
    matches!(e, Error::Core(core) if wrap::is_wrong_key(core))
}

/// A loaded key for error messages (never key material).
fn describe(key: &AnyMasterKey) -> String {
    let name = match key {
        AnyMasterKey::Rsa(k) => format!("RSA-{}", k.bits()),
        AnyMasterKey::Kms(k) => format!("KMS {}", k.key_id()),
        AnyMasterKey::AesGcm(_) => "AES-256 (symmetric)".to_owned(),
    };
    match key.matdesc().filter(|m| !m.is_empty()) {
        Some(m) => format!("{name} {}", m.as_str()),
        None => name,
    }
}

/// The key an object needs, from its wrap-alg and the length of its wrapped data key.
fn describe_object(alg: WrapAlg, wrapped_len: usize) -> String {
    match alg {
        WrapAlg::Rsa => format!(
            "an RSA-{} key (wrapped values of {wrapped_len} bytes)",
            wrapped_len * 8
        ),
        WrapAlg::Kms => "a KMS key".to_owned(),
        WrapAlg::AesGcm => "a symmetric AES-256 key (AES/GCM/NoPadding)".to_owned(),
        _ => format!("a {} key", alg.as_str()),
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

    /// The oss2 2.5-2.7 RSA-OAEP fixture (a 1024-bit key) opens with the one key of its size
    /// in a keyring of 2048-bit keys, whatever the order; without it the error names the key
    /// it needs instead of a length mismatch of the first key.
    #[test]
    fn legacy_objects_are_opened_by_the_key_that_fits() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/vectors/sdk-fixtures");
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let Ok(meta) = std::fs::read(dir.join("legacy-oss2-rsa-oaep.meta.json")) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "SDK fixtures missing at {} (CI=true)",
                dir.display()
            );
            eprintln!("skipping: SDK fixtures not found at {}", dir.display());
            return;
        };
        let meta: std::collections::BTreeMap<String, String> =
            serde_json::from_slice(&meta).unwrap_or_default();
        let Ok(osscse_core::envelope::ObjectEncryption::Legacy(env)) =
            osscse_core::envelope::parse(&meta)
        else {
            panic!("not a legacy envelope")
        };
        let load = |path: std::path::PathBuf| {
            super::super::load_rsa_key(&path).unwrap_or_else(|e| panic!("{e}"))
        };
        let small = load(dir.join("rsa1024-test.private.pkcs1.pem"));
        let (a, b) = (
            load(data.join("test-a-private.pem")),
            load(data.join("test-b-private.pem")),
        );
        let rings = [
            Keyring::new(small.clone())
                .with_key(a.clone())
                .with_key(b.clone()),
            Keyring::new(a.clone())
                .with_key(small.clone())
                .with_key(b.clone()),
            Keyring::new(a.clone()).with_key(b.clone()).with_key(small),
        ];
        for ring in &rings {
            let material = ring.open_legacy(&env).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&material.iv()[..15], &[0; 15]);
        }
        let err = Keyring::new(a).with_key(b).open_legacy(&env);
        let Err(Error::Key(KeyError::NoFittingKey { object, loaded })) = err else {
            panic!("{err:?}")
        };
        assert!(object.contains("RSA-1024"), "{object}");
        assert_eq!(loaded, "RSA-2048, RSA-2048");
    }

    #[test]
    fn empty_keyring_says_what_to_pass() {
        let k = Keyring::empty();
        let msg = k.writer().unwrap_err().to_string();
        assert!(msg.contains("--public-key"), "{msg}");
    }
}
