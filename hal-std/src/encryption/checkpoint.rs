//! The resumable state of a multipart upload (never the data key: only the wrapped envelope).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use osscse_core::envelope::{self, Envelope, ObjectEncryption};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
        tmp.as_file()
            .sync_all()
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

pub(crate) fn mtime_secs(path: &Path) -> u64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

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
