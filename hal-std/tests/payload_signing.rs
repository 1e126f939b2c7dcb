//! Signed payloads (issue 15): the std client sends the `Content-MD5` of the ciphertext with
//! every PutObject and UploadPart from a replayable body, so a man in the middle who flips one
//! body byte (the recording proxy `osscse_tests::flip_proxy`) gets the upload refused with a
//! typed `InvalidDigest` and the server holds nothing; without the flip the object decrypts.
//! The documented opt-out (`PayloadSigning::UnsignedPayloadAlterableInTransit`) sends no digest:
//! the flip is then stored (only the answer's CRC-64 tells, afterwards) and decrypts to
//! flipped plaintext, the attack this closes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::Path;
use std::time::Duration;

use base64ct::{Base64, Encoding};
use md5::{Digest, Md5};
use osscse_core::sign::Credentials;
use osscse_std::RetryPolicy;
use osscse_std::blocking::{Client, EncryptionClient};
use osscse_std::keys::{Keyring, load_rsa_key};
use osscse_std::local::PutOptions;
use osscse_std::{ClientConfig, Endpoint, Error, PayloadSigning, SignVersion};
use osscse_tests::flip_proxy::{FlipProxy, RecordedRequest};
use osscse_tests::{Config, Server};

const BUCKET: &str = "bkt";
/// The body byte the proxy flips.
const FLIP_AT: usize = 1000;

fn keys() -> Keyring {
    Keyring::new(
        load_rsa_key(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-a-private.pem"))
            .unwrap(),
    )
}

fn server() -> Server {
    Server::start(Config::new("ak", "sk")).unwrap()
}

fn client(endpoint: &str, signing: PayloadSigning, version: SignVersion) -> EncryptionClient {
    let mut cfg = ClientConfig::new(Endpoint::parse(endpoint).unwrap());
    cfg.region = Some("cn-hangzhou".into());
    cfg.sign_version = version;
    cfg.payload_signing = signing;
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    };
    EncryptionClient::new(
        Client::new(cfg, Credentials::new("ak", "sk")).unwrap(),
        keys(),
    )
}

fn signed(endpoint: &str) -> EncryptionClient {
    client(endpoint, PayloadSigning::default(), SignVersion::V4)
}

fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// The one request the proxy saw, which must be a PUT.
fn only_put(proxy: &FlipProxy) -> RecordedRequest {
    let reqs = proxy.requests();
    assert_eq!(reqs.len(), 1, "one request: {reqs:?}");
    assert_eq!(reqs[0].method(), "PUT");
    reqs.into_iter().next().unwrap()
}

fn assert_invalid_digest(err: &Error) {
    let oss = err
        .oss()
        .unwrap_or_else(|| panic!("want an OSS error: {err:?}"));
    assert_eq!(
        (oss.status, oss.code.as_str()),
        (400, "InvalidDigest"),
        "{err:?}"
    );
}

#[test]
fn a_flipped_body_byte_is_refused_and_nothing_is_stored() {
    for version in [SignVersion::V4, SignVersion::V1] {
        let s = server();
        let proxy = FlipProxy::start(s.addr(), Some(FLIP_AT)).unwrap();
        let plain = data(5000, 1);
        let err = client(&proxy.endpoint(), PayloadSigning::default(), version)
            .put_source(BUCKET, "o", &plain, &PutOptions::default())
            .unwrap_err();
        assert_invalid_digest(&err);
        assert_eq!(proxy.flips(), 1, "{version:?}");
        assert!(
            s.object(BUCKET, "o").is_none(),
            "{version:?}: nothing stored"
        );
        assert!(
            only_put(&proxy).header("content-md5").is_some(),
            "{version:?}: the PUT carried a digest"
        );
    }
}

#[test]
fn without_the_flip_the_object_decrypts_and_its_digest_is_of_the_ciphertext() {
    let s = server();
    let proxy = FlipProxy::start(s.addr(), None).unwrap();
    let plain = data(5000, 2);
    signed(&proxy.endpoint())
        .put_source(BUCKET, "o", &plain, &PutOptions::default())
        .unwrap();
    let stored = s.object(BUCKET, "o").unwrap();
    assert_ne!(stored.data, plain);
    let put = only_put(&proxy);
    assert_eq!(put.body, stored.data, "what went out is what is stored");
    assert_eq!(
        put.header("content-md5"),
        Some(Base64::encode_string(&Md5::digest(&stored.data)).as_str())
    );
    assert_eq!(
        signed(&s.endpoint())
            .get_object_bytes(BUCKET, "o", None)
            .unwrap(),
        plain
    );
}

#[test]
fn a_flipped_upload_part_is_refused_and_no_part_is_recorded() {
    let s = server();
    let plain = data(300 * 1024, 3);
    let direct = signed(&s.endpoint());
    let ctx = direct
        .initiate_multipart(
            BUCKET,
            "mp",
            plain.len() as u64,
            100 * 1024,
            &PutOptions::default(),
        )
        .unwrap();
    // A fresh client through the proxy: the UploadPart is the first request on its connection.
    let proxy = FlipProxy::start(s.addr(), Some(FLIP_AT)).unwrap();
    let err = signed(&proxy.endpoint())
        .upload_part(&ctx, 2, &plain)
        .unwrap_err();
    assert_invalid_digest(&err);
    assert_eq!(proxy.flips(), 1);
    assert!(
        direct
            .list_parts(BUCKET, "mp", &ctx.upload_id)
            .unwrap()
            .is_empty()
    );

    // Untampered parts go through with their digests, and the object decrypts.
    let clean = FlipProxy::start(s.addr(), None).unwrap();
    let through = signed(&clean.endpoint());
    let parts: Vec<_> = (1..=3)
        .map(|n| through.upload_part(&ctx, n, &plain).unwrap())
        .collect();
    direct.complete_multipart(&ctx, &parts).unwrap();
    // Every request, on every connection the client's pool used (not only each connection's
    // first: a pooled connection carries several parts, and the pool may open one it never
    // uses), was an UploadPart with the digest of its body.
    let reqs = clean.requests();
    assert_eq!(reqs.len(), 3, "three UploadParts: {reqs:?}");
    for req in &reqs {
        assert_eq!(req.method(), "PUT");
        assert_eq!(
            req.header("content-md5"),
            Some(Base64::encode_string(&Md5::digest(&req.body)).as_str()),
            "every UploadPart carried the Content-MD5 of its body"
        );
    }
    assert_eq!(direct.get_object_bytes(BUCKET, "mp", None).unwrap(), plain);
}

#[test]
fn the_opt_out_sends_no_digest_and_a_flip_is_stored() {
    let s = server();
    let proxy = FlipProxy::start(s.addr(), Some(FLIP_AT)).unwrap();
    let plain = data(5000, 4);
    let err = client(
        &proxy.endpoint(),
        PayloadSigning::UnsignedPayloadAlterableInTransit,
        SignVersion::V4,
    )
    .put_source(BUCKET, "o", &plain, &PutOptions::default())
    .unwrap_err();
    // Only the answer's CRC-64 tells, after OSS has already stored the altered body.
    assert!(matches!(err, Error::CrcMismatch { .. }), "{err:?}");
    assert_eq!(proxy.flips(), 1);
    assert_eq!(only_put(&proxy).header("content-md5"), None);
    // AES-CTR: the flipped ciphertext bit is the same plaintext bit, and decryption succeeds.
    let got = signed(&s.endpoint())
        .get_object_bytes(BUCKET, "o", None)
        .unwrap();
    let mut want = plain;
    want[FLIP_AT] ^= 0x01;
    assert_eq!(got, want);
}
