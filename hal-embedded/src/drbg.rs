//! AES-256 CTR_DRBG without derivation function (NIST SP 800-90A Rev. 1 §10.2.1), on any
//! [`LoadKey`] AES-256 cipher: osscse-core's engine by default, or an MCU's AES peripheral
//! ([`CtrDrbg::instantiate_with`], [`EntropyDrbg::new_with_cipher`]).
//!
//! The CTR keystream of `K` from counter `V + 1`, applied to zeros, is AES_K(V+1) ‖ AES_K(V+2)
//! ‖ …, which is exactly the block generation of CTR_DRBG (V is incremented as a full 128-bit
//! big-endian integer, as the engine does).
//!
//! * [`CtrDrbg`] is the deterministic mechanism: instantiate/reseed with caller-supplied 384-bit
//!   entropy input. Used for known-answer tests and fixed-seed firmware tests.
//! * [`EntropyDrbg`] owns a [`HealthTestedSource`] and seeds, reseeds (every
//!   [`DEFAULT_RESEED_INTERVAL`] requests, or before every request with prediction resistance)
//!   from it. A health-test failure stops all output with an error.
//!
//! Both implement rand_core's [`TryRng`] and [`TryCryptoRng`], so osscse-core's key and IV
//! generation (and RSA padding) draw from them.

use core::fmt;

use osscse_core::engine::Engine;
use rand_core::{TryCryptoRng, TryRng};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::cipher::{self, LoadKey};
use crate::entropy::{EntropyError, HealthTestedSource};

/// seedlen of AES-256 CTR_DRBG: key (32) + block (16) bytes.
pub const SEED_LEN: usize = 48;
/// Largest single request: 2^19 bits (SP 800-90A Table 3, max_number_of_bits_per_request).
pub const MAX_REQUEST_BYTES: usize = 1 << 16;
/// Default reseed interval in generate requests (SECURITY.md §3.7: at most 2^20).
pub const DEFAULT_RESEED_INTERVAL: u64 = 1 << 20;
/// Largest reseed interval SP 800-90A allows for CTR_DRBG (2^48).
pub const MAX_RESEED_INTERVAL: u64 = 1 << 48;

/// Why the DRBG produced no output.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrbgError {
    /// The entropy source failed (health test or hardware); no output until it is re-initialised.
    Entropy(EntropyError),
    /// The reseed interval is exhausted; call [`CtrDrbg::reseed`] with fresh entropy.
    ReseedRequired,
    /// A personalization string or additional input is longer than 48 bytes.
    InputTooLong,
    /// One request asked for more than [`MAX_REQUEST_BYTES`]; split it.
    RequestTooLarge,
}

impl fmt::Display for DrbgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Entropy(e) => write!(f, "CTR_DRBG cannot be seeded: {e}"),
            Self::ReseedRequired => {
                f.write_str("CTR_DRBG reseed interval exhausted: reseed it with fresh entropy")
            }
            Self::InputTooLong => f.write_str(
                "CTR_DRBG personalization string or additional input longer than 48 bytes: shorten or hash it",
            ),
            Self::RequestTooLarge => {
                f.write_str("CTR_DRBG request larger than 65536 bytes: split it into several requests")
            }
        }
    }
}

impl core::error::Error for DrbgError {}

impl From<EntropyError> for DrbgError {
    fn from(e: EntropyError) -> Self {
        Self::Entropy(e)
    }
}

/// Adds `n` to the 128-bit big-endian counter `v` (mod 2^128).
fn add_be(v: &mut [u8; 16], n: u64) {
    let x = u128::from_be_bytes(*v).wrapping_add(u128::from(n));
    *v = x.to_be_bytes();
}

/// Left-aligns `input` (≤ 48 bytes) in a zero-padded seedlen block.
fn pad(input: &[u8]) -> Result<[u8; SEED_LEN], DrbgError> {
    let mut block = [0u8; SEED_LEN];
    block
        .get_mut(..input.len())
        .ok_or(DrbgError::InputTooLong)?
        .copy_from_slice(input);
    Ok(block)
}

