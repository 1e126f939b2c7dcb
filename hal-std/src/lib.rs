//! osscse-std: Alibaba Cloud OSS client-side encryption for std hosts.
//!
//! * [`client::Client`]: the async OSS HTTP client over one transport seam
//!   ([`transport::HttpService`], default [`transport::ReqwestService`]: reqwest + rustls on
//!   tokio): V4/V1 signing from osscse-core, path-style and virtual-hosted URLs, connection
//!   reuse, one retry policy ([`retry`], shared with KMS) with full-jitter backoff that
//!   resends byte-identical bodies (CRC-64 checked), typed OSS errors, CRC-64 checks.
//! * [`blocking`]: the same clients for threads, driving the async ones on their own runtime.
//! * [`encryption::EncryptionClient`]: the async SDK-v2-shaped encryption client: `put_object`,
//!   `get_object` (whole or any range, suffix ranges resolved), `head_object`, multipart with a
//!   CSE context, parallel resumable `upload_file` and verified parallel `download_file`.
//! * [`keys`]: OS entropy ([`keys::SysRng`]), RSA key loading and generation, and the
//!   [`keys::Keyring`] that picks a master key by semantic matdesc.
//! * [`local::LocalStore`]: the offline `file://DIR/KEY` store with the envelope in a sidecar.
//!
//! Whole-object transfers are checked against `x-oss-hash-crc64ecma` (CRC-64/XZ of the
//! ciphertext) and their length; downloads to files go to a temporary name that is renamed
//! only after verification. `unencrypted-content-md5` is written only when asked for.
#![forbid(unsafe_code)]
// This is the std side of the workspace: `std::` paths are the natural ones here.
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

pub mod blocking;
pub mod client;
pub mod crc64;
pub mod encryption;
pub mod error;
pub mod keys;
pub mod kms;
pub mod local;
pub mod object;
pub mod retry;
pub mod transport;
pub mod xml;

pub use client::{Body, Client, ClientConfig, Endpoint, Request, Response, SignVersion};
pub use error::{Error, OssError, Result};
