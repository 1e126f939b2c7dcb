//! What both stores (OSS and the local directory store) share: object metadata, choosing the
//! decryption for an object, and readers that verify length and CRC-64 before they report
//! the end of the data.

use std::io::{self, Read};
use std::path::Path;

use osscse_core::content::{ByteRange, ContentMaterial, RangePlan};
use osscse_core::envelope::{self, ObjectEncryption};
use osscse_core::stream::CtrReader;

use crate::crc64::Crc64;
use crate::error::{Error, Result};
use crate::keys::Keyring;

/// What a HEAD tells about an object.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// Stored size in bytes (ciphertext = plaintext length for CSE).
    pub size: u64,
    /// CRC-64 of the stored bytes, when known.
    pub crc64: Option<u64>,
    /// ETag, when the store has one.
    pub etag: Option<String>,
    /// Last modification time as the store reports it.
    pub last_modified: Option<String>,
    /// The encryption envelope (or plain).
    pub encryption: ObjectEncryption,
    /// The `x-oss-meta-*` headers as stored (names lower-case).
    pub meta: Vec<(String, String)>,
}

impl ObjectInfo {
    /// Builds the info from response-style headers.
    ///
    /// # Errors
    /// A malformed envelope.
    pub fn from_headers<'a>(
        size: u64,
        crc64: Option<u64>,
        etag: Option<String>,
        last_modified: Option<String>,
        headers: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Result<Self> {
        let encryption = envelope::parse(headers.clone()).map_err(osscse_core::Error::from)?;
        let meta = headers
            .filter(|(n, _)| n.to_ascii_lowercase().starts_with("x-oss-meta-"))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
            .collect();
        Ok(Self {
            size,
            crc64,
            etag,
            last_modified,
            encryption,
            meta,
        })
    }

    /// Whether the object is client-side encrypted.
    pub fn is_encrypted(&self) -> bool {
        !matches!(self.encryption, ObjectEncryption::Plain)
    }

    /// The object as JSON (for `osscse head`): size, CRC, ETag and the envelope fields.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let enc = match &self.encryption {
            ObjectEncryption::Plain => json!(null),
            ObjectEncryption::Envelope(e) => {
                let headers: serde_json::Map<String, serde_json::Value> = e
                    .headers()
                    .into_iter()
                    .map(|(n, v)| (n.to_owned(), json!(v)))
                    .collect();
                json!({
                    "format": "current",
                    "cek_alg": envelope::CEK_ALG_AES_CTR,
                    "wrap_alg": e.wrap_alg.as_str(),
                    "matdesc": e.matdesc.as_ref().map(|m| m.as_str()),
                    "wrapped_key_bytes": e.wrapped_key.len(),
                    "wrapped_iv_bytes": e.wrapped_iv.len(),
                    "unencrypted_content_length": e.unencrypted_content_length,
                    "data_size": e.data_size,
                    "part_size": e.part_size,
                    "headers": headers,
                })
            }
            ObjectEncryption::Legacy(l) => json!({
                "format": "legacy-oss2",
                "matdesc": l.matdesc.as_ref().map(|m| m.as_str()),
            }),
        };
        json!({
            "size": self.size,
            "crc64ecma": self.crc64.map(|c| c.to_string()),
            "etag": self.etag,
            "last_modified": self.last_modified,
            "encrypted": self.is_encrypted(),
            "envelope": enc,
        })
    }
}

/// The content material for an object, or `None` for a plain object.
///
/// Unwrapping is CPU work (an RSA-2048 private-key operation per wrapped value) or a blocking
/// KMS call: async code runs it on tokio's blocking pool (`EncryptionClient::open_material`).
/// With the [`ContentMaterial`] a caller can re-encrypt local bytes and compare their CRC-64
/// with the stored object's (what `osscse verify` does) without downloading it.
///
/// # Errors
/// Key selection and unwrapping errors.
pub fn material_for(
    encryption: &ObjectEncryption,
    keys: &Keyring,
) -> Result<Option<ContentMaterial>> {
    match encryption {
        ObjectEncryption::Plain => Ok(None),
        ObjectEncryption::Envelope(e) => Ok(Some(keys.open(e)?)),
        ObjectEncryption::Legacy(l) => Ok(Some(keys.open_legacy(l)?)),
    }
}

