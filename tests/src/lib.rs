//! osscse-tests: a loopback OSS-compatible server and the interop and fault suites.
//!
//! The server speaks enough of the OSS API for the official SDKs (object CRUD, ranges,
//! listing, multipart with the client-side-encryption rules), verifies V4 and V1 signatures
//! with `osscse_core::sign`, answers errors as OSS XML with `x-oss-request-id`, and has
//! per-instance fault knobs ([`FaultConfig`]) for resilience tests.
//!
//! By hand: `cargo run -p osscse-tests --bin osscse-server -- --listen 127.0.0.1:9000
//! --access-key-id AK --access-key-secret SK [--security-token T] [--data-dir DIR]` prints the
//! endpoint and accepts any bucket name (path style, or virtual-hosted through the Host header).
//!
//! Suites: `tests/server.rs` (std client: operations, signatures, CSE rules, fault knobs),
//! `tests/sdk_interop.rs` and `tests/sdk_faults.rs` (the official Python SDKs, see [`python`]).
//!
//! ```no_run
//! use osscse_tests::{Config, Server};
//! let server = Server::start(Config::new("ak", "sk"))?;
//! println!("serving {}", server.endpoint());
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]
// A std-only test fixture: `core`/`alloc` paths would add nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

mod auth;
mod body;
pub mod client;
mod digest;
pub mod flip_proxy;
mod http;
pub mod kms;
mod log;
mod ops;
pub mod python;
mod recycle;
mod server;
mod xml;

pub use digest::PayloadHashPolicy;
pub use log::LoggedRequest;
pub use server::{Config, EtagPolicy, FaultConfig, Faults, Server, StoredObject};
pub use xml::OssError;
