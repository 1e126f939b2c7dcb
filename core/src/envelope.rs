//! The `x-oss-meta-client-side-encryption-*` envelope.

/// `x-oss-meta-client-side-encryption-key`: base64 of the wrapped 32-byte data key.
pub const HEADER_KEY: &str = "x-oss-meta-client-side-encryption-key";
/// `x-oss-meta-client-side-encryption-start`: base64 of the wrapped 16-byte IV.
pub const HEADER_START: &str = "x-oss-meta-client-side-encryption-start";
/// `x-oss-meta-client-side-encryption-cek-alg`: always [`CEK_ALG_AES_CTR`].
pub const HEADER_CEK_ALG: &str = "x-oss-meta-client-side-encryption-cek-alg";
/// `x-oss-meta-client-side-encryption-wrap-alg`: [`WRAP_ALG_RSA`], [`WRAP_ALG_KMS`]
/// or [`WRAP_ALG_AES_GCM`].
pub const HEADER_WRAP_ALG: &str = "x-oss-meta-client-side-encryption-wrap-alg";
/// `x-oss-meta-client-side-encryption-matdesc`: the material description JSON.
pub const HEADER_MATDESC: &str = "x-oss-meta-client-side-encryption-matdesc";
/// `x-oss-meta-client-side-encryption-unencrypted-content-length`.
pub const HEADER_UNENCRYPTED_CONTENT_LENGTH: &str =
    "x-oss-meta-client-side-encryption-unencrypted-content-length";
/// `x-oss-meta-client-side-encryption-unencrypted-content-md5`.
pub const HEADER_UNENCRYPTED_CONTENT_MD5: &str =
    "x-oss-meta-client-side-encryption-unencrypted-content-md5";
/// `x-oss-meta-client-side-encryption-data-size` (multipart).
pub const HEADER_DATA_SIZE: &str = "x-oss-meta-client-side-encryption-data-size";
/// `x-oss-meta-client-side-encryption-part-size` (multipart).
pub const HEADER_PART_SIZE: &str = "x-oss-meta-client-side-encryption-part-size";
/// The prefix every current envelope header shares (lowercase): what a copy must carry and a
/// rewrap must replace.
pub const HEADER_PREFIX: &str = "x-oss-meta-client-side-encryption-";

/// The only content algorithm: AES-256-CTR without padding.
pub const CEK_ALG_AES_CTR: &str = "AES/CTR/NoPadding";
/// RSA PKCS#1 v1.5 key wrapping.
pub const WRAP_ALG_RSA: &str = "RSA/NONE/PKCS1Padding";
/// Alibaba Cloud KMS key wrapping.
pub const WRAP_ALG_KMS: &str = "KMS/ALICLOUD";
/// AES-256-GCM wrapping under a symmetric CMK (osscse's extension, docs/symmetric.md).
pub const WRAP_ALG_AES_GCM: &str = "AES/GCM/NoPadding";

/// Legacy oss2 (2.5 – 2.7) header carrying the wrapped data key.
pub const LEGACY_HEADER_KEY: &str = "x-oss-meta-oss-crypto-key";
/// Legacy oss2 header carrying the wrapped decimal counter.
pub const LEGACY_HEADER_START: &str = "x-oss-meta-oss-crypto-start";
/// Legacy oss2 content-algorithm header (`AES/GCM/NoPadding`, really CTR).
pub const LEGACY_HEADER_CEK_ALG: &str = "x-oss-meta-oss-cek-alg";
/// Legacy oss2 wrap-algorithm header (`rsa` = RSA-OAEP-SHA1, `kms`).
pub const LEGACY_HEADER_WRAP_ALG: &str = "x-oss-meta-oss-wrap-alg";
/// Legacy oss2 matdesc header.
pub const LEGACY_HEADER_MATDESC: &str = "x-oss-meta-oss-crypto-matdesc";

#[cfg(feature = "alloc")]
mod matdesc;
#[cfg(feature = "alloc")]
mod model;
#[cfg(feature = "alloc")]
mod read;

#[cfg(feature = "alloc")]
pub use matdesc::{MAX_MATDESC_LEN, Matdesc};
#[cfg(feature = "alloc")]
pub use model::{Envelope, LegacyEnvelope, LegacyWrapAlg, ObjectEncryption, WrapAlg};
#[cfg(feature = "alloc")]
pub use read::parse;
