//! AES-256-GCM symmetric master keys (`AES/GCM/NoPadding`, docs/symmetric.md):
//! - Wycheproof `aes_gcm` (every AES-256 / 96-bit nonce / 128-bit tag vector) through the
//!   `aes-gcm` build the wrap uses;
//! - known-answer wraps computed by OpenSSL (Python `cryptography` `AESGCM`, associated data
//!   `AES/CTR/NoPadding`) through `AesGcmMasterKey::wrap`/`unwrap`;
//! - every tampering of a wrapped value (each bit of nonce, ciphertext and tag, every
//!   truncation, an extra byte, another associated data, another key) is `WrapError::WrongKey`;
//! - seal/emit/parse/open round trip, matdesc selection, `Debug` redaction, key-length errors.
#![cfg(feature = "aes-gcm-wrap")]
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core
)]

#[path = "support/fixtures.rs"]
mod fixtures;

use aes_gcm11::aead::AeadInOut;
use aes_gcm11::{Aes256Gcm, KeyInit, Nonce, Tag};
use fixtures::TestRng;
use osscse_core::content::ContentMaterial;
use osscse_core::envelope::{self, Envelope, Matdesc, ObjectEncryption, WrapAlg};
use osscse_core::error::{Error, WrapError};
use osscse_core::wrap::{self, AES_GCM_NONCE_LEN, AesGcmMasterKey, MasterKey};
use wycheproof::TestResult;
use wycheproof::aead::{TestName, TestSet};

const WRONG_KEY: Error = Error::Wrap(WrapError::WrongKey);

/// Hands out fixed bytes (a vector's nonce) as its "random" output.
struct FixedBytes(Vec<u8>);

impl rand_core::TryRng for FixedBytes {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        unreachable!("the wrap asks only for bytes")
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        unreachable!("the wrap asks only for bytes")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
impl rand_core::TryCryptoRng for FixedBytes {}

/// (CMK, nonce, plaintext, wrapped = nonce ‖ ciphertext ‖ tag), computed by
/// `AESGCM(cmk).encrypt(nonce, plaintext, b"AES/CTR/NoPadding")` of Python `cryptography` 50.0.2
/// (OpenSSL); inputs are SHA-256 prefixes of fixed strings.
const KATS: [(&str, &str, &str, &str); 4] = [
    (
        "f04c046d15c99898a064fb4a2cd17c2e2c770dabfbe9b8323817d7fef2f4b7d9",
        "7e47af158e9db54fc5e49029",
        "ed5c86c0420e756ea14794b03880c37e85eb1d6adcc85965db9b63e9c44c68d5",
        "7e47af158e9db54fc5e49029179a2efd6ca075305d46120faed5acbea583fb1c0519822fafd8527d9e8f16bb8e91ec2f5a202f18defeb581303dcd49",
    ),
    (
        "f04c046d15c99898a064fb4a2cd17c2e2c770dabfbe9b8323817d7fef2f4b7d9",
        "654e2c87d7820cbeb1b5b550",
        "3d17a8904c04a92c65f4619eedea482b",
        "654e2c87d7820cbeb1b5b550aaec08bf99eee2c4b2b43421ddcf30fc535cbd95667a4ebc1230ae005722cef6",
    ),
    (
        "c469b5a80e0158e9fb5b271c7178f1af03ab2d4456c965ed0a0c012fde5c1da9",
        "e889d30b85421e8cc830d15f",
        "d89a4cb0a7dabb15b52dc3039f1e1a6eafa7ee174c6b9b4ae00abdeaa46eb8ea",
        "e889d30b85421e8cc830d15f3ea74327b1371a9a7f5d5acb5c7bd971f29a5bf1bd22614a8d54be7a9f77f5c0145a8680e321892a1f33af86a2816c90",
    ),
    (
        "c469b5a80e0158e9fb5b271c7178f1af03ab2d4456c965ed0a0c012fde5c1da9",
        "801125136d32a6287ce42b26",
        "742c46192e29a8d837f0ab46c3723883",
        "801125136d32a6287ce42b26097a2566db45eab153bfaf36f8dccfb6d7f078c59c2257913952f2a42869073b",
    ),
];

fn cmk(seed: u8) -> AesGcmMasterKey {
    let bytes: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(7) ^ seed).collect();
    AesGcmMasterKey::from_bytes(&bytes).unwrap()
}

