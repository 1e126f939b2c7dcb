//! The one error type of the crate and its typed sub-kinds.
//!
//! Every variant carries only `Copy` data (no `String` payloads, so it works without `alloc`),
//! never a secret, and its `Display` text says what was wrong and what to do about it.

use core::fmt;

#[cfg(feature = "sign")]
pub use crate::sign::SignError;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Every failure osscse-core reports.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The envelope headers are missing, malformed or name an unsupported algorithm.
    Envelope(EnvelopeError),
    /// A master key could not be loaded, or could not wrap or unwrap a data key.
    Wrap(WrapError),
    /// A byte range or multipart layout cannot be planned.
    Plan(PlanError),
    /// The random number generator failed; no key or IV was produced.
    Rng,
    /// Two buffers that must have the same length do not.
    LengthMismatch,
    /// A request could not be signed.
    #[cfg(feature = "sign")]
    Sign(SignError),
}

/// The envelope field a problem concerns (the header name without `x-oss-meta-`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `client-side-encryption-key`
    Key,
    /// `client-side-encryption-start`
    Start,
    /// `client-side-encryption-cek-alg`
    CekAlg,
    /// `client-side-encryption-wrap-alg`
    WrapAlg,
    /// `client-side-encryption-matdesc`
    Matdesc,
    /// `client-side-encryption-unencrypted-content-length`
    UnencryptedContentLength,
    /// `client-side-encryption-unencrypted-content-md5`
    UnencryptedContentMd5,
    /// `client-side-encryption-data-size`
    DataSize,
    /// `client-side-encryption-part-size`
    PartSize,
}

impl Field {
    /// The full lower-case header name of the field.
    pub const fn header_name(self) -> &'static str {
        match self {
            Self::Key => crate::envelope::HEADER_KEY,
            Self::Start => crate::envelope::HEADER_START,
            Self::CekAlg => crate::envelope::HEADER_CEK_ALG,
            Self::WrapAlg => crate::envelope::HEADER_WRAP_ALG,
            Self::Matdesc => crate::envelope::HEADER_MATDESC,
            Self::UnencryptedContentLength => crate::envelope::HEADER_UNENCRYPTED_CONTENT_LENGTH,
            Self::UnencryptedContentMd5 => crate::envelope::HEADER_UNENCRYPTED_CONTENT_MD5,
            Self::DataSize => crate::envelope::HEADER_DATA_SIZE,
            Self::PartSize => crate::envelope::HEADER_PART_SIZE,
        }
    }
}

/// What is wrong with an object's envelope headers.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeError {
    /// A required header is absent (or empty).
    Missing(Field),
    /// The same header appears twice with different values.
    Duplicate(Field),
    /// The value is not strict, padded, standard-alphabet base64.
    InvalidBase64(Field),
    /// The value is not a plain decimal `u64` (no sign, no spaces, no overflow).
    InvalidNumber(Field),
    /// The value is not valid UTF-8 / visible ASCII where text is required.
    InvalidText(Field),
    /// `cek-alg` is not `AES/CTR/NoPadding`.
    UnsupportedCekAlg,
    /// `wrap-alg` is not `RSA/NONE/PKCS1Padding`, `KMS/ALICLOUD` or `AES/GCM/NoPadding`.
    UnsupportedWrapAlg,
    /// The matdesc is not a JSON object of string to string.
    InvalidMatdesc(MatdescError),
    /// `part-size` is zero or not a multiple of 16.
    PartSizeNotMultipleOf16,
    /// `data-size` is present without `part-size`.
    DataSizeWithoutPartSize,
    /// A legacy oss2 `start` did not decrypt to a decimal counter.
    LegacyCounter,
}

