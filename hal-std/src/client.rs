//! `Client`: the async OSS client over the [`HttpService`] seam, with signing, the crate's
//! retry policy, CRC-64 checks of uploads and signed payloads (`Content-MD5`).
//!
//! Split by concern: [`config`](ClientConfig) (endpoint, options, URLs through osscse-core's
//! builder), `request` ([`Request`], [`Response`]), `signing` (headers, presigned URLs, the
//! payload digest pass), `body` (what is sent and the pump), and here the send loop.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use osscse_core::sign::Credentials;
use tokio::sync::mpsc;

use crate::crc64::Crc64;
use crate::error::{Error, Result};
use crate::retry::{Attempts, RetryPolicy, parse_retry_after};
use crate::transport::{HttpRequest, HttpService, RequestBody, ReqwestService, TransportConfig};

mod body;
mod config;
mod request;
mod signing;
#[cfg(test)]
mod tests;

pub use body::{Body, Replay};
pub(crate) use body::{Source, pump};
pub use config::{ClientConfig, Endpoint, PayloadSigning, SignVersion};
use request::oss_error;
pub use request::{Request, Response};
pub(crate) use request::{read_limited, read_limited_raw};

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

    /// Sends `req`, retrying 5xx/408/429 answers and timeouts, failed connects and resets with
    /// full-jitter backoff when the body is replayable, and returns the 2xx answer. A replayable
    /// body is read once first for its `Content-MD5` (signed; OSS refuses a body that does not
    /// match it) unless [`ClientConfig::payload_signing`] opts out or the request carries one.
    ///
    /// # Errors
    /// [`Error::Oss`] for error answers (typed code, message, request id), [`Error::Transport`]
    /// after the last failed attempt, [`Error::CrcMismatch`] when OSS stored other bytes than
    /// were sent, [`Error::SourceChanged`] when an attempt read other bytes than the digest
    /// pass or an earlier attempt, [`Error::ShortSource`] for a body shorter than announced.
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
        if self.config.payload_signing == PayloadSigning::ContentMd5
            && !req
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-md5"))
        {
            // Replayable bodies only: a stream cannot be read twice. (The source is taken out
            // of the body first: the digest future must not borrow the non-Sync `Body`.)
            let replay: Option<&dyn Replay> = match req.body {
                Body::Replay(r) => Some(r),
                _ => None,
            };
            let md5 = match (&req.body, replay) {
                (Body::Bytes(b), _) => Some(signing::bytes_digest(b)),
                (_, Some(r)) => {
                    let (md5, read) = signing::replay_digest(r).await?;
                    earlier = Some(read);
                    Some(md5)
                }
                _ => None,
            };
            if let Some(md5) = md5 {
                req.headers.push(("Content-MD5".into(), md5));
            }
        }
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
