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
//! * Every failure is an [`UploadError`]: DNS/TCP/HTTP transport, the body source, or the OSS
//!   error code, message-free but with the HTTP status and `x-oss-request-id`.
//!
//! Transport: anything implementing `embedded_nal_async::{TcpConnect, Dns}` (embassy-net on a
//! device, `std-embedded-nal-async` in the host tests). Plain HTTP by default; the `tls` feature
//! enables reqwless's embedded-tls, which **cannot verify server certificates on no_std**.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;

use embedded_io_async::Write;
use embedded_nal_async::{Dns, TcpConnect};
use osscse_core::content::ContentMaterial;
use osscse_core::envelope::Envelope;
use osscse_core::sign::{Credentials, Request, uri_encode, v4};
use osscse_core::wrap::{self, MasterKey};
use rand_core::TryCryptoRng;
use reqwless::client::HttpClient;
use reqwless::request::{Method, RequestBody, RequestBuilder};
use zeroize::Zeroize;

use crate::keys::{Capture, IvPrefix, KeyGenError, generate_material};

/// Size of the stack buffer the body is encrypted in, chunk by chunk.
pub const CHUNK_LEN: usize = 512;
/// Most headers one PUT carries (envelope, content type, signing headers).
pub const MAX_HEADERS: usize = 16;
/// Longest OSS error code / request id kept in an [`UploadError::Oss`].
pub const MAX_ERROR_FIELD: usize = 64;

/// A fixed-capacity string for error fields.
pub type ErrorField = heapless::String<MAX_ERROR_FIELD>;

/// The plaintext of one object: a known length and random access to its bytes.
///
/// A retry reads the same range again, so the source must return the same bytes every time.
#[allow(async_fn_in_trait)]
pub trait BodySource {
    /// Why the bytes could not be read (e.g. a flash error).
    type Error: fmt::Debug;

    /// The plaintext length in bytes.
    fn len(&self) -> u64;

    /// Whether the object is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills all of `buf` with the plaintext bytes at `offset` (`offset + buf.len() <= len()`).
    ///
    /// # Errors
    /// The source's own error; the upload is then aborted with [`UploadError::Source`].
    async fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Self::Error>;
}

/// A source reads past its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange;

impl BodySource for &[u8] {
    type Error = OutOfRange;

    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    async fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), OutOfRange> {
        let start = usize::try_from(offset).map_err(|_| OutOfRange)?;
        let end = start.checked_add(buf.len()).ok_or(OutOfRange)?;
        buf.copy_from_slice(self.get(start..end).ok_or(OutOfRange)?);
        Ok(())
    }
}

/// How bucket and key appear in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `http://endpoint/bucket/key` (IP endpoints, local servers).
    PathStyle,
    /// `http://bucket.endpoint/key` (the OSS default).
    VirtualHosted,
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
    /// URL style.
    pub addressing: Addressing,
}

/// The CSE envelope and content material of one object, reusable for retries.
pub struct SealedObject {
    material: ContentMaterial,
    envelope: Envelope,
    headers: Vec<(&'static str, String)>,
}

impl fmt::Debug for SealedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedObject")
            .field("envelope", &self.envelope)
            .finish_non_exhaustive()
    }
}

/// Why an object could not be sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError<E> {
    /// No data key, or no RSA padding: the DRBG (or its health-tested source) failed, or its
    /// output was stuck.
    KeyGen(KeyGenError<E>),
    /// The master key could not wrap the data key or IV.
    Wrap(osscse_core::Error),
}

impl<E: fmt::Display> fmt::Display for SealError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyGen(e) => e.fmt(f),
            Self::Wrap(e) => write!(f, "cannot wrap the data key: {e}"),
        }
    }
}

impl<E: core::error::Error> core::error::Error for SealError<E> {}

