//! One [`Store`] for `oss://BUCKET/KEY` and `file://DIR/KEY`: the same calls, argument and
//! option shapes for both, with the keys held by the store (not passed per call). The CLI
//! talks only to this trait.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, SystemTime};

use osscse_core::content::ByteRange;

use crate::blocking::EncryptionClient;
use crate::client::{Body, Request};
use crate::encryption::{DownloadOptions, Progress, UploadOptions};
use crate::error::Result;
use crate::keys::Keyring;
use crate::local::{LocalStore, PutOptions};
use crate::object::{ObjectInfo, VerifyingReader};

/// An object being read from a [`Store`].
pub struct Reading {
    /// The plaintext (range applied; verified at the end).
    pub reader: Box<dyn Read + Send>,
    /// Bytes the reader yields.
    pub len: u64,
}

impl fmt::Debug for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reading")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// An object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Key relative to the store.
    pub key: String,
    /// Stored size (= plaintext size for CSE objects).
    pub size: u64,
    /// Last modification time, when the store reports one.
    pub modified: Option<SystemTime>,
}

/// An object's stored bytes (for CSE objects the ciphertext, never decrypted) and metadata.
pub struct RawObject {
    /// The stored bytes; fails at the end when their length or CRC-64 differ from `info`.
    pub reader: Box<dyn Read + Send>,
    /// Size, CRC-64, envelope and `x-oss-meta-*` headers.
    pub info: ObjectInfo,
}

impl fmt::Debug for RawObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawObject")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Where encrypted objects live. Every call takes a key relative to the store.
pub trait Store: fmt::Debug + Send + Sync {
    /// The location of `key` as the user writes it (`oss://b/k`, `file:///dir/k`).
    fn location(&self, key: &str) -> String;

