//! Large bodies (the pipelined receive path), the ETag policies, and when the fault knobs are
//! read on kept-alive connections.
#![allow(clippy::unwrap_used)]
// A std-only test fixture: `core`/`alloc` paths would add nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

use base64ct::{Base64, Encoding};
use md5::{Digest, Md5};

use osscse_core::sign::{self, Credentials, v4};
use osscse_tests::client::{Call, Client, Response};
use osscse_tests::{Config, EtagPolicy, FaultConfig, Server};

fn start(etag: EtagPolicy) -> (Server, Client) {
    let mut config = Config::new("ak", "sk");
    config.etag = etag;
    let server = Server::start(config).unwrap();
    let client = Client::new(server.addr(), Credentials::new("ak", "sk"));
    (server, client)
}

fn crc64(data: &[u8]) -> u64 {
    crc::Crc::<u64>::new(&crc::CRC_64_XZ).checksum(data)
}

/// Deterministic bytes that are not periodic in 4 MiB.
fn data(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn put<'a>(key: &'a str, body: &'a [u8], headers: Vec<(&'a str, &'a str)>) -> Call<'a> {
    Call {
        method: "PUT",
        bucket: Some("bkt"),
        key: Some(key),
        headers,
        body,
        ..Call::default()
    }
}

fn code(r: &Response) -> String {
    let t = r.text();
    t.split("<Code>")
        .nth(1)
        .and_then(|s| s.split("</Code>").next())
        .unwrap_or("")
        .to_string()
}

#[test]
fn large_put_md5_etag_crc_and_content_md5() {
    let (server, c) = start(EtagPolicy::Md5);
    // Not a multiple of the 4 MiB receive unit, above the 8 MiB pipelining threshold.
    let body = data(13 * 1024 * 1024 + 12_345, 7);
    let md5 = Md5::digest(&body);
    let b64 = Base64::encode_string(&md5);
    let r = c
        .send(&put("big", &body, vec![("Content-MD5", &b64)]))
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("ETag").unwrap(),
        format!("\"{}\"", hex::encode_upper(md5))
    );
    assert_eq!(
        r.header("x-oss-hash-crc64ecma").unwrap(),
        crc64(&body).to_string()
    );
    assert_eq!(server.object("bkt", "big").unwrap().data, body);
    // The same size with one byte changed against that Content-MD5: refused, not stored.
    let mut bad = body.clone();
    bad[9 * 1024 * 1024] ^= 0x80;
    let r = c
        .send(&put("big-bad", &bad, vec![("Content-MD5", &b64)]))
        .unwrap();
    assert_eq!(code(&r), "InvalidDigest", "{}", r.text());
    assert!(server.object("bkt", "big-bad").is_none());
}

#[test]
fn large_body_cut_short_is_not_stored() {
    let (server, c) = start(EtagPolicy::Md5);
    let cred = Credentials::new("ak", "sk");
    let req = sign::Request {
        method: "PUT",
        bucket: Some("bkt"),
        key: Some("short"),
        query: &[],
        headers: &[],
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut head =
        String::from("PUT /bkt/short HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20000000\r\n");
    for (n, v) in v4::sign_headers(&req, &cred, &v4::Params::new("cn-hangzhou"), now)
        .unwrap()
        .headers
    {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.write_all(format!("{head}\r\n").as_bytes()).unwrap();
    s.write_all(&data(10_000_000, 3)).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(server.object("bkt", "short").is_none());
    // The server still serves.
    assert_eq!(c.send(&put("after", b"x", vec![])).unwrap().status, 200);
}

fn upload_id(r: &Response) -> String {
    let t = r.text();
    t.split("<UploadId>")
        .nth(1)
        .and_then(|s| s.split("</UploadId>").next())
        .unwrap()
        .to_string()
}

/// Initiate, two parts (one large), complete; returns (part ETags, complete response).
fn multipart(c: &Client, key: &str, a: &[u8], b: &[u8]) -> (Vec<String>, Response) {
    let init = c
        .send(&Call {
            method: "POST",
            bucket: Some("bkt"),
            key: Some(key),
            query: vec![("uploads", "")],
            ..Call::default()
        })
        .unwrap();
    let id = upload_id(&init);
    let mut etags = Vec::new();
    for (n, body) in [("1", a), ("2", b)] {
        let r = c
            .send(&Call {
                method: "PUT",
                bucket: Some("bkt"),
                key: Some(key),
                query: vec![("partNumber", n), ("uploadId", &id)],
                body,
                ..Call::default()
            })
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.header("x-oss-hash-crc64ecma").unwrap(),
            crc64(body).to_string()
        );
        etags.push(r.header("ETag").unwrap().to_string());
    }
    let xml = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
        etags[0], etags[1]
    );
    let r = c
        .send(&Call {
            method: "POST",
            bucket: Some("bkt"),
            key: Some(key),
            query: vec![("uploadId", &id)],
            body: xml.as_bytes(),
            ..Call::default()
        })
        .unwrap();
    (etags, r)
}

