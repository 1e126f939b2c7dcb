//! The KMS master key ([`KmsMasterKey`]), the legacy oss2 KMS envelope ([`open_legacy`]) and
//! [`AnyMasterKey`], RSA or KMS in one keyring.
//!
//! Every master key here fails with the crate's [`Error`]: envelope and key-material failures
//! (a wrong RSA key, another algorithm) are [`Error::Core`] whichever key reported them, and
//! only KMS's own failures are [`Error::Kms`] (with the typed [`KmsError`] inside), so a
//! keyring of RSA and KMS keys never reports an RSA failure as a KMS one.

use base64ct::{Base64, Encoding};
use osscse_core::content::ContentMaterial;
use osscse_core::envelope::{LegacyEnvelope, LegacyWrapAlg, Matdesc, WrapAlg};
use osscse_core::error::WrapError;
use osscse_core::wrap::{CryptoSource, MasterKey, legacy_counter};
use zeroize::Zeroizing;

use super::{KmsClient, KmsError};
use crate::error::Error;
use crate::keys::RsaKey;

/// How [`KmsMasterKey`] writes the key and start headers (reading accepts both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderEncoding {
    /// Go v1 / Java: the header value is the `CiphertextBlob` string itself.
    #[default]
    GoJava,
    /// oss2 >= 2.8 (`AliKMSProvider`): the header value is base64 of the `CiphertextBlob` string.
    Oss2,
}

/// A KMS customer master key (`KMS/ALICLOUD`) as an osscse master key.
#[derive(Debug, Clone)]
pub struct KmsMasterKey {
    client: KmsClient,
    key_id: String,
    matdesc: Option<Matdesc>,
    context: Option<String>,
    encoding: HeaderEncoding,
}

impl KmsMasterKey {
    /// The CMK `key_id` (a key ID, ARN or alias) reached through `client`; no matdesc, Go/Java
    /// header encoding, no encryption context.
    pub fn new(client: KmsClient, key_id: &str) -> Self {
        Self {
            client,
            key_id: key_id.to_string(),
            matdesc: None,
            context: None,
            encoding: HeaderEncoding::GoJava,
        }
    }

    /// Names the key with `matdesc` (written into new envelopes, used to pick it on read).
    pub fn with_matdesc(mut self, matdesc: Matdesc) -> Self {
        self.matdesc = Some(matdesc);
        self
    }

    /// Sets the raw `EncryptionContext` JSON sent with every call (it must match on decrypt).
    pub fn with_encryption_context(mut self, context: &str) -> Self {
        self.context = Some(context.to_string()).filter(|c| !c.is_empty());
        self
    }

    /// oss2's context `{"x-passphrase":"<passphrase>"}`, byte for byte as oss2 builds it
    /// (plain concatenation, no JSON escaping); an empty passphrase means no context.
    pub fn with_passphrase(self, passphrase: &str) -> Self {
        if passphrase.is_empty() {
            return self;
        }
        let context = format!("{{\"x-passphrase\":\"{passphrase}\"}}");
        self.with_encryption_context(&context)
    }

    /// Chooses the header encoding written.
    pub fn with_encoding(mut self, encoding: HeaderEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The CMK id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The client.
    pub fn client(&self) -> &KmsClient {
        &self.client
    }

    /// The `CiphertextBlob` to send for stored (base64-decoded header) bytes: oss2 stores the
    /// blob text itself (valid base64 text), Go/Java the decoded blob (which holds a `-` from
    /// the key UUID and so is never valid base64).
    fn blob_for(wrapped: &[u8]) -> String {
        match std::str::from_utf8(wrapped) {
            Ok(text) if !text.is_empty() && Base64::decode_vec(text).is_ok() => text.to_string(),
            _ => Base64::encode_string(wrapped),
        }
    }
}

impl MasterKey for KmsMasterKey {
    type Error = Error;

    fn wrap_alg(&self) -> WrapAlg {
        WrapAlg::Kms
    }

    fn matdesc(&self) -> Option<&Matdesc> {
        self.matdesc.as_ref()
    }