/// The deterministic AES-256 CTR_DRBG mechanism (no df) over the AES cipher `B`, which holds
/// the DRBG key. V is zeroized on drop, and so is the key of the default [`Engine`].
pub struct CtrDrbg<B: LoadKey = Engine> {
    cipher: B,
    v: [u8; 16],
    reseed_counter: u64,
    reseed_interval: u64,
}

impl<B: LoadKey> fmt::Debug for CtrDrbg<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CtrDrbg")
            .field("reseed_counter", &self.reseed_counter)
            .field("reseed_interval", &self.reseed_interval)
            .finish_non_exhaustive()
    }
}

impl<B: LoadKey> Drop for CtrDrbg<B> {
    fn drop(&mut self) {
        self.v.zeroize();
    }
}

impl<B: LoadKey + ZeroizeOnDrop> ZeroizeOnDrop for CtrDrbg<B> {}

impl CtrDrbg {
    /// CTR_DRBG_Instantiate_algorithm (§10.2.1.3.1) with a full-entropy 384-bit `entropy_input`
    /// and an optional personalization string (≤ 48 bytes, e.g. a device id), on the
    /// osscse-core engine.
    ///
    /// # Errors
    /// [`DrbgError::InputTooLong`] for a personalization string over 48 bytes.
    pub fn instantiate(
        entropy_input: &[u8; SEED_LEN],
        personalization: &[u8],
    ) -> Result<Self, DrbgError> {
        Self::instantiate_with(Engine::new(&[0; 32]), entropy_input, personalization)
    }
}

impl<B: LoadKey> CtrDrbg<B> {
    /// [`CtrDrbg::instantiate`] on the AES cipher `cipher` (e.g. an AES peripheral); its key is
    /// replaced by the DRBG's.
    ///
    /// # Errors
    /// [`DrbgError::InputTooLong`] for a personalization string over 48 bytes.
    pub fn instantiate_with(
        mut cipher: B,
        entropy_input: &[u8; SEED_LEN],
        personalization: &[u8],
    ) -> Result<Self, DrbgError> {
        let mut seed = pad(personalization)?;
        xor_into(&mut seed, entropy_input);
        cipher.load_key(&[0; 32]);
        let mut drbg = Self {
            cipher,
            v: [0; 16],
            reseed_counter: 1,
            reseed_interval: DEFAULT_RESEED_INTERVAL,
        };
        drbg.update(&seed);
        seed.zeroize();
        Ok(drbg)
    }

    /// Sets the reseed interval (requests between reseeds), clamped to 1..=2^48.
    #[must_use]
    pub fn with_reseed_interval(mut self, interval: u64) -> Self {
        self.reseed_interval = interval.clamp(1, MAX_RESEED_INTERVAL);
        self
    }

    /// Generate requests since the last (re)seed, plus one (SP 800-90A's reseed_counter).
    pub fn reseed_counter(&self) -> u64 {
        self.reseed_counter
    }

    /// Whether the next request needs a reseed first.
    pub fn needs_reseed(&self) -> bool {
        self.reseed_counter > self.reseed_interval
    }

    /// CTR_DRBG_Reseed_algorithm (§10.2.1.4.1).
    ///
    /// # Errors
    /// [`DrbgError::InputTooLong`] for additional input over 48 bytes.
    pub fn reseed(
        &mut self,
        entropy_input: &[u8; SEED_LEN],
        additional_input: &[u8],
    ) -> Result<(), DrbgError> {
        let mut seed = pad(additional_input)?;
        xor_into(&mut seed, entropy_input);
        self.update(&seed);
        seed.zeroize();
        self.reseed_counter = 1;
        Ok(())
    }

