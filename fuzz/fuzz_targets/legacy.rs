//! The legacy oss2 format: header parsing never panics, and the decimal counter parser agrees
//! with u128 arithmetic.
//! The body is `osscse_core::fuzzing::legacy`, which `core/tests/fuzz_replay.rs` also runs over
//! every seed and regression input on stable Rust.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| osscse_core::fuzzing::legacy(data));
