//! The async client driven directly (tokio), through a hooking transport that plays the
//! hostile or broken server of each defect: the defect tests of issue 12, and cancellation.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use osscse_core::sign::Credentials;
use osscse_std::RetryPolicy;
use osscse_std::encryption::{DownloadOptions, EncryptionClient, PlainSource, UploadOptions};
use osscse_std::keys::{Keyring, load_rsa_key};
use osscse_std::local::PutOptions;
use osscse_std::transport::{
    BoxFuture, HttpRequest, HttpResponse, HttpService, ReqwestService, TransportConfig,
    TransportError, TransportErrorKind,
};
use osscse_std::{Client, ClientConfig, Endpoint, Error};
use osscse_tests::{Config, Server};

const BUCKET: &str = "bkt";

type Answer = BoxFuture<'static, Result<HttpResponse, TransportError>>;
/// Sees the method and URL of a request and the not yet started real call; answers anything.
type HookFn = dyn Fn(&str, &str, Answer) -> Answer + Send + Sync;

struct Hooked {
    inner: ReqwestService,
    hook: Box<HookFn>,
}

impl std::fmt::Debug for Hooked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hooked")
    }
}

impl HttpService for Hooked {
    fn call(&self, request: HttpRequest) -> Answer {
        let (method, url) = (request.method.to_string(), request.url.clone());
        let real = self.inner.call(request);
        (self.hook)(&method, &url, real)
    }
}

fn keys() -> Keyring {
    Keyring::new(
        load_rsa_key(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-a-private.pem"))
            .unwrap(),
    )
}

fn config(server: &Server) -> ClientConfig {
    let mut cfg = ClientConfig::new(Endpoint::parse(&server.endpoint()).unwrap());
    cfg.region = Some("cn-hangzhou".into());
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    };
    cfg
}

