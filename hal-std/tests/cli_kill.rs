//! Cancellation of the `osscse` CLI: a SIGKILLed `get` leaves the destination byte-identical,
//! and a SIGKILLed `put --checkpoint` resumes to an object equal to the source.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use osscse_tests::{Config, FaultConfig, Server};

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

fn osscse(server: &Server) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_osscse"));
    c.env("OSS_ENDPOINT", server.endpoint())
        .env("OSS_REGION", "cn-hangzhou")
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .env_remove("OSS_SESSION_TOKEN");
    c
}

fn run_ok(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits (bounded) until `cond` holds; the bound only guards against a hung test.
fn wait_for(what: &str, child: &mut Child, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what}: the process ended first ({status})");
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{what}: never happened"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn has_entry(dir: &Path, prefix: &str) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().starts_with(prefix))
}

fn keygen(server: &Server, dir: &Path) {
    run_ok(
        osscse(server)
            .args(["keygen", "--bits", "2048", "--out"])
            .arg(dir),
    );
}

#[test]
fn a_killed_get_leaves_the_destination_byte_identical() {
    let server = Server::start(Config::new("ak", "sk")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    keygen(&server, &keys);
    let src = dir.path().join("in.bin");
    std::fs::write(&src, data(2_000_000)).unwrap();
    run_ok(
        osscse(&server)
            .args(["--quiet", "put"])
            .arg(&src)
            .arg("oss://bkt/o")
            .arg("--public-key")
            .arg(keys.join("public.pem")),
    );
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let dest = out_dir.join("dest.bin");
    let before = b"precious bytes the user already had".to_vec();
    std::fs::write(&dest, &before).unwrap();
    server.faults().set(FaultConfig {
        throttle_bytes_per_sec: Some(256 * 1024),
        ..FaultConfig::default()
    });
    let mut child = osscse(&server)
        .args(["--quiet", "get", "oss://bkt/o"])
        .arg(&dest)
        .arg("--private-key")
        .arg(keys.join("private.pem"))
        .spawn()
        .unwrap();
    // Killed while the download is being written to its temporary file.
    wait_for("the temporary download file", &mut child, || {
        has_entry(&out_dir, ".osscse-download-")
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), before);
}

#[test]
fn a_killed_put_with_checkpoint_resumes_to_the_source() {
    let server = Server::start(Config::new("ak", "sk")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    keygen(&server, &keys);
    let src = dir.path().join("in.bin");
    let plain = data(1_000_000);
    std::fs::write(&src, &plain).unwrap();
    let cp = dir.path().join("cp.json");
    let put = |server: &Server| {
        let mut c = osscse(server);
        c.args(["--quiet", "put"])
            .arg(&src)
            .arg("oss://bkt/big")
            // Resuming unwraps the checkpoint's data key: the private key is needed.
            .arg("--public-key")
            .arg(keys.join("private.pem"))
            .args(["--part-size", "102400", "--jobs", "1", "--checkpoint"])
            .arg(&cp);
        c
    };
    server.faults().set(FaultConfig {
        throttle_bytes_per_sec: Some(256 * 1024),
        ..FaultConfig::default()
    });
    let mut child = put(&server).spawn().unwrap();
    wait_for("the checkpoint", &mut child, || cp.exists());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(server.object("bkt", "big").is_none());
    server.faults().clear();
    run_ok(&mut put(&server));
    assert!(!cp.exists());
    let out = dir.path().join("out.bin");
    run_ok(
        osscse(&server)
            .args(["--quiet", "get", "oss://bkt/big"])
            .arg(&out)
            .arg("--private-key")
            .arg(keys.join("private.pem")),
    );
    assert_eq!(std::fs::read(&out).unwrap(), plain);
}
