//! Shared by the device tests that talk to the loopback server (`upload.rs`, `tamper.rs`,
//! `cipher_seam.rs`): keys, a fixed-seed DRBG, the server, and reading objects back with
//! osscse-std and the official Python v2 SDK.
#![allow(dead_code)] // each test file uses a different subset

use std::io::Read;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use osscse_core::envelope::{self, ObjectEncryption};
use osscse_core::sign::Credentials;
use osscse_core::wrap::RsaMasterKey;
use osscse_embedded::{Addressing, CtrDrbg, Target};
use osscse_tests::client::{Call, Client};
use osscse_tests::{Config, Server};

pub(crate) const AK: &str = "LTAI5tEmbeddedUploader";
pub(crate) const SK: &str = "embedded-uploader-test-secret";
pub(crate) const BUCKET: &str = "telemetry";
pub(crate) const REGION: &str = "cn-hangzhou";

pub(crate) fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub(crate) fn public_key() -> RsaMasterKey {
    let pem = std::fs::read_to_string(data_dir().join("test_rsa_2048_pub.pem")).unwrap();
    RsaMasterKey::from_public_pem(&pem).unwrap()
}

pub(crate) fn private_key() -> RsaMasterKey {
    let pem = std::fs::read_to_string(data_dir().join("test_rsa_2048.pem")).unwrap();
    RsaMasterKey::from_private_pem(&pem).unwrap()
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A deterministic DRBG: two built from the same `tag` give the same keys, IVs and padding.
pub(crate) fn fixed_drbg(tag: u8) -> CtrDrbg {
    CtrDrbg::instantiate(&[tag; 48], b"fixed-seed-test").unwrap()
}

pub(crate) fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0] ^ seed)
        .collect()
}

pub(crate) fn start_server() -> Server {
    start_server_with(Config::new(AK, SK))
}

/// A server with `config` (credentials AK/SK) and the bucket created.
pub(crate) fn start_server_with(config: Config) -> Server {
    let server = Server::start(config).unwrap();
    let client = Client::new(server.addr(), Credentials::new(AK, SK));
    let r = client
        .send(&Call {
            method: "PUT",
            bucket: Some(BUCKET),
            ..Call::default()
        })
        .unwrap();
    assert_eq!(r.status, 200, "create bucket: {}", r.text());
    server
}

pub(crate) fn target(endpoint: &str) -> Target<'_> {
    Target {
        endpoint,
        bucket: BUCKET,
        region: REGION,
        addressing: Addressing::PathStyle,
    }
}

/// Reads an object back with osscse-std (its HTTP client and RSA keyring) and decrypts it.
pub(crate) fn read_with_osscse_std(server: &Server, key: &str) -> Vec<u8> {
    let endpoint = osscse_std::Endpoint::parse(&server.endpoint()).unwrap();
    let mut config = osscse_std::ClientConfig::new(endpoint);
    config.region = Some(REGION.into());
    let client = osscse_std::blocking::Client::new(config, Credentials::new(AK, SK)).unwrap();
    let response = client
        .send(osscse_std::Request::new("GET", Some(BUCKET), Some(key)))
        .unwrap();
    let headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let ObjectEncryption::Envelope(env) = envelope::parse(headers.iter().cloned()).unwrap() else {
        panic!("{key} has no CSE envelope");
    };
    let keyring = osscse_std::keys::Keyring::new(private_key());
    let material = keyring.open(&env).unwrap();
    let mut plain = Vec::new();
    response.into_reader().read_to_end(&mut plain).unwrap();
    material.apply_at(0, &mut plain);
    plain
}

/// Reads `objects` (key, expected plaintext) back with the official Python v2 SDK's
/// EncryptionClient. Skips (returns `false`) without the SDK venv, except under `CI=true`.
pub(crate) fn check_with_python_sdk(server: &Server, objects: &[(&str, &[u8])]) -> bool {
    let Some(py) = osscse_tests::python::interpreter() else {
        return false;
    };
    let tmp = std::env::temp_dir().join(format!(
        "osscse-embedded-{}-{}",
        std::process::id(),
        objects.first().map_or("none", |o| o.0).replace('/', "_")
    ));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut args = Vec::new();
    for (i, (key, data)) in objects.iter().enumerate() {
        let path = tmp.join(format!("{i}.bin"));
        std::fs::write(&path, data).unwrap();
        args.push(format!("{key}={}", path.display()));
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk_v2_decrypt.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .arg(data_dir().join("test_rsa_2048.pem"))
        .arg(data_dir().join("test_rsa_2048_pub.pem"))
        .args(&args)
        .env("OSS_ENDPOINT", server.endpoint())
        .env("OSS_AK", AK)
        .env("OSS_SK", SK)
        .env("OSS_BUCKET", BUCKET)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "Python SDK decrypt failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("OK ")).count(),
        objects.len()
    );
    true
}

/// The body of the first request recorded on a connection (after `\r\n\r\n`) and its head.
pub(crate) fn split_request(bytes: &[u8]) -> (String, Vec<u8>) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a request head")
        + 4;
    (
        String::from_utf8_lossy(&bytes[..end]).into_owned(),
        bytes[end..].to_vec(),
    )
}

/// The value of header `name` in a request head.
pub(crate) fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}
