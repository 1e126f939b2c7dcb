//! osscse-std: Alibaba Cloud OSS client-side encryption for std hosts.
//!
//! * [`client::Client`]: the OSS HTTP client (ureq 3 + rustls): V4/V1 signing from
//!   osscse-core, path-style and virtual-hosted URLs, connection reuse, retries with
//!   full-jitter backoff that resend byte-identical bodies, typed OSS errors, CRC-64 checks.
//! * [`rng::SysRng`]: the operating system's entropy for keys and IVs.
#![forbid(unsafe_code)]
// This is the std side of the workspace: `std::` paths are the natural ones here.
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

pub mod client;
pub mod crc64;
pub mod encryption;
pub mod error;
pub mod keys;
pub mod kms;
pub mod local;
pub mod object;
pub mod retry;
pub mod xml;

pub use client::{Body, Client, ClientConfig, Endpoint, Request, Response, SignVersion};
pub use error::{Error, OssError, Result};
