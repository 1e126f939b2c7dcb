//! Plaintext sources that can be read again from any offset, and the replayable ciphertext
//! region of one upload built on them.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

use osscse_core::content::ContentMaterial;
use osscse_core::stream::CtrReader;

use crate::client::Replay;
use crate::error::{Error, Result};

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
pub(crate) struct EncryptedRegion<'a> {
    pub(crate) source: &'a dyn PlainSource,
    pub(crate) material: &'a ContentMaterial,
    pub(crate) offset: u64,
    pub(crate) len: u64,
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

/// Ciphertext of a plaintext buffer that sits at `offset` of the object (a part of a stream
/// of unknown length): replayable, encrypted under the object's counters at that offset.
pub(crate) struct EncryptedBuffer<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) material: &'a ContentMaterial,
    pub(crate) offset: u64,
}

impl Replay for EncryptedBuffer<'_> {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }
    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(CtrReader::new(
            self.data,
            self.material.keystream_at(self.offset),
        )))
    }
}
