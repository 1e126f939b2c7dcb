//! The legacy oss2 format: header parsing never panics, and the decimal counter parser agrees
//! with u128 arithmetic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use osscse_core::envelope::{
    LEGACY_HEADER_CEK_ALG, LEGACY_HEADER_KEY, LEGACY_HEADER_START, LEGACY_HEADER_WRAP_ALG, parse,
};
use osscse_core::wrap::legacy_counter;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let headers = [
        LEGACY_HEADER_KEY,
        LEGACY_HEADER_START,
        LEGACY_HEADER_CEK_ALG,
        LEGACY_HEADER_WRAP_ALG,
    ];
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|h| (*h, parts.next().unwrap_or("")))
        .collect();
    let _ = parse(pairs);
    match (
        legacy_counter(data),
        core::str::from_utf8(data)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u128>().ok()),
    ) {
        (Ok(block), Some(n)) => assert_eq!(u128::from_be_bytes(block), n),
        (Ok(_), None) => panic!("accepted a non-decimal or oversized counter"),
        (Err(_), Some(_)) if !data.is_empty() && data.len() <= 39 => {
            panic!("refused a valid counter")
        }
        _ => {}
    }
});
