//! Core hardening, round 2: wrong keys never yield garbage (IV structure, keyring skipping),
//! stripped or emptied envelopes are errors, exact RSA key sizes, an empty matdesc is absent,
//! matdesc text is written exactly as the writer gave it, and the duplicate-header rule.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core
)]
#![cfg(feature = "rsa")]

#[path = "support/fixtures.rs"]
mod fixtures;

use std::collections::BTreeMap;

use fixtures::TestRng;
use osscse_core::Error;
use osscse_core::content::ContentMaterial;
use osscse_core::envelope::{self as env, Envelope, Matdesc, ObjectEncryption, WrapAlg};
use osscse_core::error::{EnvelopeError, Field, WrapError};
use osscse_core::wrap::{self, CryptoSource, IvLayout, MasterKey, RsaMasterKey};
use zeroize::Zeroizing;

fn key(bits: usize, seed: u64) -> RsaMasterKey {
    RsaMasterKey::from_private_key(rsa::PrivateKey::new(&mut TestRng(seed), bits).unwrap()).unwrap()
}

fn parse(h: &[(&str, &str)]) -> Result<ObjectEncryption, EnvelopeError> {
    env::parse(h.iter().copied())
}

/// An envelope whose IV is exactly `iv`, wrapped with `k` (the structure check is what is
/// tested, so the IV is built directly instead of waiting for a wrong key to produce one).
fn envelope_with_iv(k: &RsaMasterKey, iv: [u8; 16]) -> Envelope {
    let material = ContentMaterial::from_parts([7; 32], iv);
    wrap::seal(k, &material, &mut TestRng(3)).unwrap()
}

#[test]
fn an_iv_without_the_sdk_layout_is_a_wrong_key() {
    let k = key(2048, 21);
    let mut iv = [0x5a; 16];
    iv[8..12].copy_from_slice(&[0, 0, 0, 1]);
    let env = envelope_with_iv(&k, iv);
    assert_eq!(
        wrap::open(&k, &env, &mut TestRng(4)).err(),
        Some(Error::Wrap(WrapError::WrongKey))
    );
    // The explicit opt-out for foreign writers opens it.
    let m = wrap::open_with(&k, &env, &mut TestRng(4), IvLayout::Any).unwrap();
    assert_eq!(m.iv(), &iv);
    // Each of the four bytes matters.
    for i in 8..12 {
        let mut iv = [0u8; 16];
        iv[i] = 0x80;
        let env = envelope_with_iv(&k, iv);
        assert!(wrap::open(&k, &env, &mut TestRng(5)).is_err(), "byte {i}");
    }
    // The SDK layout opens; generated IVs always have it.
    let mut good = [0xa5; 16];
    good[8..12].fill(0);
    assert!(wrap::open(&k, &envelope_with_iv(&k, good), &mut TestRng(6)).is_ok());
    for seed in 1..=64 {
        let m = ContentMaterial::generate(&mut TestRng(seed)).unwrap();
        assert!(IvLayout::Sdk.accepts(m.iv()), "generated IV {seed}");
    }
}

/// A master key that behaves like a wrong RSA key under implicit rejection: unwrapping
/// "succeeds" with 32 and 16 bytes of garbage.
struct Impostor;

impl MasterKey for Impostor {
    type Error = Error;
    fn wrap_alg(&self) -> WrapAlg {
        WrapAlg::Rsa
    }
    fn matdesc(&self) -> Option<&Matdesc> {
        None
    }
    fn wrap(&self, _: &mut dyn CryptoSource, _: &[u8]) -> Result<Vec<u8>, Error> {
        Err(WrapError::Crypto.into())
    }
    fn unwrap(
        &self,
        _: &mut dyn CryptoSource,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let len = if wrapped.len() == 1 { 32 } else { 16 };
        Ok(Zeroizing::new(vec![0xee; len]))
    }
}

/// Adapts an RSA key and the impostor to one key type for `open_any`.
#[allow(clippy::large_enum_variant)]
enum Either {
    Rsa(RsaMasterKey),
    Impostor(Impostor),
}

impl MasterKey for Either {
    type Error = Error;
    fn wrap_alg(&self) -> WrapAlg {
        WrapAlg::Rsa
    }
    fn matdesc(&self) -> Option<&Matdesc> {
        match self {
            Self::Rsa(k) => k.matdesc(),
            Self::Impostor(k) => k.matdesc(),
        }
    }
    fn wrap(&self, rng: &mut dyn CryptoSource, p: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Self::Rsa(k) => k.wrap(rng, p),
            Self::Impostor(k) => k.wrap(rng, p),
        }
    }
    fn unwrap(&self, rng: &mut dyn CryptoSource, w: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        match self {
            Self::Rsa(k) => k.unwrap(rng, w),
            Self::Impostor(k) => k.unwrap(rng, w),
        }
    }
}

