//! A health-tested hardware noise source (NIST SP 800-90B §4.4).
//!
//! [`HealthTestedSource`] wraps a hardware RNG that implements rand_core's [`TryRng`] and treats
//! its output as raw noise samples with a *claimed* min-entropy per sample. It runs
//!
//! * a **start-up test** over [`STARTUP_SAMPLES`] samples (discarded) before the first output,
//! * the **repetition count test** (RCT) and the **adaptive proportion test** (APT) continuously on
//!   every sample it hands out,
//!
//! with cutoffs computed from the claimed entropy for a false-positive rate of α = 2^-20
//! ([`Cutoffs::compute`]). A failed test **latches**: every later request fails with the same
//! error until [`HealthTestedSource::reinitialize`] runs a new start-up test successfully.
//! α is per sample: even a perfect source trips a test about once per 2^20 samples (for a
//! binary source that is roughly once per 1300 reseeds), so a device should re-initialise and
//! retry once before reporting the RNG as broken.
//!
//! The raw samples are not full-entropy. [`HealthTestedSource::entropy_input`] collects samples
//! holding at least twice [`SEED_LEN`] bytes' worth of claimed entropy and conditions them with
//! SHA-256 `Hash_df` (SP 800-90A §10.3.1, a vetted SP 800-90B conditioning function) into the
//! 384-bit entropy input of the CTR_DRBG in [`crate::drbg`].

use core::fmt;

use rand_core::TryRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::drbg::SEED_LEN;

/// −log2 of the health tests' false-positive probability α (α = 2^-20, SP 800-90B §4.4).
pub const ALPHA_EXPONENT: u32 = 20;

/// Number of samples the start-up test examines before the first output (SP 800-90B §4.3: at
/// least 1024).
pub const STARTUP_SAMPLES: usize = 1024;

/// How the bytes of the hardware source are split into noise samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleWidth {
    /// Every bit is one binary sample (least significant bit first); APT window 512.
    Bit,
    /// Every byte is one 8-bit sample; APT window 1024.
    Byte,
}

impl SampleWidth {
    /// Bits per sample (the largest min-entropy a sample can have).
    pub const fn bits(self) -> u32 {
        match self {
            Self::Bit => 1,
            Self::Byte => 8,
        }
    }

    /// The adaptive proportion test's window size W (SP 800-90B §4.4.2).
    pub const fn apt_window(self) -> u32 {
        match self {
            Self::Bit => 512,
            Self::Byte => 1024,
        }
    }
}

/// RCT and APT cutoffs for a claimed min-entropy per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Repetition count test: fail when this many identical samples occur in a row.
    pub rct: u32,
    /// Adaptive proportion test: fail when the first sample of a window occurs this many times in
    /// the window.
    pub apt: u32,
    /// The APT window size W.
    pub apt_window: u32,
}

impl Cutoffs {
    /// Computes the cutoffs for `min_entropy` bits per sample at α = 2^-[`ALPHA_EXPONENT`]:
    ///
    /// * RCT: C = 1 + ⌈20 / H⌉ (SP 800-90B §4.4.1);
    /// * APT: C = 1 + CRITBINOM(W, 2^-H, 1 − α), the smallest C with P(B ≥ C) ≤ α for
    ///   B ~ Binomial(W, 2^-H) (SP 800-90B §4.4.2).
    ///
    /// # Errors
    /// [`EntropyError::InvalidClaim`] unless 0 < `min_entropy` ≤ the sample width in bits.
    pub fn compute(width: SampleWidth, min_entropy: f64) -> Result<Self, EntropyError> {
        // The range check is false for NaN, so NaN is rejected too.
        if !(0.0..=f64::from(width.bits())).contains(&min_entropy) || min_entropy == 0.0 {
            return Err(EntropyError::InvalidClaim);
        }
        let ratio = f64::from(ALPHA_EXPONENT) / min_entropy;
        let rct = ceil_u32(ratio).saturating_add(1);
        let window = width.apt_window();
        let alpha = 1.0 / f64::from(1u32 << ALPHA_EXPONENT);
        let apt = binomial_cutoff(window, exp2_neg(min_entropy), alpha);
        Ok(Self {
            rct,
            apt,
            apt_window: window,
        })
    }
}

