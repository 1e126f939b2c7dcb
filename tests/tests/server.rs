//! The server against the signing std client: operations, every signature form, OSS errors,
//! the CSE rules and each fault knob.
#![allow(clippy::unwrap_used)]
// A std-only test fixture: `core`/`alloc` paths would add nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use osscse_core::sign::Credentials;
use osscse_tests::client::{Call, Client, Response, Signing};
use osscse_tests::{Config, FaultConfig, Server};

fn start() -> (Server, Client) {
    let server = Server::start(Config::new("ak", "sk")).unwrap();
    let client = Client::new(server.addr(), Credentials::new("ak", "sk"));
    (server, client)
}

fn put<'a>(key: &'a str, body: &'a [u8]) -> Call<'a> {
    Call {
        method: "PUT",
        bucket: Some("bkt"),
        key: Some(key),
        body,
        ..Call::default()
    }
}

fn get(key: &str) -> Call<'_> {
    Call {
        method: "GET",
        bucket: Some("bkt"),
        key: Some(key),
        ..Call::default()
    }
}

fn error_code(r: &Response) -> String {
    let t = r.text();
    let code = t
        .split("<Code>")
        .nth(1)
        .and_then(|s| s.split("</Code>").next())
        .unwrap_or("");
    code.to_string()
}

fn crc64(data: &[u8]) -> u64 {
    crc::Crc::<u64>::new(&crc::CRC_64_XZ).checksum(data)
}

#[test]
fn object_round_trip_range_head_list_delete() {
    let (_server, c) = start();
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    let mut call = put("dir/a.bin", &data);
    call.headers = vec![
        ("x-oss-meta-color", "blue"),
        ("Content-Type", "application/x-test"),
    ];
    let r = c.send(&call).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("x-oss-hash-crc64ecma").unwrap(),
        crc64(&data).to_string()
    );
    assert!(r.header("x-oss-request-id").is_some());

    let r = c.send(&get("dir/a.bin")).unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, data.as_slice()));
    assert_eq!(r.header("x-oss-meta-color"), Some("blue"));
    assert_eq!(r.header("content-type"), Some("application/x-test"));

    for (spec, a, z) in [
        ("bytes=10-19", 10, 19),
        ("bytes=990-", 990, 999),
        ("bytes=-5", 995, 999),
        ("bytes=998-5000", 998, 999),
    ] {
        let mut call = get("dir/a.bin");
        call.headers = vec![("Range", spec), ("x-oss-range-behavior", "standard")];
        let r = c.send(&call).unwrap();
        assert_eq!(r.status, 206, "{spec}");
        assert_eq!(r.body, &data[a..=z]);
        assert_eq!(
            r.header("content-range").unwrap(),
            format!("bytes {a}-{z}/1000")
        );
    }
    let mut call = get("dir/a.bin");
    call.headers = vec![
        ("Range", "bytes=1000-"),
        ("x-oss-range-behavior", "standard"),
    ];
    let r = c.send(&call).unwrap();
    assert_eq!((r.status, error_code(&r).as_str()), (416, "InvalidRange"));
    call.headers = vec![("Range", "bytes=1000-")];
    assert_eq!(
        c.send(&call).unwrap().status,
        200,
        "legacy behaviour ignores an unsatisfiable range"
    );

    let r = c
        .send(&Call {
            method: "HEAD",
            ..get("dir/a.bin")
        })
        .unwrap();
    assert_eq!((r.status, r.content_length), (200, Some(1000)));
    assert!(r.body.is_empty());

    c.send(&put("dir/b", b"x")).unwrap();
    c.send(&put("other", b"y")).unwrap();
    let list = |q: Vec<(&'static str, &'static str)>| {
        c.send(&Call {
            method: "GET",
            bucket: Some("bkt"),
            query: q,
            ..Call::default()
        })
        .unwrap()
        .text()
    };
    let t = list(vec![
        ("list-type", "2"),
        ("prefix", "dir/"),
        ("max-keys", "1"),
    ]);
    assert!(
        t.contains("<Key>dir/a.bin</Key>") && !t.contains("<Key>dir/b</Key>"),
        "{t}"
    );
    assert!(t.contains("<IsTruncated>true</IsTruncated><NextContinuationToken>dir/a.bin</NextContinuationToken>"), "{t}");
    let t = list(vec![
        ("list-type", "2"),
        ("prefix", "dir/"),
        ("continuation-token", "dir/a.bin"),
    ]);
    assert!(
        t.contains("<Key>dir/b</Key>") && !t.contains("<Key>dir/a.bin</Key>"),
        "{t}"
    );
    // Paging with a delimiter: the common prefix appears once, then the next key.
    let t = list(vec![
        ("list-type", "2"),
        ("delimiter", "/"),
        ("max-keys", "1"),
    ]);
    assert!(
        t.contains("<Prefix>dir/</Prefix>") && !t.contains("<Key>"),
        "{t}"
    );
    let token = t
        .split("<NextContinuationToken>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let t = c
        .send(&Call {
            method: "GET",
            bucket: Some("bkt"),
            query: vec![
                ("list-type", "2"),
                ("delimiter", "/"),
                ("continuation-token", &token),
            ],
            ..Call::default()
        })
        .unwrap()
        .text();
    assert!(
        t.contains("<Key>other</Key>") && !t.contains("<Prefix>dir/</Prefix>"),
        "{t}"
    );
    let t = list(vec![("list-type", "2"), ("delimiter", "/")]);
    assert!(
        t.contains("<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>")
            && t.contains("<Key>other</Key>"),
        "{t}"
    );

    let r = c
        .send(&Call {
            method: "DELETE",
            ..get("dir/a.bin")
        })
        .unwrap();
    assert_eq!(r.status, 204);
    let r = c.send(&get("dir/a.bin")).unwrap();
    assert_eq!((r.status, error_code(&r).as_str()), (404, "NoSuchKey"));
    assert!(r.header("x-oss-request-id").is_some());
}

