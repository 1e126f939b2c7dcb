//! Audit: every key-holding type of osscse-core wipes its secrets on drop and never prints
//! them through `Debug`.
//!
//! Wiping on drop is checked through the types' `ZeroizeOnDrop`/`Zeroize` implementations
//! (compile-time bounds plus an explicit `zeroize()` where the type exposes it); inspecting freed
//! memory would need `unsafe`, which this workspace keeps inside `core/src/engine/`.
#![cfg(all(feature = "rsa", feature = "sign"))]
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core
)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::TestRng;
use osscse_core::Keystream;
use osscse_core::content::ContentMaterial;
use osscse_core::sign::Credentials;
use osscse_core::wrap::RsaMasterKey;
use zeroize::{Zeroize, ZeroizeOnDrop};

fn zeroize_on_drop<T: ZeroizeOnDrop>() {}

const KEY: [u8; 32] = *b"0123456789abcdef0123456789ABCDEF";
const IV: [u8; 16] = *b"IVIVIVIV\0\0\0\0ivIV";

/// No rendering of any secret byte sequence (hex, decimal list or text) appears in `dbg`.
fn assert_redacted(dbg: &str, secrets: &[&[u8]]) {
    for s in secrets {
        let forms = [
            hex::encode(s),
            format!("{s:?}"),
            String::from_utf8_lossy(s).into_owned(),
        ];
        for f in forms {
            assert!(!dbg.contains(&f), "Debug output leaks a secret: {dbg}");
        }
    }
}

#[test]
fn content_material() {
    zeroize_on_drop::<ContentMaterial>();
    let mut m = ContentMaterial::from_parts(KEY, IV);
    assert_redacted(&format!("{m:?} {m:#?}"), &[&KEY, &IV]);
    m.zeroize();
    assert_eq!((m.key(), m.iv()), (&[0; 32], &[0; 16]));
}

#[test]
fn keystream_round_keys() {
    zeroize_on_drop::<Keystream>();
    let ks = Keystream::new(&KEY, &IV);
    assert_redacted(&format!("{ks:?} {ks:#?}"), &[&KEY, &IV]);
}

#[test]
fn rsa_master_key() {
    zeroize_on_drop::<rsa::PrivateKey>();
    let private = rsa::PrivateKey::new(&mut TestRng(9), 1024).unwrap();
    let d = rsa::traits::PrivateKeyParts::d(&private).to_be_bytes();
    let key = RsaMasterKey::from_private_key(private).unwrap();
    let dbg = format!("{key:?} {key:#?}");
    assert!(dbg.contains("has_private_key: true"), "{dbg}");
    assert_redacted(&dbg, &[&d]);
}

#[test]
fn signing_credentials() {
    let c =
        Credentials::new("AKIDEXAMPLE", "very-secret-key").with_security_token("sts-token-value");
    let dbg = format!("{c:?} {c:#?}");
    assert!(
        dbg.contains("AKIDEXAMPLE"),
        "the key id is not secret: {dbg}"
    );
    assert_redacted(&dbg, &[b"very-secret-key", b"sts-token-value"]);
}
