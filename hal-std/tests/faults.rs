//! Fault injection (issue 8): the encryption client against the loopback OSS server's fault
//! knobs (and a recording proxy for what the knobs cannot express). Every scenario asserts the
//! exact outcome: the right bytes, or a typed error with nothing wrong left behind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "faults/proxy.rs"]
mod proxy;

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use osscse_core::content::ByteRange;
use osscse_core::envelope::Matdesc;
use osscse_core::error::{EnvelopeError, Field, WrapError};
use osscse_core::sign::Credentials;
use osscse_core::wrap::RsaMasterKey;
use osscse_std::RetryPolicy;
use osscse_std::blocking::{Client, EncryptionClient};
use osscse_std::encryption::{Checkpoint, DownloadOptions, PlainSource, UploadOptions};
use osscse_std::fuzzing::crc64::checksum;
use osscse_std::keys::{Keyring, load_rsa_key};
use osscse_std::local::PutOptions;
use osscse_std::transport::TransportErrorKind;
use osscse_std::{Body, ClientConfig, Endpoint, Error, Request};
use osscse_tests::{Config, FaultConfig, Faults, Server};

use proxy::Proxy;

const BUCKET: &str = "bkt";
const META_KEY: &str = "x-oss-meta-client-side-encryption-key";
const META_START: &str = "x-oss-meta-client-side-encryption-start";
const META_CEK_ALG: &str = "x-oss-meta-client-side-encryption-cek-alg";
const META_WRAP_ALG: &str = "x-oss-meta-client-side-encryption-wrap-alg";

fn key(name: &str) -> RsaMasterKey {
    load_rsa_key(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn key_a() -> Keyring {
    Keyring::new(key("test-a-private.pem"))
}

fn server() -> Server {
    Server::start(Config::new("ak", "sk")).unwrap()
}

/// A plain client for `endpoint`: fast retries (3 attempts, 5 ms base), 2 s socket timeouts.
fn plain_client(endpoint: &str) -> Client {
    plain_client_with(endpoint, Duration::from_secs(2))
}

fn plain_client_with(endpoint: &str, io_timeout: Duration) -> Client {
    let mut cfg = ClientConfig::new(Endpoint::parse(endpoint).unwrap());
    cfg.region = Some("cn-hangzhou".into());
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    };
    cfg.connect_timeout = Duration::from_secs(2);
    cfg.io_timeout = io_timeout;
    Client::new(cfg, Credentials::new("ak", "sk")).unwrap()
}

/// A fresh encryption client. The server samples its knobs when a connection starts waiting
/// for a request, so every phase of a scenario uses a fresh client (no pooled connection that
/// sampled older knobs).
fn enc(endpoint: &str, keys: Keyring) -> EncryptionClient {
    EncryptionClient::new(plain_client(endpoint), keys)
}

fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ seed ^ (n as u64);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn put(c: &EncryptionClient, k: &str, plain: &[u8]) {
    c.put_source(BUCKET, k, &plain, &PutOptions::default())
        .unwrap();
}

fn set(s: &Server, f: FaultConfig) {
    s.faults().set(f);
}

/// The names in `dir`, sorted (to prove no temporary or partial file was left).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn io_kind(e: &Error) -> Option<io::ErrorKind> {
    match e {
        Error::Io { source, .. } => Some(source.kind()),
        _ => None,
    }
}

/// A plaintext source that counts how often it is opened (once per attempt) and runs a hook
/// on the `at`-th opening: the hook point between a failed attempt and its retry.
struct HookedSource<'a> {
    plain: &'a [u8],
    opens: AtomicU32,
    at: u32,
    hook: Box<dyn Fn() + Sync + 'a>,
}

impl PlainSource for HookedSource<'_> {
    fn len(&self) -> u64 {
        self.plain.len() as u64
    }
    fn open_at(&self, offset: u64, len: u64) -> io::Result<Box<dyn Read + Send + '_>> {
        if self.opens.fetch_add(1, Ordering::SeqCst) + 1 == self.at {
            (self.hook)();
        }
        (&self.plain).open_at(offset, len)
    }
}

