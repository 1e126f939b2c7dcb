//! Key handling of the real `osscse` binary (issue #16): several private keys without matdesc
//! (picked by modulus size, then by matdesc, falling back across every fitting key), keygen
//! that never follows a link and never overwrites without --force, and ssh's warning for
//! secret key files that group or others can read.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "support/cli.rs"]
mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use osscse_tests::{Config, Server};
use support::{osscse, p, stderr};

/// An RSA key pair of `bits` bits in `dir` (private.pem 0600, public.pem).
fn rsa_pair(dir: &Path, bits: u32) -> (PathBuf, PathBuf) {
    osscse()
        .args(["--quiet", "keygen", "--bits", &bits.to_string(), "--out"])
        .arg(dir)
        .assert()
        .success();
    (dir.join("private.pem"), dir.join("public.pem"))
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The names in `dir` (to see that no temp file is left behind).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn several_private_keys_without_matdesc_open_2048_and_3072_bit_objects_in_either_order() {
    let dir = tempfile::tempdir().unwrap();
    let (k1, k1_pub) = rsa_pair(&dir.path().join("k1"), 2048);
    let (k2, k2_pub) = rsa_pair(&dir.path().join("k2"), 3072);
    // A second 2048-bit key: it fits k1's objects by size but is the wrong key.
    let (k3, _) = rsa_pair(&dir.path().join("k3"), 2048);
    let src = dir.path().join("in");
    let mut objects = Vec::new();
    for (name, public) in [("by-k1", &k1_pub), ("by-k2", &k2_pub)] {
        let plain = format!("written with {name}").into_bytes();
        std::fs::write(&src, &plain).unwrap();
        let obj = format!("file://{}/store/{name}", p(dir.path()));
        osscse()
            .args(["put", p(&src), &obj, "--public-key", p(public)])
            .assert()
            .success();
        objects.push((obj, plain));
    }
    for (obj, plain) in &objects {
        for keys in [
            [&k1, &k2, &k3],
            [&k2, &k1, &k3],
            [&k3, &k2, &k1],
            [&k3, &k1, &k2],
        ] {
            let mut c = osscse();
            c.args(["cat", obj]);
            for k in keys {
                c.args(["--private-key", p(k)]);
            }
            let out = c.assert().success();
            assert_eq!(&out.get_output().stdout, plain, "{obj} with {keys:?}");
            assert_eq!(stderr(&out), "", "keygen's keys are 0600: no warning");
        }
        // `get` to a file takes the same path through the keyring.
        let out = dir.path().join("out");
        osscse()
            .args(["get", obj, p(&out), "--private-key", p(&k3)])
            .args(["--private-key", p(&k1), "--private-key", p(&k2)])
            .assert()
            .success();
        assert_eq!(&std::fs::read(&out).unwrap(), plain);
    }
    // Only a key of the other size: a master-key error that says which key the object needs,
    // not "wrapped value is 384 bytes but this key's ciphertexts are 256 bytes".
    let err = osscse()
        .args(["cat", &objects[1].0, "--private-key", p(&k1)])
        .args(["--private-key", p(&k3)])
        .assert()
        .code(5);
    let err = stderr(&err);
    assert!(
        err.contains("RSA-3072") && err.contains("RSA-2048") && !err.contains("ciphertexts are"),
        "{err}"
    );
    // Only wrong keys of the right size: every one is tried, then the wrong-key error.
    let err = osscse()
        .args(["cat", &objects[0].0, "--private-key", p(&k3)])
        .args(["--private-key", p(&k2)])
        .assert()
        .code(5);
    assert!(
        stderr(&err).contains("different master key"),
        "{}",
        stderr(&err)
    );
}

#[test]
fn several_private_keys_pick_the_fitting_one_against_the_loopback_server() {
    let server = Server::start(Config::new("ak", "sk")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (k1, _) = rsa_pair(&dir.path().join("k1"), 2048);
    let (k2, k2_pub) = rsa_pair(&dir.path().join("k2"), 3072);
    let env = |c: &mut Command| {
        c.env("OSS_ENDPOINT", server.endpoint())
            .env("OSS_REGION", "cn-hangzhou")
            .env("OSS_ACCESS_KEY_ID", "ak")
            .env("OSS_ACCESS_KEY_SECRET", "sk");
    };
    let src = dir.path().join("in");
    let plain: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&src, &plain).unwrap();
    let mut c = osscse();
    env(&mut c);
    c.args([
        "put",
        p(&src),
        "oss://bkt/k2-object",
        "--public-key",
        p(&k2_pub),
    ])
    .args(["--part-size", "102400"])
    .assert()
    .success();
    for keys in [[&k1, &k2], [&k2, &k1]] {
        let out = dir.path().join("out");
        let mut c = osscse();
        env(&mut c);
        c.args(["get", "oss://bkt/k2-object", p(&out)]);
        for k in keys {
            c.args(["--private-key", p(k)]);
        }
        c.assert().success();
        assert!(std::fs::read(&out).unwrap() == plain, "{keys:?}");
        let mut c = osscse();
        env(&mut c);
        c.args(["cat", "oss://bkt/k2-object", "--range", "1000-1999"]);
        for k in keys {
            c.args(["--private-key", p(k)]);
        }
        let out = c.assert().success();
        assert_eq!(out.get_output().stdout, &plain[1000..2000]);
    }
}

#[cfg(unix)]
#[test]
fn keygen_never_writes_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"must stay as it is").unwrap();
    chmod(&victim, 0o644);
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    // A dangling link: following it would create the file it names.
    let dangling_target = dir.path().join("created-through-link");
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(&dangling_target, &dangling).unwrap();
    for out in [&link, &dangling] {
        for force in [false, true] {
            let mut c = osscse();
            c.args(["keygen", "--symmetric", "--out", p(out)]);
            if force {
                c.arg("--force");
            }
            let a = c.assert().code(4);
            assert!(stderr(&a).contains("symbolic link"), "{}", stderr(&a));
        }
        assert!(
            std::fs::symlink_metadata(out)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    // The RSA pair: DIR/private.pem is a link.
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::os::unix::fs::symlink(&victim, keys.join("private.pem")).unwrap();
    for force in [false, true] {
        let mut c = osscse();
        c.args(["keygen", "--bits", "2048", "--out", p(&keys)]);
        if force {
            c.arg("--force");
        }
        let a = c.assert().code(4);
        assert!(stderr(&a).contains("symbolic link"), "{}", stderr(&a));
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"must stay as it is");
    assert_eq!(mode(&victim), 0o644, "permissions of the target unchanged");
    assert!(!dangling_target.exists());
    assert_eq!(
        names(&keys),
        ["private.pem"],
        "nothing written, no temp file"
    );
    assert_eq!(
        names(dir.path()),
        ["dangling", "keys", "link", "victim"],
        "no temp file left"
    );
}

#[test]
fn keygen_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("cmk.key");
    osscse()
        .args(["keygen", "--symmetric", "--out", p(&key)])
        .assert()
        .success();
    let first = std::fs::read(&key).unwrap();
    assert_eq!(first.len(), 32);
    let a = osscse()
        .args(["keygen", "--symmetric", "--out", p(&key)])
        .assert()
        .code(4);
    let err = stderr(&a);
    assert!(err.contains("--force") && err.contains("cmk.key"), "{err}");
    assert_eq!(std::fs::read(&key).unwrap(), first);
    osscse()
        .args(["keygen", "--symmetric", "--force", "--out", p(&key)])
        .assert()
        .success();
    let second = std::fs::read(&key).unwrap();
    assert_eq!(second.len(), 32);
    assert_ne!(second, first, "--force wrote a new key");
    #[cfg(unix)]
    assert_eq!(mode(&key), 0o600);
    assert_eq!(names(dir.path()), ["cmk.key"], "no temp file left");
    // A directory is not a key file, with or without --force.
    for force in [false, true] {
        let mut c = osscse();
        c.args(["keygen", "--symmetric", "--out", p(dir.path())]);
        if force {
            c.arg("--force");
        }
        let a = c.assert().code(4);
        assert!(stderr(&a).contains("is a directory"), "{}", stderr(&a));
    }

    // The RSA pair: an existing public.pem alone stops keygen before it writes anything.
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::write(keys.join("public.pem"), b"old").unwrap();
    let a = osscse()
        .args(["keygen", "--bits", "2048", "--out", p(&keys)])
        .assert()
        .code(4);
    assert!(stderr(&a).contains("--force"), "{}", stderr(&a));
    assert_eq!(names(&keys), ["public.pem"]);
    assert_eq!(std::fs::read(keys.join("public.pem")).unwrap(), b"old");
    osscse()
        .args(["keygen", "--bits", "2048", "--force", "--out", p(&keys)])
        .assert()
        .success();
    assert_eq!(names(&keys), ["private.pem", "public.pem"]);
    let public = std::fs::read_to_string(keys.join("public.pem")).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    #[cfg(unix)]
    assert_eq!(mode(&keys.join("private.pem")), 0o600);
}