#[test]
fn every_signature_form_and_auth_error() {
    let (_server, mut c) = start();
    for signing in [
        Signing::V4Header,
        Signing::V1Header,
        Signing::V4Query(60),
        Signing::V1Query(60),
    ] {
        c.signing = signing;
        let key = format!("k {signing:?}+/é");
        let r = c.send(&put(&key, b"hello")).unwrap();
        assert_eq!(r.status, 200, "{signing:?}: {}", r.text());
        let r = c
            .send(&Call {
                query: vec![("response-content-type", "text/plain")],
                ..get(&key)
            })
            .unwrap();
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"hello"[..]),
            "{signing:?}"
        );

        let bad = Client {
            credentials: Credentials::new("ak", "wrong"),
            ..c.clone()
        };
        let r = bad.send(&get(&key)).unwrap();
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (403, "SignatureDoesNotMatch"),
            "{signing:?}"
        );
        assert!(r.text().contains("<StringToSign>"), "{}", r.text());

        let unknown = Client {
            credentials: Credentials::new("nobody", "sk"),
            ..c.clone()
        };
        assert_eq!(
            error_code(&unknown.send(&get(&key)).unwrap()),
            "InvalidAccessKeyId"
        );
    }
    c.signing = Signing::None;
    assert_eq!(error_code(&c.send(&get("x")).unwrap()), "AccessDenied");

    // Clock skew: header forms beyond 15 minutes are refused; presigned URLs expire.
    c.signing = Signing::V4Header;
    c.clock_offset = -16 * 60;
    assert_eq!(
        error_code(&c.send(&get("x")).unwrap()),
        "RequestTimeTooSkewed"
    );
    c.signing = Signing::V1Header;
    c.clock_offset = 16 * 60;
    assert_eq!(
        error_code(&c.send(&get("x")).unwrap()),
        "RequestTimeTooSkewed"
    );
    c.clock_offset = 14 * 60;
    assert_eq!(error_code(&c.send(&get("x")).unwrap()), "NoSuchKey");
    c.signing = Signing::V4Query(60);
    c.clock_offset = -120;
    let r = c.send(&get("x")).unwrap();
    assert!(
        r.status == 403 && r.text().contains("expired"),
        "{}",
        r.text()
    );
    c.signing = Signing::V1Query(60);
    assert!(c.send(&get("x")).unwrap().text().contains("expired"));
}

