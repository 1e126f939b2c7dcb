//! `EncryptionClient`: the SDK-v2-shaped encryption client over [`Client`].
//!
//! Writes AES-256-CTR ciphertext with the envelope as `x-oss-meta-client-side-encryption-*`
//! headers (byte-compatible with the official SDKs); reads pick the master key by semantic
//! matdesc, decrypt whole objects or any range (suffix ranges resolved by a HEAD first), and
//! pass plain objects through. Whole-object transfers are CRC-64 checked end to end.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use osscse_core::content::{ByteRange, ContentMaterial, MultipartPlan, RangePlan};
use osscse_core::envelope::{self, Envelope, ObjectEncryption};
use osscse_core::stream::CtrReader;
use serde::{Deserialize, Serialize};

use crate::client::{Body, Client, Replay, Request, Response};
use crate::crc64::{self, Crc64, CrcReader};
use crate::error::{Error, Result};
use crate::keys::Keyring;
use crate::local::PutOptions;
use crate::object::{ObjectInfo, VerifyingReader, from_io, material_for, plaintext_reader};
use crate::xml::{self, PartInfo};

/// Sent on ranged GETs so that OSS answers any satisfiable range with 206 (v2 SDK behaviour).
const RANGE_BEHAVIOR: (&str, &str) = ("x-oss-range-behavior", "standard");
/// Largest XML answer read.
const MAX_XML: u64 = 16 << 20;

/// Progress callback: called with the number of bytes just transferred.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Plaintext that can be read again from any offset (for retries and parallel parts).
pub trait PlainSource: Sync {
    /// Total length.
    fn len(&self) -> u64;
    /// Whether the source is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A reader over `len` bytes starting at `offset`.
    ///
    /// # Errors
    /// When the source cannot be opened or positioned.
    fn open_at(&self, offset: u64, len: u64) -> io::Result<Box<dyn Read + Send + '_>>;
}

impl PlainSource for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn open_at(&self, offset: u64, len: u64) -> io::Result<Box<dyn Read + Send + '_>> {
        let start = usize::try_from(offset)
            .map_err(io::Error::other)?
            .min(<[u8]>::len(self));
        let end = usize::try_from(offset.saturating_add(len))
            .map_err(io::Error::other)?
            .min(<[u8]>::len(self));
        Ok(Box::new(&self[start..end]))
    }
}

impl PlainSource for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn open_at(&self, offset: u64, len: u64) -> io::Result<Box<dyn Read + Send + '_>> {
        let start = usize::try_from(offset)
            .map_err(io::Error::other)?
            .min(self.as_slice().len());
        let end = usize::try_from(offset.saturating_add(len))
            .map_err(io::Error::other)?
            .min(self.as_slice().len());
        Ok(Box::new(&self[start..end]))
    }
}

/// A file as a [`PlainSource`] (its length is taken when created).
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
    len: u64,
}

impl FileSource {
    /// Opens `path` to learn its length.
    ///
    /// # Errors
    /// When the file cannot be inspected.
    pub fn new(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let len = std::fs::metadata(&path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
            .len();
        Ok(Self { path, len })
    }
}

impl PlainSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn open_at(&self, offset: u64, len: u64) -> io::Result<Box<dyn Read + Send + '_>> {
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(
            io::BufReader::with_capacity(256 * 1024, f).take(len),
        ))
    }
}

/// Ciphertext of `len` bytes at `offset` of a plaintext source: every `open` re-encrypts the
/// same plaintext under the same counters, so a retry sends byte-identical ciphertext (the
/// client also compares the CRC-64 of every attempt).
struct EncryptedRegion<'a> {
    source: &'a dyn PlainSource,
    material: &'a ContentMaterial,
    offset: u64,
    len: u64,
}

impl Replay for EncryptedRegion<'_> {
    fn len(&self) -> u64 {
        self.len
    }
    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        let plain = self.source.open_at(self.offset, self.len)?;
        Ok(Box::new(CtrReader::new(
            plain,
            self.material.keystream_at(self.offset),
        )))
    }
}

/// What a completed upload returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    /// ETag.
    pub etag: Option<String>,
    /// CRC-64 of the stored ciphertext (verified against OSS when it reported one).
    pub crc64: u64,
    /// Bytes stored.
    pub size: u64,
}

