//! The reqwless uploader over `std-embedded-nal-async` against the loopback OSS server
//! (`osscse-tests`): telemetry objects of 1 B, 4 KiB and 1 MiB are stored encrypted, then read
//! back and decrypted by osscse-std (its HTTP client and keyring) and by the official Python SDK
//! (`alibabacloud-oss-v2` EncryptionClient). Also: retries with the same envelope and
//! ciphertext after 5xx and connection resets, and clear errors.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[path = "support/device.rs"]
mod support;

use futures_lite::future::block_on;
use osscse_core::envelope;
use osscse_core::sign::Credentials;
use osscse_embedded::upload::OutOfRange;
use osscse_embedded::{
    Addressing, BodySource, DrbgError, EntropyDrbg, EntropyError, HealthTestedSource, IvPrefix,
    KeyGenError, NoiseConfig, SampleWidth, SealError, SealedObject, Target, UploadError, Uploader,
};
use osscse_tests::FaultConfig;
use std_embedded_nal_async::Stack;
use support::{
    AK, BUCKET, SK, check_with_python_sdk, now, payload, public_key, read_with_osscse_std,
    start_server, target,
};

/// The device-side DRBG: OS entropy treated as a hardware source claiming 7 bits per byte.
fn device_drbg() -> EntropyDrbg<getrandom::SysRng> {
    let config = NoiseConfig::new(SampleWidth::Byte, 7.0).unwrap();
    EntropyDrbg::new(
        HealthTestedSource::new(getrandom::SysRng, config),
        b"host-test-device",
    )
    .unwrap()
}

#[test]
fn telemetry_objects_decrypt_with_osscse_std_and_python_sdk() {
    let server = start_server();
    let endpoint = server.endpoint();
    let stack = Stack::default();
    let credentials = Credentials::new(AK, SK);
    let mut uploader = Uploader::new(&stack, &stack, target(&endpoint), &credentials);
    let master = public_key();
    let mut drbg = device_drbg();
    let mut objects = Vec::new();
    for (i, len) in [1usize, 4096, 1 << 20].into_iter().enumerate() {
        let data = payload(len, i as u8);
        let key = format!("devices/0001/telemetry-{len}.bin");
        let sealed = SealedObject::new(
            &master,
            &mut drbg,
            Some(IvPrefix::new(0x0000_0001, i as u32)),
            len as u64,
        )
        .unwrap();
        let mut source: &[u8] = &data;
        let mut rx = [0u8; 2048];
        let outcome = block_on(uploader.put(
            &key,
            &sealed,
            &mut source,
            Some("application/octet-stream"),
            now(),
            &mut rx,
        ))
        .unwrap_or_else(|e| panic!("upload {len}: {e}"));
        assert_eq!(outcome.status, 200);
        assert!(!outcome.etag.is_empty());

        let stored = server.object(BUCKET, &key).unwrap();
        assert_eq!(stored.data.len(), len, "ciphertext length");
        if len > 16 {
            assert_ne!(stored.data, data, "stored bytes must be ciphertext");
        }
        assert_eq!(
            stored.meta("x-oss-meta-client-side-encryption-unencrypted-content-length"),
            Some(len.to_string().as_str())
        );
        assert_eq!(
            read_with_osscse_std(&server, &key),
            data,
            "osscse-std decrypt {len}"
        );
        objects.push((key, data));
    }

    let objects: Vec<(&str, &[u8])> = objects.iter().map(|(k, d)| (k.as_str(), &d[..])).collect();
    check_with_python_sdk(&server, &objects);
}