    /// CTR_DRBG_Generate_algorithm (§10.2.1.5.1): fills `out` (≤ [`MAX_REQUEST_BYTES`]).
    ///
    /// # Errors
    /// [`DrbgError::ReseedRequired`], [`DrbgError::InputTooLong`] or
    /// [`DrbgError::RequestTooLarge`]; `out` is untouched then.
    pub fn generate(&mut self, out: &mut [u8], additional_input: &[u8]) -> Result<(), DrbgError> {
        if self.needs_reseed() {
            return Err(DrbgError::ReseedRequired);
        }
        if out.len() > MAX_REQUEST_BYTES {
            return Err(DrbgError::RequestTooLarge);
        }
        let mut additional = pad(additional_input)?;
        if !additional_input.is_empty() {
            self.update(&additional);
        }
        let mut counter = self.v;
        add_be(&mut counter, 1);
        out.fill(0);
        cipher::apply_at(&mut self.cipher, &counter, 0, out);
        add_be(&mut self.v, out.len().div_ceil(16) as u64);
        self.update(&additional);
        additional.zeroize();
        self.reseed_counter += 1;
        Ok(())
    }

    /// CTR_DRBG_Update (§10.2.1.2).
    fn update(&mut self, provided: &[u8; SEED_LEN]) {
        let mut temp = [0u8; SEED_LEN];
        let mut counter = self.v;
        add_be(&mut counter, 1);
        cipher::apply_at(&mut self.cipher, &counter, 0, &mut temp);
        xor_into(&mut temp, provided);
        let mut key = [0u8; 32];
        key.copy_from_slice(&temp[..32]);
        self.cipher.load_key(&key);
        key.zeroize();
        self.v.copy_from_slice(&temp[32..]);
        temp.zeroize();
    }

    /// Fills `dst` of any length by splitting it into requests of at most [`MAX_REQUEST_BYTES`].
    fn fill(&mut self, dst: &mut [u8]) -> Result<(), DrbgError> {
        for chunk in dst.chunks_mut(MAX_REQUEST_BYTES) {
            self.generate(chunk, &[])?;
        }
        Ok(())
    }
}

fn xor_into(dst: &mut [u8; SEED_LEN], src: &[u8; SEED_LEN]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d ^= s);
}

/// Implements `TryRng` in terms of a `try_fill_bytes`-like method.
macro_rules! try_rng_via_fill {
    ($ty:ty, $($gen:tt)*) => {
        impl $($gen)* TryRng for $ty {
            type Error = DrbgError;

            fn try_next_u32(&mut self) -> Result<u32, DrbgError> {
                let mut b = [0u8; 4];
                self.fill(&mut b)?;
                Ok(u32::from_le_bytes(b))
            }

            fn try_next_u64(&mut self) -> Result<u64, DrbgError> {
                let mut b = [0u8; 8];
                self.fill(&mut b)?;
                Ok(u64::from_le_bytes(b))
            }

            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), DrbgError> {
                self.fill(dst)
            }
        }

        impl $($gen)* TryCryptoRng for $ty {}
    };
}

try_rng_via_fill!(CtrDrbg<B>, <B: LoadKey>);
try_rng_via_fill!(EntropyDrbg<S, B>, <S: TryRng, B: LoadKey>);

/// A CTR_DRBG seeded and reseeded from a [`HealthTestedSource`]; fails closed. `B` is the AES
/// cipher the DRBG runs on.
pub struct EntropyDrbg<S, B: LoadKey = Engine> {
    source: HealthTestedSource<S>,
    drbg: CtrDrbg<B>,
    prediction_resistance: bool,
}

impl<S, B: LoadKey> fmt::Debug for EntropyDrbg<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntropyDrbg")
            .field("source", &self.source)
            .field("drbg", &self.drbg)
            .field("prediction_resistance", &self.prediction_resistance)
            .finish()
    }
}

