//! The async telemetry uploader: one encrypted, V4-signed `PutObject` over reqwless.
//!
//! * [`SealedObject`] draws a data key and IV from the caller's DRBG (optionally with a
//!   counter IV prefix), wraps both with the master key (RSA public key) into the CSE envelope.
//!   Keep it to **retry**: the same sealed object and the same plaintext give byte-identical
//!   ciphertext and headers (SECURITY.md §3.7 item 6; never encrypt different data under it).
//! * [`Uploader::put`] streams the body from a [`BodySource`] of known length, encrypting it
//!   chunk by chunk into a small stack buffer ([`CHUNK_LEN`] bytes): no whole-object buffer.
//!   Headers are collected in a `heapless::Vec`; `alloc` is used only by the RSA wrap and the
//!   signer's strings.
//! * **Signed payloads** (default, [`PayloadSigning`]): a first pass over the source encrypts
//!   and hashes the ciphertext, so the V4 signature covers its `Content-MD5`, which OSS checks;
//!   a body altered in transit is refused ([`UploadError::is_body_mismatch`]) and nothing is
//!   stored. The CSE format itself has no integrity (AES-CTR), so this is what stops a man in
//!   the middle from flipping telemetry bits.
//! * Every failure is an [`UploadError`]: DNS/TCP/HTTP transport, TLS, the body source, or the
//!   OSS error code, message-free but with the HTTP status and `x-oss-request-id`.
//!
//! Transport: anything implementing `embedded_nal_async::{TcpConnect, Dns}` (embassy-net on a
//! device, `std-embedded-nal-async` in the host tests). Plain HTTP by default; with the `tls`
//! feature, HTTPS that verifies the server against the application's CA
//! (`Uploader::new_with_tls`).

use core::cell::Cell;
use core::fmt;
use core::net::SocketAddr;

use embedded_io_async::{Error as _, Read, Write};
use embedded_nal_async::{AddrType, Dns, TcpConnect};
use osscse_core::sign::{Credentials, HEADER_CONTENT_SHA256, Request, v4};
use osscse_core::url::Endpoint;
use reqwless::client::HttpConnection;
use reqwless::request::{Method, RequestBuilder};

use crate::cipher::LoadKey;
use crate::clock::{NoWallClock, WallClock};

mod body;
mod error;
mod sealed;

use body::{BodyRef, EncryptingBody, digest_ciphertext};
pub use body::{BodySource, OutOfRange};
pub use error::{PutOutcome, UploadError};
use error::{field, xml_tag};
pub use osscse_core::url::Addressing;
pub use sealed::{SealError, SealedObject};

/// Size of the stack buffer the body is encrypted in, chunk by chunk.
pub const CHUNK_LEN: usize = 512;
/// Most headers one PUT carries (envelope, content type, digests, signing headers).
pub const MAX_HEADERS: usize = 20;
/// Longest OSS error code / request id kept in an [`UploadError::Oss`].
pub const MAX_ERROR_FIELD: usize = 64;

/// A fixed-capacity string for error fields.
pub type ErrorField = heapless::String<MAX_ERROR_FIELD>;

/// Adds a header; [`UploadError::TooManyHeaders`] when full.
macro_rules! push {
    ($headers:expr, $header:expr) => {
        $headers
            .push($header)
            .map_err(|_| UploadError::TooManyHeaders)
    };
}

/// Where objects go.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// `http://host[:port]` (or `https://` with the `tls` feature), without a path.
    pub endpoint: &'a str,
    /// The bucket.
    pub bucket: &'a str,
    /// The V4 signing region, e.g. `cn-hangzhou`.
    pub region: &'a str,
    /// URL style (IP and `localhost` endpoints always use path style).
    pub addressing: Addressing,
}

/// How a PUT commits to its body.
///
/// OSS checks `Content-MD5` on every PUT (400 `InvalidDigest`, nothing stored) and V4 signs it,
/// so a man in the middle can neither change the body (that would need an MD5 second preimage
/// of ciphertext the device chose) nor the header. OSS does **not** verify a payload SHA-256:
/// it refuses any `x-oss-content-sha256` but `UNSIGNED-PAYLOAD` (400 `InvalidArgument`, EC
/// 0002-00000214), so the SHA-256 form is only for S3-style gateways that check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayloadSigning {
    /// `Content-MD5` of the ciphertext (signed, checked by OSS);
    /// `x-oss-content-sha256: UNSIGNED-PAYLOAD`. The default.
    #[default]
    ContentMd5,
    /// `Content-MD5` and `x-oss-content-sha256` = SHA-256 of the ciphertext (both signed).
    /// **Alibaba Cloud OSS refuses this** (0002-00000214); for gateways that verify the hash.
    ContentMd5AndSha256,
    /// **`UNSIGNED-PAYLOAD` and no `Content-MD5`: anyone on the network path can rewrite the
    /// body undetected** (the signature still matches and the flipped ciphertext decrypts to
    /// flipped plaintext). One read of the source per attempt instead of two. Only for
    /// transports that already guarantee integrity end to end.
    UnsignedPayloadAlterableInTransit,
}