/// Where and why a matdesc failed to parse.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatdescError {
    /// The text ended early.
    UnexpectedEnd,
    /// An unexpected character at this byte offset.
    UnexpectedChar {
        /// Byte offset into the matdesc text.
        offset: usize,
    },
    /// A value is not a string (numbers, arrays, objects, `null`, booleans are refused).
    NonStringValue {
        /// Byte offset into the matdesc text.
        offset: usize,
    },
    /// A `\` escape is invalid, or a `\u` escape is a lone surrogate.
    InvalidEscape {
        /// Byte offset into the matdesc text.
        offset: usize,
    },
    /// The same key appears twice.
    DuplicateKey {
        /// Byte offset into the matdesc text.
        offset: usize,
    },
    /// Something other than white space follows the object.
    TrailingData {
        /// Byte offset into the matdesc text.
        offset: usize,
    },
    /// Nesting or size beyond what a material description can need (64 KiB).
    TooLarge,
}

/// Why a master key could not be loaded or used.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapError {
    /// The key text is not a PEM or DER RSA key in a supported encoding, or a symmetric key is
    /// not 32 bytes.
    InvalidKey,
    /// The key is smaller than the policy allows for this operation.
    KeyTooSmall {
        /// The key's modulus size in bits.
        bits: u32,
        /// The smallest size the policy accepts.
        minimum: u32,
    },
    /// The public exponent is not 65537.
    UnsupportedExponent,
    /// The wrapped value does not have the key's ciphertext length (truncated or padded).
    WrappedLength {
        /// The length the key's modulus requires.
        expected: usize,
        /// The length found.
        actual: usize,
    },
    /// The key could not unwrap the value, or the result is not a 32-byte key / 16-byte IV.
    /// Almost always: the object was written with a different master key.
    WrongKey,
    /// The envelope's `wrap-alg` is not the algorithm of this master key.
    AlgorithmMismatch,
    /// Only a public key is loaded, and unwrapping needs the private key.
    PublicKeyOnly,
    /// The RSA operation itself failed (message too long for the modulus, RNG failure).
    Crypto,
    /// No registered master key matches the object's matdesc and there is no default key.
    NoMatchingKey,
}

/// Why a range or multipart layout cannot be planned.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanError {
    /// The `Range` text is not `bytes=A-B`, `bytes=A-` or `bytes=-N`.
    InvalidRange,
    /// The range starts at or beyond the end of the object.
    RangeNotSatisfiable {
        /// First byte asked for.
        start: u64,
        /// Object size.
        size: u64,
    },
    /// The part size is zero or not a multiple of 16.
    PartSizeNotMultipleOf16,
    /// The part size is below the minimum (100 KiB unless lowered explicitly).
    PartSizeTooSmall {
        /// The smallest part size allowed.
        minimum: u64,
    },
    /// The object would need more than 10,000 parts at this part size.
    TooManyParts,
    /// A part number outside `1..=part_count`.
    PartNumberOutOfRange,
}

macro_rules! impl_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Self::$variant(e)
            }
        }
    )*};
}
impl_from!(EnvelopeError => Envelope, WrapError => Wrap, PlanError => Plan);

#[cfg(feature = "sign")]
impl From<SignError> for Error {
    fn from(e: SignError) -> Self {
        Self::Sign(e)
    }
}

impl From<MatdescError> for EnvelopeError {
    fn from(e: MatdescError) -> Self {
        Self::InvalidMatdesc(e)
    }
}

