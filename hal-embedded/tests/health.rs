//! SP 800-90B health tests: computed cutoffs, rejection of stuck and biased sources, acceptance
//! of a good one, fail-closed latching, and key/IV generation through the DRBG.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use core::cell::Cell;
use core::convert::Infallible;
extern crate alloc;
use alloc::rc::Rc;

use osscse_embedded::entropy::{Cutoffs, STARTUP_SAMPLES};
use osscse_embedded::{
    DrbgError, EntropyDrbg, EntropyError, HealthTestedSource, IvPrefix, KeyGenError, NoiseConfig,
    SampleWidth, generate_material,
};
use rand_core::{TryCryptoRng, TryRng};

/// How a test source behaves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Uniform bytes (xorshift64*: statistically good, which is all the health tests look at).
    Good,
    /// Always the same byte.
    Stuck,
    /// Every other byte is 0x00, the others uniform non-zero: one value in half the samples.
    Biased,
    /// Bits that are 1 with probability 15/16.
    BiasedBits,
    /// The hardware reports an error.
    Broken,
}

#[derive(Clone)]
struct TestSource {
    state: u64,
    counter: u64,
    mode: Rc<Cell<Mode>>,
}

impl TestSource {
    fn new(seed: u64, mode: Mode) -> (Self, Rc<Cell<Mode>>) {
        let mode = Rc::new(Cell::new(mode));
        (
            Self {
                state: seed | 1,
                counter: 0,
                mode: mode.clone(),
            },
            mode,
        )
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[derive(Debug)]
struct HwError;
impl core::fmt::Display for HwError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("hardware RNG error")
    }
}
impl core::error::Error for HwError {}

impl TryRng for TestSource {
    type Error = HwError;
    fn try_next_u32(&mut self) -> Result<u32, HwError> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, HwError> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), HwError> {
        for b in dst.iter_mut() {
            self.counter += 1;
            let r = self.next();
            *b = match self.mode.get() {
                Mode::Good => (r >> 56) as u8,
                Mode::Stuck => 0xa5,
                Mode::Biased if self.counter % 2 == 1 => 0,
                Mode::Biased => ((r >> 56) as u8).max(1),
                Mode::BiasedBits => (0..8).fold(0u8, |acc, i| {
                    acc | (u8::from((r >> (4 * i)) & 0xf != 0) << i)
                }),
                Mode::Broken => return Err(HwError),
            };
        }
        Ok(())
    }
}

fn bytes_config(h: f64) -> NoiseConfig {
    NoiseConfig::new(SampleWidth::Byte, h).expect("valid claim")
}

#[test]
fn cutoffs_are_computed_from_the_claimed_entropy() {
    // SECURITY.md §3.7 table (alpha = 2^-20).
    for (width, h, rct, apt, window) in [
        (SampleWidth::Byte, 1.0, 21, 589, 1024),
        (SampleWidth::Byte, 2.0, 11, 325, 1024),
        (SampleWidth::Byte, 4.0, 6, 105, 1024),
        (SampleWidth::Byte, 8.0, 4, 18, 1024),
        (SampleWidth::Bit, 1.0, 21, 311, 512),
    ] {
        let c = Cutoffs::compute(width, h).expect("valid");
        assert_eq!(
            c,
            Cutoffs {
                rct,
                apt,
                apt_window: window
            },
            "{width:?} H={h}"
        );
    }
    // A fractional claim lies between its neighbours.
    let c = Cutoffs::compute(SampleWidth::Byte, 3.0).expect("valid");
    assert_eq!(c.rct, 1 + 7);
    assert!(c.apt < 325 && c.apt > 105, "{c:?}");
    for bad in [0.0, -1.0, 8.01, f64::NAN] {
        assert_eq!(
            Cutoffs::compute(SampleWidth::Byte, bad),
            Err(EntropyError::InvalidClaim)
        );
    }
    assert_eq!(
        Cutoffs::compute(SampleWidth::Bit, 1.5),
        Err(EntropyError::InvalidClaim)
    );
}

#[test]
fn good_source_passes_startup_and_continuous_tests() {
    // alpha = 2^-20 is per sample: a perfect binary source trips the RCT about once per 2^20
    // samples, so the binary case runs fewer samples (~2^15) than the byte cases (~2^17).
    for (width, h, rounds) in [
        (SampleWidth::Byte, 8.0, 200),
        (SampleWidth::Byte, 7.5, 200),
        (SampleWidth::Bit, 1.0, 5),
    ] {
        for seed in 1..6u64 {
            let (src, _) = TestSource::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), Mode::Good);
            let source = HealthTestedSource::new(src, NoiseConfig::new(width, h).expect("claim"));
            let mut drbg = EntropyDrbg::new(source, b"device-0001")
                .expect("good source")
                .with_prediction_resistance(true);
            let mut out = [0u8; 64];
            for _ in 0..rounds {
                drbg.generate(&mut out, &[])
                    .expect("good source keeps passing");
            }
            assert!(drbg.source().failure().is_none());
        }
    }
}

#[test]
fn stuck_source_is_rejected_at_startup() {
    let (src, _) = TestSource::new(1, Mode::Stuck);
    let source = HealthTestedSource::new(src, bytes_config(8.0));
    let err = EntropyDrbg::new(source, &[]).expect_err("stuck source must fail");
    assert_eq!(
        err,
        DrbgError::Entropy(EntropyError::RepetitionCount {
            cutoff: 4,
            startup: true
        })
    );
    assert!(err.to_string().contains("repetition count"), "{err}");
}