/// An object being read.
pub struct GetObject {
    /// The plaintext stream (range applied; verified at the end).
    pub reader: Box<dyn Read + Send>,
    /// Bytes the reader yields.
    pub len: u64,
    /// The object's metadata as the GET answer carried it (`size` is the whole object's when
    /// known).
    pub info: ObjectInfo,
    /// The plaintext range returned, inclusive, when a range was asked for.
    pub range: Option<(u64, u64)>,
}

impl std::fmt::Debug for GetObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetObject")
            .field("len", &self.len)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// The CSE context of a multipart upload: the envelope sent on Initiate and on every
/// UploadPart (identical strings), the data key material and the part layout.
pub struct MultipartContext {
    /// Bucket.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Envelope (with data size and part size).
    pub envelope: Envelope,
    /// Part layout.
    pub plan: MultipartPlan,
    headers: Vec<(&'static str, String)>,
    material: ContentMaterial,
}

impl std::fmt::Debug for MultipartContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultipartContext")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("upload_id", &self.upload_id)
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

/// Options of [`EncryptionClient::upload_file`].
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// Part size (rounded up to a multiple of 16 and to at least 100 KiB); chosen by size when
    /// unset.
    pub part_size: Option<u64>,
    /// Parallel part uploads (default 4).
    pub jobs: Option<usize>,
    /// Checkpoint file for resuming (holds the upload id and the wrapped envelope only).
    pub checkpoint: Option<PathBuf>,
    /// Envelope extras.
    pub put: PutOptions,
}

/// Options of [`EncryptionClient::download_file`].
#[derive(Debug, Clone, Default)]
pub struct DownloadOptions {
    /// Bytes per ranged GET (multiple of 16; default 8 MiB).
    pub chunk_size: Option<u64>,
    /// Parallel ranged GETs (default 4).
    pub jobs: Option<usize>,
}

/// The resumable state of an upload. It never holds the data key: only the wrapped envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version (1).
    pub version: u32,
    /// Bucket.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Source size when the upload began.
    pub source_size: u64,
    /// Source modification time (seconds since the epoch) when the upload began.
    pub source_mtime: u64,
    /// The envelope headers exactly as sent on Initiate (wrapped key and IV only).
    pub envelope: BTreeMap<String, String>,
}

impl Checkpoint {
    /// Reads a checkpoint file (`None` when absent).
    ///
    /// # Errors
    /// [`Error::Checkpoint`] for unreadable or malformed files.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let cp: Self = serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
                    path: path.into(),
                    reason: format!("not a checkpoint ({e})"),
                })?;
                if cp.version != 1 {
                    return Err(Error::Checkpoint {
                        path: path.into(),
                        reason: format!("version {}", cp.version),
                    });
                }
                Ok(Some(cp))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(
                format!("reading checkpoint {}", path.display()),
                e,
            )),
        }
    }

    /// Writes the checkpoint atomically.
    ///
    /// # Errors
    /// I/O errors.
    pub fn save(&self, path: &Path) -> Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new()
            .prefix(".osscse-checkpoint-")
            .tempfile_in(dir)
            .map_err(|e| Error::io(format!("writing checkpoint {}", path.display()), e))?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::Protocol(e.to_string()))?;
        tmp.write_all(&json)
            .map_err(|e| Error::io(format!("writing checkpoint {}", path.display()), e))?;
        tmp.persist(path)
            .map_err(|e| Error::io(format!("writing checkpoint {}", path.display()), e.error))?;
        Ok(())
    }

    /// The envelope it holds.
    ///
    /// # Errors
    /// When the stored headers are not a valid envelope.
    pub fn envelope(&self, path: &Path) -> Result<Envelope> {
        match envelope::parse(self.envelope.iter()).map_err(osscse_core::Error::from)? {
            ObjectEncryption::Envelope(e) => Ok(e),
            _ => Err(Error::Checkpoint {
                path: path.into(),
                reason: "holds no envelope".into(),
            }),
        }
    }
}

