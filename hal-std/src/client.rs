//! `Client`: one blocking HTTP client for OSS (ureq 3 + rustls) with signing, retries and
//! CRC-64 checks of uploads.

use std::fmt;
use std::io::{self, Read};
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use osscse_core::sign::{self, Credentials, encode_query, uri_encode};
use ureq::http;

use crate::crc64::{self, Crc64, CrcReader, HEADER_CRC64};
use crate::error::{Error, OssError, Result};
use crate::retry::{RetryPolicy, parse_retry_after};

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

/// Request signature version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignVersion {
    /// `OSS4-HMAC-SHA256` (needs a region); the default.
    #[default]
    V4,
    /// HMAC-SHA1 `OSS AK:signature`.
    V1,
}

/// Where OSS is: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `true` for https.
    pub https: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Explicit port.
    pub port: Option<u16>,
}

impl Endpoint {
    /// Parses `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000` or a bare host
    /// (which means https).
    ///
    /// # Errors
    /// [`Error::Config`] for another scheme, an empty host, a bad port or a path.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        let (https, rest) = if let Some(r) = t.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = t.strip_prefix("http://") {
            (false, r)
        } else if t.contains("://") {
            return Err(Error::Config(format!(
                "endpoint {t:?}: only http:// and https:// are supported"
            )));
        } else {
            (true, t)
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) || rest.is_empty() {
            return Err(Error::Config(format!(
                "endpoint {t:?}: give only scheme, host and port, e.g. https://oss-cn-hangzhou.aliyuncs.com"
            )));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| Error::Config(format!("endpoint {t:?}: unclosed IPv6 bracket")))?;
            (h.to_owned(), after.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (rest.to_owned(), None),
            }
        };
        let port = match port {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| Error::Config(format!("endpoint {t:?}: bad port {p:?}")))?,
            ),
            None => None,
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:_".contains(&b))
        {
            return Err(Error::Config(format!("endpoint {t:?}: bad host name")));
        }
        Ok(Self { https, host, port })
    }

    /// Whether the host is an IP address or `localhost` (virtual-hosted style cannot work).
    pub fn is_ip_or_localhost(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok() || self.host.eq_ignore_ascii_case("localhost")
    }

    /// The region id an `oss-<region>[-internal].aliyuncs.com` host names, if any.
    pub fn region_from_host(&self) -> Option<String> {
        let first = self.host.split('.').next()?;
        let r = first.strip_prefix("oss-")?;
        let r = r.strip_suffix("-internal").unwrap_or(r);
        (!r.is_empty() && self.host.ends_with(".aliyuncs.com")).then(|| r.to_owned())
    }

    fn authority(&self, host: &str) -> String {
        let h = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        match self.port {
            Some(p) => format!("{h}:{p}"),
            None => h,
        }
    }
}

/// Everything a [`Client`] needs besides credentials.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where OSS is.
    pub endpoint: Endpoint,
    /// Region id for V4 signing (`cn-hangzhou`); derived from an `oss-<region>` endpoint if unset.
    pub region: Option<String>,
    /// Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`).
    /// Always used for IP and `localhost` endpoints.
    pub path_style: bool,
    /// Signature version.
    pub sign_version: SignVersion,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for any single read or write on the socket.
    pub io_timeout: Duration,
    /// Idle connections kept per host (connection reuse; also the useful parallelism).
    pub max_idle_per_host: usize,
}

impl ClientConfig {
    /// A configuration with defaults for `endpoint`.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            region: None,
            path_style: false,
            sign_version: SignVersion::V4,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(60),
            max_idle_per_host: 16,
        }
    }

    /// The region used for V4 signing.
    pub fn effective_region(&self) -> Option<String> {
        self.region
            .clone()
            .filter(|r| !r.is_empty())
            .or_else(|| self.endpoint.region_from_host())
    }

    fn uses_path_style(&self) -> bool {
        self.path_style || self.endpoint.is_ip_or_localhost()
    }

    /// The URL of a resource: `bucket`/`key` may be absent for service and bucket operations;
    /// `query` holds decoded pairs.
    ///
    /// # Errors
    /// [`Error::Config`] for a bucket name that cannot be a host label in virtual-hosted style.
    pub fn url(
        &self,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<String> {
        let scheme = if self.endpoint.https { "https" } else { "http" };
        let mut path = String::from("/");
        let authority = match bucket {
            Some(b) if !self.uses_path_style() => {
                if b.is_empty()
                    || !b
                        .bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                {
                    return Err(Error::Config(format!(
                        "bucket {b:?} cannot be used in a virtual-hosted URL; use --path-style"
                    )));
                }
                self.endpoint
                    .authority(&format!("{b}.{}", self.endpoint.host))
            }
            Some(b) => {
                path.push_str(&uri_encode(b, false));
                path.push('/');
                self.endpoint.authority(&self.endpoint.host)
            }
            None => self.endpoint.authority(&self.endpoint.host),
        };
        if let Some(k) = key {
            path.push_str(&uri_encode(k, true));
        }
        let mut url = format!("{scheme}://{authority}{path}");
        if !query.is_empty() {
            url.push('?');
            url.push_str(&encode_query(query.iter().copied()));
        }
        Ok(url)
    }
}

