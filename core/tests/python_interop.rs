//! Live two-way check with the official Python SDKs' own crypto classes, offline:
//! `alibabacloud-oss-v2` (MasterRsaCipher + AESCtrCipherBuilder) and `oss2` (RsaProvider) wrap
//! and encrypt with a freshly generated RSA-2048 key and osscse decrypts; osscse encrypts and
//! their classes decrypt. Sizes 0, 1, 15, 16, 17, 1 MiB + 7, and a multipart layout.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core
)]
#![cfg(feature = "rsa")]

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/python.rs"]
mod python;

use std::collections::BTreeMap;
use std::path::Path;

use fixtures::TestRng;
use osscse_core::content::{ContentMaterial, MultipartPlan};
use osscse_core::envelope::{self, Matdesc, ObjectEncryption};
use osscse_core::wrap::{self, RsaMasterKey};

const SIZES: [usize; 6] = [0, 1, 15, 16, 17, (1 << 20) + 7];
/// Multipart layout: 3 parts of 100 KiB and a 5-byte tail.
const PART_SIZE: u64 = 100 * 1024;
const MULTIPART_SIZE: usize = 3 * 100 * 1024 + 5;

fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = TestRng(seed | 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

fn read_headers(path: &Path) -> BTreeMap<String, String> {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn setup(test: &str) -> Option<(python::Script, RsaMasterKey, RsaMasterKey)> {
    let py = python::Script::new("crypto_interop.py", test)?;
    py.run(&["keygen", &py.path("priv.pem"), &py.path("pub.pem")]);
    let private_pem = std::fs::read_to_string(py.dir().join("priv.pem")).unwrap();
    let public_pem = std::fs::read_to_string(py.dir().join("pub.pem")).unwrap();
    let matdesc = Matdesc::parse(r#"{"k":"v"}"#).unwrap();
    let private = RsaMasterKey::from_private_pem(&private_pem)
        .unwrap()
        .with_matdesc(matdesc.clone());
    let public = RsaMasterKey::from_public_pem(&public_pem)
        .unwrap()
        .with_matdesc(matdesc);
    assert_eq!((private.bits(), public.bits()), (2048, 2048));
    Some((py, private, public))
}

#[test]
fn python_sdks_encrypt_osscse_decrypts() {
    let Some((py, private, _)) = setup("decrypt") else {
        return;
    };
    for sdk in ["v2", "oss2"] {
        let cases = SIZES
            .iter()
            .map(|&n| (n, None))
            .chain([(MULTIPART_SIZE, Some(PART_SIZE))]);
        for (len, part_size) in cases {
            let plain = data(len, len as u64 ^ 0xabc);
            std::fs::write(py.dir().join("plain"), &plain).unwrap();
            let mut args = vec![
                "encrypt".to_owned(),
                sdk.to_owned(),
                py.path("pub.pem"),
                py.path("priv.pem"),
            ];
            args.extend([
                r#"{"k": "v"}"#.to_owned(),
                py.path("plain"),
                py.path("body"),
                py.path("headers.json"),
            ]);
            args.extend(part_size.map(|p| p.to_string()));
            py.run(&args);
            let headers = read_headers(&py.dir().join("headers.json"));
            let ObjectEncryption::Envelope(env) = envelope::parse(&headers).unwrap() else {
                panic!("{sdk} {len}: not an envelope: {headers:?}")
            };
            // Python writes {"k": "v"}; it matches the key registered as {"k":"v"}.
            assert_eq!(
                env.matdesc.as_ref().map(Matdesc::as_str),
                Some(r#"{"k": "v"}"#)
            );
            let keys = [&private];
            let key = wrap::select(&keys, None, env.matdesc.as_ref()).unwrap();
            assert_eq!(env.part_size, part_size, "{sdk}");
            if let Some(p) = part_size {
                assert_eq!(env.data_size, Some(len as u64));
                MultipartPlan::new(len as u64, p).unwrap();
            }
            let material = wrap::open(key, &env, &mut TestRng(5)).unwrap();
            assert_eq!(&material.iv()[8..12], &[0; 4], "{sdk} IV layout");
            let mut body = std::fs::read(py.dir().join("body")).unwrap();
            assert_eq!(body.len(), len);
            material.apply_at(0, &mut body);
            assert!(
                body == plain,
                "{sdk}: osscse decrypts {len} bytes written by the SDK"
            );
        }
    }
}

#[test]
fn osscse_encrypts_python_sdks_decrypt() {
    let Some((py, _, public)) = setup("encrypt") else {
        return;
    };
    let mut rng = TestRng(0x1234_5678);
    let cases = SIZES
        .iter()
        .map(|&n| (n, None))
        .chain([(MULTIPART_SIZE, Some(PART_SIZE))]);
    for (len, part_size) in cases {
        let plain = data(len, len as u64 ^ 0xdef);
        let material = ContentMaterial::generate(&mut rng).unwrap();
        let mut env = wrap::seal(&public, &material, &mut rng).unwrap();
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
        assert_eq!(headers[envelope::HEADER_MATDESC], r#"{"k":"v"}"#);
        std::fs::write(
            py.dir().join("headers.json"),
            serde_json::to_vec(&headers).unwrap(),
        )
        .unwrap();
        std::fs::write(py.dir().join("body"), &body).unwrap();
        for sdk in ["v2", "oss2"] {
            let mut args = vec!["decrypt".to_owned(), sdk.to_owned(), py.path("priv.pem")];
            args.extend([py.path("headers.json"), py.path("body"), py.path("out")]);
            args.extend(part_size.map(|p| p.to_string()));
            py.run(&args);
            let out = std::fs::read(py.dir().join("out")).unwrap();
            assert!(out == plain, "{sdk} decrypts {len} bytes written by osscse");
        }
    }
}