    fn wrap(&self, _rng: &mut dyn CryptoSource, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let text = Zeroizing::new(Base64::encode_string(plaintext));
        let out = self
            .client
            .encrypt(&self.key_id, &text, self.context.as_deref())?;
        match self.encoding {
            HeaderEncoding::Oss2 => Ok(out.ciphertext_blob.into_bytes()),
            HeaderEncoding::GoJava => Base64::decode_vec(&out.ciphertext_blob).map_err(|_| {
                Error::from(KmsError::Malformed {
                    action: "Encrypt",
                    status: 200,
                    what: "CiphertextBlob is not base64".into(),
                })
            }),
        }
    }

    fn unwrap(
        &self,
        _rng: &mut dyn CryptoSource,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let blob = Self::blob_for(wrapped);
        let out = self.client.decrypt(&blob, self.context.as_deref())?;
        Ok(decode_plaintext(&out.plaintext)?)
    }
}

fn decode_plaintext(text: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    Base64::decode_vec(text)
        .map(Zeroizing::new)
        .map_err(|_| KmsError::Malformed {
            action: "Decrypt",
            status: 200,
            what: "Plaintext is not base64 (the object was not written by an OSS SDK)".into(),
        })
}

/// Opens a legacy oss2 2.5 – 2.7 KMS envelope: the key header is the blob of
/// `base64(raw key)`, the start header the blob of the ASCII decimal initial counter, both
/// stored as the blob text itself. `context` is the `EncryptionContext` the writer used (oss2:
/// `{"x-passphrase":...}` or none).
///
/// # Errors
/// [`Error::Core`] with [`WrapError::AlgorithmMismatch`] for an RSA legacy envelope, or for a
/// key that is not 32 bytes or a counter that is not a number; [`Error::Kms`] for the
/// client's errors.
pub fn open_legacy(
    client: &KmsClient,
    envelope: &LegacyEnvelope,
    context: Option<&str>,
) -> Result<ContentMaterial, Error> {
    if envelope.wrap_alg != LegacyWrapAlg::Kms {
        return Err(osscse_core::Error::from(WrapError::AlgorithmMismatch).into());
    }
    let key_blob = Base64::encode_string(&envelope.wrapped_key);
    let start_blob = Base64::encode_string(&envelope.wrapped_start);
    let key = decode_plaintext(&client.decrypt(&key_blob, context)?.plaintext)?;
    let start = client.decrypt(&start_blob, context)?;
    let counter = legacy_counter(start.plaintext.as_bytes())?;
    Ok(ContentMaterial::from_slices(&key, &counter).map_err(osscse_core::Error::from)?)
}

/// An RSA, a KMS or a symmetric master key, so that one keyring can hold all three and pick by
/// wrap-alg and matdesc ([`osscse_core::wrap::select`] over `&[&AnyMasterKey]`).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum AnyMasterKey {
    /// `RSA/NONE/PKCS1Padding` (unwrapping through AWS-LC where it can, [`RsaKey`]).
    Rsa(RsaKey),
    /// `KMS/ALICLOUD`.
    Kms(KmsMasterKey),
    /// `AES/GCM/NoPadding`: a symmetric AES-256 CMK (docs/symmetric.md).
    AesGcm(osscse_core::wrap::AesGcmMasterKey),
}

impl From<osscse_core::wrap::AesGcmMasterKey> for AnyMasterKey {
    fn from(k: osscse_core::wrap::AesGcmMasterKey) -> Self {
        Self::AesGcm(k)
    }
}

impl From<osscse_core::wrap::RsaMasterKey> for AnyMasterKey {
    fn from(k: osscse_core::wrap::RsaMasterKey) -> Self {
        Self::Rsa(RsaKey::new(k))
    }
}

impl From<RsaKey> for AnyMasterKey {
    fn from(k: RsaKey) -> Self {
        Self::Rsa(k)
    }
}

impl From<KmsMasterKey> for AnyMasterKey {
    fn from(k: KmsMasterKey) -> Self {
        Self::Kms(k)
    }
}