/// Uploads encrypted objects to one bucket over reqwless. `K` is the wall clock the TLS
/// connector checks certificate validity against ([`NoWallClock`] for plain HTTP).
pub struct Uploader<'a, T: TcpConnect + 'a, D: Dns + 'a, K: WallClock = NoWallClock> {
    tcp: &'a T,
    dns: &'a D,
    target: Target<'a>,
    credentials: &'a Credentials,
    payload: PayloadSigning,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::TlsConnector<'a, K>>,
    #[cfg(not(feature = "tls"))]
    clock: core::marker::PhantomData<K>,
}

impl<T: TcpConnect, D: Dns, K: WallClock> fmt::Debug for Uploader<'_, T, D, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Uploader")
            .field("target", &self.target)
            .field("credentials", self.credentials)
            .field("payload", &self.payload)
            .finish_non_exhaustive()
    }
}

impl<'a, T: TcpConnect + 'a, D: Dns + 'a> Uploader<'a, T, D> {
    /// An uploader over `tcp` and `dns` (plain HTTP), committing to each body with a signed
    /// `Content-MD5` ([`PayloadSigning::ContentMd5`]).
    pub fn new(tcp: &'a T, dns: &'a D, target: Target<'a>, credentials: &'a Credentials) -> Self {
        Self::unconnected(tcp, dns, target, credentials)
    }
}

impl<'a, T: TcpConnect + 'a, D: Dns + 'a, K: WallClock> Uploader<'a, T, D, K> {
    fn unconnected(
        tcp: &'a T,
        dns: &'a D,
        target: Target<'a>,
        credentials: &'a Credentials,
    ) -> Self {
        Self {
            tcp,
            dns,
            target,
            credentials,
            payload: PayloadSigning::default(),
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(not(feature = "tls"))]
            clock: core::marker::PhantomData,
        }
    }

    /// An uploader over HTTPS: `tls` decides how the server is verified and by which clock
    /// (see [`crate::tls`]); the endpoint must be `https://`.
    #[cfg(feature = "tls")]
    pub fn new_with_tls(
        tcp: &'a T,
        dns: &'a D,
        tls: crate::tls::TlsConnector<'a, K>,
        target: Target<'a>,
        credentials: &'a Credentials,
    ) -> Self {
        Self {
            tls: Some(tls),
            ..Self::unconnected(tcp, dns, target, credentials)
        }
    }

    /// The TLS connector, e.g. to [reseed](crate::tls::TlsConnector::reseed) it.
    #[cfg(feature = "tls")]
    pub fn tls_mut(&mut self) -> Option<&mut crate::tls::TlsConnector<'a, K>> {
        self.tls.as_mut()
    }

    /// Chooses how requests commit to their body (see [`PayloadSigning`]).
    #[must_use]
    pub fn with_payload_signing(mut self, payload: PayloadSigning) -> Self {
        self.payload = payload;
        self
    }

    /// How requests commit to their body.
    pub fn payload_signing(&self) -> PayloadSigning {
        self.payload
    }

    /// PUTs `object`'s ciphertext of `source` as `key`, signed (V4) at Unix time `now`.
    ///
    /// `rx_buf` receives the response head and an error body (1 KiB is plenty).
    /// On error, call again with the same `object` and an identical source to retry
    /// ([`UploadError::is_retryable`]).
    ///
    /// # Errors
    /// See [`UploadError`].
    pub async fn put<S: BodySource, B: LoadKey>(
        &mut self,
        key: &str,
        object: &SealedObject<B>,
        source: &mut S,
        content_type: Option<&str>,
        now: u64,
        rx_buf: &mut [u8],
    ) -> Result<PutOutcome, UploadError<S::Error>> {
        if source.len() != object.plaintext_len() {
            return Err(UploadError::LengthMismatch);
        }
        let len = usize::try_from(source.len()).map_err(|_| UploadError::TooLarge)?;
        let endpoint = Endpoint::parse(self.target.endpoint).map_err(UploadError::Url)?;
        if endpoint.https != self.uses_tls() {
            return Err(UploadError::SchemeMismatch);
        }
        let addressing = self.target.addressing;
        let host = endpoint
            .request_host(addressing, Some(self.target.bucket))
            .map_err(UploadError::Url)?;
        let path = endpoint.request_path(addressing, Some(self.target.bucket), Some(key), &[]);

        let (sha256, md5) = match self.payload {
            PayloadSigning::ContentMd5 => (false, true),
            PayloadSigning::ContentMd5AndSha256 => (true, true),
            PayloadSigning::UnsignedPayloadAlterableInTransit => (false, false),
        };
        let digests = if sha256 || md5 {
            digest_ciphertext(object, source, len, sha256, md5)
                .await
                .map_err(UploadError::Source)?
        } else {
            body::Digests::default()
        };

        let mut unsigned: heapless::Vec<(&str, &str), MAX_HEADERS> = heapless::Vec::new();
        if let Some(ct) = content_type {
            push!(unsigned, ("Content-Type", ct))?;
        }
        if let Some(m) = &digests.md5_base64 {
            push!(unsigned, ("Content-MD5", m.as_str()))?;
        }
        if let Some(h) = &digests.sha256_hex {
            push!(unsigned, (HEADER_CONTENT_SHA256, h.as_str()))?;
        }
        for (name, value) in object.envelope_headers() {
            push!(unsigned, (name, value.as_str()))?;
        }
        let request = Request {
            method: "PUT",
            bucket: Some(self.target.bucket),
            key: Some(key),
            query: &[],
            headers: &unsigned,
        };
        let signed = v4::sign_headers(
            &request,
            self.credentials,
            &v4::Params::new(self.target.region),
            now,
        )
        .map_err(UploadError::Sign)?;
        let mut headers: heapless::Vec<(&str, &str), MAX_HEADERS> = heapless::Vec::new();
        for &(name, value) in &unsigned {
            if !signed
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                push!(headers, (name, value))?;
            }
        }
        for (name, value) in &signed.headers {
            push!(headers, (name.as_str(), value.as_str()))?;
        }

        let body = EncryptingBody {
            source: Cell::new(Some(source)),
            object,
            len,
            error: Cell::new(None),
        };
        let exchange = Exchange {
            host: &host,
            path: &path,
            headers: &headers,
            body: &body,
        };
        crate::fmt::log_debug!("PUT {} ({} bytes)", key, len);

        let remote = self.resolve(&host, endpoint.port_or_default()).await?;
        let tcp = self
            .tcp
            .connect(remote)
            .await
            .map_err(|e| UploadError::Transport(reqwless::Error::Network(e.kind())))?;
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_mut() {
            let mut conn = tls.open(tcp, &host).await.map_err(UploadError::Tls)?;
            let result = exchange.run(&mut conn, rx_buf).await;
            // close_notify is a courtesy: the outcome is already known.
            let _ = conn.close().await;
            return result;
        }
        exchange.run(tcp, rx_buf).await
    }

    /// Whether requests go over TLS (`new_with_tls`).
    pub fn uses_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    async fn resolve<E>(&self, host: &str, port: u16) -> Result<SocketAddr, UploadError<E>> {
        let ip = self
            .dns
            .get_host_by_name(host, AddrType::Either)
            .await
            .map_err(|_| UploadError::Transport(reqwless::Error::Dns))?;
        Ok(SocketAddr::new(ip, port))
    }
}

