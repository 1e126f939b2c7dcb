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

/// A Python script of `tests/python/` run with the venv interpreter, and a scratch directory
/// for its files (removed on drop).
pub struct Script {
    exe: PathBuf,
    script: PathBuf,
    dir: PathBuf,
}

impl Script {
    /// `tests/python/<name>` with a fresh scratch directory named after `test`, or `None`
    /// (after printing why) when there is no venv (see [`interpreter`]).
    pub fn new(name: &str, test: &str) -> Option<Self> {
        let exe = interpreter()?;
        let dir = std::env::temp_dir().join(format!(
            "osscse-{}-{test}-{}",
            name.trim_end_matches(".py"),
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/python")
            .join(name);
        Some(Self { exe, script, dir })
    }

    /// Runs the script with `args` and returns what it did (it may fail).
    pub fn output<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> std::process::Output {
        std::process::Command::new(&self.exe)
            .arg(&self.script)
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs the script with `args`; panics with its stderr when it fails.
    pub fn run<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(&self, args: &[S]) {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "python {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }

    /// The scratch directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