/// ⌈x⌉ for 0 ≤ x < 2^32 without `std` float intrinsics.
fn ceil_u32(x: f64) -> u32 {
    // Truncation towards zero is the intent; x is finite and non-negative here.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let t = x as u32;
    if f64::from(t) < x { t + 1 } else { t }
}

/// 2^-h for h ≥ 0, with `core` arithmetic only (integer part by halving, fraction by the
/// exponential series; relative error far below what the cutoffs need).
fn exp2_neg(h: f64) -> f64 {
    let mut result = 1.0;
    let mut rest = h;
    while rest >= 1.0 {
        result *= 0.5;
        rest -= 1.0;
    }
    // e^(-rest·ln 2) with 0 ≤ rest < 1.
    let x = -rest * core::f64::consts::LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..40 {
        term *= x / f64::from(n);
        sum += term;
    }
    result * sum
}

/// The smallest `c` with P(B ≥ c) ≤ `alpha` for B ~ Binomial(`n`, `p`), 0 < p ≤ 1.
///
/// Works with probabilities relative to the mode (ratios of consecutive terms), so nothing
/// overflows and far-tail terms just underflow to zero.
fn binomial_cutoff(n: u32, p: f64, alpha: f64) -> u32 {
    if p >= 1.0 {
        // A sample that always repeats: every window is all-equal; only W + 1 never occurs.
        return n + 1;
    }
    let odds = p / (1.0 - p);
    // Mode of the binomial: ⌊(n + 1)·p⌋, clamped to n.
    let mode = {
        let m = ceil_u32((f64::from(n) + 1.0) * p);
        let m = if f64::from(m) > (f64::from(n) + 1.0) * p {
            m - 1
        } else {
            m
        };
        m.min(n)
    };
    // Sum below the mode.
    let mut below = 0.0;
    let mut t = 1.0;
    let mut k = mode;
    while k > 0 {
        t *= f64::from(k) / (f64::from(n - k) + 1.0) / odds;
        below += t;
        k -= 1;
    }
    // Sum from the mode up.
    let mut upper = 0.0;
    let mut t = 1.0;
    for k in mode..=n {
        upper += t;
        t *= (f64::from(n - k)) / (f64::from(k) + 1.0) * odds;
    }
    let total = below + upper;
    // Walk up from the mode: tail(k) = P(B ≥ k).
    let mut tail = upper;
    let mut t = 1.0;
    for k in mode..=n {
        if tail <= alpha * total {
            return k.max(1);
        }
        tail -= t;
        t *= (f64::from(n - k)) / (f64::from(k) + 1.0) * odds;
    }
    n + 1
}

/// Which health test failed, or why samples could not be obtained.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntropyError {
    /// The repetition count test saw `cutoff` identical samples in a row.
    RepetitionCount {
        /// The cutoff that was reached.
        cutoff: u32,
        /// Whether this happened during the start-up test.
        startup: bool,
    },
    /// The adaptive proportion test saw one value `cutoff` times within a window.
    AdaptiveProportion {
        /// The cutoff that was reached.
        cutoff: u32,
        /// The window size.
        window: u32,
        /// Whether this happened during the start-up test.
        startup: bool,
    },
    /// The hardware source itself reported an error.
    Source,
    /// The claimed min-entropy per sample is not in (0, bits per sample].
    InvalidClaim,
}

