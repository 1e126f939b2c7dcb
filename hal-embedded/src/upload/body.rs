//! The request body: [`BodySource`] (replayable plaintext), the digest pass over the ciphertext
//! for signed payloads, and the streaming encrypting body reqwless writes.

use core::cell::Cell;
use core::fmt;

use embedded_io_async::Write;
use md5::Md5;
use reqwless::request::RequestBody;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use super::CHUNK_LEN;
use super::sealed::SealedObject;
use crate::cipher::LoadKey;

/// The plaintext of one object: a known length and random access to its bytes.
///
/// The uploader reads it twice per attempt when the payload is signed (once to hash the
/// ciphertext, once to send it), and a retry reads it again, so the source must return the same
/// bytes every time. A source that changes between passes makes OSS refuse the body.
#[allow(async_fn_in_trait)]
pub trait BodySource {
    /// Why the bytes could not be read (e.g. a flash error).
    type Error: fmt::Debug;

    /// The plaintext length in bytes.
    fn len(&self) -> u64;

    /// Whether the object is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills all of `buf` with the plaintext bytes at `offset` (`offset + buf.len() <= len()`).
    ///
    /// # Errors
    /// The source's own error; the upload is then aborted with
    /// [`UploadError::Source`](crate::UploadError::Source).
    async fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Self::Error>;
}

/// A source reads past its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange;

impl BodySource for &[u8] {
    type Error = OutOfRange;

    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    async fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), OutOfRange> {
        let start = usize::try_from(offset).map_err(|_| OutOfRange)?;
        let end = start.checked_add(buf.len()).ok_or(OutOfRange)?;
        buf.copy_from_slice(self.get(start..end).ok_or(OutOfRange)?);
        Ok(())
    }
}

/// Digests of the ciphertext, in header form.
#[derive(Debug, Default)]
pub(crate) struct Digests {
    /// Lower-case hex SHA-256 (`x-oss-content-sha256`), when computed.
    pub(crate) sha256_hex: Option<heapless::String<64>>,
    /// Base64 MD5 (`Content-MD5`), when computed.
    pub(crate) md5_base64: Option<heapless::String<24>>,
}

fn hex_lower(bytes: &[u8; 32]) -> heapless::String<64> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = heapless::String::new();
    for b in bytes {
        // 64 characters exactly fill the string: the pushes cannot fail.
        let _ = s.push(char::from(HEX[usize::from(b >> 4)]));
        let _ = s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

fn base64_16(bytes: &[u8; 16]) -> heapless::String<24> {
    use base64ct::{Base64, Encoding};
    let mut buf = [0u8; 24];
    let mut s = heapless::String::new();
    if let Ok(text) = Base64::encode(bytes, &mut buf) {
        // 16 bytes are 24 base64 characters: the push cannot fail.
        let _ = s.push_str(text);
    }
    s
}

/// The first pass: reads the source, encrypts it chunk by chunk and hashes the ciphertext.
pub(crate) async fn digest_ciphertext<S: BodySource, B: LoadKey>(
    object: &SealedObject<B>,
    source: &mut S,
    len: usize,
    sha256: bool,
    md5: bool,
) -> Result<Digests, S::Error> {
    let mut sha = sha256.then(Sha256::new);
    let mut md = md5.then(Md5::new);
    let mut buf = [0u8; CHUNK_LEN];
    let mut offset = 0usize;
    let mut result = Ok(());
    while offset < len {
        let n = CHUNK_LEN.min(len - offset);
        let chunk = &mut buf[..n];
        if let Err(e) = source.read_at(offset as u64, chunk).await {
            result = Err(e);
            break;
        }
        object.encrypt_at(offset as u64, chunk);
        if let Some(h) = sha.as_mut() {
            h.update(&*chunk);
        }
        if let Some(h) = md.as_mut() {
            h.update(&*chunk);
        }
        offset += n;
    }
    buf.zeroize();
    result?;
    Ok(Digests {
        sha256_hex: sha.map(|h| hex_lower(&h.finalize().into())),
        md5_base64: md.map(|h| base64_16(&h.finalize().into())),
    })
}

/// The streaming request body: reads plaintext, encrypts it chunk by chunk, writes ciphertext.
pub(crate) struct EncryptingBody<'s, S: BodySource, B: LoadKey> {
    pub(crate) source: Cell<Option<&'s mut S>>,
    pub(crate) object: &'s SealedObject<B>,
    pub(crate) len: usize,
    pub(crate) error: Cell<Option<S::Error>>,
}

/// reqwless takes the body by value; the state stays with the uploader to read the source error.
pub(crate) struct BodyRef<'b, 's, S: BodySource, B: LoadKey>(
    pub(crate) &'b EncryptingBody<'s, S, B>,
);

impl<S: BodySource, B: LoadKey> RequestBody for BodyRef<'_, '_, S, B> {
    fn len(&self) -> Option<usize> {
        Some(self.0.len)
    }

    async fn write<W: Write>(&self, writer: &mut W) -> Result<(), W::Error> {
        self.0.write(writer).await
    }
}

impl<S: BodySource, B: LoadKey> EncryptingBody<'_, S, B> {
    async fn write<W: Write>(&self, writer: &mut W) -> Result<(), W::Error> {
        let Some(source) = self.source.take() else {
            return Ok(());
        };
        let mut buf = [0u8; CHUNK_LEN];
        let mut offset = 0usize;
        let mut result = Ok(());
        while offset < self.len {
            let n = CHUNK_LEN.min(self.len - offset);
            let chunk = &mut buf[..n];
            if let Err(e) = source.read_at(offset as u64, chunk).await {
                // Writing fewer bytes than Content-Length makes reqwless abort the request
                // (IncorrectBodyWritten); the error itself is reported from here.
                self.error.set(Some(e));
                break;
            }
            self.object.encrypt_at(offset as u64, chunk);
            if let Err(e) = writer.write_all(chunk).await {
                result = Err(e);
                break;
            }
            offset += n;
        }
        buf.zeroize();
        self.source.set(Some(source));
        result
    }
}
