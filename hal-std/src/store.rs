//! One [`Store`] for `oss://BUCKET/KEY` and `file://DIR/KEY`: the same calls, argument and
//! option shapes for both, with the keys held by the store (not passed per call). The CLI
//! talks only to this trait.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::time::SystemTime;

use osscse_core::content::ByteRange;

use crate::blocking::EncryptionClient;
use crate::encryption::{DownloadOptions, Progress, UploadOptions};
use crate::error::Result;
use crate::keys::Keyring;
use crate::local::{LocalStore, PutOptions};
use crate::object::ObjectInfo;

mod raw;

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
                modified: raw::parse_iso8601(&o.last_modified),
                key: o.key,
                size: o.size,
            })
            .collect())
    }

    fn get_raw(&self, key: &str, if_match: Option<&str>) -> Result<RawObject> {
        self.raw_get(key, if_match)
    }

    fn put_raw(
        &self,
        key: &str,
        reader: &mut (dyn Read + Send),
        len: u64,
        meta: &[(String, String)],
    ) -> Result<u64> {
        self.raw_put(key, reader, len, meta)
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

    fn get_raw(&self, key: &str, if_match: Option<&str>) -> Result<RawObject> {
        self.raw_get(key, if_match)
    }

    fn put_raw(
        &self,
        key: &str,
        reader: &mut (dyn Read + Send),
        len: u64,
        meta: &[(String, String)],
    ) -> Result<u64> {
        self.raw_put(key, reader, len, meta)
    }
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
