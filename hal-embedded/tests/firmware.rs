//! Runs the Cortex-M4 firmware example (`hal-embedded/firmware`) under `qemu-system-arm`
//! (`mps2-an386`, semihosting) and recomputes every line it prints with osscse-core on the host:
//! the AES-256-CTR ciphertext (soft AES on the M4 vs the host backend), the two RSA PKCS#1 v1.5
//! wraps (same DRBG state, so byte-identical), and the V4 `Authorization` header. The wraps are
//! also decrypted with the test private key.
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
use osscse_core::sign::{Credentials, Request, v4};
use osscse_embedded::{CtrDrbg, IvPrefix, generate_material};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{Pkcs1v15Encrypt, PrivateKey, PublicKey};

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

fn build_firmware() -> Option<PathBuf> {
    let dir = manifest_dir().join("firmware");
    let target_dir = dir.join("target");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .args(["build", "--release", "--quiet"])
        .status()
        .expect("run cargo for the firmware");
    if !status.success() {
        return None;
    }
    Some(target_dir.join("thumbv7em-none-eabihf/release/osscse-firmware-example"))
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
    let Some(qemu) = find_qemu() else {
        skip_or_fail("qemu-system-arm not found");
        return;
    };
    let Some(elf) = build_firmware() else {
        skip_or_fail("firmware build failed (is the thumbv7em-none-eabihf target installed?)");
        if std::env::var("CI").as_deref() == Ok("true") {
            unreachable!();
        }
        return;
    };
    let output = run_qemu(&qemu, &elf);
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

    // Host recomputation with the same fixed inputs.
    let mut drbg = CtrDrbg::instantiate(&fixture::DRBG_SEED, fixture::PERSONALIZATION).unwrap();
    let prefix = IvPrefix::new(fixture::IV_DEVICE_TAG, fixture::IV_OBJECT_COUNTER);
    let material = generate_material(&mut drbg, Some(prefix)).unwrap();
    let mut ciphertext = fixture::PAYLOAD.to_vec();
    Keystream::new(material.key(), material.iv()).apply(&mut ciphertext);
    assert_eq!(field("ciphertext"), hex::encode(&ciphertext), "ciphertext");

    let public = PublicKey::from_public_key_der(fixture::RSA_PUBLIC_KEY_DER).unwrap();
    let wrapped_key = public
        .encrypt(&mut drbg, Pkcs1v15Encrypt, material.key())
        .unwrap();
    let wrapped_iv = public
        .encrypt(&mut drbg, Pkcs1v15Encrypt, material.iv())
        .unwrap();
    assert_eq!(
        field("wrapped_key"),
        hex::encode(&wrapped_key),
        "wrapped key"
    );
    assert_eq!(field("wrapped_iv"), hex::encode(&wrapped_iv), "wrapped IV");

    // Independent check: the master private key unwraps the device's key and IV, and they
    // decrypt the device's ciphertext to the payload; the IV carries the counter prefix.
    let pem = std::fs::read_to_string(manifest_dir().join("tests/data/test_rsa_2048.pem")).unwrap();
    let private = PrivateKey::from_pkcs8_pem(&pem).unwrap();
    let fw_key = private
        .decrypt_blinded(
            &mut drbg,
            Pkcs1v15Encrypt,
            &hex::decode(field("wrapped_key")).unwrap(),
        )
        .unwrap();
    let fw_iv = private
        .decrypt_blinded(
            &mut drbg,
            Pkcs1v15Encrypt,
            &hex::decode(field("wrapped_iv")).unwrap(),
        )
        .unwrap();
    assert_eq!(fw_key.len(), 32);
    assert_eq!(fw_iv.len(), 16);
    assert_eq!(fw_iv[..8], prefix.bytes());
    assert_eq!(fw_iv[8..12], [0; 4]);
    let mut plain = hex::decode(field("ciphertext")).unwrap();
    Keystream::new(
        fw_key.as_slice().try_into().unwrap(),
        fw_iv.as_slice().try_into().unwrap(),
    )
    .apply(&mut plain);
    assert_eq!(plain, fixture::PAYLOAD);

    // V4 signature of the PUT.
    let content_length = ciphertext.len().to_string();
    let headers = [
        ("Content-Type", fixture::CONTENT_TYPE),
        ("Content-Length", content_length.as_str()),
        (
            osscse_core::envelope::HEADER_CEK_ALG,
            osscse_core::envelope::CEK_ALG_AES_CTR,
        ),
        (
            osscse_core::envelope::HEADER_WRAP_ALG,
            osscse_core::envelope::WRAP_ALG_RSA,
        ),
    ];
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

    let peak: usize = field("heap_wrap_peak_bytes").parse().unwrap();
    assert!(peak > 0, "the RSA wrap must allocate");
    eprintln!("firmware: heap peak for two RSA-2048 wraps = {peak} bytes");
}