#[test]
fn heavily_biased_source_is_rejected_at_startup() {
    let (src, _) = TestSource::new(7, Mode::Biased);
    let source = HealthTestedSource::new(src, bytes_config(4.0));
    let err = EntropyDrbg::new(source, &[]).expect_err("biased source must fail");
    assert_eq!(
        err,
        DrbgError::Entropy(EntropyError::AdaptiveProportion {
            cutoff: 105,
            window: 1024,
            startup: true
        })
    );
    assert!(err.to_string().contains("adaptive proportion"), "{err}");

    // Binary samples that are 1 with probability 15/16, claimed as full entropy.
    let (src, _) = TestSource::new(7, Mode::BiasedBits);
    let source =
        HealthTestedSource::new(src, NoiseConfig::new(SampleWidth::Bit, 1.0).expect("claim"));
    match EntropyDrbg::new(source, &[]) {
        Err(DrbgError::Entropy(
            EntropyError::RepetitionCount { startup: true, .. }
            | EntropyError::AdaptiveProportion { startup: true, .. },
        )) => {}
        other => panic!("biased bits accepted: {other:?}"),
    }
}

#[test]
fn startup_examines_at_least_1024_samples() {
    // A source that turns stuck after 1000 bytes is still caught by the start-up test.
    const { assert!(STARTUP_SAMPLES >= 1024) };
    struct LateStuck(TestSource, usize);
    impl TryRng for LateStuck {
        type Error = HwError;
        fn try_next_u32(&mut self) -> Result<u32, HwError> {
            unreachable!()
        }
        fn try_next_u64(&mut self) -> Result<u64, HwError> {
            unreachable!()
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), HwError> {
            for b in dst.iter_mut() {
                self.1 += 1;
                *b = if self.1 > 1000 {
                    0
                } else {
                    (self.0.next() >> 56) as u8
                };
            }
            Ok(())
        }
    }
    let (src, _) = TestSource::new(3, Mode::Good);
    let mut source = HealthTestedSource::new(LateStuck(src, 0), bytes_config(8.0));
    assert!(matches!(
        source.reinitialize(),
        Err(EntropyError::RepetitionCount { startup: true, .. })
    ));
}

#[test]
fn failure_latches_until_reinitialised_and_stops_key_generation() {
    let (src, mode) = TestSource::new(11, Mode::Good);
    let source = HealthTestedSource::new(src, bytes_config(8.0));
    let mut drbg = EntropyDrbg::new(source, b"dev")
        .expect("good")
        .with_reseed_interval(1);
    generate_material(&mut drbg, None).expect("key while healthy");

    mode.set(Mode::Stuck);
    let err = generate_material(&mut drbg, None).expect_err("stuck source");
    let expected = EntropyError::RepetitionCount {
        cutoff: 4,
        startup: false,
    };
    assert_eq!(err, KeyGenError::Rng(DrbgError::Entropy(expected)));
    assert!(err.to_string().contains("repetition count"), "{err}");

    // The source recovers, but the failure stays latched.
    mode.set(Mode::Good);
    for _ in 0..3 {
        assert_eq!(
            generate_material(&mut drbg, None).map(|_| ()),
            Err(KeyGenError::Rng(DrbgError::Entropy(expected)))
        );
    }
    assert_eq!(drbg.source().failure(), Some(expected));
    drbg.reinitialize().expect("start-up test passes again");
    generate_material(&mut drbg, None).expect("key after re-initialisation");

    // Between reseeds no raw samples are drawn, but a failure during the next reseed still stops output.
    mode.set(Mode::Broken);
    assert_eq!(
        generate_material(&mut drbg, None).map(|_| ()),
        Err(KeyGenError::Rng(DrbgError::Entropy(EntropyError::Source)))
    );
}

#[test]
fn iv_layout_and_counter_prefix() {
    let (src, _) = TestSource::new(5, Mode::Good);
    let source = HealthTestedSource::new(src, bytes_config(8.0));
    let mut drbg = EntropyDrbg::new(source, &[]).expect("good");

    let a = generate_material(&mut drbg, None).expect("key");
    let b = generate_material(&mut drbg, None).expect("key");
    assert_eq!(a.iv()[8..12], [0; 4]);
    assert_ne!(a.key(), b.key());
    assert_ne!(a.iv(), b.iv());

    let p = generate_material(&mut drbg, Some(IvPrefix::new(0xdead_beef, 7))).expect("key");
    assert_eq!(p.iv()[..8], [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 7]);
    assert_eq!(p.iv()[8..12], [0; 4]);
    assert_ne!(p.iv()[12..], [0; 4]);
    let q = generate_material(
        &mut drbg,
        Some(IvPrefix::from_counter(0x0102_0304_0506_0708)),
    )
    .expect("key");
    assert_eq!(q.iv()[..8], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(format!("{q:?}"), "ContentMaterial { .. }");
}

#[test]
fn constant_generator_output_is_refused() {
    struct Zeros;
    impl TryRng for Zeros {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            Ok(0)
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            Ok(0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            dst.fill(0);
            Ok(())
        }
    }
    impl TryCryptoRng for Zeros {}
    assert_eq!(
        generate_material(&mut Zeros, None).map(|_| ()),
        Err(KeyGenError::StuckOutput)
    );
}