fn mtime_secs(path: &Path) -> u64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The OSS encryption client.
#[derive(Debug, Clone)]
pub struct EncryptionClient {
    client: Client,
    keys: Keyring,
}

impl EncryptionClient {
    /// An encryption client writing with `keys`' default key and reading with any of them.
    pub fn new(client: Client, keys: Keyring) -> Self {
        Self { client, keys }
    }

    /// The underlying (plain) client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The keyring.
    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    fn new_envelope(
        &self,
        opts: &PutOptions,
        len: Option<u64>,
    ) -> Result<(ContentMaterial, Envelope)> {
        let (material, mut envelope) = self.keys.seal_new()?;
        if opts.record_length {
            envelope.unencrypted_content_length = len;
        }
        envelope
            .unencrypted_content_md5
            .clone_from(&opts.unencrypted_md5);
        Ok((material, envelope))
    }

    fn put_with<'a>(
        &self,
        bucket: &'a str,
        key: &'a str,
        envelope: &Envelope,
        body: Body<'a>,
    ) -> Result<PutResult> {
        let mut req = Request::new("PUT", Some(bucket), Some(key)).body(body);
        for (n, v) in envelope.headers() {
            req = req.header(n, &v);
        }
        req = req.header("content-type", "application/octet-stream");
        let resp = self.client.send(req)?;
        let sent = resp.sent.unwrap_or_default();
        Ok(PutResult {
            etag: resp.header("etag").map(str::to_owned),
            crc64: sent.value(),
            size: sent.len(),
        })
    }

    /// Encrypts and uploads `len` bytes streamed from `source` (not retried once the body
    /// started: a stream cannot be replayed; use [`Self::put_source`] for retries).
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
        let (material, envelope) = self.new_envelope(opts, Some(len))?;
        let mut enc = CtrReader::new(source, material.keystream_at(0));
        self.put_with(
            bucket,
            key,
            &envelope,
            Body::Once {
                len,
                reader: &mut enc,
            },
        )
    }

    /// Encrypts and uploads a replayable source in one PutObject (retried with identical
    /// ciphertext).
    ///
    /// # Errors
    /// As [`Self::put_object`], plus [`Error::SourceChanged`].
    pub fn put_source(
        &self,
        bucket: &str,
        key: &str,
        source: &dyn PlainSource,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        let (material, envelope) = self.new_envelope(opts, Some(source.len()))?;
        let region = EncryptedRegion {
            source,
            material: &material,
            offset: 0,
            len: source.len(),
        };
        self.put_with(bucket, key, &envelope, Body::Replay(&region))
    }

    /// HEAD: size, CRC-64, ETag and the envelope.
    ///
    /// # Errors
    /// OSS errors (404 for a missing object), malformed envelope.
    pub fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectInfo> {
        let resp = self
            .client
            .send(Request::new("HEAD", Some(bucket), Some(key)))?;
        info_from(&resp, resp.content_length().unwrap_or(0))
    }

    /// GET the whole object or a range (`bytes=a-b`, `a-`, `-n`), decrypted. Whole objects are
    /// checked against `x-oss-hash-crc64ecma` and their length when the stream ends.
    ///
    /// # Errors
    /// OSS errors, key errors, an unsatisfiable range.
    pub fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject> {
        let Some(range) = range else {
            let resp = self
                .client
                .send(Request::new("GET", Some(bucket), Some(key)))?;
            let len = resp
                .content_length()
                .ok_or_else(|| Error::Protocol("GET answer without Content-Length".into()))?;
            let info = info_from(&resp, len)?;
            let material = material_for(&info.encryption, &self.keys)?;
            let crc = resp.crc64();
            let stored = VerifyingReader::new(resp.into_reader(), len, crc, "download");
            let reader = plaintext_reader(stored, material.as_ref(), 0, 0);
            return Ok(GetObject {
                reader,
                len,
                info,
                range: None,
            });
        };
        // The first byte must be absolute to align it: a suffix range needs the size first.
        let (first, last) = match range {
            ByteRange::Suffix { .. } => {
                let size = self.head_object(bucket, key)?.size;
                let (f, l) = range.resolve(size)?;
                (f, Some(l))
            }
            ByteRange::Bounded { first, last } => (first, Some(last)),
            ByteRange::From { first } => (first, None),
        };
        let aligned = first - first % 16;
        let header = match last {
            Some(l) => format!("bytes={aligned}-{l}"),
            None => format!("bytes={aligned}-"),
        };
        let resp = self.client.send(
            Request::new("GET", Some(bucket), Some(key))
                .header("range", &header)
                .header(RANGE_BEHAVIOR.0, RANGE_BEHAVIOR.1),
        )?;
        if resp.status != 206 {
            return Err(Error::Protocol(format!(
                "asked for {header} but OSS answered {} without a range; the object was not decrypted",
                resp.status
            )));
        }
        let (cr_first, cr_last, total) = parse_content_range(resp.header("content-range"))
            .ok_or_else(|| Error::Protocol("206 answer without a valid Content-Range".into()))?;
        if cr_first != aligned {
            return Err(Error::Protocol(format!(
                "asked for {header}, got bytes {cr_first}-{cr_last}"
            )));
        }
        let request_len = cr_last - cr_first + 1;
        let plan = RangePlan::new(first, cr_last)?;
        let info = info_from(&resp, total)?;
        let material = material_for(&info.encryption, &self.keys)?;
        let stored = VerifyingReader::new(resp.into_reader(), request_len, None, "ranged download");
        let reader = plaintext_reader(stored, material.as_ref(), aligned, plan.skip());
        Ok(GetObject {
            reader,
            len: plan.len(),
            info,
            range: Some((first, cr_last)),
        })
    }

    /// Reads a whole object or range into memory.
    ///
    /// # Errors
    /// As [`Self::get_object`], plus verification errors.
    pub fn get_object_bytes(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<Vec<u8>> {
        let mut obj = self.get_object(bucket, key, range)?;
        let mut out = Vec::with_capacity(usize::try_from(obj.len).unwrap_or(0).min(1 << 30));
        obj.reader
            .read_to_end(&mut out)
            .map_err(|e| from_io("downloading", e))?;
        Ok(out)
    }

    /// Starts an encrypted multipart upload of `data_size` bytes in parts of `part_size`.
    ///
    /// # Errors
    /// Planning errors (part size not a multiple of 16, too small, too many parts), OSS errors.
    pub fn initiate_multipart(
        &self,
        bucket: &str,
        key: &str,
        data_size: u64,
        part_size: u64,
        opts: &PutOptions,
    ) -> Result<MultipartContext> {
        let plan = MultipartPlan::new(data_size, part_size)?;
        let (material, mut envelope) = self.new_envelope(opts, None)?;
        envelope.data_size = (data_size > 0).then_some(data_size);
        envelope.part_size = Some(plan.part_size());
        let headers = envelope.headers();
        let mut req = Request::new("POST", Some(bucket), Some(key)).query("uploads", "");
        for (n, v) in &headers {
            req = req.header(n, v);
        }
        req = req.header("content-type", "application/octet-stream");
        let text = self.client.send(req)?.text(MAX_XML)?;
        let upload_id =
            xml::initiate_upload_id(&text).map_err(|e| Error::Protocol(e.to_string()))?;
        Ok(MultipartContext {
            bucket: bucket.into(),
            key: key.into(),
            upload_id,
            envelope,
            plan,
            headers,
            material,
        })
    }

    /// Rebuilds the context of an upload begun earlier from its envelope (needs a key that can
    /// unwrap it).
    ///
    /// # Errors
    /// Key errors, or an envelope without part size.
    pub fn resume_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        envelope: Envelope,
    ) -> Result<MultipartContext> {
        let part_size = envelope
            .part_size
            .ok_or_else(|| Error::Protocol("the upload's envelope has no part size".into()))?;
        let data_size = envelope.data_size.unwrap_or(0);
        let plan = MultipartPlan::new(data_size, part_size)?;
        let material = self.keys.open(&envelope)?;
        Ok(MultipartContext {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: upload_id.into(),
            headers: envelope.headers(),
            envelope,
            plan,
            material,
        })
    }

    /// Encrypts and uploads part `number` of `source` (the whole object's plaintext), sending
    /// the context's envelope headers; retried with identical ciphertext.
    ///
    /// # Errors
    /// Part number out of range, a source of the wrong size, OSS, CRC-64 mismatch.
    pub fn upload_part(
        &self,
        ctx: &MultipartContext,
        number: u32,
        source: &dyn PlainSource,
    ) -> Result<PartInfo> {
        if ctx.plan.data_size() != source.len() {
            return Err(Error::ShortSource {
                expected: ctx.plan.data_size(),
                actual: source.len(),
            });
        }
        let part = ctx.plan.part(number)?;
        let region = EncryptedRegion {
            source,
            material: &ctx.material,
            offset: part.offset,
            len: part.len,
        };
        let mut req = Request::new("PUT", Some(&ctx.bucket), Some(&ctx.key))
            .query("partNumber", &number.to_string())
            .query("uploadId", &ctx.upload_id)
            .body(Body::Replay(&region));
        for (n, v) in &ctx.headers {
            req = req.header(n, v);
        }
        let resp = self.client.send(req)?;
        let sent = resp.sent.unwrap_or_default();
        let etag = resp
            .header("etag")
            .map(str::to_owned)
            .ok_or_else(|| Error::Protocol("UploadPart answer without ETag".into()))?;
        Ok(PartInfo {
            part_number: number,
            etag,
            size: sent.len(),
            crc64: Some(sent.value()),
        })
    }

    /// The parts uploaded so far.
    ///
    /// # Errors
    /// OSS errors.
    pub fn list_parts(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Vec<PartInfo>> {
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut req = Request::new("GET", Some(bucket), Some(key)).query("uploadId", upload_id);
            if let Some(m) = &marker {
                req = req.query("part-number-marker", m);
            }
            let text = self.client.send(req)?.text(MAX_XML)?;
            let (parts, next) =
                xml::list_parts(&text).map_err(|e| Error::Protocol(e.to_string()))?;
            all.extend(parts);
            match next {
                Some(n) if Some(&n) != marker.as_ref() => marker = Some(n),
                _ => return Ok(all),
            }
        }
    }

    /// Completes the upload; when every part has a CRC-64 the combined value is checked
    /// against the object CRC OSS reports.
    ///
    /// # Errors
    /// OSS errors, CRC-64 mismatch.
    pub fn complete_multipart(
        &self,
        ctx: &MultipartContext,
        parts: &[PartInfo],
    ) -> Result<PutResult> {
        let mut parts = parts.to_vec();
        parts.sort_by_key(|p| p.part_number);
        let body = xml::complete_body(&parts);
        let mut req = Request::new("POST", Some(&ctx.bucket), Some(&ctx.key))
            .query("uploadId", &ctx.upload_id)
            .body(Body::Bytes(body.as_bytes()))
            .header("content-type", "application/xml");
        req.check_upload_crc = false;
        let resp = self.client.send(req)?;
        let combined = parts.iter().try_fold(0u64, |acc, p| {
            p.crc64.map(|c| crc64::combine(acc, c, p.size))
        });
        let size = parts.iter().map(|p| p.size).sum();
        if let (Some(client), Some(server)) = (combined, resp.crc64())
            && client != server
        {
            return Err(Error::CrcMismatch {
                what: "multipart object".into(),
                server,
                client,
            });
        }
        let etag = resp.header("etag").map(str::to_owned);
        let _ = resp.text(MAX_XML);
        Ok(PutResult {
            etag,
            crc64: combined.unwrap_or(0),
            size,
        })
    }

    /// Aborts the upload.
    ///
    /// # Errors
    /// OSS errors.
    pub fn abort_multipart(&self, ctx: &MultipartContext) -> Result<()> {
        self.client.send(
            Request::new("DELETE", Some(&ctx.bucket), Some(&ctx.key))
                .query("uploadId", &ctx.upload_id),
        )?;
        Ok(())
    }

    /// Uploads a file: one PutObject up to the part size, else a multipart upload with parts
    /// in parallel threads, resumable through `opts.checkpoint`.
    ///
    /// # Errors
    /// Any upload error; the checkpoint (if any) is kept so the upload can resume.
    pub fn upload_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        opts: &UploadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<PutResult> {
        let source = FileSource::new(path)?;
        let size = source.len();
        let part_size = match opts.part_size {
            Some(p) => MultipartPlan::choose(size, p).part_size(),
            None => MultipartPlan::choose(size, default_part_size(size)).part_size(),
        };
        if size <= part_size {
            let r = self.put_source(bucket, key, &source, &opts.put)?;
            if let Some(p) = progress {
                p(size);
            }
            return Ok(r);
        }
        let mtime = mtime_secs(path);
        let mut resumed: Option<(MultipartContext, Vec<PartInfo>)> = None;
        if let Some(cp_path) = &opts.checkpoint
            && let Some(cp) = Checkpoint::load(cp_path)?
        {
            if cp.bucket != bucket
                || cp.key != key
                || cp.source_size != size
                || cp.source_mtime != mtime
            {
                return Err(Error::Checkpoint {
                    path: cp_path.clone(),
                    reason: "it belongs to another upload or the source file changed".into(),
                });
            }
            let envelope = cp.envelope(cp_path)?;
            let ctx = self
                .resume_multipart(bucket, key, &cp.upload_id, envelope)
                .map_err(|e| Error::Checkpoint {
                    path: cp_path.clone(),
                    reason: format!(
                        "cannot reopen the upload's data key ({e}); pass the private key to resume"
                    ),
                })?;
            let done = self.list_parts(bucket, key, &cp.upload_id)?;
            resumed = Some((ctx, done));
        }
        let (ctx, done) = match resumed {
            Some(r) => r,
            None => {
                let ctx = self.initiate_multipart(bucket, key, size, part_size, &opts.put)?;
                if let Some(cp_path) = &opts.checkpoint {
                    Checkpoint {
                        version: 1,
                        bucket: bucket.into(),
                        key: key.into(),
                        upload_id: ctx.upload_id.clone(),
                        source_size: size,
                        source_mtime: mtime,
                        envelope: ctx
                            .headers
                            .iter()
                            .map(|(n, v)| ((*n).to_owned(), v.clone()))
                            .collect(),
                    }
                    .save(cp_path)?;
                }
                (ctx, Vec::new())
            }
        };
        let mut results: Vec<PartInfo> = Vec::new();
        let mut todo: Vec<u32> = Vec::new();
        for part in ctx.plan.parts() {
            match done
                .iter()
                .find(|p| p.part_number == part.number && p.size == part.len)
            {
                Some(p) => {
                    results.push(p.clone());
                    if let Some(cb) = progress {
                        cb(part.len);
                    }
                }
                None => todo.push(part.number),
            }
        }
        let uploaded = run_parallel(opts.jobs.unwrap_or(4), &todo, |n| {
            let info = self.upload_part(&ctx, n, &source)?;
            if let Some(cb) = progress {
                cb(info.size);
            }
            Ok(info)
        })?;
        results.extend(uploaded);
        let r = self.complete_multipart(&ctx, &results)?;
        if let Some(cp_path) = &opts.checkpoint {
            let _ = std::fs::remove_file(cp_path);
        }
        Ok(r)
    }

    /// Downloads an object into `dest` with parallel ranged GETs, each decrypted at its own
    /// offset; the length and the combined CRC-64 are checked before the temporary file is
    /// renamed to `dest`.
    ///
    /// # Errors
    /// OSS, key, truncation and CRC-64 errors (nothing is left at `dest` then).
    pub fn download_file(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
        opts: &DownloadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        let info = self.head_object(bucket, key)?;
        let material = material_for(&info.encryption, &self.keys)?;
        let size = info.size;
        let chunk = opts.chunk_size.unwrap_or(8 << 20).max(16).div_ceil(16) * 16;
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".osscse-download-")
            .tempfile_in(dir)
            .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
        tmp.as_file()
            .set_len(size)
            .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
        let count = size.div_ceil(chunk);
        let indexes: Vec<u32> = (0..u32::try_from(count)
            .map_err(|_| Error::Protocol("object too large".into()))?)
            .collect();
        let tmp_path = tmp.path().to_path_buf();
        let etag = info.etag.clone();
        let attempts = self.client.config().retry.max_attempts.max(1);
        let crcs = run_parallel(opts.jobs.unwrap_or(4), &indexes, |i| {
            let offset = u64::from(i) * chunk;
            let len = chunk.min(size - offset);
            let chunk_ref = Chunk {
                bucket,
                key,
                etag: etag.as_deref(),
                offset,
                len,
                size,
            };
            // A chunk cut short is fetched again whole (same offset, same bytes under If-Match),
            // so nothing is spliced from two versions of the object.
            let mut attempt = 1;
            let crc = loop {
                match self.fetch_chunk(&chunk_ref, material.as_ref(), &tmp_path) {
                    Ok(crc) => break crc,
                    Err(Error::Truncated { .. } | Error::Transport { .. } | Error::Io { .. })
                        if attempt < attempts =>
                    {
                        attempt += 1;
                    }
                    Err(e) => return Err(e),
                }
            };
            if let Some(cb) = progress {
                cb(len);
            }
            Ok(crc)
        })?;
        if size == 0 {
            // Nothing to fetch: still confirm the object is readable as a whole.
            let _ = self.get_object_bytes(bucket, key, None)?;
        }
        let combined = crcs.iter().fold(Crc64::new().value(), |acc, c| {
            crc64::combine(acc, c.value(), c.len())
        });
        let total: u64 = crcs.iter().map(Crc64::len).sum();
        if total != size {
            return Err(Error::Truncated {
                expected: size,
                actual: total,
            });
        }
        if let Some(server) = info.crc64
            && server != combined
        {
            return Err(Error::CrcMismatch {
                what: "download".into(),
                server,
                client: combined,
            });
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
        tmp.persist(dest)
            .map_err(|e| Error::io(format!("renaming into {}", dest.display()), e.error))?;
        Ok(size)
    }

    fn fetch_chunk(
        &self,
        c: &Chunk<'_>,
        material: Option<&ContentMaterial>,
        tmp_path: &Path,
    ) -> Result<Crc64> {
        let mut req = Request::new("GET", Some(c.bucket), Some(c.key))
            .header(
                "range",
                &format!("bytes={}-{}", c.offset, c.offset + c.len - 1),
            )
            .header(RANGE_BEHAVIOR.0, RANGE_BEHAVIOR.1);
        if let Some(etag) = c.etag {
            req = req.header("if-match", etag);
        }
        let resp = self.client.send(req)?;
        if resp.status != 206 && !(c.offset == 0 && c.len == c.size) {
            return Err(Error::Protocol(format!(
                "ranged GET answered {}",
                resp.status
            )));
        }
        let mut counted = CrcReader::new(VerifyingReader::new(
            resp.into_reader(),
            c.len,
            None,
            "ranged download",
        ));
        let mut out = OpenOptions::new()
            .write(true)
            .open(tmp_path)
            .map_err(|e| Error::io(format!("writing {}", tmp_path.display()), e))?;
        out.seek(SeekFrom::Start(c.offset))
            .map_err(|e| Error::io("seeking", e))?;
        let mut out = io::BufWriter::with_capacity(1 << 20, out);
        match material {
            Some(m) => io::copy(
                &mut CtrReader::new(&mut counted, m.keystream_at(c.offset)),
                &mut out,
            ),
            None => io::copy(&mut counted, &mut out),
        }
        .map_err(|e| from_io("downloading", e))?;
        out.flush()
            .map_err(|e| Error::io(format!("writing {}", tmp_path.display()), e))?;
        Ok(counted.crc())
    }

    /// Deletes an object (plain pass-through).
    ///
    /// # Errors
    /// OSS errors.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        self.client
            .send(Request::new("DELETE", Some(bucket), Some(key)))?;
        Ok(())
    }

    /// Lists objects under `prefix` (ListObjectsV2, all pages).
    ///
    /// # Errors
    /// OSS errors.
    pub fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<xml::ObjectEntry>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = Request::new("GET", Some(bucket), None)
                .query("list-type", "2")
                .query("prefix", prefix);
            if let Some(t) = &token {
                req = req.query("continuation-token", t);
            }
            let text = self.client.send(req)?.text(MAX_XML)?;
            let page = xml::list_objects(&text).map_err(|e| Error::Protocol(e.to_string()))?;
            out.extend(page.objects);
            match page.next_token {
                Some(t) if Some(&t) != token.as_ref() => token = Some(t),
                _ => return Ok(out),
            }
        }
    }
}

