//! Bad input gives a typed error, never a panic: missing headers, bad base64, unknown
//! algorithms, wrong or truncated keys, bad numbers, invalid matdesc, bad part sizes, ranges
//! past the end.
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
use osscse_core::content::{ByteRange, ContentMaterial, MultipartPlan, RangePlan};
use osscse_core::envelope::{self as env, ObjectEncryption};
use osscse_core::error::{EnvelopeError, Field, MatdescError, PlanError, WrapError};
use osscse_core::wrap::{self, KeyPolicy, MasterKey, RsaMasterKey};

fn key(bits: usize, seed: u64) -> RsaMasterKey {
    RsaMasterKey::from_private_key(rsa::PrivateKey::new(&mut TestRng(seed), bits).unwrap()).unwrap()
}

/// A valid envelope's headers from a fresh 2048-bit key.
fn good() -> (RsaMasterKey, BTreeMap<&'static str, String>) {
    let k = key(2048, 11);
    let m = ContentMaterial::generate(&mut TestRng(12)).unwrap();
    let mut e = wrap::seal(&k, &m, &mut TestRng(13)).unwrap();
    e.data_size = Some(1 << 20);
    e.part_size = Some(100 * 1024);
    (k, e.headers().into_iter().collect())
}

fn parse(h: &BTreeMap<&'static str, String>) -> Result<ObjectEncryption, EnvelopeError> {
    env::parse(h.iter().map(|(k, v)| (*k, v.as_str())))
}

#[test]
fn each_missing_required_header() {
    let (_, h) = good();
    for (name, field) in [
        (env::HEADER_KEY, Field::Key),
        (env::HEADER_START, Field::Start),
        (env::HEADER_CEK_ALG, Field::CekAlg),
        (env::HEADER_WRAP_ALG, Field::WrapAlg),
    ] {
        let mut h2 = h.clone();
        h2.remove(name);
        assert_eq!(parse(&h2), Err(EnvelopeError::Missing(field)), "{name}");
        let mut h3 = h.clone();
        h3.insert(name, String::new());
        assert_eq!(
            parse(&h3),
            Err(EnvelopeError::Missing(field)),
            "{name} empty"
        );
    }
    let mut h4 = h.clone();
    h4.remove(env::HEADER_PART_SIZE);
    assert_eq!(parse(&h4), Err(EnvelopeError::DataSizeWithoutPartSize));
    // No CSE header at all: a plain object.
    assert_eq!(
        env::parse([("content-type", "text/plain")]),
        Ok(ObjectEncryption::Plain)
    );
}

