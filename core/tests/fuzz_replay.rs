//! Replays every fuzz seed (`fuzz/seeds/<target>/`) and every crash input ever found
//! (`fuzz/regressions/<target>/`) through the function the cargo-fuzz target calls, so a plain
//! `cargo test` on stable Rust catches a regression without cargo-fuzz or nightly.

use std::fs;
use std::path::{Path, PathBuf};

use osscse_core::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted (an absent directory has none).
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.expect("read fuzz input directory").path())
            .filter(|p| p.is_file())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    files.sort();
    files
}

#[test]
fn every_seed_and_regression_passes_its_target() {
    let mut replayed = 0;
    for (target, check) in TARGETS {
        for path in inputs("seeds", target)
            .into_iter()
            .chain(inputs("regressions", target))
        {
            let data = fs::read(&path).expect("read fuzz input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target}: {} fails again", path.display());
            replayed += 1;
        }
    }
    // Every core target has at least one seed; a count of zero means the paths broke.
    assert!(replayed >= TARGETS.len(), "only {replayed} inputs replayed");
}

#[test]
fn every_regression_directory_belongs_to_a_target() {
    let known: Vec<&str> = TARGETS.iter().map(|(t, _)| *t).collect();
    let targets_dir = fuzz_dir().join("fuzz_targets");
    for entry in fs::read_dir(fuzz_dir().join("regressions")).expect("fuzz/regressions exists") {
        let path = entry.expect("read fuzz/regressions").path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 name");
        let target_file = targets_dir.join(format!("{name}.rs"));
        assert!(
            known.contains(&name) || target_file.exists(),
            "fuzz/regressions/{name} names no fuzz target"
        );
    }
}

#[test]
fn the_empty_matdesc_input_is_kept_and_stable() {
    let files = inputs("regressions", "envelope_parse");
    assert!(
        files
            .iter()
            .any(|p| fs::read_to_string(p).is_ok_and(|t| t.contains("matdesc: {}"))),
        "fuzz/regressions/envelope_parse must hold the `matdesc: {{}}` input"
    );
}
