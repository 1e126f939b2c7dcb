//! The body digests a client announces, checked before any operation runs (so a rejected body
//! is never stored): `Content-MD5` on every request, and the V4 `x-oss-content-sha256`.
//!
//! What OSS does (its error documentation and measurements against the service):
//! - `Content-MD5` that is not the base64 MD5 of the body, or not an MD5 at all: 400
//!   `InvalidDigest`, "The Content-MD5 you specified is not valid.", EC `0017-00000503`. This is
//!   the body check OSS offers; V1 signs the header and V4 signs it by default.
//! - A V4 `x-oss-content-sha256` other than `UNSIGNED-PAYLOAD`: 400 `InvalidArgument`, "The
//!   x-oss-content-sha256 only supports UNSIGNED-PAYLOAD.", EC `0002-00000214`, whatever the
//!   body. OSS does not verify a payload SHA-256; it refuses one. [`PayloadHashPolicy`] picks
//!   between that answer (the default) and an S3-style check of the digest.

use base64ct::{Base64, Encoding};
use md5::{Digest, Md5};
use sha2::Sha256;

use osscse_core::sign::{HEADER_CONTENT_SHA256 as CONTENT_SHA256, UNSIGNED_PAYLOAD};

use crate::http::HttpRequest;
use crate::xml::OssError;

/// What the server does with a V4 `x-oss-content-sha256` that is not `UNSIGNED-PAYLOAD`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PayloadHashPolicy {
    /// As OSS: refuse it (400 `InvalidArgument`, EC `0002-00000214`) even when it matches the
    /// body. A client that passes against this server passes against OSS.
    #[default]
    UnsignedOnly,
    /// Not OSS behaviour: accept a lower-case hex SHA-256 of the body, refuse any other value
    /// with 400 `InvalidArgument`. For testing a client's payload hashing in isolation.
    VerifySha256,
}

fn invalid_digest(sent: &str) -> OssError {
    OssError::new(
        400,
        "InvalidDigest",
        "The Content-MD5 you specified is not valid.",
    )
    .with("Content-MD5", sent)
    .with("EC", "0017-00000503")
}

/// Checks `Content-MD5` when present: it must be the base64 MD5 of the body.
pub(crate) fn check_content_md5(req: &HttpRequest) -> Result<(), OssError> {
    let Some(sent) = req.header("content-md5") else {
        return Ok(());
    };
    let mut want = [0u8; 16];
    match Base64::decode(sent.trim(), &mut want) {
        Ok(d) if d.len() == 16 => {}
        _ => return Err(invalid_digest(sent)),
    }
    let got: [u8; 16] = Md5::digest(&req.body).into();
    if got != want {
        return Err(invalid_digest(sent));
    }
    Ok(())
}

fn is_v4_header_signed(req: &HttpRequest) -> bool {
    req.header("authorization")
        .is_some_and(|a| a.starts_with("OSS4-HMAC-SHA256 "))
}

/// Checks a V4 header-signed request's `x-oss-content-sha256` under `policy` (other signature
/// forms do not use the header, so it is left alone there).
pub(crate) fn check_content_sha256(
    req: &HttpRequest,
    policy: PayloadHashPolicy,
) -> Result<(), OssError> {
    if !is_v4_header_signed(req) {
        return Ok(());
    }
    let Some(sent) = req.header(CONTENT_SHA256) else {
        return Ok(());
    };
    if sent == UNSIGNED_PAYLOAD {
        return Ok(());
    }
    let refused = |message: &str| {
        OssError::invalid_argument(message)
            .with("ArgumentName", CONTENT_SHA256)
            .with("ArgumentValue", sent)
            .with("EC", "0002-00000214")
    };
    match policy {
        PayloadHashPolicy::UnsignedOnly => Err(refused(
            "The x-oss-content-sha256 only supports UNSIGNED-PAYLOAD.",
        )),
        PayloadHashPolicy::VerifySha256 => {
            let got = hex::encode(Sha256::digest(&req.body));
            if sent == got {
                Ok(())
            } else {
                Err(refused(
                    "The x-oss-content-sha256 you specified does not match the SHA-256 of the body.",
                ))
            }
        }
    }
}