/// Re-stores `k` with the same ciphertext and the envelope headers changed by `edit`.
fn tamper(s: &Server, k: &str, to: &str, edit: impl Fn(&mut Vec<(String, String)>)) {
    let stored = s.object(BUCKET, k).unwrap();
    let mut meta: Vec<(String, String)> = stored
        .meta
        .iter()
        .filter(|(n, _)| n.starts_with("x-oss-meta-"))
        .cloned()
        .collect();
    edit(&mut meta);
    let c = plain_client(&s.endpoint());
    let mut req = Request::new("PUT", Some(BUCKET), Some(to)).body(Body::Bytes(&stored.data));
    for (n, v) in &meta {
        req = req.header(n, v);
    }
    c.send(req).unwrap();
}

fn set_meta(meta: &mut [(String, String)], name: &str, value: &str) {
    meta.iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} not stored"))
        .1 = value.to_owned();
}

fn meta_of(meta: &[(String, String)], name: &str) -> String {
    meta.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{name} not stored"))
}

// 1 ------------------------------------------------------------------------------------------

#[test]
fn reset_mid_upload_is_retried_with_byte_identical_ciphertext() {
    let s = server();
    let p = Proxy::start(s.addr());
    let plain = data(200_000, 1);
    set(
        &s,
        FaultConfig {
            reset_after_body_bytes: Some(50_000),
            ..FaultConfig::default()
        },
    );
    let faults: Faults = s.faults().clone();
    // Openings: the Content-MD5 pass (payload signing, the default), the cut attempt, and the
    // retry, which finds the fault gone.
    let source = HookedSource {
        plain: &plain,
        opens: AtomicU32::new(0),
        at: 3,
        hook: Box::new(move || faults.clear()),
    };
    let c = enc(&p.endpoint(), key_a());
    let r = c
        .put_source(BUCKET, "reset", &source, &PutOptions::default())
        .unwrap();
    assert_eq!(
        source.opens.load(Ordering::SeqCst),
        3,
        "the digest pass and exactly one retry"
    );

    let stored = s.object(BUCKET, "reset").unwrap();
    assert_eq!(stored.data.len(), plain.len());
    assert_eq!(r.size, plain.len() as u64);
    assert_eq!(checksum(&stored.data), r.crc64, "stored CRC-64 = CRC sent");

    let puts: Vec<_> = p
        .requests()
        .into_iter()
        .filter(|q| q.method() == "PUT")
        .collect();
    assert_eq!(puts.len(), 2, "the cut attempt and the retry");
    let (first, second) = (&puts[0], &puts[1]);
    assert!(
        // The server read 50,000 bytes before the reset; the client may have pushed more
        // into the socket buffers.
        first.body.len() >= 50_000,
        "first attempt forwarded only {} bytes",
        first.body.len()
    );
    assert!(
        first.body[..] == stored.data[..first.body.len()],
        "the cut attempt sent a prefix of the stored ciphertext"
    );
    assert!(
        second.body == stored.data,
        "the retry sent the stored ciphertext"
    );
    assert_ne!(stored.data, plain);
    for h in [META_KEY, META_START] {
        assert_eq!(first.header(h), second.header(h), "{h} resent unchanged");
        assert_eq!(first.header(h), stored.meta(h), "{h} stored");
    }
    assert!(first.header("content-md5").is_some(), "a signed payload");
    assert_eq!(first.header("content-md5"), second.header("content-md5"));
    assert_eq!(
        enc(&s.endpoint(), key_a())
            .get_object_bytes(BUCKET, "reset", None)
            .unwrap(),
        plain
    );
}

// 2 ------------------------------------------------------------------------------------------

