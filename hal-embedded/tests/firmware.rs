//! Runs the Cortex-M4 firmware example (`hal-embedded/firmware`) under `qemu-system-arm`
//! (`mps2-an386`, semihosting) and recomputes every line it prints with osscse-core on the host:
//! the CSE envelope headers (the two RSA PKCS#1 v1.5 wraps: same DRBG state, so byte-identical),
//! the AES-256-CTR ciphertext (soft AES on the M4 vs the host backend), and the V4
//! `Authorization` header. The envelope is also opened with the test private key. The
//! `symmetric` build (an AES-256 CMK instead of the RSA public key, AES-GCM wrap) is run and
//! checked the same way, its envelope opened with the same CMK.
//!
//! Needs `qemu-system-arm` (PATH, `$OSSCSE_QEMU_SYSTEM_ARM`, or `<repo>/.tools/qemu-root`, which
//! `scripts/test-embedded.sh` installs) and the `thumbv7em-none-eabihf` target. Skips without
//! them, fails under `CI=true`.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use core::time::Duration;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use osscse_core::Keystream;
use osscse_core::envelope::{self, ObjectEncryption};
use osscse_core::sign::{Credentials, Request, v4};
use osscse_core::wrap::{self, AesGcmMasterKey, MasterKey, RsaMasterKey};
use osscse_embedded::{CtrDrbg, IvPrefix, generate_material};

#[allow(dead_code)]
mod fixture {
    include!("../firmware/fixture.rs");
}

fn skip_or_fail(reason: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{reason} (CI=true): run bash scripts/test-embedded.sh"
    );
    eprintln!("skipping: {reason}; run bash scripts/test-embedded.sh");
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn find_qemu() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OSSCSE_QEMU_SYSTEM_ARM") {
        return Some(PathBuf::from(p));
    }
    let local = manifest_dir().join("../.tools/qemu-root/usr/bin/qemu-system-arm");
    if local.exists() {
        return Some(local);
    }
    let ok = Command::new("qemu-system-arm")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| PathBuf::from("qemu-system-arm"))
}

/// Builds the firmware with `features` (cargo arguments) into `firmware/target/<name>`.
fn build_firmware(name: &str, features: &[&str]) -> Option<PathBuf> {
    let dir = manifest_dir().join("firmware");
    let target_dir = dir.join("target").join(name);
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .args(["build", "--release", "--quiet"])
        .args(features)
        .status()
        .expect("run cargo for the firmware");
    if !status.success() {
        return None;
    }
    Some(target_dir.join("thumbv7em-none-eabihf/release/osscse-firmware-example"))
}

/// Builds and runs one firmware build under QEMU; `None` (after skipping) without the tools.
fn firmware_output(name: &str, features: &[&str]) -> Option<String> {
    let Some(qemu) = find_qemu() else {
        skip_or_fail("qemu-system-arm not found");
        return None;
    };
    let Some(elf) = build_firmware(name, features) else {
        skip_or_fail("firmware build failed (is the thumbv7em-none-eabihf target installed?)");
        return None;
    };
    Some(run_qemu(&qemu, &elf))
}

