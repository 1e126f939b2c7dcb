//! Replays every `oss_xml` fuzz seed and crash input ever found (`fuzz/seeds/oss_xml/`,
//! `fuzz/regressions/oss_xml/`) through the function the fuzz target calls, on stable Rust.
#![allow(clippy::unwrap_used, clippy::std_instead_of_core)]

use std::fs;
use std::path::Path;

#[test]
fn every_oss_xml_seed_and_regression_passes() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut replayed = 0;
    for kind in ["seeds", "regressions"] {
        let Ok(entries) = fs::read_dir(fuzz.join(kind).join("oss_xml")) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for path in files {
            let data = fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| osscse_std::fuzzing::oss_xml(&data));
            assert!(outcome.is_ok(), "{} fails again", path.display());
            replayed += 1;
        }
    }
    assert!(
        replayed > 0,
        "no oss_xml seeds found under {}",
        fuzz.display()
    );
}
