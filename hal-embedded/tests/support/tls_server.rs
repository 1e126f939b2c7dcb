//! A local TLS 1.3 server (rustls) in front of the loopback OSS server, for `tls.rs`: it
//! terminates TLS with a test certificate, forwards one HTTP request per connection to the
//! upstream server and relays the answer, and records whether the handshake succeeded and how
//! many plaintext request bytes arrived.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// What one connection did.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnLog {
    /// `Err(reason)` when the handshake failed.
    pub(crate) handshake: Option<Result<(), String>>,
    /// Plaintext request bytes received.
    pub(crate) request_bytes: usize,
}

pub(crate) struct TlsServer {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<ConnLog>>>,
    _accept: JoinHandle<()>,
}

impl TlsServer {
    /// Serves `cert` (DER, with `key` PKCS#8 DER) on 127.0.0.1, forwarding to `upstream`.
    pub(crate) fn start(dir: &Path, cert: &str, upstream: SocketAddr) -> Self {
        let cert_der = std::fs::read(dir.join(format!("{cert}.der"))).unwrap();
        let key_der = std::fs::read(dir.join(format!("{cert}.key.der"))).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert_der)],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = Arc::clone(&log);
        let accept = thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { continue };
                let (config, l) = (Arc::clone(&config), Arc::clone(&l));
                thread::spawn(move || {
                    let entry = serve(tcp, config, upstream);
                    l.lock().unwrap().push(entry);
                });
            }
        });
        Self {
            addr,
            log,
            _accept: accept,
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Waits until `n` connections have finished and returns their logs.
    pub(crate) fn wait_for(&self, n: usize) -> Vec<ConnLog> {
        for _ in 0..500 {
            let log = self.log.lock().unwrap().clone();
            if log.len() >= n {
                return log;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("the TLS server saw fewer than {n} connections");
    }
}

fn serve(tcp: TcpStream, config: Arc<rustls::ServerConfig>, upstream: SocketAddr) -> ConnLog {
    let mut entry = ConnLog::default();
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
    let conn = rustls::ServerConnection::new(config).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    // Drive the handshake to completion (or failure) before reading the request.
    while tls.conn.is_handshaking() {
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            entry.handshake = Some(Err(e.to_string()));
            return entry;
        }
    }
    entry.handshake = Some(Ok(()));
    let request = match read_message(&mut tls) {
        Ok(r) => r,
        Err(_) => return entry,
    };
    entry.request_bytes = request.len();
    if let Ok(response) = forward(&request, upstream) {
        let _ = tls.write_all(&response);
        let _ = tls.flush();
    }
    tls.conn.send_close_notify();
    let _ = tls.conn.complete_io(&mut tls.sock);
    entry
}

fn forward(request: &[u8], upstream: SocketAddr) -> io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(request)?;
    read_message(&mut up)
}

/// One HTTP/1.1 message with a Content-Length body (or none).
fn read_message(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if r.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let start = buf.len();
    buf.resize(start + len, 0);
    r.read_exact(&mut buf[start..])?;
    Ok(buf)
}
