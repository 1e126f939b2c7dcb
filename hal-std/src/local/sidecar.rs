//! The sidecar (`KEY.osscse-meta.json`): reading it, recovering from an overwrite that
//! stopped between its two renames, and listing the store.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{LocalStore, SIDECAR_SUFFIX};
use crate::error::{Error, Result};
use crate::object::ObjectInfo;

/// Sidecar format version.
pub(super) const SIDECAR_VERSION: u32 = 1;
/// Suffix of the previous data kept while an overwrite is in progress (a hard link).
const PREV_SUFFIX: &str = ".osscse-prev";

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

impl LocalStore {
    pub(super) fn read_sidecar(&self, key: &str) -> Result<(PathBuf, Sidecar)> {
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
    pub(super) fn settle(&self, key: &str) -> Result<()> {
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
}

/// Where the previous data of `data` is kept during an overwrite.
pub(super) fn prev_path(data: &Path) -> PathBuf {
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
pub(super) fn sync_dir(dir: &Path) {
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
