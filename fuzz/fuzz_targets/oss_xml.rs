//! OSS XML answers (errors, InitiateMultipartUpload, ListParts, ListObjects): the bounded parser
//! never panics, and a ListParts answer rebuilt by `complete_body` lists the same parts.
//! The body is `osscse_std::fuzzing::oss_xml`, which `hal-std/tests/fuzz_replay.rs` also runs
//! over every seed and regression input on stable Rust.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| osscse_std::fuzzing::oss_xml(data));
