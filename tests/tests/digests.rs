//! Body digests as OSS checks them: `Content-MD5` on every body-bearing operation (PutObject,
//! UploadPart, CompleteMultipartUpload, DeleteMultipleObjects) and the V4
//! `x-oss-content-sha256`; a refused body is never stored.
#![allow(clippy::unwrap_used)]
// A std-only test fixture: `core`/`alloc` paths would add nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use base64ct::{Base64, Encoding};
use md5::{Digest, Md5};
use sha2::Sha256;

use osscse_core::sign::Credentials;
use osscse_tests::client::{Call, Client, Response, Signing};
use osscse_tests::{Config, PayloadHashPolicy, Server};

fn start(policy: PayloadHashPolicy) -> (Server, Client) {
    let mut config = Config::new("ak", "sk");
    config.payload_hash = policy;
    let server = Server::start(config).unwrap();
    let client = Client::new(server.addr(), Credentials::new("ak", "sk"));
    (server, client)
}

fn code(r: &Response) -> String {
    let t = r.text();
    t.split("<Code>")
        .nth(1)
        .and_then(|s| s.split("</Code>").next())
        .unwrap_or("")
        .to_string()
}

fn md5_b64(data: &[u8]) -> String {
    Base64::encode_string(&Md5::digest(data))
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn flipped(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v[data.len() / 2] ^= 0x01;
    v
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

fn exists(c: &Client, key: &str) -> bool {
    let r = c
        .send(&Call {
            method: "HEAD",
            bucket: Some("bkt"),
            key: Some(key),
            ..Call::default()
        })
        .unwrap();
    r.status == 200
}

fn assert_invalid_digest(r: &Response) {
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(code(r), "InvalidDigest", "{}", r.text());
    assert_eq!(r.header("x-oss-ec"), Some("0017-00000503"));
}

#[test]
fn content_md5_on_put_object_every_signature_form() {
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 31) as u8).collect();
    let good = md5_b64(&data);
    for signing in [Signing::V4Header, Signing::V1Header, Signing::V4Query(60)] {
        let (_server, c) = start(PayloadHashPolicy::default());
        let c = Client { signing, ..c };
        let bad = flipped(&data);
        // The Content-MD5 of the intended body, a body altered on the way: refused, not stored.
        let r = c
            .send(&put("k", &bad, vec![("Content-MD5", &good)]))
            .unwrap();
        assert_invalid_digest(&r);
        assert!(!exists(&c, "k"), "{signing:?}: a refused body was stored");
        // Not an MD5 at all.
        for junk in ["not base64!", "AAAA", ""] {
            let r = c
                .send(&put("k", &data, vec![("Content-MD5", junk)]))
                .unwrap();
            assert_invalid_digest(&r);
        }
        assert!(!exists(&c, "k"));
        let r = c
            .send(&put("k", &data, vec![("Content-MD5", &good)]))
            .unwrap();
        assert_eq!(r.status, 200, "{signing:?}: {}", r.text());
        assert!(exists(&c, "k"));
    }
}

fn upload_id(r: &Response) -> String {
    let t = r.text();
    t.split("<UploadId>")
        .nth(1)
        .and_then(|s| s.split("</UploadId>").next())
        .unwrap()
        .to_string()
}

