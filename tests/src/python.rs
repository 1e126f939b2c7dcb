//! Running the official Python SDKs from Rust tests.
//!
//! The interpreter is `$OSSCSE_PYTHON`, else `<repo>/.venv/bin/python` (created by
//! `bash scripts/setup-python.sh`). Without it, tests skip with a printed reason, except under
//! `CI=true`, where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// The venv interpreter, if usable. Panics under `CI=true` when it is missing; otherwise prints
/// why the caller should skip and returns `None`.
pub fn interpreter() -> Option<PathBuf> {
    let path = std::env::var_os("OSSCSE_PYTHON")
        .map_or_else(|| repo_root().join(".venv/bin/python"), PathBuf::from);
    let ok = Command::new(&path)
        .args(["-c", "import oss2, alibabacloud_oss_v2, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(path);
    }
    let why = format!(
        "Python with oss2, alibabacloud-oss-v2 and cryptography not found at {} (run `bash scripts/setup-python.sh` or set OSSCSE_PYTHON)",
        path.display()
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and {why}"
    );
    eprintln!("skipping: {why}");
    None
}

/// Runs `script` (a path relative to `tests/python/`) with `args` and the given environment.
///
/// # Panics
/// If the interpreter cannot be started.
pub fn run(python: &Path, script: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(script);
    let mut cmd = Command::new(python);
    cmd.arg(script).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()))
}
