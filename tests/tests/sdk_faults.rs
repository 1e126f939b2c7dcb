//! Each fault knob, seen by the official `alibabacloud-oss-v2` SDK (the plain std client sees
//! them in `server.rs`). Needs the Python venv (fails under `CI=true` without it).
#![allow(clippy::unwrap_used)]

use osscse_core::sign::Credentials;
use osscse_tests::client::{Call, Client};
use osscse_tests::{Config, FaultConfig, Server, python};

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + 1) & 0xff) as u8).collect()
}

fn run(mode: &str, faults: FaultConfig) {
    let Some(py) = python::interpreter() else {
        return;
    };
    let server = Server::start(Config::new("fault-ak", "fault-sk")).unwrap();
    let c = Client::new(server.addr(), Credentials::new("fault-ak", "fault-sk"));
    let data = payload(10_000);
    let r = c
        .send(&Call {
            method: "PUT",
            bucket: Some("interop"),
            key: Some("faults/data"),
            body: &data,
            ..Call::default()
        })
        .unwrap();
    assert_eq!(r.status, 200);
    server.faults().set(faults);
    let endpoint = server.endpoint();
    let out = python::run(
        &py,
        "sdk_faults.py",
        &[mode],
        &[
            ("OSS_ENDPOINT", &endpoint),
            ("OSS_AK", "fault-ak"),
            ("OSS_SK", "fault-sk"),
            ("OSS_BUCKET", "interop"),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sdk_faults.py {mode}\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.lines().any(|l| l.starts_with("OK ")), "{stdout}");
    eprintln!("{stdout}");
}

#[test]
fn sdk_sees_5xx_then_retries() {
    run(
        "fail-first",
        FaultConfig {
            fail_first: 2,
            fail_status: 503,
            ..FaultConfig::default()
        },
    );
}

#[test]
fn sdk_sees_connection_reset() {
    run(
        "reset",
        FaultConfig {
            reset_after_body_bytes: Some(64 * 1024),
            ..FaultConfig::default()
        },
    );
}

#[test]
fn sdk_sees_throttle() {
    run(
        "throttle",
        FaultConfig {
            throttle_bytes_per_sec: Some(20_000),
            ..FaultConfig::default()
        },
    );
}

#[test]
fn sdk_sees_truncated_body() {
    run(
        "truncate",
        FaultConfig {
            truncate_response_body: Some(4096),
            ..FaultConfig::default()
        },
    );
}

#[test]
fn sdk_sees_wrong_crc() {
    run(
        "wrong-crc",
        FaultConfig {
            wrong_crc: true,
            ..FaultConfig::default()
        },
    );
}

#[test]
fn sdk_sees_ignored_range() {
    run(
        "ignore-range",
        FaultConfig {
            ignore_range: true,
            ..FaultConfig::default()
        },
    );
}
