//! One request and its answer: [`Request`], [`Response`], bounded body reads and the typed
//! error of a non-2xx answer.

use std::fmt;

use futures_util::StreamExt;

use super::Body;
use crate::crc64::{self, Crc64, HEADER_CRC64};
use crate::error::{Error, OssError, Result};
use crate::transport::ResponseStream;

/// Largest error body read into memory.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// One OSS request.
#[derive(Debug)]
pub struct Request<'a> {
    /// HTTP method (`GET`, `PUT`, `POST`, `HEAD`, `DELETE`).
    pub method: &'static str,
    /// Bucket, if any.
    pub bucket: Option<&'a str>,
    /// Raw object key, if any.
    pub key: Option<&'a str>,
    /// Decoded query pairs (empty value = bare name).
    pub query: Vec<(String, String)>,
    /// Headers to send (signed as the signature version requires).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Body<'a>,
    /// Compare the answer's `x-oss-hash-crc64ecma` with the CRC-64 of the body sent: on for a
    /// `PUT` with a body (PutObject, UploadPart), whose answer carries the CRC-64 of exactly that
    /// body; off for a `POST` (CompleteMultipartUpload and AppendObject answer with the CRC-64 of
    /// the whole object, not of the XML or the appended bytes sent).
    pub check_upload_crc: bool,
}

impl<'a> Request<'a> {
    /// A request without body, query or headers.
    pub fn new(method: &'static str, bucket: Option<&'a str>, key: Option<&'a str>) -> Self {
        Self {
            method,
            bucket,
            key,
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
            check_upload_crc: false,
        }
    }

    /// Adds a query parameter.
    #[must_use]
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body, and turns on the upload CRC check for a `PUT` (see
    /// [`Request::check_upload_crc`]).
    #[must_use]
    pub fn body(mut self, body: Body<'a>) -> Self {
        self.body = body;
        self.check_upload_crc = self.method.eq_ignore_ascii_case("PUT");
        self
    }
}

/// A successful answer (2xx), body not yet read.
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// CRC-64 (and length) of the body sent, when there was one.
    pub sent: Option<Crc64>,
    pub(super) body: ResponseStream,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `x-oss-hash-crc64ecma`, when present and well-formed.
    pub fn crc64(&self) -> Option<u64> {
        self.header(HEADER_CRC64).and_then(crc64::parse_header)
    }

    /// `Content-Length`, when present.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// The body as a stream of chunks (no size limit).
    pub fn into_stream(self) -> ResponseStream {
        self.body
    }

    /// Reads a small body (XML answers), at most `limit` bytes.
    ///
    /// # Errors
    /// When reading fails or the body is longer than `limit`.
    pub async fn bytes(self, limit: u64) -> Result<Vec<u8>> {
        read_limited(self.body, limit).await
    }

    /// Reads a small text body (XML answers), at most `limit` bytes.
    ///
    /// # Errors
    /// When reading fails, the body is longer than `limit` or not UTF-8.
    pub async fn text(self, limit: u64) -> Result<String> {
        String::from_utf8(self.bytes(limit).await?)
            .map_err(|_| Error::Protocol("the answer is not UTF-8".into()))
    }
}

/// Reads a whole body of at most `limit` bytes.
pub(crate) async fn read_limited(body: ResponseStream, limit: u64) -> Result<Vec<u8>> {
    read_limited_raw(body, limit)
        .await
        .map_err(|e| Error::Protocol(format!("reading the answer: {e}")))
}

/// Reads a whole body of at most `limit` bytes, failing with the transport's error.
pub(crate) async fn read_limited_raw(
    mut body: ResponseStream,
    limit: u64,
) -> std::result::Result<Vec<u8>, crate::transport::TransportError> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(crate::transport::TransportError::new(
                crate::transport::TransportErrorKind::Other,
                format!("the answer is longer than {limit} bytes"),
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The typed error of a non-2xx answer (HEAD answers carry it base64-encoded in `x-oss-err`).
pub(crate) async fn oss_error(
    method: &str,
    status: u16,
    headers: &http::HeaderMap,
    body: ResponseStream,
) -> OssError {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let text = if method == "HEAD" {
        header("x-oss-err")
            .and_then(|v| <base64ct::Base64 as base64ct::Encoding>::decode_vec(v.trim()).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    } else {
        read_limited(body, MAX_ERROR_BODY)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let mut err = crate::xml::oss_error(status, &text, header("x-oss-request-id"));
    if err.ec.is_empty()
        && let Some(ec) = header("x-oss-ec")
    {
        ec.clone_into(&mut err.ec);
    }
    err
}
