//! The OSS URL builder ([`osscse_core::url`]) over the shared case table (`tests/url/cases.rs`,
//! which the HALs include too), plus endpoint parsing details.
#![cfg(feature = "sign")]
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[path = "url/cases.rs"]
mod cases;

use osscse_core::url::{Addressing, Endpoint, UrlError, is_host_label};

#[test]
fn shared_url_cases() {
    for c in cases::URL_CASES {
        let endpoint = Endpoint::parse(c.endpoint).unwrap();
        let addressing = if c.path_style {
            Addressing::PathStyle
        } else {
            Addressing::VirtualHosted
        };
        let got = endpoint.url(addressing, c.bucket, c.key, c.query);
        match c.want {
            Some(want) => assert_eq!(got.as_deref(), Ok(want), "{c:?}"),
            None => assert_eq!(got, Err(UrlError::BucketNotHostLabel), "{c:?}"),
        }
    }
}

#[test]
fn bad_endpoints_are_refused() {
    for bad in cases::BAD_ENDPOINTS {
        assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(Endpoint::parse("ftp://x"), Err(UrlError::UnsupportedScheme));
    assert_eq!(
        Endpoint::parse("http://h/path"),
        Err(UrlError::NotAnAuthority)
    );
    assert_eq!(Endpoint::parse("http://h:99999"), Err(UrlError::BadPort));
    assert_eq!(
        Endpoint::parse("http://[::1"),
        Err(UrlError::UnclosedBracket)
    );
}

#[test]
fn endpoint_parts() {
    let e = Endpoint::parse("https://oss-cn-hangzhou.aliyuncs.com").unwrap();
    assert_eq!(
        (e.https, e.host, e.port),
        (true, "oss-cn-hangzhou.aliyuncs.com", None)
    );
    assert_eq!(e.region_from_host(), Some("cn-hangzhou"));
    assert!(!e.is_ip_or_localhost());
    let e = Endpoint::parse(" oss-cn-beijing-internal.aliyuncs.com/ ").unwrap();
    assert!(e.https);
    assert_eq!(e.region_from_host(), Some("cn-beijing"));
    let e = Endpoint::parse("http://127.0.0.1:9000").unwrap();
    assert_eq!((e.https, e.host, e.port), (false, "127.0.0.1", Some(9000)));
    assert_eq!(e.scheme(), "http");
    assert_eq!(
        e.effective_addressing(Addressing::VirtualHosted),
        Addressing::PathStyle
    );
    let e = Endpoint::parse("http://[::1]:8080").unwrap();
    assert_eq!((e.host, e.port), ("::1", Some(8080)));
    assert!(e.is_ip_or_localhost());
}

#[test]
fn host_labels() {
    for ok in ["a", "bkt", "my-bucket-01", "0x", &"a".repeat(63)] {
        assert!(is_host_label(ok), "{ok}");
    }
    for bad in ["", "-a", "a-", "A", "a_b", "a.b", "ä", &"a".repeat(64)] {
        assert!(!is_host_label(bad), "{bad}");
    }
}
