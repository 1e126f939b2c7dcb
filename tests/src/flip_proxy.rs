//! A man in the middle for tests: a loopback TCP proxy in front of a server that records every
//! byte the client sends and can flip one byte of the first request's body on its way through.
//!
//! ```no_run
//! use osscse_tests::flip_proxy::FlipProxy;
//! # let upstream: std::net::SocketAddr = "127.0.0.1:9000".parse().unwrap();
//! let proxy = FlipProxy::start(upstream, Some(1000))?; // flip body byte 1000
//! println!("point the client at {}", proxy.endpoint());
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Requests are forwarded as they arrive; the proxy finds the end of the first request head on
//! each connection (`\r\n\r\n`) and XORs `0x01` into the body byte at the configured offset. The
//! server's answers go back unchanged.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

/// What the proxy has seen.
#[derive(Debug, Default)]
struct Shared {
    /// Client-to-server bytes, per connection.
    sent: Mutex<Vec<Vec<u8>>>,
    /// Body bytes flipped so far.
    flips: AtomicU64,
    stop: AtomicBool,
}

/// A recording, byte-flipping TCP proxy on 127.0.0.1 (stopped on drop).
#[derive(Debug)]
pub struct FlipProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl FlipProxy {
    /// Listens on an ephemeral loopback port and forwards every connection to `upstream`,
    /// flipping body byte `flip_body_byte` (0-based, counted after the request head) of each
    /// connection's first request when given.
    ///
    /// # Errors
    /// The listener could not be bound.
    pub fn start(upstream: SocketAddr, flip_body_byte: Option<usize>) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let s = Arc::clone(&s);
                thread::spawn(move || {
                    // A failed connection is seen by the client as a transport error.
                    let _ = relay(client, upstream, flip_body_byte, &s);
                });
            }
        });
        Ok(Self {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bytes clients sent on each connection so far, before any flip.
    pub fn recorded(&self) -> Vec<Vec<u8>> {
        self.shared
            .sent
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// Every request clients sent, as recorded before any flip: connection by connection in the
    /// order the proxy accepted them, and within a connection in the order sent. Connections
    /// that carried no bytes are left out: an HTTP client's pool may open a connection it then
    /// never uses (hyper starts a connect while it waits for an idle one, and keeps whichever
    /// is ready first), so "the first connection" is not "the first request".
    ///
    /// Bodies are framed by `Content-Length` or `Transfer-Encoding: chunked` (decoded); a
    /// request cut short keeps the body bytes that arrived.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorded()
            .iter()
            .flat_map(|conn| split_requests(conn))
            .collect()
    }

    /// How many body bytes the proxy has flipped.
    pub fn flips(&self) -> u64 {
        self.shared.flips.load(Ordering::SeqCst)
    }
}

impl Drop for FlipProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// One request a client sent through the proxy (before any flip).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The request line and headers, without the blank line that ends them.
    pub head: String,
    /// The body (de-chunked when it was sent chunked).
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The method of the request line (`PUT`, `GET`, ...).
    pub fn method(&self) -> &str {
        self.head.split(' ').next().unwrap_or("")
    }

    /// The first header named `name` (ASCII case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Splits one connection's client bytes into requests.
fn split_requests(mut conn: &[u8]) -> Vec<RecordedRequest> {
    let mut out = Vec::new();
    while let Some(end) = conn.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&conn[..end]).into_owned();
        let rest = &conn[end + 4..];
        let mut req = RecordedRequest {
            head,
            body: Vec::new(),
        };
        let chunked = req
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let used = if chunked {
            dechunk(rest, &mut req.body)
        } else {
            let len = req
                .header("content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
                .min(rest.len());
            req.body.extend_from_slice(&rest[..len]);
            len
        };
        out.push(req);
        conn = &rest[used..];
    }
    out
}

/// Decodes a chunked body from `input` into `body`; returns the bytes consumed (all of
/// `input` when it ends early).
fn dechunk(input: &[u8], body: &mut Vec<u8>) -> usize {
    let mut at = 0;
    loop {
        let Some(eol) = input[at..].windows(2).position(|w| w == b"\r\n") else {
            return input.len();
        };
        let line = String::from_utf8_lossy(&input[at..at + eol]);
        let size = line.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            return input.len();
        };
        at += eol + 2;
        if size == 0 {
            // Trailers (if any) end with an empty line.
            return match input[at..].windows(2).position(|w| w == b"\r\n") {
                Some(0) => at + 2,
                _ => input[at..]
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(input.len(), |p| at + p + 4),
            };
        }
        let end = (at + size).min(input.len());
        body.extend_from_slice(&input[at..end]);
        if end < at + size {
            return input.len();
        }
        at = (end + 2).min(input.len());
    }
}

fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    flip: Option<usize>,
    shared: &Shared,
) -> io::Result<()> {
    let mut server = TcpStream::connect(upstream)?;
    let mut back_from = server.try_clone()?;
    let mut back_to = client.try_clone()?;
    let back = thread::spawn(move || {
        let _ = io::copy(&mut back_from, &mut back_to);
        let _ = back_to.shutdown(Shutdown::Write);
    });
    let index = {
        let mut sent = shared
            .sent
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?;
        sent.push(Vec::new());
        sent.len() - 1
    };
    let mut seen = 0usize; // bytes of this connection so far
    let mut body_start: Option<usize> = None;
    let mut flipped = false;
    let mut buf = [0u8; 8192];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &mut buf[..n];
        if let Ok(mut sent) = shared.sent.lock() {
            sent[index].extend_from_slice(chunk);
            if body_start.is_none() {
                body_start = sent[index]
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map(|p| p + 4);
            }
        }
        if let (Some(start), Some(k), false) = (body_start, flip, flipped) {
            let target = start + k;
            if (seen..seen + n).contains(&target) {
                chunk[target - seen] ^= 0x01;
                flipped = true;
                shared.flips.fetch_add(1, Ordering::SeqCst);
            }
        }
        seen += n;
        server.write_all(chunk)?;
    }
    let _ = server.shutdown(Shutdown::Write);
    let _ = back.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_requests;

    #[test]
    fn requests_are_split_by_length_and_by_chunks() {
        let conn = b"PUT /a HTTP/1.1\r\nContent-Length: 3\r\nContent-MD5: x\r\n\r\nabc\
GET /b HTTP/1.1\r\nHost: h\r\n\r\n\
PUT /c HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n2;ext=1\r\nde\r\n1\r\nf\r\n0\r\n\r\n\
PUT /d HTTP/1.1\r\nContent-Length: 9\r\n\r\nshort";
        let reqs = split_requests(conn);
        let got: Vec<_> = reqs
            .iter()
            .map(|r| (r.method(), r.header("content-md5"), r.body.as_slice()))
            .collect();
        assert_eq!(
            got,
            [
                ("PUT", Some("x"), &b"abc"[..]),
                ("GET", None, &b""[..]),
                ("PUT", None, &b"def"[..]),
                ("PUT", None, &b"short"[..]),
            ]
        );
        assert!(split_requests(b"").is_empty());
        assert!(split_requests(b"PUT / HTTP/1.1\r\nContent-Le").is_empty());
    }
}
