//! Signing canonicalization (V4 canonical request, V1 canonical resource and string to sign)
//! never panics on arbitrary methods, keys, query parameters and headers, and is deterministic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use osscse_core::sign::{Request, v1, v4};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\u{0}');
    let method = fields.next().unwrap_or("GET");
    let bucket = fields.next();
    let key = fields.next();
    let query: Vec<(&str, &str)> = fields
        .next()
        .unwrap_or("")
        .split('&')
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let headers: Vec<(&str, &str)> = fields
        .next()
        .unwrap_or("")
        .split('\n')
        .filter_map(|l| l.split_once(':'))
        .collect();
    let req = Request {
        method,
        bucket,
        key,
        query: &query,
        headers: &headers,
    };
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let additional = v4::additional_headers(&headers, &names);
    let a = v4::canonical_request(&req, &additional);
    assert_eq!(a, v4::canonical_request(&req, &additional));
    let r = v1::canonical_resource(&req, v1::SIGNED_SUB_RESOURCES);
    let s = v1::string_to_sign(
        &req,
        "Wed, 28 Dec 2022 10:27:41 GMT",
        v1::SIGNED_SUB_RESOURCES,
    );
    assert!(s.ends_with(&r));
});
