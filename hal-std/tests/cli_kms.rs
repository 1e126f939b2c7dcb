//! The real `osscse` binary with a KMS master key (`--kms-key-id`, `--kms-endpoint`,
//! `--kms-region`) against the loopback KMS server and the offline `file://` store: round trips
//! through put/get/cat, and the exit codes of KMS failures (disabled or unknown key, wrong
//! secret, KMS 5xx) and of bad flag combinations.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::Path;

use assert_cmd::Command;
use osscse_tests::kms::{KmsFaultConfig, KmsServer, KmsServerConfig};

const AK: &str = "cli-kms-ak";
const SK: &str = "cli-kms-sk";

fn sign(secret: &str, method: &str, params: &[(&str, &str)]) -> (String, String) {
    use osscse_std::kms::sign;
    (
        sign::string_to_sign(method, params.iter().copied()),
        sign::signature(secret, method, params.iter().copied()),
    )
}

fn kms() -> KmsServer {
    KmsServer::start(KmsServerConfig::new(AK, SK, sign)).unwrap()
}

/// The binary with the test's AccessKey and no other OSS settings from the environment.
fn osscse_with_secret(secret: &str) -> Command {
    let mut c = Command::cargo_bin("osscse").unwrap();
    for v in ["OSS_ENDPOINT", "OSS_REGION", "OSS_SESSION_TOKEN"] {
        c.env_remove(v);
    }
    c.env("HOME", "/nonexistent-osscse-home");
    c.env("OSS_ACCESS_KEY_ID", AK)
        .env("OSS_ACCESS_KEY_SECRET", secret);
    c
}

fn osscse() -> Command {
    osscse_with_secret(SK)
}

fn data(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ n as u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

struct Fixture {
    dir: tempfile::TempDir,
    server: KmsServer,
    cmk: String,
    plain: Vec<u8>,
    store: String,
}

/// A KMS server with one key and a 200 000-byte object written with it into a file:// store.
fn written() -> Fixture {
    let server = kms();
    let cmk = server.create_key();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.bin");
    let plain = data(200_000);
    std::fs::write(&src, &plain).unwrap();
    let store = format!("file://{}/store/kms.bin", p(dir.path()));
    osscse()
        .args(["put", p(&src), &store, "--kms-key-id", &cmk])
        .args([
            "--kms-endpoint",
            &server.endpoint(),
            "--kms-region",
            "cn-hangzhou",
        ])
        .args(["--matdesc", r#"{"owner":"ops"}"#])
        .assert()
        .success();
    Fixture {
        dir,
        server,
        cmk,
        plain,
        store,
    }
}

#[test]
fn put_then_get_and_cat_round_trip_through_kms() {
    let f = written();
    let stored = std::fs::read(f.dir.path().join("store/kms.bin")).unwrap();
    assert_eq!(stored.len(), f.plain.len());
    assert_ne!(stored, f.plain);
    let sidecar =
        std::fs::read_to_string(f.dir.path().join("store/kms.bin.osscse-meta.json")).unwrap();
    assert!(sidecar.contains("KMS/ALICLOUD"), "{sidecar}");
    assert!(sidecar.contains("owner"), "{sidecar}");
    let calls_after_put = f.server.request_count();
    assert_eq!(calls_after_put, 2, "put wraps the key and the IV");

    let out = f.dir.path().join("out.bin");
    osscse()
        .args(["get", &f.store, p(&out), "--kms-key-id", &f.cmk])
        .args(["--kms-endpoint", &f.server.endpoint()])
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), f.plain);
    assert_eq!(f.server.request_count(), calls_after_put + 2);

    let cat = osscse()
        .args([
            "cat",
            &f.store,
            "--range",
            "1000-1999",
            "--kms-key-id",
            &f.cmk,
        ])
        .args(["--kms-endpoint", &f.server.endpoint()])
        .assert()
        .success();
    assert_eq!(cat.get_output().stdout, &f.plain[1000..2000]);
}

#[test]
fn rsa_and_kms_keys_in_one_keyring_each_open_their_objects() {
    let f = written();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let private = data.join("test-a-private.pem");
    // An RSA object next to the KMS one.
    let src = f.dir.path().join("in.bin");
    let rsa_store = format!("file://{}/store/rsa.bin", p(f.dir.path()));
    osscse()
        .args(["put", p(&src), &rsa_store, "--public-key"])
        .arg(data.join("test-a-public.pem"))
        .assert()
        .success();
    // The RSA key is the default, the KMS key is picked for the KMS object by its algorithm
    // (its matdesc names no loaded key).
    for store in [&f.store, &rsa_store] {
        let cat = osscse()
            .args(["cat", store, "--private-key", p(&private)])
            .args([
                "--kms-key-id",
                &f.cmk,
                "--kms-endpoint",
                &f.server.endpoint(),
            ])
            .assert()
            .success();
        assert_eq!(cat.get_output().stdout, f.plain, "{store}");
    }
    // Without the KMS key the KMS object is a master key problem.
    osscse()
        .args(["cat", &f.store, "--private-key", p(&private)])
        .assert()
        .code(5);
}

#[test]
fn disabled_key_gives_exit_code_5_and_writes_nothing() {
    let f = written();
    assert!(f.server.set_key_enabled(&f.cmk, false));
    let out = f.dir.path().join("out.bin");
    let assert = osscse()
        .args(["get", &f.store, p(&out), "--kms-key-id", &f.cmk])
        .args(["--kms-endpoint", &f.server.endpoint()])
        .assert()
        .code(5);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("Rejected.Disabled"), "{stderr}");
    assert!(!out.exists());
    // Writing with a disabled key fails the same way.
    let src = f.dir.path().join("in2.bin");
    std::fs::write(&src, b"more").unwrap();
    osscse()
        .args([
            "put",
            p(&src),
            &format!("file://{}/store/b", p(f.dir.path())),
        ])
        .args([
            "--kms-key-id",
            &f.cmk,
            "--kms-endpoint",
            &f.server.endpoint(),
        ])
        .assert()
        .code(5);
    assert!(!f.dir.path().join("store/b").exists());
    // Enabled again, the object reads.
    assert!(f.server.set_key_enabled(&f.cmk, true));
    osscse()
        .args(["get", &f.store, p(&out), "--kms-key-id", &f.cmk])
        .args(["--kms-endpoint", &f.server.endpoint()])
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), f.plain);
}

