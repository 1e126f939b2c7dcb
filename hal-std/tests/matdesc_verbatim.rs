//! `osscse put --matdesc` writes the matdesc text exactly as given, so the official Python v2
//! SDK's multi-key reader (which looks its keys up by the exact matdesc string) picks the
//! right key: a user with k1 (default) and k2 (`mat_desc={'desc':'k2'}`) reads an object that
//! osscse wrote with k2 and `--matdesc '{"desc": "k2"}'` (the text Python's json.dumps gives).
#![allow(clippy::unwrap_used, clippy::std_instead_of_core)]

use std::path::Path;
use std::process::Command;

use assert_cmd::Command as BinCommand;
use osscse_tests::{Config, Server};

const BUCKET: &str = "interop";

fn osscse(server: &Server) -> BinCommand {
    let mut c = BinCommand::cargo_bin("osscse").unwrap();
    c.env_remove("OSS_SESSION_TOKEN")
        .env("OSS_ENDPOINT", server.endpoint())
        .env("OSS_REGION", "cn-hangzhou")
        .env("OSS_ACCESS_KEY_ID", "AK")
        .env("OSS_ACCESS_KEY_SECRET", "SK");
    c
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn python_v2_multi_key_reader_picks_the_key_by_the_verbatim_matdesc() {
    let Some(python) = osscse_tests::python::interpreter() else {
        return;
    };
    let server = Server::start(Config::new("AK", "SK")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (k1, k2) = (dir.path().join("k1"), dir.path().join("k2"));
    for k in [&k1, &k2] {
        BinCommand::cargo_bin("osscse")
            .unwrap()
            .args(["keygen", "--bits", "2048", "--out", p(k)])
            .assert()
            .success();
    }
    let src = dir.path().join("in");
    let body: Vec<u8> = (0..100_003u32).map(|i| (i * 7 + i / 13) as u8).collect();
    std::fs::write(&src, &body).unwrap();
    let python_form = r#"{"desc": "k2"}"#;
    let dst = format!("oss://{BUCKET}/multikey/obj");
    osscse(&server)
        .args([
            "put",
            p(&src),
            &dst,
            "--public-key",
            p(&k2.join("public.pem")),
        ])
        .args(["--matdesc", python_form])
        .assert()
        .success();
    let stored = server.object(BUCKET, "multikey/obj").unwrap();
    assert_eq!(
        stored.meta("x-oss-meta-client-side-encryption-matdesc"),
        Some(python_form),
        "the matdesc text is stored exactly as given"
    );

    let out = dir.path().join("out");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/multikey.py");
    let status = Command::new(&python)
        .arg(&script)
        .args(["multikey/obj", p(&out)])
        .args([k1.join("private.pem"), k1.join("public.pem")])
        .args([k2.join("private.pem"), k2.join("public.pem")])
        .env("OSS_ENDPOINT", server.endpoint())
        .env("OSS_AK", "AK")
        .env("OSS_SK", "SK")
        .env("OSS_BUCKET", BUCKET)
        .status()
        .unwrap();
    assert!(status.success(), "the Python v2 multi-key reader failed");
    assert_eq!(std::fs::read(&out).unwrap(), body);

    // The Go form of the same matdesc is not what Python registered: its reader would fall
    // back to k1 and fail, which is why osscse no longer rewrites the text.
    osscse(&server)
        .args(["put", p(&src), &format!("oss://{BUCKET}/multikey/go")])
        .args([
            "--public-key",
            p(&k2.join("public.pem")),
            "--matdesc",
            r#"{"desc":"k2"}"#,
        ])
        .assert()
        .success();
    let status = Command::new(&python)
        .arg(&script)
        .args(["multikey/go", p(&dir.path().join("out-go"))])
        .args([k1.join("private.pem"), k1.join("public.pem")])
        .args([k2.join("private.pem"), k2.join("public.pem")])
        .env("OSS_ENDPOINT", server.endpoint())
        .env("OSS_AK", "AK")
        .env("OSS_SK", "SK")
        .env("OSS_BUCKET", BUCKET)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(
        !status.success(),
        "Python v2 matches matdesc text, not JSON"
    );
}