#[test]
fn multipart_crc_is_combined_from_parts_under_both_etag_policies() {
    let a = data(9 * 1024 * 1024, 11);
    let b = data(777_777, 13);
    let whole: Vec<u8> = [a.as_slice(), b.as_slice()].concat();
    for policy in [EtagPolicy::Md5, EtagPolicy::Crc64] {
        let (server, c) = start(policy);
        let (etags, r) = multipart(&c, "mp", &a, &b);
        assert_eq!(r.status, 200, "{policy:?}: {}", r.text());
        assert_eq!(
            r.header("x-oss-hash-crc64ecma").unwrap(),
            crc64(&whole).to_string(),
            "{policy:?}"
        );
        assert_eq!(server.object("bkt", "mp").unwrap().data, whole);
        match policy {
            EtagPolicy::Md5 => {
                assert_eq!(
                    etags[0],
                    format!("\"{}\"", hex::encode_upper(Md5::digest(&a)))
                );
                let mut md5s = Md5::digest(&a).to_vec();
                md5s.extend_from_slice(&Md5::digest(&b));
                assert!(
                    r.text().contains(&format!(
                        "<ETag>&quot;{}-2&quot;</ETag>",
                        hex::encode_upper(Md5::digest(&md5s))
                    )),
                    "{}",
                    r.text()
                );
            }
            EtagPolicy::Crc64 => {
                let want = format!("\"{:016X}{:016X}\"", crc64(&a), a.len());
                assert_eq!(etags[0], want);
            }
        }
    }
}

#[test]
fn crc64_etag_policy_still_checks_content_md5() {
    let (server, c) = start(EtagPolicy::Crc64);
    let body = data(10 * 1024 * 1024, 5);
    let good = Base64::encode_string(&Md5::digest(&body));
    let wrong = Base64::encode_string(&Md5::digest(b"other"));
    let r = c
        .send(&put("k", &body, vec![("Content-MD5", &wrong)]))
        .unwrap();
    assert_eq!(code(&r), "InvalidDigest", "{}", r.text());
    assert!(server.object("bkt", "k").is_none());
    let r = c
        .send(&put("k", &body, vec![("Content-MD5", &good)]))
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let etag = r.header("ETag").unwrap();
    assert_eq!(
        etag,
        format!("\"{:016X}{:016X}\"", crc64(&body), body.len())
    );
}

/// One signed GET on an open keep-alive connection; returns the status.
fn keep_alive_get(s: &mut TcpStream, r: &mut BufReader<TcpStream>, key: &str) -> u16 {
    let cred = Credentials::new("ak", "sk");
    let req = sign::Request {
        method: "GET",
        bucket: Some("bkt"),
        key: Some(key),
        query: &[],
        headers: &[],
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut head = format!("GET /bkt/{key} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (n, v) in v4::sign_headers(&req, &cred, &v4::Params::new("cn-hangzhou"), now)
        .unwrap()
        .headers
    {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    s.write_all(format!("{head}\r\n").as_bytes()).unwrap();
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut len = 0usize;
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
    status
}

#[test]
fn fault_knobs_are_read_when_a_request_arrives_not_while_idle() {
    let (server, c) = start(EtagPolicy::Md5);
    assert_eq!(c.send(&put("k", b"v", vec![])).unwrap().status, 200);
    // A pooled connection: one request served, then idle.
    let mut s = TcpStream::connect(server.addr()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    assert_eq!(keep_alive_get(&mut s, &mut r, "k"), 200);
    // Knobs set while it idles apply to its next request, and are not used up by idling.
    server.faults().set(FaultConfig {
        fail_first: 1,
        fail_status: 503,
        ..FaultConfig::default()
    });
    let mut idle = TcpStream::connect(server.addr()).unwrap();
    let mut idle_r = BufReader::new(idle.try_clone().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(keep_alive_get(&mut s, &mut r, "k"), 503);
    assert_eq!(keep_alive_get(&mut s, &mut r, "k"), 200);
    assert_eq!(keep_alive_get(&mut idle, &mut idle_r, "k"), 200);
    assert_eq!(server.faults().get().fail_first, 0);
}
