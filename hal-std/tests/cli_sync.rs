//! `osscse sync` through the real binary against the loopback server: a 200-file tree goes up
//! with `cp -r`, three files change and one is added, and `sync` uploads exactly those four
//! (counted in the server's request log); `--dry-run` changes nothing; `--delete` only with the
//! flag; `cp -r` back down gives an equal tree.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "support/cli.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use support::{Oss, data, keygen, p, read_tree, write_tree};

/// 200 files, 0 B to 5 MiB (most tiny), nested, names with spaces and unicode.
fn tree_of_200() -> BTreeMap<String, Vec<u8>> {
    let dirs = [
        "",
        "docs/",
        "docs/2026 reports/",
        "фото/",
        "фото/été/",
        "a/b/c/d/",
    ];
    let mut t = BTreeMap::new();
    for i in 0..196usize {
        let dir = dirs[i % dirs.len()];
        let name = match i % 4 {
            0 => format!("{dir}file {i}.txt"),
            1 => format!("{dir}données-{i}.bin"),
            2 => format!("{dir}{i}"),
            _ => format!("{dir}名前 {i}.dat"),
        };
        t.insert(name, data((i * 37) % 3000, i as u64));
    }
    t.insert("empty".to_owned(), Vec::new());
    t.insert("docs/one MiB.bin".to_owned(), data(1 << 20, 1000));
    t.insert("фото/big five.bin".to_owned(), data(5 << 20, 1001));
    t.insert("a/b/c/d/last.bin".to_owned(), data(300_000, 1002));
    assert_eq!(t.len(), 200);
    t
}

fn set_mtime(path: &Path, t: SystemTime) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(t).unwrap();
}