impl From<MatdescError> for Error {
    fn from(e: MatdescError) -> Self {
        Self::Envelope(EnvelopeError::InvalidMatdesc(e))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Envelope(e) => write!(f, "invalid encryption envelope: {e}"),
            Self::Wrap(e) => write!(f, "master key: {e}"),
            Self::Plan(e) => write!(f, "{e}"),
            Self::Rng => f.write_str(
                "the random number generator failed; no key was made (check the entropy source)",
            ),
            Self::LengthMismatch => f.write_str("input and output buffers differ in length"),
            #[cfg(feature = "sign")]
            Self::Sign(e) => write!(f, "request signing: {e}"),
        }
    }
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(h) => write!(
                f,
                "header {} is missing or empty; the object was not written by an OSS encryption client or its metadata was stripped",
                h.header_name()
            ),
            Self::Duplicate(h) => write!(f, "header {} appears twice with different values", h.header_name()),
            Self::InvalidBase64(h) => write!(f, "header {} is not valid padded base64", h.header_name()),
            Self::InvalidNumber(h) => write!(f, "header {} is not a decimal number that fits in 64 bits", h.header_name()),
            Self::InvalidText(h) => write!(f, "header {} contains bytes that are not visible ASCII or UTF-8", h.header_name()),
            Self::UnsupportedCekAlg => f.write_str(
                "content algorithm is not AES/CTR/NoPadding; osscse cannot decrypt this object",
            ),
            Self::UnsupportedWrapAlg => f.write_str(
                "key-wrap algorithm is not RSA/NONE/PKCS1Padding, KMS/ALICLOUD or AES/GCM/NoPadding; osscse cannot unwrap this object's key",
            ),
            Self::InvalidMatdesc(e) => write!(f, "matdesc is not a JSON object of strings: {e}"),
            Self::PartSizeNotMultipleOf16 => f.write_str("part-size is zero or not a multiple of 16"),
            Self::DataSizeWithoutPartSize => f.write_str("data-size is present without part-size"),
            Self::LegacyCounter => f.write_str(
                "the legacy oss2 start value did not decrypt to a decimal counter (wrong key?)",
            ),
        }
    }
}

impl fmt::Display for MatdescError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd => f.write_str("text ends early"),
            Self::UnexpectedChar { offset } => write!(f, "unexpected character at byte {offset}"),
            Self::NonStringValue { offset } => write!(f, "value at byte {offset} is not a string"),
            Self::InvalidEscape { offset } => write!(f, "invalid escape at byte {offset}"),
            Self::DuplicateKey { offset } => write!(f, "duplicate key at byte {offset}"),
            Self::TrailingData { offset } => {
                write!(f, "unexpected data after the object at byte {offset}")
            }
            Self::TooLarge => f.write_str("longer than 64 KiB"),
        }
    }
}

impl fmt::Display for WrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidKey => f.write_str(
                "not an RSA key in a supported encoding (PEM or DER: SPKI or PKCS#1 public, PKCS#8 or PKCS#1 private), or a symmetric key that is not 32 bytes",
            ),
            Self::KeyTooSmall { bits, minimum } => write!(
                f,
                "RSA key of {bits} bits is below the {minimum}-bit minimum; generate a 3072-bit key (or opt in to legacy sizes explicitly)"
            ),
            Self::UnsupportedExponent => f.write_str("RSA public exponent must be 65537"),
            Self::WrappedLength { expected, actual } => write!(
                f,
                "wrapped value is {actual} bytes but this key's ciphertexts are {expected} bytes (truncated header, or a different key size)"
            ),
            Self::WrongKey => f.write_str(
                "this key cannot unwrap the object's data key: it was written with a different master key",
            ),
            Self::AlgorithmMismatch => f.write_str(
                "the object's wrap-alg does not match this master key's algorithm",
            ),
            Self::PublicKeyOnly => f.write_str(
                "only the public key is loaded; decrypting needs the private key",
            ),
            Self::Crypto => f.write_str("the RSA operation failed"),
            Self::NoMatchingKey => f.write_str(
                "no master key matches the object's matdesc and no default key is set; register the key for that matdesc",
            ),
        }
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidRange => {
                f.write_str("range must look like bytes=A-B, bytes=A- or bytes=-N")
            }
            Self::RangeNotSatisfiable { start, size } => write!(
                f,
                "range starts at byte {start} but the object has only {size} bytes"
            ),
            Self::PartSizeNotMultipleOf16 => {
                f.write_str("part size must be a positive multiple of 16")
            }
            Self::PartSizeTooSmall { minimum } => {
                write!(f, "part size must be at least {minimum} bytes")
            }
            Self::TooManyParts => f.write_str("more than 10000 parts: choose a larger part size"),
            Self::PartNumberOutOfRange => f.write_str("part number is outside the upload's parts"),
        }
    }
}

impl core::error::Error for Error {}
impl core::error::Error for EnvelopeError {}
impl core::error::Error for MatdescError {}
impl core::error::Error for WrapError {}
impl core::error::Error for PlanError {}
#[cfg(feature = "sign")]
impl core::error::Error for SignError {}