/// A request body that can be produced again, byte for byte, for a retry.
pub trait Replay: Sync {
    /// The body length.
    fn len(&self) -> u64;
    /// Whether the body is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A fresh reader over the whole body.
    ///
    /// # Errors
    /// When the source cannot be opened.
    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>>;
}

/// A request body.
pub enum Body<'a> {
    /// No body.
    Empty,
    /// A buffer (replayable).
    Bytes(&'a [u8]),
    /// A replayable source; retries re-read it and must see the same CRC-64.
    Replay(&'a dyn Replay),
    /// A one-shot stream of known length; never retried once sending began.
    Once {
        /// Exact length.
        len: u64,
        /// The stream.
        reader: &'a mut (dyn Read + Send),
    },
}

impl fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Self::Replay(r) => write!(f, "Replay({} bytes)", r.len()),
            Self::Once { len, .. } => write!(f, "Once({len} bytes)"),
        }
    }
}

impl Body<'_> {
    fn len(&self) -> u64 {
        match self {
            Self::Empty => 0,
            Self::Bytes(b) => b.len() as u64,
            Self::Replay(r) => r.len(),
            Self::Once { len, .. } => *len,
        }
    }
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
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// CRC-64 (and length) of the body sent, when there was one.
    pub sent: Option<Crc64>,
    body: ureq::Body,
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

    /// The body as a stream (no size limit; errors on a connection cut early).
    pub fn into_reader(self) -> impl Read + Send + 'static {
        self.body.into_reader()
    }

    /// Reads a small text body (XML answers), at most `limit` bytes.
    ///
    /// # Errors
    /// When reading fails or the body is longer than `limit`.
    pub fn text(mut self, limit: u64) -> Result<String> {
        self.body
            .with_config()
            .limit(limit)
            .read_to_string()
            .map_err(|e| Error::Protocol(format!("reading the answer: {e}")))
    }
}

