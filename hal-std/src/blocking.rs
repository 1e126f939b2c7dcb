//! The blocking facade: the same clients driving the async ones on a runtime of their own (as
//! `reqwest::blocking` does), for threads and programs without an async runtime. There is one
//! implementation: every method here is the async method run to completion.
//!
//! Do not call these from inside an async runtime (they block the thread; tokio refuses).

use std::fmt;
use std::future::Future;
use std::io::{self, Read};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::StreamExt;
use osscse_core::content::ByteRange;
use osscse_core::envelope::Envelope;
use osscse_core::sign::Credentials;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::runtime::Runtime;

use crate::client::{ClientConfig, Request};
use crate::crc64::Crc64;
use crate::encryption::{
    self, DownloadOptions, MultipartContext, PlainSource, Progress, PutResult, UploadOptions,
};
use crate::error::{Error, Result};
use crate::keys::Keyring;
use crate::local::PutOptions;
use crate::object::ObjectInfo;
use crate::transport::ResponseStream;
use crate::xml::{ObjectEntry, PartInfo};

/// The runtime a blocking client drives its async client on (shared by its clones).
#[derive(Clone)]
struct Rt(Arc<Runtime>);

impl fmt::Debug for Rt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Runtime")
    }
}

impl Rt {
    fn new() -> Result<Self> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("osscse-blocking")
            .enable_all()
            .build()
            .map(|r| Self(Arc::new(r)))
            .map_err(|e| Error::io("starting the blocking client's runtime", e))
    }

    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
}

/// The blocking OSS client (see [`crate::Client`]).
#[derive(Debug, Clone)]
pub struct Client {
    inner: crate::Client,
    rt: Rt,
}

impl Client {
    /// A client for `config` with `credentials`.
    ///
    /// # Errors
    /// As [`crate::Client::new`], or when the runtime cannot start.
    pub fn new(config: ClientConfig, credentials: Credentials) -> Result<Self> {
        let rt = Rt::new()?;
        let inner = {
            let _guard = rt.0.enter();
            crate::Client::new(config, credentials)?
        };
        Ok(Self { inner, rt })
    }

    /// The async client it drives.
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        self.inner.config()
    }

    /// A presigned URL (see [`crate::Client::presign`]).
    ///
    /// # Errors
    /// Signing errors.
    pub fn presign(
        &self,
        method: &'static str,
        bucket: &str,
        key: &str,
        expires_in: u64,
    ) -> Result<String> {
        self.inner.presign(method, bucket, key, expires_in)
    }

    /// Sends `req` (see [`crate::Client::send`]).
    ///
    /// # Errors
    /// As [`crate::Client::send`].
    pub fn send(&self, req: Request<'_>) -> Result<Response> {
        let mut r = self.rt.block_on(self.inner.send(req))?;
        Ok(Response {
            status: r.status,
            headers: std::mem::take(&mut r.headers),
            sent: r.sent,
            body: r.into_stream(),
            rt: self.rt.clone(),
        })
    }
}

/// A successful answer of the blocking client, body not yet read.
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// CRC-64 (and length) of the body sent, when there was one.
    pub sent: Option<Crc64>,
    body: ResponseStream,
    rt: Rt,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
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
        self.header(crate::crc64::HEADER_CRC64)
            .and_then(crate::crc64::parse_header)
    }

    /// `Content-Length`, when present.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// The body as a blocking reader.
    pub fn into_reader(self) -> impl Read + Send + 'static {
        StreamRead {
            body: self.body,
            pending: bytes::Bytes::new(),
            rt: self.rt,
        }
    }

    /// Reads a small text body, at most `limit` bytes.
    ///
    /// # Errors
    /// When reading fails or the body is longer than `limit`.
    pub fn text(self, limit: u64) -> Result<String> {
        let rt = self.rt.clone();
        let bytes = rt.block_on(crate::client::read_limited(self.body, limit))?;
        String::from_utf8(bytes).map_err(|_| Error::Protocol("the answer is not UTF-8".into()))
    }
}

struct StreamRead {
    body: ResponseStream,
    pending: bytes::Bytes,
    rt: Rt,
}

impl Read for StreamRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            match self.rt.block_on(self.body.next()) {
                Some(Ok(b)) => self.pending = b,
                Some(Err(e)) => return Err(io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        bytes::Buf::advance(&mut self.pending, n);
        Ok(n)
    }
}

/// A blocking reader over an async one, driven on the client's runtime.
struct BlockingRead {
    inner: Pin<Box<dyn AsyncRead + Send>>,
    rt: Rt,
}

impl Read for BlockingRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let inner = &mut self.inner;
        self.rt.block_on(inner.read(buf))
    }
}

/// An object being read through the blocking client.
pub struct GetObject {
    /// The plaintext stream (range applied; verified at the end).
    pub reader: Box<dyn Read + Send>,
    /// Bytes the reader yields.
    pub len: u64,
    /// The object's metadata as the GET answer carried it.
    pub info: ObjectInfo,
    /// The plaintext range returned, inclusive, when a range was asked for.
    pub range: Option<(u64, u64)>,
}

impl fmt::Debug for GetObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetObject")
            .field("len", &self.len)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// The blocking encryption client (see [`crate::encryption::EncryptionClient`]).
#[derive(Debug, Clone)]
pub struct EncryptionClient {
    inner: encryption::EncryptionClient,
    client: Client,
}

