//! `osscse cp` through the real binary: trees up and down, store to store without keys
//! (ciphertext and envelope unchanged), file:// stores, globs, --dry-run, --force, JSON output.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "support/cli.rs"]
mod support;

use std::collections::BTreeMap;

use support::{Oss, data, keygen, p, read_tree, write_tree};

fn small_tree() -> BTreeMap<String, Vec<u8>> {
    let mut t = BTreeMap::new();
    t.insert("a.txt".to_owned(), data(10, 1));
    t.insert("empty.bin".to_owned(), Vec::new());
    t.insert("sub dir/ü ñ.txt".to_owned(), data(70_000, 2));
    t.insert("sub dir/deeper/big.bin".to_owned(), data(600_000, 3));
    t.insert("skip-me.txt".to_owned(), data(5, 4));
    t
}

#[test]
fn cp_trees_up_down_and_between_stores() {
    let oss = Oss::start();
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&dir.path().join("keys"));
    let tree = dir.path().join("tree");
    let files = small_tree();
    write_tree(&tree, &files);

    // Up: every file encrypted under the prefix.
    oss.cmd()
        .args([
            "cp",
            "-r",
            p(&tree),
            "oss://bkt/t/",
            "--public-key",
            p(&public),
            "--jobs",
            "3",
        ])
        .assert()
        .success();
    for (rel, plain) in &files {
        let o = oss.server.object("bkt", &format!("t/{rel}")).unwrap();
        assert!(
            o.meta("x-oss-meta-client-side-encryption-key").is_some(),
            "{rel}"
        );
        assert_eq!(o.data.len(), plain.len());
        if !plain.is_empty() {
            assert_ne!(&o.data, plain, "{rel} is stored encrypted");
        }
    }

    // Down into an empty directory: equal trees.
    let out = dir.path().join("out");
    oss.cmd()
        .args([
            "cp",
            "-r",
            "oss://bkt/t/",
            p(&out),
            "--private-key",
            p(&private),
        ])
        .assert()
        .success();
    assert_eq!(read_tree(&out), files);

    // Again without -f: refused per file (exit 1), nothing changed; with -f the file is
    // replaced and keeps its permission bits.
    let target = out.join("a.txt");
    std::fs::write(&target, b"local edit").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let err = oss
        .cmd()
        .args([
            "cp",
            "oss://bkt/t/a.txt",
            p(&target),
            "--private-key",
            p(&private),
        ])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("exists") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"local edit");
    oss.cmd()
        .args([
            "cp",
            "-f",
            "oss://bkt/t/a.txt",
            p(&target),
            "--private-key",
            p(&private),
        ])
        .assert()
        .success();
    assert_eq!(std::fs::read(&target).unwrap(), files["a.txt"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640, "kept the existing file's mode");
    }

    // Store to store without any key: same ciphertext, same envelope.
    oss.cmd()
        .args(["cp", "-r", "oss://bkt/t/", "oss://other/copy/"])
        .assert()
        .success();
    let store = dir.path().join("store");
    oss.cmd()
        .args(["cp", "-r", "oss://bkt/t/", &format!("file://{}", p(&store))])
        .assert()
        .success();
    for rel in files.keys() {
        let a = oss.server.object("bkt", &format!("t/{rel}")).unwrap();
        let b = oss.server.object("other", &format!("copy/{rel}")).unwrap();
        assert_eq!(a.data, b.data, "{rel}");
        let cse = |o: &osscse_tests::StoredObject| {
            o.meta
                .iter()
                .filter(|(n, _)| n.starts_with("x-oss-meta-"))
                .cloned()
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(cse(&a), cse(&b), "{rel}");
        assert_eq!(std::fs::read(store.join(rel)).unwrap(), a.data, "{rel}");
    }
    // ... and the file:// copy decrypts with the key, and goes back up unchanged.
    let out2 = dir.path().join("out2");
    oss.cmd()
        .args([
            "cp",
            "-r",
            &format!("file://{}", p(&store)),
            p(&out2),
            "--private-key",
            p(&private),
        ])
        .assert()
        .success();
    assert_eq!(read_tree(&out2), files);
    oss.cmd()
        .args([
            "cp",
            &format!("file://{}/sub dir/ü ñ.txt", p(&store)),
            "oss://back/x.txt",
        ])
        .assert()
        .success();
    assert_eq!(
        oss.server.object("back", "x.txt").unwrap().data,
        oss.server.object("bkt", "t/sub dir/ü ñ.txt").unwrap().data
    );

    // Both sides local: a usage error.
    oss.cmd().args(["cp", p(&tree), p(&out)]).assert().code(2);
}

