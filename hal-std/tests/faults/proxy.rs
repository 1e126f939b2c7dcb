//! A recording TCP proxy between the client and the loopback server.
//!
//! It sees what the server's knobs cannot: the exact bytes of every attempt (to prove that a
//! retry resends identical ciphertext), and it can cut traffic at a byte budget that spans
//! requests (to interrupt one part of a multipart upload, or one response, exactly once).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;

/// One HTTP request as the proxy forwarded it (the body may be cut short).
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// Request line, e.g. `PUT /bkt/k?partNumber=2&uploadId=X HTTP/1.1`.
    pub(crate) line: String,
    /// Header lines, names lower-case.
    pub(crate) headers: Vec<(String, String)>,
    /// The body bytes forwarded.
    pub(crate) body: Vec<u8>,
}

impl Recorded {
    /// A header's value.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The HTTP method.
    pub(crate) fn method(&self) -> &str {
        self.line.split(' ').next().unwrap_or("")
    }

    /// A query parameter's value from the request line.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        let target = self.line.split(' ').nth(1)?;
        let (_, q) = target.split_once('?')?;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    }
}

#[derive(Default)]
struct State {
    /// Client-to-server bytes still allowed (all connections together); `None` = unlimited.
    upload_budget: Option<u64>,
    /// Server-to-client bytes allowed before one cut; disarmed after it fired.
    download_budget: Option<u64>,
    /// Client-to-server bytes of every connection, in accept order.
    streams: Vec<Arc<Mutex<Vec<u8>>>>,
}

struct Shared {
    upstream: SocketAddr,
    stop: AtomicBool,
    state: Mutex<State>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The proxy; stops accepting when dropped.
pub(crate) struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub(crate) fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            upstream,
            stop: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        });
        let s = Arc::clone(&shared);
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = conn else { continue };
                let s = Arc::clone(&s);
                thread::spawn(move || relay(client, &s));
            }
        });
        Self { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cut every connection once `bytes` more client-to-server bytes have been forwarded (and
    /// refuse to forward anything afterwards).
    pub(crate) fn limit_upload(&self, bytes: u64) {
        lock(&self.shared.state).upload_budget = Some(bytes);
    }

    /// Cut the connection that carries the server-to-client byte number `bytes + 1` (counted
    /// from now over all connections), once; later traffic passes untouched.
    pub(crate) fn cut_download_once_after(&self, bytes: u64) {
        lock(&self.shared.state).download_budget = Some(bytes);
    }

    /// Every request forwarded so far, in order of connection, then of sending.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        let streams: Vec<Vec<u8>> = lock(&self.shared.state)
            .streams
            .iter()
            .map(|s| lock(s).clone())
            .collect();
        streams.iter().flat_map(|s| parse_requests(s)).collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn relay(client: TcpStream, shared: &Arc<Shared>) {
    let Ok(server) = TcpStream::connect(shared.upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let record = Arc::new(Mutex::new(Vec::new()));
    lock(&shared.state).streams.push(Arc::clone(&record));
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up_shared = Arc::clone(shared);
    let up = thread::spawn(move || {
        pump(c2, s2, &up_shared, Some(&record));
    });
    pump(server, client, shared, None);
    let _ = up.join();
}

/// Copies `from` to `to` until either side closes or a budget runs out, then closes both.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared, record: Option<&Mutex<Vec<u8>>>) {
    let upstream = record.is_some();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // An exhausted upload budget refuses even fresh connections.
        let allowed = {
            let st = lock(&shared.state);
            if upstream {
                st.upload_budget
            } else {
                st.download_budget
            }
        };
        if allowed == Some(0) {
            if !upstream {
                lock(&shared.state).download_budget = None;
            }
            break;
        }
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut cut = false;
        let send = {
            let mut st = lock(&shared.state);
            let budget = if upstream {
                &mut st.upload_budget
            } else {
                &mut st.download_budget
            };
            match budget {
                Some(left) if (n as u64) >= *left => {
                    let send = usize::try_from(*left).unwrap_or(n);
                    cut = true;
                    if upstream {
                        *left = 0;
                    } else {
                        *budget = None;
                    }
                    send
                }
                Some(left) => {
                    *left -= n as u64;
                    n
                }
                None => n,
            }
        };
        if let Some(r) = record {
            lock(r).extend_from_slice(&buf[..send]);
        }
        if to.write_all(&buf[..send]).is_err() || cut {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

/// Splits a client-to-server byte stream into requests (Content-Length bodies only, which is
/// all the client sends).
fn parse_requests(mut bytes: &[u8]) -> Vec<Recorded> {
    let mut out = Vec::new();
    while let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let line = lines.next().unwrap_or("").to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let rest = &bytes[end + 4..];
        let take = len.min(rest.len());
        out.push(Recorded {
            line,
            headers,
            body: rest[..take].to_vec(),
        });
        bytes = &rest[take..];
    }
    out
}
