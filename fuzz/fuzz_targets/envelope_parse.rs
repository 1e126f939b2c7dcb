//! Envelope headers: parse never panics, and parse -> emit -> parse is stable (byte-identical
//! header values, equal envelopes). Input: `name: value` lines.
//! The body is `osscse_core::fuzzing::envelope_parse`, which `core/tests/fuzz_replay.rs` also runs over
//! every seed and regression input on stable Rust.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| osscse_core::fuzzing::envelope_parse(data));