#[test]
fn retries_resend_the_same_envelope_and_ciphertext() {
    let server = start_server();
    let endpoint = server.endpoint();
    let stack = Stack::default();
    let credentials = Credentials::new(AK, SK);
    let mut uploader = Uploader::new(&stack, &stack, target(&endpoint), &credentials);
    let mut drbg = device_drbg();
    let data = payload(64 * 1024, 9);
    let sealed = SealedObject::new(&public_key(), &mut drbg, None, data.len() as u64).unwrap();
    let mut rx = [0u8; 2048];

    // 503 first: a retryable OSS error, then success with the same sealed object.
    server.faults().set(FaultConfig {
        fail_first: 1,
        fail_status: 503,
        ..FaultConfig::default()
    });
    let err = block_on(uploader.put("a", &sealed, &mut &data[..], None, now(), &mut rx))
        .expect_err("first attempt fails");
    assert!(
        matches!(err, UploadError::Oss { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    block_on(uploader.put("a", &sealed, &mut &data[..], None, now(), &mut rx)).unwrap();

    // Connection reset mid-body: a transport error, then success.
    server.faults().set(FaultConfig {
        reset_after_body_bytes: Some(10_000),
        ..FaultConfig::default()
    });
    let err = block_on(uploader.put("b", &sealed, &mut &data[..], None, now(), &mut rx))
        .expect_err("reset");
    assert!(matches!(err, UploadError::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        err.to_string()
            .contains("retry with the same sealed object")
    );
    server.faults().clear();
    block_on(uploader.put("b", &sealed, &mut &data[..], None, now(), &mut rx)).unwrap();

    // Both objects: identical ciphertext and envelope, decrypting to the data.
    let a = server.object(BUCKET, "a").unwrap();
    let b = server.object(BUCKET, "b").unwrap();
    assert_eq!(a.data, b.data);
    for h in [envelope::HEADER_KEY, envelope::HEADER_START] {
        assert_eq!(a.meta(h), b.meta(h));
        assert!(a.meta(h).is_some());
    }
    assert_eq!(read_with_osscse_std(&server, "b"), data);
}

#[test]
fn errors_say_what_went_wrong() {
    let server = start_server();
    let endpoint = server.endpoint();
    let stack = Stack::default();
    let mut drbg = device_drbg();
    let data = payload(100, 1);
    let sealed = SealedObject::new(&public_key(), &mut drbg, None, 100).unwrap();
    let mut rx = [0u8; 2048];

    // Wrong secret.
    let wrong = Credentials::new(AK, "not-the-secret");
    let mut uploader = Uploader::new(&stack, &stack, target(&endpoint), &wrong);
    let err = block_on(uploader.put("k", &sealed, &mut &data[..], None, now(), &mut rx))
        .expect_err("bad secret");
    match &err {
        UploadError::Oss {
            status,
            code,
            request_id,
        } => {
            assert_eq!(*status, 403);
            assert_eq!(code.as_str(), "SignatureDoesNotMatch");
            assert!(!request_id.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("check the access key"), "{err}");

    let credentials = Credentials::new(AK, SK);
    // Body length differs from the sealed length.
    let mut uploader = Uploader::new(&stack, &stack, target(&endpoint), &credentials);
    let err = block_on(uploader.put("k", &sealed, &mut &data[..50], None, now(), &mut rx))
        .expect_err("length");
    assert!(matches!(err, UploadError::LengthMismatch), "{err:?}");

    // A source failing mid-body aborts the request with the source's error.
    struct Failing;
    impl BodySource for Failing {
        type Error = OutOfRange;
        fn len(&self) -> u64 {
            100_000
        }
        async fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), OutOfRange> {
            if offset >= 4096 {
                return Err(OutOfRange);
            }
            buf.fill(7);
            Ok(())
        }
    }
    let big = SealedObject::new(&public_key(), &mut drbg, None, 100_000).unwrap();
    let err = block_on(uploader.put("f", &big, &mut Failing, None, now(), &mut rx))
        .expect_err("source failure");
    assert!(matches!(err, UploadError::Source(OutOfRange)), "{err:?}");
    assert!(server.object(BUCKET, "f").is_none());

    // Nothing reachable.
    let dead = Target {
        endpoint: "http://127.0.0.1:1",
        ..target(&endpoint)
    };
    let mut uploader = Uploader::new(&stack, &stack, dead, &credentials);
    let err = block_on(uploader.put("k", &sealed, &mut &data[..], None, now(), &mut rx))
        .expect_err("connect");
    assert!(matches!(err, UploadError::Transport(_)), "{err:?}");
}

#[test]
fn failed_health_test_stops_sealing() {
    /// A hardware RNG that got stuck after boot.
    struct StuckAfter(u32);
    impl rand_core::TryRng for StuckAfter {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            unreachable!()
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            unreachable!()
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            if self.0 > 0 {
                self.0 -= 1;
                getrandom::fill(dst).unwrap();
            } else {
                dst.fill(0x42);
            }
            Ok(())
        }
    }
    let config = NoiseConfig::new(SampleWidth::Byte, 7.0).unwrap();
    let mut drbg = EntropyDrbg::new(HealthTestedSource::new(StuckAfter(100), config), &[])
        .unwrap()
        .with_prediction_resistance(true);
    let mut err = None;
    for _ in 0..100 {
        if let Err(e) = SealedObject::new(&public_key(), &mut drbg, None, 1) {
            err = Some(e);
            break;
        }
    }
    let err = err.expect("a stuck source must stop sealing");
    assert_eq!(
        err,
        SealError::KeyGen(KeyGenError::Rng(DrbgError::Entropy(
            EntropyError::RepetitionCount {
                cutoff: 4,
                startup: false
            }
        )))
    );
    assert!(err.to_string().contains("repetition count test"), "{err}");
}

/// Resolves every name to 127.0.0.1 (virtual-hosted URLs against the loopback server).
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

#[test]
fn virtual_hosted_addressing() {
    let server = start_server();
    let endpoint = format!("http://oss-loopback.test:{}", server.addr().port());
    let stack = Stack::default();
    let credentials = Credentials::new(AK, SK);
    let target = Target {
        addressing: Addressing::VirtualHosted,
        ..target(&endpoint)
    };
    let mut uploader = Uploader::new(&stack, &LoopbackDns, target, &credentials);
    let mut drbg = device_drbg();
    let data = payload(5000, 3);
    let sealed = SealedObject::new(&public_key(), &mut drbg, None, data.len() as u64).unwrap();
    let mut rx = [0u8; 2048];
    let key = "dir/with space+plus.bin";
    block_on(uploader.put(key, &sealed, &mut &data[..], None, now(), &mut rx)).unwrap();
    assert_eq!(read_with_osscse_std(&server, key), data);
}