impl SealedObject {
    /// Generates the data key and IV from `rng` (IV bytes 0..8 from `prefix` when given) and
    /// wraps them with `master_key`. Records `plaintext_len` as
    /// `x-oss-meta-client-side-encryption-unencrypted-content-length`.
    ///
    /// # Errors
    /// [`SealError::KeyGen`] when the DRBG fails (e.g. a latched health-test failure),
    /// [`SealError::Wrap`] when wrapping fails. Nothing is sealed then.
    pub fn new<K, R>(
        master_key: &K,
        rng: &mut R,
        prefix: Option<IvPrefix>,
        plaintext_len: u64,
    ) -> Result<Self, SealError<R::Error>>
    where
        K: MasterKey<Error = osscse_core::Error> + ?Sized,
        R: TryCryptoRng,
    {
        let material = generate_material(rng, prefix).map_err(SealError::KeyGen)?;
        // The RSA padding draws from the DRBG too: keep its error if that is what failed.
        let mut capture = Capture { rng, error: None };
        let mut envelope = match wrap::seal(master_key, &material, &mut capture) {
            Ok(e) => e,
            Err(e) => {
                return Err(match capture.error.take() {
                    Some(rng_error) => SealError::KeyGen(KeyGenError::Rng(rng_error)),
                    None => SealError::Wrap(e),
                });
            }
        };
        envelope.unencrypted_content_length = Some(plaintext_len);
        let headers = envelope.headers();
        Ok(Self {
            material,
            envelope,
            headers,
        })
    }

    /// The envelope (wrapped key and IV, algorithms, plaintext length).
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The plaintext length recorded in the envelope.
    pub fn plaintext_len(&self) -> u64 {
        self.envelope.unencrypted_content_length.unwrap_or(0)
    }

    /// The envelope as request headers (`x-oss-meta-client-side-encryption-*`), canonical values.
    pub fn envelope_headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// Encrypts `buf` in place as the plaintext bytes at `offset` of this object (for callers
    /// that send the body themselves; [`Uploader::put`] does this while streaming).
    pub fn encrypt_at(&self, offset: u64, buf: &mut [u8]) {
        self.material.apply_at(offset, buf);
    }
}

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
    /// More than [`MAX_HEADERS`] headers would be needed (a long matdesc or many extras).
    TooManyHeaders,
}

impl<E> UploadError<E> {
    /// Whether retrying with the same [`SealedObject`] may succeed: transport failures,
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
}

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

/// The streaming request body: reads plaintext, encrypts it chunk by chunk, writes ciphertext.
struct EncryptingBody<'s, S: BodySource> {
    source: Cell<Option<&'s mut S>>,
    material: &'s ContentMaterial,
    len: usize,
    error: Cell<Option<S::Error>>,
}

/// reqwless takes the body by value; the state stays with the uploader to read the source error.
struct BodyRef<'b, 's, S: BodySource>(&'b EncryptingBody<'s, S>);

impl<S: BodySource> RequestBody for BodyRef<'_, '_, S> {
    fn len(&self) -> Option<usize> {
        Some(self.0.len)
    }

    async fn write<W: Write>(&self, writer: &mut W) -> Result<(), W::Error> {
        self.0.write(writer).await
    }
}

impl<S: BodySource> EncryptingBody<'_, S> {
    async fn write<W: Write>(&self, writer: &mut W) -> Result<(), W::Error> {
        let Some(source) = self.source.take() else {
            return Ok(());
        };
        let mut keystream = self.material.keystream_at(0);
        let mut buf = [0u8; CHUNK_LEN];
        let mut offset = 0usize;
        let mut result = Ok(());
        while offset < self.len {
            let n = CHUNK_LEN.min(self.len - offset);
            let chunk = &mut buf[..n];
            if let Err(e) = source.read_at(offset as u64, chunk).await {
                // Writing fewer bytes than Content-Length makes reqwless abort the request
                // (IncorrectBodyWritten); the error itself is reported from here.
                self.error.set(Some(e));
                break;
            }
            keystream.apply(chunk);
            if let Err(e) = writer.write_all(chunk).await {
                result = Err(e);
                break;
            }
            offset += n;
        }
        buf.zeroize();
        self.source.set(Some(source));
        result
    }
}

fn field(text: &str) -> ErrorField {
    let mut s = ErrorField::new();
    for c in text.chars() {
        if s.push(c).is_err() {
            break;
        }
    }
    s
}

/// The text between `<tag>` and `</tag>` in a small XML error body.
fn xml_tag<'b>(body: &'b str, tag: &str) -> Option<&'b str> {
    let open = body.find(tag)?;
    let start = open + tag.len();
    let rest = body.get(start..)?;
    let rest = rest.strip_prefix('>')?;
    let end = rest.find("</")?;
    rest.get(..end)
}

/// Uploads encrypted objects to one bucket over reqwless.
pub struct Uploader<'a, T: TcpConnect + 'a, D: Dns + 'a> {
    client: HttpClient<'a, T, D>,
    target: Target<'a>,
    credentials: &'a Credentials,
}

