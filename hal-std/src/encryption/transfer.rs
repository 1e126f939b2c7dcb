//! File transfers: `upload_file` (one PutObject, or multipart with parts in flight at once,
//! resumable through a checkpoint) and `download_file` (ranged GETs in flight at once into a
//! temporary file renamed only after verification). Concurrency is a number of futures in
//! flight on the caller's task, not threads; dropping the future leaves the files as they were.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt, stream};
use osscse_core::content::{ContentMaterial, MultipartPlan};

use super::checkpoint::{Checkpoint, mtime_secs};
use super::object::parse_content_range;
use super::reader::PlainReader;
use super::source::{EncryptedRegion, FileSource, PlainSource};
use super::{
    DownloadOptions, EncryptionClient, MultipartContext, Progress, PutResult, RANGE_BEHAVIOR,
    UploadOptions,
};
use crate::client::Request;
use crate::crc64::{self, Crc64};
use crate::error::{Error, Result};
use crate::object::from_io;
use crate::xml::PartInfo;

/// The part size chosen for a file of `size` bytes: 8 MiB, larger as needed for 10,000 parts.
pub fn default_part_size(size: u64) -> u64 {
    let base = 8u64 << 20;
    if size / base > 1000 {
        size.div_ceil(1000).div_ceil(16) * 16
    } else {
        base
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

impl EncryptionClient {
    /// Uploads a file: one PutObject up to the part size, else a multipart upload with parts
    /// in flight at once, resumable through `opts.checkpoint`. On resume every part the
    /// server lists is re-encrypted locally and its CRC-64 compared with the server's: one
    /// mismatch (the file changed, even with the same size and mtime) restarts the upload.
    ///
    /// # Errors
    /// Any upload error; the checkpoint (if any) is kept so the upload can resume, and
    /// without a checkpoint the multipart upload is aborted.
    pub async fn upload_file(
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
            let r = self.put_source(bucket, key, &source, &opts.put).await?;
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
            let done = self.list_parts(bucket, key, &cp.upload_id).await?;
            if parts_match(&ctx, &done, &source)? {
                resumed = Some((ctx, done));
            } else {
                // The file is not what the parts were made of: start over.
                let _ = self.abort_multipart(&ctx).await;
            }
        }
        let (ctx, done) = match resumed {
            Some(r) => r,
            None => {
                let ctx = self
                    .initiate_multipart(bucket, key, size, part_size, &opts.put)
                    .await?;
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
        let ctx = Arc::new(ctx);
        let r = self
            .upload_parts(&ctx, &done, &source, opts, progress)
            .await;
        match r {
            Ok(r) => {
                if let Some(cp_path) = &opts.checkpoint {
                    let _ = std::fs::remove_file(cp_path);
                }
                Ok(r)
            }
            Err(e) => {
                if opts.checkpoint.is_none() {
                    // Nothing can resume it: do not leave the upload (and its storage) open.
                    let _ = self.abort_multipart(&ctx).await;
                }
                Err(e)
            }
        }
    }

    async fn upload_parts(
        &self,
        ctx: &Arc<MultipartContext>,
        done: &[PartInfo],
        source: &FileSource,
        opts: &UploadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<PutResult> {
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
        let jobs = opts.jobs.unwrap_or(4).clamp(1, 64);
        // One task per part, at most `jobs` alive: the parts' digest pass, encryption and
        // CRC-64 then run on all of the runtime's workers, not on the one thread that polls
        // this future. Dropping this future drops the set, which aborts the parts in flight.
        let mut tasks = tokio::task::JoinSet::new();
        let mut todo = todo.into_iter();
        let mut uploaded: Vec<PartInfo> = Vec::new();
        loop {
            while tasks.len() < jobs
                && let Some(n) = todo.next()
            {
                let (this, ctx, source) = (self.clone(), Arc::clone(ctx), source.clone());
                tasks.spawn(async move { this.upload_part(&ctx, n, &source).await });
            }
            let info = match tasks.join_next().await {
                None => break,
                Some(Ok(part)) => part?,
                Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Some(Err(_)) => {
                    return Err(Error::io(
                        "uploading a part",
                        std::io::Error::other("the tokio runtime is shutting down"),
                    ));
                }
            };
            if let Some(cb) = progress {
                cb(info.size);
            }
            uploaded.push(info);
        }
        results.extend(uploaded);
        self.complete_multipart(ctx, &results).await
    }

    /// Downloads an object into `dest` with ranged GETs in flight at once, each decrypted at
    /// its own offset; the length and the combined CRC-64 are checked before the temporary
    /// file is renamed to `dest`.
    ///
    /// # Errors
    /// OSS, key, truncation and CRC-64 errors (nothing is left at `dest` then).
    pub async fn download_file(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
        opts: &DownloadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        let info = self.head_object(bucket, key).await?;
        let material = self.material(&info).await?;
        let size = info.size;
        let chunk = opts.chunk_size.unwrap_or(8 << 20).max(16).div_ceil(16) * 16;
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // Removed on drop: a failed or cancelled download leaves `dest` as it was.
        let tmp = tempfile::Builder::new()
            .prefix(".osscse-download-")
            .tempfile_in(dir)
            .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
        let tmp_path = tmp.path().to_path_buf();
        let out = Arc::new(
            tmp.as_file()
                .try_clone()
                .map_err(|e| Error::io(format!("opening {}", tmp_path.display()), e))?,
        );
        let etag = info.etag.clone();
        let attempts = self.client.config().retry.max_attempts.max(1);
        let jobs = opts.jobs.unwrap_or(4).clamp(1, 64);
        let material = material.as_ref();
        let (tmp_ref, etag_ref, out_ref) = (&tmp_path, etag.as_deref(), &out);
        let crcs: Vec<Crc64> = stream::iter(0..size.div_ceil(chunk))
            .map(|i| async move {
                let offset = i * chunk;
                let len = chunk.min(size - offset);
                let c = Chunk {
                    bucket,
                    key,
                    etag: etag_ref,
                    offset,
                    len,
                    size,
                };
                // A chunk cut short is fetched again whole (same offset, same bytes under
                // If-Match), so nothing is spliced from two versions of the object.
                let mut attempt = 1;
                let crc = loop {
                    match self.fetch_chunk(&c, material, out_ref, tmp_ref).await {
                        Ok(crc) => break crc,
                        Err(
                            Error::Truncated { .. } | Error::Transport { .. } | Error::Io { .. },
                        ) if attempt < attempts => {
                            attempt += 1;
                        }
                        Err(e) => return Err(e),
                    }
                };
                if let Some(cb) = progress {
                    cb(len);
                }
                Ok(crc)
            })
            .buffered(jobs)
            .try_collect()
            .await?;
        if size == 0 {
            // Nothing to fetch: still confirm the object is readable as a whole.
            let _ = self.get_object_bytes(bucket, key, None).await?;
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
        if !opts.no_fsync {
            tmp.as_file()
                .sync_all()
                .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
        }
        tmp.persist(dest)
            .map_err(|e| Error::io(format!("renaming into {}", dest.display()), e.error))?;
        if !opts.no_fsync {
            sync_dir(dir);
        }
        Ok(size)
    }

    async fn fetch_chunk(
        &self,
        c: &Chunk<'_>,
        material: Option<&ContentMaterial>,
        out: &Arc<std::fs::File>,
        tmp_path: &Path,
    ) -> Result<Crc64> {
        let last = c.offset + c.len - 1;
        let mut req = Request::new("GET", Some(c.bucket), Some(c.key))
            .header("range", &format!("bytes={}-{last}", c.offset))
            .header(RANGE_BEHAVIOR.0, RANGE_BEHAVIOR.1);
        if let Some(etag) = c.etag {
            req = req.header("if-match", etag);
        }
        let resp = self.client.send(req).await?;
        let whole = c.offset == 0 && c.len == c.size;
        match resp.status {
            206 => {
                // The body must be exactly the bytes asked for, of an object of the HEAD's size.
                let cr = parse_content_range(resp.header("content-range"));
                if cr != Some((c.offset, last, c.size)) {
                    return Err(Error::Protocol(format!(
                        "asked for bytes {}-{last} of {}, the answer's Content-Range is {:?}",
                        c.offset,
                        c.size,
                        resp.header("content-range")
                    )));
                }
            }
            200 if whole => {}
            s => {
                return Err(Error::Protocol(format!("ranged GET answered {s}")));
            }
        }
        let mut reader = PlainReader::new(
            resp.into_stream(),
            material,
            c.offset,
            0,
            c.len,
            None,
            "ranged download",
        );
        // Decrypted into a 1 MiB buffer while the previous one is written (positioned write,
        // on the blocking pool): no per-write buffer copies, and the chunks in flight write
        // in parallel.
        let mut at = c.offset;
        let mut buf = vec![0u8; WRITE_BATCH];
        let mut writing: Option<tokio::task::JoinHandle<std::io::Result<Vec<u8>>>> = None;
        loop {
            let n = match read_full(&mut reader, &mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    // The chunk may be fetched again: no write of this attempt may land after
                    // the next attempt's writes of the same bytes.
                    if let Some(w) = writing.take() {
                        let _ = written(w, tmp_path).await;
                    }
                    return Err(from_io("downloading", e));
                }
            };
            if n == 0 {
                break;
            }
            let spare = match writing.take() {
                Some(w) => written(w, tmp_path).await?,
                None => vec![0u8; WRITE_BATCH],
            };
            let data = std::mem::replace(&mut buf, spare);
            let file = Arc::clone(out);
            let pos = at;
            writing = Some(tokio::task::spawn_blocking(move || {
                write_all_at(&file, &data[..n], pos).map(|()| data)
            }));
            at += n as u64;
        }
        if let Some(w) = writing {
            written(w, tmp_path).await?;
        }
        Ok(reader.stored_crc())
    }
}

/// Whether every part the server lists is the re-encryption of the current file: same size
/// and the same CRC-64 as the locally re-encrypted bytes (a part without CRC cannot be proven).
fn parts_match(ctx: &MultipartContext, done: &[PartInfo], source: &FileSource) -> Result<bool> {
    for p in done {
        let Ok(plan) = ctx.plan.part(p.part_number) else {
            return Ok(false);
        };
        if plan.len != p.size {
            return Ok(false);
        }
        let Some(server) = p.crc64 else {
            return Ok(false);
        };
        let region = EncryptedRegion {
            source,
            material: &ctx.material,
            offset: plan.offset,
            len: plan.len,
        };
        let mut reader = crate::client::Replay::open(&region)
            .map_err(|e| Error::io("reading the upload source", e))?;
        let mut crc = Crc64::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| Error::io("reading the upload source", e))?;
            if n == 0 {
                break;
            }
            crc.update(&buf[..n]);
        }
        if crc.len() != plan.len || crc.value() != server {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Bytes decrypted per positioned write of a download chunk.
const WRITE_BATCH: usize = 1 << 20;

/// Reads until `buf` is full or the reader ends; the number of bytes read.
async fn read_full(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
    buf: &mut [u8],
) -> std::io::Result<usize> {
    use tokio::io::AsyncReadExt;
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Writes all of `buf` at byte `pos` of `file` without moving a shared cursor (the chunks in
/// flight write through clones of one handle).
fn write_all_at(file: &std::fs::File, buf: &[u8], pos: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, pos)
    }
    #[cfg(windows)]
    {
        let (mut buf, mut pos) = (buf, pos);
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_write(file, buf, pos) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    buf = &buf[n..];
                    pos += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// The buffer of a finished positioned write, or its error.
async fn written(
    write: tokio::task::JoinHandle<std::io::Result<Vec<u8>>>,
    path: &Path,
) -> Result<Vec<u8>> {
    match write.await {
        Ok(Ok(buf)) => Ok(buf),
        Ok(Err(e)) => Err(Error::io(format!("writing {}", path.display()), e)),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(Error::io(
            format!("writing {}", path.display()),
            std::io::Error::other("the tokio runtime is shutting down"),
        )),
    }
}

/// Flushes a directory entry (rename durability); best effort where directories cannot be
/// opened.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
