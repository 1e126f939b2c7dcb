//! The transport seam: one small trait between the OSS/KMS clients and an HTTP library.
//!
//! A [`HttpService`] takes a fully signed [`HttpRequest`] (method, URL, headers and a body
//! that the caller produces afresh for every attempt) and answers status, headers and a
//! streaming body, or a [`TransportError`] whose [`TransportErrorKind`] is all the retry
//! policy looks at. The default implementation is [`ReqwestService`] (reqwest over hyper,
//! rustls with the ring provider and the Mozilla roots, one connection pool).

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

mod reqwest;

pub use self::reqwest::ReqwestService;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A streaming response body.
pub type ResponseStream = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

/// A streaming request body: the chunks of exactly the announced length.
pub type RequestStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// The body of one attempt.
pub enum RequestBody {
    /// No body (and no `Content-Length` unless the method needs one).
    Empty,
    /// A buffer.
    Full(Bytes),
    /// A stream of exactly `len` bytes; an `Err` item aborts the request.
    Stream {
        /// Exact length, sent as `Content-Length`.
        len: u64,
        /// The chunks.
        stream: RequestStream,
    },
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Full(b) => write!(f, "Full({} bytes)", b.len()),
            Self::Stream { len, .. } => write!(f, "Stream({len} bytes)"),
        }
    }
}

/// A signed request, ready to send.
#[derive(Debug)]
pub struct HttpRequest {
    /// `GET`, `PUT`, `POST`, `HEAD` or `DELETE`.
    pub method: http::Method,
    /// The full URL (it may carry a presigned query: never log it).
    pub url: String,
    /// Headers, signature included.
    pub headers: Vec<(String, String)>,
    /// The body of this attempt.
    pub body: RequestBody,
}

/// An answer: any status, with the body not yet read.
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: ResponseStream,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// What kind of transport failure happened: the only thing retry decisions look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Connecting, or waiting for bytes, took too long.
    Timeout,
    /// The connection could not be made (refused, unreachable, DNS).
    Connect,
    /// An established connection was reset or closed early.
    Reset,
    /// The TLS handshake or certificate check failed (never retried).
    Tls,
    /// Anything else (bad URL, aborted body, protocol violation).
    Other,
}

impl TransportErrorKind {
    /// Whether a failure of this kind is worth another attempt.
    pub fn retryable(self) -> bool {
        matches!(self, Self::Timeout | Self::Connect | Self::Reset)
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timeout => "timeout",
            Self::Connect => "connection failed",
            Self::Reset => "connection reset",
            Self::Tls => "TLS failure",
            Self::Other => "transport failure",
        })
    }
}

/// A transport failure: its kind and a description (never the URL query).
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
}

impl TransportError {
    /// A failure of `kind` described by `message`.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The kind.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for TransportError {}

/// The HTTP seam: send one signed request, get the answer or a typed failure.
pub trait HttpService: Send + Sync + fmt::Debug {
    /// Sends `request` once (no retries here: the caller's retry policy decides).
    fn call(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'static, Result<HttpResponse, TransportError>>;
}

/// Socket-level settings of the default transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportConfig {
    /// Connect timeout.
    pub connect_timeout: std::time::Duration,
    /// Longest wait for bytes from the server.
    pub io_timeout: std::time::Duration,
    /// Idle connections kept per host.
    pub max_idle_per_host: usize,
}