#[test]
fn bad_base64_numbers_algorithms_and_duplicates() {
    let (_, h) = good();
    let set = |name: &'static str, v: &str| {
        let mut h2 = h.clone();
        h2.insert(name, v.to_owned());
        parse(&h2)
    };
    let k = h[env::HEADER_KEY].clone();
    for bad in [
        &k[..k.len() - 1],
        &k.replace('=', ""),
        "!!!!",
        &format!("{k}="),
        &format!(" {k}x"),
    ] {
        assert_eq!(
            set(env::HEADER_KEY, bad),
            Err(EnvelopeError::InvalidBase64(Field::Key)),
            "{bad:?}"
        );
    }
    assert_eq!(
        set(env::HEADER_START, "a-b_"),
        Err(EnvelopeError::InvalidBase64(Field::Start))
    );
    assert_eq!(
        set(env::HEADER_CEK_ALG, "AES/GCM/NoPadding"),
        Err(EnvelopeError::UnsupportedCekAlg)
    );
    assert_eq!(
        set(env::HEADER_CEK_ALG, "aes/ctr/nopadding"),
        Err(EnvelopeError::UnsupportedCekAlg)
    );
    assert_eq!(
        set(env::HEADER_WRAP_ALG, "rsa"),
        Err(EnvelopeError::UnsupportedWrapAlg)
    );
    assert_eq!(
        set(env::HEADER_WRAP_ALG, "RSA/NONE/OAEPWithSHA-1AndMGF1Padding"),
        Err(EnvelopeError::UnsupportedWrapAlg)
    );
    for bad in [
        "-1",
        "+5",
        "1.0",
        "1e3",
        "0x10",
        "18446744073709551616",
        "99999999999999999999999",
        " 1 2",
    ] {
        assert_eq!(
            set(env::HEADER_DATA_SIZE, bad),
            Err(EnvelopeError::InvalidNumber(Field::DataSize)),
            "{bad:?}"
        );
        assert_eq!(
            set(env::HEADER_UNENCRYPTED_CONTENT_LENGTH, bad),
            Err(EnvelopeError::InvalidNumber(
                Field::UnencryptedContentLength
            ))
        );
    }
    for bad in ["0", "8", "102401", "102408"] {
        assert_eq!(
            set(env::HEADER_PART_SIZE, bad),
            Err(EnvelopeError::PartSizeNotMultipleOf16),
            "{bad}"
        );
    }
    assert_eq!(
        set(env::HEADER_UNENCRYPTED_CONTENT_MD5, "not base64"),
        Err(EnvelopeError::InvalidBase64(Field::UnencryptedContentMd5))
    );
    assert_eq!(
        set(env::HEADER_MATDESC, "{\"a\":1}"),
        Err(EnvelopeError::InvalidMatdesc(
            MatdescError::NonStringValue { offset: 5 }
        ))
    );
    assert_eq!(
        set(env::HEADER_MATDESC, "{not json"),
        Err(EnvelopeError::InvalidMatdesc(
            MatdescError::UnexpectedChar { offset: 1 }
        ))
    );
    assert_eq!(
        set(env::HEADER_WRAP_ALG, "RSA/NONE/PKCS1Padding\r\nx: y"),
        Err(EnvelopeError::InvalidText(Field::WrapAlg))
    );
    // Header names are case-insensitive; a second, different value is refused.
    let mut pairs: Vec<(String, String)> = h
        .iter()
        .map(|(k, v)| (k.to_uppercase(), v.clone()))
        .collect();
    assert!(matches!(
        env::parse(pairs.clone()),
        Ok(ObjectEncryption::Envelope(_))
    ));
    pairs.push((env::HEADER_START.to_owned(), h[env::HEADER_KEY].clone()));
    assert_eq!(
        env::parse(pairs),
        Err(EnvelopeError::Duplicate(Field::Start))
    );
}