#[test]
fn service_unavailable_then_success_for_put_and_get() {
    let s = server();
    let plain = data(30_000, 2);
    let ep = s.endpoint();

    set(
        &s,
        FaultConfig {
            fail_first: 2,
            fail_status: 503,
            ..FaultConfig::default()
        },
    );
    let before = s.request_count();
    let r = enc(&ep, key_a())
        .put_source(BUCKET, "o", &plain.as_slice(), &PutOptions::default())
        .unwrap();
    // The server samples the knobs per connection, so the second 503 lands only when the
    // client reuses the connection for its retry: two or three requests, never one.
    let sent = s.request_count() - before;
    assert!(
        (2..=3).contains(&sent),
        "{sent} requests: at least one 503, then stored"
    );
    assert_eq!(checksum(&s.object(BUCKET, "o").unwrap().data), r.crc64);

    set(
        &s,
        FaultConfig {
            fail_first: 2,
            fail_status: 503,
            ..FaultConfig::default()
        },
    );
    let before = s.request_count();
    let got = enc(&ep, key_a())
        .get_object_bytes(BUCKET, "o", None)
        .unwrap();
    let sent = s.request_count() - before;
    assert!(
        (2..=3).contains(&sent),
        "{sent} requests: at least one 503, then the object"
    );
    assert_eq!(got, plain);

    // One 503 more than the attempts: the typed 503 reaches the caller, nothing is stored.
    set(
        &s,
        FaultConfig {
            fail_first: 3,
            fail_status: 503,
            ..FaultConfig::default()
        },
    );
    match enc(&ep, key_a()).put_source(BUCKET, "never", &plain.as_slice(), &PutOptions::default()) {
        Err(Error::Oss(e)) => {
            assert_eq!((e.status, e.code.as_str()), (503, "ServiceUnavailable"));
            assert!(!e.request_id.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(s.object(BUCKET, "never").is_none());
    // 500 on a GET is retried the same way.
    set(
        &s,
        FaultConfig {
            fail_first: 1,
            fail_status: 500,
            ..FaultConfig::default()
        },
    );
    assert_eq!(
        enc(&ep, key_a())
            .get_object_bytes(BUCKET, "o", None)
            .unwrap(),
        plain
    );
}

// 3 ------------------------------------------------------------------------------------------

#[test]
fn connection_cut_mid_download_is_refetched_whole_or_fails_typed() {
    let s = server();
    let plain = data(150_000, 3);
    put(&enc(&s.endpoint(), key_a()), "o", &plain);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    let opts = DownloadOptions {
        chunk_size: Some(65_536),
        jobs: Some(1),
        ..DownloadOptions::default()
    };

    // One cut, inside the first chunk's body (HEAD and GET headers are far below 20,000 bytes): the
    // chunk is fetched again whole and the file is exact.
    let p = Proxy::start(s.addr());
    p.cut_download_once_after(20_000);
    let n = enc(&p.endpoint(), key_a())
        .download_file(BUCKET, "o", &dest, &opts, None)
        .unwrap();
    assert_eq!(n, 150_000);
    assert!(std::fs::read(&dest).unwrap() == plain);
    let first_chunk_gets = p
        .requests()
        .iter()
        .filter(|q| q.method() == "GET" && q.header("range") == Some("bytes=0-65535"))
        .count();
    assert_eq!(first_chunk_gets, 2, "the cut chunk was fetched again");
    assert_eq!(listing(dir.path()), ["out.bin"]);

    // Every answer cut: a typed truncation error after the attempts, no file.
    std::fs::remove_file(&dest).unwrap();
    set(
        &s,
        FaultConfig {
            truncate_response_body: Some(1000),
            ..FaultConfig::default()
        },
    );
    match enc(&s.endpoint(), key_a()).download_file(BUCKET, "o", &dest, &opts, None) {
        Err(Error::Truncated { expected, actual }) => {
            assert_eq!((expected, actual), (65_536, 1000))
        }
        other => panic!("{other:?}"),
    }
    assert!(
        listing(dir.path()).is_empty(),
        "no partial or temporary file"
    );
}

// 4 ------------------------------------------------------------------------------------------

#[test]
fn truncated_response_bodies_are_typed_errors() {
    let s = server();
    let plain = data(10_000, 4);
    put(&enc(&s.endpoint(), key_a()), "o", &plain);
    set(
        &s,
        FaultConfig {
            truncate_response_body: Some(1000),
            ..FaultConfig::default()
        },
    );
    let c = enc(&s.endpoint(), key_a());
    match c.get_object_bytes(BUCKET, "o", None) {
        Err(Error::Truncated { expected, actual }) => {
            assert_eq!((expected, actual), (10_000, 1000));
        }
        other => panic!("{other:?}"),
    }
    // Ranged: 5..=9000 is fetched from 0 (aligned), so 9001 stored bytes were announced.
    let c = enc(&s.endpoint(), key_a());
    match c.get_object_bytes(
        BUCKET,
        "o",
        Some(ByteRange::Bounded {
            first: 5,
            last: 9000,
        }),
    ) {
        Err(Error::Truncated { expected, actual }) => assert_eq!((expected, actual), (9001, 1000)),
        other => panic!("{other:?}"),
    }
    // Streaming: the bytes before the cut may be read, but the stream ends in the error,
    // never in a clean end of file.
    let mut obj = enc(&s.endpoint(), key_a())
        .get_object(BUCKET, "o", None)
        .unwrap();
    let mut got = Vec::new();
    let err = obj.reader.read_to_end(&mut got).unwrap_err();
    assert!(got.len() <= 1000 && got[..] == plain[..got.len()]);
    let inner = err.into_inner().unwrap().downcast::<Error>().unwrap();
    assert!(
        matches!(
            *inner,
            Error::Truncated {
                expected: 10_000,
                actual: 1000
            }
        ),
        "{inner:?}"
    );
}

// 5 ------------------------------------------------------------------------------------------

#[test]
fn wrong_crc_header_on_download_is_detected() {
    let s = server();
    let plain = data(10_000, 5);
    put(&enc(&s.endpoint(), key_a()), "o", &plain);
    let real = checksum(&s.object(BUCKET, "o").unwrap().data);
    set(
        &s,
        FaultConfig {
            wrong_crc: true,
            ..FaultConfig::default()
        },
    );
    match enc(&s.endpoint(), key_a()).get_object_bytes(BUCKET, "o", None) {
        Err(Error::CrcMismatch {
            what,
            server,
            client,
        }) => {
            assert_eq!(what, "download");
            assert_eq!((server, client), (real ^ 1, real));
        }
        other => panic!("{other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    let opts = DownloadOptions {
        chunk_size: Some(4096),
        jobs: Some(2),
        ..DownloadOptions::default()
    };
    match enc(&s.endpoint(), key_a()).download_file(BUCKET, "o", &dest, &opts, None) {
        Err(Error::CrcMismatch { server, client, .. }) => {
            assert_eq!((server, client), (real ^ 1, real));
        }
        other => panic!("{other:?}"),
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn wrong_crc_header_on_upload_answers_is_detected() {
    let s = server();
    let plain = data(10_000, 6);
    set(
        &s,
        FaultConfig {
            wrong_crc: true,
            ..FaultConfig::default()
        },
    );
    let c = enc(&s.endpoint(), key_a());
    match c.put_source(BUCKET, "o", &plain.as_slice(), &PutOptions::default()) {
        Err(Error::CrcMismatch {
            what,
            server,
            client,
        }) => {
            assert_eq!(what, "PUT upload");
            let stored = checksum(&s.object(BUCKET, "o").unwrap().data);
            assert_eq!((server, client), (stored ^ 1, stored));
        }
        other => panic!("{other:?}"),
    }
    // UploadPart answers are checked too.
    let plain = data(250_000, 7);
    let c = enc(&s.endpoint(), key_a());
    let ctx = c
        .initiate_multipart(BUCKET, "mp", 250_000, 102_400, &PutOptions::default())
        .unwrap();
    match c.upload_part(&ctx, 1, &plain.as_slice()) {
        Err(Error::CrcMismatch {
            what,
            server,
            client,
        }) => {
            assert_eq!(what, "PUT upload");
            assert_eq!(server, client ^ 1);
        }
        other => panic!("{other:?}"),
    }
}

// 6 ------------------------------------------------------------------------------------------

#[test]
fn server_ignoring_range_never_yields_wrong_bytes() {
    let s = server();
    let plain = data(10_000, 8);
    put(&enc(&s.endpoint(), key_a()), "o", &plain);
    set(
        &s,
        FaultConfig {
            ignore_range: true,
            ..FaultConfig::default()
        },
    );
    for (first, last) in [(100u64, 200u64), (0, 99), (17, 9999)] {
        match enc(&s.endpoint(), key_a()).get_object_bytes(
            BUCKET,
            "o",
            Some(ByteRange::Bounded { first, last }),
        ) {
            Err(Error::Protocol(msg)) => assert!(msg.contains("without a range"), "{msg}"),
            other => panic!("{first}-{last}: {other:?}"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    // Several chunks: the 200 answers are refused, no file.
    let opts = DownloadOptions {
        chunk_size: Some(4096),
        jobs: Some(1),
        ..DownloadOptions::default()
    };
    match enc(&s.endpoint(), key_a()).download_file(BUCKET, "o", &dest, &opts, None) {
        Err(Error::Protocol(msg)) => assert!(msg.contains("200"), "{msg}"),
        other => panic!("{other:?}"),
    }
    assert!(listing(dir.path()).is_empty());
    // One chunk covering the whole object: the 200 answer is exactly what was asked for.
    let opts = DownloadOptions {
        chunk_size: Some(16_384),
        jobs: Some(1),
        ..DownloadOptions::default()
    };
    assert_eq!(
        enc(&s.endpoint(), key_a())
            .download_file(BUCKET, "o", &dest, &opts, None)
            .unwrap(),
        10_000
    );
    assert!(std::fs::read(&dest).unwrap() == plain);
}

// 7 ------------------------------------------------------------------------------------------

#[test]
fn throttled_server_past_the_timeout_is_a_typed_timeout_in_bounded_time() {
    let s = server();
    let plain = data(10_000, 9);
    put(&enc(&s.endpoint(), key_a()), "o", &plain);
    // One byte per second against a 300 ms socket timeout.
    set(
        &s,
        FaultConfig {
            throttle_bytes_per_sec: Some(1),
            ..FaultConfig::default()
        },
    );
    let timeout = Duration::from_millis(300);
    let slow = || EncryptionClient::new(plain_client_with(&s.endpoint(), timeout), key_a());

    let t = Instant::now();
    let err = slow().get_object_bytes(BUCKET, "o", None).unwrap_err();
    let elapsed = t.elapsed();
    assert!(is_timeout(&err), "{err:?}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");

    let t = Instant::now();
    let err = slow()
        .put_source(BUCKET, "slow", &plain.as_slice(), &PutOptions::default())
        .unwrap_err();
    let elapsed = t.elapsed();
    match &err {
        Error::Transport {
            attempts, source, ..
        } => {
            assert_eq!(*attempts, 3);
            assert_eq!(source.kind(), TransportErrorKind::Timeout, "{source:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(s.object(BUCKET, "slow").is_none());

    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    let t = Instant::now();
    let err = slow()
        .download_file(BUCKET, "o", &dest, &DownloadOptions::default(), None)
        .unwrap_err();
    assert!(is_timeout(&err), "{err:?}");
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    assert!(listing(dir.path()).is_empty());
}

fn is_timeout(e: &Error) -> bool {
    match e {
        Error::Transport { source, .. } => source.kind() == TransportErrorKind::Timeout,
        Error::Io { source, .. } => source.kind() == io::ErrorKind::TimedOut,
        _ => false,
    }
}

// 8 ------------------------------------------------------------------------------------------

#[test]
fn multipart_interrupted_mid_part_resumes_from_the_checkpoint() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.bin");
    let plain = data(350_000, 10);
    std::fs::write(&src, &plain).unwrap();
    let cp_path = dir.path().join("upload.checkpoint");
    let opts = UploadOptions {
        part_size: Some(102_400),
        jobs: Some(1),
        checkpoint: Some(cp_path.clone()),
        ..UploadOptions::default()
    };

    // Run 1: the link dies in the middle of part 2 and stays dead.
    let p1 = Proxy::start(s.addr());
    p1.limit_upload(160_000);
    match enc(&p1.endpoint(), key_a()).upload_file(BUCKET, "mp", &src, &opts, None) {
        Err(Error::Transport { attempts, .. }) => assert_eq!(attempts, 3),
        other => panic!("{other:?}"),
    }
    assert!(s.object(BUCKET, "mp").is_none(), "not completed");
    let cp = Checkpoint::load(&cp_path)
        .unwrap()
        .expect("checkpoint kept");
    assert_eq!(
        (cp.bucket.as_str(), cp.key.as_str(), cp.source_size),
        (BUCKET, "mp", 350_000)
    );
    let done = enc(&s.endpoint(), key_a())
        .list_parts(BUCKET, "mp", &cp.upload_id)
        .unwrap();
    assert_eq!(
        done.iter().map(|p| p.part_number).collect::<Vec<_>>(),
        [1],
        "part 1 stored, part 2 cut"
    );

    // Run 2: same checkpoint, healthy link.
    let p2 = Proxy::start(s.addr());
    let r = enc(&p2.endpoint(), key_a())
        .upload_file(BUCKET, "mp", &src, &opts, None)
        .unwrap();
    assert!(!cp_path.exists(), "checkpoint removed after completion");
    let sent2: Vec<_> = p2.requests();
    let parts2: Vec<&str> = sent2
        .iter()
        .filter(|q| q.method() == "PUT")
        .filter_map(|q| q.query("partNumber"))
        .collect();
    assert_eq!(parts2, ["2", "3", "4"], "only the missing parts were sent");

    // The envelope start is the same on Initiate, every part of both runs, the checkpoint and
    // the stored object.
    let start = cp.envelope.get(META_START).cloned().expect("start");
    let all: Vec<_> = p1.requests().into_iter().chain(sent2).collect();
    let uploads: Vec<_> = all
        .iter()
        .filter(|q| q.method() == "PUT" || q.query("uploads").is_some())
        .collect();
    assert!(
        uploads.len() >= 6,
        "initiate, parts 1 and 2 (+retries), 2, 3, 4"
    );
    for q in uploads {
        assert_eq!(q.header(META_START), Some(start.as_str()), "{}", q.line);
        assert_eq!(
            q.header(META_KEY),
            cp.envelope.get(META_KEY).map(String::as_str),
            "{}",
            q.line
        );
    }
    let stored = s.object(BUCKET, "mp").unwrap();
    assert_eq!(stored.meta(META_START), Some(start.as_str()));
    assert_eq!(r.size, 350_000);
    assert_eq!(checksum(&stored.data), r.crc64);
    assert!(
        enc(&s.endpoint(), key_a())
            .get_object_bytes(BUCKET, "mp", None)
            .unwrap()
            == plain
    );
}

// 9 ------------------------------------------------------------------------------------------

#[test]
fn tampered_envelope_headers_are_typed_errors() {
    let s = server();
    let plain = data(5000, 11);
    put(&enc(&s.endpoint(), key_a()), "o", &plain);
    let meta = s.object(BUCKET, "o").unwrap().meta;
    let wrapped_key = meta_of(&meta, META_KEY);
    let wrapped_start = meta_of(&meta, META_START);

    tamper(&s, "o", "swapped", |m| {
        set_meta(m, META_KEY, &wrapped_start);
        set_meta(m, META_START, &wrapped_key);
    });
    tamper(&s, "o", "b64-cut", |m| {
        set_meta(m, META_KEY, &wrapped_key[..wrapped_key.len() - 1]);
    });
    tamper(&s, "o", "short-key", |m| {
        // 340 base64 characters: 255 bytes instead of the 256 of a 2048-bit key.
        set_meta(m, META_KEY, &wrapped_key[..wrapped_key.len() - 4]);
    });
    tamper(&s, "o", "cek-alg", |m| {
        set_meta(m, META_CEK_ALG, "AES/GCM/NoPadding");
    });
    tamper(&s, "o", "wrap-alg", |m| {
        set_meta(m, META_WRAP_ALG, "RSA/ECB/OAEPWithSHA-1AndMGF1Padding");
    });
    tamper(&s, "o", "no-start", |m| m.retain(|(n, _)| n != META_START));

    let c = enc(&s.endpoint(), key_a());
    let core = |k: &str| match c.get_object_bytes(BUCKET, k, None) {
        Err(Error::Core(e)) => e,
        other => panic!("{k}: {other:?}"),
    };
    use osscse_core::Error as CoreError;
    assert_eq!(core("swapped"), CoreError::Wrap(WrapError::WrongKey));
    assert_eq!(
        core("b64-cut"),
        CoreError::Envelope(EnvelopeError::InvalidBase64(Field::Key))
    );
    assert_eq!(
        core("short-key"),
        CoreError::Wrap(WrapError::WrappedLength {
            expected: 256,
            actual: 255
        })
    );
    assert_eq!(
        core("cek-alg"),
        CoreError::Envelope(EnvelopeError::UnsupportedCekAlg)
    );
    assert_eq!(
        core("wrap-alg"),
        CoreError::Envelope(EnvelopeError::UnsupportedWrapAlg)
    );
    assert_eq!(
        core("no-start"),
        CoreError::Envelope(EnvelopeError::Missing(Field::Start))
    );
    // The same through HEAD (download_file) and ranged reads; no file is written.
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    assert!(matches!(
        c.download_file(BUCKET, "cek-alg", &dest, &DownloadOptions::default(), None),
        Err(Error::Core(CoreError::Envelope(
            EnvelopeError::UnsupportedCekAlg
        )))
    ));
    assert!(matches!(
        c.get_object_bytes(BUCKET, "swapped", Some(ByteRange::From { first: 10 })),
        Err(Error::Core(CoreError::Wrap(WrapError::WrongKey)))
    ));
    assert!(listing(dir.path()).is_empty());
    // The untouched original still reads.
    assert_eq!(c.get_object_bytes(BUCKET, "o", None).unwrap(), plain);
}

// 10 -----------------------------------------------------------------------------------------

#[test]
fn wrong_private_key_is_typed_and_writes_no_file() {
    let s = server();
    let plain = data(5000, 12);
    put(&enc(&s.endpoint(), key_a()), "o", &plain);
    let b = enc(&s.endpoint(), Keyring::new(key("test-b-private.pem")));
    assert!(matches!(
        b.get_object_bytes(BUCKET, "o", None),
        Err(Error::Core(osscse_core::Error::Wrap(WrapError::WrongKey)))
    ));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    assert!(matches!(
        b.download_file(BUCKET, "o", &dest, &DownloadOptions::default(), None),
        Err(Error::Core(osscse_core::Error::Wrap(WrapError::WrongKey)))
    ));
    assert!(listing(dir.path()).is_empty());
    // A public key alone cannot read either.
    let public = enc(&s.endpoint(), Keyring::new(key("test-a-public.pem")));
    assert!(matches!(
        public.get_object_bytes(BUCKET, "o", None),
        Err(Error::Core(osscse_core::Error::Wrap(
            WrapError::PublicKeyOnly
        )))
    ));
}

// 11 -----------------------------------------------------------------------------------------

#[test]
fn missing_key_for_the_matdesc_names_the_matdesc() {
    let s = server();
    let plain = data(5000, 13);
    let md = r#"{"team": "payments"}"#;
    let writer = enc(
        &s.endpoint(),
        Keyring::new(key("test-b-public.pem").with_matdesc(Matdesc::parse(md).unwrap())),
    );
    put(&writer, "o", &plain);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    // No key at all, and a keyring whose only (default) key is registered for another matdesc.
    for keys in [
        Keyring::empty(),
        Keyring::new(
            key("test-a-private.pem").with_matdesc(Matdesc::parse(r#"{"team":"web"}"#).unwrap()),
        ),
    ] {
        let c = enc(&s.endpoint(), keys);
        match c.get_object_bytes(BUCKET, "o", None) {
            Err(e @ Error::NoKeyForMatdesc { .. }) => {
                assert!(e.to_string().contains(md), "{e}");
                let Error::NoKeyForMatdesc { matdesc } = e else {
                    unreachable!()
                };
                assert_eq!(matdesc, md);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            c.download_file(BUCKET, "o", &dest, &DownloadOptions::default(), None),
            Err(Error::NoKeyForMatdesc { .. })
        ));
        assert!(listing(dir.path()).is_empty());
    }
    // The right key under a semantically equal matdesc spelling reads it.
    let right = enc(
        &s.endpoint(),
        Keyring::new(key("test-a-private.pem")).with_key(
            key("test-b-private.pem")
                .with_matdesc(Matdesc::parse(r#"{"team":"payments"}"#).unwrap()),
        ),
    );
    assert_eq!(right.get_object_bytes(BUCKET, "o", None).unwrap(), plain);
}

// 12 -----------------------------------------------------------------------------------------

#[test]
fn failed_download_keeps_the_old_destination_and_leaves_no_file() {
    let s = server();
    let plain = data(20_000, 14);
    put(&enc(&s.endpoint(), key_a()), "o", &plain);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    let opts = DownloadOptions {
        chunk_size: Some(8192),
        jobs: Some(2),
        ..DownloadOptions::default()
    };

    // An existing destination and a download that fails verification: old contents stay.
    std::fs::write(&dest, b"old contents").unwrap();
    set(
        &s,
        FaultConfig {
            wrong_crc: true,
            ..FaultConfig::default()
        },
    );
    assert!(matches!(
        enc(&s.endpoint(), key_a()).download_file(BUCKET, "o", &dest, &opts, None),
        Err(Error::CrcMismatch { .. })
    ));
    assert_eq!(std::fs::read(&dest).unwrap(), b"old contents");
    // ... and one cut short.
    set(
        &s,
        FaultConfig {
            truncate_response_body: Some(3000),
            ..FaultConfig::default()
        },
    );
    assert!(matches!(
        enc(&s.endpoint(), key_a()).download_file(BUCKET, "o", &dest, &opts, None),
        Err(Error::Truncated { .. })
    ));
    assert_eq!(std::fs::read(&dest).unwrap(), b"old contents");
    assert_eq!(listing(dir.path()), ["out.bin"], "no temporary file left");
    s.faults().clear();

    // The final rename fails (the destination is a non-empty directory): typed I/O error, the
    // directory is untouched, the verified temporary file is removed.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), b"x").unwrap();
    let err = enc(&s.endpoint(), key_a())
        .download_file(BUCKET, "o", &blocked, &opts, None)
        .unwrap_err();
    assert!(io_kind(&err).is_some(), "{err:?}");
    assert!(err.to_string().contains("renaming into"), "{err}");
    assert_eq!(listing(&blocked), ["keep"]);
    assert_eq!(listing(dir.path()), ["blocked", "out.bin"]);

    // A destination that cannot be created (missing parent, parent is a file).
    let missing: PathBuf = dir.path().join("no/such/dir/out.bin");
    let err = enc(&s.endpoint(), key_a())
        .download_file(BUCKET, "o", &missing, &opts, None)
        .unwrap_err();
    assert_eq!(io_kind(&err), Some(io::ErrorKind::NotFound), "{err:?}");
    let under_file = dir.path().join("out.bin").join("x");
    let err = enc(&s.endpoint(), key_a())
        .download_file(BUCKET, "o", &under_file, &opts, None)
        .unwrap_err();
    assert!(io_kind(&err).is_some(), "{err:?}");
    assert_eq!(listing(dir.path()), ["blocked", "out.bin"]);
    assert_eq!(std::fs::read(&dest).unwrap(), b"old contents");

    // With the faults gone, the download replaces the old contents in one step.
    enc(&s.endpoint(), key_a())
        .download_file(BUCKET, "o", &dest, &opts, None)
        .unwrap();
    assert!(std::fs::read(&dest).unwrap() == plain);
    assert_eq!(listing(dir.path()), ["blocked", "out.bin"]);
}