/// One ranged GET of [`EncryptionClient::download_file`].
struct Chunk<'a> {
    bucket: &'a str,
    key: &'a str,
    etag: Option<&'a str>,
    offset: u64,
    len: u64,
    size: u64,
}

/// The part size chosen for a file of `size` bytes: 8 MiB, larger as needed for 10,000 parts.
pub fn default_part_size(size: u64) -> u64 {
    let base = 8u64 << 20;
    if size / base > 1000 {
        size.div_ceil(1000).div_ceil(16) * 16
    } else {
        base
    }
}

fn info_from(resp: &Response, size: u64) -> Result<ObjectInfo> {
    let headers: Vec<(&str, &str)> = resp
        .headers
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
        .collect();
    ObjectInfo::from_headers(
        size,
        resp.crc64(),
        resp.header("etag").map(str::to_owned),
        resp.header("last-modified").map(str::to_owned),
        headers.iter().copied(),
    )
}

/// Parses `bytes a-b/total` (total may be `*`, then `b+1` is used).
fn parse_content_range(v: Option<&str>) -> Option<(u64, u64, u64)> {
    let rest = v?.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    if b < a {
        return None;
    }
    let total = if total.trim() == "*" {
        b + 1
    } else {
        total.trim().parse().ok()?
    };
    Some((a, b, total))
}

