//! The binary's own exit codes for usage mistakes: bucket names and object keys are checked
//! with OSS's rules before any request is sent, and `--help` shows examples.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "support/cli.rs"]
mod support;

use support::{Oss, keygen, p};

#[test]
fn invalid_bucket_names_and_keys_fail_with_exit_2_before_any_request() {
    let oss = Oss::start();
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&dir.path().join("keys"));
    let src = dir.path().join("in.txt");
    std::fs::write(&src, b"hello").unwrap();
    let long_key = format!("oss://bkt/{}", "k".repeat(1024));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "put",
                p(&src),
                "oss://Bad_Bucket/k",
                "--public-key",
                p(&public),
            ],
            "bucket name",
        ),
        (
            vec!["put", p(&src), "oss://ab/k", "--public-key", p(&public)],
            "3 to 63",
        ),
        (
            vec!["put", p(&src), "oss://-bkt/k", "--public-key", p(&public)],
            "start and end",
        ),
        (
            vec!["put", p(&src), &long_key, "--public-key", p(&public)],
            "1023 bytes",
        ),
        (
            vec!["get", "oss://bkt//abs", "out", "--private-key", p(&private)],
            "must not start",
        ),
        (vec!["head", "oss://bkt/\\k"], "must not start"),
        (vec!["ls", "oss://UPPER"], "lower-case"),
        (vec!["rm", "s3://bkt/k"], "not a location"),
        (
            vec!["cp", p(&src), "oss://a.b/k", "--public-key", p(&public)],
            "bucket name",
        ),
        (
            vec![
                "cp",
                "-r",
                p(dir.path()),
                "oss://BKT/x/",
                "--public-key",
                p(&public),
            ],
            "bucket name",
        ),
    ];
    for (args, why) in cases {
        let out = oss.cmd().args(&args).assert().code(2).get_output().clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(err.starts_with("osscse: error: "), "{err}");
    }
    assert_eq!(oss.server.request_count(), 0, "nothing was sent");
    // A valid name goes through (and reaches the server).
    oss.cmd()
        .args([
            "put",
            p(&src),
            "oss://my-bucket-01/a b/ü.txt",
            "--public-key",
            p(&public),
        ])
        .assert()
        .success();
    assert!(oss.server.object("my-bucket-01", "a b/ü.txt").is_some());
}

#[test]
fn help_shows_examples_and_the_exit_codes() {
    let out = support::osscse()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .clone();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Examples:"), "{help}");
    assert!(
        help.contains("osscse cp -r photos/ oss://my-bucket/photos/"),
        "{help}"
    );
    assert!(help.contains("2 usage"), "{help}");
}