/// Turns an I/O error that carries an osscse error back into that error.
pub fn from_io(context: &str, e: io::Error) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        if let Some(inner) = e.into_inner()
            && let Ok(err) = inner.downcast::<Error>()
        {
            return *err;
        }
        return Error::Protocol("lost error".into());
    }
    Error::io(context, e)
}

fn to_io(e: Error) -> io::Error {
    io::Error::other(e)
}

/// What a read of stored bytes must come to: their count and, when the server gave one, their
/// CRC-64 (the blocking [`VerifyingReader`] and the async GET reader check the same way).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected {
    /// Byte count.
    pub(crate) len: u64,
    /// CRC-64/ECMA of the bytes, when known.
    pub(crate) crc: Option<u64>,
    /// What is being read, for the mismatch error.
    pub(crate) what: &'static str,
}

impl Expected {
    /// After each chunk: more bytes than announced is an error at once.
    pub(crate) fn check_overrun(&self, got: &Crc64) -> Result<()> {
        if got.len() > self.len {
            return Err(Error::Truncated {
                expected: self.len,
                actual: got.len(),
            });
        }
        Ok(())
    }

    /// At the end: exactly the announced count, with the announced CRC-64.
    pub(crate) fn check_end(&self, got: &Crc64) -> Result<()> {
        if got.len() != self.len {
            return Err(Error::Truncated {
                expected: self.len,
                actual: got.len(),
            });
        }
        match self.crc {
            Some(server) if server != got.value() => Err(Error::CrcMismatch {
                what: self.what.to_owned(),
                server,
                client: got.value(),
            }),
            _ => Ok(()),
        }
    }
}

/// A reader over stored (cipher)text that fails instead of ending early: it checks the byte
/// count and, when given, the CRC-64 of everything read before it reports the end.
#[derive(Debug)]
pub(crate) struct VerifyingReader<R> {
    inner: R,
    expected: Expected,
    crc: Crc64,
}

impl<R: Read> VerifyingReader<R> {
    /// Verifies `expected_len` bytes, and their CRC-64 when `expected_crc` is set.
    pub(crate) fn new(
        inner: R,
        expected_len: u64,
        expected_crc: Option<u64>,
        what: &'static str,
    ) -> Self {
        Self {
            inner,
            expected: Expected {
                len: expected_len,
                crc: expected_crc,
                what,
            },
            crc: Crc64::new(),
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(e),
        };
        self.crc.update(&buf[..n]);
        self.expected.check_overrun(&self.crc).map_err(to_io)?;
        if n == 0 {
            self.expected.check_end(&self.crc).map_err(to_io)?;
        }
        Ok(n)
    }
}

/// Where a read starts and ends, given the caller's range and (when needed) the object size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadPlan {
    /// The whole object.
    Whole,
    /// A range: fetch `aligned_first..=last` of the stored bytes.
    Range(RangePlan),
}

impl ReadPlan {
    /// Plans `range` for an object of `size` bytes (`None` = whole object).
    ///
    /// # Errors
    /// A range that starts at or past the end.
    pub(crate) fn new(range: Option<ByteRange>, size: u64) -> Result<Self> {
        match range {
            None => Ok(Self::Whole),
            Some(r) => Ok(Self::Range(RangePlan::resolve(r, size)?)),
        }
    }
}

/// Wraps a stored-bytes reader positioned at `stored_offset` into the plaintext reader:
/// decrypts (when `material` is set) at that offset, then drops `skip` bytes.
pub(crate) fn plaintext_reader<'a>(
    stored: impl Read + Send + 'a,
    material: Option<&ContentMaterial>,
    stored_offset: u64,
    skip: u64,
) -> Box<dyn Read + Send + 'a> {
    match material {
        Some(m) => Box::new(CtrReader::with_skip(
            stored,
            m.keystream_at(stored_offset),
            skip,
        )),
        None => Box::new(Skip {
            inner: stored,
            skip,
        }),
    }
}

