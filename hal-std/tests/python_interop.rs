//! Two-way interop through the loopback server with the official Python SDKs' encryption
//! clients (alibabacloud-oss-v2 and oss2): objects they put, osscse gets (whole and ranged,
//! single and multipart), and objects osscse puts, they get. Python writes matdesc
//! `{"k": "v"}`; osscse finds the key registered as `{"k":"v"}` (not its default key).
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use osscse_core::content::ByteRange;
use osscse_core::envelope::Matdesc;
use osscse_core::sign::Credentials;
use osscse_std::blocking::Client;
use osscse_std::blocking::EncryptionClient;
use osscse_std::encryption::UploadOptions;
use osscse_std::keys::{Keyring, load_rsa_key};
use osscse_std::local::PutOptions;
use osscse_std::{ClientConfig, Endpoint};
use osscse_tests::{Config, Server};

const BUCKET: &str = "interop";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

struct Py<'a> {
    python: PathBuf,
    server: &'a Server,
}

impl Py<'_> {
    fn run(&self, sdk: &str, action: &str, key: &str, file: &Path, range: Option<(u64, u64)>) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/interop.py");
        let mut cmd = Command::new(&self.python);
        cmd.arg(script).args([sdk, action, key]).arg(file);
        cmd.arg(data_dir().join("test-a-private.pem"))
            .arg(data_dir().join("test-a-public.pem"));
        if let Some((a, b)) = range {
            cmd.args([a.to_string(), b.to_string()]);
        }
        cmd.env("OSS_ENDPOINT", self.server.endpoint())
            .env("OSS_AK", "ak")
            .env("OSS_SK", "sk")
            .env("OSS_BUCKET", BUCKET);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{sdk} {action} {key}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn client(server: &Server, keys: Keyring) -> EncryptionClient {
    let mut cfg = ClientConfig::new(Endpoint::parse(&server.endpoint()).unwrap());
    cfg.region = Some("cn-hangzhou".into());
    EncryptionClient::new(
        Client::new(cfg, Credentials::new("ak", "sk")).unwrap(),
        keys,
    )
}

#[test]
fn python_sdks_and_osscse_read_each_others_objects() {
    let Some(python) = osscse_tests::python::interpreter() else {
        return;
    };
    let server = Server::start(Config::new("ak", "sk")).unwrap();
    let py = Py {
        python,
        server: &server,
    };
    let dir = tempfile::tempdir().unwrap();
    let a_private = load_rsa_key(&data_dir().join("test-a-private.pem")).unwrap();
    // Reader: a default key that is NOT the writer's, plus the writer's key under the compact
    // spelling of the matdesc Python writes with a space.
    let reader = client(
        &server,
        Keyring::new(load_rsa_key(&data_dir().join("test-b-private.pem")).unwrap()).with_key(
            a_private
                .clone()
                .with_matdesc(Matdesc::parse(r#"{"k":"v"}"#).unwrap()),
        ),
    );
    let writer = client(
        &server,
        Keyring::new(a_private.with_matdesc(Matdesc::parse(r#"{"k":"v"}"#).unwrap())),
    );

    let single = payload(3000, 1);
    let multi = payload(250 * 1024 + 7, 2);
    let single_path = dir.path().join("single");
    let multi_path = dir.path().join("multi");
    std::fs::write(&single_path, &single).unwrap();
    std::fs::write(&multi_path, &multi).unwrap();

    for sdk in ["v2", "oss2"] {
        // They put, osscse gets.
        py.run(sdk, "put", &format!("{sdk}/single"), &single_path, None);
        py.run(sdk, "put-mp", &format!("{sdk}/multi"), &multi_path, None);
        let stored = server.object(BUCKET, &format!("{sdk}/single")).unwrap();
        assert_eq!(
            stored.meta("x-oss-meta-client-side-encryption-matdesc"),
            Some(r#"{"k": "v"}"#)
        );
        assert_eq!(
            reader
                .get_object_bytes(BUCKET, &format!("{sdk}/single"), None)
                .unwrap(),
            single,
            "{sdk}"
        );
        assert_eq!(
            reader
                .get_object_bytes(BUCKET, &format!("{sdk}/multi"), None)
                .unwrap(),
            multi,
            "{sdk}"
        );
        for (a, b) in [(0u64, 0u64), (1, 2999), (1000, 1999), (17, 47)] {
            let got = reader
                .get_object_bytes(
                    BUCKET,
                    &format!("{sdk}/single"),
                    Some(ByteRange::Bounded { first: a, last: b }),
                )
                .unwrap();
            assert_eq!(got, &single[a as usize..=b as usize], "{sdk} {a}-{b}");
        }
        let got = reader
            .get_object_bytes(
                BUCKET,
                &format!("{sdk}/multi"),
                Some(ByteRange::Suffix { len: 5000 }),
            )
            .unwrap();
        assert_eq!(got, &multi[multi.len() - 5000..]);
        let got = reader
            .get_object_bytes(
                BUCKET,
                &format!("{sdk}/multi"),
                Some(ByteRange::Bounded {
                    first: 102_390,
                    last: 204_810,
                }),
            )
            .unwrap();
        assert_eq!(got, &multi[102_390..=204_810]);

        // osscse puts, they get.
        writer
            .put_source(
                BUCKET,
                &format!("rs-{sdk}/single"),
                &single,
                &PutOptions::default(),
            )
            .unwrap();
        let opts = UploadOptions {
            part_size: Some(102_400),
            jobs: Some(3),
            ..UploadOptions::default()
        };
        writer
            .upload_file(BUCKET, &format!("rs-{sdk}/multi"), &multi_path, &opts, None)
            .unwrap();
        let out = dir.path().join(format!("{sdk}-out"));
        py.run(sdk, "get", &format!("rs-{sdk}/single"), &out, None);
        assert_eq!(
            std::fs::read(&out).unwrap(),
            single,
            "{sdk} reads osscse single"
        );
        py.run(sdk, "get", &format!("rs-{sdk}/multi"), &out, None);
        assert!(
            std::fs::read(&out).unwrap() == multi,
            "{sdk} reads osscse multipart"
        );
        py.run(
            sdk,
            "get-range",
            &format!("rs-{sdk}/multi"),
            &out,
            Some((102_390, 204_810)),
        );
        assert_eq!(
            std::fs::read(&out).unwrap(),
            &multi[102_390..=204_810],
            "{sdk} ranged"
        );
    }
}
