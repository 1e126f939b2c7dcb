//! Live two-way check of the AES-GCM symmetric wrap with the official Python SDK v2
//! (`alibabacloud-oss-v2`: AESCtrCipherBuilder + the `MasterAesGcmCipher` of docs/symmetric.md,
//! executed from that file), offline: the SDK encrypts and osscse decrypts, osscse encrypts and
//! the SDK decrypts. Sizes 0, 17, 1 MiB + 7 and a multipart layout; a wrong CMK fails on both
//! sides (osscse: `WrongKey`; the SDK's pycryptodome: `MAC check failed`).
#![cfg(feature = "aes-gcm-wrap")]
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core
)]

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/python.rs"]
mod python;

use std::collections::BTreeMap;

use fixtures::TestRng;
use osscse_core::content::{ContentMaterial, MultipartPlan};
use osscse_core::envelope::{self, Matdesc, ObjectEncryption, WrapAlg};
use osscse_core::error::{Error, WrapError};
use osscse_core::wrap::{self, AesGcmMasterKey};

/// (plaintext length, part size): 0, 17, 1 MiB + 7 whole; 3 parts of 100 KiB and a 5-byte tail.
const CASES: [(usize, Option<u64>); 4] = [
    (0, None),
    (17, None),
    ((1 << 20) + 7, None),
    (3 * 100 * 1024 + 5, Some(100 * 1024)),
];
const MATDESC: &str = r#"{"cmk": "vault/telemetry-2026"}"#;

fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = TestRng(seed | 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// The venv, a scratch directory with the CMK file `cmk` (and a different `other.cmk`), and the key.
fn setup(test: &str) -> Option<(python::Script, AesGcmMasterKey)> {
    let py = python::Script::new("symmetric_interop.py", test)?;
    let cmk = bytes(32, 0xc3c3);
    std::fs::write(py.dir().join("cmk"), &cmk).unwrap();
    std::fs::write(py.dir().join("other.cmk"), bytes(32, 0x0707)).unwrap();
    let key = AesGcmMasterKey::from_bytes(&cmk)
        .unwrap()
        .with_matdesc(Matdesc::parse(MATDESC).unwrap());
    Some((py, key))
}

#[test]
fn python_sdk_v2_encrypts_osscse_decrypts() {
    let Some((py, key)) = setup("decrypt") else {
        return;
    };
    for (len, part_size) in CASES {
        let plain = bytes(len, len as u64 ^ 0xabc);
        std::fs::write(py.dir().join("plain"), &plain).unwrap();
        let mut args = vec!["encrypt".to_owned(), py.path("cmk"), MATDESC.to_owned()];
        args.extend(["plain", "body", "headers.json"].map(|a| py.path(a)));
        args.extend(part_size.map(|p| p.to_string()));
        py.run(&args);

        let headers: BTreeMap<String, String> =
            serde_json::from_slice(&std::fs::read(py.dir().join("headers.json")).unwrap()).unwrap();
        assert_eq!(
            headers[envelope::HEADER_WRAP_ALG],
            "AES/GCM/NoPadding",
            "{len}"
        );
        let ObjectEncryption::Envelope(env) = envelope::parse(&headers).unwrap() else {
            panic!("{len}: not an envelope: {headers:?}")
        };
        assert_eq!(env.wrap_alg, WrapAlg::AesGcm);
        assert_eq!((env.wrapped_key.len(), env.wrapped_iv.len()), (60, 44));
        assert_eq!(env.matdesc.as_ref().map(Matdesc::as_str), Some(MATDESC));
        assert_eq!(env.part_size, part_size);
        let keys = [&key];
        let chosen = wrap::select(&keys, None, env.matdesc.as_ref()).unwrap();
        let material = wrap::open(chosen, &env, &mut TestRng(5)).unwrap();
        let mut body = std::fs::read(py.dir().join("body")).unwrap();
        assert_eq!(body.len(), len);
        material.apply_at(0, &mut body);
        assert!(
            body == plain,
            "osscse decrypts {len} bytes written by the SDK"
        );

        let other = AesGcmMasterKey::from_bytes(&bytes(32, 0x0707)).unwrap();
        assert_eq!(
            wrap::open(&other, &env, &mut TestRng(5)).unwrap_err(),
            Error::Wrap(WrapError::WrongKey)
        );
    }
}

#[test]
fn osscse_encrypts_python_sdk_v2_decrypts() {
    let Some((py, key)) = setup("encrypt") else {
        return;
    };
    let mut rng = TestRng(0x5151_7777);
    for (len, part_size) in CASES {
        let plain = bytes(len, len as u64 ^ 0xdef);
        let material = ContentMaterial::generate(&mut rng).unwrap();
        let mut env = wrap::seal(&key, &material, &mut rng).unwrap();
        let mut body = plain.clone();
        match part_size {
            None => material.apply_at(0, &mut body),
            Some(p) => {
                let plan = MultipartPlan::new(len as u64, p).unwrap();
                env.data_size = Some(plan.data_size());
                env.part_size = Some(plan.part_size());
                // Each part encrypted on its own from its own counter, as an uploader does.
                for part in plan.parts() {
                    let range = part.offset as usize..(part.offset + part.len) as usize;
                    material.keystream_at(part.offset).apply(&mut body[range]);
                }
            }
        }
        let headers: BTreeMap<_, _> = env.headers().into_iter().collect();
        std::fs::write(
            py.dir().join("headers.json"),
            serde_json::to_vec(&headers).unwrap(),
        )
        .unwrap();
        std::fs::write(py.dir().join("body"), &body).unwrap();
        let mut args = vec!["decrypt".to_owned()];
        args.extend(["cmk", "headers.json", "body", "out"].map(|a| py.path(a)));
        args.extend(part_size.map(|p| p.to_string()));
        py.run(&args);
        let out = std::fs::read(py.dir().join("out")).unwrap();
        assert!(
            out == plain,
            "the SDK decrypts {len} bytes written by osscse"
        );

        // The same object with another CMK: the SDK's master cipher refuses it (GCM tag).
        args[1] = py.path("other.cmk");
        let refused = py.output(&args);
        assert!(!refused.status.success(), "{len}: another CMK decrypted");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("MAC check failed"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
}
