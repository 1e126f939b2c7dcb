//! Finding the Python interpreter of the venv made by scripts/setup-python.sh.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

/// The venv interpreter (`OSSCSE_PYTHON`, else `<repo>/.venv/bin/python`), or `None` after
/// printing why. Under `CI=true` a missing interpreter fails the test.
pub fn interpreter() -> Option<PathBuf> {
    let path = std::env::var_os("OSSCSE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"));
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} missing (CI=true): run `bash scripts/setup-python.sh`",
            path.display()
        );
    }
    eprintln!(
        "skipping: no Python venv at {} (run `bash scripts/setup-python.sh`)",
        path.display()
    );
    None
}
