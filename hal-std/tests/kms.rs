//! KMS master keys against the loopback KMS server (osscse-tests `kms`): the Go/Java and oss2
//! header encodings through `wrap::seal`/`wrap::open`, typed errors (wrong key id, revoked key,
//! 5xx after retries, malformed reply, wrong secret), the legacy oss2 KMS fixture, the official
//! `aliyun-python-sdk-kms` client, and oss2 `CryptoBucket` + `AliKMSProvider` both ways.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64ct::{Base64, Encoding};
use osscse_core::content::ContentMaterial;
use osscse_core::envelope::{self, Matdesc, ObjectEncryption};
use osscse_core::error::WrapError;
use osscse_core::sign::Credentials;
use osscse_core::wrap::{self, MasterKey};
use osscse_std::blocking::Client;
use osscse_std::keys::SysRng;
use osscse_std::kms::{HeaderEncoding, KmsClient, KmsConfig, KmsError, KmsMasterKey, open_legacy};
use osscse_std::{Body, ClientConfig, Endpoint, Request};
use osscse_tests::kms::{KmsFaultConfig, KmsServer, KmsServerConfig};
use osscse_tests::{Config, Server};

const AK: &str = "kms-ak";
const SK: &str = "kms-sk";

fn sign(secret: &str, method: &str, params: &[(&str, &str)]) -> (String, String) {
    use osscse_std::kms::sign;
    (
        sign::string_to_sign(method, params.iter().copied()),
        sign::signature(secret, method, params.iter().copied()),
    )
}

fn kms() -> KmsServer {
    KmsServer::start(KmsServerConfig::new(AK, SK, sign)).unwrap()
}

fn client_with(server: &KmsServer, secret: &str) -> KmsClient {
    let mut cfg = KmsConfig::with_endpoint(&server.endpoint())
        .unwrap()
        .region("cn-hangzhou");
    cfg.retry.base_delay = Duration::from_millis(5);
    cfg.retry.max_delay = Duration::from_millis(20);
    KmsClient::new(cfg, Credentials::new(AK, secret)).unwrap()
}

fn client(server: &KmsServer) -> KmsClient {
    client_with(server, SK)
}

fn material() -> ContentMaterial {
    ContentMaterial::generate(&mut SysRng).unwrap()
}

/// Seals, emits the headers, parses them back and opens with `reader`.
fn round_trip(
    writer: &KmsMasterKey,
    reader: &KmsMasterKey,
) -> (
    Vec<(&'static str, String)>,
    Result<ContentMaterial, osscse_std::Error>,
) {
    let m = material();
    let env = wrap::seal(writer, &m, &mut SysRng).unwrap();
    let headers = env.headers();
    let ObjectEncryption::Envelope(parsed) = envelope::parse(headers.clone()).unwrap() else {
        panic!("not an envelope");
    };
    let opened = wrap::open(reader, &parsed, &mut SysRng);
    if let Ok(o) = &opened {
        assert_eq!(o.key(), m.key());
        assert_eq!(o.iv(), m.iv());
    }
    (headers, opened)
}

fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
        .unwrap()
}

#[test]
fn go_java_encoding_round_trips_and_header_is_the_blob() {
    let server = kms();
    let cmk = server.create_key();
    let md = Matdesc::from_pairs([("kms-cmk-id", cmk.as_str())]).unwrap();
    let key = KmsMasterKey::new(client(&server), &cmk).with_matdesc(md.clone());
    let (headers, opened) = round_trip(&key, &key);
    opened.unwrap();
    assert_eq!(header(&headers, envelope::HEADER_WRAP_ALG), "KMS/ALICLOUD");
    assert_eq!(header(&headers, envelope::HEADER_MATDESC), md.as_str());
    for name in [envelope::HEADER_KEY, envelope::HEADER_START] {
        // The header value is the CiphertextBlob string: one base64 layer over "<uuid>...".
        let inner = String::from_utf8(Base64::decode_vec(header(&headers, name)).unwrap()).unwrap();
        assert!(inner.starts_with(&cmk), "{inner}");
    }
    // The blob is what KMS Decrypt takes directly.
    let blob = header(&headers, envelope::HEADER_START);
    let iv = client(&server).decrypt(blob, None).unwrap();
    assert_eq!(Base64::decode_vec(&iv.plaintext).unwrap().len(), 16);
}