impl fmt::Display for EntropyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = |startup: bool| if startup { "start-up" } else { "continuous" };
        match *self {
            Self::RepetitionCount { cutoff, startup } => write!(
                f,
                "entropy source failed the {} repetition count test ({cutoff} identical samples in a row): \
                 the hardware RNG looks stuck; no key material is produced until it is fixed and re-initialised",
                phase(startup)
            ),
            Self::AdaptiveProportion {
                cutoff,
                window,
                startup,
            } => write!(
                f,
                "entropy source failed the {} adaptive proportion test (one value {cutoff} times in {window} samples): \
                 the hardware RNG is heavily biased or its entropy claim is too high; no key material is produced \
                 until it is fixed and re-initialised",
                phase(startup)
            ),
            Self::Source => f.write_str(
                "the hardware RNG reported an error: check that it is clocked and enabled, then re-initialise",
            ),
            Self::InvalidClaim => f.write_str(
                "the claimed min-entropy per sample must be greater than 0 and at most the sample width in bits",
            ),
        }
    }
}

impl core::error::Error for EntropyError {}

/// The noise model of a hardware source: sample width and claimed min-entropy per sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseConfig {
    width: SampleWidth,
    min_entropy: f64,
    cutoffs: Cutoffs,
}

impl NoiseConfig {
    /// A source whose samples are `width` wide with `min_entropy` bits of min-entropy each (as
    /// assessed for the hardware, e.g. from the vendor's SP 800-90B entropy report). Claim
    /// conservatively: the cutoffs and the amount of raw data per seed both follow from it.
    ///
    /// # Errors
    /// [`EntropyError::InvalidClaim`] unless 0 < `min_entropy` ≤ the sample width in bits.
    pub fn new(width: SampleWidth, min_entropy: f64) -> Result<Self, EntropyError> {
        Ok(Self {
            width,
            min_entropy,
            cutoffs: Cutoffs::compute(width, min_entropy)?,
        })
    }

    /// The computed health-test cutoffs.
    pub fn cutoffs(&self) -> Cutoffs {
        self.cutoffs
    }

    /// Raw bytes to read so that they hold at least 2 × 384 bits of claimed min-entropy.
    fn raw_bytes_per_seed(&self) -> usize {
        let samples = ceil_u32(f64::from(2 * 8 * SEED_LEN as u32) / self.min_entropy) as usize;
        match self.width {
            SampleWidth::Byte => samples,
            SampleWidth::Bit => samples.div_ceil(8),
        }
    }
}

/// Running state of the two continuous tests.
#[derive(Debug, Clone, Copy, Default)]
struct TestState {
    rct_value: u8,
    rct_run: u32,
    apt_value: u8,
    apt_count: u32,
    apt_index: u32,
}

impl TestState {
    fn feed(&mut self, cutoffs: &Cutoffs, sample: u8, startup: bool) -> Result<(), EntropyError> {
        // Repetition count test (SP 800-90B §4.4.1).
        if self.rct_run > 0 && sample == self.rct_value {
            self.rct_run += 1;
            if self.rct_run >= cutoffs.rct {
                return Err(EntropyError::RepetitionCount {
                    cutoff: cutoffs.rct,
                    startup,
                });
            }
        } else {
            self.rct_value = sample;
            self.rct_run = 1;
        }
        // Adaptive proportion test (SP 800-90B §4.4.2).
        if self.apt_index == 0 {
            self.apt_value = sample;
            self.apt_count = 1;
        } else if sample == self.apt_value {
            self.apt_count += 1;
            if self.apt_count >= cutoffs.apt {
                return Err(EntropyError::AdaptiveProportion {
                    cutoff: cutoffs.apt,
                    window: cutoffs.apt_window,
                    startup,
                });
            }
        }
        self.apt_index += 1;
        if self.apt_index == cutoffs.apt_window {
            self.apt_index = 0;
        }
        Ok(())
    }
}

/// A hardware RNG whose output passes SP 800-90B start-up and continuous health tests, failing
/// closed. See the [module docs](self).
pub struct HealthTestedSource<S> {
    source: S,
    config: NoiseConfig,
    state: TestState,
    started: bool,
    failure: Option<EntropyError>,
}

impl<S> fmt::Debug for HealthTestedSource<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthTestedSource")
            .field("config", &self.config)
            .field("started", &self.started)
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

impl<S: TryRng> HealthTestedSource<S> {
    /// Wraps `source`. The start-up test runs on the first request (or call
    /// [`Self::reinitialize`] to run it now).
    pub fn new(source: S, config: NoiseConfig) -> Self {
        Self {
            source,
            config,
            state: TestState::default(),
            started: false,
            failure: None,
        }
    }

