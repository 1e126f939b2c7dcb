//! Request bodies: what callers hand in ([`Body`], [`Replay`]) and the pump that feeds one
//! attempt's bytes to the transport while checking them against earlier attempts.

use std::fmt;
use std::io::{self, Read};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use crate::crc64::Crc64;
use crate::error::Error;

/// Bytes read from the source per chunk.
const CHUNK: usize = 256 * 1024;

/// A request body that can be produced again, byte for byte, for a retry.
pub trait Replay: Sync {
    /// The body length.
    fn len(&self) -> u64;
    /// Whether the body is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A fresh reader over the whole body.
    ///
    /// # Errors
    /// When the source cannot be opened.
    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>>;
}

/// A request body.
pub enum Body<'a> {
    /// No body.
    Empty,
    /// A buffer (replayable).
    Bytes(&'a [u8]),
    /// A replayable source; every attempt must give the bytes of the first (CRC-64 checked
    /// before any differing byte is sent), else the request fails with
    /// [`Error::SourceChanged`].
    Replay(&'a dyn Replay),
    /// A one-shot blocking stream of known length; never retried once sending began.
    Once {
        /// Exact length.
        len: u64,
        /// The stream.
        reader: &'a mut (dyn Read + Send),
    },
    /// A one-shot async stream of known length; never retried once sending began.
    Reader {
        /// Exact length.
        len: u64,
        /// The stream.
        reader: &'a mut (dyn AsyncRead + Send + Unpin),
    },
}

impl fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Self::Replay(r) => write!(f, "Replay({} bytes)", r.len()),
            Self::Once { len, .. } => write!(f, "Once({len} bytes)"),
            Self::Reader { len, .. } => write!(f, "Reader({len} bytes)"),
        }
    }
}

impl Body<'_> {
    /// The body length.
    pub fn len(&self) -> u64 {
        match self {
            Self::Empty => 0,
            Self::Bytes(b) => b.len() as u64,
            Self::Replay(r) => r.len(),
            Self::Once { len, .. } | Self::Reader { len, .. } => *len,
        }
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a failed attempt may be sent again.
    pub(crate) fn replayable(&self) -> bool {
        !matches!(self, Self::Once { .. } | Self::Reader { .. })
    }
}

/// A source being read for one attempt.
pub(crate) enum Source<'r> {
    /// Blocking reader (files are read in place: page-cache reads of one chunk).
    Sync(&'r mut (dyn Read + Send)),
    /// Async reader.
    Async(&'r mut (dyn AsyncRead + Send + Unpin)),
}

impl Source<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let r = match self {
                Self::Sync(r) => r.read(buf),
                Self::Async(r) => r.read(buf).await,
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }
}

/// What a pump produced: the CRC-64 of the bytes read (and handed on), and how it ended.
#[derive(Debug)]
pub(crate) struct Pumped {
    /// CRC-64 and length of what was read.
    pub(crate) crc: Crc64,
    /// `Ok(true)`: the whole body was read; `Ok(false)`: the transport stopped taking bytes;
    /// `Err`: the source failed or changed.
    pub(crate) outcome: Result<bool, Error>,
}

/// Reads `len` bytes of `source` into `tx`. `earlier` is the longest prefix an earlier attempt
/// read: before any chunk that reaches past its end is handed on, the CRC-64 of that prefix is
/// compared, so a changed source never puts a second ciphertext under the same keystream on
/// the wire.
pub(crate) async fn pump(
    mut source: Source<'_>,
    len: u64,
    earlier: Option<Crc64>,
    tx: mpsc::Sender<io::Result<Bytes>>,
) -> Pumped {
    let mut crc = Crc64::new();
    let mut checked = earlier.is_none();
    while crc.len() < len {
        let want = usize::try_from(len - crc.len()).unwrap_or(CHUNK).min(CHUNK);
        let mut buf = vec![0u8; want];
        let n = match source.read(&mut buf).await {
            Ok(0) => {
                let e = Error::ShortSource {
                    expected: len,
                    actual: crc.len(),
                };
                let _ = tx.send(Err(io::Error::other("short source"))).await;
                return Pumped {
                    crc,
                    outcome: Err(e),
                };
            }
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Err(io::Error::other("source failed"))).await;
                return Pumped {
                    crc,
                    outcome: Err(Error::io("reading the upload source", e)),
                };
            }
        };
        buf.truncate(n);
        if !checked && let Some(first) = earlier {
            let end = crc.len() + n as u64;
            if end >= first.len() {
                let k = usize::try_from(first.len() - crc.len()).unwrap_or(n);
                let mut prefix = crc;
                prefix.update(&buf[..k]);
                if prefix.value() != first.value() {
                    let _ = tx.send(Err(io::Error::other("source changed"))).await;
                    return Pumped {
                        crc,
                        outcome: Err(Error::SourceChanged),
                    };
                }
                checked = true;
            }
        }
        crc.update(&buf);
        if tx.send(Ok(Bytes::from(buf))).await.is_err() {
            return Pumped {
                crc,
                outcome: Ok(false),
            };
        }
    }
    Pumped {
        crc,
        outcome: Ok(true),
    }
}
