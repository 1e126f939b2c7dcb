//! OSS request signing (V4 `OSS4-HMAC-SHA256` and V1 HMAC-SHA1), header and presigned-URL forms.

use core::fmt;

/// Why a request could not be signed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignError {
    /// V4 signing needs a region id such as `cn-hangzhou`.
    MissingRegion,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingRegion => f.write_str(
                "V4 signing needs a region (for example cn-hangzhou): set the region or use V1",
            ),
        }
    }
}
