//! [`UploadError`] and [`PutOutcome`], and reading the OSS error code from a response.

use core::fmt;

use osscse_core::url::UrlError;

use super::ErrorField;

/// Why an upload failed. `E` is the body source's error.
#[derive(Debug)]
pub enum UploadError<E> {
    /// DNS, TCP, or HTTP framing failed (reqwless); nothing may have been stored. Retryable.
    Transport(reqwless::Error),
    /// The body source failed mid-upload; the request was aborted.
    Source(E),
    /// OSS answered with an error status.
    Oss {
        /// HTTP status.
        status: u16,
        /// The OSS error `<Code>` (e.g. `SignatureDoesNotMatch`), empty if none was sent.
        code: ErrorField,
        /// `x-oss-request-id`, for support tickets.
        request_id: ErrorField,
    },
    /// The request could not be signed (bad credentials, region or time).
    Sign(osscse_core::sign::SignError),
    /// The source's length differs from the sealed object's plaintext length.
    LengthMismatch,
    /// The object is larger than this target's address space.
    TooLarge,
    /// More than [`MAX_HEADERS`](super::MAX_HEADERS) headers would be needed (a long matdesc or many extras).
    TooManyHeaders,
    /// The endpoint or bucket cannot form a URL (see [`UrlError`]).
    Url(UrlError),
    /// An `https://` endpoint on an uploader without TLS, or an `http://` one on an uploader
    /// with TLS: nothing is sent rather than silently changing the transport.
    SchemeMismatch,
    /// The TLS handshake failed: the server's certificate chain does not lead to the configured
    /// CA, names another host, or the handshake broke. No request byte was sent.
    #[cfg(feature = "tls")]
    Tls(embedded_tls::TlsError),
}

impl<E> UploadError<E> {
    /// Whether retrying with the same [`SealedObject`](super::SealedObject) may succeed: transport failures,
    /// HTTP 5xx, and OSS `RequestTimeTooSkewed` (after fixing the clock).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Oss { status, code, .. } => {
                *status >= 500 || *status == 429 || code.as_str() == "RequestTimeTooSkewed"
            }
            _ => false,
        }
    }

    /// Whether OSS refused the body because it does not match the signed `Content-MD5`
    /// (`InvalidDigest`): the bytes were altered between the device and OSS, or the body source
    /// returned different bytes on its second read. Nothing was stored.
    pub fn is_body_mismatch(&self) -> bool {
        match self {
            Self::Oss { code, .. } => BODY_MISMATCH_CODES.contains(&code.as_str()),
            _ => false,
        }
    }
}

/// OSS error codes for a body that does not match its signed digests.
const BODY_MISMATCH_CODES: &[&str] = &["InvalidDigest", "BadDigest"];

impl<E: fmt::Debug> fmt::Display for UploadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(e) => write!(
                f,
                "upload failed in transport ({e:?}): check the network and endpoint, then retry with the same sealed object"
            ),
            Self::Source(e) => write!(f, "upload aborted: the body source failed ({e:?})"),
            Self::Oss {
                status,
                code,
                request_id,
            } => {
                write!(f, "OSS refused the upload: HTTP {status}")?;
                if !code.is_empty() {
                    write!(f, " {code}")?;
                }
                if !request_id.is_empty() {
                    write!(f, " (request id {request_id})")?;
                }
                f.write_str(match code.as_str() {
                    "SignatureDoesNotMatch" | "InvalidAccessKeyId" => {
                        ": check the access key id and secret"
                    }
                    "RequestTimeTooSkewed" => ": set the device clock (signing time), then retry",
                    "NoSuchBucket" => ": check the bucket name and endpoint",
                    c if BODY_MISMATCH_CODES.contains(&c) => {
                        ": the body was altered in transit (or the body source is not replayable); nothing was stored"
                    }
                    "AccessDenied" => ": the credentials may not write this bucket/key",
                    _ if *status >= 500 => ": server-side problem, retry later",
                    _ => "",
                })
            }
            Self::Sign(e) => write!(f, "cannot sign the request: {e}"),
            Self::LengthMismatch => f.write_str(
                "the body source's length differs from the sealed object's plaintext length: seal it for this body",
            ),
            Self::TooLarge => f.write_str("the object is too large for this device's address space"),
            Self::TooManyHeaders => f.write_str("too many request headers (shorten the matdesc)"),
            Self::Url(e) => e.fmt(f),
            Self::SchemeMismatch => f.write_str(
                "the endpoint scheme does not match the uploader: https:// needs Uploader::new_with_tls (feature `tls`), an uploader with TLS needs https://",
            ),
            #[cfg(feature = "tls")]
            Self::Tls(e) => write!(
                f,
                "TLS handshake failed ({e:?}): check the CA certificate and the endpoint host name; nothing was sent"
            ),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for UploadError<E> {}

/// Outcome of a successful PUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// HTTP status (200).
    pub status: u16,
    /// The object's ETag as returned (with quotes), empty if none.
    pub etag: ErrorField,
    /// `x-oss-request-id`.
    pub request_id: ErrorField,
}

pub(crate) fn field(text: &str) -> ErrorField {
    let mut s = ErrorField::new();
    for c in text.chars() {
        if s.push(c).is_err() {
            break;
        }
    }
    s
}

/// The text between `<tag>` and `</tag>` in a small XML error body.
pub(crate) fn xml_tag<'b>(body: &'b str, tag: &str) -> Option<&'b str> {
    let open = body.find(tag)?;
    let start = open + tag.len();
    let rest = body.get(start..)?;
    let rest = rest.strip_prefix('>')?;
    let end = rest.find("</")?;
    rest.get(..end)
}

#[cfg(test)]
mod tests {
    use super::xml_tag;

    #[test]
    fn xml_code_extraction() {
        let body = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>x</Message></Error>";
        assert_eq!(xml_tag(body, "<Code"), Some("SignatureDoesNotMatch"));
        assert_eq!(xml_tag("<Error><CodeX>a</CodeX>", "<Code"), None);
        assert_eq!(xml_tag("<Code>", "<Code"), None);
        assert_eq!(xml_tag("", "<Code"), None);
    }
}