/// One request/response on an open connection.
struct Exchange<'x, 's, S: BodySource, B: LoadKey> {
    host: &'x str,
    path: &'x str,
    headers: &'x [(&'x str, &'x str)],
    body: &'x EncryptingBody<'s, S, B>,
}

impl<S: BodySource, B: LoadKey> Exchange<'_, '_, S, B> {
    async fn run<C: Read + Write>(
        &self,
        conn: C,
        rx_buf: &mut [u8],
    ) -> Result<PutOutcome, UploadError<S::Error>> {
        let mut conn = HttpConnection::Plain(conn);
        let request = reqwless::request::Request::new(Method::PUT, self.path)
            .host(self.host)
            .headers(self.headers)
            .body(BodyRef(self.body))
            .build();
        let response = match conn.send(request, rx_buf).await {
            Ok(r) => r,
            Err(e) => {
                if let Some(source_error) = self.body.error.take() {
                    return Err(UploadError::Source(source_error));
                }
                crate::fmt::log_warn!("PUT {} failed in transport", self.path);
                return Err(UploadError::Transport(e));
            }
        };
        let status = response.status.0;
        let mut request_id = ErrorField::new();
        let mut etag = ErrorField::new();
        for (name, value) in response.headers() {
            let value = core::str::from_utf8(value).unwrap_or("");
            if name.eq_ignore_ascii_case("x-oss-request-id") {
                request_id = field(value);
            } else if name.eq_ignore_ascii_case("etag") {
                etag = field(value);
            }
        }
        if (200..300).contains(&status) {
            response
                .body()
                .discard()
                .await
                .map_err(UploadError::Transport)?;
            return Ok(PutOutcome {
                status,
                etag,
                request_id,
            });
        }
        let code = match response.body().read_to_end().await {
            Ok(bytes) => field(
                core::str::from_utf8(bytes)
                    .ok()
                    .and_then(|b| xml_tag(b, "<Code"))
                    .unwrap_or(""),
            ),
            Err(_) => ErrorField::new(),
        };
        crate::fmt::log_warn!(
            "PUT {} refused: HTTP {} {}",
            self.path,
            status,
            code.as_str()
        );
        Err(UploadError::Oss {
            status,
            code,
            request_id,
        })
    }
}
