//! `Client`: the async OSS client over the [`HttpService`] seam, with signing, the crate's
//! retry policy and CRC-64 checks of uploads.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::StreamExt;
use osscse_core::sign::{self, Credentials};
use tokio::sync::mpsc;

use crate::crc64::{self, Crc64, HEADER_CRC64};
use crate::error::{Error, OssError, Result};
use crate::retry::{Attempts, RetryPolicy, parse_retry_after};
use crate::transport::{
    HttpRequest, HttpService, RequestBody, ReqwestService, ResponseStream, TransportConfig,
};

mod body;
mod url;

pub use body::{Body, Replay};
pub(crate) use body::{Source, pump};
pub use url::{ClientConfig, Endpoint, SignVersion};

/// Environment variable holding the access key id.
pub const ENV_ACCESS_KEY_ID: &str = "OSS_ACCESS_KEY_ID";
/// Environment variable holding the access key secret.
pub const ENV_ACCESS_KEY_SECRET: &str = "OSS_ACCESS_KEY_SECRET";
/// Environment variable holding the STS security token.
pub const ENV_SESSION_TOKEN: &str = "OSS_SESSION_TOKEN";
/// Environment variable holding the endpoint.
pub const ENV_ENDPOINT: &str = "OSS_ENDPOINT";
/// Environment variable holding the region.
pub const ENV_REGION: &str = "OSS_REGION";