fn run_qemu(qemu: &Path, elf: &Path) -> String {
    let mut child = Command::new(qemu)
        .args([
            "-cpu",
            "cortex-m4",
            "-machine",
            "mps2-an386",
            "-nographic",
            "-monitor",
            "none",
            "-semihosting-config",
            "enable=on,target=native",
            "-kernel",
        ])
        .arg(elf)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start qemu-system-arm");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().expect("wait for qemu") {
            let out = child.wait_with_output().expect("qemu output");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(status.success(), "firmware exited with {status}:\n{text}");
            return text;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("firmware did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn firmware_output_matches_host_computation() {
    let Some(output) = firmware_output("rsa", &[]) else {
        return;
    };
    let master = RsaMasterKey::from_public_der(fixture::RSA_PUBLIC_KEY_DER).unwrap();
    let pem = std::fs::read_to_string(manifest_dir().join("tests/data/test_rsa_2048.pem")).unwrap();
    let private = RsaMasterKey::from_private_pem(&pem).unwrap();
    let peak = check_output(&output, &master, &private, "RSA/NONE/PKCS1Padding");
    assert!(peak > 0, "the RSA wrap must allocate");
    eprintln!("firmware: heap peak for two RSA-2048 wraps = {peak} bytes");
}

/// The `symmetric` build: a device holding an AES-256 CMK (AES-GCM wrap, nonces from the DRBG).
#[test]
fn symmetric_firmware_output_matches_host_computation() {
    let Some(output) = firmware_output(
        "symmetric",
        &["--no-default-features", "--features", "symmetric"],
    ) else {
        return;
    };
    let cmk = AesGcmMasterKey::from_bytes(&fixture::SYMMETRIC_CMK).unwrap();
    let peak = check_output(&output, &cmk, &cmk, "AES/GCM/NoPadding");
    eprintln!("symmetric firmware: heap peak for two AES-GCM wraps = {peak} bytes");
}

/// Recomputes every line of the firmware's `output` on the host with `master` (the key the
/// device holds) and opens the device's envelope with `opener`; returns the wrap's heap peak.
fn check_output<K, O>(output: &str, master: &K, opener: &O, wrap_alg: &str) -> usize
where
    K: MasterKey<Error = osscse_core::Error>,
    O: MasterKey<Error = osscse_core::Error>,
{
    let lines: HashMap<&str, &str> = output
        .lines()
        .filter_map(|l| l.trim_end().split_once('='))
        .collect();
    assert_eq!(
        lines.get("result"),
        Some(&"ok"),
        "firmware output:\n{output}"
    );
    let field = |name: &str| -> &str {
        lines
            .get(name)
            .unwrap_or_else(|| panic!("no {name}= line in:\n{output}"))
    };

    // Host recomputation with the same fixed inputs: the same DRBG stream gives the same data
    // key, IV and RSA padding (or GCM nonces), so every header must be byte-identical.
    let mut drbg = CtrDrbg::instantiate(&fixture::DRBG_SEED, fixture::PERSONALIZATION).unwrap();
    let prefix = IvPrefix::new(fixture::IV_DEVICE_TAG, fixture::IV_OBJECT_COUNTER);
    let material = generate_material(&mut drbg, Some(prefix)).unwrap();
    let mut envelope = wrap::seal(master, &material, &mut drbg).unwrap();
    envelope.unencrypted_content_length = Some(fixture::PAYLOAD.len() as u64);
    let expected_headers = envelope.headers();
    let device_headers: Vec<(String, String)> = output
        .lines()
        .filter_map(|l| l.strip_prefix("header:")?.split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let host_headers: Vec<(String, String)> = expected_headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.clone()))
        .collect();
    assert_eq!(device_headers, host_headers, "envelope headers");
    assert!(
        device_headers
            .iter()
            .any(|(n, v)| n == envelope::HEADER_WRAP_ALG && v == wrap_alg),
        "wrap-alg {wrap_alg} in {device_headers:?}"
    );

    let mut ciphertext = fixture::PAYLOAD.to_vec();
    Keystream::new(material.key(), material.iv()).apply(&mut ciphertext);
    assert_eq!(field("ciphertext"), hex::encode(&ciphertext), "ciphertext");

    // Independent check: the reader's key opens the device's envelope (parsed from the
    // printed headers), and the key and IV decrypt the device's ciphertext to the payload.
    let parsed =
        envelope::parse(device_headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))).unwrap();
    let ObjectEncryption::Envelope(parsed) = parsed else {
        panic!("no envelope in the firmware output");
    };
    let opened = wrap::open(opener, &parsed, &mut drbg).unwrap();
    assert_eq!(opened.iv()[..8], prefix.bytes());
    assert_eq!(opened.iv()[8..12], [0; 4]);
    let mut plain = hex::decode(field("ciphertext")).unwrap();
    opened.apply_at(0, &mut plain);
    assert_eq!(plain, fixture::PAYLOAD);

    // V4 signature of the PUT with the envelope headers.
    let mut headers: Vec<(&str, &str)> = vec![("Content-Type", fixture::CONTENT_TYPE)];
    headers.extend(expected_headers.iter().map(|(n, v)| (*n, v.as_str())));
    let request = Request {
        method: "PUT",
        bucket: Some(fixture::BUCKET),
        key: Some(fixture::OBJECT_KEY),
        query: &[],
        headers: &headers,
    };
    let signed = v4::sign_headers(
        &request,
        &Credentials::new(fixture::ACCESS_KEY_ID, fixture::ACCESS_KEY_SECRET),
        &v4::Params::new(fixture::REGION),
        fixture::SIGNING_TIME,
    )
    .unwrap();
    assert_eq!(Some(field("authorization")), signed.authorization());

    field("heap_wrap_peak_bytes").parse().unwrap()
}
