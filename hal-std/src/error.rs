//! The error type of osscse-std: every failure says what went wrong and what to do about it.

use std::io;
use std::path::PathBuf;

/// Result with osscse-std's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error answer from OSS (`<Error><Code>…</Code>…</Error>`), or a bare HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssError {
    /// HTTP status code of the answer.
    pub status: u16,
    /// OSS error code such as `NoSuchKey` or `AccessDenied` (empty when the body had none).
    pub code: String,
    /// Human-readable message from OSS.
    pub message: String,
    /// `x-oss-request-id` (or `<RequestId>`), needed when asking Alibaba Cloud support.
    pub request_id: String,
    /// OSS detailed error code (`EC`, e.g. `0026-00000001`), when present.
    pub ec: String,
}

impl OssError {
    /// A hint on what to do for well-known codes.
    pub fn hint(&self) -> &'static str {
        match (self.status, self.code.as_str()) {
            (_, "NoSuchKey") | (404, "") => "check the object key",
            (_, "NoSuchBucket") => "check the bucket name and the endpoint/region",
            (_, "AccessDenied") | (403, "") => {
                "check the credentials (OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET) and the bucket policy"
            }
            (_, "InvalidAccessKeyId") => "check OSS_ACCESS_KEY_ID",
            (_, "SignatureDoesNotMatch") => {
                "check OSS_ACCESS_KEY_SECRET, the region (V4) and the system clock"
            }
            (_, "RequestTimeTooSkewed") => "the system clock is off: synchronise it (NTP)",
            (_, "NoSuchUpload") => {
                "the multipart upload is gone: delete the checkpoint and upload again"
            }
            (_, "InvalidRange") | (416, _) => "the range starts beyond the end of the object",
            (s, _) if s >= 500 => "the service had a problem: retry later",
            _ => "see the OSS error code documentation",
        }
    }
}

impl std::fmt::Display for OssError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OSS answered {}", self.status)?;
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if !self.ec.is_empty() {
            write!(f, " (EC {})", self.ec)?;
        }
        if !self.request_id.is_empty() {
            write!(f, " [request id {}]", self.request_id)?;
        }
        write!(f, "; {}", self.hint())
    }
}

impl std::error::Error for OssError {}

/// Every failure osscse-std reports.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client configuration (endpoint, region, credentials, URL) is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The request could not be sent or the answer not received, after all retries.
    #[error(
        "network error talking to {host} after {attempts} attempt(s): {source}; check the endpoint and the network, then retry"
    )]
    Transport {
        /// Host name (never the URL query, which may carry a signature).
        host: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last transport error (its kind says timeout, connect, reset, TLS or other).
        #[source]
        source: crate::transport::TransportError,
    },
    /// OSS answered with an error.
    #[error("{0}")]
    Oss(Box<OssError>),
    /// The CRC-64 OSS computed differs from the CRC-64 of the bytes sent or received.
    #[error(
        "CRC-64 mismatch on {what}: OSS says {server}, the client computed {client}; the data was corrupted in transit, retry the transfer"
    )]
    CrcMismatch {
        /// Which transfer (`upload`, `download`, `part 3`, ...).
        what: String,
        /// CRC-64 from `x-oss-hash-crc64ecma`.
        server: u64,
        /// CRC-64 computed locally.
        client: u64,
    },
    /// The body ended before the announced length (or went past it).
    #[error(
        "truncated transfer: expected {expected} bytes, got {actual}; the connection was cut, retry the transfer"
    )]
    Truncated {
        /// Bytes announced (Content-Length or envelope size).
        expected: u64,
        /// Bytes actually received.
        actual: u64,
    },
    /// A replayable body produced different bytes on a retry (the source file changed).
    #[error(
        "the source changed while it was being uploaded (a retry read different bytes); upload it again once it is stable"
    )]
    SourceChanged,
    /// A reader gave fewer bytes than the length announced for the upload.
    #[error(
        "the source gave {actual} bytes but {expected} were announced; check the file was not truncated meanwhile"
    )]
    ShortSource {
        /// Announced length.
        expected: u64,
        /// Bytes read.
        actual: u64,
    },
    /// No registered master key matches the object's matdesc and there is no default key.
    #[error(
        "no master key registered for matdesc {matdesc} and no default key; pass the private key that was registered for it"
    )]
    NoKeyForMatdesc {
        /// The object's matdesc text.
        matdesc: String,
    },
    /// A key file that cannot be read or written, or no loaded key fits an object.
    #[error("{0}")]
    Key(#[from] crate::keys::KeyError),
    /// An error from osscse-core (envelope, key wrapping, planning, signing).
    #[error("{0}")]
    Core(#[from] osscse_core::Error),
    /// KMS failed to wrap or unwrap a data key (service error, unreachable, malformed answer,
    /// configuration), with the typed detail ([`Error::kms`]); envelope and key-material
    /// errors are [`Error::Core`] instead, whichever master key (RSA or KMS) reported them.
    #[error("{0}")]
    Kms(Box<crate::kms::KmsError>),
    /// A response could not be understood.
    #[error("unexpected answer from OSS: {0}; is the endpoint an OSS endpoint?")]
    Protocol(String),
    /// A checkpoint file could not be used.
    #[error("checkpoint {path}: {reason}; delete it to start the upload over")]
    Checkpoint {
        /// Checkpoint file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file or stream operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (`reading /path`, `writing /path`, ...).
        context: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// An [`Error::Io`] with a context.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// The KMS failure, if this is one (its code, [`crate::kms::KmsError::is_key_not_found`],
    /// ...).
    pub fn kms(&self) -> Option<&crate::kms::KmsError> {
        match self {
            Self::Kms(e) => Some(e),
            _ => None,
        }
    }

    /// The OSS error answer, if this is one.
    pub fn oss(&self) -> Option<&OssError> {
        match self {
            Self::Oss(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::kms::KmsError> for Error {
    fn from(e: crate::kms::KmsError) -> Self {
        match e {
            crate::kms::KmsError::Core(e) => Self::Core(e),
            e => Self::Kms(Box::new(e)),
        }
    }
}

impl From<OssError> for Error {
    fn from(e: OssError) -> Self {
        Self::Oss(Box::new(e))
    }
}

macro_rules! core_from {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Self::Core(e.into())
            }
        }
    )*};
}
core_from!(
    osscse_core::error::EnvelopeError,
    osscse_core::error::WrapError,
    osscse_core::error::PlanError,
    osscse_core::error::SignError
);