#[test]
fn wycheproof_aes_256_gcm() {
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in &set.test_groups {
        if (group.key_size, group.nonce_size, group.tag_size) != (256, 96, 128) {
            continue;
        }
        for t in &group.tests {
            let gcm = Aes256Gcm::new_from_slice(&t.key).unwrap();
            let nonce = Nonce::try_from(&t.nonce[..]).unwrap();
            let tag = Tag::try_from(&t.tag[..]).unwrap();
            let mut buf = t.ct.to_vec();
            let opened =
                gcm.decrypt_inout_detached(&nonce, &t.aad, buf.as_mut_slice().into(), &tag);
            match t.result {
                TestResult::Valid => {
                    assert!(opened.is_ok(), "tc {}", t.tc_id);
                    assert_eq!(buf, &t.pt[..], "tc {}", t.tc_id);
                    let mut enc = t.pt.to_vec();
                    let got = gcm
                        .encrypt_inout_detached(&nonce, &t.aad, enc.as_mut_slice().into())
                        .unwrap();
                    assert_eq!(
                        (&enc[..], &got[..]),
                        (&t.ct[..], &t.tag[..]),
                        "tc {}",
                        t.tc_id
                    );
                    valid += 1;
                }
                TestResult::Invalid | TestResult::Acceptable => {
                    assert!(opened.is_err(), "tc {} ({:?}) opened", t.tc_id, t.flags);
                    invalid += 1;
                }
            }
        }
    }
    assert!(
        valid >= 20 && invalid >= 20,
        "{valid} valid, {invalid} invalid vectors"
    );
}

#[test]
fn known_answer_wraps_match_openssl() {
    for (i, (key, nonce, plain, wrapped)) in KATS.iter().enumerate() {
        let key = AesGcmMasterKey::from_bytes(&hex::decode(key).unwrap()).unwrap();
        let (nonce, plain, wrapped) = (
            hex::decode(nonce).unwrap(),
            hex::decode(plain).unwrap(),
            hex::decode(wrapped).unwrap(),
        );
        let mut rng = FixedBytes(nonce);
        assert_eq!(key.wrap(&mut rng, &plain).unwrap(), wrapped, "kat {i} wrap");
        assert!(
            rng.0.is_empty(),
            "kat {i}: the wrap draws exactly the 12 nonce bytes"
        );
        let got = key.unwrap(&mut TestRng(1), &wrapped).unwrap();
        assert_eq!(&got[..], &plain[..], "kat {i} unwrap");
    }
}

#[test]
fn every_tampering_is_wrong_key() {
    let key = cmk(0x11);
    let mut rng = TestRng(0x5eed);
    let plain = [0x42u8; 32];
    let wrapped = key.wrap(&mut rng, &plain).unwrap();
    assert_eq!(wrapped.len(), 12 + 32 + 16);
    assert_eq!(&key.unwrap(&mut rng, &wrapped).unwrap()[..], &plain);

    // Each bit of nonce (0..12), ciphertext (12..44) and tag (44..60).
    for bit in 0..wrapped.len() * 8 {
        let mut bad = wrapped.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            key.unwrap(&mut rng, &bad).unwrap_err(),
            WRONG_KEY,
            "bit {bit}"
        );
    }
    // Every truncation (including shorter than nonce + tag) and an extra byte.
    for len in 0..wrapped.len() {
        assert_eq!(
            key.unwrap(&mut rng, &wrapped[..len]).unwrap_err(),
            WRONG_KEY,
            "len {len}"
        );
    }
    let mut longer = wrapped.clone();
    longer.push(0);
    assert_eq!(key.unwrap(&mut rng, &longer).unwrap_err(), WRONG_KEY);
    // Another CMK, even one differing in a single bit.
    assert_eq!(cmk(0x12).unwrap(&mut rng, &wrapped).unwrap_err(), WRONG_KEY);

    // The same key and nonce with any other associated data (e.g. another content algorithm).
    let raw: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(7) ^ 0x11).collect();
    let gcm = Aes256Gcm::new_from_slice(&raw).unwrap();
    let nonce = Nonce::try_from(&wrapped[..AES_GCM_NONCE_LEN]).unwrap();
    for aad in [
        &b""[..],
        b"AES/GCM/NoPadding",
        b"AES/CTR/NoPadding\0",
        b"aes/ctr/nopadding",
    ] {
        let mut body = plain.to_vec();
        let tag = gcm
            .encrypt_inout_detached(&nonce, aad, body.as_mut_slice().into())
            .unwrap();
        let other = [&wrapped[..AES_GCM_NONCE_LEN], &body, &tag].concat();
        assert_eq!(
            key.unwrap(&mut rng, &other).unwrap_err(),
            WRONG_KEY,
            "aad {aad:?}"
        );
    }
    // The associated data is exactly the content algorithm: re-encrypting with it opens.
    let mut body = plain.to_vec();
    let tag = gcm
        .encrypt_inout_detached(&nonce, b"AES/CTR/NoPadding", body.as_mut_slice().into())
        .unwrap();
    let same = [&wrapped[..AES_GCM_NONCE_LEN], &body, &tag].concat();
    assert_eq!(same, wrapped);
}

