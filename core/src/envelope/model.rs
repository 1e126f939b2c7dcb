//! The typed envelope and its canonical emission.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64ct::{Base64, Encoding};

use super::*;

/// How the data key and IV are wrapped.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WrapAlg {
    /// `RSA/NONE/PKCS1Padding`: RSA PKCS#1 v1.5 encryption.
    Rsa,
    /// `KMS/ALICLOUD`: Alibaba Cloud KMS `Encrypt`/`Decrypt`.
    Kms,
    /// `AES/GCM/NoPadding`: AES-256-GCM under a symmetric CMK (docs/symmetric.md).
    AesGcm,
}

impl WrapAlg {
    /// The header value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rsa => WRAP_ALG_RSA,
            Self::Kms => WRAP_ALG_KMS,
            Self::AesGcm => WRAP_ALG_AES_GCM,
        }
    }
}

impl core::fmt::Display for WrapAlg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The client-side encryption envelope of one object (or one multipart upload).
///
/// The wrapped key and IV are ciphertexts under the master key, not secrets; the plaintext
/// data key never appears here. Emitting a parsed envelope gives back the same header values
/// byte for byte, which OSS requires on every UploadPart of an upload (FORMAT.md §2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The wrapped 32-byte data key (`client-side-encryption-key`, base64-decoded).
    pub wrapped_key: Vec<u8>,
    /// The wrapped 16-byte IV (`client-side-encryption-start`, base64-decoded).
    pub wrapped_iv: Vec<u8>,
    /// The wrapping algorithm.
    pub wrap_alg: WrapAlg,
    /// The material description naming the master key, if any.
    pub matdesc: Option<Matdesc>,
    /// Plaintext length, if the writer recorded it (informational; never trusted alone).
    pub unencrypted_content_length: Option<u64>,
    /// Base64 MD5 of the plaintext, if the writer recorded it (leaks a plaintext hash:
    /// osscse writes it only on request).
    pub unencrypted_content_md5: Option<String>,
    /// Total plaintext size of a multipart upload.
    pub data_size: Option<u64>,
    /// Part size of a multipart upload (a multiple of 16).
    pub part_size: Option<u64>,
}

impl Envelope {
    /// The headers to send, in a fixed order, with canonical values: strict padded base64,
    /// the matdesc text as held (canonical for new envelopes), decimal numbers.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(9);
        out.push((HEADER_KEY, Base64::encode_string(&self.wrapped_key)));
        out.push((HEADER_START, Base64::encode_string(&self.wrapped_iv)));
        out.push((HEADER_CEK_ALG, CEK_ALG_AES_CTR.to_string()));
        out.push((HEADER_WRAP_ALG, self.wrap_alg.as_str().to_string()));
        if let Some(m) = self.matdesc.as_ref().filter(|m| !m.is_empty()) {
            out.push((HEADER_MATDESC, m.as_str().to_string()));
        }
        if let Some(n) = self.unencrypted_content_length {
            out.push((HEADER_UNENCRYPTED_CONTENT_LENGTH, n.to_string()));
        }
        if let Some(md5) = &self.unencrypted_content_md5 {
            out.push((HEADER_UNENCRYPTED_CONTENT_MD5, md5.clone()));
        }
        if let Some(n) = self.data_size {
            out.push((HEADER_DATA_SIZE, n.to_string()));
        }
        if let Some(n) = self.part_size {
            out.push((HEADER_PART_SIZE, n.to_string()));
        }
        out
    }
}

/// How a legacy oss2 object's key and counter are wrapped.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacyWrapAlg {
    /// `rsa`: RSA-OAEP with SHA-1 and MGF1-SHA1.
    RsaOaepSha1,
    /// `kms`: KMS ciphertext blobs.
    Kms,
}

/// The legacy oss2 2.5 – 2.7 envelope (`x-oss-meta-oss-crypto-*`), read only.
///
/// Its counter block is a small decimal integer (wrapped in `start`), not a random IV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyEnvelope {
    /// The wrapped data key (base64-decoded header).
    pub wrapped_key: Vec<u8>,
    /// The wrapped ASCII decimal initial counter (base64-decoded header).
    pub wrapped_start: Vec<u8>,
    /// The wrapping algorithm.
    pub wrap_alg: LegacyWrapAlg,
    /// The material description, if any.
    pub matdesc: Option<Matdesc>,
}

/// What an object's headers say about its encryption.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum ObjectEncryption {
    /// No client-side encryption headers: the body is the plaintext.
    Plain,
    /// The current format.
    Envelope(Envelope),
    /// The legacy oss2 format.
    Legacy(LegacyEnvelope),
}
