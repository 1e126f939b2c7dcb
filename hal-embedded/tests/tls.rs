//! The `tls` feature against a local TLS 1.3 server (rustls) with test CAs
//! (`tests/data/tls/make-certs.sh`): the pinned CA succeeds and the object decrypts; a server
//! certificate from another CA, one naming another host, and one past its notAfter at the
//! connector's clock all fail with `UploadError::Tls` before any request byte reaches the server;
//! the loudly named unverified mode connects to anything.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)] // a std host test

#[path = "support/device.rs"]
mod support;
#[path = "support/tls_server.rs"]
mod tls_server;

use std::path::PathBuf;

use futures_lite::future::block_on;
use osscse_core::sign::Credentials;
use osscse_embedded::tls::{NoWallClock, READ_BUFFER_LEN, TlsConnector, WallClock};
use osscse_embedded::{Addressing, SealedObject, Target, UploadError, Uploader};
use std_embedded_nal_async::Stack;
use support::*;
use tls_server::TlsServer;

fn tls_dir() -> PathBuf {
    data_dir().join("tls")
}

fn pinned_ca() -> Vec<u8> {
    std::fs::read(tls_dir().join("pinned-ca.der")).unwrap()
}

/// The host's clock.
#[derive(Default)]
struct SystemClock;

impl WallClock for SystemClock {
    fn now() -> Option<u64> {
        Some(now())
    }
}

/// 2060-01-01, after the test certificates' notAfter (30 years from 2026). Its own type, so a
/// connector on it cannot change the time any other connector sees (the tests run in parallel).
#[derive(Default)]
struct In2060;

impl WallClock for In2060 {
    fn now() -> Option<u64> {
        Some(2_840_140_800)
    }
}

/// Every name is 127.0.0.1.
struct LoopbackDns;

impl embedded_nal_async::Dns for LoopbackDns {
    type Error = core::convert::Infallible;

    async fn get_host_by_name(
        &self,
        _host: &str,
        _addr_type: embedded_nal_async::AddrType,
    ) -> Result<core::net::IpAddr, Self::Error> {
        Ok(core::net::IpAddr::from([127, 0, 0, 1]))
    }

    async fn get_host_by_address(
        &self,
        _addr: core::net::IpAddr,
        _result: &mut [u8],
    ) -> Result<usize, Self::Error> {
        Ok(0)
    }
}

/// Uploads `data` as `key` over TLS to a server presenting `cert`.
fn upload<K: WallClock>(
    cert: &str,
    connector: fn() -> TlsConnector<'static, K>,
    key: &str,
    data: &[u8],
) -> (
    Result<(), UploadError<osscse_embedded::upload::OutOfRange>>,
    TlsServer,
    osscse_tests::Server,
) {
    let server = start_server();
    let tls_server = TlsServer::start(&tls_dir(), cert, server.addr());
    let endpoint = format!("https://oss-tls.test:{}", tls_server.port());
    let target = Target {
        endpoint: &endpoint,
        bucket: BUCKET,
        region: REGION,
        addressing: Addressing::VirtualHosted,
    };
    let stack = Stack::default();
    let credentials = Credentials::new(AK, SK);
    let mut uploader =
        Uploader::new_with_tls(&stack, &LoopbackDns, connector(), target, &credentials);
    assert!(uploader.uses_tls());
    let sealed =
        SealedObject::new(&public_key(), &mut fixed_drbg(6), None, data.len() as u64).unwrap();
    let mut rx = [0u8; 2048];
    let result = block_on(uploader.put(key, &sealed, &mut &data[..], None, now(), &mut rx));
    (result.map(|_| ()), tls_server, server)
}

/// A buffer that outlives the connector (leaked: a test process).
fn buffer(len: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; len].into_boxed_slice())
}