#[test]
fn security_token() {
    let mut config = Config::new("ak", "sk");
    config.credentials = config.credentials.with_security_token("sts-token");
    let server = Server::start(config).unwrap();
    for signing in [
        Signing::V4Header,
        Signing::V1Header,
        Signing::V4Query(60),
        Signing::V1Query(60),
    ] {
        let good = Client {
            signing,
            ..Client::new(
                server.addr(),
                Credentials::new("ak", "sk").with_security_token("sts-token"),
            )
        };
        assert_eq!(
            good.send(&put("k", b"v")).unwrap().status,
            200,
            "{signing:?}"
        );
        let none = Client {
            signing,
            ..Client::new(server.addr(), Credentials::new("ak", "sk"))
        };
        assert_eq!(none.send(&get("k")).unwrap().status, 403, "{signing:?}");
        let wrong = Client {
            signing,
            ..Client::new(
                server.addr(),
                Credentials::new("ak", "sk").with_security_token("other"),
            )
        };
        assert_eq!(
            error_code(&wrong.send(&get("k")).unwrap()),
            "InvalidSecurityToken",
            "{signing:?}"
        );
    }
}

fn init<'a>(c: &Client, key: &'a str, headers: Vec<(&'a str, &'a str)>) -> Response {
    c.send(&Call {
        method: "POST",
        bucket: Some("bkt"),
        key: Some(key),
        query: vec![("uploads", "")],
        headers,
        ..Call::default()
    })
    .unwrap()
}

fn upload_id(r: &Response) -> String {
    let t = r.text();
    t.split("<UploadId>")
        .nth(1)
        .unwrap()
        .split("</UploadId>")
        .next()
        .unwrap()
        .to_string()
}

fn part<'a>(
    c: &Client,
    key: &'a str,
    id: &'a str,
    n: &'a str,
    body: &'a [u8],
    headers: Vec<(&'a str, &'a str)>,
) -> Response {
    c.send(&Call {
        method: "PUT",
        bucket: Some("bkt"),
        key: Some(key),
        query: vec![("partNumber", n), ("uploadId", id)],
        headers,
        body,
        ..Call::default()
    })
    .unwrap()
}