fn hooked(
    server: &Server,
    hook: impl Fn(&str, &str, Answer) -> Answer + Send + Sync + 'static,
) -> EncryptionClient {
    let transport = TransportConfig {
        connect_timeout: Duration::from_secs(5),
        io_timeout: Duration::from_secs(10),
        max_idle_per_host: 8,
    };
    let service = Hooked {
        inner: ReqwestService::new(&transport, "test").unwrap(),
        hook: Box::new(hook),
    };
    let client = Client::with_service(
        config(server),
        Credentials::new("ak", "sk"),
        Arc::new(service),
    )
    .unwrap();
    EncryptionClient::new(client, keys())
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

fn server() -> Server {
    Server::start(Config::new("ak", "sk")).unwrap()
}

fn pass(_: &str, _: &str, real: Answer) -> Answer {
    real
}

/// Writes `dest` with known bytes and returns them (to check it is left as it was).
fn existing(dest: &Path) -> Vec<u8> {
    let before = b"the user's file, which must survive".to_vec();
    std::fs::write(dest, &before).unwrap();
    before
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn async_round_trip_stream_of_unknown_length_and_ranges() {
    let s = server();
    let c = hooked(&s, pass);
    let body = data(300_000, 1);
    let mut src = &body[..];
    c.put_stream(
        BUCKET,
        "unknown",
        &mut src,
        100 * 1024,
        &PutOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        c.get_object_bytes(BUCKET, "unknown", None).await.unwrap(),
        body
    );
    let mut src = &body[..1000];
    c.put_object(BUCKET, "known", &mut src, 1000, &PutOptions::default())
        .await
        .unwrap();
    let r = osscse_core::content::ByteRange::parse("bytes=-17").unwrap();
    assert_eq!(
        c.get_object_bytes(BUCKET, "known", Some(r)).await.unwrap(),
        &body[983..1000]
    );
    // Many objects from concurrent tasks on one client.
    let mut tasks = Vec::new();
    for i in 0..32 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let p = data(4096, i);
            c.put_source(BUCKET, &format!("t/{i}"), &p, &PutOptions::default())
                .await
                .unwrap();
            assert_eq!(
                c.get_object_bytes(BUCKET, &format!("t/{i}"), None)
                    .await
                    .unwrap(),
                p
            );
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// The RSA unwrap of each read runs on tokio's blocking pool (off the task polling the other
/// requests): concurrent whole and ranged reads from many tasks of a multi-threaded runtime
/// decrypt right (the other tests here use a current-thread runtime).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_on_a_multi_threaded_runtime_unwrap_on_the_blocking_pool() {
    let s = server();
    let c = hooked(&s, pass);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let p = data(5000, i);
            let key = format!("mt/{i}");
            c.put_source(BUCKET, &key, &p, &PutOptions::default())
                .await
                .unwrap();
            assert_eq!(c.get_object_bytes(BUCKET, &key, None).await.unwrap(), p);
            let r = osscse_core::content::ByteRange::parse("bytes=100-4099").unwrap();
            assert_eq!(
                c.get_object_bytes(BUCKET, &key, Some(r)).await.unwrap(),
                &p[100..4100]
            );
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// A keyring of a symmetric and an RSA key on a multi-threaded runtime (`open_material` opens
/// symmetric objects in place and RSA ones on the blocking pool): both kinds, interleaved from
/// many tasks, read back right, and a symmetric object is refused by a keyring without that
/// key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symmetric_objects_open_in_place_beside_rsa_ones() {
    let s = server();
    let rsa = hooked(&s, pass);
    let sym_key = osscse_core::wrap::AesGcmMasterKey::from_bytes(&[0x5a; 32]).unwrap();
    let keys = Keyring::new(sym_key).with_key(keys().writer().unwrap().clone());
    let sym = EncryptionClient::new(rsa.client().clone(), keys);
    let mut tasks = Vec::new();
    for i in 0..16u64 {
        let (rsa, sym) = (rsa.clone(), sym.clone());
        tasks.push(tokio::spawn(async move {
            let p = data(3000, i);
            let (writer, key) = if i % 2 == 0 {
                (&sym, format!("sym/{i}"))
            } else {
                (&rsa, format!("rsa/{i}"))
            };
            writer
                .put_source(BUCKET, &key, &p, &PutOptions::default())
                .await
                .unwrap();
            // The mixed keyring reads both kinds.
            assert_eq!(sym.get_object_bytes(BUCKET, &key, None).await.unwrap(), p);
            if i % 2 == 0 {
                assert!(rsa.get_object_bytes(BUCKET, &key, None).await.is_err());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Defect 2: main read a HEAD without Content-Length as size 0, replaced the destination
/// with an empty file and returned Ok(0).
#[tokio::test]
async fn head_without_content_length_is_an_error_and_the_destination_is_kept() {
    let s = server();
    let writer = hooked(&s, pass);
    writer
        .put_source(BUCKET, "o", &data(5000, 2), &PutOptions::default())
        .await
        .unwrap();
    let c = hooked(&s, |method, _, real| {
        let head = method == "HEAD";
        Box::pin(async move {
            let mut r = real.await?;
            if head {
                r.headers.remove("content-length");
            }
            Ok(r)
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out");
    let before = existing(&dest);
    let err = c
        .download_file(BUCKET, "o", &dest, &DownloadOptions::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), before);
    assert_eq!(listing(dir.path()), vec!["out".to_owned()]);
}

/// Defect 6: a huge HEAD size made main preallocate and index without bound.
#[tokio::test]
async fn a_huge_head_size_is_refused() {
    let s = server();
    hooked(&s, pass)
        .put_source(BUCKET, "o", &data(100, 3), &PutOptions::default())
        .await
        .unwrap();
    let c = hooked(&s, |method, _, real| {
        let head = method == "HEAD";
        Box::pin(async move {
            let mut r = real.await?;
            if head {
                r.headers
                    .insert("content-length", "18446744073709551615".parse().unwrap());
            }
            Ok(r)
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out");
    let err = c
        .download_file(BUCKET, "o", &dest, &DownloadOptions::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(!dest.exists());
}

/// Defect 4: main decrypted a 206 at whatever offset it came with and accepted short ones.
#[tokio::test]
async fn chunked_downloads_check_every_content_range() {
    let s = server();
    let plain_bytes = data(64 * 1024, 4);
    hooked(&s, pass)
        .put_source(BUCKET, "o", &plain_bytes, &PutOptions::default())
        .await
        .unwrap();
    for bad in [
        "bytes 16-16399/65536",
        "bytes 16384-32767/70000",
        "bytes 16384-18446744073709551615/*",
    ] {
        let c = hooked(&s, move |method, _, real| {
            let get = method == "GET";
            Box::pin(async move {
                let mut r = real.await?;
                let second = r
                    .headers
                    .get("content-range")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("bytes 16384-"));
                if get && second {
                    r.headers.insert("content-range", bad.parse().unwrap());
                }
                Ok(r)
            })
        });
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        let before = existing(&dest);
        let opts = DownloadOptions {
            chunk_size: Some(16 * 1024),
            jobs: Some(2),
            ..DownloadOptions::default()
        };
        let err = c
            .download_file(BUCKET, "o", &dest, &opts, None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{bad}: {err:?}");
        assert_eq!(std::fs::read(&dest).unwrap(), before, "{bad}");
        assert_eq!(listing(dir.path()), vec!["out".to_owned()]);
    }
}

/// Defect 6: a server answering every ListObjects page with "truncated, next token N+1".
#[tokio::test]
async fn endless_listing_pages_stop() {
    let s = server();
    let pages = Arc::new(AtomicU32::new(0));
    let counter = pages.clone();
    let c = hooked(&s, move |method, url, real| {
        let list = method == "GET" && url.contains("list-type=2");
        let n = if list {
            counter.fetch_add(1, Ordering::SeqCst)
        } else {
            0
        };
        Box::pin(async move {
            if !list {
                return real.await;
            }
            drop(real);
            let xml = format!(
                "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t{n}</NextContinuationToken></ListBucketResult>"
            );
            Ok(HttpResponse {
                status: 200,
                headers: http::HeaderMap::new(),
                body: futures_util::stream::once(async move { Ok(bytes::Bytes::from(xml)) })
                    .boxed(),
            })
        })
    });
    let err = c.list_objects(BUCKET, "").await.unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert_eq!(pages.load(Ordering::SeqCst), 10_000);
}

/// A source whose bytes change after the first attempt's read (as a file rewritten meanwhile).
/// With payload signing (the default) the client reads it twice for that attempt: the
/// `Content-MD5` pass, then the body.
const READS_PER_FIRST_ATTEMPT: u32 = 2;

struct Changing {
    first: Vec<u8>,
    then: Vec<u8>,
    opens: AtomicU32,
}

impl PlainSource for Changing {
    fn len(&self) -> u64 {
        self.first.len() as u64
    }
    fn open_at(&self, offset: u64, len: u64) -> io::Result<Box<dyn Read + Send + '_>> {
        let v = if self.opens.fetch_add(1, Ordering::SeqCst) < READS_PER_FIRST_ATTEMPT {
            &self.first
        } else {
            &self.then
        };
        let (a, b) = (offset as usize, (offset + len) as usize);
        Ok(Box::new(&v[a..b]))
    }
}

/// Defect 5: after a transport error main re-read the source and sent the new bytes under the
/// same key and counter without noticing; now the retry fails with SourceChanged before any
/// differing byte goes out.
#[tokio::test]
async fn a_retry_after_a_reset_never_sends_changed_bytes() {
    let s = server();
    let puts = Arc::new(AtomicU32::new(0));
    let seen = puts.clone();
    let c = hooked(&s, move |method, _, real| {
        let first_put = method == "PUT" && seen.fetch_add(1, Ordering::SeqCst) == 0;
        Box::pin(async move {
            let r = real.await;
            if first_put {
                // The whole body went out, then the answer was lost.
                return Err(TransportError::new(TransportErrorKind::Reset, "cut"));
            }
            r
        })
    });
    let source = Changing {
        first: data(50_000, 5),
        then: data(50_000, 6),
        opens: AtomicU32::new(0),
    };
    let err = c
        .put_source(BUCKET, "o", &source, &PutOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SourceChanged), "{err:?}");
    assert_eq!(puts.load(Ordering::SeqCst), 2);
    // What the server holds is the first attempt's ciphertext, which still decrypts.
    let got = hooked(&s, pass)
        .get_object_bytes(BUCKET, "o", None)
        .await
        .unwrap();
    assert_eq!(got, source.first);
}

/// Defect 7: a failed upload_file without checkpoint left the multipart upload open on main.
#[tokio::test]
async fn a_failed_upload_without_checkpoint_is_aborted() {
    let s = server();
    let upload_id = Arc::new(Mutex::new(String::new()));
    let id = upload_id.clone();
    let c = hooked(&s, move |method, url, real| {
        let part2 = method == "PUT" && url.contains("partNumber=2");
        if part2 && let Some(q) = url.split("uploadId=").nth(1) {
            *id.lock().unwrap() = q.split('&').next().unwrap_or("").to_owned();
        }
        Box::pin(async move {
            if part2 {
                drop(real);
                return Err(TransportError::new(TransportErrorKind::Tls, "refused"));
            }
            real.await
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("src");
    std::fs::write(&path, data(300 * 1024, 7)).unwrap();
    let opts = UploadOptions {
        part_size: Some(100 * 1024),
        jobs: Some(1),
        ..UploadOptions::default()
    };
    c.upload_file(BUCKET, "o", &path, &opts, None)
        .await
        .unwrap_err();
    let id = upload_id.lock().unwrap().clone();
    assert!(!id.is_empty());
    let id = percent_decode(&id);
    let err = hooked(&s, pass)
        .list_parts(BUCKET, "o", &id)
        .await
        .unwrap_err();
    assert_eq!(err.oss().map(|e| e.status), Some(404), "{err:?}");
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Defect 3: after the source changed with the same size and mtime (cp -p, rsync -t), main
/// resumed with the old parts and reported success: the object mixed two files.
#[tokio::test]
async fn resume_after_a_same_size_same_mtime_change_restarts() {
    let s = server();
    let fail = Arc::new(AtomicU32::new(1));
    let f = fail.clone();
    let c = hooked(&s, move |method, url, real| {
        let part3 =
            method == "PUT" && url.contains("partNumber=3") && f.load(Ordering::SeqCst) == 1;
        Box::pin(async move {
            if part3 {
                drop(real);
                return Err(TransportError::new(TransportErrorKind::Tls, "refused"));
            }
            real.await
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("src");
    let cp = dir.path().join("cp.json");
    let old = data(300 * 1024, 8);
    std::fs::write(&path, &old).unwrap();
    let opts = UploadOptions {
        part_size: Some(100 * 1024),
        jobs: Some(1),
        checkpoint: Some(cp.clone()),
        ..UploadOptions::default()
    };
    c.upload_file(BUCKET, "o", &path, &opts, None)
        .await
        .unwrap_err();
    assert!(cp.exists());
    // Same size, same mtime, other bytes.
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let new = data(300 * 1024, 9);
    std::fs::write(&path, &new).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    fail.store(0, Ordering::SeqCst);
    c.upload_file(BUCKET, "o", &path, &opts, None)
        .await
        .unwrap();
    assert_eq!(c.get_object_bytes(BUCKET, "o", None).await.unwrap(), new);
    assert!(!cp.exists());
}

/// Cancellation: a download future dropped while chunks are in flight leaves the
/// destination byte-identical and no temporary file behind.
#[tokio::test]
async fn a_dropped_download_leaves_the_destination_as_it_was() {
    let s = server();
    hooked(&s, pass)
        .put_source(BUCKET, "o", &data(64 * 1024, 10), &PutOptions::default())
        .await
        .unwrap();
    let gets = Arc::new(AtomicU32::new(0));
    let g = gets.clone();
    let c = hooked(&s, move |method, _, real| {
        let stall = method == "GET" && g.fetch_add(1, Ordering::SeqCst) >= 2;
        Box::pin(async move {
            if stall {
                drop(real);
                return std::future::pending().await;
            }
            real.await
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out");
    let before = existing(&dest);
    let opts = DownloadOptions {
        chunk_size: Some(16 * 1024),
        jobs: Some(2),
        ..DownloadOptions::default()
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = {
        let gets = gets.clone();
        tokio::spawn(async move {
            while gets.load(Ordering::SeqCst) < 3 {
                tokio::task::yield_now().await;
            }
            let _ = tx.send(());
        })
    };
    tokio::select! {
        r = c.download_file(BUCKET, "o", &dest, &opts, None) => panic!("finished: {r:?}"),
        _ = rx => {}
    }
    watcher.await.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), before);
    assert_eq!(listing(dir.path()), vec!["out".to_owned()]);
}
