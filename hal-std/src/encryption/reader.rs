//! Async readers: the decrypting, verifying reader over a GET body and the encrypting reader
//! over an upload source.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use futures_util::StreamExt;
use osscse_core::content::ContentMaterial;
use osscse_core::engine::Keystream;
use tokio::io::{AsyncRead, ReadBuf};

use crate::crc64::Crc64;
use crate::error::Error;
use crate::object::Expected;
use crate::transport::{ResponseStream, TransportErrorKind};

/// The plaintext of a GET body: it decrypts at the body's offset, drops the `skip` bytes of
/// block alignment, and fails instead of ending early: it checks the byte count and, when
/// given, the CRC-64 of the stored bytes before it reports the end.
pub(crate) struct PlainReader {
    body: ResponseStream,
    keystream: Option<Keystream>,
    skip: u64,
    expected: Expected,
    crc: Crc64,
    pending: Bytes,
    done: bool,
}

impl PlainReader {
    /// `expected_len` stored bytes starting at `offset`; decrypted with `material` when set.
    pub(crate) fn new(
        body: ResponseStream,
        material: Option<&ContentMaterial>,
        offset: u64,
        skip: u64,
        expected_len: u64,
        expected_crc: Option<u64>,
        what: &'static str,
    ) -> Self {
        Self {
            body,
            keystream: material.map(|m| m.keystream_at(offset)),
            skip,
            expected: Expected {
                len: expected_len,
                crc: expected_crc,
                what,
            },
            crc: Crc64::new(),
            pending: Bytes::new(),
            done: false,
        }
    }

    /// CRC-64 and length of the stored bytes read so far.
    pub(crate) fn stored_crc(&self) -> Crc64 {
        self.crc
    }

    fn finish(&mut self) -> io::Result<()> {
        self.done = true;
        self.expected.check_end(&self.crc).map_err(to_io)
    }
}

impl AsyncRead for PlainReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.pending.is_empty() {
                // Straight from the received frame into the caller's buffer: decrypted out of
                // place (the copy is the decryption) or copied when the object is plain.
                let n = buf.remaining().min(this.pending.len());
                let src = &this.pending[..n];
                match &mut this.keystream {
                    Some(ks) => {
                        let dst = buf.initialize_unfilled_to(n);
                        ks.apply_to(src, &mut dst[..n])
                            .map_err(|e| to_io(Error::Core(e)))?;
                        buf.advance(n);
                    }
                    None => buf.put_slice(src),
                }
                this.pending.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.done || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            match ready!(this.body.poll_next_unpin(cx)) {
                Some(Ok(mut chunk)) => {
                    this.crc.update(&chunk);
                    if let Err(e) = this.expected.check_overrun(&this.crc) {
                        this.done = true;
                        return Poll::Ready(Err(to_io(e)));
                    }
                    // The block-alignment bytes before the caller's range: skipped, and the
                    // keystream moved past them.
                    let drop = usize::try_from(this.skip)
                        .unwrap_or(usize::MAX)
                        .min(chunk.len());
                    if drop > 0 {
                        this.skip -= drop as u64;
                        chunk.advance(drop);
                        if let Some(ks) = &mut this.keystream {
                            ks.seek(ks.position() + drop as u64);
                        }
                    }
                    this.pending = chunk;
                }
                Some(Err(e)) => {
                    this.done = true;
                    let err = if e.kind() == TransportErrorKind::Reset {
                        Error::Truncated {
                            expected: this.expected.len,
                            actual: this.crc.len(),
                        }
                    } else {
                        Error::io(
                            "downloading",
                            io::Error::new(
                                if e.kind() == TransportErrorKind::Timeout {
                                    io::ErrorKind::TimedOut
                                } else {
                                    io::ErrorKind::Other
                                },
                                e,
                            ),
                        )
                    };
                    return Poll::Ready(Err(to_io(err)));
                }
                None => return Poll::Ready(this.finish()),
            }
        }
    }
}

/// Encrypts (or decrypts) an async stream with AES-256-CTR as it is read.
pub(crate) struct CtrAsyncReader<'r> {
    inner: &'r mut (dyn AsyncRead + Send + Unpin),
    keystream: Keystream,
}

impl<'r> CtrAsyncReader<'r> {
    /// The keystream applied from its current position.
    pub(crate) fn new(inner: &'r mut (dyn AsyncRead + Send + Unpin), keystream: Keystream) -> Self {
        Self { inner, keystream }
    }
}

impl AsyncRead for CtrAsyncReader<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut *this.inner).poll_read(cx, buf))?;
        this.keystream.apply(&mut buf.filled_mut()[before..]);
        Poll::Ready(Ok(()))
    }
}

fn to_io(e: Error) -> io::Error {
    io::Error::other(e)
}
