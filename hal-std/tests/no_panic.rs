//! Parsers of untrusted input never panic: XML answers, endpoints, headers.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use osscse_std::Endpoint;
use osscse_std::fuzzing::{crc64, retry, xml};
use proptest::prelude::*;

proptest! {
    // A fixed seed: the same cases on every run and machine (the CI run must be deterministic).
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x05c5_e202_6120_2002),
        ..ProptestConfig::default()
    })]

    #[test]
    fn xml_parsers_never_panic(s in ".{0,300}") {
        let _ = xml::parse(&s);
        let _ = xml::oss_error(500, &s, None);
        let _ = xml::list_parts(&s);
        let _ = xml::list_objects(&s);
        let _ = xml::initiate_upload_id(&s);
    }

    #[test]
    fn xml_like_input_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("<Error>".to_owned()), Just("</Error>".to_owned()), Just("<Part>".to_owned()),
            Just("</Part>".to_owned()), Just("<PartNumber>".to_owned()), Just("</PartNumber>".to_owned()),
            Just("&amp;".to_owned()), Just("&#x41;".to_owned()), Just("&#xD800;".to_owned()),
            Just("<![CDATA[x]]>".to_owned()), Just("<a/>".to_owned()), "[a-z0-9 ]{0,5}",
        ], 0..40)) {
        let s: String = parts.concat();
        let _ = xml::parse(&s);
        let _ = xml::list_parts(&s);
        let _ = xml::oss_error(404, &s, Some("id"));
    }

    #[test]
    fn header_parsers_never_panic(s in ".{0,60}") {
        let _ = Endpoint::parse(&s);
        let _ = crc64::parse_header(&s);
        let _ = retry::parse_retry_after(&s, std::time::SystemTime::UNIX_EPOCH);
    }
}