#[test]
fn content_md5_on_multipart_and_delete_multiple() {
    let (_server, c) = start(PayloadHashPolicy::default());
    let init = c
        .send(&Call {
            method: "POST",
            bucket: Some("bkt"),
            key: Some("mp"),
            query: vec![("uploads", "")],
            ..Call::default()
        })
        .unwrap();
    let id = upload_id(&init);
    let body = vec![7u8; 1000];
    let good = md5_b64(&body);
    let part = |data: &[u8], md5: &str| {
        c.send(&Call {
            method: "PUT",
            bucket: Some("bkt"),
            key: Some("mp"),
            query: vec![("partNumber", "1"), ("uploadId", &id)],
            headers: vec![("Content-MD5", md5)],
            body: data,
            ..Call::default()
        })
        .unwrap()
    };
    assert_invalid_digest(&part(&flipped(&body), &good));
    let list = c
        .send(&Call {
            method: "GET",
            bucket: Some("bkt"),
            key: Some("mp"),
            query: vec![("uploadId", &id)],
            ..Call::default()
        })
        .unwrap();
    assert!(
        !list.text().contains("<Part>"),
        "a refused part was stored: {}",
        list.text()
    );
    let r = part(&body, &good);
    assert_eq!(r.status, 200, "{}", r.text());
    let etag = r.header("ETag").unwrap().to_string();

    let xml = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    );
    let complete = |md5: &str| {
        c.send(&Call {
            method: "POST",
            bucket: Some("bkt"),
            key: Some("mp"),
            query: vec![("uploadId", &id)],
            headers: vec![("Content-MD5", md5)],
            body: xml.as_bytes(),
            ..Call::default()
        })
        .unwrap()
    };
    assert_invalid_digest(&complete(&md5_b64(b"other")));
    assert!(!exists(&c, "mp"), "a refused Complete created the object");
    let r = complete(&md5_b64(xml.as_bytes()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(exists(&c, "mp"));

    let del = "<Delete><Quiet>false</Quiet><Object><Key>mp</Key></Object></Delete>";
    let delete = |md5: &str| {
        c.send(&Call {
            method: "POST",
            bucket: Some("bkt"),
            query: vec![("delete", "")],
            headers: vec![("Content-MD5", md5)],
            body: del.as_bytes(),
            ..Call::default()
        })
        .unwrap()
    };
    assert_invalid_digest(&delete(&md5_b64(b"tampered")));
    assert!(exists(&c, "mp"), "a refused DeleteMultipleObjects deleted");
    assert_eq!(delete(&md5_b64(del.as_bytes())).status, 200);
    assert!(!exists(&c, "mp"));
}

#[test]
fn v4_payload_hash_refused_as_oss_does() {
    let (_server, c) = start(PayloadHashPolicy::UnsignedOnly);
    let data = b"payload that the client hashed".to_vec();
    let hash = sha256_hex(&data);
    // Even the right digest: OSS only supports UNSIGNED-PAYLOAD in x-oss-content-sha256.
    let r = c
        .send(&Call {
            payload_sha256: Some(&hash),
            ..put("k", &data, vec![])
        })
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(code(&r), "InvalidArgument");
    assert_eq!(r.header("x-oss-ec"), Some("0002-00000214"));
    assert!(
        r.text().contains("only supports UNSIGNED-PAYLOAD"),
        "{}",
        r.text()
    );
    assert!(!exists(&c, "k"));
    // UNSIGNED-PAYLOAD with a Content-MD5: the body check OSS offers.
    let md5 = md5_b64(&data);
    let r = c
        .send(&Call {
            payload_sha256: Some("UNSIGNED-PAYLOAD"),
            ..put("k", &data, vec![("Content-MD5", &md5)])
        })
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn v4_payload_hash_verified_when_asked() {
    let (_server, c) = start(PayloadHashPolicy::VerifySha256);
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let hash = sha256_hex(&data);
    let bad = flipped(&data);
    let r = c
        .send(&Call {
            payload_sha256: Some(&hash),
            ..put("k", &bad, vec![])
        })
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(code(&r), "InvalidArgument");
    assert!(r.text().contains("does not match"), "{}", r.text());
    assert!(
        !exists(&c, "k"),
        "a body that fails its signed hash was stored"
    );
    // Upper-case hex is not the form V4 signs.
    let upper = hash.to_ascii_uppercase();
    let r = c
        .send(&Call {
            payload_sha256: Some(&upper),
            ..put("k", &data, vec![])
        })
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    let r = c
        .send(&Call {
            payload_sha256: Some(&hash),
            ..put("k", &data, vec![])
        })
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(exists(&c, "k"));
    // Without a payload hash nothing changes.
    let r = c.send(&put("k2", &data, vec![])).unwrap();
    assert_eq!(
        r.status,
        200,
        "UNSIGNED-PAYLOAD stays accepted: {}",
        r.text()
    );
}
