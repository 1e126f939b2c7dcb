//! hal-std's request URLs (`ClientConfig::url`) over osscse-core's shared URL table
//! (`core/tests/url/cases.rs`, which core's own test and the device HAL run too): both HALs are
//! proven on one set of bucket and key encodings, styles and label checks.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[path = "../../core/tests/url/cases.rs"]
mod cases;

use osscse_std::{ClientConfig, Endpoint, Error};

#[test]
fn shared_url_cases() {
    for c in cases::URL_CASES {
        let mut config = ClientConfig::new(Endpoint::parse(c.endpoint).unwrap());
        config.path_style = c.path_style;
        let got = config.url(c.bucket, c.key, c.query);
        match c.want {
            Some(want) => assert_eq!(got.unwrap(), want, "{c:?}"),
            None => assert!(matches!(got, Err(Error::Config(_))), "{c:?}: {got:?}"),
        }
    }
}

#[test]
fn bad_endpoints_are_refused() {
    for bad in cases::BAD_ENDPOINTS {
        assert!(
            matches!(Endpoint::parse(bad), Err(Error::Config(_))),
            "{bad:?}"
        );
    }
}
