//! The local directory store (`file://DIR/KEY`): the ciphertext in `DIR/KEY` and the same
//! envelope an OSS object carries in a JSON sidecar `DIR/KEY.osscse-meta.json`, so encrypted
//! objects can be written and read offline and later uploaded unchanged.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

use osscse_core::content::ByteRange;
use osscse_core::stream::CtrReader;
use serde::{Deserialize, Serialize};

use crate::crc64::CrcWriter;
use crate::error::{Error, Result};
use crate::keys::Keyring;
use crate::object::{
    ObjectInfo, ReadPlan, VerifyingReader, from_io, material_for, plaintext_reader,
};

/// Suffix of the sidecar file that holds an object's envelope.
pub const SIDECAR_SUFFIX: &str = ".osscse-meta.json";
/// Sidecar format version.
const SIDECAR_VERSION: u32 = 1;
/// Suffix of the previous data kept while an overwrite is in progress (a hard link).
const PREV_SUFFIX: &str = ".osscse-prev";

#[cfg(test)]
thread_local! {
    /// Test hook: fail an overwrite between the data and the sidecar rename.
    static FAIL_BEFORE_SIDECAR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The sidecar: the object's metadata headers (exactly as they would be sent to OSS), its size
/// and the CRC-64 of the stored bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    /// Format version (1).
    pub version: u32,
    /// Stored size in bytes.
    pub size: u64,
    /// CRC-64/XZ of the stored bytes, decimal (as `x-oss-hash-crc64ecma`).
    pub crc64ecma: String,
    /// `x-oss-meta-*` headers, lower-case names.
    pub headers: BTreeMap<String, String>,
}

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

    fn read_sidecar(&self, key: &str) -> Result<(PathBuf, Sidecar)> {
        let (data, sidecar) = self.read_sidecar_only(key)?;
        let prev = prev_path(&data);
        if prev.exists() && !matches(&data, &sidecar) && matches(&prev, &sidecar) {
            // An overwrite stopped after the data rename: the sidecar still describes the
            // previous data, which the hard link kept whole.
            return Ok((prev, sidecar));
        }
        Ok((data, sidecar))
    }

    fn read_sidecar_only(&self, key: &str) -> Result<(PathBuf, Sidecar)> {
        let (data, meta) = self.paths(key)?;
        let text = std::fs::read_to_string(&meta).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::io(
                    format!(
                        "object {key} not found in {} (no {})",
                        self.root.display(),
                        meta.display()
                    ),
                    e,
                )
            } else {
                Error::io(format!("reading {}", meta.display()), e)
            }
        })?;
        let sidecar: Sidecar = serde_json::from_str(&text).map_err(|e| {
            Error::Protocol(format!(
                "sidecar {} is not valid ({e}); was it edited by hand?",
                meta.display()
            ))
        })?;
        if sidecar.version != SIDECAR_VERSION {
            return Err(Error::Protocol(format!(
                "sidecar {} has unsupported version {}",
                meta.display(),
                sidecar.version
            )));
        }
        Ok((data, sidecar))
    }

    /// Metadata of `key`.
    ///
    /// # Errors
    /// Missing or malformed sidecar, malformed envelope.
    pub fn head(&self, key: &str) -> Result<ObjectInfo> {
        let (_, s) = self.read_sidecar(key)?;
        let crc = crate::crc64::parse_header(&s.crc64ecma)
            .ok_or_else(|| Error::Protocol(format!("sidecar of {key}: bad crc64ecma")))?;
        ObjectInfo::from_headers(
            s.size,
            Some(crc),
            None,
            None,
            s.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
    }

    /// Encrypts `len` bytes from `source` with the keyring's writer key and stores them under
    /// `key` (written to temporary files, renamed when complete).
    ///
    /// # Errors
    /// No writer key, I/O errors, a source shorter or longer than `len`.
    pub fn put(
        &self,
        key: &str,
        source: impl Read,
        len: u64,
        keys: &Keyring,
        opts: &PutOptions,
    ) -> Result<PutInfo> {
        let (data, meta) = self.paths(key)?;
        let (material, mut envelope) = keys.seal_new()?;
        if opts.record_length {
            envelope.unencrypted_content_length = Some(len);
        }
        envelope
            .unencrypted_content_md5
            .clone_from(&opts.unencrypted_md5);
        let headers: BTreeMap<String, String> = envelope
            .headers()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
        let dir = data.parent().unwrap_or(&self.root).to_path_buf();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        self.settle(key)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".osscse-put-")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
        let mut src = source.take(len);
        let mut enc = CtrReader::new(&mut src, material.keystream_at(0));
        let mut out = CrcWriter::new(io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut()));
        let n = io::copy(&mut enc, &mut out)
            .map_err(|e| Error::io(format!("encrypting into {}", data.display()), e))?;
        let crc = out.crc().value();
        out.into_inner()
            .into_inner()
            .map_err(|e| Error::io(format!("writing {}", data.display()), e.into_error()))?;
        if n != len {
            return Err(Error::ShortSource {
                expected: len,
                actual: n,
            });
        }
        let mut rest = [0u8; 1];
        if src
            .into_inner()
            .read(&mut rest)
            .map_err(|e| Error::io("reading the source", e))?
            != 0
        {
            return Err(Error::ShortSource {
                expected: len,
                actual: len + 1,
            });
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(format!("writing {}", data.display()), e))?;
        let sidecar = Sidecar {
            version: SIDECAR_VERSION,
            size: len,
            crc64ecma: crc.to_string(),
            headers,
        };
        let mut tmp_meta = tempfile::Builder::new()
            .prefix(".osscse-meta-")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
        let json =
            serde_json::to_vec_pretty(&sidecar).map_err(|e| Error::Protocol(e.to_string()))?;
        tmp_meta
            .write_all(&json)
            .map_err(|e| Error::io(format!("writing {}", meta.display()), e))?;
        tmp_meta
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(format!("writing {}", meta.display()), e))?;
        // An overwrite keeps the previous data reachable (hard link) until the new sidecar is
        // in place, so a failure between the two renames leaves the old object whole.
        let prev = prev_path(&data);
        let overwriting = data.exists() && meta.exists();
        if overwriting {
            std::fs::hard_link(&data, &prev)
                .map_err(|e| Error::io(format!("keeping the previous {}", data.display()), e))?;
            sync_dir(&dir);
        }
        tmp.persist(&data)
            .map_err(|e| Error::io(format!("renaming into {}", data.display()), e.error))?;
        sync_dir(&dir);
        #[cfg(test)]
        if FAIL_BEFORE_SIDECAR.with(std::cell::Cell::get) {
            return Err(Error::io(
                "test hook",
                io::Error::other("failed before the sidecar"),
            ));
        }
        tmp_meta
            .persist(&meta)
            .map_err(|e| Error::io(format!("renaming into {}", meta.display()), e.error))?;
        sync_dir(&dir);
        if overwriting {
            let _ = std::fs::remove_file(&prev);
            sync_dir(&dir);
        }
        Ok(PutInfo {
            size: len,
            crc64: crc,
        })
    }

    /// Opens `key` for reading: whole (verified against the sidecar's size and CRC-64) or a
    /// range (any `bytes=a-b`, `a-`, `-n`; length-checked). Plain objects pass through.
    ///
    /// # Errors
    /// Missing object, malformed envelope, no matching key, unsatisfiable range.
    pub fn get(&self, key: &str, range: Option<ByteRange>, keys: &Keyring) -> Result<LocalObject> {
        let info = self.head(key)?;
        let (data, _) = self.read_sidecar(key)?;
        let material = material_for(&info.encryption, keys)?;
        let mut file =
            File::open(&data).map_err(|e| Error::io(format!("opening {}", data.display()), e))?;
        let actual = file
            .metadata()
            .map_err(|e| Error::io(format!("reading {}", data.display()), e))?
            .len();
        if actual != info.size {
            return Err(Error::Truncated {
                expected: info.size,
                actual,
            });
        }
        match ReadPlan::new(range, info.size)? {
            ReadPlan::Whole => {
                let stored = VerifyingReader::new(
                    io::BufReader::new(file),
                    info.size,
                    info.crc64,
                    "local object",
                );
                let reader = plaintext_reader(stored, material.as_ref(), 0, 0);
                Ok(LocalObject {
                    reader,
                    len: info.size,
                    info,
                })
            }
            ReadPlan::Range(plan) => {
                file.seek(SeekFrom::Start(plan.aligned_first))
                    .map_err(|e| Error::io(format!("reading {}", data.display()), e))?;
                let stored = VerifyingReader::new(
                    io::BufReader::new(file).take(plan.request_len()),
                    plan.request_len(),
                    None,
                    "local object range",
                );
                let reader =
                    plaintext_reader(stored, material.as_ref(), plan.aligned_first, plan.skip());
                Ok(LocalObject {
                    reader,
                    len: plan.len(),
                    info,
                })
            }
        }
    }

    /// Reads `key` fully into `dest` (temporary file renamed after verification).
    ///
    /// # Errors
    /// As [`LocalStore::get`], plus verification and I/O errors.
    pub fn get_to_file(
        &self,
        key: &str,
        range: Option<ByteRange>,
        keys: &Keyring,
        dest: &Path,
    ) -> Result<u64> {
        let obj = self.get(key, range, keys)?;
        crate::object::write_file_atomically(obj.reader, dest)
    }

    /// Keys under `prefix` with their sizes, sorted.
    ///
    /// # Errors
    /// I/O errors while walking the directory.
    pub fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        if self.root.is_dir() {
            walk(&self.root, &self.root, &mut out)?;
        }
        out.retain(|(k, _)| k.starts_with(prefix));
        out.sort();
        Ok(out)
    }

    /// Finishes what an interrupted overwrite of `key` left: the kept previous data is put
    /// back when the sidecar still describes it, else dropped.
    fn settle(&self, key: &str) -> Result<()> {
        let (data, _) = self.paths(key)?;
        let prev = prev_path(&data);
        if !prev.exists() {
            return Ok(());
        }
        let (chosen, _) = self.read_sidecar(key)?;
        if chosen == prev {
            std::fs::rename(&prev, &data)
                .map_err(|e| Error::io(format!("restoring {}", data.display()), e))?;
        } else {
            let _ = std::fs::remove_file(&prev);
        }
        if let Some(dir) = data.parent() {
            sync_dir(dir);
        }
        Ok(())
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

/// Where the previous data of `data` is kept during an overwrite.
fn prev_path(data: &Path) -> PathBuf {
    let mut p = data.as_os_str().to_owned();
    p.push(PREV_SUFFIX);
    PathBuf::from(p)
}

/// Whether the file at `path` has the sidecar's size and CRC-64.
fn matches(path: &Path, sidecar: &Sidecar) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    if file.metadata().map(|m| m.len()).ok() != Some(sidecar.size) {
        return false;
    }
    let mut crc = crate::crc64::Crc64::new();
    let mut r = io::BufReader::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => crc.update(&buf[..n]),
            Err(_) => return false,
        }
    }
    crate::crc64::parse_header(&sidecar.crc64ecma) == Some(crc.value())
}

