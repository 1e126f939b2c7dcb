//! OSS request signing (V4 `OSS4-HMAC-SHA256` and V1 HMAC-SHA1), header and presigned-URL forms.
//!
//! The signer works on a plain description of the request ([`Request`]): method, bucket, key,
//! decoded query parameters and headers. It never sends anything and has no clock: the caller
//! passes the signing time as Unix seconds. The output is what to add to the request (headers,
//! or query parameters for a presigned URL) together with the intermediate texts (canonical
//! request, string to sign), which tests compare against the SDKs and which a server shows in a
//! `SignatureDoesNotMatch` answer.
//!
//! * [`v4`]: `OSS4-HMAC-SHA256`, the default of the current SDKs (FORMAT.md §8.3, §8.4).
//! * [`v1`]: HMAC-SHA1 `OSS AK:signature`, still used by oss2 and many tools (FORMAT.md §8.1, §8.2).
//!
//! Secrets (the access key secret and the derived V4 signing key) live in
//! buffers that are wiped on drop and never appear in `Debug` output or errors.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroize;

mod encode;
mod time;
pub mod v1;
pub mod v4;

pub use encode::{encode_query, uri_encode};
pub use time::{format_iso8601_basic, format_rfc1123, parse_iso8601_basic, parse_rfc1123};

/// Header carrying the STS security token in header-signed requests.
pub const HEADER_SECURITY_TOKEN: &str = "x-oss-security-token";
/// Header carrying the V4 signing time (`yyyymmddThhmmssZ`).
pub const HEADER_OSS_DATE: &str = "x-oss-date";
/// Header carrying the V4 payload hash: [`UNSIGNED_PAYLOAD`] (the only value Alibaba Cloud OSS
/// accepts, EC 0002-00000214), or the hex SHA-256 of the body for gateways that verify it.
pub const HEADER_CONTENT_SHA256: &str = "x-oss-content-sha256";
/// The payload hash value the SDKs send: the body is not part of the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The product of ordinary OSS endpoints in the V4 scope.
pub const PRODUCT_OSS: &str = "oss";
/// The product of CloudBox endpoints in the V4 scope.
pub const PRODUCT_OSS_CLOUDBOX: &str = "oss-cloudbox";

/// Access key credentials, optionally temporary (STS) with a security token.
///
/// `Debug` shows the access key id only; the secret and the token are redacted.
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    access_key_secret: SecretString,
    security_token: Option<SecretString>,
}

impl Credentials {
    /// Long-term credentials: an access key id and its secret.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            access_key_secret: SecretString(access_key_secret.into()),
            security_token: None,
        }
    }

    /// Temporary (STS) credentials: adds the security token sent with every request.
    #[must_use]
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.security_token = if token.is_empty() {
            None
        } else {
            Some(SecretString(token))
        };
        self
    }

    /// The access key id (public: it appears in every signed request).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The access key secret. Handle with care: never log it.
    pub fn access_key_secret(&self) -> &str {
        &self.access_key_secret.0
    }

    /// The STS security token, if these are temporary credentials.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_ref().map(|t| t.0.as_str())
    }

    fn check(&self) -> Result<(), SignError> {
        if self.access_key_id.is_empty() || self.access_key_secret.0.is_empty() {
            return Err(SignError::MissingCredentials);
        }
        Ok(())
    }
}

/// A `String` whose bytes are wiped (volatile writes) when it is dropped. Works without
/// `zeroize/alloc`, so the signer stays usable on `no_std` devices.
#[derive(Clone, Default)]
pub(crate) struct SecretString(pub(crate) String);