#[test]
fn oss2_encoding_round_trips_and_both_encodings_are_read() {
    let server = kms();
    let cmk = server.create_key();
    let oss2 = KmsMasterKey::new(client(&server), &cmk)
        .with_encoding(HeaderEncoding::Oss2)
        .with_passphrase("secret pass");
    let gojava = KmsMasterKey::new(client(&server), &cmk).with_passphrase("secret pass");
    let (headers, opened) = round_trip(&oss2, &gojava);
    opened.unwrap();
    // Double base64: header -> blob text -> "<uuid>...".
    let blob =
        String::from_utf8(Base64::decode_vec(header(&headers, envelope::HEADER_KEY)).unwrap())
            .unwrap();
    assert!(
        String::from_utf8(Base64::decode_vec(&blob).unwrap())
            .unwrap()
            .starts_with(&cmk)
    );
    round_trip(&gojava, &oss2).1.unwrap();
    round_trip(&oss2, &oss2).1.unwrap();
    // The encryption context is bound: another passphrase cannot unwrap.
    let other = KmsMasterKey::new(client(&server), &cmk).with_passphrase("other");
    let err = round_trip(&oss2, &other).1.unwrap_err();
    assert_eq!(
        err.kms().and_then(KmsError::code),
        Some("Rejected.InvalidCiphertext"),
        "{err}"
    );
}

