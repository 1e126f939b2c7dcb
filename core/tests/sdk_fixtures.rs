//! The objects written by the official C++, Go and Python SDKs (and the legacy oss2 format)
//! decrypt to the published plaintext, at every offset and range, and re-encrypting with the
//! recovered key and IV reproduces the SDKs' bytes exactly.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core
)]
#![cfg(feature = "rsa")]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::TestRng;
use osscse_core::content::{ByteRange, ContentMaterial, RangePlan};
use osscse_core::envelope::{self, LegacyEnvelope, LegacyWrapAlg, ObjectEncryption};
use osscse_core::stream::DecryptingReader;
use osscse_core::wrap::{self, RsaMasterKey};
use std::path::Path;

const PLAIN_SHA256: &str = "a2be45fe15e5b84f542a139d0f20bbc57c12ae7dc9e71e9629d85c88a06656a5";
const MIB_OF_A_SHA256: &str = "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360";

struct Case {
    name: &'static str,
    key: &'static str,
    iv: &'static str,
    iv_plus_6: &'static str,
    iv_plus_128: &'static str,
    crc64: u64,
}

const CASES: [Case; 3] = [
    Case {
        name: "cpp-rsa",
        key: "3e76c9c13d019b8e0356156a1dd4b285ee682c04659f058324e45d89f79708de",
        iv: "8c3207b09a9bfa6600000000ac1992b4",
        iv_plus_6: "8c3207b09a9bfa6600000000ac1992ba",
        iv_plus_128: "8c3207b09a9bfa6600000000ac199334",
        crc64: 5327571873481711427,
    },
    Case {
        name: "python-rsa",
        key: "599c80c52670912ead1752b0f077a2c4fb52216e37ff1a18fe4fde98ece10b7b",
        iv: "10706cb7468cd52e000000008771048a",
        iv_plus_6: "10706cb7468cd52e0000000087710490",
        iv_plus_128: "10706cb7468cd52e000000008771050a",
        crc64: 9075325115203009873,
    },
    Case {
        name: "go-rsa",
        key: "9ac3ce2ecd271fc9c88f080d05ec40ffa6e4a4d064dd86a5e55a1594a778c878",
        iv: "5649ca0d16946d8100000000e649d194",
        iv_plus_6: "5649ca0d16946d8100000000e649d19a",
        iv_plus_128: "5649ca0d16946d8100000000e649d214",
        crc64: 3225288908159981629,
    },
];

fn private_key(dir: &Path) -> RsaMasterKey {
    let pem = String::from_utf8(fixtures::read(dir, "rsa1024-test.private.pkcs1.pem")).unwrap();
    RsaMasterKey::from_private_pem(&pem).unwrap()
}