/// Largest error body read into memory.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Credentials from `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` and the optional
/// `OSS_SESSION_TOKEN`.
///
/// # Errors
/// [`Error::Config`] when the id or the secret is unset or empty.
pub fn credentials_from_env() -> Result<Credentials> {
    let id = std::env::var(ENV_ACCESS_KEY_ID).unwrap_or_default();
    let secret = zeroize::Zeroizing::new(std::env::var(ENV_ACCESS_KEY_SECRET).unwrap_or_default());
    if id.is_empty() || secret.is_empty() {
        return Err(Error::Config(format!(
            "no credentials: set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} (and {ENV_SESSION_TOKEN} for STS)"
        )));
    }
    let mut c = Credentials::new(id, secret.as_str());
    if let Ok(token) = std::env::var(ENV_SESSION_TOKEN) {
        c = c.with_security_token(token);
    }
    Ok(c)
}

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
    /// Compare the answer's `x-oss-hash-crc64ecma` with the CRC-64 of the body sent (PutObject,
    /// UploadPart); off for requests whose answer describes something else (Complete).
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

    /// Sets the body (and turns on the upload CRC check).
    #[must_use]
    pub fn body(mut self, body: Body<'a>) -> Self {
        self.body = body;
        self.check_upload_crc = true;
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
    body: ResponseStream,
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

/// The async OSS client: one connection pool behind an [`HttpService`]; clones share it.
#[derive(Clone)]
pub struct Client {
    service: Arc<dyn HttpService>,
    config: ClientConfig,
    credentials: Credentials,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// The `User-Agent` of OSS requests.
const USER_AGENT: &str = concat!("osscse/", env!("CARGO_PKG_VERSION"), " OssEncryptionClient");

impl Client {
    /// A client for `config` with `credentials` over the default transport (reqwest).
    ///
    /// # Errors
    /// [`Error::Config`] when V4 is chosen and no region is known, or TLS cannot be set up.
    pub fn new(config: ClientConfig, credentials: Credentials) -> Result<Self> {
        let transport = TransportConfig {
            connect_timeout: config.connect_timeout,
            io_timeout: config.io_timeout,
            max_idle_per_host: config.max_idle_per_host,
        };
        let service = ReqwestService::new(&transport, USER_AGENT)
            .map_err(|e| Error::Config(format!("setting up HTTP: {e}")))?;
        Self::with_service(config, credentials, Arc::new(service))
    }

    /// A client for `config` with `credentials` over another transport.
    ///
    /// # Errors
    /// [`Error::Config`] when V4 is chosen and no region is known.
    pub fn with_service(
        config: ClientConfig,
        credentials: Credentials,
        service: Arc<dyn HttpService>,
    ) -> Result<Self> {
        if config.sign_version == SignVersion::V4 && config.effective_region().is_none() {
            return Err(Error::Config(
                "V4 signing needs a region: pass --region / set OSS_REGION (e.g. cn-hangzhou), or use --sign-version v1"
                    .into(),
            ));
        }
        Ok(Self {
            service,
            config,
            credentials,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

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

    fn signed_headers(&self, req: &Request<'_>) -> Result<Vec<(String, String)>> {
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

    /// Sends `req`, retrying 5xx/408/429 answers and timeouts, failed connects and resets with
    /// full-jitter backoff when the body is replayable, and returns the 2xx answer.
    ///
    /// # Errors
    /// [`Error::Oss`] for error answers (typed code, message, request id), [`Error::Transport`]
    /// after the last failed attempt, [`Error::CrcMismatch`] when OSS stored other bytes than
    /// were sent, [`Error::SourceChanged`] when a retry read other bytes than an earlier
    /// attempt, [`Error::ShortSource`] for a body shorter than announced.
    pub async fn send(&self, mut req: Request<'_>) -> Result<Response> {
        let query: Vec<(&str, &str)> = req
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let url = self.config.url(req.bucket, req.key, &query)?;
        let method = http::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| Error::Config(format!("bad method {}", req.method)))?;
        let len = req.body.len();
        let has_body = !matches!(req.body, Body::Empty) || matches!(req.method, "PUT" | "POST");
        let replayable = req.body.replayable();
        let mut earlier: Option<Crc64> = None;
        let mut attempts = Attempts::new(self.config.retry);
        loop {
            attempts.begin();
            let mut headers = self.signed_headers(&req)?;
            if has_body {
                headers.push(("content-length".into(), len.to_string()));
            }
            let (outcome, sent) = self
                .attempt(method.clone(), &url, headers, &mut req.body, earlier)
                .await?;
            if let Some(s) = sent
                && earlier.is_none_or(|e| e.len() < s.len())
            {
                earlier = Some(s);
            }
            let may_retry = replayable && attempts.may_retry();
            let resp = match outcome {
                Ok(resp) => resp,
                Err(e) => {
                    if e.kind().retryable() && may_retry && attempts.backoff(None).await {
                        continue;
                    }
                    return Err(Error::Transport {
                        host: self.config.endpoint.host.clone(),
                        attempts: attempts.made(),
                        source: e,
                    });
                }
            };
            let status = resp.status;
            if (200..300).contains(&status) {
                let sent = has_body.then(|| sent.unwrap_or_default());
                let response = Response {
                    status,
                    headers: resp.headers,
                    sent,
                    body: resp.body,
                };
                if let Some(sent) = sent {
                    if sent.len() != len {
                        return Err(Error::ShortSource {
                            expected: len,
                            actual: sent.len(),
                        });
                    }
                    if req.check_upload_crc
                        && let Some(server) = response.crc64()
                        && server != sent.value()
                    {
                        return Err(Error::CrcMismatch {
                            what: format!("{} upload", req.method),
                            server,
                            client: sent.value(),
                        });
                    }
                }
                return Ok(response);
            }
            let retry_after = resp
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let err = oss_error(req.method, status, &resp.headers, resp.body).await;
            if RetryPolicy::retryable_status(status)
                && may_retry
                && attempts.backoff(retry_after).await
            {
                continue;
            }
            return Err(err.into());
        }
    }

    /// One attempt: the transport call and, for streamed bodies, the pump feeding it.
    async fn attempt(
        &self,
        method: http::Method,
        url: &str,
        headers: Vec<(String, String)>,
        body: &mut Body<'_>,
        earlier: Option<Crc64>,
    ) -> Result<(
        std::result::Result<crate::transport::HttpResponse, crate::transport::TransportError>,
        Option<Crc64>,
    )> {
        let mut request = HttpRequest {
            method,
            url: url.to_owned(),
            headers,
            body: RequestBody::Empty,
        };
        let len = body.len();
        let mut opened: Option<Box<dyn io::Read + Send + '_>> = None;
        let source = match body {
            Body::Empty => None,
            Body::Bytes(b) => {
                let mut crc = Crc64::new();
                crc.update(b);
                request.body = RequestBody::Full(Bytes::copy_from_slice(b));
                let outcome = self.service.call(request).await;
                return Ok((outcome, Some(crc)));
            }
            Body::Replay(r) => {
                opened = Some(
                    r.open()
                        .map_err(|e| Error::io("opening the upload source", e))?,
                );
                opened.as_mut().map(|r| Source::Sync(&mut **r))
            }
            Body::Once { reader, .. } => Some(Source::Sync(&mut **reader)),
            Body::Reader { reader, .. } => Some(Source::Async(&mut **reader)),
        };
        let Some(source) = source else {
            if matches!(request.method, http::Method::PUT | http::Method::POST) {
                request.body = RequestBody::Full(Bytes::new());
            }
            return Ok((self.service.call(request).await, None));
        };
        let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(4);
        request.body = RequestBody::Stream {
            len,
            stream: Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))),
        };
        let (outcome, pumped) =
            tokio::join!(self.service.call(request), pump(source, len, earlier, tx));
        drop(opened);
        match pumped.outcome {
            Err(e) => Err(e),
            Ok(_) => Ok((outcome, Some(pumped.crc))),
        }
    }
}

/// The typed error of a non-2xx answer (HEAD answers carry it base64-encoded in `x-oss-err`).
async fn oss_error(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(ep: &str, path_style: bool) -> ClientConfig {
        let mut c = ClientConfig::new(Endpoint::parse(ep).unwrap());
        c.path_style = path_style;
        c
    }

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("https://oss-cn-hangzhou.aliyuncs.com").unwrap();
        assert!(e.https);
        assert_eq!(e.region_from_host().as_deref(), Some("cn-hangzhou"));
        let e = Endpoint::parse("oss-cn-beijing-internal.aliyuncs.com/").unwrap();
        assert!(e.https);
        assert_eq!(e.region_from_host().as_deref(), Some("cn-beijing"));
        let e = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(
            (e.https, e.host.as_str(), e.port),
            (false, "127.0.0.1", Some(9000))
        );
        assert!(e.is_ip_or_localhost());
        assert_eq!(e.region_from_host(), None);
        let e = Endpoint::parse("http://[::1]:8080").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", Some(8080)));
        for bad in [
            "ftp://x",
            "",
            "http://",
            "http://h:99999",
            "http://h/path",
            "http://u@h",
            "http://[::1",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_virtual_hosted_and_path_style() {
        let c = cfg("https://oss-cn-hangzhou.aliyuncs.com", false);
        assert_eq!(
            c.url(Some("bkt"), Some("dir/a b+c.txt"), &[]).unwrap(),
            "https://bkt.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt"
        );
        assert_eq!(
            c.url(
                Some("bkt"),
                Some("k"),
                &[("uploadId", "x/y"), ("partNumber", "3")]
            )
            .unwrap(),
            "https://bkt.oss-cn-hangzhou.aliyuncs.com/k?uploadId=x%2Fy&partNumber=3"
        );
        assert_eq!(
            c.url(Some("bkt"), None, &[("uploads", "")]).unwrap(),
            "https://bkt.oss-cn-hangzhou.aliyuncs.com/?uploads"
        );
        assert!(c.url(Some("Bad_Bucket"), Some("k"), &[]).is_err());
        let c = cfg("https://oss-cn-hangzhou.aliyuncs.com", true);
        assert_eq!(
            c.url(Some("bkt"), Some("k/1"), &[]).unwrap(),
            "https://oss-cn-hangzhou.aliyuncs.com/bkt/k/1"
        );
        // IP endpoints are always path style.
        let c = cfg("http://127.0.0.1:9000", false);
        assert_eq!(
            c.url(Some("bkt"), Some("k"), &[]).unwrap(),
            "http://127.0.0.1:9000/bkt/k"
        );
        assert_eq!(c.url(None, None, &[]).unwrap(), "http://127.0.0.1:9000/");
    }

    #[test]
    fn v4_needs_a_region_v1_does_not() {
        let creds = Credentials::new("ak", "sk");
        let c = cfg("http://127.0.0.1:9000", true);
        assert!(matches!(
            Client::new(c.clone(), creds.clone()),
            Err(Error::Config(_))
        ));
        let mut v1 = c.clone();
        v1.sign_version = SignVersion::V1;
        assert!(Client::new(v1, creds.clone()).is_ok());
        let mut v4 = c;
        v4.region = Some("cn-hangzhou".into());
        assert!(Client::new(v4, creds).is_ok());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let mut c = cfg("http://127.0.0.1:9000", true);
        c.region = Some("cn-hangzhou".into());
        let client = Client::new(
            c,
            Credentials::new("AKID", "TOPSECRET").with_security_token("TOKENVALUE"),
        )
        .unwrap();
        let shown = format!("{client:?}");
        assert!(shown.contains("AKID"));
        assert!(
            !shown.contains("TOPSECRET") && !shown.contains("TOKENVALUE"),
            "{shown}"
        );
    }

    #[test]
    fn presigned_urls_carry_the_signature() {
        let mut c = cfg("http://127.0.0.1:9000", true);
        c.region = Some("cn-hangzhou".into());
        let client = Client::new(c.clone(), Credentials::new("ak", "sk")).unwrap();
        let url = client.presign("GET", "bkt", "a/b.txt", 600).unwrap();
        assert!(
            url.starts_with("http://127.0.0.1:9000/bkt/a/b.txt?"),
            "{url}"
        );
        assert!(
            url.contains("x-oss-signature-version=OSS4-HMAC-SHA256")
                && url.contains("x-oss-signature=")
        );
        c.sign_version = SignVersion::V1;
        let client = Client::new(c, Credentials::new("ak", "sk")).unwrap();
        let url = client.presign("GET", "bkt", "k", 600).unwrap();
        assert!(
            url.contains("OSSAccessKeyId=ak") && url.contains("Signature="),
            "{url}"
        );
    }
}
