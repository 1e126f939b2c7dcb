//! The real `osscse` binary: keygen, the offline file:// round trip, and OSS commands against
//! the loopback server.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::Path;

use assert_cmd::Command;
use osscse_tests::{Config, Server};

fn osscse() -> Command {
    let mut c = Command::cargo_bin("osscse").unwrap();
    for v in [
        "OSS_ENDPOINT",
        "OSS_REGION",
        "OSS_ACCESS_KEY_ID",
        "OSS_ACCESS_KEY_SECRET",
        "OSS_SESSION_TOKEN",
    ] {
        c.env_remove(v);
    }
    // No ~/.ossutilconfig of the machine's user may supply settings.
    c.env("HOME", "/nonexistent-osscse-home");
    c
}

fn data(n: usize) -> Vec<u8> {
    let mut x = 0x0123_4567_89ab_cdefu64 ^ n as u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn keygen(dir: &Path) {
    osscse()
        .args(["keygen", "--bits", "2048", "--out"])
        .arg(dir)
        .assert()
        .success();
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn keygen_writes_a_private_pkcs8_and_a_public_spki_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    osscse()
        .args(["keygen", "--out", p(&keys)])
        .assert()
        .success();
    let private = std::fs::read_to_string(keys.join("private.pem")).unwrap();
    let public = std::fs::read_to_string(keys.join("public.pem")).unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    let key = osscse_std::keys::load_rsa_key(&keys.join("private.pem")).unwrap();
    assert_eq!(key.bits(), 3072, "3072 bits by default");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.join("private.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwrites keys silently.
    osscse()
        .args(["keygen", "--out", p(&keys)])
        .assert()
        .code(4);
    assert_eq!(
        std::fs::read_to_string(keys.join("private.pem")).unwrap(),
        private
    );
    osscse()
        .args([
            "keygen",
            "--bits",
            "1024",
            "--out",
            p(&dir.path().join("small")),
        ])
        .assert()
        .code(4);
}

#[test]
fn offline_round_trip_through_the_local_store() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    keygen(&keys);
    let src = dir.path().join("in.bin");
    let plain = data(300_000);
    std::fs::write(&src, &plain).unwrap();
    let store = format!("file://{}/store/report.bin", p(dir.path()));
    osscse()
        .args([
            "put",
            p(&src),
            &store,
            "--public-key",
            p(&keys.join("public.pem")),
        ])
        .assert()
        .success();
    let stored = std::fs::read(dir.path().join("store/report.bin")).unwrap();
    assert_eq!(stored.len(), plain.len());
    assert_ne!(stored, plain);
    assert!(
        dir.path()
            .join("store/report.bin.osscse-meta.json")
            .exists()
    );

    let out = dir.path().join("out.bin");
    osscse()
        .args([
            "get",
            &store,
            p(&out),
            "--private-key",
            p(&keys.join("private.pem")),
        ])
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), plain);

    let got = osscse()
        .args([
            "cat",
            &store,
            "--range",
            "1000-1999",
            "--private-key",
            p(&keys.join("private.pem")),
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(got, &plain[1000..2000]);
    let got = osscse()
        .args([
            "cat",
            &store,
            "--range",
            "-17",
            "--private-key",
            p(&keys.join("private.pem")),
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(got, &plain[plain.len() - 17..]);

    let head = osscse()
        .args(["head", &store])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&head).unwrap();
    assert_eq!(json["size"], 300_000);
    assert_eq!(json["encrypted"], true);
    assert_eq!(json["envelope"]["wrap_alg"], "RSA/NONE/PKCS1Padding");

    let ls = osscse()
        .args(["ls", &format!("file://{}/store", p(dir.path()))])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(ls).unwrap().contains("report.bin"));

    // Wrong key: exit 5, no output file.
    let other = dir.path().join("other");
    keygen(&other);
    let out2 = dir.path().join("out2.bin");
    osscse()
        .args([
            "get",
            &store,
            p(&out2),
            "--private-key",
            p(&other.join("private.pem")),
        ])
        .assert()
        .code(5);
    assert!(!out2.exists());
    // Tampered ciphertext: exit 6, no output file.
    let mut t = stored.clone();
    t[5] ^= 0x80;
    std::fs::write(dir.path().join("store/report.bin"), &t).unwrap();
    osscse()
        .args([
            "get",
            &store,
            p(&out2),
            "--private-key",
            p(&keys.join("private.pem")),
        ])
        .assert()
        .code(6);
    assert!(!out2.exists());
    // rm, then a missing object: exit 3.
    osscse().args(["rm", &store]).assert().success();
    osscse()
        .args([
            "get",
            &store,
            p(&out2),
            "--private-key",
            p(&keys.join("private.pem")),
        ])
        .assert()
        .code(3);
}

#[test]
fn matdesc_and_several_private_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    keygen(&a);
    keygen(&b);
    let src = dir.path().join("in");
    std::fs::write(&src, b"for team b only").unwrap();
    let obj = format!("file://{}/s/o", p(dir.path()));
    osscse()
        .args([
            "put",
            p(&src),
            &obj,
            "--public-key",
            p(&b.join("public.pem")),
            "--matdesc",
            r#"{"team": "b"}"#,
        ])
        .assert()
        .success();
    let head = osscse()
        .args(["head", &obj])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&head).unwrap();
    assert_eq!(
        json["envelope"]["matdesc"], r#"{"team": "b"}"#,
        "written exactly as given (the SDK v2 readers match the text)"
    );
    let bkey = format!("{}={}", p(&b.join("private.pem")), r#"{"team": "b"}"#);
    let out = osscse()
        .args([
            "cat",
            &obj,
            "--private-key",
            p(&a.join("private.pem")),
            "--private-key",
            &bkey,
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(out, b"for team b only");
    let err = osscse()
        .args(["cat", &obj, "--private-key", p(&a.join("private.pem"))])
        .assert()
        .code(5)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(err).unwrap().contains(r#"{"team": "b"}"#),
        "names the unmatched matdesc"
    );
}

#[test]
fn oss_commands_against_the_loopback_server() {
    let server = Server::start(Config::new("ak", "sk")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    keygen(&keys);
    let env = |c: &mut Command| {
        c.env("OSS_ENDPOINT", server.endpoint())
            .env("OSS_REGION", "cn-hangzhou")
            .env("OSS_ACCESS_KEY_ID", "ak")
            .env("OSS_ACCESS_KEY_SECRET", "sk");
    };
    let src = dir.path().join("in.bin");
    let plain = data(1_500_000);
    std::fs::write(&src, &plain).unwrap();
    for (i, version) in ["v4", "v1"].into_iter().enumerate() {
        let obj = format!("oss://bkt/dir/obj-{i}");
        let mut c = osscse();
        env(&mut c);
        c.args([
            "--sign-version",
            version,
            "--quiet",
            "put",
            p(&src),
            &obj,
            "--public-key",
        ])
        .arg(keys.join("public.pem"))
        .args(["--part-size", "409600", "--jobs", "3"])
        .assert()
        .success()
        .stderr("");
        let stored = server.object("bkt", &format!("dir/obj-{i}")).unwrap();
        assert_eq!(
            stored.meta("x-oss-meta-client-side-encryption-part-size"),
            Some("409600")
        );
        assert_ne!(stored.data, plain);

        let out = dir.path().join(format!("out-{i}"));
        let mut c = osscse();
        env(&mut c);
        c.args([
            "--sign-version",
            version,
            "get",
            &obj,
            p(&out),
            "--private-key",
        ])
        .arg(keys.join("private.pem"))
        .assert()
        .success();
        assert!(std::fs::read(&out).unwrap() == plain);

        let mut c = osscse();
        env(&mut c);
        let got = c
            .args(["cat", &obj, "--range", "-100", "--private-key"])
            .arg(keys.join("private.pem"))
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        assert_eq!(got, &plain[plain.len() - 100..]);
    }
    let mut c = osscse();
    env(&mut c);
    let head = c
        .args(["head", "oss://bkt/dir/obj-0"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&head).unwrap();
    assert_eq!(json["size"], 1_500_000);
    assert_eq!(json["envelope"]["part_size"], 409_600);

    let mut c = osscse();
    env(&mut c);
    let ls = c
        .args(["ls", "oss://bkt/dir/"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let ls = String::from_utf8(ls).unwrap();
    assert!(
        ls.contains("oss://bkt/dir/obj-0") && ls.contains("oss://bkt/dir/obj-1"),
        "{ls}"
    );

    let mut c = osscse();
    env(&mut c);
    let url = c
        .args(["presign", "oss://bkt/dir/obj-0", "--expires", "600"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let url = String::from_utf8(url).unwrap();
    assert!(
        url.starts_with(&format!("{}/bkt/dir/obj-0?", server.endpoint()))
            && url.contains("x-oss-signature=")
    );

    let mut c = osscse();
    env(&mut c);
    c.args(["rm", "oss://bkt/dir/obj-1"]).assert().success();
    assert!(server.object("bkt", "dir/obj-1").is_none());
    let mut c = osscse();
    env(&mut c);
    c.args(["cat", "oss://bkt/dir/obj-1", "--private-key"])
        .arg(keys.join("private.pem"))
        .assert()
        .code(3);

    // Bad credentials: exit 4 with the OSS code in the message.
    let mut c = osscse();
    env(&mut c);
    let err = c
        .env("OSS_ACCESS_KEY_SECRET", "wrong")
        .args(["head", "oss://bkt/dir/obj-0"])
        .assert()
        .code(4)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("403") && err.contains("OSS_ACCESS_KEY_SECRET"),
        "{err}"
    );
    // No endpoint: exit 4 and a hint.
    let err = osscse()
        .args(["head", "oss://bkt/k"])
        .assert()
        .code(4)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("OSS_ENDPOINT"));
    // Usage errors: exit 2.
    osscse().args(["put", "only-one-arg"]).assert().code(2);
}