impl Drop for SecretString {
    fn drop(&mut self) {
        let mut bytes = core::mem::take(&mut self.0).into_bytes();
        bytes.as_mut_slice().zeroize();
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The parts of an HTTP request that a signature covers.
///
/// Query values are **decoded** (the signer encodes them itself). Header names may have any
/// case; a name may repeat (the values are joined with `,` as the SDKs do).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method in upper case (`GET`, `PUT`, ...).
    pub method: &'a str,
    /// The bucket, or `None` for service operations (ListBuckets).
    pub bucket: Option<&'a str>,
    /// The raw (unescaped) object key, or `None` for bucket and service operations.
    pub key: Option<&'a str>,
    /// Decoded query parameters; an empty value means `?name` alone.
    pub query: &'a [(&'a str, &'a str)],
    /// Request headers as they will be sent (before the signer's additions).
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    /// The first value of a header, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The first value of a query parameter (exact name).
    pub fn query_param(&self, name: &str) -> Option<&'a str> {
        self.query.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// The result of signing in header form: headers to add (replacing any of the same name).
#[derive(Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// Headers to set on the request, `Authorization` last.
    pub headers: Vec<(String, String)>,
    /// The V4 canonical request (empty for V1, which has none).
    pub canonical_request: String,
    /// The exact text that was signed.
    pub string_to_sign: String,
    /// The signature: lower-case hex for V4, base64 for V1.
    pub signature: String,
}

impl SignedHeaders {
    /// The value of the `Authorization` header.
    pub fn authorization(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for SignedHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Nothing here is secret (the token is a bearer value, redact it anyway).
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case(HEADER_SECURITY_TOKEN) {
                    (n.as_str(), "<redacted>")
                } else {
                    (n.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("SignedHeaders")
            .field("headers", &headers)
            .field("string_to_sign", &self.string_to_sign)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// The result of presigning: query parameters to append to the URL (decoded values).
#[derive(Clone, PartialEq, Eq)]
pub struct Presigned {
    /// Parameters to add to the request's own query, in order; encode with [`encode_query`].
    pub query: Vec<(String, String)>,
    /// The V4 canonical request (empty for V1).
    pub canonical_request: String,
    /// The exact text that was signed.
    pub string_to_sign: String,
    /// The signature: lower-case hex for V4, base64 for V1.
    pub signature: String,
}

impl Presigned {
    /// The value of one added query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for Presigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query: Vec<(&str, &str)> = self
            .query
            .iter()
            .map(|(n, v)| {
                if n.contains("security-token") {
                    (n.as_str(), "<redacted>")
                } else {
                    (n.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("Presigned")
            .field("query", &query)
            .field("string_to_sign", &self.string_to_sign)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// Why a request could not be signed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignError {
    /// V4 signing needs a region id such as `cn-hangzhou`.
    MissingRegion,
    /// The access key id or secret is empty.
    MissingCredentials,
    /// The signing time is beyond year 9999 and cannot be written as an HTTP date.
    TimeOutOfRange,
    /// A presigned URL would expire before (or at) its signing time.
    ExpiryNotAfterSigningTime,
    /// A V4 presigned URL may be valid for at most 7 days (604 800 s).
    ExpiryTooLong,
    /// A header value contains a line break, which would forge extra header lines.
    InvalidHeaderValue,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingRegion => f.write_str(
                "V4 signing needs a region (for example cn-hangzhou): set the region or use V1",
            ),
            Self::MissingCredentials => f.write_str(
                "the access key id or secret is empty: set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET (or pass them explicitly)",
            ),
            Self::TimeOutOfRange => f.write_str(
                "the signing time is after year 9999: check the clock or the time passed to the signer",
            ),
            Self::ExpiryNotAfterSigningTime => f.write_str(
                "the presigned URL would already be expired: choose an expiry after the signing time",
            ),
            Self::ExpiryTooLong => f.write_str(
                "a V4 presigned URL is valid for at most 7 days (604800 seconds): choose a shorter expiry",
            ),
            Self::InvalidHeaderValue => f.write_str(
                "a header value contains a CR or LF character: remove line breaks from header values",
            ),
        }
    }
}

/// Rejects header values that would break the header block.
fn check_headers(headers: &[(&str, &str)]) -> Result<(), SignError> {
    if headers
        .iter()
        .any(|(n, v)| n.contains(['\r', '\n']) || v.contains(['\r', '\n']))
    {
        return Err(SignError::InvalidHeaderValue);
    }
    Ok(())
}

/// `/bucket/key`, `/bucket/` or `/`, unescaped (shared by V1's resource and V4's URI).
fn resource_path(bucket: Option<&str>, key: Option<&str>) -> String {
    let mut s = String::from("/");
    if let Some(b) = bucket {
        s.push_str(b);
        s.push('/');
    }
    if let Some(k) = key {
        s.push_str(k);
    }
    s
}

/// Lower-cased header names with their trimmed values joined by `,`, sorted by name, for the
/// headers `pick` selects (applied to the lower-cased name).
fn canonical_headers(
    headers: &[(&str, &str)],
    pick: impl Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if !pick(&lower) {
            continue;
        }
        let value = value.trim();
        if let Some((_, v)) = out.iter_mut().find(|(n, _)| *n == lower) {
            v.push(',');
            v.push_str(value);
        } else {
            out.push((lower, String::from(value)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The request's headers with the signer's own headers replacing any of the same name.
fn merge_headers<'a>(
    base: &[(&'a str, &'a str)],
    set: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = base
        .iter()
        .filter(|(n, _)| !set.iter().any(|(s, _)| s.eq_ignore_ascii_case(n)))
        .copied()
        .collect();
    out.extend_from_slice(set);
    out
}
