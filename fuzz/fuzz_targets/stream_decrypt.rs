//! Streaming decryption under arbitrary chunking (and a start offset) equals one-shot
//! decryption; the writer with arbitrary short writes equals it too.
//! The body is `osscse_core::fuzzing::stream_decrypt`, which `core/tests/fuzz_replay.rs` also runs over
//! every seed and regression input on stable Rust.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| osscse_core::fuzzing::stream_decrypt(data));
