//! Symmetric master keys (`AES/GCM/NoPadding`, docs/symmetric.md) through the real `osscse`
//! binary: `keygen --symmetric`, `--symmetric-key` on put/get/cat over `file://` and the
//! loopback OSS server, key files in every accepted encoding and refused ones, one exclusive
//! writer key on put, and keyrings mixing RSA, KMS and symmetric keys.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "support/cli.rs"]
mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use base64ct::{Base64, Base64Unpadded, Encoding};
use osscse_tests::kms::{KmsServer, KmsServerConfig};
use osscse_tests::{Config, Server};
use support::{data, p, stderr};

const AK: &str = "sym-ak";
const SK: &str = "sym-sk";

/// The binary with the test's AccessKey (also used for KMS) and no other OSS settings.
fn osscse() -> Command {
    let mut c = support::osscse();
    c.env("OSS_ACCESS_KEY_ID", AK)
        .env("OSS_ACCESS_KEY_SECRET", SK);
    c
}

/// Writes a key file private to its owner (no permission warning).
fn write_key(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::write(path, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path.to_path_buf()
}

fn head(location: &str) -> serde_json::Value {
    let out = osscse().args(["head", location]).assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn keygen_symmetric_writes_a_private_key_in_each_encoding_that_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.bin");
    let plain = data(300_007, 0);
    std::fs::write(&src, &plain).unwrap();
    for encoding in ["raw", "hex", "base64"] {
        let key = dir.path().join(format!("cmk.{encoding}"));
        let a = osscse()
            .args(["keygen", "--symmetric", "--encoding", encoding, "--out"])
            .arg(&key)
            .assert()
            .success();
        assert!(stderr(&a).contains("keep it secret"), "{}", stderr(&a));
        let bytes = std::fs::read(&key).unwrap();
        let raw = match encoding {
            "raw" => bytes.clone(),
            "hex" => {
                assert_eq!(bytes.len(), 65);
                assert_eq!(bytes[64], b'\n');
                hex::decode(&bytes[..64]).unwrap()
            }
            _ => {
                assert_eq!(bytes.len(), 45);
                Base64::decode_vec(std::str::from_utf8(&bytes[..44]).unwrap()).unwrap()
            }
        };
        assert_eq!(raw.len(), 32, "{encoding}");
        assert_ne!(raw, [0; 32]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{encoding}");
        }
        let obj = format!("file://{}/store/{encoding}.bin", p(dir.path()));
        let a = osscse()
            .args(["put", p(&src), &obj, "--symmetric-key", p(&key)])
            .args(["--matdesc", r#"{"cmk": "test"}"#])
            .assert()
            .success();
        assert_eq!(stderr(&a), "", "0600 key: no warning");
        let json = head(&obj);
        let env = &json["envelope"];
        assert_eq!(env["wrap_alg"], "AES/GCM/NoPadding", "{json}");
        assert_eq!(env["matdesc"], r#"{"cmk": "test"}"#);
        assert_eq!(env["wrapped_key_bytes"], 60, "nonce 12 + key 32 + tag 16");
        assert_eq!(env["wrapped_iv_bytes"], 44, "nonce 12 + IV 16 + tag 16");
        let stored = std::fs::read(dir.path().join(format!("store/{encoding}.bin"))).unwrap();
        assert_eq!(stored.len(), plain.len());
        assert_ne!(stored, plain);
        let out = dir.path().join(format!("out.{encoding}"));
        osscse()
            .args(["get", &obj, p(&out), "--symmetric-key", p(&key)])
            .assert()
            .success();
        assert!(std::fs::read(&out).unwrap() == plain, "{encoding}");
        let cat = osscse()
            .args(["cat", &obj, "--range", "100000-100099", "--symmetric-key"])
            .arg(&key)
            .assert()
            .success();
        assert_eq!(cat.get_output().stdout, &plain[100_000..100_100]);
    }
    // Each generated key is its own: another one cannot open the object (GCM tag), exit 5.
    let a = osscse()
        .args(["cat", &format!("file://{}/store/raw.bin", p(dir.path()))])
        .args(["--symmetric-key", p(&dir.path().join("cmk.hex"))])
        .args(["--symmetric-key", p(&dir.path().join("cmk.base64"))])
        .assert()
        .code(5);
    assert!(stderr(&a).contains(r#"{"cmk": "test"}"#), "{}", stderr(&a));
    assert!(a.get_output().stdout.is_empty());
}

#[test]
fn key_files_from_other_tools_load_and_malformed_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(29) ^ 0x5a).collect();
    let hex = hex::encode(&key);
    let b64 = Base64::encode_string(&key);
    let src = dir.path().join("in");
    std::fs::write(&src, b"seventeen bytes!!").unwrap();
    let obj = format!("file://{}/store/o", p(dir.path()));
    let writer = write_key(&dir.path().join("raw.key"), &key);
    osscse()
        .args(["put", p(&src), &obj, "--symmetric-key", p(&writer)])
        .assert()
        .success();
    // `openssl rand -hex 32 > k`, Windows line ends, upper case, `base64` with and without
    // padding or newline: the same key.
    for (name, text) in [
        ("hex-lf", format!("{hex}\n")),
        ("hex-crlf", format!("{}\r\n", hex.to_uppercase())),
        ("hex-bare", hex.clone()),
        ("b64-lf", format!("{b64}\n")),
        ("b64-bare", b64.clone()),
        ("b64-unpadded", Base64Unpadded::encode_string(&key)),
    ] {
        let path = write_key(&dir.path().join(name), text.as_bytes());
        let out = osscse()
            .args(["cat", &obj, "--symmetric-key", p(&path)])
            .assert()
            .success();
        assert_eq!(out.get_output().stdout, b"seventeen bytes!!", "{name}");
    }
    // Anything else: a configuration error naming the file, never showing its bytes.
    for (name, bytes) in [
        ("short", key[..31].to_vec()),
        ("long", [&key[..], b"\n"].concat()),
        ("hex-63", hex.as_bytes()[..63].to_vec()),
        ("hex-bad", format!("{}zz\n", &hex[..62]).into_bytes()),
        ("b64-31", Base64::encode_string(&key[..31]).into_bytes()),
        ("spaces", format!("  {hex}\n").into_bytes()),
        ("empty", Vec::new()),
        (
            "pem",
            std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-a-public.pem"),
            )
            .unwrap(),
        ),
    ] {
        let path = write_key(&dir.path().join(name), &bytes);
        let a = osscse()
            .args(["cat", &obj, "--symmetric-key", p(&path)])
            .assert()
            .code(4);
        let err = stderr(&a);
        assert!(
            err.contains("not a symmetric key") && err.contains(p(&path)),
            "{name}: {err}"
        );
        assert!(
            !err.contains(&hex[..16]) && !err.contains(&b64[..16]),
            "{name}: {err}"
        );
        assert!(a.get_output().stdout.is_empty());
        osscse()
            .args([
                "put",
                p(&src),
                &format!("{obj}-{name}"),
                "--symmetric-key",
                p(&path),
            ])
            .assert()
            .code(4);
        assert!(!dir.path().join(format!("store/o-{name}")).exists());
    }
    // A missing key file: not found.
    osscse()
        .args(["cat", &obj, "--symmetric-key", p(&dir.path().join("nope"))])
        .assert()
        .code(3);
}

#[test]
fn put_takes_exactly_one_writer_key() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in");
    std::fs::write(&src, b"x").unwrap();
    let key = write_key(&dir.path().join("k"), &[7; 32]);
    let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-a-public.pem");
    let dst = format!("file://{}/o", p(dir.path()));
    // None (and no profile naming one): a configuration error that names the flags.
    let a = osscse().args(["put", p(&src), &dst]).assert().code(4);
    assert!(stderr(&a).contains("--symmetric-key"), "{}", stderr(&a));
    // Two: a usage error.
    for extra in [
        vec!["--symmetric-key", p(&key), "--public-key", p(&public)],
        vec![
            "--symmetric-key",
            p(&key),
            "--kms-key-id",
            "k",
            "--kms-region",
            "cn-hangzhou",
        ],
    ] {
        let a = osscse()
            .args(["put", p(&src), &dst])
            .args(&extra)
            .assert()
            .code(2);
        assert!(stderr(&a).contains("--symmetric-key"), "{}", stderr(&a));
    }
    // get/cat accept several, but need one key of some kind.
    let a = osscse().args(["cat", &dst]).assert().code(4);
    assert!(stderr(&a).contains("--symmetric-key"), "{}", stderr(&a));
    assert!(!dir.path().join("o").exists());
}

#[test]
fn symmetric_objects_round_trip_through_the_loopback_server() {
    let server = Server::start(Config::new(AK, SK)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = write_key(&dir.path().join("k"), &[0x42; 32]);
    let other = write_key(&dir.path().join("other"), &[0x43; 32]);
    let oss = |c: &mut Command| {
        c.env("OSS_ENDPOINT", server.endpoint())
            .env("OSS_REGION", "cn-hangzhou");
    };
    let src = dir.path().join("in.bin");
    for (name, len, part) in [
        ("empty", 0, None),
        ("one-part", 17, None),
        ("multi", 1_048_583, Some("204800")),
    ] {
        let plain = data(len, 0);
        std::fs::write(&src, &plain).unwrap();
        let obj = format!("oss://bkt/sym/{name}");
        let mut c = osscse();
        oss(&mut c);
        c.args(["--quiet", "put", p(&src), &obj, "--symmetric-key", p(&key)]);
        if let Some(part) = part {
            c.args(["--part-size", part]);
        }
        c.assert().success();
        let stored = server.object("bkt", &format!("sym/{name}")).unwrap();
        assert_eq!(
            stored.meta("x-oss-meta-client-side-encryption-wrap-alg"),
            Some("AES/GCM/NoPadding")
        );
        let wrapped = Base64::decode_vec(
            stored
                .meta("x-oss-meta-client-side-encryption-key")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(wrapped.len(), 60, "nonce 12 + key 32 + tag 16");
        if part.is_some() {
            assert_eq!(
                stored.meta("x-oss-meta-client-side-encryption-part-size"),
                Some("204800")
            );
        }
        let out = dir.path().join(format!("out-{name}"));
        let mut c = osscse();
        oss(&mut c);
        // The wrong key first: the keyring falls back to the right one.
        c.args(["get", &obj, p(&out), "--symmetric-key", p(&other)])
            .args(["--symmetric-key", p(&key)])
            .assert()
            .success();
        assert!(std::fs::read(&out).unwrap() == plain, "{name}");
        let mut c = osscse();
        oss(&mut c);
        let a = c
            .args(["cat", &obj, "--symmetric-key", p(&other)])
            .assert()
            .code(5);
        assert!(
            stderr(&a).contains("different master key"),
            "{}",
            stderr(&a)
        );
    }
}

fn kms_sign(secret: &str, method: &str, params: &[(&str, &str)]) -> (String, String) {
    use osscse_std::kms::sign;
    (
        sign::string_to_sign(method, params.iter().copied()),
        sign::signature(secret, method, params.iter().copied()),
    )
}

#[test]
fn one_keyring_of_rsa_kms_and_symmetric_keys_opens_each_object() {
    let kms = KmsServer::start(KmsServerConfig::new(AK, SK, kms_sign)).unwrap();
    let cmk = kms.create_key();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let rsa_public = data_dir.join("test-a-public.pem");
    let rsa_private = dir.path().join("a.pem");
    write_key(
        &rsa_private,
        &std::fs::read(data_dir.join("test-a-private.pem")).unwrap(),
    );
    let sym_one = write_key(&dir.path().join("one.key"), &[1; 32]);
    let sym_two = write_key(
        &dir.path().join("two.key"),
        format!("{}\n", "02".repeat(32)).as_bytes(),
    );
    let src = dir.path().join("in");
    let store = |name: &str| format!("file://{}/store/{name}", p(dir.path()));
    let writers: [(&str, Vec<String>); 5] = [
        ("rsa", vec!["--public-key".into(), p(&rsa_public).into()]),
        (
            "kms",
            vec![
                "--kms-key-id".into(),
                cmk.clone(),
                "--kms-endpoint".into(),
                kms.endpoint(),
            ],
        ),
        (
            "sym-one",
            vec!["--symmetric-key".into(), p(&sym_one).into()],
        ),
        (
            "sym-two",
            vec![
                "--symmetric-key".into(),
                p(&sym_two).into(),
                "--matdesc".into(),
                r#"{"cmk": "two"}"#.into(),
            ],
        ),
        (
            "sym-one-named",
            vec![
                "--symmetric-key".into(),
                p(&sym_one).into(),
                "--matdesc".into(),
                r#"{"cmk": "one"}"#.into(),
            ],
        ),
    ];
    for (name, args) in &writers {
        std::fs::write(&src, format!("object {name}")).unwrap();
        osscse()
            .args(["put", p(&src), &store(name)])
            .args(args)
            .assert()
            .success();
    }
    let two = format!(r#"{}={{"cmk":"two"}}"#, p(&sym_two));
    let one = format!(r#"{}={{"cmk":"one"}}"#, p(&sym_one));
    let kms_args = ["--kms-key-id", &cmk, "--kms-endpoint", &kms.endpoint()];
    // Symmetric keys listed before the RSA key, the named one first: every object opens.
    for order in [[two.as_str(), one.as_str()], [one.as_str(), two.as_str()]] {
        for (name, _) in &writers {
            let out = osscse()
                .args(["cat", &store(name)])
                .args(["--symmetric-key", order[0], "--symmetric-key", order[1]])
                .args(["--private-key", p(&rsa_private)])
                .args(kms_args)
                .assert()
                .success();
            assert_eq!(
                out.get_output().stdout,
                format!("object {name}").as_bytes(),
                "{name} with {order:?}"
            );
        }
    }
    // Without the symmetric keys, their objects are a master-key problem that says what they
    // need; the others still open.
    for (name, _) in &writers {
        let a = osscse()
            .args(["cat", &store(name), "--private-key", p(&rsa_private)])
            .args(kms_args)
            .assert();
        if name.starts_with("sym") {
            let a = a.code(5);
            let err = stderr(&a);
            assert!(
                err.contains("AES") || err.contains(r#""cmk""#),
                "{name}: {err}"
            );
        } else {
            a.success();
        }
    }
    let a = osscse()
        .args(["cat", &store("sym-one"), "--private-key", p(&rsa_private)])
        .assert()
        .code(5);
    assert!(
        stderr(&a).contains("symmetric AES-256 key") && stderr(&a).contains("RSA-2048"),
        "{}",
        stderr(&a)
    );
}

/// Runs tests/python/symmetric.py (the README's `MasterAesGcmCipher` in the Python SDK v2).
fn python(server: &Server, args: &[&str]) -> std::process::Output {
    let python = osscse_tests::python::interpreter().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/symmetric.py");
    std::process::Command::new(python)
        .arg(script)
        .args(args)
        .env("OSS_ENDPOINT", server.endpoint())
        .env("OSS_AK", AK)
        .env("OSS_SK", SK)
        .env("OSS_BUCKET", "bkt")
        .output()
        .unwrap()
}

#[test]
fn python_sdk_v2_with_the_readme_master_cipher_and_the_cli_read_each_others_objects() {
    if osscse_tests::python::interpreter().is_none() {
        return;
    }
    let server = Server::start(Config::new(AK, SK)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cmk = dir.path().join("cmk.key");
    osscse()
        .args(["--quiet", "keygen", "--symmetric", "--out", p(&cmk)])
        .assert()
        .success();
    let other = write_key(&dir.path().join("other.key"), &[0x11; 32]);
    let matdesc = r#"{"cmk": "vault/2026"}"#;
    let oss = |c: &mut Command| {
        c.env("OSS_ENDPOINT", server.endpoint())
            .env("OSS_REGION", "cn-hangzhou");
    };
    for (len, part) in [(0, None), (17, None), (1_048_583, Some("204800"))] {
        let plain = data(len, 0);
        let src = dir.path().join(format!("in-{len}"));
        std::fs::write(&src, &plain).unwrap();
        // The CLI writes, Python reads.
        let key = format!("cli-{len}");
        let mut c = osscse();
        oss(&mut c);
        c.args(["--quiet", "put", p(&src), &format!("oss://bkt/{key}")])
            .args(["--symmetric-key", p(&cmk), "--matdesc", matdesc]);
        if let Some(part) = part {
            c.args(["--part-size", part]);
        }
        c.assert().success();
        let out = dir.path().join(format!("py-out-{len}"));
        let r = python(&server, &["get", &key, p(&out), p(&cmk), matdesc]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert!(std::fs::read(&out).unwrap() == plain, "python read {len}");
        // With another CMK the SDK's GCM check fails.
        let r = python(&server, &["get", &key, p(&out), p(&other), matdesc]);
        assert!(!r.status.success());
        assert!(
            String::from_utf8_lossy(&r.stderr).contains("MAC check failed"),
            "{}",
            String::from_utf8_lossy(&r.stderr)
        );
        // Python writes, the CLI reads (with a wrong symmetric key and an RSA key loaded too).
        let key = format!("py-{len}");
        let r = python(&server, &["put", &key, p(&src), p(&cmk), matdesc]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let stored = server.object("bkt", &key).unwrap();
        assert_eq!(
            stored.meta("x-oss-meta-client-side-encryption-wrap-alg"),
            Some("AES/GCM/NoPadding")
        );
        let out = dir.path().join(format!("cli-out-{len}"));
        let named = format!("{}={matdesc}", p(&cmk));
        let mut c = osscse();
        oss(&mut c);
        c.args(["get", &format!("oss://bkt/{key}"), p(&out)])
            .args(["--symmetric-key", p(&other), "--symmetric-key", &named])
            .arg("--private-key")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-a-private.pem"))
            .assert()
            .success();
        assert!(std::fs::read(&out).unwrap() == plain, "cli read {len}");
    }
}