fn seal(key: &AesGcmMasterKey, seed: u64) -> (ContentMaterial, Envelope) {
    let mut rng = TestRng(seed);
    let material = ContentMaterial::generate(&mut rng).unwrap();
    let env = wrap::seal(key, &material, &mut rng).unwrap();
    (material, env)
}

#[test]
fn seal_emit_parse_open_round_trip() {
    let matdesc = Matdesc::parse(r#"{"cmk":"vault/telemetry-2026"}"#).unwrap();
    let key = cmk(0x33).with_matdesc(matdesc.clone());
    let (material, env) = seal(&key, 0xfeed);
    assert_eq!(env.wrap_alg, WrapAlg::AesGcm);
    assert_eq!((env.wrapped_key.len(), env.wrapped_iv.len()), (60, 44));
    assert_ne!(
        env.wrapped_key[..12],
        env.wrapped_iv[..12],
        "key and IV get their own nonces"
    );
    let headers = env.headers();
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get(envelope::HEADER_WRAP_ALG), Some("AES/GCM/NoPadding"));
    assert_eq!(get(envelope::HEADER_CEK_ALG), Some("AES/CTR/NoPadding"));
    assert_eq!(get(envelope::HEADER_KEY).map(str::len), Some(80));
    assert_eq!(get(envelope::HEADER_START).map(str::len), Some(60));

    let ObjectEncryption::Envelope(parsed) = envelope::parse(headers.clone()).unwrap() else {
        panic!("not an envelope")
    };
    assert_eq!(parsed, env);
    let opened = wrap::open(&key, &parsed, &mut TestRng(3)).unwrap();
    assert_eq!((opened.key(), opened.iv()), (material.key(), material.iv()));
    // Another CMK: WrongKey (GCM tag), not garbage.
    assert_eq!(
        wrap::open(&cmk(0x34), &parsed, &mut TestRng(3)).unwrap_err(),
        WRONG_KEY
    );
    // Key and start swapped: both authenticate, the lengths (16 / 32) do not fit.
    let mut swapped = parsed.clone();
    core::mem::swap(&mut swapped.wrapped_key, &mut swapped.wrapped_iv);
    assert_eq!(
        wrap::open(&key, &swapped, &mut TestRng(3)).unwrap_err(),
        WRONG_KEY
    );
    // An object of another wrap algorithm is refused before any unwrap.
    let mut kms = parsed;
    kms.wrap_alg = WrapAlg::Kms;
    assert_eq!(
        wrap::open(&key, &kms, &mut TestRng(3)).unwrap_err(),
        Error::Wrap(WrapError::AlgorithmMismatch)
    );
}

#[test]
fn keyring_picks_the_symmetric_key_by_matdesc() {
    let a = cmk(1).with_matdesc(Matdesc::parse(r#"{"cmk":"a"}"#).unwrap());
    let b = cmk(2).with_matdesc(Matdesc::parse(r#"{"cmk":"b"}"#).unwrap());
    let (material, env) = seal(&b, 9);
    let keys: [&dyn MasterKey<Error = Error>; 2] = [&a, &b];
    let chosen = wrap::select(&keys, None, env.matdesc.as_ref()).unwrap();
    let opened = wrap::open(chosen, &env, &mut TestRng(1)).unwrap();
    assert_eq!(opened.key(), material.key());
    assert_eq!(
        wrap::open(&a, &env, &mut TestRng(1)).unwrap_err(),
        WRONG_KEY
    );
}

fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}

#[test]
fn key_length_debug_and_nonce_freshness() {
    zeroize_on_drop::<AesGcmMasterKey>();
    for len in [0, 16, 31, 33, 64] {
        assert_eq!(
            AesGcmMasterKey::from_bytes(&vec![7; len]).unwrap_err(),
            WrapError::InvalidKey,
            "{len} bytes"
        );
    }
    let key = AesGcmMasterKey::from_bytes(&[0xab; 32])
        .unwrap()
        .with_matdesc(Matdesc::parse(r#"{"k":"v"}"#).unwrap());
    let debug = format!("{key:?}");
    assert!(
        debug.contains("redacted") && debug.contains(r#"{\"k\":\"v\"}"#),
        "{debug}"
    );
    assert!(
        !debug.to_lowercase().contains("ab, ") && !debug.contains("171"),
        "{debug}"
    );

    // Two wraps of the same value: different nonces, different ciphertexts, both open.
    let mut rng = TestRng(77);
    let x = key.wrap(&mut rng, &[1; 16]).unwrap();
    let y = key.wrap(&mut rng, &[1; 16]).unwrap();
    assert_ne!(x[..12], y[..12]);
    assert_ne!(x[12..], y[12..]);
    assert_eq!(&key.unwrap(&mut rng, &y).unwrap()[..], &[1; 16]);
}
