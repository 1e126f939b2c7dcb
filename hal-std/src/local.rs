//! The local directory store (`file://DIR/KEY`): the ciphertext in `DIR/KEY` and the same
//! envelope an OSS object carries in a JSON sidecar `DIR/KEY.osscse-meta.json`, so encrypted
//! objects can be written and read offline and later uploaded unchanged.
//!
//! Layout: `local/sidecar.rs` (the envelope file, recovery of an interrupted overwrite,
//! listing), `local/put.rs` (writing), `local/get.rs` (reading).

mod get;
mod put;
mod sidecar;

use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use osscse_core::content::ByteRange;

use crate::error::{Error, Result};
use crate::keys::Keyring;
use crate::object::{ObjectInfo, from_io};

pub use sidecar::Sidecar;

/// Suffix of the sidecar file that holds an object's envelope.
pub const SIDECAR_SUFFIX: &str = ".osscse-meta.json";

/// Options for writing an object.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    /// Base64 MD5 of the plaintext to record in `unencrypted-content-md5` (leaks a plaintext
    /// hash: only when the caller asks).
    pub unencrypted_md5: Option<String>,
    /// Record `unencrypted-content-length`.
    pub record_length: bool,
}

/// What a write stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutInfo {
    /// Bytes stored.
    pub size: u64,
    /// CRC-64 of the stored bytes.
    pub crc64: u64,
}

/// A directory used as an object store.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

/// An object being read: the plaintext stream and how many bytes it yields.
pub struct LocalObject {
    /// Plaintext (decrypted, range applied, verified at the end).
    pub reader: Box<dyn Read + Send>,
    /// Bytes the reader yields.
    pub len: u64,
    /// The object's metadata.
    pub info: ObjectInfo,
}

impl std::fmt::Debug for LocalObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalObject")
            .field("len", &self.len)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl LocalStore {
    /// A store rooted at `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The store root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The data and sidecar paths of `key`.
    ///
    /// # Errors
    /// [`Error::Config`] for keys that would leave the directory (`..`, absolute paths), empty
    /// path segments, or names ending in the sidecar suffix.
    pub fn paths(&self, key: &str) -> Result<(PathBuf, PathBuf)> {
        let bad = |why: &str| Error::Config(format!("object key {key:?} {why}"));
        if key.is_empty() || key.ends_with('/') {
            return Err(bad("is empty or ends with '/'"));
        }
        if key.ends_with(SIDECAR_SUFFIX) {
            return Err(bad(&format!(
                "ends with {SIDECAR_SUFFIX}, which the local store reserves"
            )));
        }
        let rel = Path::new(key);
        let segments_ok = key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.contains('\\'));
        if !segments_ok || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(bad(
                "must be a relative path without '.', '..' or empty segments",
            ));
        }
        let data = self.root.join(rel);
        let mut meta = data.clone().into_os_string();
        meta.push(SIDECAR_SUFFIX);
        Ok((data, PathBuf::from(meta)))
    }

    /// Deletes `key` (data and sidecar).
    ///
    /// # Errors
    /// A missing object or I/O errors.
    pub fn remove(&self, key: &str) -> Result<()> {
        let (data, meta) = self.paths(key)?;
        std::fs::remove_file(&meta).map_err(|e| Error::io(format!("deleting object {key}"), e))?;
        match std::fs::remove_file(&data) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("deleting {}", data.display()), e)),
        }
    }
}

/// Reads a whole local object into memory (tests and small objects).
///
/// # Errors
/// As [`LocalStore::get`].
pub fn read_all(
    store: &LocalStore,
    key: &str,
    range: Option<ByteRange>,
    keys: &Keyring,
) -> Result<Vec<u8>> {
    let mut obj = store.get(key, range, keys)?;
    let mut v = Vec::new();
    obj.reader
        .read_to_end(&mut v)
        .map_err(|e| from_io("reading", e))?;
    Ok(v)
}
