//! Wycheproof RSAES-PKCS1-v1_5 decryption vectors (2048, 3072, 4096 bits) through the wrap
//! module: valid ciphertexts unwrap to their message; invalid ones never yield a data key or
//! an IV, i.e. unwrapping fails or returns bytes that are neither 32 nor 16 long (rsa 0.10's
//! implicit rejection returns synthetic bytes instead of a distinguishable error).
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
use osscse_core::wrap::{MasterKey, RsaMasterKey};
use wycheproof::TestResult;
use wycheproof::rsa_pkcs1_decrypt::{TestName, TestSet};

#[test]
fn wycheproof_rsa_pkcs1_v15_decrypt() {
    let mut rng = TestRng(0x77);
    let (mut valid, mut invalid) = (0, 0);
    for name in [TestName::Rsa2048, TestName::Rsa3072, TestName::Rsa4096] {
        let set = TestSet::load(name).unwrap();
        for group in &set.test_groups {
            let key = RsaMasterKey::from_private_der(&group.pkcs8).unwrap();
            assert_eq!(key.bits() as usize, group.key_size);
            for t in &group.tests {
                let got = key.unwrap(&mut rng, &t.ct);
                match t.result {
                    TestResult::Valid => {
                        assert_eq!(
                            got.as_deref().map(Vec::as_slice),
                            Ok(&t.pt[..]),
                            "tc {}",
                            t.tc_id
                        );
                        valid += 1;
                    }
                    TestResult::Invalid | TestResult::Acceptable => {
                        if let Ok(bytes) = &got {
                            assert!(
                                ContentMaterial::from_slices(bytes, &[0; 16]).is_err()
                                    && ContentMaterial::from_slices(&[0; 32], bytes).is_err(),
                                "tc {} ({:?}) unwrapped to {} bytes",
                                t.tc_id,
                                t.flags,
                                bytes.len()
                            );
                        }
                        invalid += 1;
                    }
                }
            }
        }
    }
    assert!(
        valid > 20 && invalid > 50,
        "{valid} valid, {invalid} invalid vectors"
    );
}