/// Checks `material` decrypts `cipher` to `plain`: whole, from every start 0..47 to the end,
/// at 200 random ranges (through the range planner and the streaming reader), and that
/// re-encryption reproduces `cipher`.
fn check_all_offsets(material: &ContentMaterial, cipher: &[u8], plain: &[u8]) {
    let size = cipher.len() as u64;
    let mut whole = cipher.to_vec();
    material.apply_at(0, &mut whole);
    assert!(whole == plain, "whole-object decryption");
    let mut again = plain.to_vec();
    material.apply_at(0, &mut again);
    assert!(again == cipher, "re-encryption reproduces the SDK's bytes");

    let ranged = |first: u64, last: u64, via: ByteRange| {
        let plan = RangePlan::resolve(via, size).unwrap();
        assert_eq!((plan.first, plan.last), (first, last));
        let body = &cipher[plan.aligned_first as usize..=plan.last as usize];
        let mut reader = DecryptingReader::with_skip(
            body,
            material.keystream_at(plan.aligned_first),
            plan.skip(),
        );
        let mut out = Vec::new();
        let mut buf = [0u8; 37];
        loop {
            let n = embedded_io::Read::read(&mut reader, &mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert!(
            out == plain[first as usize..=last as usize],
            "range {first}-{last}"
        );
    };
    for start in 0..48u64 {
        ranged(start, size - 1, ByteRange::From { first: start });
    }
    let mut rng = TestRng(0x5eed_0000 ^ size);
    for _ in 0..200 {
        let a = rng.below(size);
        let b = a + rng.below(size - a);
        ranged(a, b, ByteRange::Bounded { first: a, last: b });
    }
    for len in [1, 15, 16, 17, 100, size] {
        ranged(size - len, size - 1, ByteRange::Suffix { len });
    }
}

#[test]
fn modern_fixtures_decrypt_and_reencrypt() {
    let Some(dir) = fixtures::dir() else { return };
    let key = private_key(&dir);
    assert_eq!(key.bits(), 1024);
    let plain = fixtures::read(&dir, "plain.jpg");
    assert_eq!(fixtures::sha256_hex(&plain), PLAIN_SHA256);
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_XZ);
    for case in &CASES {
        let meta = fixtures::meta(&dir, &format!("{}.meta.json", case.name));
        let ObjectEncryption::Envelope(env) = envelope::parse(&meta).unwrap() else {
            panic!("{}: not an envelope", case.name)
        };
        // Parsing then emitting gives back the SDK's header values byte for byte.
        for (name, value) in env.headers() {
            assert_eq!(meta.get(name), Some(&value), "{}: {name}", case.name);
        }
        let material = wrap::open(&key, &env, &mut TestRng(1)).unwrap();
        assert_eq!(hex::encode(material.key()), case.key, "{}", case.name);
        assert_eq!(hex::encode(material.iv()), case.iv, "{}", case.name);
        assert_eq!(hex::encode(material.counter_at(96)), case.iv_plus_6);
        assert_eq!(hex::encode(material.counter_at(2048)), case.iv_plus_128);
        let cipher = fixtures::read(&dir, &format!("{}.bin", case.name));
        assert_eq!(
            crc.checksum(&cipher),
            case.crc64,
            "{} CRC-64 of the ciphertext",
            case.name
        );
        check_all_offsets(&material, &cipher, &plain);
        // Multipart layout: decrypting ciphertext[2048..] from IV+128 (part 2 at part size 2048).
        let mut part = cipher[2048..].to_vec();
        osscse_core::Keystream::new(material.key(), &material.counter_at(2048)).apply(&mut part);
        assert!(part == plain[2048..], "{}: part offset 2048", case.name);
    }
}

#[test]
fn legacy_oss2_rsa_oaep_fixture() {
    let Some(dir) = fixtures::dir() else { return };
    let key = private_key(&dir);
    let meta = fixtures::meta(&dir, "legacy-oss2-rsa-oaep.meta.json");
    let ObjectEncryption::Legacy(env) = envelope::parse(&meta).unwrap() else {
        panic!("not legacy")
    };
    let material = key.open_legacy(&env, &mut TestRng(2)).unwrap();
    assert_eq!(
        hex::encode(material.key()),
        "6476c3de88ab7ee68798184b436a5c4a1a47a6b69cfceb9c11303f607d43e9a5"
    );
    assert_eq!(
        hex::encode(material.iv()),
        "00000000000000000000000000000008"
    );
    let cipher = fixtures::read(&dir, "legacy-oss2-rsa-oaep.bin");
    let plain = vec![b'a'; 1 << 20];
    assert_eq!(fixtures::sha256_hex(&plain), MIB_OF_A_SHA256);
    check_all_offsets(&material, &cipher, &plain);
    // The modern path refuses it: OAEP ciphertexts are not PKCS#1 v1.5.
    assert!(
        key.open_legacy(
            &LegacyEnvelope {
                wrap_alg: LegacyWrapAlg::Kms,
                ..env
            },
            &mut TestRng(3)
        )
        .is_err()
    );
}

#[test]
fn legacy_oss2_kms_fixture_with_recorded_key() {
    use base64ct::Encoding;
    let Some(dir) = fixtures::dir() else { return };
    let meta = fixtures::meta(&dir, "legacy-oss2-kms.meta.json");
    let ObjectEncryption::Legacy(env) = envelope::parse(&meta).unwrap() else {
        panic!("not legacy")
    };
    assert_eq!(env.wrap_alg, LegacyWrapAlg::Kms);
    // The KMS blob text is what the header carries (base64 of the blob string).
    assert!(
        env.wrapped_key
            .starts_with(b"5b819435-90e1-45fe-a775-43078c83d0c5")
    );
    let key = base64ct::Base64::decode_vec(&meta["base64-plain-key"]).unwrap();
    let counter = wrap::legacy_counter(meta["plain-start"].as_bytes()).unwrap();
    let material = ContentMaterial::from_slices(&key, &counter).unwrap();
    let cipher = fixtures::read(&dir, "legacy-oss2-kms.bin");
    check_all_offsets(&material, &cipher, &vec![b'a'; 1 << 20]);
}

#[test]
fn wrong_private_key_is_rejected_by_length_not_by_luck() {
    let Some(dir) = fixtures::dir() else { return };
    let other =
        RsaMasterKey::from_private_key(rsa::PrivateKey::new(&mut TestRng(7), 1024).unwrap())
            .unwrap();
    for case in &CASES {
        let meta = fixtures::meta(&dir, &format!("{}.meta.json", case.name));
        let ObjectEncryption::Envelope(env) = envelope::parse(&meta).unwrap() else {
            unreachable!()
        };
        assert_eq!(
            wrap::open(&other, &env, &mut TestRng(8)).unwrap_err(),
            osscse_core::Error::Wrap(osscse_core::error::WrapError::WrongKey),
            "{}",
            case.name
        );
    }
}