#[test]
fn a_keyring_skips_a_key_that_fails_the_iv_check() {
    let right = key(2048, 31);
    let m = ContentMaterial::generate(&mut TestRng(32)).unwrap();
    let env = wrap::seal(&right, &m, &mut TestRng(33)).unwrap();
    let wrong_size = Either::Rsa(key(1024, 34));
    let impostor = Either::Impostor(Impostor);
    let right = Either::Rsa(right);
    let keys = [&wrong_size, &impostor, &right];
    let (opened, index) = wrap::open_any(
        &keys,
        None,
        &env,
        &mut TestRng(35),
        IvLayout::Sdk,
        wrap::is_wrong_key,
    )
    .unwrap();
    assert_eq!(index, 2);
    assert_eq!(opened.key(), m.key());
    // The impostor as the default key is skipped too.
    let (_, index) = wrap::open_any(
        &[&right],
        Some(&impostor),
        &env,
        &mut TestRng(36),
        IvLayout::Sdk,
        wrap::is_wrong_key,
    )
    .unwrap();
    assert_eq!(index, 0);
    // Only wrong keys: the last wrong-key error, never garbage.
    let err = wrap::open_any(
        &[&wrong_size, &impostor],
        None,
        &env,
        &mut TestRng(37),
        IvLayout::Sdk,
        wrap::is_wrong_key,
    )
    .unwrap_err();
    assert_eq!(err, Error::Wrap(WrapError::WrongKey));
    // No keys at all.
    let none: [&Either; 0] = [];
    let err = wrap::open_any(
        &none,
        None,
        &env,
        &mut TestRng(38),
        IvLayout::Sdk,
        wrap::is_wrong_key,
    )
    .unwrap_err();
    assert_eq!(err, Error::Wrap(WrapError::NoMatchingKey));
    // A key that cannot unwrap at all (public only) stops the search with its own error.
    let public_only = Either::Rsa(
        RsaMasterKey::from_public_der(
            &rsa::pkcs8::EncodePublicKey::to_public_key_der(match &right {
                Either::Rsa(k) => k.public_key(),
                Either::Impostor(_) => unreachable!(),
            })
            .unwrap()
            .into_vec(),
        )
        .unwrap(),
    );
    let err = wrap::open_any(
        &[&public_only, &right],
        None,
        &env,
        &mut TestRng(39),
        IvLayout::Sdk,
        wrap::is_wrong_key,
    )
    .unwrap_err();
    assert_eq!(err, Error::Wrap(WrapError::PublicKeyOnly));
}

