//! osscse-std: Alibaba Cloud OSS client-side encryption for std hosts.
//!
//! Async-first (tokio), with a blocking facade over the same implementation, so there is one
//! code path. From the wire up:
//!
//! * [`transport`]: the one seam to HTTP. [`transport::HttpService`] takes a signed request
//!   with a replayable body and returns status, headers and a streaming body, or a
//!   [`transport::TransportError`] whose kind (timeout, connect, reset, TLS, other) is all the
//!   retry policy looks at. Default: [`transport::ReqwestService`] (reqwest on hyper, rustls
//!   with ring and the Mozilla roots, one connection pool). No HTTP library's type is in a
//!   public signature; another stack plugs in through [`Client::with_service`].
//! * [`RetryPolicy`]: the one retry loop (full-jitter backoff, `Retry-After`, the same rules
//!   for OSS and KMS) that resends byte-identical bodies: every attempt must have the first
//!   attempt's CRC-64, else [`Error::SourceChanged`] (no keystream reuse).
//! * [`client::Client`]: the async OSS client: V4/V1 signing from osscse-core, path-style and
//!   virtual-hosted URLs, typed OSS errors ([`OssError`]), CRC-64 and length checks.
//! * [`encryption::EncryptionClient`]: the SDK-v2-shaped encryption client: `put_object` from
//!   bytes or an `AsyncRead` of known or unknown length (unknown goes multipart),
//!   `get_object` as a decrypting `AsyncRead` (whole or any range, suffix ranges resolved),
//!   `head_object`, multipart with a CSE context, and `upload_file` / `download_file` with a
//!   concurrency limit (futures, not threads), resumable through a checkpoint that proves
//!   each uploaded part against the current file.
//! * [`blocking`]: [`blocking::Client`] and [`blocking::EncryptionClient`], the same methods
//!   run to completion on a runtime the blocking client owns (as `reqwest::blocking` does).
//! * [`store::Store`]: one trait over `oss://` ([`store::OssStore`]) and the offline
//!   `file://DIR/KEY` store ([`store::FileStore`] over [`local::LocalStore`], the envelope in
//!   a sidecar, overwrites that leave the old or the new object whole), with option structs
//!   and the keys held by the store. The `osscse` CLI (`bin/osscse`, behind the `cli`
//!   feature with clap and indicatif) talks only to this trait.
//! * [`keys`]: OS entropy ([`keys::SysRng`]), RSA key loading and generation, and the
//!   [`keys::Keyring`] that opens an object with the key whose matdesc matches (skipping keys
//!   that are the wrong key).
//! * [`kms`]: the KMS client ([`kms::KmsClient`], `Encrypt`/`Decrypt`/`GenerateDataKey`
//!   over the same seam and retry policy) and the `KMS/ALICLOUD` master key
//!   ([`kms::KmsMasterKey`]); every master key fails with the crate's [`Error`], KMS's own
//!   failures as [`Error::Kms`] with the typed [`kms::KmsError`] inside.
//!
//! The XML parsers, CRC-64 and retry internals are crate-private.
//!
//! Whole-object transfers are checked against `x-oss-hash-crc64ecma` (CRC-64/XZ of the
//! ciphertext) and their length; downloads to files go to a temporary name that is renamed
//! only after verification. `unencrypted-content-md5` is written only when asked for.
//!
#![doc = include_str!("../README-async.md")]
#![forbid(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]
// This is the std side of the workspace: `std::` paths are the natural ones here.
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

pub mod blocking;
pub mod client;
pub(crate) mod crc64;
pub mod encryption;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod keys;
pub mod kms;
pub mod local;
pub mod object;
pub(crate) mod retry;
pub mod store;
pub mod transport;
pub(crate) mod xml;

pub use client::{
    Body, Client, ClientConfig, Endpoint, PayloadSigning, Replay, Request, Response, SignVersion,
};
/// CRC-64/XZ, the `x-oss-hash-crc64ecma` checksum (to compare local bytes with a stored object).
pub use crc64::Crc64;
pub use error::{Error, OssError, Result};
pub use retry::RetryPolicy;
pub use xml::{ObjectEntry, PartInfo};