    /// Encrypts and stores the file at `path` under `key`; returns the bytes stored.
    ///
    /// # Errors
    /// I/O, key, transport and service errors.
    fn put_file(
        &self,
        key: &str,
        path: &Path,
        opts: &UploadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<u64>;

    /// Encrypts and stores `data` under `key`.
    ///
    /// # Errors
    /// As [`Store::put_file`].
    fn put_bytes(&self, key: &str, data: &[u8], opts: &PutOptions) -> Result<u64>;

    /// Opens `key` (whole or a range) for reading, decrypted.
    ///
    /// # Errors
    /// Missing object, key errors, an unsatisfiable range.
    fn get(&self, key: &str, range: Option<ByteRange>) -> Result<Reading>;

    /// Reads `key` whole into `dest` (a temporary file renamed after verification).
    ///
    /// # Errors
    /// As [`Store::get`], plus verification and I/O errors (`dest` is left as it was).
    fn get_to_file(
        &self,
        key: &str,
        dest: &Path,
        opts: &DownloadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<u64>;

    /// Metadata of `key`.
    ///
    /// # Errors
    /// Missing object, malformed envelope.
    fn head(&self, key: &str) -> Result<ObjectInfo>;

    /// Keys under `prefix` with their sizes.
    ///
    /// # Errors
    /// I/O, transport and service errors.
    fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>>;

    /// Deletes `key`.
    ///
    /// # Errors
    /// I/O, transport and service errors.
    fn delete(&self, key: &str) -> Result<()>;

    /// Keys under `prefix` with sizes and modification times.
    ///
    /// # Errors
    /// I/O, transport and service errors.
    fn list_detailed(&self, prefix: &str) -> Result<Vec<Listed>>;

    /// Opens the stored bytes of `key` as they are (no key needed: nothing is decrypted).
    /// With `if_match`, OSS answers only while the object still has that ETag (412
    /// otherwise); a file store has no ETags and ignores it.
    ///
    /// # Errors
    /// Missing object, a changed object, transport and service errors.
    fn get_raw(&self, key: &str, if_match: Option<&str>) -> Result<RawObject>;

    /// Stores `len` bytes from `reader` under `key` as they are, with the `x-oss-meta-*`
    /// headers `meta` (an envelope travels this way with its ciphertext). Returns the CRC-64 of
    /// the bytes stored.
    ///
    /// # Errors
    /// I/O, transport and service errors; a reader shorter or longer than `len`.
    fn put_raw(
        &self,
        key: &str,
        reader: &mut (dyn Read + Send),
        len: u64,
        meta: &[(String, String)],
    ) -> Result<u64>;
}

/// `oss://BUCKET/...` through the (blocking) encryption client.
#[derive(Debug, Clone)]
pub struct OssStore {
    client: EncryptionClient,
    bucket: String,
}

impl OssStore {
    /// The bucket `bucket` through `client` (whose keyring is the store's).
    pub fn new(client: EncryptionClient, bucket: &str) -> Self {
        Self {
            client,
            bucket: bucket.to_owned(),
        }
    }

    /// The client.
    pub fn client(&self) -> &EncryptionClient {
        &self.client
    }
}

impl Store for OssStore {
    fn location(&self, key: &str) -> String {
        format!("oss://{}/{key}", self.bucket)
    }

    fn put_file(
        &self,
        key: &str,
        path: &Path,
        opts: &UploadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        Ok(self
            .client
            .upload_file(&self.bucket, key, path, opts, progress)?
            .size)
    }

    fn put_bytes(&self, key: &str, data: &[u8], opts: &PutOptions) -> Result<u64> {
        Ok(self.client.put_source(&self.bucket, key, &data, opts)?.size)
    }

    fn get(&self, key: &str, range: Option<ByteRange>) -> Result<Reading> {
        let o = self.client.get_object(&self.bucket, key, range)?;
        Ok(Reading {
            reader: o.reader,
            len: o.len,
        })
    }

    fn get_to_file(
        &self,
        key: &str,
        dest: &Path,
        opts: &DownloadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        self.client
            .download_file(&self.bucket, key, dest, opts, progress)
    }

    fn head(&self, key: &str) -> Result<ObjectInfo> {
        self.client.head_object(&self.bucket, key)
    }

    fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>> {
        Ok(self
            .client
            .list_objects(&self.bucket, prefix)?
            .into_iter()
            .map(|o| (o.key, o.size))
            .collect())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.client.delete_object(&self.bucket, key)
    }

    fn list_detailed(&self, prefix: &str) -> Result<Vec<Listed>> {
        Ok(self
            .client
            .list_objects(&self.bucket, prefix)?
            .into_iter()
            .map(|o| Listed {
                modified: parse_iso8601(&o.last_modified),
                key: o.key,
                size: o.size,
            })
            .collect())
    }

    fn get_raw(&self, key: &str, if_match: Option<&str>) -> Result<RawObject> {
        let mut req = Request::new("GET", Some(&self.bucket), Some(key));
        if let Some(etag) = if_match {
            req = req.header("If-Match", etag);
        }
        let resp = self.client.client().send(req)?;
        let size = resp.content_length().ok_or_else(|| {
            crate::Error::Protocol(format!("GET {key}: the answer has no Content-Length"))
        })?;
        let header = |n: &str| resp.header(n).map(str::to_owned);
        let headers: Vec<(&str, &str)> = resp
            .headers
            .iter()
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
            .collect();
        let info = ObjectInfo::from_headers(
            size,
            resp.crc64(),
            header("etag"),
            header("last-modified"),
            headers.iter().copied(),
        )?;
        drop(headers);
        let reader = VerifyingReader::new(resp.into_reader(), size, info.crc64, "raw download");
        Ok(RawObject {
            reader: Box::new(reader),
            info,
        })
    }

    fn put_raw(
        &self,
        key: &str,
        reader: &mut (dyn Read + Send),
        len: u64,
        meta: &[(String, String)],
    ) -> Result<u64> {
        // An object uploaded in parts goes back in the same parts: the envelope's part size
        // must describe the layout, and no PutObject takes more than 5 GiB.
        let part_size = meta
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(CSE_PART_SIZE))
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
            .filter(|p| *p > 0);
        if let Some(part_size) = part_size.filter(|p| len > *p) {
            return self.put_raw_parts(key, reader, len, meta, part_size);
        }
        let mut req = Request::new("PUT", Some(&self.bucket), Some(key));
        for (n, v) in meta {
            req = req.header(n, v);
        }
        let resp = self
            .client
            .client()
            .send(req.body(Body::Once { len, reader }))?;
        resp.sent
            .map(|c| c.value())
            .ok_or_else(|| crate::Error::Protocol(format!("PUT {key}: no CRC-64 of the body sent")))
    }
}

/// The envelope header that names the part size of a multipart upload.
const CSE_PART_SIZE: &str = "x-oss-meta-client-side-encryption-part-size";
/// Prefix of the envelope headers, sent again on every UploadPart.
const CSE_PREFIX: &str = "x-oss-meta-client-side-encryption-";

impl OssStore {
    /// [`Store::put_raw`] as a multipart upload in parts of `part_size` (aborted on failure).
    fn put_raw_parts(
        &self,
        key: &str,
        reader: &mut (dyn Read + Send),
        len: u64,
        meta: &[(String, String)],
        part_size: u64,
    ) -> Result<u64> {
        let client = self.client.client();
        let bucket = Some(self.bucket.as_str());
        let mut init = Request::new("POST", bucket, Some(key)).query("uploads", "");
        for (n, v) in meta {
            init = init.header(n, v);
        }
        let body = client.send(init)?.text(64 * 1024)?;
        let upload_id = crate::xml::initiate_upload_id(&body)
            .map_err(|e| crate::Error::Protocol(format!("InitiateMultipartUpload: {e}")))?;
        let cse: Vec<&(String, String)> = meta
            .iter()
            .filter(|(n, _)| n.to_ascii_lowercase().starts_with(CSE_PREFIX))
            .collect();
        let mut upload = || -> Result<u64> {
            let (mut parts, mut crc, mut sent) = (Vec::new(), 0u64, 0u64);
            for number in 1u32.. {
                if sent == len {
                    break;
                }
                let n = part_size.min(len - sent);
                let mut part = (&mut *reader).take(n);
                let mut req = Request::new("PUT", bucket, Some(key))
                    .query("partNumber", &number.to_string())
                    .query("uploadId", &upload_id);
                for (name, v) in &cse {
                    req = req.header(name, v);
                }
                let resp = client.send(req.body(Body::Once {
                    len: n,
                    reader: &mut part,
                }))?;
                let etag = resp.header("etag").map(str::to_owned).ok_or_else(|| {
                    crate::Error::Protocol("UploadPart answer without ETag".into())
                })?;
                let part_crc = resp.sent.map(|c| c.value()).unwrap_or_default();
                crc = crate::crc64::combine(crc, part_crc, n);
                parts.push(crate::xml::PartInfo {
                    part_number: number,
                    etag,
                    size: n,
                    crc64: Some(part_crc),
                });
                sent += n;
            }
            let mut rest = [0u8; 1];
            if reader
                .read(&mut rest)
                .map_err(|e| crate::object::from_io("reading the stored bytes", e))?
                != 0
            {
                return Err(crate::Error::ShortSource {
                    expected: len,
                    actual: len + 1,
                });
            }
            let xml = crate::xml::complete_body(&parts);
            let mut done = Request::new("POST", bucket, Some(key))
                .query("uploadId", &upload_id)
                .header("Content-Type", "application/xml")
                .body(Body::Bytes(xml.as_bytes()));
            // The answer's CRC-64 is the object's, not the request body's.
            done.check_upload_crc = false;
            let resp = client.send(done)?;
            match resp.crc64() {
                Some(server) if server != crc => Err(crate::Error::CrcMismatch {
                    what: format!("multipart copy of {key}"),
                    server,
                    client: crc,
                }),
                _ => Ok(crc),
            }
        };
        let result = upload();
        if result.is_err() {
            let abort = Request::new("DELETE", bucket, Some(key)).query("uploadId", &upload_id);
            let _ = client.send(abort);
        }
        result
    }
}

/// `file://DIR/...`: the local directory store with its keyring.
#[derive(Debug, Clone)]
pub struct FileStore {
    store: LocalStore,
    keys: Keyring,
}

impl FileStore {
    /// The directory store `store`, writing and reading with `keys`.
    pub fn new(store: LocalStore, keys: Keyring) -> Self {
        Self { store, keys }
    }
}

impl Store for FileStore {
    fn location(&self, key: &str) -> String {
        format!("file://{}/{key}", self.store.root().display())
    }