#[test]
fn wrong_truncated_and_swapped_keys() {
    let (k, h) = good();
    let ObjectEncryption::Envelope(e) = parse(&h).unwrap() else {
        unreachable!()
    };
    let mut rng = TestRng(21);
    assert!(wrap::open(&k, &e, &mut rng).is_ok());
    // Wrong private key: rejected by the length check (implicit rejection returns Ok(random)).
    assert_eq!(
        wrap::open(&key(2048, 99), &e, &mut rng).unwrap_err(),
        Error::Wrap(WrapError::WrongKey)
    );
    // Truncated or extended wrapped key.
    let mut t = e.clone();
    t.wrapped_key.pop();
    assert_eq!(
        wrap::open(&k, &t, &mut rng).unwrap_err(),
        Error::Wrap(WrapError::WrappedLength {
            expected: 256,
            actual: 255
        })
    );
    t.wrapped_key.extend([0, 0]);
    assert_eq!(
        wrap::open(&k, &t, &mut rng).unwrap_err(),
        Error::Wrap(WrapError::WrappedLength {
            expected: 256,
            actual: 257
        })
    );
    // Key and IV swapped: the lengths give it away.
    let s = env::Envelope {
        wrapped_key: e.wrapped_iv.clone(),
        wrapped_iv: e.wrapped_key.clone(),
        ..e.clone()
    };
    assert_eq!(
        wrap::open(&k, &s, &mut rng).unwrap_err(),
        Error::Wrap(WrapError::WrongKey)
    );
    // KMS envelope given to an RSA key.
    let kms = env::Envelope {
        wrap_alg: env::WrapAlg::Kms,
        ..e.clone()
    };
    assert_eq!(
        wrap::open(&k, &kms, &mut rng).unwrap_err(),
        Error::Wrap(WrapError::AlgorithmMismatch)
    );
    // A public-only key cannot unwrap.
    let public = RsaMasterKey::from_public_der(
        &rsa::pkcs8::EncodePublicKey::to_public_key_der(k.public_key())
            .unwrap()
            .into_vec(),
    )
    .unwrap();
    assert_eq!(
        wrap::open(&public, &e, &mut rng).unwrap_err(),
        Error::Wrap(WrapError::PublicKeyOnly)
    );
    // No key for the matdesc and no default.
    let md = osscse_core::envelope::Matdesc::parse(r#"{"who":"else"}"#).unwrap();
    let keys = [&k];
    assert_eq!(
        wrap::select(&keys, None, Some(&md)).unwrap_err(),
        Error::Wrap(WrapError::NoMatchingKey)
    );
    assert!(wrap::select(&keys, Some(&k), Some(&md)).is_ok());
}

#[test]
fn key_policy_and_key_parsing() {
    let small = key(1024, 31);
    let m = ContentMaterial::generate(&mut TestRng(32)).unwrap();
    assert_eq!(
        wrap::seal(&small, &m, &mut TestRng(33)).unwrap_err(),
        Error::Wrap(WrapError::KeyTooSmall {
            bits: 1024,
            minimum: 2048
        })
    );
    let small = small.with_policy(KeyPolicy::default().allow_small_keys_for_wrapping());
    let e = wrap::seal(&small, &m, &mut TestRng(34)).unwrap();
    assert_eq!(
        wrap::open(&small, &e, &mut TestRng(35)).unwrap().key(),
        m.key()
    );
    assert_eq!(
        small.wrap(&mut TestRng(36), &[0u8; 200]).unwrap_err(),
        Error::Wrap(WrapError::Crypto)
    );
    for bad in [
        "",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        "not a key",
    ] {
        assert_eq!(
            RsaMasterKey::from_public_pem(bad).unwrap_err(),
            WrapError::InvalidKey
        );
        assert_eq!(
            RsaMasterKey::from_private_pem(bad).unwrap_err(),
            WrapError::InvalidKey
        );
    }
    assert_eq!(
        RsaMasterKey::from_public_der(&[0x30, 0x03, 0x02, 0x01]).unwrap_err(),
        WrapError::InvalidKey
    );
    // Debug never shows key material.
    let dbg = format!("{small:?} {m:?}");
    assert!(
        dbg.contains("bits: 1024") && !dbg.contains(&hex::encode(m.key())),
        "{dbg}"
    );
}

#[test]
fn range_and_multipart_errors() {
    assert_eq!(
        RangePlan::resolve(ByteRange::parse("bytes=100-").unwrap(), 100),
        Err(PlanError::RangeNotSatisfiable {
            start: 100,
            size: 100
        })
    );
    assert_eq!(
        RangePlan::resolve(ByteRange::parse("bytes=500-600").unwrap(), 100),
        Err(PlanError::RangeNotSatisfiable {
            start: 500,
            size: 100
        })
    );
    assert_eq!(ByteRange::parse("bytes=-0"), Err(PlanError::InvalidRange));
    assert_eq!(
        MultipartPlan::new(1 << 30, 100 * 1024 + 1),
        Err(PlanError::PartSizeNotMultipleOf16)
    );
    assert_eq!(
        MultipartPlan::new(1 << 30, 4096),
        Err(PlanError::PartSizeTooSmall {
            minimum: 100 * 1024
        })
    );
    // Every error explains itself.
    for e in [
        Error::Plan(PlanError::TooManyParts),
        Error::Wrap(WrapError::WrongKey),
        Error::Envelope(EnvelopeError::Missing(Field::Key)),
        Error::Rng,
    ] {
        assert!(e.to_string().len() > 20, "{e}");
    }
}

proptest::proptest! {
    // A fixed seed: the same cases on every run and machine (the CI run must be deterministic).
    #![proptest_config(proptest::test_runner::Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x05c5_e202_6120_2001),
        ..proptest::test_runner::Config::default()
    })]

    #[test]
    fn parse_never_panics(pairs in proptest::collection::vec(
        (proptest::sample::select(vec![env::HEADER_KEY, env::HEADER_START, env::HEADER_CEK_ALG, env::HEADER_WRAP_ALG,
            env::HEADER_MATDESC, env::HEADER_DATA_SIZE, env::HEADER_PART_SIZE, env::LEGACY_HEADER_KEY, env::LEGACY_HEADER_START,
            env::LEGACY_HEADER_WRAP_ALG, env::LEGACY_HEADER_CEK_ALG, "x-other"]), ".{0,80}"), 0..12)) {
        let _ = env::parse(pairs);
    }

    #[test]
    fn matdesc_never_panics(s in ".{0,200}") {
        let _ = env::Matdesc::parse(&s);
    }

    #[test]
    fn range_text_never_panics(s in "(bytes=)?[0-9-]{0,24}") {
        if let Ok(r) = ByteRange::parse(&s) {
            let _ = RangePlan::resolve(r, 1000);
        }
    }
}