impl AnyMasterKey {
    /// Opens a legacy oss2 envelope with this key (RSA-OAEP or KMS, whichever it is; a
    /// symmetric key never opens one).
    ///
    /// # Errors
    /// [`WrapError::AlgorithmMismatch`] when the envelope uses the other algorithm, and the
    /// key's own errors.
    pub fn open_legacy(
        &self,
        envelope: &LegacyEnvelope,
        rng: &mut dyn CryptoSource,
    ) -> Result<ContentMaterial, Error> {
        match self {
            Self::Rsa(k) => Ok(k.open_legacy(envelope, rng)?),
            Self::Kms(k) => open_legacy(&k.client, envelope, k.context.as_deref()),
            Self::AesGcm(_) => Err(osscse_core::Error::from(WrapError::AlgorithmMismatch).into()),
        }
    }
}

impl MasterKey for AnyMasterKey {
    type Error = Error;

    fn wrap_alg(&self) -> WrapAlg {
        match self {
            Self::Rsa(k) => k.wrap_alg(),
            Self::Kms(k) => k.wrap_alg(),
            Self::AesGcm(k) => k.wrap_alg(),
        }
    }

    fn matdesc(&self) -> Option<&Matdesc> {
        match self {
            Self::Rsa(k) => k.matdesc(),
            Self::Kms(k) => MasterKey::matdesc(k),
            Self::AesGcm(k) => k.matdesc(),
        }
    }

    fn wrap(&self, rng: &mut dyn CryptoSource, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Self::Rsa(k) => Ok(k.wrap(rng, plaintext)?),
            Self::Kms(k) => k.wrap(rng, plaintext),
            Self::AesGcm(k) => Ok(k.wrap(rng, plaintext)?),
        }
    }

    fn unwrap(
        &self,
        rng: &mut dyn CryptoSource,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        match self {
            Self::Rsa(k) => Ok(k.unwrap(rng, wrapped)?),
            Self::Kms(k) => k.unwrap(rng, wrapped),
            Self::AesGcm(k) => Ok(k.unwrap(rng, wrapped)?),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use osscse_core::error::WrapError;
    use osscse_core::sign::Credentials;
    use osscse_core::wrap;

    use super::*;
    use crate::keys::{Keyring, SysRng};
    use crate::kms::KmsConfig;

    use crate::keys::test_key as rsa;

    /// A KMS key whose endpoint nothing listens on (port 9, discard): were it ever called,
    /// the error would be a KMS transport error.
    fn kms_key() -> KmsMasterKey {
        let mut config = KmsConfig::with_endpoint("http://127.0.0.1:9").unwrap();
        config.retry.max_attempts = 1;
        KmsMasterKey::new(
            KmsClient::new(config, Credentials::new("ak", "sk")).unwrap(),
            "cmk",
        )
    }

    /// An RSA object opened by a keyring of a KMS key and the wrong RSA key, in either order,
    /// reports the RSA failure (WrongKey, a core error), not a KMS error, and never calls KMS.
    #[test]
    fn a_wrong_rsa_key_next_to_a_kms_key_reports_wrong_key() {
        let material = ContentMaterial::generate(&mut SysRng).unwrap();
        let envelope = wrap::seal(&rsa("test-a-private.pem"), &material, &mut SysRng).unwrap();
        let keyrings = [
            Keyring::new(kms_key()).with_key(rsa("test-b-private.pem")),
            Keyring::new(rsa("test-b-private.pem")).with_key(kms_key()),
        ];
        for keyring in keyrings {
            let err = keyring.open(&envelope).unwrap_err();
            assert!(err.kms().is_none(), "{err}");
            assert!(
                matches!(
                    err,
                    Error::Core(osscse_core::Error::Wrap(WrapError::WrongKey))
                ),
                "{err:?}"
            );
        }
        // The right key next to the KMS key opens it.
        let keyring = Keyring::new(kms_key()).with_key(rsa("test-a-private.pem"));
        assert_eq!(keyring.open(&envelope).unwrap().key(), material.key());
        // And a KMS key's own failure stays a typed KMS error inside the crate's Error.
        let mut kms_envelope = envelope.clone();
        kms_envelope.wrap_alg = WrapAlg::Kms;
        let err = wrap::open(&kms_key(), &kms_envelope, &mut SysRng).unwrap_err();
        assert!(
            matches!(err.kms(), Some(KmsError::Transport { attempts: 1, .. })),
            "{err:?}"
        );
    }
}
