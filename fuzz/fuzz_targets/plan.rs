//! Range and multipart planning: never panic, and every plan keeps its invariants.
//! The body is `osscse_core::fuzzing::plan`, which `core/tests/fuzz_replay.rs` also runs over
//! every seed and regression input on stable Rust.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| osscse_core::fuzzing::plan(data));