#[cfg(unix)]
#[test]
fn secret_key_files_others_can_read_get_a_warning_and_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = rsa_pair(&dir.path().join("rsa"), 2048);
    let symmetric = dir.path().join("cmk.key");
    osscse()
        .args(["--quiet", "keygen", "--symmetric", "--out", p(&symmetric)])
        .assert()
        .success();
    let src = dir.path().join("in");
    std::fs::write(&src, b"secret numbers").unwrap();
    let rsa_obj = format!("file://{}/store/rsa", p(dir.path()));
    let sym_obj = format!("file://{}/store/sym", p(dir.path()));
    // A public key readable by everyone is normal: no warning.
    chmod(&public, 0o644);
    let a = osscse()
        .args(["put", p(&src), &rsa_obj, "--public-key", p(&public)])
        .assert()
        .success();
    assert_eq!(stderr(&a), "");
    osscse()
        .args(["put", p(&src), &sym_obj, "--symmetric-key", p(&symmetric)])
        .assert()
        .success();
    for (obj, flag, key) in [
        (&rsa_obj, "--private-key", &private),
        (&sym_obj, "--symmetric-key", &symmetric),
    ] {
        for (bits, warned) in [(0o600, false), (0o640, true), (0o604, true), (0o644, true)] {
            chmod(key, bits);
            // Even --quiet prints it: it is a warning, not a progress note.
            let a = osscse()
                .args(["--quiet", "cat", obj, flag, p(key)])
                .assert()
                .success();
            assert_eq!(a.get_output().stdout, b"secret numbers", "still loads");
            let err = stderr(&a);
            if warned {
                assert!(
                    err.contains("warning")
                        && err.contains(p(key))
                        && err.contains("chmod 600")
                        && err.contains(&format!("{bits:04o}")),
                    "{err}"
                );
            } else {
                assert_eq!(err, "", "{bits:o}");
            }
        }
    }
    // The symmetric key also warns when it writes.
    chmod(&symmetric, 0o644);
    let a = osscse()
        .args(["put", p(&src), &sym_obj, "--symmetric-key", p(&symmetric)])
        .assert()
        .success();
    assert!(stderr(&a).contains("chmod 600"), "{}", stderr(&a));
}
