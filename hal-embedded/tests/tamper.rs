//! Signed payloads against a man in the middle: a recording proxy
//! (`osscse_tests::flip_proxy`) sits between the device uploader and the loopback server.
//! Flipping one body byte makes the upload (signed `Content-MD5`, the default) fail with a typed
//! error and the server keeps nothing; without the flip the object decrypts with osscse-std and
//! the Python v2 SDK; with the explicit `UNSIGNED-PAYLOAD` opt-out the flip goes through and
//! decrypts to flipped plaintext, which is the attack the default prevents. The loopback server
//! answers a real `x-oss-content-sha256` as OSS does (refused); a verifying gateway mode checks
//! it.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[path = "support/device.rs"]
mod support;

use base64ct::{Base64, Encoding};
use futures_lite::future::block_on;
use md5::Md5;
use osscse_core::sign::Credentials;
use osscse_embedded::{PayloadSigning, SealedObject, UploadError, Uploader};
use osscse_tests::flip_proxy::FlipProxy;
use osscse_tests::{Config, PayloadHashPolicy};
use sha2::{Digest, Sha256};
use std_embedded_nal_async::Stack;
use support::*;

const LEN: usize = 4096 + 100;
const FLIP_AT: usize = 1000;

#[test]
fn a_flipped_body_byte_is_refused_and_nothing_is_stored() {
    let server = start_server();
    let proxy = FlipProxy::start(server.addr(), Some(FLIP_AT)).unwrap();
    let endpoint = proxy.endpoint();
    let stack = Stack::default();
    let credentials = Credentials::new(AK, SK);
    let mut uploader = Uploader::new(&stack, &stack, target(&endpoint), &credentials);
    assert_eq!(uploader.payload_signing(), PayloadSigning::ContentMd5);
    let data = payload(LEN, 7);
    let sealed = SealedObject::new(&public_key(), &mut fixed_drbg(1), None, LEN as u64).unwrap();
    let mut rx = [0u8; 2048];

    let err = block_on(uploader.put(
        "devices/7/t.bin",
        &sealed,
        &mut &data[..],
        None,
        now(),
        &mut rx,
    ))
    .expect_err("the altered body must be refused");
    assert_eq!(proxy.flips(), 1, "the proxy flipped one byte");
    match &err {
        UploadError::Oss { status, code, .. } => {
            assert_eq!(*status, 400, "{err}");
            assert_eq!(code.as_str(), "InvalidDigest", "{err}");
        }
        other => panic!("expected OSS to refuse the body, got {other:?}"),
    }
    assert!(err.is_body_mismatch(), "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("altered in transit"), "{err}");
    assert!(
        server.object(BUCKET, "devices/7/t.bin").is_none(),
        "nothing stored"
    );

    // What the device sent (before the flip): the MD5 is of this ciphertext, and V4 signs it
    // (content-md5 is a default signed header); the payload hash is UNSIGNED-PAYLOAD as OSS
    // requires.
    let sent = proxy.recorded();
    let (head, body) = split_request(&sent[0]);
    let mut expected = data.clone();
    sealed.encrypt_at(0, &mut expected);
    assert_eq!(body, expected, "the body on the wire is the ciphertext");
    let md5 = Base64::encode_string(&Md5::digest(&body));
    assert_eq!(header(&head, "content-md5"), Some(md5.as_str()));
    assert_eq!(
        header(&head, "x-oss-content-sha256"),
        Some("UNSIGNED-PAYLOAD")
    );
    let auth = header(&head, "authorization").unwrap();
    assert!(auth.starts_with("OSS4-HMAC-SHA256 "), "{auth}");
}

#[test]
fn without_the_flip_the_object_decrypts_with_osscse_std_and_python_sdk() {
    let server = start_server();
    let proxy = FlipProxy::start(server.addr(), None).unwrap();
    let endpoint = proxy.endpoint();
    let stack = Stack::default();
    let credentials = Credentials::new(AK, SK);
    let data = payload(LEN, 8);
    let mut rx = [0u8; 2048];
    let mut uploader = Uploader::new(&stack, &stack, target(&endpoint), &credentials);
    let sealed = SealedObject::new(&public_key(), &mut fixed_drbg(2), None, LEN as u64).unwrap();
    block_on(uploader.put(
        "signed/md5.bin",
        &sealed,
        &mut &data[..],
        None,
        now(),
        &mut rx,
    ))
    .unwrap();
    assert_eq!(proxy.flips(), 0);
    assert_eq!(read_with_osscse_std(&server, "signed/md5.bin"), data);
    check_with_python_sdk(&server, &[("signed/md5.bin", &data)]);
}

/// OSS refuses a real `x-oss-content-sha256`; a gateway that verifies it accepts the right one
/// and refuses a flipped body.
#[test]
fn the_sha256_form_is_refused_by_oss_and_checked_by_a_verifying_gateway() {
    let stack = Stack::default();
    let credentials = Credentials::new(AK, SK);
    let data = payload(LEN, 10);
    let mut rx = [0u8; 2048];
    let sealed = SealedObject::new(&public_key(), &mut fixed_drbg(5), None, LEN as u64).unwrap();

    let oss = start_server();
    let endpoint = oss.endpoint();
    let mut uploader = Uploader::new(&stack, &stack, target(&endpoint), &credentials)
        .with_payload_signing(PayloadSigning::ContentMd5AndSha256);
    let err = block_on(uploader.put("sha.bin", &sealed, &mut &data[..], None, now(), &mut rx))
        .expect_err("OSS only takes UNSIGNED-PAYLOAD");
    assert!(
        matches!(&err, UploadError::Oss { status: 400, code, .. } if code.as_str() == "InvalidArgument"),
        "{err:?}"
    );
    assert!(oss.object(BUCKET, "sha.bin").is_none());

    let mut config = Config::new(AK, SK);
    config.payload_hash = PayloadHashPolicy::VerifySha256;
    let gateway = start_server_with(config);
    for (flip, stored) in [(None, true), (Some(FLIP_AT), false)] {
        let proxy = FlipProxy::start(gateway.addr(), flip).unwrap();
        let endpoint = proxy.endpoint();
        let mut uploader = Uploader::new(&stack, &stack, target(&endpoint), &credentials)
            .with_payload_signing(PayloadSigning::ContentMd5AndSha256);
        let key = format!("sha-{stored}.bin");
        let result = block_on(uploader.put(&key, &sealed, &mut &data[..], None, now(), &mut rx));
        assert_eq!(result.is_ok(), stored, "{result:?}");
        assert_eq!(gateway.object(BUCKET, &key).is_some(), stored);
        let (head, body) = split_request(&proxy.recorded()[0]);
        let sha = hex::encode(Sha256::digest(&body));
        assert_eq!(header(&head, "x-oss-content-sha256"), Some(sha.as_str()));
        assert!(header(&head, "content-md5").is_some());
    }
    assert_eq!(read_with_osscse_std(&gateway, "sha-true.bin"), data);
}

#[test]
fn the_unsigned_payload_opt_out_lets_the_flip_through() {
    let server = start_server();
    let proxy = FlipProxy::start(server.addr(), Some(FLIP_AT)).unwrap();
    let endpoint = proxy.endpoint();
    let stack = Stack::default();
    let credentials = Credentials::new(AK, SK);
    let mut uploader = Uploader::new(&stack, &stack, target(&endpoint), &credentials)
        .with_payload_signing(PayloadSigning::UnsignedPayloadAlterableInTransit);
    let data = payload(LEN, 9);
    let sealed = SealedObject::new(&public_key(), &mut fixed_drbg(3), None, LEN as u64).unwrap();
    let mut rx = [0u8; 2048];
    block_on(uploader.put(
        "unsigned.bin",
        &sealed,
        &mut &data[..],
        None,
        now(),
        &mut rx,
    ))
    .expect("OSS cannot tell the body was altered");
    let (head, _) = split_request(&proxy.recorded()[0]);
    assert_eq!(
        header(&head, "x-oss-content-sha256"),
        Some("UNSIGNED-PAYLOAD")
    );
    assert_eq!(header(&head, "content-md5"), None);
    // AES-CTR is malleable: the stored object decrypts to the data with that bit flipped.
    let mut tampered = data.clone();
    tampered[FLIP_AT] ^= 0x01;
    assert_eq!(read_with_osscse_std(&server, "unsigned.bin"), tampered);
}
