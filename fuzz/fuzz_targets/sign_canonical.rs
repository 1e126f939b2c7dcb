//! Signing canonicalization (V4 canonical request, V1 canonical resource and string to sign)
//! never panics on arbitrary methods, keys, query parameters and headers, and is deterministic.
//! The body is `osscse_core::fuzzing::sign_canonical`, which `core/tests/fuzz_replay.rs` also runs over
//! every seed and regression input on stable Rust.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| osscse_core::fuzzing::sign_canonical(data));
