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
//! * [`store::Store`]: one trait over `oss://` ([`store::OssStore`]) and `file://`
//!   ([`store::FileStore`]), keys held by the store; the CLI talks only to it.
//!
//! Whole-object transfers are checked against `x-oss-hash-crc64ecma` (CRC-64/XZ of the
//! ciphertext) and their length; downloads to files go to a temporary name that is renamed
//! only after verification. `unencrypted-content-md5` is written only when asked for.
//!
//! # Using osscse-std from async Rust
//!
//! [`encryption::EncryptionClient`] is async (tokio); clones share one connection pool and
//! may run in as many tasks as you like. Programs without a runtime use
//! [`blocking::EncryptionClient`], the same methods driven on the blocking client's own
//! runtime. Against the loopback OSS server of the test suite:
//!
//! ```
//! use osscse_core::sign::Credentials;
//! use osscse_std::encryption::EncryptionClient;
//! use osscse_std::keys::{Keyring, load_rsa_key};
//! use osscse_std::local::PutOptions;
//! use osscse_std::{Client, ClientConfig, Endpoint};
//!
//! # fn main() -> osscse_std::Result<()> {
//! # let server = osscse_tests::Server::start(osscse_tests::Config::new("ak", "sk")).unwrap();
//! # let endpoint = server.endpoint();
//! # let key_pem = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-a-private.pem");
//! # let rt = tokio::runtime::Runtime::new().unwrap();
//! # rt.block_on(async {
//! let mut config = ClientConfig::new(Endpoint::parse(&endpoint)?);
//! config.region = Some("cn-hangzhou".into());
//! let client = Client::new(config, Credentials::new("ak", "sk"))?;
//! let enc = EncryptionClient::new(client, Keyring::new(load_rsa_key(&key_pem)?));
//!
//! enc.put_source("bucket", "hello.txt", &b"hello, async".as_slice(), &PutOptions::default())
//!     .await?;
//! let plain = enc.get_object_bytes("bucket", "hello.txt", None).await?;
//! assert_eq!(plain, b"hello, async");
//! # Ok(())
//! # })
//! # }
//! ```
//!
//! Dropping any future leaves the user's files as they were (downloads go to a temporary
//! file renamed only after verification). Another HTTP stack plugs in through
//! [`transport::HttpService`] and [`Client::with_service`].
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
pub mod crc64;
pub mod encryption;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod keys;
pub mod kms;
pub mod local;
pub mod object;
pub mod retry;
pub mod store;
pub mod transport;
pub mod xml;

pub use client::{
    Body, Client, ClientConfig, Endpoint, PayloadSigning, Request, Response, SignVersion,
};
pub use error::{Error, OssError, Result};
