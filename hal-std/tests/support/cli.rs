//! Shared by the operator-command tests: the real binary with a clean environment, keys, and
//! directory trees written and compared.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use osscse_tests::{Config, Server};

/// The binary with no OSS settings from the caller's environment and no config file.
pub(crate) fn osscse() -> Command {
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
    c.env("HOME", "/nonexistent-osscse-home");
    c
}

/// A loopback server and the binary pointed at it.
pub(crate) struct Oss {
    /// The server.
    pub(crate) server: Server,
}

impl Oss {
    /// Starts a server with credentials ak/sk.
    pub(crate) fn start() -> Self {
        Self::start_with("ak", "sk")
    }

    /// Starts a server that accepts only `id`/`secret`.
    pub(crate) fn start_with(id: &str, secret: &str) -> Self {
        Self {
            server: Server::start(Config::new(id, secret)).unwrap(),
        }
    }

    /// The binary with the server's endpoint and credentials in its environment.
    pub(crate) fn cmd(&self) -> Command {
        let mut c = osscse();
        c.env("OSS_ENDPOINT", self.server.endpoint())
            .env("OSS_REGION", "cn-hangzhou")
            .env("OSS_ACCESS_KEY_ID", "ak")
            .env("OSS_ACCESS_KEY_SECRET", "sk");
        c
    }

    /// Requests that wrote object data since the log was last cleared.
    pub(crate) fn uploads(&self) -> Vec<String> {
        self.server
            .request_log()
            .into_iter()
            .filter(|r| r.is_upload() && !r.has_query("uploadId"))
            .filter_map(|r| r.key)
            .collect()
    }
}

/// `keygen` into `dir` (2048 bits to keep tests quick); returns (private, public).
pub(crate) fn keygen(dir: &Path) -> (PathBuf, PathBuf) {
    osscse()
        .args(["keygen", "--bits", "2048", "--out"])
        .arg(dir)
        .assert()
        .success();
    (dir.join("private.pem"), dir.join("public.pem"))
}

/// Deterministic bytes.
pub(crate) fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut x = 0x0123_4567_89ab_cdefu64 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Writes `files` (relative path → contents) under `root`.
pub(crate) fn write_tree(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (rel, bytes) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Every file under `root` (relative path → contents).
pub(crate) fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// `p.to_str()`.
pub(crate) fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// What a finished command wrote to stderr.
pub(crate) fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}