/// Runs `work` over `items` on up to `jobs` threads, stopping at the first error; results keep
/// the order of `items`.
fn run_parallel<T: Send>(
    jobs: usize,
    items: &[u32],
    work: impl Fn(u32) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicU32::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::with_capacity(items.len()));
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, 64).min(items.len().max(1)) {
            s.spawn(|| {
                loop {
                    if failed.load(Ordering::SeqCst) {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                    let Some(&item) = items.get(i) else { return };
                    match work(item) {
                        Ok(v) => results
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push((i, v)),
                        Err(e) => {
                            failed.store(true, Ordering::SeqCst);
                            first_error
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .get_or_insert(e);
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        return Err(e);
    }
    let mut r = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    r.sort_by_key(|(i, _)| *i);
    Ok(r.into_iter().map(|(_, v)| v).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range(Some("bytes 0-15/100")),
            Some((0, 15, 100))
        );
        assert_eq!(
            parse_content_range(Some("bytes 96-199/*")),
            Some((96, 199, 200))
        );
        assert_eq!(parse_content_range(Some("bytes 5-4/10")), None);
        assert_eq!(parse_content_range(Some("items 0-1/2")), None);
        assert_eq!(parse_content_range(None), None);
    }

    #[test]
    fn part_size_by_size() {
        assert_eq!(default_part_size(0), 8 << 20);
        assert_eq!(default_part_size(1 << 30), 8 << 20);
        let huge = 100u64 << 30;
        let p = default_part_size(huge);
        assert!(p.is_multiple_of(16) && huge.div_ceil(p) <= 1000);
    }

    #[test]
    fn parallel_runner_keeps_order_and_stops_on_error() {
        let items: Vec<u32> = (0..50).collect();
        let out = run_parallel(4, &items, |i| Ok(i * 2)).unwrap();
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let err = run_parallel(4, &items, |i| {
            if i == 7 {
                Err(Error::SourceChanged)
            } else {
                Ok(i)
            }
        });
        assert!(matches!(err, Err(Error::SourceChanged)));
        assert!(run_parallel(3, &[], Ok).unwrap().is_empty());
    }

    #[test]
    fn checkpoint_round_trip_holds_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cp.json");
        assert_eq!(Checkpoint::load(&path).unwrap(), None);
        let cp = Checkpoint {
            version: 1,
            bucket: "b".into(),
            key: "k".into(),
            upload_id: "UP".into(),
            source_size: 10,
            source_mtime: 5,
            envelope: [(
                "x-oss-meta-client-side-encryption-key".to_owned(),
                "AAAA".to_owned(),
            )]
            .into_iter()
            .collect(),
        };
        cp.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), Some(cp));
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            Checkpoint::load(&path),
            Err(Error::Checkpoint { .. })
        ));
    }
}