#[test]
fn selection_across_rsa_and_kms_keys_by_matdesc() {
    let server = kms();
    let a = server.create_key();
    let b = server.create_key();
    let ka = KmsMasterKey::new(client(&server), &a)
        .with_matdesc(Matdesc::parse(r#"{"k": "a"}"#).unwrap());
    let kb = KmsMasterKey::new(client(&server), &b)
        .with_matdesc(Matdesc::parse(r#"{"k":"b"}"#).unwrap());
    let keys = [&ka, &kb];
    let env = wrap::seal(&kb, &material(), &mut SysRng).unwrap();
    let picked = wrap::select(&keys, None, env.matdesc.as_ref()).unwrap();
    assert_eq!(picked.key_id(), b);
    wrap::open(picked, &env, &mut SysRng).unwrap();
    // An RSA envelope is refused by a KMS key with a typed mismatch, not sent to KMS.
    let mut rsa_env = env.clone();
    rsa_env.wrap_alg = envelope::WrapAlg::Rsa;
    let before = server.request_count();
    let err = wrap::open(&ka, &rsa_env, &mut SysRng).unwrap_err();
    assert!(
        matches!(
            err,
            osscse_std::Error::Core(osscse_core::Error::Wrap(WrapError::AlgorithmMismatch))
        ),
        "{err}"
    );
    assert_eq!(server.request_count(), before);
}

#[test]
fn wrong_key_id_is_key_not_found() {
    let server = kms();
    server.create_key();
    let key = KmsMasterKey::new(client(&server), "00000000-0000-0000-0000-000000000000");
    let err = key.wrap(&mut SysRng, &[0; 32]).unwrap_err();
    assert!(err.kms().is_some_and(KmsError::is_key_not_found), "{err}");
    assert!(err.to_string().contains("--kms-key-id"), "{err}");
}

#[test]
fn revoked_key_is_key_unusable_for_wrap_and_unwrap() {
    let server = kms();
    let cmk = server.create_key();
    let key = KmsMasterKey::new(client(&server), &cmk);
    let env = wrap::seal(&key, &material(), &mut SysRng).unwrap();
    assert!(server.set_key_enabled(&cmk, false));
    let err = wrap::open(&key, &env, &mut SysRng).unwrap_err();
    let kms_err = err
        .kms()
        .unwrap_or_else(|| panic!("not a KMS error: {err}"));
    assert!(kms_err.is_key_unusable(), "{err}");
    assert_eq!(kms_err.code(), Some("Rejected.Disabled"));
    assert!(
        key.wrap(&mut SysRng, &[1; 16])
            .unwrap_err()
            .kms()
            .is_some_and(KmsError::is_key_unusable)
    );
    assert!(server.set_key_enabled(&cmk, true));
    wrap::open(&key, &env, &mut SysRng).unwrap();
}

#[test]
fn kms_5xx_is_retried_then_typed() {
    let server = kms();
    let cmk = server.create_key();
    let key = KmsMasterKey::new(client(&server), &cmk);
    // Two failures, then success within the default three attempts.
    server.set_faults(KmsFaultConfig {
        fail_first: 2,
        fail_status: 503,
        malformed_reply: false,
    });
    let before = server.request_count();
    key.wrap(&mut SysRng, &[2; 32]).unwrap();
    assert_eq!(server.request_count() - before, 3);
    // Persistent failure: three attempts, then a typed service error.
    server.set_faults(KmsFaultConfig {
        fail_first: 100,
        fail_status: 500,
        malformed_reply: false,
    });
    let before = server.request_count();
    let err = key.wrap(&mut SysRng, &[2; 32]).unwrap_err();
    assert_eq!(server.request_count() - before, 3);
    match err.kms() {
        Some(KmsError::Service {
            status,
            attempts,
            request_id,
            ..
        }) => {
            assert_eq!((*status, *attempts), (500, 3));
            assert!(!request_id.is_empty());
        }
        _ => panic!("{err}"),
    }
    assert!(err.to_string().contains("retry later"), "{err}");
}

#[test]
fn malformed_reply_and_unreachable_kms_are_typed() {
    let server = kms();
    let cmk = server.create_key();
    server.set_faults(KmsFaultConfig {
        malformed_reply: true,
        ..KmsFaultConfig::default()
    });
    let err = KmsMasterKey::new(client(&server), &cmk)
        .wrap(&mut SysRng, &[3; 32])
        .unwrap_err();
    assert!(
        matches!(
            err.kms(),
            Some(KmsError::Malformed {
                action: "Encrypt",
                status: 200,
                ..
            })
        ),
        "{err}"
    );
    let addr = server.addr();
    drop(server);
    let mut cfg = KmsConfig::with_endpoint(&format!("http://{addr}")).unwrap();
    cfg.retry.base_delay = Duration::from_millis(1);
    let gone = KmsClient::new(cfg, Credentials::new(AK, SK)).unwrap();
    let err = gone.encrypt(&cmk, "AAAA", None).unwrap_err();
    assert!(
        matches!(err, KmsError::Transport { attempts: 3, .. }),
        "{err}"
    );
}

#[test]
fn wrong_secret_and_sts_token_are_checked() {
    let server = kms();
    let cmk = server.create_key();
    let err = client_with(&server, "wrong")
        .encrypt(&cmk, "AAAA", None)
        .unwrap_err();
    assert!(err.is_auth(), "{err}");
    assert!(
        !err.to_string().contains("wrong"),
        "the secret leaked: {err}"
    );

    let mut cfg = KmsServerConfig::new(AK, SK, sign);
    cfg.security_token = Some("TOKEN".into());
    let sts = KmsServer::start(cfg).unwrap();
    let cmk = sts.create_key();
    let cfg = KmsConfig::with_endpoint(&sts.endpoint()).unwrap();
    let with = KmsClient::new(
        cfg.clone(),
        Credentials::new(AK, SK).with_security_token("TOKEN"),
    )
    .unwrap();
    let blob = with.encrypt(&cmk, "AAAA", None).unwrap().ciphertext_blob;
    assert_eq!(*with.decrypt(&blob, None).unwrap().plaintext, "AAAA");
    let without = KmsClient::new(cfg, Credentials::new(AK, SK)).unwrap();
    assert!(without.decrypt(&blob, None).unwrap_err().is_auth());
}

#[test]
fn generate_data_key_through_the_client() {
    let server = kms();
    let cmk = server.create_key();
    let c = client(&server);
    let dk = c
        .generate_data_key(&cmk, "AES_256", 32, Some(r#"{"x-passphrase":"p"}"#))
        .unwrap();
    assert_eq!(dk.plaintext.len(), 32);
    let back = c
        .decrypt(&dk.ciphertext_blob, Some(r#"{"x-passphrase":"p"}"#))
        .unwrap();
    assert_eq!(Base64::decode_vec(&back.plaintext).unwrap(), *dk.plaintext);
    assert_eq!(back.key_id, cmk);
}

fn fixtures() -> PathBuf {
    osscse_tests::python::repo_root().join("../shared/vectors/sdk-fixtures")
}

#[test]
fn legacy_oss2_kms_fixture_decrypts_with_its_recorded_plaintext() {
    let dir = fixtures();
    let Ok(meta) = std::fs::read_to_string(dir.join("legacy-oss2-kms.meta.json")) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "fixtures missing at {}",
            dir.display()
        );
        eprintln!("skipping: fixtures not found at {}", dir.display());
        return;
    };
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    let obj = meta.as_object().unwrap();
    let headers: Vec<(String, String)> = obj
        .iter()
        .filter(|(k, _)| k.starts_with("x-oss-meta-"))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let ObjectEncryption::Legacy(legacy) = envelope::parse(headers).unwrap() else {
        panic!("not a legacy envelope");
    };
    // The blobs are the real KMS's; the loopback KMS answers them with the recorded plaintexts,
    // in the form KMS returns them (base64 of the key, the decimal counter as is).
    let server = kms();
    let key_blob = obj["x-oss-meta-oss-crypto-key"].as_str().unwrap();
    let start_blob = obj["x-oss-meta-oss-crypto-start"].as_str().unwrap();
    server.record(key_blob, obj["base64-plain-key"].as_str().unwrap());
    server.record(start_blob, obj["plain-start"].as_str().unwrap());
    let m = open_legacy(&client(&server), &legacy, None).unwrap();
    assert_eq!(
        m.key().as_slice(),
        Base64::decode_vec(obj["base64-plain-key"].as_str().unwrap()).unwrap()
    );
    let mut counter = [0u8; 16];
    counter[15] = 8;
    assert_eq!(m.iv(), &counter);
    let mut data = std::fs::read(dir.join("legacy-oss2-kms.bin")).unwrap();
    assert_eq!(data.len(), 1 << 20);
    m.apply_at(0, &mut data);
    assert!(
        data.iter().all(|&b| b == b'a'),
        "legacy KMS object did not decrypt to 1 MiB of 'a'"
    );
}

fn python() -> Option<PathBuf> {
    let python = osscse_tests::python::interpreter()?;
    let ok = Command::new(&python)
        .args(["-c", "import aliyunsdkkms, aliyunsdkcore, oss2.crypto"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let why = "aliyun-python-sdk-kms is not installed in the venv (run `bash scripts/setup-python.sh`)";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and {why}"
        );
        eprintln!("skipping: {why}");
        return None;
    }
    Some(python)
}

fn script(name: &str) -> PathBuf {
    osscse_tests::python::repo_root()
        .join("tests/python")
        .join(name)
}

#[test]
fn official_python_kms_sdk_calls_the_loopback_kms() {
    let Some(python) = python() else { return };
    let server = kms();
    let cmk = server.create_key();
    let blob = client(&server)
        .encrypt(&cmk, "b3NzY3Nl", None)
        .unwrap()
        .ciphertext_blob;
    let out = Command::new(&python)
        .arg(script("kms_sdk.py"))
        .args([&server.addr().to_string(), AK, SK, &cmk, &blob])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["encrypt_decrypt"], "ok");
    assert_eq!(v["encrypt_decrypt_ctx"], "ok");
    assert_eq!(v["generate_data_key"], "ok");
    assert_eq!(v["rust_blob_plaintext"], "b3NzY3Nl");
    // aliyunsdkcore turns SignatureDoesNotMatch into InvalidAccessKeySecret only when the
    // server echoes the string to sign; either code means the signature was refused.
    let code = v["wrong_secret"].as_str().unwrap();
    assert!(
        code == "SignatureDoesNotMatch" || code == "InvalidAccessKeySecret",
        "{code}"
    );
}

const BUCKET: &str = "kms-interop";

fn payload(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(29) ^ (i >> 9) as u8)
        .collect()
}

fn oss2(
    python: &Path,
    oss: &Server,
    kms: &KmsServer,
    cmk: &str,
    action: &str,
    key: &str,
    file: &Path,
) {
    let out = Command::new(python)
        .arg(script("kms_oss2.py"))
        .args([action, key])
        .arg(file)
        .env("OSS_ENDPOINT", oss.endpoint())
        .env("OSS_BUCKET", BUCKET)
        .env("AK", AK)
        .env("SK", SK)
        .env("KMS_HOSTPORT", kms.addr().to_string())
        .env("KMS_CMK", cmk)
        .env("KMS_PASSPHRASE", "pw")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "oss2 {action} {key}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn oss2_crypto_bucket_with_ali_kms_provider_both_ways() {
    let Some(python) = python() else { return };
    let oss = Server::start(Config::new(AK, SK)).unwrap();
    let kms = kms();
    let cmk = kms.create_key();
    let dir = tempfile::tempdir().unwrap();
    let key = KmsMasterKey::new(client(&kms), &cmk).with_passphrase("pw");

    // oss2 writes (GenerateDataKey + Encrypt, double-base64 headers); osscse reads.
    let plain = payload(100_003);
    let src = dir.path().join("from-oss2");
    std::fs::write(&src, &plain).unwrap();
    oss2(&python, &oss, &kms, &cmk, "put", "by-oss2", &src);
    let stored = oss.object(BUCKET, "by-oss2").unwrap();
    let ObjectEncryption::Envelope(env) = envelope::parse(stored.meta.clone()).unwrap() else {
        panic!("oss2 wrote no envelope");
    };
    let m = wrap::open(&key, &env, &mut SysRng).unwrap();
    let mut data = stored.data.clone();
    assert_ne!(data, plain);
    m.apply_at(0, &mut data);
    assert_eq!(data, plain);

    // osscse writes with the oss2 encoding; oss2 reads.
    let writer = key.clone().with_encoding(HeaderEncoding::Oss2);
    let plain = payload(54_321);
    let m = material();
    let env = wrap::seal(&writer, &m, &mut SysRng).unwrap();
    let mut body = plain.clone();
    m.apply_at(0, &mut body);
    let mut cfg = ClientConfig::new(Endpoint::parse(&oss.endpoint()).unwrap());
    cfg.region = Some("cn-hangzhou".into());
    let oss_client = Client::new(cfg, Credentials::new(AK, SK)).unwrap();
    let mut req = Request::new("PUT", Some(BUCKET), Some("by-osscse"));
    req.headers = env
        .headers()
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
    req.body = Body::Bytes(&body);
    oss_client.send(req).unwrap();
    let dst = dir.path().join("from-osscse");
    oss2(&python, &oss, &kms, &cmk, "get", "by-osscse", &dst);
    assert_eq!(std::fs::read(&dst).unwrap(), plain);
}

#[test]
fn one_keyring_of_rsa_and_kms_keys_picks_by_matdesc() {
    use osscse_core::wrap::RsaMasterKey;
    use osscse_std::kms::AnyMasterKey;
    let server = kms();
    let cmk = server.create_key();
    let pair = osscse_std::keys::generate_rsa(2048).unwrap();
    let rsa: AnyMasterKey = RsaMasterKey::from_private_pem(&pair.private_pem)
        .unwrap()
        .with_matdesc(Matdesc::parse(r#"{"key": "rsa"}"#).unwrap())
        .into();
    let kms_key: AnyMasterKey = KmsMasterKey::new(client(&server), &cmk)
        .with_matdesc(Matdesc::parse(r#"{"key":"kms"}"#).unwrap())
        .into();
    let ring = [&rsa, &kms_key];
    for (writer, alg) in [
        (&rsa, envelope::WrapAlg::Rsa),
        (&kms_key, envelope::WrapAlg::Kms),
    ] {
        let m = material();
        let env = wrap::seal(writer, &m, &mut SysRng).unwrap();
        assert_eq!(env.wrap_alg, alg);
        // Python-style spacing in the stored matdesc still selects the right key.
        let picked = wrap::select(&ring, Some(&rsa), env.matdesc.as_ref()).unwrap();
        assert!(std::ptr::eq(picked, writer));
        let opened = wrap::open(picked, &env, &mut SysRng).unwrap();
        assert_eq!(opened.key(), m.key());
        // The other key refuses with a typed algorithm mismatch.
        let other = if std::ptr::eq(writer, &rsa) {
            &kms_key
        } else {
            &rsa
        };
        assert!(matches!(
            wrap::open(other, &env, &mut SysRng).unwrap_err(),
            osscse_std::Error::Core(osscse_core::Error::Wrap(WrapError::AlgorithmMismatch))
        ));
    }
}

#[test]
fn config_from_cli_style_options() {
    let c = KmsConfig::from_options(Some("cn-shanghai"), None).unwrap();
    assert_eq!(c.endpoint, "https://kms.cn-shanghai.aliyuncs.com");
    assert_eq!(c.region.as_deref(), Some("cn-shanghai"));
    let c = KmsConfig::from_options(Some("cn-shanghai"), Some("http://127.0.0.1:9100/")).unwrap();
    assert_eq!(c.endpoint, "http://127.0.0.1:9100");
    assert_eq!(c.region.as_deref(), Some("cn-shanghai"));
    let c = KmsConfig::from_options(None, Some("https://kms-vpc.example")).unwrap();
    assert_eq!(c.region, None);
    for (r, e) in [
        (None, None),
        (Some("CN hangzhou"), None),
        (None, Some("ftp://x")),
        (None, Some("http://h/path")),
    ] {
        let err = KmsConfig::from_options(r, e).unwrap_err();
        assert!(matches!(err, KmsError::Config(_)), "{r:?} {e:?}: {err}");
    }
}