impl<S: TryRng> EntropyDrbg<S> {
    /// Runs the source's start-up test, then instantiates from its conditioned output and
    /// `personalization` (≤ 48 bytes; a device id makes identical boots diverge), on the
    /// osscse-core engine.
    ///
    /// # Errors
    /// [`DrbgError::Entropy`] when the start-up or a continuous health test fails (nothing is
    /// returned, so no output can come from an untested source), [`DrbgError::InputTooLong`].
    pub fn new(source: HealthTestedSource<S>, personalization: &[u8]) -> Result<Self, DrbgError> {
        Self::new_with_cipher(Engine::new(&[0; 32]), source, personalization)
    }
}

impl<S: TryRng, B: LoadKey> EntropyDrbg<S, B> {
    /// [`EntropyDrbg::new`] on the AES cipher `cipher` (e.g. an AES peripheral).
    ///
    /// # Errors
    /// As [`EntropyDrbg::new`].
    pub fn new_with_cipher(
        cipher: B,
        mut source: HealthTestedSource<S>,
        personalization: &[u8],
    ) -> Result<Self, DrbgError> {
        if personalization.len() > SEED_LEN {
            return Err(DrbgError::InputTooLong);
        }
        let mut seed = [0u8; SEED_LEN];
        source.reinitialize()?;
        source.entropy_input(&mut seed)?;
        let drbg = CtrDrbg::instantiate_with(cipher, &seed, personalization);
        seed.zeroize();
        Ok(Self {
            source,
            drbg: drbg?,
            prediction_resistance: false,
        })
    }

    /// With prediction resistance every request reseeds from the entropy source first
    /// (slower; protects output after a state compromise).
    #[must_use]
    pub fn with_prediction_resistance(mut self, on: bool) -> Self {
        self.prediction_resistance = on;
        self
    }

    /// Sets the reseed interval in requests (clamped to 1..=2^48).
    #[must_use]
    pub fn with_reseed_interval(mut self, interval: u64) -> Self {
        self.drbg.reseed_interval = interval.clamp(1, MAX_RESEED_INTERVAL);
        self
    }

    /// The health-tested source (e.g. to inspect a latched failure).
    pub fn source(&self) -> &HealthTestedSource<S> {
        &self.source
    }

    /// Re-runs the source's start-up test after a failure and reseeds.
    ///
    /// # Errors
    /// [`DrbgError::Entropy`] when the source still fails.
    pub fn reinitialize(&mut self) -> Result<(), DrbgError> {
        self.source.reinitialize()?;
        self.reseed(&[])
    }

    /// Reseeds from the source, mixing in `additional_input` (≤ 48 bytes).
    ///
    /// # Errors
    /// [`DrbgError::Entropy`], [`DrbgError::InputTooLong`].
    pub fn reseed(&mut self, additional_input: &[u8]) -> Result<(), DrbgError> {
        let mut seed = [0u8; SEED_LEN];
        let result = self
            .source
            .entropy_input(&mut seed)
            .map_err(DrbgError::from)
            .and_then(|()| self.drbg.reseed(&seed, additional_input));
        seed.zeroize();
        result
    }

    /// Fills `out` (≤ [`MAX_REQUEST_BYTES`]), reseeding first when due or with prediction
    /// resistance.
    ///
    /// # Errors
    /// [`DrbgError::Entropy`] when the source has failed (latched until
    /// [`Self::reinitialize`]), [`DrbgError::InputTooLong`], [`DrbgError::RequestTooLarge`].
    pub fn generate(&mut self, out: &mut [u8], additional_input: &[u8]) -> Result<(), DrbgError> {
        if let Some(e) = self.source.failure() {
            return Err(DrbgError::Entropy(e));
        }
        if self.prediction_resistance || self.drbg.needs_reseed() {
            self.reseed(additional_input)?;
            return self.drbg.generate(out, &[]);
        }
        self.drbg.generate(out, additional_input)
    }

    fn fill(&mut self, dst: &mut [u8]) -> Result<(), DrbgError> {
        for chunk in dst.chunks_mut(MAX_REQUEST_BYTES) {
            self.generate(chunk, &[])?;
        }
        Ok(())
    }
}