#[test]
fn cp_globs_dry_run_and_json_records() {
    let oss = Oss::start();
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(&dir.path().join("keys"));
    let tree = dir.path().join("tree");
    write_tree(&tree, &small_tree());

    // --dry-run: nothing written, every object named.
    let out = oss
        .cmd()
        .args([
            "cp",
            "-r",
            p(&tree),
            "oss://bkt/d/",
            "--public-key",
            p(&public),
            "--dry-run",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("would-copy: "))
            .count(),
        5,
        "{out}"
    );
    assert!(oss.uploads().is_empty());

    // Globs: *.txt but not skip-*; JSON records, one per object.
    let out = oss
        .cmd()
        .args([
            "cp",
            "-r",
            p(&tree),
            "oss://bkt/g/",
            "--public-key",
            p(&public),
        ])
        .args([
            "--include",
            "*.txt",
            "--exclude",
            "skip-*",
            "--output",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let records: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut dsts: Vec<&str> = records.iter().map(|r| r["dst"].as_str().unwrap()).collect();
    dsts.sort_unstable();
    assert_eq!(dsts, ["oss://bkt/g/a.txt", "oss://bkt/g/sub dir/ü ñ.txt"]);
    assert!(records.iter().all(|r| r["status"] == "done"));
    let mut up = oss.uploads();
    up.sort();
    assert_eq!(up, ["g/a.txt", "g/sub dir/ü ñ.txt"]);

    // A single file to a "directory" destination takes its name; an existing object is
    // refused without -f (exit 1).
    oss.cmd()
        .args([
            "cp",
            p(&tree.join("a.txt")),
            "oss://bkt/one/",
            "--public-key",
            p(&public),
        ])
        .assert()
        .success();
    assert!(oss.server.object("bkt", "one/a.txt").is_some());
    oss.cmd()
        .args([
            "cp",
            p(&tree.join("a.txt")),
            "oss://bkt/one/a.txt",
            "--public-key",
            p(&public),
        ])
        .assert()
        .code(1);
}

#[test]
fn put_stdin_streams_through_a_multipart_upload() {
    let oss = Oss::start();
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&dir.path().join("keys"));
    let plain = data(2_500_000, 11);
    oss.cmd()
        .args([
            "put",
            "-",
            "oss://bkt/stdin.bin",
            "--public-key",
            p(&public),
        ])
        .args(["--part-size", "409600"])
        .write_stdin(plain.clone())
        .assert()
        .success();
    let log = oss.server.request_log();
    assert!(
        log.iter()
            .any(|r| r.method == "POST" && r.has_query("uploads"))
    );
    let parts = log.iter().filter(|r| r.has_query("partNumber")).count();
    assert_eq!(parts, 7, "2.5 MB in 400 KiB parts");
    let stored = oss.server.object("bkt", "stdin.bin").unwrap();
    assert_eq!(
        stored.meta("x-oss-meta-client-side-encryption-data-size"),
        None
    );
    let out = dir.path().join("out.bin");
    oss.cmd()
        .args([
            "get",
            "oss://bkt/stdin.bin",
            p(&out),
            "--private-key",
            p(&private),
        ])
        .assert()
        .success();
    assert!(std::fs::read(&out).unwrap() == plain);
    // Empty stdin: an empty object.
    oss.cmd()
        .args(["put", "-", "oss://bkt/empty", "--public-key", p(&public)])
        .write_stdin(Vec::new())
        .assert()
        .success();
    assert!(oss.server.object("bkt", "empty").unwrap().data.is_empty());
}

/// Uploads carry the `Content-MD5` of each body (what OSS checks, so a body altered in transit
/// is refused); `--insecure-unsigned-payload` drops it, for `put` and for `cp` alike.
#[test]
fn uploads_carry_a_content_md5_unless_the_insecure_opt_out_is_given() {
    let oss = Oss::start();
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(&dir.path().join("keys"));
    let src = dir.path().join("f.bin");
    std::fs::write(&src, data(300_000, 5)).unwrap();
    let md5_of_puts = || -> Vec<bool> {
        let puts: Vec<bool> = oss
            .server
            .request_log()
            .into_iter()
            .filter(|r| r.method == "PUT" && r.key.is_some())
            .map(|r| r.headers.iter().any(|(n, _)| n == "content-md5"))
            .collect();
        oss.server.clear_request_log();
        puts
    };
    for (opt_out, cmd) in [(false, "put"), (true, "put"), (false, "cp"), (true, "cp")] {
        let dst = format!("oss://bkt/{cmd}-{opt_out}.bin");
        let mut c = oss.cmd();
        c.args([cmd, p(&src), &dst, "--public-key", p(&public)]);
        if opt_out {
            c.arg("--insecure-unsigned-payload");
        }
        c.assert().success();
        let puts = md5_of_puts();
        assert!(!puts.is_empty(), "{cmd}: no PUT logged");
        assert!(
            puts.iter().all(|&md5| md5 != opt_out),
            "{cmd} opt_out={opt_out}: {puts:?}"
        );
    }
}