    fn put_file(
        &self,
        key: &str,
        path: &Path,
        opts: &UploadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        let file = std::fs::File::open(path)
            .map_err(|e| crate::Error::io(format!("opening {}", path.display()), e))?;
        let len = file
            .metadata()
            .map_err(|e| crate::Error::io(format!("reading {}", path.display()), e))?
            .len();
        let reader = Counting {
            inner: file,
            progress,
        };
        Ok(self
            .store
            .put(key, reader, len, &self.keys, &opts.put)?
            .size)
    }

    fn put_bytes(&self, key: &str, data: &[u8], opts: &PutOptions) -> Result<u64> {
        Ok(self
            .store
            .put(key, data, data.len() as u64, &self.keys, opts)?
            .size)
    }

    fn get(&self, key: &str, range: Option<ByteRange>) -> Result<Reading> {
        let o = self.store.get(key, range, &self.keys)?;
        Ok(Reading {
            reader: o.reader,
            len: o.len,
        })
    }

    fn get_to_file(
        &self,
        key: &str,
        dest: &Path,
        _opts: &DownloadOptions,
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        let o = self.store.get(key, None, &self.keys)?;
        let reader = Counting {
            inner: o.reader,
            progress,
        };
        crate::object::write_file_atomically(reader, dest)
    }

    fn head(&self, key: &str) -> Result<ObjectInfo> {
        self.store.head(key)
    }

    fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>> {
        self.store.list(prefix)
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.store.remove(key)
    }

    fn list_detailed(&self, prefix: &str) -> Result<Vec<Listed>> {
        self.store
            .list(prefix)?
            .into_iter()
            .map(|(key, size)| {
                let (data, _) = self.store.paths(&key)?;
                let modified = std::fs::metadata(&data).and_then(|m| m.modified()).ok();
                Ok(Listed {
                    key,
                    size,
                    modified,
                })
            })
            .collect()
    }

    fn get_raw(&self, key: &str, _if_match: Option<&str>) -> Result<RawObject> {
        let info = self.store.head(key)?;
        let (data, _) = self.store.paths(key)?;
        let file = std::fs::File::open(&data)
            .map_err(|e| crate::Error::io(format!("opening {}", data.display()), e))?;
        let reader = VerifyingReader::new(file, info.size, info.crc64, "stored data");
        Ok(RawObject {
            reader: Box::new(reader),
            info,
        })
    }

    fn put_raw(
        &self,
        key: &str,
        reader: &mut (dyn Read + Send),
        len: u64,
        meta: &[(String, String)],
    ) -> Result<u64> {
        use std::io::Write;
        let (data, sidecar_path) = self.store.paths(key)?;
        let dir = data.parent().unwrap_or(self.store.root()).to_path_buf();
        let io_err = |what: String| move |e| crate::Error::io(what, e);
        std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".osscse-put-")
            .tempfile_in(&dir)
            .map_err(io_err(format!("creating a file in {}", dir.display())))?;
        let mut out = crate::crc64::CrcWriter::new(io::BufWriter::new(tmp.as_file_mut()));
        let n = io::copy(&mut reader.take(len), &mut out)
            .map_err(|e| crate::object::from_io("copying the stored bytes", e))?;
        let crc = out.crc().value();
        out.into_inner()
            .into_inner()
            .map_err(|e| crate::Error::io(format!("writing {}", data.display()), e.into_error()))?;
        let mut rest = [0u8; 1];
        let more = reader
            .read(&mut rest)
            .map_err(|e| crate::object::from_io("copying the stored bytes", e))?;
        if n != len || more != 0 {
            return Err(crate::Error::ShortSource {
                expected: len,
                actual: n + more as u64,
            });
        }
        let sidecar = crate::local::Sidecar {
            version: 1,
            size: len,
            crc64ecma: crc.to_string(),
            headers: meta
                .iter()
                .filter(|(n, _)| n.to_ascii_lowercase().starts_with("x-oss-meta-"))
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&sidecar)
            .map_err(|e| crate::Error::Protocol(e.to_string()))?;
        let mut tmp_meta = tempfile::Builder::new()
            .prefix(".osscse-meta-")
            .tempfile_in(&dir)
            .map_err(io_err(format!("creating a file in {}", dir.display())))?;
        tmp_meta
            .write_all(&json)
            .and_then(|()| tmp_meta.as_file().sync_all())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(io_err(format!("writing {}", sidecar_path.display())))?;
        // Data first, then the sidecar that names its size and CRC-64 (as LocalStore::put).
        tmp.persist(&data)
            .map_err(|e| crate::Error::io(format!("renaming into {}", data.display()), e.error))?;
        tmp_meta.persist(&sidecar_path).map_err(|e| {
            crate::Error::io(format!("renaming into {}", sidecar_path.display()), e.error)
        })?;
        Ok(crc)
    }
}

/// Parses OSS's ListObjects time, `2026-12-06T07:43:17.000Z`.
fn parse_iso8601(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !text.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac = match text.get(19..text.len() - 1)? {
        "" => 0,
        f => {
            let digits = f.strip_prefix('.')?;
            let ms = format!("{digits:0<9}");
            ms.get(..9)?.parse::<u32>().ok()?
        }
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), as in Howard Hinnant's algorithm.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + h * 3600 + mi * 60 + s).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, frac))
}

/// Reports the bytes read to a progress callback.
struct Counting<'p, R> {
    inner: R,
    progress: Option<Progress<'p>>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = self.progress {
            p(n as u64);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_times() {
        let t = |s| parse_iso8601(s).and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
        assert_eq!(t("1970-01-01T00:00:00.000Z"), Some(Duration::ZERO));
        assert_eq!(
            t("2026-12-06T07:43:17.250Z"),
            Some(Duration::new(1_796_542_997, 250_000_000))
        );
        assert_eq!(
            t("2000-02-29T12:00:00Z"),
            Some(Duration::from_secs(951_825_600))
        );
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-12-06 07:43:17Z",
            "2026-12-06T07:43:17",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }
}