    /// The noise model and cutoffs in use.
    pub fn config(&self) -> &NoiseConfig {
        &self.config
    }

    /// The latched failure, if a health test has failed since the last (re-)initialisation.
    pub fn failure(&self) -> Option<EntropyError> {
        self.failure
    }

    /// The wrapped hardware source.
    pub fn into_inner(self) -> S {
        self.source
    }

    /// Clears a latched failure and runs a fresh start-up test over [`STARTUP_SAMPLES`] samples.
    ///
    /// # Errors
    /// The start-up test's failure (which is latched again), or [`EntropyError::Source`].
    pub fn reinitialize(&mut self) -> Result<(), EntropyError> {
        self.failure = None;
        self.started = false;
        self.state = TestState::default();
        self.startup()
    }

    fn startup(&mut self) -> Result<(), EntropyError> {
        let per_byte = match self.config.width {
            SampleWidth::Bit => 8,
            SampleWidth::Byte => 1,
        };
        let mut buf = [0u8; 32];
        let mut remaining = STARTUP_SAMPLES.div_ceil(per_byte);
        while remaining > 0 {
            let n = remaining.min(buf.len());
            self.read_tested(&mut buf[..n], true)?;
            remaining -= n;
        }
        buf.zeroize();
        self.started = true;
        Ok(())
    }

    /// Reads raw bytes from the source and runs every sample through the tests; latches failures.
    fn read_tested(&mut self, buf: &mut [u8], startup: bool) -> Result<(), EntropyError> {
        if let Some(e) = self.failure {
            return Err(e);
        }
        if self.source.try_fill_bytes(buf).is_err() {
            self.failure = Some(EntropyError::Source);
            return Err(EntropyError::Source);
        }
        let cutoffs = self.config.cutoffs;
        for &byte in buf.iter() {
            let result = match self.config.width {
                SampleWidth::Byte => self.state.feed(&cutoffs, byte, startup),
                SampleWidth::Bit => {
                    (0..8).try_for_each(|bit| self.state.feed(&cutoffs, (byte >> bit) & 1, startup))
                }
            };
            if let Err(e) = result {
                buf.zeroize();
                self.failure = Some(e);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Fills `buf` with raw, health-tested noise bytes (not full-entropy: condition before use).
    ///
    /// # Errors
    /// A latched or new health-test failure, or [`EntropyError::Source`]; `buf` is zeroed then.
    pub fn fill_raw(&mut self, buf: &mut [u8]) -> Result<(), EntropyError> {
        if !self.started {
            self.startup()?;
        }
        self.read_tested(buf, false)
    }

    /// Produces the 384-bit entropy input for the CTR_DRBG: raw samples holding at least 768 bits
    /// of claimed min-entropy, conditioned with SHA-256 `Hash_df` (SP 800-90A §10.3.1).
    ///
    /// # Errors
    /// As [`Self::fill_raw`]; `out` is left zeroed on error.
    pub fn entropy_input(&mut self, out: &mut [u8; SEED_LEN]) -> Result<(), EntropyError> {
        out.zeroize();
        let bits = (8 * SEED_LEN as u32).to_be_bytes();
        let mut first = Sha256::new();
        first.update([1u8]);
        first.update(bits);
        let mut second = Sha256::new();
        second.update([2u8]);
        second.update(bits);
        let mut remaining = self.config.raw_bytes_per_seed();
        let mut buf = [0u8; 32];
        while remaining > 0 {
            let n = remaining.min(buf.len());
            self.fill_raw(&mut buf[..n])?;
            first.update(&buf[..n]);
            second.update(&buf[..n]);
            remaining -= n;
        }
        buf.zeroize();
        let mut a = first.finalize();
        let mut b = second.finalize();
        out[..32].copy_from_slice(&a);
        out[32..].copy_from_slice(&b[..SEED_LEN - 32]);
        a.zeroize();
        b.zeroize();
        Ok(())
    }
}
