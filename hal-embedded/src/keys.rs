//! Data key and IV generation from the DRBG, with an optional counter-based IV prefix.
//!
//! The material is osscse-core's [`ContentMaterial`] (IV bytes 8..12 zero, the layout every
//! official SDK can read, SECURITY.md §1.2). With an [`IvPrefix`], IV bytes 0..8 come from a
//! caller-persisted counter (SECURITY.md §3.7 item 5): then counter blocks of distinct objects
//! never collide even if a weak source repeated the data key, because each object uses fewer
//! than 2^64 blocks of the low half. The IV is RSA-wrapped, so the prefix is invisible to OSS.

use core::fmt;

use osscse_core::content::{ContentMaterial, IV_LEN, KEY_LEN};
use rand_core::{TryCryptoRng, TryRng};
use zeroize::Zeroize;

/// IV bytes 0..8 taken from a counter the caller persists (never reuse a value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvPrefix([u8; 8]);

impl IvPrefix {
    /// `device_tag` (e.g. 32 bits of a hash of the device id) ‖ `object_counter`, both
    /// big-endian. Reserve counter values in batches in flash *before* use, so that a reset never
    /// hands out a value twice.
    pub const fn new(device_tag: u32, object_counter: u32) -> Self {
        let t = device_tag.to_be_bytes();
        let c = object_counter.to_be_bytes();
        Self([t[0], t[1], t[2], t[3], c[0], c[1], c[2], c[3]])
    }

    /// A 64-bit persisted counter used directly as bytes 0..8 (big-endian).
    pub const fn from_counter(counter: u64) -> Self {
        Self(counter.to_be_bytes())
    }

    /// The eight prefix bytes.
    pub const fn bytes(&self) -> [u8; 8] {
        self.0
    }
}

/// Why no data key was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyGenError<E> {
    /// The random generator failed (for the DRBG: e.g. a latched health-test failure).
    Rng(E),
    /// The generator returned a constant or repeating block (osscse-core's stuck-output
    /// check): it is broken; nothing was produced.
    StuckOutput,
}

impl<E: fmt::Display> fmt::Display for KeyGenError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rng(e) => write!(f, "no data key generated: {e}"),
            Self::StuckOutput => f.write_str(
                "no data key generated: the random generator returned a constant block (stuck output); \
                 re-initialise the entropy source",
            ),
        }
    }
}

impl<E: core::error::Error> core::error::Error for KeyGenError<E> {}

/// Keeps the generator's own error, which osscse-core reduces to `Error::Rng` (or, inside the
/// RSA padding, to a wrap error).
pub(crate) struct Capture<'r, R: TryCryptoRng + ?Sized> {
    pub(crate) rng: &'r mut R,
    pub(crate) error: Option<R::Error>,
}

#[derive(Debug)]
pub(crate) struct Captured;

impl fmt::Display for Captured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("random generator failed")
    }
}

impl core::error::Error for Captured {}

impl<R: TryCryptoRng + ?Sized> Capture<'_, R> {
    fn keep<T>(&mut self, r: Result<T, R::Error>) -> Result<T, Captured> {
        r.map_err(|e| {
            self.error = Some(e);
            Captured
        })
    }
}

impl<R: TryCryptoRng + ?Sized> TryRng for Capture<'_, R> {
    type Error = Captured;
    fn try_next_u32(&mut self) -> Result<u32, Captured> {
        let r = self.rng.try_next_u32();
        self.keep(r)
    }
    fn try_next_u64(&mut self) -> Result<u64, Captured> {
        let r = self.rng.try_next_u64();
        self.keep(r)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Captured> {
        let r = self.rng.try_fill_bytes(dst);
        self.keep(r)
    }
}

impl<R: TryCryptoRng + ?Sized> TryCryptoRng for Capture<'_, R> {}

/// Draws a fresh data key and IV from `rng` with osscse-core's [`ContentMaterial::generate`]
/// (stuck-output checks included), then sets IV bytes 0..8 from `prefix` when given.
///
/// # Errors
/// [`KeyGenError::Rng`] with the generator's own error (for [`crate::EntropyDrbg`]: which
/// health test failed), [`KeyGenError::StuckOutput`] for constant output.
pub fn generate_material<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    prefix: Option<IvPrefix>,
) -> Result<ContentMaterial, KeyGenError<R::Error>> {
    let mut capture = Capture { rng, error: None };
    let material = match ContentMaterial::generate(&mut capture) {
        Ok(m) => m,
        Err(_) => {
            return Err(capture
                .error
                .take()
                .map_or(KeyGenError::StuckOutput, KeyGenError::Rng));
        }
    };
    let Some(prefix) = prefix else {
        return Ok(material);
    };
    let mut key: [u8; KEY_LEN] = *material.key();
    let mut iv: [u8; IV_LEN] = *material.iv();
    iv[..8].copy_from_slice(&prefix.0);
    let prefixed = ContentMaterial::from_parts(key, iv);
    key.zeroize();
    iv.zeroize();
    Ok(prefixed)
}
