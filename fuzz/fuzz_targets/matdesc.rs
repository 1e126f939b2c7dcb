//! matdesc JSON: strict parse never panics; the canonical form re-parses to an equal matdesc and
//! is a fixed point; building from the pairs gives the same canonical text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use osscse_core::envelope::Matdesc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = Matdesc::parse(text) {
        let canonical = m.canonical();
        let again = Matdesc::parse(&canonical).expect("canonical form parses");
        assert_eq!(again, m);
        assert_eq!(again.canonical(), canonical);
        let rebuilt = Matdesc::from_pairs(m.iter().map(|(k, v)| (k.to_owned(), v.to_owned())))
            .expect("pairs are unique");
        assert_eq!(rebuilt.as_str(), canonical);
    }
});