impl<T: TcpConnect, D: Dns> fmt::Debug for Uploader<'_, T, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Uploader")
            .field("target", &self.target)
            .field("credentials", self.credentials)
            .finish_non_exhaustive()
    }
}

impl<'a, T: TcpConnect + 'a, D: Dns + 'a> Uploader<'a, T, D> {
    /// An uploader over `tcp` and `dns` (plain HTTP).
    pub fn new(tcp: &'a T, dns: &'a D, target: Target<'a>, credentials: &'a Credentials) -> Self {
        Self {
            client: HttpClient::new(tcp, dns),
            target,
            credentials,
        }
    }

    /// An uploader over TLS 1.3 (embedded-tls). **The server certificate is not verified on
    /// no_std** (reqwless#103): an active attacker can impersonate OSS. The object stays
    /// encrypted, but the credentials' signature and metadata are exposed to them.
    #[cfg(feature = "tls")]
    pub fn new_with_tls(
        tcp: &'a T,
        dns: &'a D,
        tls: reqwless::client::TlsConfig<'a>,
        target: Target<'a>,
        credentials: &'a Credentials,
    ) -> Self {
        Self {
            client: HttpClient::new_with_tls(tcp, dns, tls),
            target,
            credentials,
        }
    }

    /// The request URL of `key`.
    fn url(&self, key: &str) -> String {
        let path = uri_encode(key, true);
        match self.target.addressing {
            Addressing::PathStyle => {
                alloc::format!("{}/{}/{}", self.target.endpoint, self.target.bucket, path)
            }
            Addressing::VirtualHosted => {
                let (scheme, host) = self
                    .target
                    .endpoint
                    .split_once("://")
                    .unwrap_or(("http", self.target.endpoint));
                alloc::format!("{scheme}://{}.{host}/{path}", self.target.bucket)
            }
        }
    }

    /// PUTs `object`'s ciphertext of `source` as `key`, signed (V4) at Unix time `now`.
    ///
    /// `rx_buf` receives the response head and an error body (1 KiB is plenty).
    /// On error, call again with the same `object` and an identical source to retry
    /// ([`UploadError::is_retryable`]).
    ///
    /// # Errors
    /// See [`UploadError`].
    pub async fn put<S: BodySource>(
        &mut self,
        key: &str,
        object: &SealedObject,
        source: &mut S,
        content_type: Option<&str>,
        now: u64,
        rx_buf: &mut [u8],
    ) -> Result<PutOutcome, UploadError<S::Error>> {
        if source.len() != object.plaintext_len() {
            return Err(UploadError::LengthMismatch);
        }
        let len = usize::try_from(source.len()).map_err(|_| UploadError::TooLarge)?;

        let mut unsigned: heapless::Vec<(&str, &str), MAX_HEADERS> = heapless::Vec::new();
        if let Some(ct) = content_type {
            unsigned
                .push(("Content-Type", ct))
                .map_err(|_| UploadError::TooManyHeaders)?;
        }
        for (name, value) in &object.headers {
            unsigned
                .push((name, value.as_str()))
                .map_err(|_| UploadError::TooManyHeaders)?;
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
        let mut headers = unsigned.clone();
        for (name, value) in &signed.headers {
            headers
                .push((name.as_str(), value.as_str()))
                .map_err(|_| UploadError::TooManyHeaders)?;
        }

        let url = self.url(key);
        let body = EncryptingBody {
            source: Cell::new(Some(source)),
            material: &object.material,
            len,
            error: Cell::new(None),
        };
        crate::fmt::log_debug!("PUT {} ({} bytes)", key, len);
        let mut handle = self
            .client
            .request(Method::PUT, &url)
            .await
            .map_err(UploadError::Transport)?
            .headers(&headers)
            .body(BodyRef(&body));
        let response = match handle.send(rx_buf).await {
            Ok(r) => r,
            Err(e) => {
                if let Some(source_error) = body.error.take() {
                    return Err(UploadError::Source(source_error));
                }
                crate::fmt::log_warn!("PUT {} failed in transport", key);
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
        crate::fmt::log_warn!("PUT {} refused: HTTP {} {}", key, status, code.as_str());
        Err(UploadError::Oss {
            status,
            code,
            request_id,
        })
    }
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
