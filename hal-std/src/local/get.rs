//! Reading a local object: whole (size and CRC-64 verified) or any range.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use osscse_core::content::ByteRange;

use super::{LocalObject, LocalStore};
use crate::error::{Error, Result};
use crate::keys::Keyring;
use crate::object::{ReadPlan, VerifyingReader, material_for, plaintext_reader};

impl LocalStore {
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
}
