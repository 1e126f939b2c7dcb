//! `osscse verify` through the real binary: equal files exit 0, one flipped byte exits 6, and
//! the object bodies are never downloaded (no GET of a key in the server's request log).
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "support/cli.rs"]
mod support;

use std::collections::BTreeMap;

use support::{Oss, data, keygen, p, write_tree};

#[test]
fn verify_compares_without_downloading() {
    let oss = Oss::start();
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&dir.path().join("keys"));
    let file = dir.path().join("report.bin");
    std::fs::write(&file, data(1_234_567, 5)).unwrap();
    oss.cmd()
        .args([
            "put",
            p(&file),
            "oss://bkt/r.bin",
            "--public-key",
            p(&public),
        ])
        .args(["--part-size", "409600"])
        .assert()
        .success();
    oss.server.clear_request_log();

    // Equal: exit 0, said on stdout.
    let out = oss
        .cmd()
        .args([
            "verify",
            p(&file),
            "oss://bkt/r.bin",
            "--private-key",
            p(&private),
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out).unwrap().starts_with("equal: "));

    // One flipped byte (same size): exit 6, named.
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[777_777] ^= 0x01;
    let flipped = dir.path().join("flipped.bin");
    std::fs::write(&flipped, &bytes).unwrap();
    let err = oss
        .cmd()
        .args([
            "verify",
            p(&flipped),
            "oss://bkt/r.bin",
            "--private-key",
            p(&private),
        ])
        .assert()
        .code(6)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("CRC-64") && err.contains("flipped.bin"),
        "{err}"
    );
    // A different length: 6 as well.
    std::fs::write(&flipped, &bytes[..1000]).unwrap();
    oss.cmd()
        .args([
            "verify",
            p(&flipped),
            "oss://bkt/r.bin",
            "--private-key",
            p(&private),
        ])
        .assert()
        .code(6);

    // Only HEADs reached the server: no object body was fetched.
    let log = oss.server.request_log();
    assert!(!log.is_empty());
    assert!(log.iter().all(|r| r.method == "HEAD"), "{log:?}");

    // The wrong key is a master-key error (5), not a difference.
    let (other, _) = keygen(&dir.path().join("other"));
    oss.cmd()
        .args([
            "verify",
            p(&file),
            "oss://bkt/r.bin",
            "--private-key",
            p(&other),
        ])
        .assert()
        .code(5);
}

#[test]
fn verify_recursive_reports_each_object() {
    let oss = Oss::start();
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&dir.path().join("keys"));
    let tree = dir.path().join("tree");
    let mut files = BTreeMap::new();
    for i in 0..6u64 {
        files.insert(format!("d {i}/f-{i}.bin"), data(1000 * i as usize, i));
    }
    write_tree(&tree, &files);
    oss.cmd()
        .args([
            "cp",
            "-r",
            p(&tree),
            "oss://bkt/t/",
            "--public-key",
            p(&public),
        ])
        .assert()
        .success();
    oss.server.clear_request_log();
    oss.cmd()
        .args([
            "verify",
            "-r",
            p(&tree),
            "oss://bkt/t/",
            "--private-key",
            p(&private),
        ])
        .assert()
        .success();
    // One file changes, same size: that one differs (6), the others are equal.
    let changed = tree.join("d 3/f-3.bin");
    let mut bytes = std::fs::read(&changed).unwrap();
    bytes[10] ^= 0x80;
    std::fs::write(&changed, bytes).unwrap();
    let out = oss
        .cmd()
        .args([
            "verify",
            "-r",
            p(&tree),
            "oss://bkt/t/",
            "--private-key",
            p(&private),
        ])
        .args(["--output", "json"])
        .assert()
        .code(6)
        .get_output()
        .stdout
        .clone();
    let records: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 6);
    for r in &records {
        let bad = r["src"].as_str().unwrap().ends_with("f-3.bin");
        assert_eq!(r["status"], if bad { "failed" } else { "equal" }, "{r}");
        if bad {
            assert_eq!(r["exit_code"], 6);
        }
    }
    assert!(oss.server.request_log().iter().all(|r| r.method == "HEAD"));
}
