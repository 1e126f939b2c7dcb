//! osscse-core: Alibaba Cloud OSS client-side encryption, byte-compatible with the official SDKs.
//!
//! Everything here is pure computation and `#![no_std]`: the envelope format
//! (`x-oss-meta-client-side-encryption-*` headers), the AES-256-CTR engine, key wrapping with a
//! customer master key, streaming encryption over `embedded-io`, and OSS request signing.
//! Sockets, files, clocks and entropy come in from the HAL crates (`osscse-std`,
//! `osscse-embedded`) through traits and plain arguments.
//!
//! # ⚠️ Security warning
//!
//! The OSS client-side encryption format is AES-256-CTR **without authentication**. It keeps
//! the object confidential, but a party that can modify the stored object can flip plaintext
//! bits undetected. osscse's CRC-64 and length checks catch accidents, not attackers.
#![no_std]
#![deny(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod content;
pub mod engine;
pub mod envelope;
pub mod error;
#[cfg(feature = "alloc")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "sign")]
pub mod sign;
pub mod stream;
#[cfg(feature = "sign")]
pub mod url;
#[cfg(feature = "alloc")]
pub mod wrap;

pub use engine::Keystream;

/// The README's example runs as a doctest.
#[cfg(all(doctest, feature = "rsa", feature = "std"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
pub use error::{Error, Result};
