//! RSA master keys load from every encoding the SDKs use: public SPKI or PKCS#1 (PEM and
//! DER), private PKCS#8 or PKCS#1 (PEM and DER). Each loaded public key wraps what the private
//! key (in each encoding) unwraps.
#![cfg(feature = "rsa")]
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core
)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::TestRng;
use osscse_core::content::ContentMaterial;
use osscse_core::wrap::{self, KeyPolicy, RsaMasterKey};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey, LineEnding};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};

fn check(public: &RsaMasterKey, privates: &[RsaMasterKey], seed: u64) {
    let mut rng = TestRng(seed);
    let m = ContentMaterial::generate(&mut rng).unwrap();
    let env = wrap::seal(public, &m, &mut rng).unwrap();
    for private in privates {
        assert_eq!(wrap::open(private, &env, &mut rng).unwrap().key(), m.key());
    }
}

#[test]
fn every_encoding_of_a_2048_bit_key() {
    let k = rsa::PrivateKey::new(&mut TestRng(42), 2048).unwrap();
    let p = k.to_public_key();
    let publics = [
        RsaMasterKey::from_public_pem(&p.to_public_key_pem(LineEnding::LF).unwrap()).unwrap(),
        RsaMasterKey::from_public_pem(&p.to_pkcs1_pem(LineEnding::CRLF).unwrap()).unwrap(),
        RsaMasterKey::from_public_der(p.to_public_key_der().unwrap().as_bytes()).unwrap(),
        RsaMasterKey::from_public_der(p.to_pkcs1_der().unwrap().as_bytes()).unwrap(),
        // A private-key PEM also yields its public half for writers.
        RsaMasterKey::from_public_pem(&k.to_pkcs8_pem(LineEnding::LF).unwrap()).unwrap(),
    ];
    let privates = [
        RsaMasterKey::from_private_pem(&k.to_pkcs8_pem(LineEnding::LF).unwrap()).unwrap(),
        RsaMasterKey::from_private_pem(&k.to_pkcs1_pem(LineEnding::LF).unwrap()).unwrap(),
        RsaMasterKey::from_private_der(k.to_pkcs8_der().unwrap().as_bytes()).unwrap(),
        RsaMasterKey::from_private_der(k.to_pkcs1_der().unwrap().as_bytes()).unwrap(),
    ];
    for (i, public) in publics.iter().enumerate() {
        assert!(!public.has_private_key());
        check(public, &privates, i as u64 + 1);
    }
}

#[test]
fn the_sdk_test_key_in_pkcs1_pem() {
    let Some(dir) = fixtures::dir() else { return };
    let public_pem =
        String::from_utf8(fixtures::read(&dir, "rsa1024-test.public.pkcs1.pem")).unwrap();
    let private_pem =
        String::from_utf8(fixtures::read(&dir, "rsa1024-test.private.pkcs1.pem")).unwrap();
    let public = RsaMasterKey::from_public_pem(&public_pem).unwrap();
    assert_eq!(public.bits(), 1024);
    // 1024-bit: writing needs an explicit opt-in, reading does not.
    let mut rng = TestRng(3);
    let m = ContentMaterial::generate(&mut rng).unwrap();
    assert!(wrap::seal(&public, &m, &mut rng).is_err());
    let public = public.with_policy(KeyPolicy::default().allow_small_keys_for_wrapping());
    check(
        &public,
        &[RsaMasterKey::from_private_pem(&private_pem).unwrap()],
        4,
    );
}