/// Flushes a directory's entries (renames) to disk; best effort.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, u64)>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
        let path = entry.path();
        let ft = entry
            .file_type()
            .map_err(|e| Error::io(format!("listing {}", path.display()), e))?;
        if ft.is_dir() {
            walk(root, &path, out)?;
            continue;
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(SIDECAR_SUFFIX) else {
            continue;
        };
        let Ok(rel_dir) = dir.strip_prefix(root) else {
            continue;
        };
        let rel = rel_dir.join(stem);
        let key = rel
            .components()
            .filter_map(|c| c.as_os_str().to_str())
            .collect::<Vec<_>>()
            .join("/");
        let size = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<Sidecar>(&t).ok())
            .map(|s| s.size)
            .unwrap_or(0);
        out.push((key, size));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keyring {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-a-private.pem");
        Keyring::new(crate::keys::load_rsa_key(&path).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Defect 1: on main the data was renamed over the old one before the sidecar, so a
    /// failure between the two renames left the old sidecar describing the new ciphertext
    /// and `get` failed ("truncated transfer" / CRC mismatch): both versions were lost.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn an_overwrite_that_fails_between_the_renames_leaves_the_old_object_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let k = keys();
        let old = vec![7u8; 5000];
        let new = vec![9u8; 3000];
        store
            .put("a/obj", &old[..], 5000, &k, &PutOptions::default())
            .unwrap();
        FAIL_BEFORE_SIDECAR.with(|f| f.set(true));
        let failed = store.put("a/obj", &new[..], 3000, &k, &PutOptions::default());
        FAIL_BEFORE_SIDECAR.with(|f| f.set(false));
        assert!(failed.is_err());
        assert_eq!(read_all(&store, "a/obj", None, &k).unwrap(), old);
        // The next put settles the interrupted one and overwrites cleanly.
        store
            .put("a/obj", &new[..], 3000, &k, &PutOptions::default())
            .unwrap();
        assert_eq!(read_all(&store, "a/obj", None, &k).unwrap(), new);
        assert!(!prev_path(&dir.path().join("a/obj")).exists());
        assert_eq!(store.list("").unwrap(), vec![("a/obj".to_owned(), 3000)]);
    }
}
