//! The uploader in the firmware (features `upload` and `tls`; footprint.sh's uploader and TLS
//! lines): the sealed payload is PUT with osscse-embedded's uploader (plain HTTP, or with `tls`
//! HTTPS with a pinned CA, `hal-embedded/tests/data/tls/pinned-ca.der`) through an in-memory
//! transport with no server behind it (QEMU's mps2-an386 has no network here). Over TLS the
//! handshake runs up to its ClientHello (P-256 key share, client random from the DRBG-keyed
//! generator); then the connection reads end-of-stream and the uploader reports the failure,
//! printed as `upload=no-server`.
//!
//! Every read result passes through `black_box`, so the optimizer cannot prove the server never
//! answers and drop what an answer would reach (HTTP response parsing; over TLS record
//! decryption, certificate chain, name and validity checks, CertificateVerify): the flash
//! figure is the real uploader's.

use core::future::Future;
use core::hint::black_box;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use cortex_m_semihosting::hprintln;
use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
use embedded_nal_async::{AddrType, Dns, TcpConnect};
use osscse_core::sign::Credentials;
#[cfg(feature = "tls")]
use osscse_embedded::tls::{READ_BUFFER_LEN, TlsConnector, WallClock};
use osscse_embedded::{Addressing, CtrDrbg, SealedObject, Target, UploadError, Uploader};

use crate::fixture;

/// The CA the connector pins (the host TLS tests' test CA).
#[cfg(feature = "tls")]
static CA: &[u8] = include_bytes!("../../tests/data/tls/pinned-ca.der");
/// TLS record buffers the uploader needs (static, so footprint.sh counts them as RAM).
#[cfg(feature = "tls")]
const WRITE_BUFFER_LEN: usize = 4096;

/// The device clock for certificate validity: the fixture's signing time.
#[cfg(feature = "tls")]
struct FixtureClock;

#[cfg(feature = "tls")]
impl WallClock for FixtureClock {
    fn now() -> Option<u64> {
        Some(fixture::SIGNING_TIME)
    }
}

/// A TCP stack whose connections take every byte and then read end-of-stream.
struct NoServer;

/// One connection of [`NoServer`].
struct Connection;

impl ErrorType for Connection {
    type Error = ErrorKind;
}

impl Read for Connection {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        // Opaque to the optimizer: a real stack would fill `buf` from the network.
        let n = black_box(0usize).min(buf.len());
        buf[..n].fill(black_box(0));
        Ok(n)
    }
}

impl Write for Connection {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        Ok(black_box(buf).len())
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl TcpConnect for NoServer {
    type Error = ErrorKind;
    type Connection<'a> = Connection;

    async fn connect(&self, _remote: SocketAddr) -> Result<Connection, ErrorKind> {
        Ok(Connection)
    }
}

impl Dns for NoServer {
    type Error = ErrorKind;

    async fn get_host_by_name(&self, _host: &str, _t: AddrType) -> Result<IpAddr, ErrorKind> {
        Ok(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
    }

    async fn get_host_by_address(&self, _a: IpAddr, _r: &mut [u8]) -> Result<usize, ErrorKind> {
        Err(ErrorKind::Unsupported)
    }
}

/// Polls `f` to completion (every future here is ready at once: in-memory I/O).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// PUTs `sealed`'s ciphertext of the fixture payload and prints the outcome.
pub(crate) fn put(sealed: &SealedObject, drbg: &mut CtrDrbg) {
    let credentials = Credentials::new(fixture::ACCESS_KEY_ID, fixture::ACCESS_KEY_SECRET);
    #[cfg(feature = "tls")]
    let mut uploader = {
        let (Some(read), Some(write)) = (
            cortex_m::singleton!(: [u8; READ_BUFFER_LEN] = [0; READ_BUFFER_LEN]),
            cortex_m::singleton!(: [u8; WRITE_BUFFER_LEN] = [0; WRITE_BUFFER_LEN]),
        ) else {
            crate::fail("tls buffers");
        };
        let Ok(tls) = TlsConnector::new(CA, read, write, FixtureClock, drbg) else {
            crate::fail("tls rng");
        };
        let target = Target {
            endpoint: "https://oss-tls.test",
            bucket: fixture::BUCKET,
            region: fixture::REGION,
            addressing: Addressing::VirtualHosted,
        };
        Uploader::new_with_tls(&NoServer, &NoServer, tls, target, &credentials)
    };
    #[cfg(not(feature = "tls"))]
    let mut uploader = {
        let _ = drbg;
        let target = Target {
            endpoint: "http://oss-plain.test",
            bucket: fixture::BUCKET,
            region: fixture::REGION,
            addressing: Addressing::VirtualHosted,
        };
        Uploader::new(&NoServer, &NoServer, target, &credentials)
    };
    let mut rx = [0u8; 1024];
    let mut source = fixture::PAYLOAD;
    let result = block_on(uploader.put(
        fixture::OBJECT_KEY,
        sealed,
        &mut source,
        Some(fixture::CONTENT_TYPE),
        fixture::SIGNING_TIME,
        &mut rx,
    ));
    match result {
        #[cfg(feature = "tls")]
        Err(UploadError::Tls(_)) => hprintln!("upload=no-server"),
        #[cfg(not(feature = "tls"))]
        Err(UploadError::Transport(_)) => hprintln!("upload=no-server"),
        Err(_) => crate::fail("upload: another error"),
        Ok(_) => crate::fail("upload: no server, yet a success"),
    }
}
