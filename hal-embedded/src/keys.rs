//! Data key and IV generation from the DRBG, with an optional counter-based IV prefix.
//!
//! The IV layout follows what every official SDK can read (SECURITY.md §1.2): bytes 8..12 are
//! always zero, bytes 12..16 are random. Bytes 0..8 are random, or, with an [`IvPrefix`], a
//! caller-persisted counter (SECURITY.md §3.7 item 5): then counter blocks of distinct objects
//! never collide even if a weak source repeated the data key, because each object uses fewer
//! than 2^64 blocks of the low half. The IV is RSA-wrapped, so the prefix is invisible to OSS.

use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

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
    /// The generator returned an all-zero or all-0xFF key, or a key equal to the IV material: it
    /// is broken; nothing was produced.
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

/// A fresh 256-bit data key and 128-bit IV for one object. Zeroized on drop; `Debug` shows
/// neither.
pub struct ContentMaterial {
    key: [u8; 32],
    iv: [u8; 16],
}

impl fmt::Debug for ContentMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentMaterial { .. }")
    }
}

impl Drop for ContentMaterial {
    fn drop(&mut self) {
        self.key.zeroize();
        self.iv.zeroize();
    }
}

impl ZeroizeOnDrop for ContentMaterial {}

impl ContentMaterial {
    /// Draws the key (32 bytes) and then the IV's random bytes from `rng`.
    ///
    /// # Errors
    /// [`KeyGenError::Rng`] when `rng` fails, [`KeyGenError::StuckOutput`] when its output is
    /// constant.
    pub fn generate<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        prefix: Option<IvPrefix>,
    ) -> Result<Self, KeyGenError<R::Error>> {
        let mut m = Self {
            key: [0; 32],
            iv: [0; 16],
        };
        rng.try_fill_bytes(&mut m.key).map_err(KeyGenError::Rng)?;
        let mut random = [0u8; 12];
        rng.try_fill_bytes(&mut random).map_err(KeyGenError::Rng)?;
        match prefix {
            Some(p) => m.iv[..8].copy_from_slice(&p.0),
            None => m.iv[..8].copy_from_slice(&random[..8]),
        }
        m.iv[12..].copy_from_slice(&random[8..]);
        let constant = |b: &[u8]| b.iter().all(|&x| x == b[0]) && (b[0] == 0 || b[0] == 0xff);
        let stuck = constant(&m.key) || constant(&random) || m.key[..12] == random;
        random.zeroize();
        if stuck {
            return Err(KeyGenError::StuckOutput);
        }
        Ok(m)
    }

    /// Assembles material from a known key and IV (for tests and replays of a stored envelope).
    pub fn from_parts(key: [u8; 32], iv: [u8; 16]) -> Self {
        Self { key, iv }
    }

    /// The 256-bit data key.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The IV (initial counter block).
    pub fn iv(&self) -> &[u8; 16] {
        &self.iv
    }
}
