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
