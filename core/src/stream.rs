//! Streaming encryption and decryption over `embedded-io` (and, with `std`, `std::io`).
//!
//! AES-CTR encryption and decryption are the same operation, so one reader and one writer
//! serve both directions; the aliases name the intent. Output is identical however the data is
//! chunked. A reader can drop the first bytes it produces, which is how a ranged read that
//! starts inside a 16-byte block discards the bytes before the wanted offset.

use embedded_io::{ErrorType, Read, Write};

use crate::Keystream;

/// Size of the scratch buffer the writer encrypts through.
const SCRATCH: usize = 512;

/// Applies the keystream to everything read from `inner`.
pub struct CtrReader<R> {
    inner: R,
    keystream: Keystream,
    skip: u64,
}

/// A reader producing ciphertext from a plaintext reader.
pub type EncryptingReader<R> = CtrReader<R>;
/// A reader producing plaintext from a ciphertext reader.
pub type DecryptingReader<R> = CtrReader<R>;

impl<R> core::fmt::Debug for CtrReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CtrReader")
            .field("keystream", &self.keystream)
            .field("skip", &self.skip)
            .finish_non_exhaustive()
    }
}

impl<R> CtrReader<R> {
    /// Wraps `inner`; the first byte read is transformed with `keystream`'s current position.
    pub fn new(inner: R, keystream: Keystream) -> Self {
        Self {
            inner,
            keystream,
            skip: 0,
        }
    }

    /// As [`CtrReader::new`], dropping the first `skip` output bytes (a range's
    /// [`skip`](crate::content::RangePlan::skip)).
    pub fn with_skip(inner: R, keystream: Keystream, skip: u64) -> Self {
        Self {
            inner,
            keystream,
            skip,
        }
    }

    /// The wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Keystream position of the next byte.
    pub fn position(&self) -> u64 {
        self.keystream.position()
    }
}

impl<R: ErrorType> ErrorType for CtrReader<R> {
    type Error = R::Error;
}

impl<R> CtrReader<R> {
    /// One `read` of either I/O flavour: drops pending skip bytes, then transforms what
    /// `read` returns.
    fn read_with<E>(
        &mut self,
        buf: &mut [u8],
        mut read: impl FnMut(&mut R, &mut [u8]) -> Result<usize, E>,
    ) -> Result<usize, E> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.skip > 0 {
            let mut scratch = [0u8; 16];
            let want = usize::try_from(self.skip).map_or(16, |s| s.min(16));
            let n = read(&mut self.inner, &mut scratch[..want])?;
            if n == 0 {
                return Ok(0);
            }
            self.keystream.apply(&mut scratch[..n]);
            self.skip -= n as u64;
        }
        let n = read(&mut self.inner, buf)?;
        self.keystream.apply(&mut buf[..n]);
        Ok(n)
    }
}

impl<R: Read> Read for CtrReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.read_with(buf, R::read)
    }
}

/// Applies the keystream to everything written, passing the result to `inner`.
pub struct CtrWriter<W> {
    inner: W,
    keystream: Keystream,
}

/// A writer taking plaintext and writing ciphertext.
pub type EncryptingWriter<W> = CtrWriter<W>;
/// A writer taking ciphertext and writing plaintext.
pub type DecryptingWriter<W> = CtrWriter<W>;

impl<W> core::fmt::Debug for CtrWriter<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CtrWriter")
            .field("keystream", &self.keystream)
            .finish_non_exhaustive()
    }
}

impl<W> CtrWriter<W> {
    /// Wraps `inner`; the first byte written is transformed at `keystream`'s position.
    pub fn new(inner: W, keystream: Keystream) -> Self {
        Self { inner, keystream }
    }

    /// The wrapped writer.
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Keystream position of the next byte.
    pub fn position(&self) -> u64 {
        self.keystream.position()
    }

    /// Transforms up to `SCRATCH` bytes of `buf` into `scratch`, returning how many.
    fn fill(&mut self, buf: &[u8], scratch: &mut [u8; SCRATCH]) -> usize {
        let n = buf.len().min(SCRATCH);
        let _ = self.keystream.apply_to(&buf[..n], &mut scratch[..n]);
        n
    }

    /// One `write` of either I/O flavour: transforms a scratch-sized chunk and writes it.
    fn write_with<E>(
        &mut self,
        buf: &[u8],
        mut write: impl FnMut(&mut W, &[u8]) -> Result<usize, E>,
    ) -> Result<usize, E> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut scratch = [0u8; SCRATCH];
        let n = self.fill(buf, &mut scratch);
        let written = write(&mut self.inner, &scratch[..n]);
        self.rewind(n, *written.as_ref().unwrap_or(&0));
        written
    }

    /// After a short write of `written` out of `transformed` bytes, moves the keystream back so
    /// the unwritten bytes are transformed again next time.
    fn rewind(&mut self, transformed: usize, written: usize) {
        if written < transformed {
            let pos = self.keystream.position() - (transformed - written) as u64;
            self.keystream.seek(pos);
        }
    }
}

impl<W: ErrorType> ErrorType for CtrWriter<W> {
    type Error = W::Error;
}

impl<W: Write> Write for CtrWriter<W> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.write_with(buf, W::write)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

#[cfg(feature = "std")]
impl<R: std::io::Read> std::io::Read for CtrReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read_with(buf, R::read)
    }
}

#[cfg(feature = "std")]
impl<W: std::io::Write> std::io::Write for CtrWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_with(buf, W::write)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(feature = "async")]
mod asynchronous {
    use embedded_io_async::{Read, Write};

    use super::{CtrReader, CtrWriter, SCRATCH};

    impl<R: Read> Read for CtrReader<R> {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            if buf.is_empty() {
                return Ok(0);
            }
            while self.skip > 0 {
                let mut scratch = [0u8; 16];
                let want = usize::try_from(self.skip).map_or(16, |s| s.min(16));
                let n = self.inner.read(&mut scratch[..want]).await?;
                if n == 0 {
                    return Ok(0);
                }
                self.keystream.apply(&mut scratch[..n]);
                self.skip -= n as u64;
            }
            let n = self.inner.read(buf).await?;
            self.keystream.apply(&mut buf[..n]);
            Ok(n)
        }
    }

    impl<W: Write> Write for CtrWriter<W> {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            if buf.is_empty() {
                return Ok(0);
            }
            let mut scratch = [0u8; SCRATCH];
            let n = self.fill(buf, &mut scratch);
            let written = self.inner.write(&scratch[..n]).await;
            self.rewind(n, *written.as_ref().unwrap_or(&0));
            written
        }

        async fn flush(&mut self) -> Result<(), Self::Error> {
            self.inner.flush().await
        }
    }
}