fn complete(c: &Client, key: &str, id: &str, parts: &[(u32, &str)]) -> Response {
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (n, etag) in parts {
        xml.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    c.send(&Call {
        method: "POST",
        bucket: Some("bkt"),
        key: Some(key),
        query: vec![("uploadId", id)],
        body: xml.as_bytes(),
        ..Call::default()
    })
    .unwrap()
}

#[test]
fn multipart_plain_and_errors() {
    let (_server, c) = start();
    let id = upload_id(&init(&c, "mp", vec![]));
    let a = vec![1u8; 300];
    let b = vec![2u8; 100];
    let ea = part(&c, "mp", &id, "1", &a, vec![])
        .header("etag")
        .unwrap()
        .to_string();
    let eb = part(&c, "mp", &id, "2", &b, vec![])
        .header("etag")
        .unwrap()
        .to_string();
    let r = complete(&c, "mp", &id, &[(1, "\"0000\""), (2, &eb)]);
    assert_eq!(error_code(&r), "InvalidPart");
    let r = complete(&c, "mp", &id, &[(1, &ea), (2, &eb)]);
    assert_eq!(r.status, 200, "{}", r.text());
    let whole = [a, b].concat();
    assert_eq!(
        r.header("x-oss-hash-crc64ecma").unwrap(),
        crc64(&whole).to_string()
    );
    let r = c.send(&get("mp")).unwrap();
    assert_eq!(r.body, whole);
    assert!(r.header("etag").unwrap().ends_with("-2\""));
    assert_eq!(
        error_code(&complete(&c, "mp", &id, &[(1, &ea)])),
        "NoSuchUpload"
    );

    let id = upload_id(&init(&c, "gone", vec![]));
    let r = c
        .send(&Call {
            method: "DELETE",
            bucket: Some("bkt"),
            key: Some("gone"),
            query: vec![("uploadId", &id)],
            ..Call::default()
        })
        .unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(
        error_code(&part(&c, "gone", &id, "1", b"x", vec![])),
        "NoSuchUpload"
    );
}

const CSE: &[(&str, &str)] = &[
    ("x-oss-meta-client-side-encryption-key", "a2V5"),
    ("x-oss-meta-client-side-encryption-start", "c3RhcnQ="),
    (
        "x-oss-meta-client-side-encryption-cek-alg",
        "AES/CTR/NoPadding",
    ),
    (
        "x-oss-meta-client-side-encryption-wrap-alg",
        "RSA/NONE/PKCS1Padding",
    ),
    ("x-oss-meta-client-side-encryption-part-size", "112"),
    ("x-oss-meta-client-side-encryption-data-size", "300"),
];

fn cse_with(name: &str, value: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
    let mut h: Vec<_> = CSE.iter().copied().filter(|(n, _)| *n != name).collect();
    if let Some(v) = value {
        let full = CSE.iter().find(|(n, _)| *n == name).unwrap().0;
        h.push((full, v));
    }
    h
}

#[test]
fn cse_multipart_rules() {
    let (_server, c) = start();
    // part-size required and a multiple of 16 on Init.
    assert_eq!(
        error_code(&init(
            &c,
            "e",
            cse_with("x-oss-meta-client-side-encryption-part-size", None)
        )),
        "InvalidArgument"
    );
    assert_eq!(
        error_code(&init(
            &c,
            "e",
            cse_with("x-oss-meta-client-side-encryption-part-size", Some("100"))
        )),
        "InvalidArgument"
    );
    assert_eq!(
        error_code(&init(
            &c,
            "e",
            cse_with("x-oss-meta-client-side-encryption-data-size", Some("x"))
        )),
        "InvalidArgument"
    );

    let id = upload_id(&init(&c, "e", CSE.to_vec()));
    let r = c
        .send(&Call {
            method: "GET",
            bucket: Some("bkt"),
            key: Some("e"),
            query: vec![("uploadId", &id)],
            ..Call::default()
        })
        .unwrap();
    let t = r.text();
    for tag in [
        "<ClientEncryptionKey>a2V5<",
        "<ClientEncryptionStart>c3RhcnQ=<",
        "<ClientEncryptionPartSize>112<",
        "<ClientEncryptionDataSize>300<",
        "<ClientEncryptionCekAlg>AES/CTR/NoPadding<",
        "<ClientEncryptionWrapAlg>RSA/NONE/PKCS1Padding<",
    ] {
        assert!(t.contains(tag), "{tag} missing in {t}");
    }
    let full = vec![7u8; 112];
    // A different start, a missing part-size on UploadPart, an oversized part: refused.
    let r = part(
        &c,
        "e",
        &id,
        "1",
        &full,
        cse_with("x-oss-meta-client-side-encryption-start", Some("b3RoZXI=")),
    );
    assert!(
        error_code(&r) == "InvalidArgument" && r.text().contains("start"),
        "{}",
        r.text()
    );
    assert_eq!(
        error_code(&part(
            &c,
            "e",
            &id,
            "1",
            &full,
            cse_with("x-oss-meta-client-side-encryption-part-size", None)
        )),
        "InvalidArgument"
    );
    assert_eq!(
        error_code(&part(&c, "e", &id, "1", &[0u8; 113], CSE.to_vec())),
        "InvalidArgument"
    );
    // Identical envelope (or none, as Java/C++ send) is accepted.
    let e1 = part(&c, "e", &id, "1", &full, CSE.to_vec())
        .header("etag")
        .unwrap()
        .to_string();
    let short = vec![8u8; 50];
    let e2 = part(&c, "e", &id, "2", &short, vec![])
        .header("etag")
        .unwrap()
        .to_string();
    let e3 = part(&c, "e", &id, "3", &full, vec![])
        .header("etag")
        .unwrap()
        .to_string();
    let e4 = part(&c, "e", &id, "4", &short, vec![])
        .header("etag")
        .unwrap()
        .to_string();
    // Part 2 is short but not last: refused.
    assert_eq!(
        error_code(&complete(&c, "e", &id, &[(1, &e1), (2, &e2), (3, &e3)])),
        "InvalidPart"
    );
    let e2 = part(&c, "e", &id, "2", &full, vec![])
        .header("etag")
        .unwrap()
        .to_string();
    let e5 = part(&c, "e", &id, "5", &full, vec![])
        .header("etag")
        .unwrap()
        .to_string();
    // Four parts exceed ceil(data-size 300 / part-size 112) = 3 (EC 0005-00000411).
    assert_eq!(
        error_code(&complete(
            &c,
            "e",
            &id,
            &[(1, &e1), (2, &e2), (3, &e3), (5, &e5)]
        )),
        "InvalidArgument"
    );
    let r = complete(&c, "e", &id, &[(1, &e1), (2, &e2), (4, &e4)]);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = c.send(&get("e")).unwrap();
    assert_eq!(r.body.len(), 112 * 2 + 50);
    assert_eq!(
        r.header("x-oss-meta-client-side-encryption-start"),
        Some("c3RhcnQ=")
    );

    // CopyObject may not change CSE metadata, but may copy it or change other metadata.
    let copy = |headers: Vec<(&'static str, &'static str)>| {
        let mut h = vec![
            ("x-oss-copy-source", "/bkt/e"),
            ("x-oss-metadata-directive", "REPLACE"),
        ];
        h.extend(headers);
        c.send(&Call {
            method: "PUT",
            bucket: Some("bkt"),
            key: Some("e2"),
            headers: h,
            ..Call::default()
        })
        .unwrap()
    };
    assert_eq!(
        error_code(&copy(vec![(
            "x-oss-meta-client-side-encryption-key",
            "b3RoZXI="
        )])),
        "InvalidArgument"
    );
    assert_eq!(copy(vec![("x-oss-meta-color", "red")]).status, 200);
    let r = c.send(&get("e2")).unwrap();
    assert_eq!(r.header("x-oss-meta-color"), Some("red"));
    assert_eq!(
        r.header("x-oss-meta-client-side-encryption-key"),
        Some("a2V5")
    );
}

// ------------------------------------------------------------------ fault knobs

#[test]
fn fault_fail_first_requests() {
    let (server, c) = start();
    server.faults().set(FaultConfig {
        fail_first: 2,
        fail_status: 503,
        ..FaultConfig::default()
    });
    let r = c.send(&get("x")).unwrap();
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (503, "ServiceUnavailable")
    );
    server.faults().set(FaultConfig {
        fail_first: 1,
        fail_status: 500,
        ..FaultConfig::default()
    });
    assert_eq!(error_code(&c.send(&get("x")).unwrap()), "InternalError");
    assert_eq!(
        error_code(&c.send(&get("x")).unwrap()),
        "NoSuchKey",
        "served again after K failures"
    );
}

