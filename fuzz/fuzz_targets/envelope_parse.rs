//! Envelope headers: parse never panics, and parse -> emit -> parse is stable (byte-identical
//! header values, equal envelopes). Input: `name: value` lines.
#![no_main]
use libfuzzer_sys::fuzz_target;
use osscse_core::envelope::{ObjectEncryption, parse};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n, v.trim()))
        .collect();
    if let Ok(ObjectEncryption::Envelope(env)) = parse(pairs.iter().copied()) {
        let emitted = env.headers();
        let again =
            parse(emitted.iter().map(|(n, v)| (*n, v.as_str()))).expect("emitted headers parse");
        assert_eq!(again, ObjectEncryption::Envelope(env.clone()));
        let ObjectEncryption::Envelope(env2) = again else {
            unreachable!()
        };
        assert_eq!(env2.headers(), emitted, "emission is canonical");
    }
});
