//! Profiles: a `~/.ossutilconfig` written as ossutil writes it drives `ls`, `put` and `get`;
//! `--profile` picks an ossutil 2.0 `[profile NAME]` section with osscse's own key settings;
//! flags and the environment win over the profile; `config show` masks secrets.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "support/cli.rs"]
mod support;

use support::{Oss, data, keygen, osscse, p, stderr};

const ID: &str = "LTAI5tProfileKeyId";
const SECRET: &str = "Pr0fileS3cretValue";

#[test]
fn an_ossutil_config_file_drives_ls_put_and_get() {
    let oss = Oss::start_with(ID, SECRET);
    let home = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&home.path().join("keys"));
    // As `ossutil config` (1.x) writes it.
    std::fs::write(
        home.path().join(".ossutilconfig"),
        format!(
            "[Credentials]\nlanguage=EN\nendpoint={}\naccessKeyID={ID}\naccessKeySecret={SECRET}\n",
            oss.server.endpoint()
        ),
    )
    .unwrap();
    let src = home.path().join("in.bin");
    let plain = data(300_000, 9);
    std::fs::write(&src, &plain).unwrap();
    let cmd = || {
        let mut c = osscse();
        c.env("HOME", home.path()).env("OSS_REGION", "cn-hangzhou");
        c
    };
    cmd()
        .args([
            "put",
            p(&src),
            "oss://bkt/p/in.bin",
            "--public-key",
            p(&public),
        ])
        .assert()
        .success();
    let ls = cmd()
        .args(["ls", "oss://bkt/p/"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(ls)
            .unwrap()
            .contains("oss://bkt/p/in.bin")
    );
    let out = home.path().join("out.bin");
    cmd()
        .args([
            "get",
            "oss://bkt/p/in.bin",
            p(&out),
            "--private-key",
            p(&private),
        ])
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), plain);

    // The environment wins over the profile (a wrong secret: 403, exit 4).
    cmd()
        .env("OSS_ACCESS_KEY_ID", ID)
        .env("OSS_ACCESS_KEY_SECRET", "wrong")
        .args(["ls", "oss://bkt/p/"])
        .assert()
        .code(4);
    // A flag wins over the profile's endpoint (nothing listens there: exit 7).
    cmd()
        .args(["--endpoint", "http://127.0.0.1:1", "ls", "oss://bkt/p/"])
        .assert()
        .code(7);

    // config show: where each setting comes from, secrets masked.
    let show = cmd()
        .args(["config", "show"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let show = String::from_utf8(show).unwrap();
    assert!(!show.contains(SECRET) && !show.contains(ID), "{show}");
    assert!(
        show.contains("LTAI****") && show.contains("[Credentials]"),
        "{show}"
    );
    assert!(show.contains(&oss.server.endpoint()), "{show}");
}

#[test]
fn profiles_carry_osscse_keys_and_are_named() {
    let oss = Oss::start_with(ID, SECRET);
    let home = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&home.path().join("keys"));
    let config = home.path().join("custom.ini");
    // As ossutil 2.0 writes it, plus osscse's own settings in the profile.
    std::fs::write(
        &config,
        format!(
            "[default]\naccessKeyId = nobody\naccessKeySecret = nothing\n\n[profile dev]\n\
             accessKeyId = {ID}\naccessKeySecret = {SECRET}\nregion = cn-hangzhou\n\
             endpoint = {}\npublic-key = {}\nprivate-key = {}\nmatdesc = {{\"team\":\"dev\"}}\n",
            oss.server.endpoint(),
            p(&public),
            p(&private)
        ),
    )
    .unwrap();
    let tree = home.path().join("tree");
    std::fs::create_dir_all(tree.join("d")).unwrap();
    std::fs::write(tree.join("d/x.txt"), b"profile data").unwrap();
    let cmd = || {
        let mut c = osscse();
        c.args(["--config-file", p(&config), "--profile", "dev"]);
        c
    };
    cmd()
        .args(["cp", "-r", p(&tree), "oss://bkt/t/"])
        .assert()
        .success();
    let stored = oss.server.object("bkt", "t/d/x.txt").unwrap();
    assert_eq!(
        stored.meta("x-oss-meta-client-side-encryption-matdesc"),
        Some(r#"{"team":"dev"}"#)
    );
    let out = home.path().join("out");
    cmd()
        .args(["cp", "-r", "oss://bkt/t/", p(&out)])
        .assert()
        .success();
    assert_eq!(std::fs::read(out.join("d/x.txt")).unwrap(), b"profile data");
    // [default] has other credentials: 403 (exit 4).
    osscse()
        .args(["--config-file", p(&config), "ls", "oss://bkt/t/"])
        .env("OSS_ENDPOINT", oss.server.endpoint())
        .assert()
        .code(4);
    // A profile that does not exist, and a missing explicit file: configuration errors.
    osscse()
        .args([
            "--config-file",
            p(&config),
            "--profile",
            "nope",
            "ls",
            "oss://bkt/",
        ])
        .assert()
        .code(4);
    osscse()
        .args([
            "--config-file",
            p(&home.path().join("missing.ini")),
            "ls",
            "oss://bkt/",
        ])
        .assert()
        .code(4);
    let show = cmd()
        .args(["config", "show"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let show = String::from_utf8(show).unwrap();
    assert!(!show.contains(SECRET), "{show}");
    assert!(
        show.contains(p(&private)) && show.contains("[profile dev]"),
        "{show}"
    );
}

/// `put` takes its writer key from the profile when no flag names one, as `cp` and `sync` do:
/// `public-key` (with the profile's `matdesc`), or `symmetric-key`, which also reads; a flag
/// still wins, and with no key anywhere the error names both places (exit 4).
#[test]
fn put_takes_its_writer_key_from_the_profile() {
    let oss = Oss::start_with(ID, SECRET);
    let home = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&home.path().join("keys"));
    let sym = home.path().join("keys/cmk.key");
    osscse()
        .args(["keygen", "--symmetric", "--out", p(&sym)])
        .assert()
        .success();
    let config = home.path().join("osscse.ini");
    let profile = |keys: &str| {
        std::fs::write(
            &config,
            format!(
                "[default]\naccessKeyId = {ID}\naccessKeySecret = {SECRET}\nregion = cn-hangzhou\n\
                 endpoint = {}\n{keys}",
                oss.server.endpoint()
            ),
        )
        .unwrap();
    };
    let src = home.path().join("src.bin");
    let plain = data(5000, 3);
    std::fs::write(&src, &plain).unwrap();
    let out = home.path().join("out.bin");
    let run = |args: &[&str]| {
        let mut c = osscse();
        c.args(["--config-file", p(&config)]).args(args);
        c.assert()
    };

    profile(&format!(
        "public-key = {}\nprivate-key = {}\nmatdesc = {{\"team\":\"ops\"}}\n",
        p(&public),
        p(&private)
    ));
    run(&["put", p(&src), "oss://bkt/rsa.bin"]).success();
    let stored = oss.server.object("bkt", "rsa.bin").unwrap();
    assert_eq!(
        stored.meta("x-oss-meta-client-side-encryption-wrap-alg"),
        Some("RSA/NONE/PKCS1Padding")
    );
    assert_eq!(
        stored.meta("x-oss-meta-client-side-encryption-matdesc"),
        Some(r#"{"team":"ops"}"#)
    );
    run(&["get", "oss://bkt/rsa.bin", p(&out)]).success();
    assert_eq!(std::fs::read(&out).unwrap(), plain);

    profile(&format!("symmetric-key = {}\n", p(&sym)));
    run(&["put", p(&src), "oss://bkt/sym.bin"]).success();
    assert_eq!(
        oss.server
            .object("bkt", "sym.bin")
            .unwrap()
            .meta("x-oss-meta-client-side-encryption-wrap-alg"),
        Some("AES/GCM/NoPadding")
    );
    run(&["get", "oss://bkt/sym.bin", p(&out)]).success();
    assert_eq!(std::fs::read(&out).unwrap(), plain);
    // A flag wins over the profile's key.
    run(&[
        "put",
        p(&src),
        "oss://bkt/flag.bin",
        "--public-key",
        p(&public),
    ])
    .success();
    assert_eq!(
        oss.server
            .object("bkt", "flag.bin")
            .unwrap()
            .meta("x-oss-meta-client-side-encryption-wrap-alg"),
        Some("RSA/NONE/PKCS1Padding")
    );

    profile("");
    let err = stderr(&run(&["put", p(&src), "oss://bkt/none.bin"]).code(4));
    assert!(
        err.contains("--public-key") && err.contains("config profile"),
        "{err}"
    );
    assert!(oss.server.object("bkt", "none.bin").is_none());
}
