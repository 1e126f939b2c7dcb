//! Signing vectors: FORMAT.md §8.5 (Go v2 `oss/signer/signer_test.go`) and the V4 vector shared
//! by reqsign-aliyun-oss and the official Python SDK (DEPENDENCIES.md §7).
#![cfg(feature = "sign")]
#![allow(clippy::unwrap_used)]

use osscse_core::sign::{
    Credentials, PRODUCT_OSS_CLOUDBOX, Request, SignError, encode_query, v1, v4,
};
use sha2::{Digest, Sha256};

fn ak_sk() -> Credentials {
    Credentials::new("ak", "sk")
}

// ---------------------------------------------------------------- V1

const V1_DATE: &str = "Wed, 28 Dec 2022 10:27:41 GMT";
const V1_TIME: u64 = 1_672_223_261;
const V1_PUT_HEADERS: &[(&str, &str)] = &[
    ("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw=="),
    ("Content-Type", "text/html"),
    ("x-oss-meta-author", "alice"),
    ("x-oss-meta-magic", "abracadabra"),
    ("x-oss-date", V1_DATE),
];

fn v1_put(query: &'static [(&'static str, &'static str)]) -> Request<'static> {
    Request {
        method: "PUT",
        bucket: Some("examplebucket"),
        key: Some("nelson"),
        query,
        headers: V1_PUT_HEADERS,
    }
}

#[test]
fn v1_header_1_put_object() {
    let s = v1::sign_headers(&v1_put(&[]), &ak_sk(), V1_TIME, &[]).unwrap();
    assert_eq!(
        s.string_to_sign,
        "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson"
    );
    assert_eq!(
        s.authorization(),
        Some("OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=")
    );
    assert!(s.headers.contains(&("Date".into(), V1_DATE.into())));
}

#[test]
fn v1_header_2_acl() {
    let s = v1::sign_headers(&v1_put(&[("acl", "")]), &ak_sk(), V1_TIME, &[]).unwrap();
    assert!(s.string_to_sign.ends_with("\n/examplebucket/nelson?acl"));
    assert_eq!(
        s.authorization(),
        Some("OSS ak:/afkugFbmWDQ967j1vr6zygBLQk=")
    );
}

fn v1_get_bucket(query: &'static [(&'static str, &'static str)]) -> Request<'static> {
    Request {
        method: "GET",
        bucket: Some("examplebucket"),
        key: None,
        query,
        headers: &[("x-oss-date", V1_DATE)],
    }
}

#[test]
fn v1_header_3_sub_resource() {
    let req = v1_get_bucket(&[("resourceGroup", ""), ("non-resousce", "null")]);
    let s = v1::sign_headers(&req, &ak_sk(), V1_TIME, &["resourceGroup"]).unwrap();
    assert_eq!(
        s.string_to_sign,
        "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?resourceGroup"
    );
    assert_eq!(
        s.authorization(),
        Some("OSS ak:vkQmfuUDyi1uDi3bKt67oemssIs=")
    );
    // Without naming the sub-resource it is not signed, and the signature differs.
    let plain = v1::sign_headers(&req, &ak_sk(), V1_TIME, &[]).unwrap();
    assert!(plain.string_to_sign.ends_with("\n/examplebucket/"));
}

#[test]
fn v1_header_4_sorted_resources() {
    let req = v1_get_bucket(&[("resourceGroup", ""), ("acl", "")]);
    let s = v1::sign_headers(&req, &ak_sk(), V1_TIME, &["resourceGroup"]).unwrap();
    assert!(
        s.string_to_sign
            .ends_with("\n/examplebucket/?acl&resourceGroup")
    );
    assert_eq!(
        s.authorization(),
        Some("OSS ak:x3E5TgOvl/i7PN618s5mEvpJDYk=")
    );
}

#[test]
fn v1_presign_5() {
    let req = Request {
        method: "GET",
        bucket: Some("bucket"),
        key: Some("key"),
        query: &[("versionId", "versionId")],
        headers: &[],
    };
    let p = v1::presign(&req, &ak_sk(), 1_699_807_420, &[]).unwrap();
    assert_eq!(
        p.string_to_sign,
        "GET\n\n\n1699807420\n/bucket/key?versionId=versionId"
    );
    assert_eq!(p.param("Expires"), Some("1699807420"));
    assert_eq!(p.param("OSSAccessKeyId"), Some("ak"));
    assert_eq!(p.param("Signature"), Some("dcLTea+Yh9ApirQ8o8dOPqtvJXQ="));
    let mut all: Vec<(&str, &str)> = req.query.to_vec();
    all.extend(p.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    all.sort();
    assert_eq!(
        encode_query(all),
        "Expires=1699807420&OSSAccessKeyId=ak&Signature=dcLTea%2BYh9ApirQ8o8dOPqtvJXQ%3D&versionId=versionId"
    );
}

#[test]
fn v1_presign_6_security_token() {
    let req = Request {
        method: "GET",
        bucket: Some("bucket"),
        key: Some("key+123"),
        query: &[("versionId", "versionId")],
        headers: &[],
    };
    let cred = ak_sk().with_security_token("token");
    let p = v1::presign(&req, &cred, 1_699_808_204, &[]).unwrap();
    assert!(
        p.string_to_sign
            .ends_with("\n/bucket/key+123?security-token=token&versionId=versionId"),
        "{}",
        p.string_to_sign
    );
    assert_eq!(p.param("security-token"), Some("token"));
    assert_eq!(p.param("Signature"), Some("jzKYRrM5y6Br0dRFPaTGOsbrDhY="));
}

#[test]
fn v1_header_security_token_is_signed_header() {
    let req = v1_put(&[]);
    let s = v1::sign_headers(&req, &ak_sk().with_security_token("tok"), V1_TIME, &[]).unwrap();
    assert!(
        s.headers
            .contains(&("x-oss-security-token".into(), "tok".into()))
    );
    assert!(s.string_to_sign.contains("\nx-oss-security-token:tok\n"));
    assert_ne!(
        s.authorization(),
        Some("OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=")
    );
}

// ---------------------------------------------------------------- V4

const V4_QUERY: &[(&str, &str)] = &[
    ("param1", "value1"),
    ("+param1", "value3"),
    ("|param1", "value4"),
    ("+param2", ""),
    ("|param2", ""),
    ("param2", ""),
];
const V4_HEADERS: &[(&str, &str)] = &[
    ("x-oss-head1", "value"),
    ("abc", "value"),
    ("ZAbc", "value"),
    ("XYZ", "value"),
    ("content-type", "text/plain"),
    ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
];
const V4_QUERY_HEADERS: &[(&str, &str)] = &[
    ("x-oss-head1", "value"),
    ("abc", "value"),
    ("ZAbc", "value"),
    ("XYZ", "value"),
    ("content-type", "application/octet-stream"),
];

fn v4_req(headers: &'static [(&'static str, &'static str)]) -> Request<'static> {
    Request {
        method: "PUT",
        bucket: Some("bucket"),
        key: Some("1234+-/123/1.txt"),
        query: V4_QUERY,
        headers,
    }
}

fn hex_sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[test]
fn v4_header_1() {
    let s = v4::sign_headers(
        &v4_req(V4_HEADERS),
        &ak_sk(),
        &v4::Params::new("cn-hangzhou"),
        1_702_743_657,
    )
    .unwrap();
    let cr = "PUT\n/bucket/1234%2B-/123/1.txt\n%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\ncontent-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD";
    assert_eq!(s.canonical_request, cr);
    assert_eq!(
        hex_sha256(cr),
        "f4613657f1b108998e8dbd10a1aa5da621dc2c6e02c9ddec0f163664848704c4"
    );
    assert_eq!(
        s.string_to_sign,
        "OSS4-HMAC-SHA256\n20231216T162057Z\n20231216/cn-hangzhou/oss/aliyun_v4_request\nf4613657f1b108998e8dbd10a1aa5da621dc2c6e02c9ddec0f163664848704c4"
    );
    assert_eq!(
        s.authorization(),
        Some(
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"
        )
    );
    assert!(
        s.headers
            .contains(&("x-oss-date".into(), "20231216T162057Z".into()))
    );
    assert!(
        s.headers
            .contains(&("Date".into(), "Sat, 16 Dec 2023 16:20:57 GMT".into()))
    );
}

#[test]
fn v4_header_2_cloudbox() {
    let params = v4::Params {
        region: "cb-123",
        product: PRODUCT_OSS_CLOUDBOX,
        additional_headers: &[],
    };
    let s = v4::sign_headers(&v4_req(V4_HEADERS), &ak_sk(), &params, 1_702_743_657).unwrap();
    assert_eq!(
        s.authorization(),
        Some(
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cb-123/oss-cloudbox/aliyun_v4_request,Signature=94ce1f12c17d148ea681030275a94449d3357f5b5b21133996eec80af3e08a43"
        )
    );
}

#[test]
fn v4_header_3_security_token() {
    let cred = ak_sk().with_security_token("token");
    let s = v4::sign_headers(
        &v4_req(V4_HEADERS),
        &cred,
        &v4::Params::new("cn-hangzhou"),
        1_702_784_856,
    )
    .unwrap();
    assert!(
        s.canonical_request
            .contains("\nx-oss-security-token:token\n")
    );
    assert!(
        s.headers
            .contains(&("x-oss-security-token".into(), "token".into()))
    );
    assert_eq!(
        s.authorization(),
        Some(
            "OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/aliyun_v4_request,Signature=b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea"
        )
    );
}

#[test]
fn v4_header_4_additional_headers() {
    let expected = "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f";
    for list in [
        &["ZAbc", "abc"][..],
        &["x-oss-no-exist", "ZAbc", "x-oss-head1", "abc"][..],
    ] {
        let params = v4::Params {
            additional_headers: list,
            ..v4::Params::new("cn-hangzhou")
        };
        let s = v4::sign_headers(&v4_req(V4_HEADERS), &ak_sk(), &params, 1_702_747_512).unwrap();
        assert!(
            s.canonical_request
                .contains("\nabc:value\ncontent-type:text/plain\n")
        );
        assert!(
            s.canonical_request
                .contains("\nzabc:value\n\nabc;zabc\nUNSIGNED-PAYLOAD")
        );
        assert_eq!(s.authorization(), Some(expected), "{list:?}");
    }
}

#[test]
fn v4_presign_5() {
    let p = v4::presign(
        &v4_req(V4_QUERY_HEADERS),
        &ak_sk(),
        &v4::Params::new("cn-hangzhou"),
        1_702_781_677,
        599,
    )
    .unwrap();
    assert_eq!(p.param("x-oss-signature-version"), Some("OSS4-HMAC-SHA256"));
    assert_eq!(p.param("x-oss-date"), Some("20231217T025437Z"));
    assert_eq!(p.param("x-oss-expires"), Some("599"));
    assert_eq!(
        p.param("x-oss-credential"),
        Some("ak/20231217/cn-hangzhou/oss/aliyun_v4_request")
    );
    assert_eq!(p.param("x-oss-additional-headers"), None);
    assert!(p.canonical_request.ends_with(
        "\ncontent-type:application/octet-stream\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD"
    ));
    assert_eq!(
        p.param("x-oss-signature"),
        Some("a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe")
    );
}

#[test]
fn v4_presign_6_security_token() {
    let cred = ak_sk().with_security_token("token");
    let p = v4::presign(
        &v4_req(V4_QUERY_HEADERS),
        &cred,
        &v4::Params::new("cn-hangzhou"),
        1_702_785_388,
        599,
    )
    .unwrap();
    assert_eq!(p.param("x-oss-date"), Some("20231217T035628Z"));
    assert_eq!(p.param("x-oss-security-token"), Some("token"));
    assert!(p.canonical_request.contains("&x-oss-security-token=token&"));
    assert_eq!(
        p.param("x-oss-signature"),
        Some("3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5")
    );
}

#[test]
fn v4_presign_7_additional_headers() {
    for list in [
        &["ZAbc", "abc"][..],
        &["x-oss-no-exist", "abc", "x-oss-head1", "ZAbc"][..],
    ] {
        let params = v4::Params {
            additional_headers: list,
            ..v4::Params::new("cn-hangzhou")
        };
        let p = v4::presign(
            &v4_req(V4_QUERY_HEADERS),
            &ak_sk(),
            &params,
            1_702_783_809,
            599,
        )
        .unwrap();
        assert_eq!(p.param("x-oss-date"), Some("20231217T033009Z"));
        assert_eq!(p.param("x-oss-additional-headers"), Some("abc;zabc"));
        assert_eq!(
            p.param("x-oss-signature"),
            Some("6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7")
        );
    }
}

#[test]
fn v4_presign_cloudbox() {
    // Go v2 TestV4AuthQueryWithCloudBox, both cases.
    let params = v4::Params {
        region: "cb-123",
        product: PRODUCT_OSS_CLOUDBOX,
        additional_headers: &["ZAbc", "abc"],
    };
    let p = v4::presign(
        &v4_req(V4_QUERY_HEADERS),
        &ak_sk(),
        &params,
        1_702_781_677,
        599,
    )
    .unwrap();
    assert_eq!(
        p.param("x-oss-credential"),
        Some("ak/20231217/cb-123/oss-cloudbox/aliyun_v4_request")
    );
    assert_eq!(
        p.param("x-oss-signature"),
        Some("07284191b9b4978ac3520cd39ee2dea2747eda454089359371ff463a6c7ba20f")
    );
    let p = v4::presign(
        &v4_req(V4_QUERY_HEADERS),
        &ak_sk(),
        &params,
        1_702_783_809,
        599,
    )
    .unwrap();
    assert_eq!(
        p.param("x-oss-signature"),
        Some("16782cc8a7a554523db055eb804b508522e7e370073108ad88ee2f47496701dd")
    );
}

#[test]
fn v4_reqsign_and_python_sdk_vector() {
    let req = Request {
        method: "PUT",
        bucket: Some("examplebucket"),
        key: Some("exampleobject"),
        query: &[],
        headers: &[
            ("Content-Disposition", "attachment"),
            ("Content-Length", "3"),
            ("Content-MD5", "ICy5YqxZB1uWSwcVLSNLcA=="),
            ("Content-Type", "text/plain"),
        ],
    };
    let cred = Credentials::new("testid", "yourAccessKeySecret");
    let params = v4::Params {
        additional_headers: &["content-disposition", "content-length"],
        ..v4::Params::new("cn-hangzhou")
    };
    let s = v4::sign_headers(&req, &cred, &params, 1_744_353_684).unwrap();
    assert_eq!(
        hex_sha256(&s.canonical_request),
        "c46d96390bdbc2d739ac9363293ae9d710b14e48081fcb22cd8ad54b63136eca"
    );
    let key = v4::signing_key("yourAccessKeySecret", "20250411", "cn-hangzhou", "oss");
    assert_eq!(
        hex::encode(*key),
        "8a01ff4efcc65ca2cbc75375045c61ab5f3fa8b9a2d84f0add27ef16a25feb3c"
    );
    assert_eq!(
        s.authorization(),
        Some(
            "OSS4-HMAC-SHA256 Credential=testid/20250411/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=content-disposition;content-length,Signature=d3694c2dfc5371ee6acd35e88c4871ac95a7ba01d3a2f476768fe61218590097"
        )
    );
}

#[test]
fn v4_building_blocks_verify_a_signed_request() {
    // What a server does: recompute from the received request with the public pieces.
    let s = v4::sign_headers(
        &v4_req(V4_HEADERS),
        &ak_sk(),
        &v4::Params::new("cn-hangzhou"),
        1_702_743_657,
    )
    .unwrap();
    let mut received: Vec<(&str, &str)> = V4_HEADERS.to_vec();
    received.extend(s.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    received.retain(|(k, _)| *k != "x-oss-content-sha256");
    received.push(("x-oss-content-sha256", "UNSIGNED-PAYLOAD"));
    let req = Request {
        headers: &received,
        ..v4_req(V4_HEADERS)
    };
    let cr = v4::canonical_request(&req, &[]);
    let sts = v4::string_to_sign(
        "20231216T162057Z",
        &v4::scope("20231216", "cn-hangzhou", "oss"),
        &cr,
    );
    let key = v4::signing_key("sk", "20231216", "cn-hangzhou", "oss");
    assert_eq!(v4::signature(&key, &sts), s.signature);
    assert_ne!(
        v4::signature(
            &v4::signing_key("sk2", "20231216", "cn-hangzhou", "oss"),
            &sts
        ),
        s.signature
    );
}

// ---------------------------------------------------------------- errors and redaction

#[test]
fn errors() {
    let req = v4_req(V4_HEADERS);
    assert_eq!(
        v4::sign_headers(&req, &ak_sk(), &v4::Params::new(""), 1).unwrap_err(),
        SignError::MissingRegion
    );
    assert_eq!(
        v4::sign_headers(&req, &Credentials::new("", "sk"), &v4::Params::new("r"), 1).unwrap_err(),
        SignError::MissingCredentials
    );
    assert_eq!(
        v1::sign_headers(&req, &Credentials::new("ak", ""), 1, &[]).unwrap_err(),
        SignError::MissingCredentials
    );
    assert_eq!(
        v4::presign(&req, &ak_sk(), &v4::Params::new("r"), 1, 604_801).unwrap_err(),
        SignError::ExpiryTooLong
    );
    assert_eq!(
        v4::presign(&req, &ak_sk(), &v4::Params::new("r"), 1, 0).unwrap_err(),
        SignError::ExpiryNotAfterSigningTime
    );
    assert_eq!(
        v4::sign_headers(&req, &ak_sk(), &v4::Params::new("r"), 253_402_300_800).unwrap_err(),
        SignError::TimeOutOfRange
    );
    let bad = Request {
        headers: &[("x-oss-meta-a", "x\r\nEvil: 1")],
        ..req
    };
    assert_eq!(
        v1::sign_headers(&bad, &ak_sk(), 1, &[]).unwrap_err(),
        SignError::InvalidHeaderValue
    );
    assert_eq!(
        v4::sign_headers(&bad, &ak_sk(), &v4::Params::new("r"), 1).unwrap_err(),
        SignError::InvalidHeaderValue
    );
    for e in [
        SignError::MissingRegion,
        SignError::MissingCredentials,
        SignError::ExpiryTooLong,
    ] {
        assert!(e.to_string().len() > 20);
    }
}

#[test]
fn debug_redacts_secrets() {
    let cred = Credentials::new("my-id", "my-very-secret").with_security_token("my-token-value");
    let dbg = format!("{cred:?}");
    assert!(dbg.contains("my-id"));
    assert!(!dbg.contains("my-very-secret"));
    assert!(!dbg.contains("my-token-value"));
    let s = v4::sign_headers(
        &v4_req(V4_HEADERS),
        &cred,
        &v4::Params::new("cn-hangzhou"),
        1_702_743_657,
    )
    .unwrap();
    assert!(!format!("{s:?}").contains("my-token-value"));
}

#[test]
fn uri_encoding() {
    use osscse_core::sign::uri_encode;
    assert_eq!(uri_encode("a b+c/d~e*é", true), "a%20b%2Bc/d~e%2A%C3%A9");
    assert_eq!(uri_encode("a/b", false), "a%2Fb");
    assert_eq!(
        encode_query([("a", ""), ("b c", "d&e=f")]),
        "a&b%20c=d%26e%3Df"
    );
}

#[test]
fn v4_signs_a_given_payload_hash() {
    let body_hash = hex_sha256("telemetry ciphertext");
    let headers = [
        ("content-type", "application/octet-stream"),
        ("x-oss-content-sha256", body_hash.as_str()),
    ];
    let req = Request {
        method: "PUT",
        bucket: Some("bucket"),
        key: Some("k"),
        query: &[],
        headers: &headers,
    };
    let params = v4::Params::new("cn-hangzhou");
    let s = v4::sign_headers(&req, &ak_sk(), &params, 1_702_743_657).unwrap();
    // The hash is both a signed header and the canonical request's payload line.
    assert!(
        s.canonical_request
            .contains(&format!("\nx-oss-content-sha256:{body_hash}\n"))
    );
    assert!(s.canonical_request.ends_with(&format!("\n{body_hash}")));
    assert!(
        s.headers
            .contains(&("x-oss-content-sha256".into(), body_hash.clone()))
    );
    // Another body gives another signature; no hash at all is UNSIGNED-PAYLOAD.
    let other = hex_sha256("telemetry ciphertexT");
    let headers2 = [headers[0], ("x-oss-content-sha256", other.as_str())];
    let s2 = v4::sign_headers(
        &Request {
            headers: &headers2,
            ..req
        },
        &ak_sk(),
        &params,
        1_702_743_657,
    )
    .unwrap();
    assert_ne!(s.signature, s2.signature);
    let s3 = v4::sign_headers(
        &Request {
            headers: &headers[..1],
            ..req
        },
        &ak_sk(),
        &params,
        1_702_743_657,
    )
    .unwrap();
    assert!(s3.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
}
