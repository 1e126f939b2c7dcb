//! osscse-embedded: encrypted telemetry uploads from microcontrollers.
//!
//! * [`entropy`]: a hardware RNG behind rand_core's `TryRng`, with SP 800-90B start-up and
//!   continuous health tests (repetition count, adaptive proportion) that fail closed.
//! * [`drbg`]: AES-256 CTR_DRBG (SP 800-90A, no derivation function) on the osscse-core engine
//!   or an AES peripheral, seeded and reseeded from the tested source. Data keys and IVs come
//!   only from it.
//! * [`cipher`]: the AES seam ([`LoadKey`] over osscse-core's `BlockCipher256`): content, payload
//!   hashes and the DRBG all run on the cipher the application passes (the engine by default).
//! * [`keys`]: data key and IV generation, with an optional counter-based IV prefix.
//! * [`upload`]: the async uploader over reqwless (`embedded-nal-async` transport): the CSE
//!   envelope, a V4 signature that covers the ciphertext's `Content-MD5` (checked by OSS), and
//!   the body encrypted chunk by chunk while it streams.
//!
//! `alloc` is needed for the RSA wrap and the signer's strings; everything else works in fixed
//! buffers. Features: `log` or `defmt` for logging, `tls` for HTTPS (embedded-tls, TLS 1.3)
//! that verifies the server's certificate chain and name against a CA the application supplies.
#![no_std]
#![forbid(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]

extern crate alloc;

mod fmt;

pub mod cipher;
pub mod clock;
pub mod drbg;
pub mod entropy;
pub mod keys;
#[cfg(feature = "tls")]
pub mod tls;
pub mod upload;

pub use cipher::LoadKey;
pub use clock::{NoWallClock, WallClock};
pub use drbg::{CtrDrbg, DrbgError, EntropyDrbg};
pub use entropy::{EntropyError, HealthTestedSource, NoiseConfig, SampleWidth};
pub use keys::{IvPrefix, KeyGenError, generate_material};
pub use upload::{
    Addressing, BodySource, PayloadSigning, PutOutcome, SealError, SealedObject, Target,
    UploadError, Uploader,
};
