//! Small pieces every report binary needs: the CPU model to print beside absolute figures, the
//! median of a run's samples, and the release build of another binary of the workspace.

use std::path::PathBuf;
use std::process::Command;

/// The CPU model from /proc/cpuinfo, or the architecture's name where there is none.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// The median of `v` (the mean of the middle two for an even count).
///
/// # Panics
/// When `v` is empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    assert!(!v.is_empty(), "median of no samples");
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Builds binary `bin` of workspace package `pkg` in release mode (a no-op when it is up to
/// date) and returns its path under `CARGO_TARGET_DIR` or the workspace's `target/`.
///
/// # Panics
/// When cargo cannot be run or the build fails.
pub fn release_binary(pkg: &str, bin: &str) -> PathBuf {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--quiet", "--release", "-p", pkg, "--bin", bin])
        .status()
        .expect("cargo build");
    assert!(status.success(), "building {bin} failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("release").join(bin)
}