#[test]
fn fault_reset_after_body_bytes() {
    let (server, c) = start();
    server.faults().set(FaultConfig {
        reset_after_body_bytes: Some(1000),
        ..FaultConfig::default()
    });
    let big = vec![0u8; 4 << 20];
    let err = c.send(&put("big", &big)).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
        ),
        "{err:?}"
    );
    assert!(server.object("bkt", "big").is_none());
    assert_eq!(
        c.send(&put("small", &[1u8; 999])).unwrap().status,
        200,
        "bodies under N are unaffected"
    );
}

#[test]
fn fault_truncate_response_body() {
    let (server, c) = start();
    c.send(&put("t", &[5u8; 5000])).unwrap();
    server.faults().set(FaultConfig {
        truncate_response_body: Some(1234),
        ..FaultConfig::default()
    });
    let r = c.send(&get("t")).unwrap();
    assert_eq!(
        (r.status, r.content_length, r.body.len()),
        (200, Some(5000), 1234)
    );
}

#[test]
fn fault_wrong_crc() {
    let (server, c) = start();
    let data = b"crc me";
    c.send(&put("c", data)).unwrap();
    server.faults().set(FaultConfig {
        wrong_crc: true,
        ..FaultConfig::default()
    });
    let r = c.send(&get("c")).unwrap();
    assert_eq!(r.body, data);
    assert_ne!(
        r.header("x-oss-hash-crc64ecma").unwrap(),
        crc64(data).to_string()
    );
}

