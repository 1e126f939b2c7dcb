//! Alibaba Cloud KMS: a blocking client for the KMS OpenAPI (RPC style, version 2016-01-20) and
//! [`KmsMasterKey`], the `KMS/ALICLOUD` master key (FORMAT.md §4.2).
//!
//! * [`KmsClient`]: `Encrypt`, `Decrypt` and `GenerateDataKey`, signed with the RPC signature
//!   ([`sign`]), with an STS token, a region endpoint (`kms.<region>.aliyuncs.com`) or an
//!   explicit one, timeouts, and retries of 5xx answers and connection failures.
//! * [`KmsMasterKey`]: wraps with `Encrypt(Plaintext = base64(key or IV))` and writes the Go
//!   v1/Java header encoding (the header value is the `CiphertextBlob` string) or, on request,
//!   the oss2 one (base64 of the `CiphertextBlob` string); reads both.
//! * [`open_legacy`]: the legacy oss2 2.5 – 2.7 KMS envelope.
//!
//! ```no_run
//! use osscse_core::sign::Credentials;
//! use osscse_std::kms::{KmsClient, KmsConfig, KmsMasterKey};
//! let client = KmsClient::new(
//!     KmsConfig::for_region("cn-hangzhou")?,
//!     Credentials::new("AK", "SK"),
//! )?;
//! let key = KmsMasterKey::new(client, "key-id");
//! # Ok::<(), osscse_std::kms::KmsError>(())
//! ```
//!
//! Layout: `kms/config.rs` (where and how patiently), `kms/client.rs` (the RPC calls),
//! `kms/master_key.rs` (the master keys), `kms/sign.rs` (the RPC signature),
//! `kms/error.rs` (typed KMS failures).

mod client;
mod config;
mod error;
mod master_key;
pub mod sign;

pub use client::{DataKey, Decrypted, Encrypted, KmsClient};
pub use config::KmsConfig;
pub use error::KmsError;
pub use master_key::{AnyMasterKey, HeaderEncoding, KmsMasterKey, open_legacy};

/// The KMS OpenAPI version spoken.
pub const API_VERSION: &str = "2016-01-20";
