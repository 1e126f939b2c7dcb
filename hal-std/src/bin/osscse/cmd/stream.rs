//! `osscse put - oss://...`: stdin through a multipart upload, one part (default 8 MiB) in
//! memory at a time instead of all of stdin. (With --unencrypted-md5 the MD5 must be known
//! before the upload starts, so stdin is still read whole; file:// stores need the length up
//! front and read it whole as well.)

use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll};

use osscse_std::Error;
use osscse_std::keys::Keyring;
use osscse_std::local::PutOptions;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use crate::cli::Global;

/// Default part size for stdin.
const STDIN_PART: u64 = 8 << 20;
/// Bytes per chunk handed from the stdin thread.
const CHUNK: usize = 1 << 20;

/// Streams stdin to `bucket`/`key`.
pub(crate) fn put_stdin(
    g: &Global,
    bucket: &str,
    key: &str,
    keys: Keyring,
    part_size: Option<u64>,
) -> Result<(), Error> {
    let client = crate::run::oss(g, keys)?;
    let (tx, rx) = mpsc::channel::<std::io::Result<Vec<u8>>>(2);
    // The reading thread ends at EOF, on an error, or when the upload stops listening.
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        loop {
            let mut buf = vec![0u8; CHUNK];
            let msg = match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    Ok(buf)
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
            let failed = msg.is_err();
            if tx.blocking_send(msg).is_err() || failed {
                break;
            }
        }
    });
    let mut source = ChannelRead {
        rx,
        chunk: Vec::new(),
        pos: 0,
    };
    let part = part_size.unwrap_or(STDIN_PART);
    client.put_stream(bucket, key, &mut source, part, &PutOptions::default())?;
    Ok(())
}

/// An `AsyncRead` over the chunks the stdin thread sends.
struct ChannelRead {
    rx: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl AsyncRead for ChannelRead {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        while self.pos == self.chunk.len() {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = buf.remaining().min(self.chunk.len() - self.pos);
        let start = self.pos;
        buf.put_slice(&self.chunk[start..start + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}
