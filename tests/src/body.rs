//! Request bodies: received straight into the buffer that becomes the stored object, with the
//! CRC-64 (crc-fast) and, when needed, the MD5 computed while the bytes arrive.
//!
//! A large body with a `Content-Length` is read in [`PIPE_CHUNK`] pieces into one buffer
//! allocated at its final size; each received piece goes to a hashing thread for MD5 while the
//! next one is read, so receiving costs max(socket copy, MD5) rather than their sum and nothing
//! is hashed under the store lock. Bodies under fault knobs, chunked bodies and small ones take
//! the simple path (read, then hash).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;

use crc_fast::{CrcAlgorithm, Digest as CrcDigest};
use md5::{Digest, Md5};

use crate::http::{BodyFaults, HttpRequest, MAX_BODY, Pacer, ReadError};

/// Bodies at least this large are hashed on a second thread while being received.
const PIPELINE_MIN: u64 = 8 << 20;
/// Receive (and hash) unit of the pipelined path.
const PIPE_CHUNK: usize = 4 << 20;

/// CRC-64/XZ of `data` (the `x-oss-hash-crc64ecma` value).
pub(crate) fn crc64(data: &[u8]) -> u64 {
    crc_fast::checksum(CrcAlgorithm::Crc64Xz, data)
}

/// The CRC of `A ‖ B` from `crc(A)`, `crc(B)` and `len(B)`.
pub(crate) fn crc64_combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    if len_b == 0 {
        return crc_a;
    }
    crc_fast::checksum_combine(CrcAlgorithm::Crc64Xz, crc_a, crc_b, len_b)
}

/// A body cut short is a bad request; other socket errors just end the connection.
fn short(e: std::io::Error) -> ReadError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ReadError::Bad("body shorter than announced")
    } else {
        ReadError::Io
    }
}

/// Reads `req`'s body (answering `Expect: 100-continue` first) into `req.body`, with its
/// CRC-64 in `req.crc64` and, when `want_md5` or the request carries `Content-MD5`, its MD5 in
/// `req.md5`.
pub(crate) fn read_body(
    reader: &mut BufReader<TcpStream>,
    req: &mut HttpRequest,
    faults: &BodyFaults,
    want_md5: bool,
) -> Result<(), ReadError> {
    let want_md5 = want_md5 || req.header("content-md5").is_some();
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = match req.header("content-length") {
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ReadError::Bad("invalid Content-Length"))?,
        ),
        None => None,
    };
    if length.is_some_and(|l| l > MAX_BODY) {
        return Err(ReadError::Bad("body too large for the test server"));
    }
    let has_body = chunked || length.is_some_and(|l| l > 0);
    if has_body
        && req
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let faulty = faults.reset_after.is_some() || faults.throttle.is_some();
    match length {
        Some(len) if !chunked && !faulty && len >= PIPELINE_MIN => {
            return read_pipelined(reader, req, len, want_md5);
        }
        Some(len) if !chunked && !faulty => {
            req.body = vec![0u8; len as usize];
            reader.read_exact(&mut req.body).map_err(short)?;
        }
        _ => {
            let mut body = FaultyReader {
                reader,
                faults,
                pacer: Pacer::new(faults.throttle),
                total: 0,
            };
            if chunked {
                body.read_chunked(&mut req.body)?;
            } else if let Some(len) = length {
                body.read_exact_into(&mut req.body, len)?;
            }
        }
    }
    req.crc64 = crc64(&req.body);
    req.md5 = want_md5.then(|| Md5::digest(&req.body).into());
    Ok(())
}

/// Receives `len` bytes into one buffer, CRC-64 on this thread, MD5 on a scoped second thread
/// one chunk behind the socket.
fn read_pipelined(
    reader: &mut BufReader<TcpStream>,
    req: &mut HttpRequest,
    len: u64,
    want_md5: bool,
) -> Result<(), ReadError> {
    // A kept buffer of a replaced or deleted object when there is one (its pages already
    // faulted in), else fresh zeroed pages; written once by the socket copy.
    let mut body = crate::recycle::take(len as usize);
    let mut crc = CrcDigest::new(CrcAlgorithm::Crc64Xz);
    let md5 = std::thread::scope(|s| -> Result<Option<[u8; 16]>, ReadError> {
        let (tx, rx) = mpsc::sync_channel::<&[u8]>(4);
        let hasher = want_md5.then(|| {
            s.spawn(move || {
                let mut h = Md5::new();
                for piece in rx {
                    h.update(piece);
                }
                <[u8; 16]>::from(h.finalize())
            })
        });
        for piece in body.chunks_mut(PIPE_CHUNK) {
            reader.read_exact(piece).map_err(short)?;
            crc.update(piece);
            let piece: &[u8] = piece;
            if hasher.is_some() && tx.send(piece).is_err() {
                return Err(ReadError::Io);
            }
        }
        drop(tx);
        match hasher {
            Some(h) => h.join().map(Some).map_err(|_| ReadError::Io),
            None => Ok(None),
        }
    })?;
    req.body = body;
    req.crc64 = crc.finalize();
    req.md5 = md5;
    Ok(())
}

/// The body path under fault knobs (reset after N bytes, pacing) and for chunked bodies.
struct FaultyReader<'a> {
    reader: &'a mut BufReader<TcpStream>,
    faults: &'a BodyFaults,
    pacer: Pacer,
    total: u64,
}

impl FaultyReader<'_> {
    fn read_chunked(&mut self, out: &mut Vec<u8>) -> Result<(), ReadError> {
        loop {
            let mut size_line = String::new();
            self.reader.read_line(&mut size_line)?;
            // chunk-size [ BWS ; chunk-ext ]: extensions are ignored.
            let size_text = size_line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_text, 16)
                .map_err(|_| ReadError::Bad("invalid chunk size"))?;
            if size == 0 {
                // Trailers until the empty line.
                loop {
                    let mut t = String::new();
                    if self.reader.read_line(&mut t)? == 0 || t.trim().is_empty() {
                        return Ok(());
                    }
                }
            }
            if size > MAX_BODY || self.total + size > MAX_BODY {
                return Err(ReadError::Bad("body too large for the test server"));
            }
            self.read_exact_into(out, size)?;
            let mut crlf = String::new();
            self.reader.read_line(&mut crlf)?;
            if crlf != "\r\n" && crlf != "\n" {
                return Err(ReadError::Bad("chunk data not followed by CRLF"));
            }
        }
    }

    fn read_exact_into(&mut self, out: &mut Vec<u8>, mut n: u64) -> Result<(), ReadError> {
        let mut buf = vec![0u8; self.pacer.chunk()];
        while n > 0 {
            let mut want = (buf.len() as u64).min(n);
            if let Some(limit) = self.faults.reset_after {
                if self.total >= limit {
                    // Closing with unread data queued makes the kernel send RST.
                    return Err(ReadError::Reset);
                }
                want = want.min(limit - self.total);
            }
            let got = self.reader.read(&mut buf[..want as usize])?;
            if got == 0 {
                return Err(ReadError::Bad("body shorter than announced"));
            }
            out.extend_from_slice(&buf[..got]);
            self.total += got as u64;
            n -= got as u64;
            self.pacer.account(got);
        }
        Ok(())
    }
}