#[test]
fn sync_uploads_exactly_what_changed() {
    let oss = Oss::start();
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&dir.path().join("keys"));
    let tree = dir.path().join("tree");
    let mut files = tree_of_200();
    write_tree(&tree, &files);
    // Files older than any upload (a tree that has existed for a while).
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    for rel in files.keys() {
        set_mtime(&tree.join(rel), old);
    }
    let up = |c: &mut assert_cmd::Command| {
        c.args(["--public-key", p(&public), "--jobs", "8"]);
    };
    let mut c = oss.cmd();
    c.args(["cp", "-r", p(&tree), "oss://bkt/backup/"]);
    up(&mut c);
    c.assert().success();
    assert_eq!(oss.uploads().len(), 200);

    // Nothing changed: nothing uploaded.
    oss.server.clear_request_log();
    let mut c = oss.cmd();
    c.args(["sync", p(&tree), "oss://bkt/backup/"]);
    up(&mut c);
    c.assert().success();
    assert!(oss.uploads().is_empty(), "{:?}", oss.uploads());

    // Change three files (each to another size) and add one. Their mtimes stay in the past:
    // the loopback server's Last-Modified is the real clock in whole seconds, so only the
    // size tells deterministically here (the mtime half of the rule has a unit test).
    let changes: [(&str, Vec<u8>); 4] = [
        (
            "docs/données-1.bin",
            data(files["docs/données-1.bin"].len() + 1, 77),
        ),
        ("фото/big five.bin", data((5 << 20) - 16, 78)),
        ("a/b/c/d/last.bin", Vec::new()),
        ("new dir/nouveau ü.txt", data(4321, 79)),
    ];
    for (rel, bytes) in &changes {
        let path = tree.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        set_mtime(&path, old + Duration::from_secs(60));
        files.insert((*rel).to_owned(), bytes.clone());
    }
    let mut expected: Vec<String> = changes.iter().map(|(r, _)| format!("backup/{r}")).collect();
    expected.sort();

    // --dry-run names the four and changes nothing.
    oss.server.clear_request_log();
    let before = oss
        .server
        .object("bkt", "backup/docs/données-1.bin")
        .unwrap();
    let mut c = oss.cmd();
    c.args(["sync", p(&tree), "oss://bkt/backup/", "--dry-run"]);
    up(&mut c);
    let out = c.assert().success().get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("would-copy: "))
            .count(),
        4,
        "{out}"
    );
    assert!(oss.uploads().is_empty());
    assert_eq!(
        oss.server
            .object("bkt", "backup/docs/données-1.bin")
            .unwrap(),
        before
    );
    assert!(
        oss.server
            .object("bkt", "backup/new dir/nouveau ü.txt")
            .is_none()
    );

    // sync uploads exactly the four.
    oss.server.clear_request_log();
    let mut c = oss.cmd();
    c.args(["sync", p(&tree), "oss://bkt/backup/"]);
    up(&mut c);
    c.assert().success();
    let mut uploaded = oss.uploads();
    uploaded.sort();
    assert_eq!(uploaded, expected);

    // And a second sync nothing.
    oss.server.clear_request_log();
    let mut c = oss.cmd();
    c.args(["sync", p(&tree), "oss://bkt/backup/"]);
    up(&mut c);
    c.assert().success();
    assert!(oss.uploads().is_empty());

    // A change that keeps the size and an old mtime escapes the size/time rule; --checksum
    // (HEADs and local encryption) finds exactly that file.
    let sneaky = "фото/été/file 4.txt";
    let mut bytes = files[sneaky].clone();
    bytes[0] ^= 0xFF;
    std::fs::write(tree.join(sneaky), &bytes).unwrap();
    set_mtime(&tree.join(sneaky), old);
    files.insert(sneaky.to_owned(), bytes);
    oss.server.clear_request_log();
    let mut c = oss.cmd();
    c.args(["sync", p(&tree), "oss://bkt/backup/"]);
    up(&mut c);
    c.assert().success();
    assert!(oss.uploads().is_empty());
    let mut c = oss.cmd();
    c.args(["sync", p(&tree), "oss://bkt/backup/", "--checksum"])
        .args(["--private-key", p(&private)]);
    up(&mut c);
    c.assert().success();
    assert_eq!(oss.uploads(), [format!("backup/{sneaky}")]);
    assert!(
        oss.server
            .request_log()
            .iter()
            .all(|r| r.method != "GET" || r.key.is_none()),
        "--checksum downloads nothing"
    );

    // Down into an empty directory: the trees are equal.
    let out = dir.path().join("restored");
    oss.cmd()
        .args([
            "cp",
            "-r",
            "oss://bkt/backup/",
            p(&out),
            "--private-key",
            p(&private),
        ])
        .assert()
        .success();
    assert_eq!(read_tree(&out), files);
    // sync down finds nothing to do (the downloads are newer than the objects).
    oss.server.clear_request_log();
    oss.cmd()
        .args([
            "sync",
            "oss://bkt/backup/",
            p(&out),
            "--private-key",
            p(&private),
        ])
        .assert()
        .success();
    assert!(
        oss.server
            .request_log()
            .iter()
            .all(|r| r.method != "GET" || r.key.is_none()),
        "only listings"
    );

    // --delete only with the flag (and not in a dry run).
    std::fs::remove_file(tree.join("empty")).unwrap();
    for extra in [&[][..], &["--delete", "--dry-run"][..]] {
        let mut c = oss.cmd();
        c.args(["sync", p(&tree), "oss://bkt/backup/"]).args(extra);
        up(&mut c);
        c.assert().success();
        assert!(
            oss.server.object("bkt", "backup/empty").is_some(),
            "{extra:?}"
        );
    }
    let mut c = oss.cmd();
    c.args(["sync", p(&tree), "oss://bkt/backup/", "--delete"]);
    up(&mut c);
    c.assert().success();
    assert!(oss.server.object("bkt", "backup/empty").is_none());
    assert!(
        oss.server
            .object("bkt", "backup/docs/one MiB.bin")
            .is_some()
    );
}