/// Drops the first `skip` bytes of a plain object's stream.
struct Skip<R> {
    inner: R,
    skip: u64,
}

impl<R: Read> Read for Skip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.skip > 0 {
            let mut scratch = [0u8; 16];
            let want = self.skip.min(16) as usize;
            let n = self.inner.read(&mut scratch[..want])?;
            if n == 0 {
                return Ok(0);
            }
            self.skip -= n as u64;
        }
        self.inner.read(buf)
    }
}

/// Copies `reader` into a temporary file next to `dest` and renames it to `dest` only when
/// the reader ended without error (its verification passed). Returns the bytes written.
///
/// # Errors
/// I/O errors, and the reader's verification errors (the temporary file is removed).
pub fn write_file_atomically(mut reader: impl Read, dest: &Path) -> Result<u64> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".osscse-download-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
    let n = io::copy(&mut reader, tmp.as_file_mut()).map_err(|e| from_io("downloading", e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
    tmp.persist(dest)
        .map_err(|e| Error::io(format!("renaming into {}", dest.display()), e.error))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crc64::checksum;

    fn read_all(mut r: impl Read) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        r.read_to_end(&mut v).map_err(|e| from_io("test", e))?;
        Ok(v)
    }

    #[test]
    fn verifying_reader_accepts_exact_data() {
        let data = b"hello world".to_vec();
        let r = VerifyingReader::new(&data[..], 11, Some(checksum(&data)), "download");
        assert_eq!(read_all(r).unwrap(), data);
    }

    #[test]
    fn verifying_reader_catches_truncation_and_excess() {
        let data = b"hello world".to_vec();
        let r = VerifyingReader::new(&data[..5], 11, None, "download");
        assert!(matches!(
            read_all(r),
            Err(Error::Truncated {
                expected: 11,
                actual: 5
            })
        ));
        let r = VerifyingReader::new(&data[..], 5, None, "download");
        assert!(matches!(
            read_all(r),
            Err(Error::Truncated { expected: 5, .. })
        ));
    }

    #[test]
    fn verifying_reader_catches_crc_mismatch() {
        let data = b"hello world".to_vec();
        let r = VerifyingReader::new(&data[..], 11, Some(checksum(b"hello worle")), "download");
        assert!(matches!(read_all(r), Err(Error::CrcMismatch { .. })));
    }

    #[test]
    fn plain_reader_skips() {
        let data: Vec<u8> = (0..100u8).collect();
        let r = plaintext_reader(&data[32..], None, 32, 5);
        assert_eq!(read_all(r).unwrap(), &data[37..]);
    }

    #[test]
    fn encrypted_reader_decrypts_at_offset_and_skips() {
        let m = ContentMaterial::from_parts([7; 32], [1; 16]);
        let plain: Vec<u8> = (0..200u32).map(|i| i as u8).collect();
        let mut ct = plain.clone();
        m.apply_at(0, &mut ct);
        for first in 0..48u64 {
            let aligned = first - first % 16;
            let r = plaintext_reader(&ct[aligned as usize..], Some(&m), aligned, first - aligned);
            assert_eq!(
                read_all(r).unwrap(),
                &plain[first as usize..],
                "start {first}"
            );
        }
    }

    #[test]
    fn atomic_write_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.bin");
        let data = b"0123456789".to_vec();
        let bad = VerifyingReader::new(&data[..], 10, Some(1), "download");
        assert!(matches!(
            write_file_atomically(bad, &dest),
            Err(Error::CrcMismatch { .. })
        ));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file, no temporary left"
        );
        let good = VerifyingReader::new(&data[..], 10, Some(checksum(&data)), "download");
        assert_eq!(write_file_atomically(good, &dest).unwrap(), 10);
        assert_eq!(std::fs::read(&dest).unwrap(), data);
    }
}
