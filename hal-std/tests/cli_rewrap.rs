//! `osscse rewrap -r` through the real binary: 20 objects get their data keys wrapped under a
//! new master key; the ciphertext (and so its CRC-64) is unchanged, the official Python v2 SDK
//! reads every object with the new key, and the old key now fails with the wrong-key code (5).
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "support/cli.rs"]
mod support;

use std::collections::BTreeMap;

use support::{Oss, data, keygen, p, write_tree};

const MATDESC: &str = r#"{"k":"v"}"#;
const KEY_HEADER: &str = "x-oss-meta-client-side-encryption-key";

#[test]
fn rewrap_twenty_objects_without_touching_the_ciphertext() {
    let oss = Oss::start();
    let dir = tempfile::tempdir().unwrap();
    let (old_private, old_public) = keygen(&dir.path().join("old"));
    let (new_private, new_public) = keygen(&dir.path().join("new"));
    let tree = dir.path().join("tree");
    let mut files = BTreeMap::new();
    for i in 0..20usize {
        let size = match i {
            0 => 0,
            1 => 700_000, // multipart (the envelope's part size must survive)
            _ => i * 997,
        };
        files.insert(
            format!("set {}/obj-{i:02}.bin", i % 3),
            data(size, i as u64),
        );
    }
    write_tree(&tree, &files);
    oss.cmd()
        .args([
            "cp",
            "-r",
            p(&tree),
            "oss://bkt/r/",
            "--public-key",
            p(&old_public),
        ])
        .assert()
        .success();
    oss.cmd()
        .args([
            "put",
            p(&tree.join("set 1/obj-01.bin")),
            "oss://bkt/r/set 1/obj-01.bin",
        ])
        .args(["--public-key", p(&old_public), "--part-size", "204800"])
        .assert()
        .success();
    let keys: Vec<String> = files.keys().map(|r| format!("r/{r}")).collect();
    let before: Vec<_> = keys
        .iter()
        .map(|k| oss.server.object("bkt", k).unwrap())
        .collect();

    // Without the old private key nothing can be rewrapped (exit 5 per object, nothing changed).
    let (stranger, _) = keygen(&dir.path().join("stranger"));
    oss.cmd()
        .args([
            "rewrap",
            "-r",
            "oss://bkt/r/",
            "--private-key",
            p(&stranger),
        ])
        .args(["--public-key", p(&new_public)])
        .assert()
        .code(5);
    oss.server.clear_request_log();

    oss.cmd()
        .args([
            "rewrap",
            "-r",
            "oss://bkt/r/",
            "--private-key",
            p(&old_private),
        ])
        .args([
            "--public-key",
            p(&new_public),
            "--matdesc",
            MATDESC,
            "--jobs",
            "4",
        ])
        .assert()
        .success();
    // The multipart object went back in its own parts (700 000 bytes in 204 800-byte parts).
    let parts = oss
        .server
        .request_log()
        .iter()
        .filter(|r| r.key.as_deref() == Some("r/set 1/obj-01.bin") && r.has_query("partNumber"))
        .count();
    assert_eq!(parts, 4);
    for (k, old) in keys.iter().zip(&before) {
        let now = oss.server.object("bkt", k).unwrap();
        assert_eq!(now.data, old.data, "{k}: ciphertext unchanged");
        assert_ne!(
            now.meta(KEY_HEADER),
            old.meta(KEY_HEADER),
            "{k}: data key rewrapped"
        );
        assert_eq!(
            now.meta("x-oss-meta-client-side-encryption-matdesc"),
            Some(MATDESC)
        );
        for h in ["part-size", "data-size", "cek-alg"] {
            let name = format!("x-oss-meta-client-side-encryption-{h}");
            assert_eq!(now.meta(&name), old.meta(&name), "{k}: {name}");
        }
    }
    let head = oss
        .cmd()
        .args(["head", "oss://bkt/r/set 1/obj-01.bin"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let head: serde_json::Value = serde_json::from_slice(&head).unwrap();
    assert_eq!(head["envelope"]["part_size"], 204_800);

    // The old key fails with the wrong-key code; the new one reads.
    let out = dir.path().join("out.bin");
    oss.cmd()
        .args([
            "get",
            "oss://bkt/r/set 2/obj-05.bin",
            p(&out),
            "--private-key",
            p(&old_private),
        ])
        .assert()
        .code(5);
    oss.cmd()
        .args([
            "get",
            "oss://bkt/r/set 2/obj-05.bin",
            p(&out),
            "--private-key",
            p(&new_private),
        ])
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), files["set 2/obj-05.bin"]);

    // A file:// store rewraps the same way (back to the old key here).
    let store = dir.path().join("store");
    let store_url = format!("file://{}", p(&store));
    oss.cmd()
        .args(["cp", "-r", "oss://bkt/r/", &store_url])
        .assert()
        .success();
    let data_before = support::read_tree(&store);
    oss.cmd()
        .args(["rewrap", "-r", &store_url, "--private-key", p(&new_private)])
        .args(["--public-key", p(&old_public)])
        .assert()
        .success();
    let data_after = support::read_tree(&store);
    for (rel, bytes) in &data_before {
        if !rel.ends_with(".osscse-meta.json") {
            assert_eq!(&data_after[rel], bytes, "{rel}: ciphertext unchanged");
        }
    }
    let back = dir.path().join("back");
    oss.cmd()
        .args([
            "cp",
            "-r",
            &store_url,
            p(&back),
            "--private-key",
            p(&old_private),
        ])
        .assert()
        .success();
    assert_eq!(support::read_tree(&back), files);

    // The official Python v2 SDK reads every object with the new key.
    let Some(python) = osscse_tests::python::interpreter() else {
        return;
    };
    let outdir = dir.path().join("py");
    std::fs::create_dir_all(&outdir).unwrap();
    let mut args = vec![p(&new_private), p(&new_public), MATDESC, p(&outdir)];
    args.extend(keys.iter().map(String::as_str));
    let endpoint = oss.server.endpoint();
    let env = [
        ("OSS_ENDPOINT", endpoint.as_str()),
        ("OSS_AK", "ak"),
        ("OSS_SK", "sk"),
        ("OSS_BUCKET", "bkt"),
    ];
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/read_many.py");
    let run = std::process::Command::new(&python)
        .arg(script)
        .args(&args)
        .envs(env)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for (i, plain) in files.values().enumerate() {
        assert_eq!(
            &std::fs::read(outdir.join(i.to_string())).unwrap(),
            plain,
            "object {i}"
        );
    }
    // ... and the old key fails in Python too.
    let mut args = vec![p(&old_private), p(&old_public), MATDESC, p(&outdir)];
    args.push(&keys[3]);
    let run = std::process::Command::new(&python)
        .arg(script)
        .args(&args)
        .envs(env)
        .output()
        .unwrap();
    assert!(!run.status.success());
}
