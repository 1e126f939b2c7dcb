//! Content encryption: the per-object data key and IV, counter arithmetic, range planning and
//! multipart planning.
//!
//! Every object has a fresh 32-byte data key and a 16-byte IV whose bytes 8..12 are zero (the
//! layout every official SDK writes, FORMAT.md §3.1). Byte `o` of the object is encrypted with
//! counter block `IV + o/16`, a 128-bit big-endian addition, so a ranged read starts at the
//! 16-byte block holding its first byte and a multipart part `n` starts at
//! `IV + (n-1)·part_size/16`.

use rand_core::TryCryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Keystream;
use crate::error::{Error, PlanError, WrapError};

/// Data key length in bytes (AES-256).
pub const KEY_LEN: usize = 32;
/// IV (initial counter block) length in bytes.
pub const IV_LEN: usize = 16;
/// The smallest part size osscse plans by default (the C++ SDK and oss2 minimum).
pub const MIN_PART_SIZE: u64 = 100 * 1024;
/// OSS's maximum number of parts in one upload.
pub const MAX_PARTS: u64 = 10_000;

/// The per-object secret: the AES-256 data key and the IV.
///
/// Zeroized on drop; `Debug` prints nothing of either.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ContentMaterial {
    key: [u8; KEY_LEN],
    iv: [u8; IV_LEN],
}

impl core::fmt::Debug for ContentMaterial {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ContentMaterial { .. }")
    }
}

impl ContentMaterial {
    /// Draws a fresh data key and IV from `rng` (IV bytes 8..12 set to zero).
    ///
    /// # Errors
    /// [`Error::Rng`] when the generator fails, or returns an all-zero or all-`0xff` key or
    /// identical key halves (a stuck source): nothing is returned then.
    pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        let mut m = Self {
            key: [0; KEY_LEN],
            iv: [0; IV_LEN],
        };
        rng.try_fill_bytes(&mut m.key).map_err(|_| Error::Rng)?;
        rng.try_fill_bytes(&mut m.iv).map_err(|_| Error::Rng)?;
        m.iv[8..12].fill(0);
        let stuck = m.key.iter().all(|&b| b == 0)
            || m.key.iter().all(|&b| b == 0xff)
            || m.key[..16] == m.key[16..]
            || m.key[..16] == m.iv;
        if stuck {
            return Err(Error::Rng);
        }
        Ok(m)
    }

    /// Wraps a known key and IV (for example after unwrapping them, or from test vectors).
    pub fn from_parts(key: [u8; KEY_LEN], iv: [u8; IV_LEN]) -> Self {
        Self { key, iv }
    }

    /// Builds the material from unwrapped bytes, checking the lengths.
    ///
    /// # Errors
    /// [`WrapError::WrongKey`] unless `key` is 32 bytes and `iv` 16: with RSA PKCS#1 v1.5
    /// implicit rejection, a wrong master key yields random bytes of another length.
    pub fn from_slices(key: &[u8], iv: &[u8]) -> Result<Self, WrapError> {
        let key: [u8; KEY_LEN] = key.try_into().map_err(|_| WrapError::WrongKey)?;
        let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| WrapError::WrongKey)?;
        Ok(Self { key, iv })
    }

    /// The data key.
    pub fn key(&self) -> &[u8; KEY_LEN] {
        &self.key
    }

    /// The IV, i.e. the counter block of byte 0.
    pub fn iv(&self) -> &[u8; IV_LEN] {
        &self.iv
    }

    /// The counter block of the 16-byte block holding byte `offset`: `IV + offset/16` (mod 2^128).
    pub fn counter_at(&self, offset: u64) -> [u8; IV_LEN] {
        counter_add(&self.iv, offset / 16)
    }

    /// A keystream positioned at byte `offset` of the object.
    pub fn keystream_at(&self, offset: u64) -> Keystream {
        let mut ks = Keystream::new(&self.key, &self.iv);
        if offset != 0 {
            ks.seek(offset);
        }
        ks
    }

    /// Encrypts or decrypts `buf` in place, as the bytes at `offset` of the object.
    pub fn apply_at(&self, offset: u64, buf: &mut [u8]) {
        self.keystream_at(offset).apply(buf);
    }
}