/// The OSS HTTP client: one connection pool (ureq `Agent`), shared by all threads.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    config: ClientConfig,
    credentials: Credentials,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Client {
    /// A client for `config` with `credentials`.
    ///
    /// # Errors
    /// [`Error::Config`] when V4 is chosen and no region is known.
    pub fn new(config: ClientConfig, credentials: Credentials) -> Result<Self> {
        if config.sign_version == SignVersion::V4 && config.effective_region().is_none() {
            return Err(Error::Config(
                "V4 signing needs a region: pass --region / set OSS_REGION (e.g. cn-hangzhou), or use --sign-version v1"
                    .into(),
            ));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_per_read(Some(config.io_timeout))
            .timeout_per_write(Some(config.io_timeout))
            .max_idle_connections_per_host(config.max_idle_per_host)
            .max_idle_connections(config.max_idle_per_host.max(10))
            .user_agent(concat!(
                "osscse/",
                env!("CARGO_PKG_VERSION"),
                " OssEncryptionClient"
            ))
            .build()
            .new_agent();
        Ok(Self {
            agent,
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

    /// Sends `req`, retrying 5xx/408/429 answers and connection errors with full-jitter backoff
    /// when the body is replayable, and returns the 2xx answer.
    ///
    /// # Errors
    /// [`Error::Oss`] for error answers (typed code, message, request id), [`Error::Transport`]
    /// after the last failed attempt, [`Error::CrcMismatch`] when OSS stored other bytes than
    /// were sent, [`Error::SourceChanged`] / [`Error::ShortSource`] for misbehaving bodies.
    pub fn send(&self, mut req: Request<'_>) -> Result<Response> {
        let query: Vec<(&str, &str)> = req
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let url = self.config.url(req.bucket, req.key, &query)?;
        let host = self.config.endpoint.host.clone();
        let len = req.body.len();
        let policy = self.config.retry;
        let mut first_crc: Option<u64> = None;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let headers = self.signed_headers(&req)?;
            let mut builder = http::Request::builder()
                .method(req.method)
                .uri(url.as_str());
            for (n, v) in &headers {
                builder = builder.header(n.as_str(), v.as_str());
            }
            let has_body = !matches!(req.body, Body::Empty) || matches!(req.method, "PUT" | "POST");
            if has_body {
                builder = builder.header("content-length", len.to_string());
            }
            let mut opened: Option<Box<dyn Read + Send + '_>> = match &req.body {
                Body::Replay(r) => Some(
                    r.open()
                        .map_err(|e| Error::io("opening the upload source", e))?,
                ),
                _ => None,
            };
            let replayable = !matches!(req.body, Body::Once { .. });
            let (outcome, sent) = {
                let source: &mut dyn Read = match (&mut req.body, opened.as_mut()) {
                    (_, Some(r)) => r,
                    (Body::Bytes(b), None) => b,
                    (Body::Once { reader, .. }, None) => *reader,
                    _ => &mut io::empty(),
                };
                let mut counted = CrcReader::new(source.take(len));
                let http_req = builder
                    .body(ureq::SendBody::from_reader(&mut counted))
                    .map_err(|e| Error::Config(format!("building the request: {e}")))?;
                let outcome = if has_body {
                    self.agent.run(http_req)
                } else {
                    let (parts, _) = http_req.into_parts();
                    self.agent.run(http::Request::from_parts(parts, ()))
                };
                (outcome, counted.crc())
            };
            drop(opened);
            let may_retry = replayable && attempt < policy.max_attempts;
            match outcome {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let (parts, body) = resp.into_parts();
                    if (200..300).contains(&status) {
                        let response = Response {
                            status,
                            headers: parts.headers,
                            sent: has_body.then_some(sent),
                            body,
                        };
                        if has_body {
                            if sent.len() != len {
                                return Err(Error::ShortSource {
                                    expected: len,
                                    actual: sent.len(),
                                });
                            }
                            if let Some(first) = first_crc
                                && first != sent.value()
                            {
                                return Err(Error::SourceChanged);
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
                    let request_id = parts
                        .headers
                        .get("x-oss-request-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let retry_after = parts
                        .headers
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()));
                    let mut body = body;
                    let text = if req.method == "HEAD" {
                        // HEAD answers have no body; OSS puts the error document, base64-encoded,
                        // in x-oss-err.
                        parts
                            .headers
                            .get("x-oss-err")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| {
                                <base64ct::Base64 as base64ct::Encoding>::decode_vec(v.trim()).ok()
                            })
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default()
                    } else {
                        body.with_config()
                            .limit(MAX_ERROR_BODY)
                            .lossy_utf8(true)
                            .read_to_string()
                            .unwrap_or_default()
                    };
                    let mut err: OssError =
                        crate::xml::oss_error(status, &text, request_id.as_deref());
                    if err.ec.is_empty()
                        && let Some(ec) =
                            parts.headers.get("x-oss-ec").and_then(|v| v.to_str().ok())
                    {
                        ec.clone_into(&mut err.ec);
                    }
                    if RetryPolicy::retryable_status(status) && may_retry {
                        if sent.len() == len && has_body {
                            first_crc.get_or_insert(sent.value());
                        }
                        std::thread::sleep(policy.delay(attempt, jitter(), retry_after));
                        continue;
                    }
                    return Err(err.into());
                }
                Err(e) => {
                    if RetryPolicy::retryable_error(&e) && may_retry {
                        std::thread::sleep(policy.delay(attempt, jitter(), None));
                        continue;
                    }
                    return Err(Error::Transport {
                        host,
                        attempts: attempt,
                        source: e,
                    });
                }
            }
        }
    }
}

fn jitter() -> u64 {
    // Timing jitter only: fall back to the clock if the OS generator is unavailable.
    getrandom::u64().unwrap_or_else(|_| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0)
    })
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
