//! The default [`HttpService`]: reqwest (hyper 1, connection pool) with rustls on ring and the
//! Mozilla root store.

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};

use super::{
    BoxFuture, HttpRequest, HttpResponse, HttpService, RequestBody, TransportConfig,
    TransportError, TransportErrorKind,
};

/// reqwest behind the seam. Clones share the connection pool.
#[derive(Debug, Clone)]
pub struct ReqwestService {
    client: ::reqwest::Client,
}

impl ReqwestService {
    /// A pool with `config`'s timeouts; `user_agent` is sent on every request.
    ///
    /// # Errors
    /// When TLS cannot be set up.
    pub fn new(config: &TransportConfig, user_agent: &str) -> Result<Self, TransportError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::new(TransportErrorKind::Tls, e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let client = ::reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(::reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.io_timeout)
            .pool_max_idle_per_host(config.max_idle_per_host)
            .no_proxy()
            .user_agent(user_agent)
            .build()
            .map_err(classify)?;
        Ok(Self { client })
    }
}

impl HttpService for ReqwestService {
    fn call(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'static, Result<HttpResponse, TransportError>> {
        let mut builder = self.client.request(request.method, request.url.as_str());
        for (n, v) in &request.headers {
            builder = builder.header(n.as_str(), v.as_str());
        }
        builder = match request.body {
            RequestBody::Empty => builder,
            RequestBody::Full(b) => builder.body(b),
            RequestBody::Stream { stream, .. } => {
                builder.body(::reqwest::Body::wrap_stream(stream))
            }
        };
        Box::pin(async move {
            let resp = builder.send().await.map_err(classify)?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes_stream().map_err(classify).boxed();
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        })
    }
}

/// Maps a reqwest error to a kind by what it is and what caused it.
fn classify(e: ::reqwest::Error) -> TransportError {
    let mut source: Option<&(dyn StdError + 'static)> = e.source();
    let mut io_kind = None;
    let mut tls = false;
    while let Some(s) = source {
        if s.is::<rustls::Error>() {
            tls = true;
        }
        if let Some(io) = s.downcast_ref::<io::Error>() {
            io_kind.get_or_insert(io.kind());
            if io.get_ref().is_some_and(|i| i.is::<rustls::Error>()) {
                tls = true;
            }
        }
        source = s.source();
    }
    let kind = if e.is_timeout() || io_kind == Some(io::ErrorKind::TimedOut) {
        TransportErrorKind::Timeout
    } else if tls {
        TransportErrorKind::Tls
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if matches!(
        io_kind,
        Some(
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof
        )
    ) {
        TransportErrorKind::Reset
    } else if e.is_builder() || e.is_redirect() || e.is_status() {
        TransportErrorKind::Other
    } else if e.is_request() || e.is_body() || e.is_decode() {
        // hyper reports a connection closed mid-message without an I/O cause.
        TransportErrorKind::Reset
    } else {
        TransportErrorKind::Other
    };
    // Without the URL: a presigned query may carry a signature.
    let mut causes = String::new();
    let mut source: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(s) = source {
        causes.push_str(": ");
        causes.push_str(&s.to_string());
        source = s.source();
    }
    TransportError::new(kind, format!("{}{causes}", e.without_url()))
}