#[test]
fn a_keyring_tries_the_matdesc_match_first() {
    let a = key(2048, 41).with_matdesc(Matdesc::parse(r#"{"desc":"a"}"#).unwrap());
    let b = key(2048, 42).with_matdesc(Matdesc::parse(r#"{"desc": "b"}"#).unwrap());
    let m = ContentMaterial::generate(&mut TestRng(43)).unwrap();
    let env = wrap::seal(&b, &m, &mut TestRng(44)).unwrap();
    let (opened, index) = wrap::open_any(
        &[&a, &b],
        None,
        &env,
        &mut TestRng(45),
        IvLayout::Sdk,
        wrap::is_wrong_key,
    )
    .unwrap();
    assert_eq!((opened.key(), index), (m.key(), 1));
}

#[test]
fn stripped_legacy_envelope_is_an_error_not_plaintext() {
    let stripped = [
        (env::LEGACY_HEADER_START, "c3RhcnQ="),
        (env::LEGACY_HEADER_CEK_ALG, "AES/GCM/NoPadding"),
        (env::LEGACY_HEADER_WRAP_ALG, "rsa"),
    ];
    assert_eq!(parse(&stripped), Err(EnvelopeError::Missing(Field::Key)));
    // Any single legacy header alone, even empty, is a partial envelope.
    for name in [
        env::LEGACY_HEADER_KEY,
        env::LEGACY_HEADER_START,
        env::LEGACY_HEADER_CEK_ALG,
        env::LEGACY_HEADER_WRAP_ALG,
        env::LEGACY_HEADER_MATDESC,
    ] {
        assert!(parse(&[(name, "")]).is_err(), "{name} alone");
    }
}

#[test]
fn emptied_or_partial_current_envelope_is_an_error_not_plaintext() {
    let emptied = [
        (env::HEADER_KEY, ""),
        (env::HEADER_START, ""),
        (env::HEADER_CEK_ALG, ""),
        (env::HEADER_WRAP_ALG, ""),
    ];
    assert_eq!(parse(&emptied), Err(EnvelopeError::Missing(Field::Key)));
    for name in [
        env::HEADER_KEY,
        env::HEADER_START,
        env::HEADER_CEK_ALG,
        env::HEADER_WRAP_ALG,
        env::HEADER_MATDESC,
        env::HEADER_UNENCRYPTED_CONTENT_LENGTH,
        env::HEADER_UNENCRYPTED_CONTENT_MD5,
        env::HEADER_DATA_SIZE,
        env::HEADER_PART_SIZE,
    ] {
        assert!(parse(&[(name, "")]).is_err(), "{name} alone, empty");
    }
    // Unrelated metadata is still a plain object.
    assert_eq!(
        parse(&[("x-oss-meta-owner", "ops"), ("content-length", "3")]),
        Ok(ObjectEncryption::Plain)
    );
}

#[test]
fn rsa_key_bits_are_the_modulus_bit_length() {
    let k = key(2041, 51);
    assert_eq!(k.bits(), 2041);
    let m = ContentMaterial::generate(&mut TestRng(52)).unwrap();
    assert_eq!(
        wrap::seal(&k, &m, &mut TestRng(53)).err(),
        Some(Error::Wrap(WrapError::KeyTooSmall {
            bits: 2041,
            minimum: 2048
        }))
    );
    assert_eq!(key(2048, 54).bits(), 2048);
}

fn headers_of(e: &Envelope) -> BTreeMap<&'static str, String> {
    e.headers().into_iter().collect()
}

#[test]
fn an_empty_matdesc_is_absent_on_parse_and_emit() {
    let k = key(2048, 61);
    let m = ContentMaterial::generate(&mut TestRng(62)).unwrap();
    let e = wrap::seal(&k, &m, &mut TestRng(63)).unwrap();
    for empty in ["{}", " { } ", ""] {
        let mut h = headers_of(&e);
        h.insert(env::HEADER_MATDESC, empty.to_owned());
        let Ok(ObjectEncryption::Envelope(parsed)) =
            env::parse(h.iter().map(|(k, v)| (*k, v.as_str())))
        else {
            panic!("{empty:?} does not parse")
        };
        assert_eq!(parsed.matdesc, None, "{empty:?}");
        assert!(!headers_of(&parsed).contains_key(env::HEADER_MATDESC));
    }
}

#[test]
fn matdesc_is_written_exactly_as_the_writer_gave_it() {
    let m = ContentMaterial::generate(&mut TestRng(71)).unwrap();
    // Python's json.dumps, PHP's json_encode (escaped slash), Go's sorted compact form.
    for text in [
        r#"{"desc": "k2"}"#,
        r#"{"path":"a\/b","desc":"k2"}"#,
        r#"{"a":"1","desc":"k2"}"#,
    ] {
        let k = key(2048, 72).with_matdesc(Matdesc::parse(text).unwrap());
        let e = wrap::seal(&k, &m, &mut TestRng(73)).unwrap();
        assert_eq!(headers_of(&e)[env::HEADER_MATDESC], text);
        // Comparison stays semantic.
        let canonical = Matdesc::parse(&Matdesc::parse(text).unwrap().canonical()).unwrap();
        assert_eq!(e.matdesc.as_ref(), Some(&canonical));
    }
}

#[test]
fn duplicate_headers_must_be_identical() {
    let k = key(2048, 81);
    let m = ContentMaterial::generate(&mut TestRng(82)).unwrap();
    let e = wrap::seal(&k, &m, &mut TestRng(83)).unwrap();
    let mut pairs: Vec<(String, String)> = e
        .headers()
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    // Identical duplicates (also in another letter case, with padding spaces) are accepted.
    let (n, v) = pairs[2].clone();
    pairs.push((n.to_ascii_uppercase(), format!(" {v}\t")));
    assert_eq!(
        env::parse(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
        Ok(ObjectEncryption::Envelope(e.clone()))
    );
    // A second, different value for any field is refused.
    for (name, field, other) in [
        (env::HEADER_KEY, Field::Key, "AAAA"),
        (env::HEADER_WRAP_ALG, Field::WrapAlg, "KMS/ALICLOUD"),
        (env::HEADER_MATDESC, Field::Matdesc, r#"{"x":"y"}"#),
        (env::HEADER_PART_SIZE, Field::PartSize, "16"),
    ] {
        let mut p = pairs.clone();
        p.push((name.to_owned(), other.to_owned()));
        if name == env::HEADER_MATDESC || name == env::HEADER_PART_SIZE {
            p.push((name.to_owned(), "{}".to_owned()));
        }
        assert_eq!(
            env::parse(p.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
            Err(EnvelopeError::Duplicate(field)),
            "{name}"
        );
    }
}