impl EncryptionClient {
    /// An encryption client writing with `keys`' default key and reading with any of them.
    pub fn new(client: Client, keys: Keyring) -> Self {
        Self {
            inner: encryption::EncryptionClient::new(client.inner.clone(), keys),
            client,
        }
    }

    /// The async client it drives.
    pub fn as_async(&self) -> &encryption::EncryptionClient {
        &self.inner
    }

    /// The underlying (plain) blocking client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The keyring.
    pub fn keys(&self) -> &Keyring {
        self.inner.keys()
    }

    fn run<F: Future>(&self, f: F) -> F::Output {
        self.client.rt.block_on(f)
    }

    /// See [`encryption::EncryptionClient::put_object`] (here from a blocking reader).
    ///
    /// # Errors
    /// Transport, OSS, CRC-64 mismatch, short source.
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        source: &mut (dyn Read + Send),
        len: u64,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        self.run(
            self.inner
                .put_object_blocking_reader(bucket, key, source, len, opts),
        )
    }

    /// See [`encryption::EncryptionClient::put_source`].
    ///
    /// # Errors
    /// As the async method.
    pub fn put_source(
        &self,
        bucket: &str,
        key: &str,
        source: &dyn PlainSource,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        self.run(self.inner.put_source(bucket, key, source, opts))
    }

    /// See [`encryption::EncryptionClient::put_stream`]: a stream of unknown length as a
    /// multipart upload, one part in memory at a time. `source` is polled on this client's
    /// runtime.
    ///
    /// # Errors
    /// As the async method.
    pub fn put_stream(
        &self,
        bucket: &str,
        key: &str,
        source: &mut (dyn AsyncRead + Send + Unpin),
        part_size: u64,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        self.run(self.inner.put_stream(bucket, key, source, part_size, opts))
    }

    /// See [`encryption::EncryptionClient::head_object`].
    ///
    /// # Errors
    /// As the async method.
    pub fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectInfo> {
        self.run(self.inner.head_object(bucket, key))
    }

    /// See [`encryption::EncryptionClient::get_object`]; the reader blocks.
    ///
    /// # Errors
    /// As the async method.
    pub fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject> {
        let o = self.run(self.inner.get_object(bucket, key, range))?;
        Ok(GetObject {
            reader: Box::new(BlockingRead {
                inner: o.reader,
                rt: self.client.rt.clone(),
            }),
            len: o.len,
            info: o.info,
            range: o.range,
        })
    }

    /// See [`encryption::EncryptionClient::get_object_bytes`].
    ///
    /// # Errors
    /// As the async method.
    pub fn get_object_bytes(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<Vec<u8>> {
        self.run(self.inner.get_object_bytes(bucket, key, range))
    }

    /// See [`encryption::EncryptionClient::initiate_multipart`].
    ///
    /// # Errors
    /// As the async method.
    pub fn initiate_multipart(
        &self,
        bucket: &str,
        key: &str,
        data_size: u64,
        part_size: u64,
        opts: &PutOptions,
    ) -> Result<MultipartContext> {
        self.run(
            self.inner
                .initiate_multipart(bucket, key, data_size, part_size, opts),
        )
    }

    /// See [`encryption::EncryptionClient::resume_multipart`].
    ///
    /// # Errors
    /// As the async method.
    pub fn resume_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        envelope: Envelope,
    ) -> Result<MultipartContext> {
        self.inner
            .resume_multipart(bucket, key, upload_id, envelope)
    }

    /// See [`encryption::EncryptionClient::upload_part`].
    ///
    /// # Errors
    /// As the async method.
    pub fn upload_part(
        &self,
        ctx: &MultipartContext,
        number: u32,
        source: &dyn PlainSource,
    ) -> Result<PartInfo> {
        self.run(self.inner.upload_part(ctx, number, source))
    }

    /// See [`encryption::EncryptionClient::list_parts`].
    ///
    /// # Errors
    /// As the async method.
    pub fn list_parts(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Vec<PartInfo>> {
        self.run(self.inner.list_parts(bucket, key, upload_id))
    }

    /// See [`encryption::EncryptionClient::complete_multipart`].
    ///
    /// # Errors
    /// As the async method.
    pub fn complete_multipart(
        &self,
        ctx: &MultipartContext,
        parts: &[PartInfo],
    ) -> Result<PutResult> {
        self.run(self.inner.complete_multipart(ctx, parts))
    }

    /// See [`encryption::EncryptionClient::abort_multipart`].
    ///
    /// # Errors
    /// As the async method.
    pub fn abort_multipart(&self, ctx: &MultipartContext) -> Result<()> {
        self.run(self.inner.abort_multipart(ctx))
    }

    /// See [`encryption::EncryptionClient::upload_file`].
    ///
    /// # Errors
    /// As the async method.
    pub fn upload_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        opts: &UploadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<PutResult> {
        self.run(self.inner.upload_file(bucket, key, path, opts, progress))
    }

    /// See [`encryption::EncryptionClient::download_file`].
    ///
    /// # Errors
    /// As the async method.
    pub fn download_file(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
        opts: &DownloadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        self.run(self.inner.download_file(bucket, key, dest, opts, progress))
    }

    /// See [`encryption::EncryptionClient::delete_object`].
    ///
    /// # Errors
    /// As the async method.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        self.run(self.inner.delete_object(bucket, key))
    }

    /// See [`encryption::EncryptionClient::list_objects`].
    ///
    /// # Errors
    /// As the async method.
    pub fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectEntry>> {
        self.run(self.inner.list_objects(bucket, prefix))
    }
}