#[test]
fn unknown_key_wrong_secret_and_kms_outage_have_their_exit_codes() {
    let f = written();
    let src = f.dir.path().join("in.bin");
    let dst = format!("file://{}/store/other", p(f.dir.path()));
    // A key id KMS does not know: a master key problem.
    osscse()
        .args(["put", p(&src), &dst, "--kms-key-id", "no-such-key"])
        .args(["--kms-endpoint", &f.server.endpoint()])
        .assert()
        .code(5);
    // A wrong AccessKey secret: credentials.
    osscse_with_secret("wrong-secret")
        .args(["cat", &f.store, "--kms-key-id", &f.cmk])
        .args(["--kms-endpoint", &f.server.endpoint()])
        .assert()
        .code(4);
    // KMS answering 503 beyond the retries: service unavailable.
    f.server.set_faults(KmsFaultConfig {
        fail_first: 100,
        fail_status: 503,
        malformed_reply: false,
    });
    osscse()
        .args(["cat", &f.store, "--kms-key-id", &f.cmk])
        .args(["--kms-endpoint", &f.server.endpoint()])
        .assert()
        .code(7);
    f.server.set_faults(KmsFaultConfig::default());
    // KMS not listening at all: network.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    osscse()
        .args(["cat", &f.store, "--kms-key-id", &f.cmk])
        .args(["--kms-endpoint", &format!("http://{closed}")])
        .assert()
        .code(7);
    assert!(!f.dir.path().join("store/other").exists());
}

#[test]
fn kms_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.bin");
    std::fs::write(&src, b"x").unwrap();
    let dst = format!("file://{}/o", p(dir.path()));
    // No writer key (none on the command line, none in a profile): configuration (the
    // profile could have named one). Two of them: a usage error.
    osscse().args(["put", p(&src), &dst]).assert().code(4);
    osscse()
        .args(["put", p(&src), &dst, "--public-key", "k.pem"])
        .args(["--kms-key-id", "k", "--kms-region", "cn-hangzhou"])
        .assert()
        .code(2);
    // --kms-endpoint without a key id.
    osscse()
        .args(["cat", &dst, "--kms-endpoint", "http://127.0.0.1:1"])
        .assert()
        .code(2);
    // A key id without a region or endpoint, or without credentials: configuration.
    osscse()
        .args(["put", p(&src), &dst, "--kms-key-id", "k"])
        .assert()
        .code(4);
    let mut no_credentials = Command::cargo_bin("osscse").unwrap();
    for v in [
        "OSS_ACCESS_KEY_ID",
        "OSS_ACCESS_KEY_SECRET",
        "OSS_SESSION_TOKEN",
    ] {
        no_credentials.env_remove(v);
    }
    no_credentials
        .args(["put", p(&src), &dst, "--kms-key-id", "k"])
        .args(["--kms-region", "cn-hangzhou"])
        .assert()
        .code(4);
    assert!(!dir.path().join("o").exists());
}