#[test]
fn fault_ignore_range() {
    let (server, c) = start();
    c.send(&put("r", &[9u8; 100])).unwrap();
    server.faults().set(FaultConfig {
        ignore_range: true,
        ..FaultConfig::default()
    });
    let r = c
        .send(&Call {
            headers: vec![("Range", "bytes=0-9")],
            ..get("r")
        })
        .unwrap();
    assert_eq!((r.status, r.body.len()), (200, 100));
    assert!(r.header("content-range").is_none());
}

#[test]
fn fault_throttle() {
    let (server, c) = start();
    c.send(&put("slow", &[1u8; 40_000])).unwrap();
    server.faults().set(FaultConfig {
        throttle_bytes_per_sec: Some(100_000),
        ..FaultConfig::default()
    });
    let t = std::time::Instant::now();
    let r = c.send(&get("slow")).unwrap();
    assert_eq!(r.body.len(), 40_000);
    // 40 kB at 100 kB/s cannot arrive in less than ~0.4 s (a lower bound, not a timing target).
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(350),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn virtual_hosted_addressing_and_data_dir() {
    let dir = std::env::temp_dir().join(format!("osscse-server-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = Config::new("ak", "sk");
    config.data_dir = Some(dir.clone());
    {
        let server = Server::start(config.clone()).unwrap();
        let c = Client::new(server.addr(), Credentials::new("ak", "sk"));
        assert_eq!(c.send(&put("persist/me", b"kept")).unwrap().status, 200);
        // Virtual-hosted request: the bucket is the first label of Host, the path is the key.
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
        let req = osscse_core::sign::Request {
            method: "GET",
            bucket: Some("bkt"),
            key: Some("persist/me"),
            query: &[],
            headers: &[],
        };
        let signed =
            osscse_core::sign::v1::sign_headers(&req, &Credentials::new("ak", "sk"), now(), &[])
                .unwrap();
        let mut head = String::from(
            "GET /persist/me HTTP/1.1\r\nHost: bkt.oss-cn-hangzhou.aliyuncs.com\r\nConnection: close\r\n",
        );
        for (n, v) in &signed.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        s.write_all(format!("{head}\r\n").as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(
            out.starts_with("HTTP/1.1 200") && out.ends_with("kept"),
            "{out}"
        );
    }
    let server = Server::start(config).unwrap();
    assert_eq!(server.object("bkt", "persist/me").unwrap().data, b"kept");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn expect_continue_chunked_body_and_keep_alive() {
    use std::io::{BufRead, BufReader, Read, Write};
    let (server, _c) = start();
    let cred = Credentials::new("ak", "sk");
    let params = osscse_core::sign::v4::Params::new("cn-hangzhou");
    let sign = |method: &str| {
        let req = osscse_core::sign::Request {
            method,
            bucket: Some("bkt"),
            key: Some("chunked"),
            query: &[],
            headers: &[],
        };
        osscse_core::sign::v4::sign_headers(&req, &cred, &params, now())
            .unwrap()
            .headers
    };
    let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
    let mut head = String::from(
        "PUT /bkt/chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n",
    );
    for (n, v) in sign("PUT") {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    s.write_all(format!("{head}\r\n").as_bytes()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert_eq!(
        line, "HTTP/1.1 100 Continue\r\n",
        "the body is only sent after 100 Continue"
    );
    r.read_line(&mut line).unwrap();
    s.write_all(b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n")
        .unwrap();
    let mut status = String::new();
    r.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut len = 0;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        if h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).unwrap();
    // Same connection (keep-alive): read it back.
    let mut head =
        String::from("GET /bkt/chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (n, v) in sign("GET") {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    s.write_all(format!("{head}\r\n").as_bytes()).unwrap();
    let mut rest = String::new();
    r.read_to_string(&mut rest).unwrap();
    assert!(
        rest.starts_with("HTTP/1.1 200") && rest.ends_with("hello, world"),
        "{rest}"
    );
}

#[test]
fn malformed_requests_get_400_and_the_server_keeps_serving() {
    use std::io::{Read, Write};
    let (_server, c) = start();
    for junk in [
        &b"\x00\x01\x02 garbage\r\n\r\n"[..],
        b"GET / HTTP/2\r\n\r\n",
        b"PUT /bkt/k HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"PUT /bkt/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
        b"GET /bkt/k HTTP/1.1\r\nno colon here\r\n\r\n",
    ] {
        let mut s = std::net::TcpStream::connect(c.addr).unwrap();
        s.write_all(junk).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        assert!(out.starts_with("HTTP/1.1 400"), "{junk:?} -> {out}");
        assert!(out.contains("<Code>InvalidRequest</Code>"), "{out}");
    }
    assert_eq!(
        error_code(&c.send(&get("still-alive")).unwrap()),
        "NoSuchKey"
    );
}

#[test]
fn binary_prints_its_address_and_serves() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_osscse-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--access-key-id",
            "AK",
            "--access-key-secret",
            "SK",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoint = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{line}");
    let addr = endpoint.trim_start_matches("http://").parse().unwrap();
    let c = Client::new(addr, Credentials::new("AK", "SK"));
    let r = c.send(&Call {
        method: "PUT",
        bucket: Some("any-bucket"),
        key: Some("k"),
        body: b"v",
        ..Call::default()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(r.unwrap().status, 200);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_osscse-server"))
        .args(["--listen", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--access-key-id"));
}

#[test]
fn get_if_match_and_the_request_log() {
    let (server, c) = start();
    let r = c.send(&put("k", b"version one")).unwrap();
    assert_eq!(r.status, 200);
    let etag = r.header("etag").unwrap().to_string();
    server.clear_request_log();
    // The current ETag (quoted or not): the object; another: 412 PreconditionFailed.
    for value in [etag.as_str(), etag.trim_matches('"')] {
        let mut call = get("k");
        call.headers = vec![("If-Match", value)];
        let r = c.send(&call).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body, b"version one");
    }
    let mut call = get("k");
    call.headers = vec![("If-Match", "\"0123456789ABCDEF0123456789ABCDEF\"")];
    let r = c.send(&call).unwrap();
    assert_eq!(r.status, 412);
    assert_eq!(error_code(&r), "PreconditionFailed");
    // Every request is logged with method, bucket, key, query and headers.
    let log = server.request_log();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|l| l.method == "GET"
        && l.bucket.as_deref() == Some("bkt")
        && l.key.as_deref() == Some("k")
        && l.header("if-match").is_some()
        && !l.is_upload()));
    c.send(&put("k2", b"x")).unwrap();
    let log = server.request_log();
    assert!(log[3].is_upload() && log[3].key.as_deref() == Some("k2"));
}
