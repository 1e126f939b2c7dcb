//! Signing: request headers (V4 or V1), presigned URLs, and the payload digest that lets OSS
//! refuse a body altered in transit.

use std::io::{self, Read};
use std::time::{SystemTime, UNIX_EPOCH};

use base64ct::{Base64, Encoding};
use md5::{Digest, Md5};
use osscse_core::sign;

use super::{Client, Replay, Request, SignVersion};
use crate::crc64::Crc64;
use crate::error::{Error, Result};

/// Bytes read per chunk in the digest pass.
const DIGEST_CHUNK: usize = 256 * 1024;

impl Client {
    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// A presigned URL for `method` on `bucket/key`, valid for `expires_in` seconds.
    ///
    /// # Errors
    /// Signing errors (no region, expiry too long, ...).
    pub fn presign(
        &self,
        method: &'static str,
        bucket: &str,
        key: &str,
        expires_in: u64,
    ) -> Result<String> {
        let req = sign::Request {
            method,
            bucket: Some(bucket),
            key: Some(key),
            query: &[],
            headers: &[],
        };
        let now = Self::now();
        let p = match self.config.sign_version {
            SignVersion::V4 => {
                let region = self.config.effective_region().unwrap_or_default();
                sign::v4::presign(
                    &req,
                    &self.credentials,
                    &sign::v4::Params::new(&region),
                    now,
                    expires_in,
                )?
            }
            SignVersion::V1 => sign::v1::presign(&req, &self.credentials, now + expires_in, &[])?,
        };
        let q: Vec<(&str, &str)> = p
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.config.url(Some(bucket), Some(key), &q)
    }

    pub(super) fn signed_headers(&self, req: &Request<'_>) -> Result<Vec<(String, String)>> {
        let query: Vec<(&str, &str)> = req
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let headers: Vec<(&str, &str)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let sreq = sign::Request {
            method: req.method,
            bucket: req.bucket,
            key: req.key,
            query: &query,
            headers: &headers,
        };
        let now = Self::now();
        let signed = match self.config.sign_version {
            SignVersion::V4 => {
                let region = self.config.effective_region().unwrap_or_default();
                sign::v4::sign_headers(
                    &sreq,
                    &self.credentials,
                    &sign::v4::Params::new(&region),
                    now,
                )?
            }
            SignVersion::V1 => sign::v1::sign_headers(&sreq, &self.credentials, now, &[])?,
        };
        let mut out: Vec<(String, String)> = req
            .headers
            .iter()
            .filter(|(n, _)| {
                !signed
                    .headers
                    .iter()
                    .any(|(s, _)| s.eq_ignore_ascii_case(n))
            })
            .cloned()
            .collect();
        out.extend(signed.headers);
        Ok(out)
    }
}

/// Base64 `Content-MD5` of a buffer body.
pub(crate) fn bytes_digest(body: &[u8]) -> String {
    Base64::encode_string(&Md5::digest(body))
}

/// The first pass over a replayable source: base64 `Content-MD5` and the CRC-64 of what this
/// pass read. The first attempt is checked against that CRC, so a source that changes in
/// between fails with [`Error::SourceChanged`] instead of going out under a digest it does not
/// match.
///
/// # Errors
/// The source cannot be opened or read, or is shorter than announced.
pub(crate) async fn replay_digest(r: &dyn Replay) -> Result<(String, Crc64)> {
    let len = r.len();
    let mut reader = r
        .open()
        .map_err(|e| Error::io("opening the upload source", e))?;
    let mut md5 = Md5::new();
    let mut crc = Crc64::new();
    // No bigger than the body: a 4 KiB object zeroing (and faulting in) 256 KiB per request
    // cost more CPU than its signing, hashing and encryption together.
    let mut buf = vec![0u8; usize::try_from(len).map_or(DIGEST_CHUNK, |l| l.min(DIGEST_CHUNK))];
    while crc.len() < len {
        let want = usize::try_from(len - crc.len())
            .unwrap_or(DIGEST_CHUNK)
            .min(DIGEST_CHUNK);
        let n = match reader.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(Error::ShortSource {
                    expected: len,
                    actual: crc.len(),
                });
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("reading the upload source", e)),
        };
        md5.update(&buf[..n]);
        crc.update(&buf[..n]);
        // A large file is read in chunks without holding the runtime thread throughout.
        tokio::task::yield_now().await;
    }
    Ok((Base64::encode_string(&md5.finalize()), crc))
}