fn pinned_at<K: WallClock + Default>() -> TlsConnector<'static, K> {
    let ca: &'static [u8] = Box::leak(pinned_ca().into_boxed_slice());
    TlsConnector::new(
        ca,
        buffer(READ_BUFFER_LEN),
        buffer(4096),
        K::default(),
        &mut fixed_drbg(7),
    )
    .unwrap()
}

fn pinned() -> TlsConnector<'static, SystemClock> {
    pinned_at()
}

fn insecure() -> TlsConnector<'static, NoWallClock> {
    let c = TlsConnector::insecure_without_server_verification(
        buffer(READ_BUFFER_LEN),
        buffer(4096),
        NoWallClock,
        &mut fixed_drbg(8),
    )
    .unwrap();
    assert!(!c.verifies_server());
    c
}

#[test]
fn pinned_ca_succeeds_and_the_object_decrypts() {
    let data = payload(3000, 6);
    let (result, tls_server, server) = upload("server", pinned, "tls/ok.bin", &data);
    result.unwrap();
    let log = tls_server.wait_for(1);
    assert!(matches!(log[0].handshake, Some(Ok(()))), "{log:?}");
    assert!(log[0].request_bytes > data.len());
    assert_eq!(read_with_osscse_std(&server, "tls/ok.bin"), data);
}

fn assert_refused_before_any_byte<K: WallClock>(
    cert: &str,
    connector: fn() -> TlsConnector<'static, K>,
) {
    let data = payload(100, 7);
    let (result, tls_server, server) = upload(cert, connector, "tls/refused.bin", &data);
    let err = result.expect_err("the handshake must fail");
    eprintln!("{cert} at {:?}: {err:?}", K::now());
    assert!(matches!(err, UploadError::Tls(_)), "{cert}: {err:?}");
    assert!(!err.is_retryable(), "{cert}");
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    let log = tls_server.wait_for(1);
    assert!(
        matches!(log[0].handshake, Some(Err(_))),
        "{cert}: the server saw {log:?}"
    );
    assert_eq!(log[0].request_bytes, 0, "{cert}: no request byte");
    assert_eq!(
        server.request_count(),
        1,
        "{cert}: only the bucket creation"
    );
}

#[test]
fn a_certificate_from_another_ca_is_refused_before_any_request_byte() {
    assert_refused_before_any_byte("server-other-ca", pinned);
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    assert_refused_before_any_byte("server-wrong-name", pinned);
}

#[test]
fn an_expired_certificate_is_refused_at_the_connectors_clock() {
    assert_refused_before_any_byte("server", pinned_at::<In2060>);
}

#[test]
fn the_insecure_opt_out_connects_to_any_server() {
    let data = payload(500, 8);
    let (result, _tls, server) = upload("server-other-ca", insecure, "tls/any.bin", &data);
    result.unwrap();
    assert_eq!(read_with_osscse_std(&server, "tls/any.bin"), data);
}

#[test]
fn schemes_must_match_the_transport() {
    let stack = Stack::default();
    let credentials = Credentials::new(AK, SK);
    let sealed = SealedObject::new(&public_key(), &mut fixed_drbg(9), None, 1).unwrap();
    let mut rx = [0u8; 256];
    // https:// without TLS.
    let mut plain = Uploader::new(&stack, &stack, target("https://127.0.0.1:1"), &credentials);
    let err = block_on(plain.put("k", &sealed, &mut &b"x"[..], None, now(), &mut rx)).unwrap_err();
    assert!(matches!(err, UploadError::SchemeMismatch), "{err:?}");
    // http:// with TLS.
    let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
    let tls = TlsConnector::new(&[], &mut a, &mut b, NoWallClock, &mut fixed_drbg(9)).unwrap();
    let mut secure = Uploader::new_with_tls(
        &stack,
        &stack,
        tls,
        target("http://127.0.0.1:1"),
        &credentials,
    );
    let err = block_on(secure.put("k", &sealed, &mut &b"x"[..], None, now(), &mut rx)).unwrap_err();
    assert!(matches!(err, UploadError::SchemeMismatch), "{err:?}");
}