/// `block + n` as a 128-bit big-endian integer, wrapping at 2^128.
pub fn counter_add(block: &[u8; 16], n: u64) -> [u8; 16] {
    u128::from_be_bytes(*block)
        .wrapping_add(u128::from(n))
        .to_be_bytes()
}

/// A `Range` request as the caller wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last` (inclusive).
    Bounded {
        /// First byte.
        first: u64,
        /// Last byte, inclusive.
        last: u64,
    },
    /// `bytes=first-`: to the end.
    From {
        /// First byte.
        first: u64,
    },
    /// `bytes=-len`: the last `len` bytes.
    Suffix {
        /// How many bytes from the end.
        len: u64,
    },
}

impl ByteRange {
    /// Parses `bytes=A-B`, `bytes=A-` or `bytes=-N` (also without the `bytes=` prefix).
    ///
    /// # Errors
    /// [`PlanError::InvalidRange`] for anything else, including `B < A`, `-0` and multiple
    /// ranges.
    pub fn parse(text: &str) -> Result<Self, PlanError> {
        let t = text.trim();
        let t = t.strip_prefix("bytes=").unwrap_or(t);
        let (a, b) = t.split_once('-').ok_or(PlanError::InvalidRange)?;
        let num = |s: &str| -> Result<u64, PlanError> {
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(PlanError::InvalidRange);
            }
            s.parse().map_err(|_| PlanError::InvalidRange)
        };
        match (a.is_empty(), b.is_empty()) {
            (true, true) => Err(PlanError::InvalidRange),
            (true, false) => match num(b)? {
                0 => Err(PlanError::InvalidRange),
                len => Ok(Self::Suffix { len }),
            },
            (false, true) => Ok(Self::From { first: num(a)? }),
            (false, false) => {
                let (first, last) = (num(a)?, num(b)?);
                if last < first {
                    return Err(PlanError::InvalidRange);
                }
                Ok(Self::Bounded { first, last })
            }
        }
    }

    /// Absolute inclusive `(first, last)` for an object of `size` bytes; the end is clipped to
    /// the object as HTTP does.
    ///
    /// # Errors
    /// [`PlanError::RangeNotSatisfiable`] when the range starts at or past the end (or the
    /// object is empty).
    pub fn resolve(self, size: u64) -> Result<(u64, u64), PlanError> {
        let (first, last) = match self {
            Self::Bounded { first, last } => (first, last),
            Self::From { first } => (first, u64::MAX),
            Self::Suffix { len } => (size.saturating_sub(len), u64::MAX),
        };
        if first >= size {
            return Err(PlanError::RangeNotSatisfiable { start: first, size });
        }
        Ok((first, last.min(size - 1)))
    }

    /// Whether the range can be planned without knowing the object size.
    pub fn needs_size(self) -> bool {
        matches!(self, Self::Suffix { .. })
    }
}

/// How to fetch and decrypt the plaintext bytes `first..=last`.
///
/// Fetch ciphertext `aligned_first..=last`, decrypt it from
/// [`ContentMaterial::keystream_at`]`(aligned_first)`, and drop the first [`RangePlan::skip`]
/// bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangePlan {
    /// First plaintext byte wanted.
    pub first: u64,
    /// Last plaintext byte wanted, inclusive.
    pub last: u64,
    /// `first` rounded down to a multiple of 16: where the ciphertext request starts.
    pub aligned_first: u64,
}

impl RangePlan {
    /// Plans the absolute inclusive range `first..=last`.
    ///
    /// # Errors
    /// [`PlanError::InvalidRange`] when `last < first`.
    pub fn new(first: u64, last: u64) -> Result<Self, PlanError> {
        if last < first {
            return Err(PlanError::InvalidRange);
        }
        Ok(Self {
            first,
            last,
            aligned_first: first - first % 16,
        })
    }

    /// Resolves `range` against an object of `size` bytes and plans it.
    ///
    /// # Errors
    /// As [`ByteRange::resolve`].
    pub fn resolve(range: ByteRange, size: u64) -> Result<Self, PlanError> {
        let (first, last) = range.resolve(size)?;
        Self::new(first, last)
    }

