//! The encryption client against the loopback OSS server: round trips, ranges, multipart,
//! resume, keys, plain objects and injected faults.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::Path;

use osscse_core::content::ByteRange;
use osscse_core::envelope::Matdesc;
use osscse_core::sign::Credentials;
use osscse_core::wrap::RsaMasterKey;
use osscse_std::RetryPolicy;
use osscse_std::blocking::{Client, EncryptionClient};
use osscse_std::encryption::{Checkpoint, DownloadOptions, FileSource, UploadOptions};
use osscse_std::keys::{Keyring, load_rsa_key};
use osscse_std::local::PutOptions;
use osscse_std::{Body, ClientConfig, Endpoint, Error, Request, SignVersion};
use osscse_tests::{Config, FaultConfig, Server};

const BUCKET: &str = "bkt";

fn key(name: &str) -> RsaMasterKey {
    load_rsa_key(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn server() -> Server {
    Server::start(Config::new("ak", "sk")).unwrap()
}

fn client(server: &Server, version: SignVersion) -> Client {
    let mut cfg = ClientConfig::new(Endpoint::parse(&server.endpoint()).unwrap());
    cfg.region = Some("cn-hangzhou".into());
    cfg.sign_version = version;
    cfg.retry = RetryPolicy {
        base_delay: std::time::Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    Client::new(cfg, Credentials::new("ak", "sk")).unwrap()
}

fn enc(server: &Server, keys: Keyring) -> EncryptionClient {
    EncryptionClient::new(client(server, SignVersion::V4), keys)
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

fn put(c: &EncryptionClient, key: &str, plain: &[u8]) {
    c.put_source(BUCKET, key, &plain, &PutOptions::default())
        .unwrap();
}

#[test]
fn put_get_round_trips_v4_and_v1_and_the_server_holds_ciphertext() {
    let s = server();
    for version in [SignVersion::V4, SignVersion::V1] {
        let c = EncryptionClient::new(client(&s, version), Keyring::new(key("test-a-private.pem")));
        for n in [0usize, 1, 15, 16, 17, 1000, 100_001] {
            let plain = data(n, 1);
            let k = format!("{version:?}/obj-{n}");
            let r = c
                .put_source(BUCKET, &k, &plain, &PutOptions::default())
                .unwrap();
            assert_eq!(r.size, n as u64);
            let stored = s.object(BUCKET, &k).unwrap();
            assert_eq!(stored.data.len(), n);
            if n >= 16 {
                assert_ne!(stored.data, plain);
            }
            assert!(
                stored
                    .meta("x-oss-meta-client-side-encryption-key")
                    .is_some()
            );
            assert!(
                stored
                    .meta("x-oss-meta-client-side-encryption-unencrypted-content-md5")
                    .is_none()
            );
            assert_eq!(
                c.get_object_bytes(BUCKET, &k, None).unwrap(),
                plain,
                "{version:?} {n}"
            );
            // Streaming put of the same bytes.
            let mut src = &plain[..];
            c.put_object(BUCKET, &k, &mut src, n as u64, &PutOptions::default())
                .unwrap();
            assert_eq!(c.get_object_bytes(BUCKET, &k, None).unwrap(), plain);
        }
    }
}

#[test]
fn every_start_random_and_suffix_ranges() {
    let s = server();
    let c = enc(&s, Keyring::new(key("test-a-private.pem")));
    let plain = data(3000, 2);
    put(&c, "r", &plain);
    for start in 0..48u64 {
        for end in [start, start + 1, start + 16, start + 33, 2999, 4000] {
            let got = c
                .get_object_bytes(
                    BUCKET,
                    "r",
                    Some(ByteRange::Bounded {
                        first: start,
                        last: end,
                    }),
                )
                .unwrap();
            assert_eq!(
                got,
                &plain[start as usize..=end.min(2999) as usize],
                "{start}-{end}"
            );
        }
        let got = c
            .get_object_bytes(BUCKET, "r", Some(ByteRange::From { first: start }))
            .unwrap();
        assert_eq!(got, &plain[start as usize..]);
    }
    let mut x = 12345u64;
    for _ in 0..40 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let a = (x >> 33) % 3000;
        let b = a + (x >> 13) % (3000 - a);
        let got = c
            .get_object_bytes(
                BUCKET,
                "r",
                Some(ByteRange::parse(&format!("bytes={a}-{b}")).unwrap()),
            )
            .unwrap();
        assert_eq!(got, &plain[a as usize..=b as usize], "{a}-{b}");
    }
    for n in [1u64, 15, 16, 17, 100, 2999, 3000, 10_000] {
        let got = c
            .get_object_bytes(BUCKET, "r", Some(ByteRange::Suffix { len: n }))
            .unwrap();
        assert_eq!(
            got,
            &plain[3000usize.saturating_sub(n as usize)..],
            "suffix {n}"
        );
    }
    assert!(
        c.get_object_bytes(BUCKET, "r", Some(ByteRange::From { first: 3000 }))
            .is_err()
    );
}

#[test]
fn plain_objects_pass_through_and_keys_are_checked() {
    let s = server();
    let plain_client = client(&s, SignVersion::V4);
    plain_client
        .send(
            Request::new("PUT", Some(BUCKET), Some("plain"))
                .body(Body::Bytes(b"just some plain text")),
        )
        .unwrap();
    let c = enc(&s, Keyring::new(key("test-a-private.pem")));
    assert_eq!(
        c.get_object_bytes(BUCKET, "plain", None).unwrap(),
        b"just some plain text"
    );
    assert_eq!(
        c.get_object_bytes(BUCKET, "plain", Some(ByteRange::Suffix { len: 4 }))
            .unwrap(),
        b"text"
    );
    assert!(!c.head_object(BUCKET, "plain").unwrap().is_encrypted());

    // Written for matdesc {"k": "v"} (Python spelling) with key B.
    let writer = enc(
        &s,
        Keyring::new(
            key("test-b-public.pem").with_matdesc(Matdesc::parse(r#"{"k": "v"}"#).unwrap()),
        ),
    );
    let secret = data(5000, 3);
    put(&writer, "m", &secret);
    let info = writer.head_object(BUCKET, "m").unwrap();
    assert!(info.is_encrypted());
    // Public key only: cannot read.
    assert!(writer.get_object_bytes(BUCKET, "m", None).is_err());
    // Key B registered as {"k":"v"} next to default key A: picked semantically.
    let reader = enc(
        &s,
        Keyring::new(key("test-a-private.pem")).with_key(
            key("test-b-private.pem").with_matdesc(Matdesc::parse(r#"{"k":"v"}"#).unwrap()),
        ),
    );
    assert_eq!(reader.get_object_bytes(BUCKET, "m", None).unwrap(), secret);
    // Missing key for the matdesc: the error names it.
    let only_a = enc(&s, Keyring::new(key("test-a-private.pem")));
    match only_a.get_object_bytes(BUCKET, "m", None) {
        Err(Error::NoKeyForMatdesc { matdesc }) => assert_eq!(matdesc, r#"{"k": "v"}"#),
        other => panic!("{other:?}"),
    }
    // Wrong key without matdesc.
    put(&only_a, "a", &secret);
    let only_b = enc(&s, Keyring::new(key("test-b-private.pem")));
    assert!(matches!(
        only_b.get_object_bytes(BUCKET, "a", None),
        Err(Error::Core(_))
    ));
    // Typed OSS errors.
    match only_a.get_object_bytes(BUCKET, "missing", None) {
        Err(Error::Oss(e)) => assert_eq!((e.status, e.code.as_str()), (404, "NoSuchKey")),
        other => panic!("{other:?}"),
    }
}

/// A plain multipart upload through the raw `Client::send`, as a user of the low-level API
/// writes it: the UploadPart answers carry the CRC-64 of each part (checked against what was
/// sent), the CompleteMultipartUpload answer the CRC-64 of the whole object, which is not the
/// CRC-64 of the XML body sent and must not be taken for a corrupted upload.
#[test]
fn a_raw_multipart_complete_is_not_checked_against_its_xml_body() {
    let s = server();
    let c = client(&s, SignVersion::V4);
    let text = c
        .send(Request::new("POST", Some(BUCKET), Some("raw-mp")).query("uploads", ""))
        .unwrap()
        .text(1 << 16)
        .unwrap();
    let id = text
        .split("<UploadId>")
        .nth(1)
        .and_then(|t| t.split("</UploadId>").next())
        .unwrap()
        .to_owned();
    let plain = data(200_000, 9);
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (i, chunk) in plain.chunks(100_000).enumerate() {
        let n = (i + 1).to_string();
        let resp = c
            .send(
                Request::new("PUT", Some(BUCKET), Some("raw-mp"))
                    .query("partNumber", &n)
                    .query("uploadId", &id)
                    .body(Body::Bytes(chunk)),
            )
            .unwrap();
        assert!(resp.crc64().is_some(), "the part's CRC-64 was answered");
        let etag = resp.header("etag").unwrap().to_owned();
        xml.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    let done = c
        .send(
            Request::new("POST", Some(BUCKET), Some("raw-mp"))
                .query("uploadId", &id)
                .body(Body::Bytes(xml.as_bytes())),
        )
        .unwrap();
    assert!(done.crc64().is_some(), "the object's CRC-64 was answered");
    assert_eq!(s.object(BUCKET, "raw-mp").unwrap().data, plain);
}

#[test]
fn multipart_with_identical_envelopes_and_parallel_download() {
    let s = server();
    let c = enc(&s, Keyring::new(key("test-a-private.pem")));
    let plain = data(1_000_000, 4);
    let ctx = c
        .initiate_multipart(
            BUCKET,
            "mp",
            plain.len() as u64,
            102_400,
            &PutOptions::default(),
        )
        .unwrap();
    let mut parts = Vec::new();
    for p in ctx.plan.parts().collect::<Vec<_>>().into_iter().rev() {
        parts.push(c.upload_part(&ctx, p.number, &plain).unwrap());
    }
    assert_eq!(
        c.list_parts(BUCKET, "mp", &ctx.upload_id).unwrap().len(),
        10
    );
    c.complete_multipart(&ctx, &parts).unwrap();
    let stored = s.object(BUCKET, "mp").unwrap();
    assert_eq!(
        stored.meta("x-oss-meta-client-side-encryption-part-size"),
        Some("102400")
    );
    assert_eq!(
        stored.meta("x-oss-meta-client-side-encryption-data-size"),
        Some("1000000")
    );
    assert_eq!(c.get_object_bytes(BUCKET, "mp", None).unwrap(), plain);
    assert_eq!(
        c.get_object_bytes(
            BUCKET,
            "mp",
            Some(ByteRange::Bounded {
                first: 102_390,
                last: 204_900
            })
        )
        .unwrap(),
        &plain[102_390..=204_900]
    );
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mp.bin");
    // Synced (the default) and not: the same bytes either way, over an existing file too.
    for no_fsync in [false, true] {
        let opts = DownloadOptions {
            chunk_size: Some(65_536 + 16),
            jobs: Some(3),
            no_fsync,
        };
        assert_eq!(
            c.download_file(BUCKET, "mp", &dest, &opts, None).unwrap(),
            1_000_000
        );
        assert_eq!(std::fs::read(&dest).unwrap(), plain, "no_fsync {no_fsync}");
    }
}

#[test]
fn upload_file_parallel_resume_and_sizes_up_to_64_mib() {
    let s = server();
    let c = enc(&s, Keyring::new(key("test-a-private.pem")));
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.bin");
    let plain = data(64 << 20, 5);
    std::fs::write(&src, &plain).unwrap();
    let opts = UploadOptions {
        part_size: Some(8 << 20),
        jobs: Some(4),
        ..UploadOptions::default()
    };
    c.upload_file(BUCKET, "big", &src, &opts, None).unwrap();
    let dest = dir.path().join("big.out");
    c.download_file(BUCKET, "big", &dest, &DownloadOptions::default(), None)
        .unwrap();
    assert!(std::fs::read(&dest).unwrap() == plain, "64 MiB round trip");
    drop(plain);

    // Resume: an upload that stopped after part 2 of 5.
    let plain = data(500_000, 6);
    std::fs::write(&src, &plain).unwrap();
    let source = FileSource::new(&src).unwrap();
    let ctx = c
        .initiate_multipart(BUCKET, "resumed", 500_000, 102_400, &PutOptions::default())
        .unwrap();
    c.upload_part(&ctx, 1, &source).unwrap();
    c.upload_part(&ctx, 2, &source).unwrap();
    let cp_path = dir.path().join("upload.checkpoint");
    let mtime = std::fs::metadata(&src)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let cp = Checkpoint {
        version: 1,
        bucket: BUCKET.into(),
        key: "resumed".into(),
        upload_id: ctx.upload_id.clone(),
        source_size: 500_000,
        source_mtime: mtime,
        envelope: ctx
            .envelope
            .headers()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect(),
    };
    cp.save(&cp_path).unwrap();
    let text = std::fs::read_to_string(&cp_path).unwrap();
    assert!(
        !text.contains(&hex::encode(b"never")),
        "checkpoint is JSON of wrapped values only"
    );
    let before = s.request_count();
    let opts = UploadOptions {
        part_size: Some(102_400),
        jobs: Some(2),
        checkpoint: Some(cp_path.clone()),
        ..Default::default()
    };
    c.upload_file(BUCKET, "resumed", &src, &opts, None).unwrap();
    // ListParts + 3 parts + Complete: parts 1 and 2 were not sent again.
    assert_eq!(s.request_count() - before, 5);
    assert!(!cp_path.exists(), "checkpoint removed after completion");
    assert_eq!(c.get_object_bytes(BUCKET, "resumed", None).unwrap(), plain);
}

#[test]
fn retries_resend_identical_ciphertext_and_faults_are_detected() {
    let s = server();
    // The server samples its fault knobs when a connection starts waiting for a request, so
    // every scenario uses a fresh client (no pooled connection that sampled older knobs).
    let keys = Keyring::new(key("test-a-private.pem"));
    let c = || enc(&s, keys.clone());
    let plain = data(200_000, 7);
    // Two 503s, then success.
    s.faults().set(FaultConfig {
        fail_first: 2,
        fail_status: 503,
        ..FaultConfig::default()
    });
    let r = c()
        .put_source(BUCKET, "retry", &plain, &PutOptions::default())
        .unwrap();
    assert_eq!(
        r.crc64,
        osscse_std::fuzzing::crc64::checksum(&s.object(BUCKET, "retry").unwrap().data)
    );
    s.faults().clear();
    assert_eq!(c().get_object_bytes(BUCKET, "retry", None).unwrap(), plain);
    // Connection reset in the middle of every body: retried, then a transport error that
    // counts the attempts.
    s.faults().set(FaultConfig {
        reset_after_body_bytes: Some(50_000),
        ..FaultConfig::default()
    });
    let before = s.request_count();
    match c().put_source(BUCKET, "reset", &plain, &PutOptions::default()) {
        Err(Error::Transport { attempts, .. }) => assert_eq!(attempts, 3),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.request_count() - before, 3);
    assert!(s.object(BUCKET, "reset").is_none());
    s.faults().clear();
    // Too many failures: a typed 503 after the last attempt.
    s.faults().set(FaultConfig {
        fail_first: 10,
        fail_status: 503,
        ..FaultConfig::default()
    });
    match c().put_source(BUCKET, "x", &plain, &PutOptions::default()) {
        Err(Error::Oss(e)) => assert_eq!(e.status, 503),
        other => panic!("{other:?}"),
    }
    s.faults().clear();
    // Wrong CRC from the server: upload and whole-object download both fail.
    s.faults().set(FaultConfig {
        wrong_crc: true,
        ..FaultConfig::default()
    });
    assert!(matches!(
        c().put_source(BUCKET, "crc", &plain, &PutOptions::default()),
        Err(Error::CrcMismatch { .. })
    ));
    assert!(matches!(
        c().get_object_bytes(BUCKET, "retry", None),
        Err(Error::CrcMismatch { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out");
    assert!(matches!(
        c().download_file(BUCKET, "retry", &dest, &DownloadOptions::default(), None),
        Err(Error::CrcMismatch { .. })
    ));
    assert!(!dest.exists());
    // Truncated bodies.
    s.faults().set(FaultConfig {
        truncate_response_body: Some(1000),
        ..FaultConfig::default()
    });
    let err = c().get_object_bytes(BUCKET, "retry", None).unwrap_err();
    assert!(
        matches!(err, Error::Truncated { .. } | Error::Io { .. }),
        "{err:?}"
    );
    assert!(
        c().get_object_bytes(
            BUCKET,
            "retry",
            Some(ByteRange::Bounded {
                first: 5,
                last: 100_000
            })
        )
        .is_err()
    );
    assert!(
        c().download_file(BUCKET, "retry", &dest, &DownloadOptions::default(), None)
            .is_err()
    );
    assert!(!dest.exists());
    // A server that ignores Range is refused rather than decrypted at the wrong offset.
    s.faults().set(FaultConfig {
        ignore_range: true,
        ..FaultConfig::default()
    });
    assert!(matches!(
        c().get_object_bytes(
            BUCKET,
            "retry",
            Some(ByteRange::Bounded {
                first: 100,
                last: 200
            })
        ),
        Err(Error::Protocol(_))
    ));
}
