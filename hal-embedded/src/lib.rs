//! osscse-embedded: encrypted telemetry uploads from microcontrollers.
//!
//! * [`entropy`]: a hardware RNG behind rand_core's `TryRng`, with SP 800-90B start-up and
//!   continuous health tests (repetition count, adaptive proportion) that fail closed.
//! * [`drbg`]: AES-256 CTR_DRBG (SP 800-90A, no derivation function) on the osscse-core engine,
//!   seeded and reseeded from the tested source. Data keys and IVs come only from it.
//! * [`keys`]: data key and IV generation, with an optional counter-based IV prefix.
#![no_std]
#![forbid(unsafe_code)]

pub mod drbg;
pub mod entropy;
pub mod keys;

pub use drbg::{CtrDrbg, DrbgError, EntropyDrbg};
pub use entropy::{EntropyError, HealthTestedSource, NoiseConfig, SampleWidth};
pub use keys::{ContentMaterial, IvPrefix, KeyGenError};