    /// Plaintext bytes to drop after decrypting (0..=15).
    pub fn skip(&self) -> u64 {
        self.first - self.aligned_first
    }

    /// Number of plaintext bytes the caller gets.
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Never true: a plan covers at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Number of ciphertext bytes to request.
    pub fn request_len(&self) -> u64 {
        self.last - self.aligned_first + 1
    }

    /// The `Range` header value to send: `bytes=aligned_first-last`.
    #[cfg(feature = "alloc")]
    pub fn request_header(&self) -> alloc::string::String {
        alloc::format!("bytes={}-{}", self.aligned_first, self.last)
    }
}

/// The layout of an encrypted multipart upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultipartPlan {
    data_size: u64,
    part_size: u64,
}

/// One part of a [`MultipartPlan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartPlan {
    /// 1-based part number.
    pub number: u32,
    /// Offset of the part's first byte in the object.
    pub offset: u64,
    /// Length of the part.
    pub len: u64,
}

impl MultipartPlan {
    /// Plans `data_size` bytes in parts of `part_size` bytes, with the default
    /// [`MIN_PART_SIZE`].
    ///
    /// # Errors
    /// [`PlanError::PartSizeNotMultipleOf16`], [`PlanError::PartSizeTooSmall`] or
    /// [`PlanError::TooManyParts`].
    pub fn new(data_size: u64, part_size: u64) -> Result<Self, PlanError> {
        Self::with_min_part_size(data_size, part_size, MIN_PART_SIZE)
    }

    /// As [`MultipartPlan::new`] with another minimum part size (at least 16; OSS itself
    /// requires 100 KiB for every part but the last).
    ///
    /// # Errors
    /// As [`MultipartPlan::new`].
    pub fn with_min_part_size(data_size: u64, part_size: u64, min: u64) -> Result<Self, PlanError> {
        if part_size == 0 || !part_size.is_multiple_of(16) {
            return Err(PlanError::PartSizeNotMultipleOf16);
        }
        if part_size < min.max(16) {
            return Err(PlanError::PartSizeTooSmall {
                minimum: min.max(16),
            });
        }
        let plan = Self {
            data_size,
            part_size,
        };
        if plan.part_count() > MAX_PARTS {
            return Err(PlanError::TooManyParts);
        }
        Ok(plan)
    }

    /// Chooses a part size for `data_size` bytes: `preferred` rounded up to a multiple of
    /// 16, raised as needed to stay within [`MAX_PARTS`] and at least [`MIN_PART_SIZE`].
    pub fn choose(data_size: u64, preferred: u64) -> Self {
        let needed = data_size.div_ceil(MAX_PARTS);
        let size = preferred.max(needed).max(MIN_PART_SIZE);
        let part_size = size.div_ceil(16).saturating_mul(16);
        Self {
            data_size,
            part_size,
        }
    }

    /// Total plaintext size.
    pub fn data_size(&self) -> u64 {
        self.data_size
    }

    /// Part size.
    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// Number of parts (an empty object still has one, empty, part).
    pub fn part_count(&self) -> u64 {
        self.data_size.div_ceil(self.part_size).max(1)
    }

    /// Part `number` (1-based).
    ///
    /// # Errors
    /// [`PlanError::PartNumberOutOfRange`] outside `1..=part_count()`.
    pub fn part(&self, number: u32) -> Result<PartPlan, PlanError> {
        if number == 0 || u64::from(number) > self.part_count() {
            return Err(PlanError::PartNumberOutOfRange);
        }
        let offset = (u64::from(number) - 1) * self.part_size;
        let len = self.part_size.min(self.data_size - offset);
        Ok(PartPlan {
            number,
            offset,
            len,
        })
    }

    /// All parts in order.
    pub fn parts(&self) -> impl Iterator<Item = PartPlan> + '_ {
        (1..=self.part_count())
            .filter_map(|n| u32::try_from(n).ok().and_then(|n| self.part(n).ok()))
    }
}

#[cfg(test)]
mod tests;
