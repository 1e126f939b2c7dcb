//! matdesc JSON: strict parse never panics; the canonical form re-parses to an equal matdesc and
//! is a fixed point; building from the pairs gives the same canonical text.
//! The body is `osscse_core::fuzzing::matdesc`, which `core/tests/fuzz_replay.rs` also runs over
//! every seed and regression input on stable Rust.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| osscse_core::fuzzing::matdesc(data));
