//! Request forms from clients nobody here wrote, sent byte for byte over TCP: Go SDK v1's V4
//! signing with only an RFC 1123 `Date`, Go `encoding/xml` character references in
//! CompleteMultipartUpload, folded header values, chunk extensions and trailers,
//! `Expect: 100-continue` with a length.
#![allow(clippy::unwrap_used)]
// A std-only test fixture: `core`/`alloc` paths would add nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::io::{BufRead, BufReader, Read, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use base64ct::{Base64, Encoding};
use md5::{Digest, Md5};
use sha2::Sha256;

use osscse_core::sign::{self, Credentials, v4};
use osscse_tests::client::{Call, Client, Response, exchange};
use osscse_tests::{Config, Server};

const REGION: &str = "cn-hangzhou";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn code(r: &Response) -> String {
    let t = r.text();
    t.split("<Code>")
        .nth(1)
        .and_then(|s| s.split("</Code>").next())
        .unwrap_or("")
        .to_string()
}

/// The Authorization value Go SDK v1 (`oss/auth.go`, `getSignedStrV4`) computes for a request
/// without `x-oss-date`: canonical headers are the `x-oss-*` ones (lower-cased, trimmed) plus
/// `content-type`/`content-md5` when present; the string to sign carries the `Date` text
/// verbatim and the scope day is that date as `20060102`.
fn go_v1_authorization(
    method: &str,
    resource: &str,
    sub_resource: &str,
    headers: &[(&str, &str)],
    date: &str,
    day: &str,
) -> String {
    let mut canon: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
        .filter(|(n, _)| n.starts_with("x-oss-") || n == "content-type" || n == "content-md5")
        .collect();
    canon.sort();
    let mut canonical = format!("{method}\n{resource}\n{sub_resource}\n");
    for (n, v) in &canon {
        canonical.push_str(&format!("{n}:{v}\n"));
    }
    let payload = canon
        .iter()
        .find(|(n, _)| n == "x-oss-content-sha256")
        .map_or("", |(_, v)| v.as_str());
    canonical.push_str(&format!("\n\n{payload}"));
    let scope = format!("{day}/{REGION}/oss/aliyun_v4_request");
    let string_to_sign = format!(
        "OSS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = v4::signing_key("sk", day, REGION, "oss");
    format!(
        "OSS4-HMAC-SHA256 Credential=ak/{scope},Signature={}",
        v4::signature(&key, &string_to_sign)
    )
}

/// A raw request as Go's net/http writes one for Go SDK v1 (canonical MIME header names).
/// The canonical resource is the path and the sub-resource the query, as Go SDK v1 builds
/// them for a key without characters to escape.
fn go_v1_request(
    method: &str,
    path_and_query: &str,
    extra: &[(&str, &str)],
    body: &[u8],
    at: u64,
    day_offset_secs: i64,
) -> Vec<u8> {
    let (resource, sub_resource) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let date = sign::format_rfc1123(at).unwrap();
    let day = sign::format_iso8601_basic(at.saturating_add_signed(day_offset_secs)).unwrap()[..8]
        .to_string();
    let len = body.len().to_string();
    let mut headers: Vec<(&str, &str)> = vec![
        ("Host", "127.0.0.1"),
        (
            "User-Agent",
            "aliyun-sdk-go/v3.0.2 (Linux/6.1; amd64;go1.22)/",
        ),
        ("Content-Length", &len),
        ("Date", &date),
        ("X-Oss-Content-Sha256", "UNSIGNED-PAYLOAD"),
    ];
    headers.extend_from_slice(extra);
    let auth = go_v1_authorization(method, resource, sub_resource, &headers, &date, &day);
    let mut raw = format!("{method} {path_and_query} HTTP/1.1\r\n");
    for (n, v) in headers.iter().chain([&("Authorization", auth.as_str())]) {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("Accept-Encoding: gzip\r\nConnection: close\r\n\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    raw
}

fn start() -> (Server, Client) {
    let server = Server::start(Config::new("ak", "sk")).unwrap();
    let client = Client::new(server.addr(), Credentials::new("ak", "sk"));
    (server, client)
}

#[test]
fn go_sdk_v1_v4_signing_with_only_a_date_header() {
    let (server, c) = start();
    let body = b"written by Go SDK v1".as_slice();
    let md5 = Base64::encode_string(&Md5::digest(body));
    let put = |at: u64, day_offset: i64, key: &str| {
        let path = format!("/bkt/{key}");
        exchange(
            server.addr(),
            &go_v1_request(
                "PUT",
                &path,
                &[
                    ("Content-Type", "text/plain"),
                    ("Content-Md5", &md5),
                    ("X-Oss-Meta-Origin", " go "),
                ],
                body,
                at,
                day_offset,
            ),
            false,
        )
        .unwrap()
    };
    let r = put(now(), 0, "go/v1.txt");
    assert_eq!(r.status, 200, "{}", r.text());
    let obj = server.object("bkt", "go/v1.txt").unwrap();
    assert_eq!(obj.data, body);
    assert_eq!(obj.meta("x-oss-meta-origin"), Some("go"));

    // The sub-resource line: ?uploads signed as `uploads`.
    let r = exchange(
        server.addr(),
        &go_v1_request("POST", "/bkt/go/mp?uploads", &[], b"", now(), 0),
        false,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<UploadId>"), "{}", r.text());

    // The scope day must be the Date's UTC day.
    let r = put(now(), 2 * 86_400, "go/wrong-day");
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(code(&r), "InvalidArgument");
    // The Date is the signing time: skew is checked on it.
    let r = put(now() - 3600, 0, "go/old");
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(code(&r), "RequestTimeTooSkewed");
    assert!(server.object("bkt", "go/wrong-day").is_none());
    assert!(server.object("bkt", "go/old").is_none());

    // Neither x-oss-date nor Date: refused.
    let raw = b"GET /bkt/go/v1.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: OSS4-HMAC-SHA256 Credential=ak/20250101/cn-hangzhou/oss/aliyun_v4_request,Signature=00\r\nConnection: close\r\n\r\n";
    let r = exchange(server.addr(), raw, false).unwrap();
    assert_eq!(r.status, 403, "{}", r.text());
    // And the object reads back through the ordinary client.
    let r = c
        .send(&Call {
            method: "GET",
            bucket: Some("bkt"),
            key: Some("go/v1.txt"),
            ..Call::default()
        })
        .unwrap();
    assert_eq!(r.body, body);
}

fn upload_part(c: &Client, key: &str, id: &str, n: &str, body: &[u8]) -> String {
    let r = c
        .send(&Call {
            method: "PUT",
            bucket: Some("bkt"),
            key: Some(key),
            query: vec![("partNumber", n), ("uploadId", id)],
            body,
            ..Call::default()
        })
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.header("ETag").unwrap().trim_matches('"').to_string()
}

fn initiate(c: &Client, key: &str) -> String {
    let r = c
        .send(&Call {
            method: "POST",
            bucket: Some("bkt"),
            key: Some(key),
            query: vec![("uploads", "")],
            ..Call::default()
        })
        .unwrap();
    let t = r.text();
    t.split("<UploadId>")
        .nth(1)
        .and_then(|s| s.split("</UploadId>").next())
        .unwrap()
        .to_string()
}

fn complete(c: &Client, key: &str, id: &str, xml: &str) -> Response {
    let md5 = Base64::encode_string(&Md5::digest(xml.as_bytes()));
    c.send(&Call {
        method: "POST",
        bucket: Some("bkt"),
        key: Some(key),
        query: vec![("uploadId", id)],
        headers: vec![("Content-Md5", &md5)],
        body: xml.as_bytes(),
        ..Call::default()
    })
    .unwrap()
}

#[test]
fn complete_multipart_xml_as_other_writers_produce_it() {
    let (_server, c) = start();
    let a = vec![1u8; 100 * 1024];
    let b = vec![2u8; 1000];
    // Go encoding/xml: `"` as &#34;. Hex references, CDATA, a namespace, pretty-printing,
    // a declaration and a comment: all the same document to an XML reader.
    let forms: [fn(&str, &str) -> String; 4] = [
        |e1, e2| {
            format!(
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;{e1}&#34;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&#34;{e2}&#34;</ETag></Part></CompleteMultipartUpload>"
            )
        },
        |e1, e2| {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload xmlns=\"http://doc.oss-cn-hangzhou.aliyuncs.com\">\n  <!-- parts -->\n  <Part>\n    <PartNumber>1</PartNumber>\n    <ETag>&#x22;{e1}&#x22;</ETag>\n  </Part>\n  <Part>\n    <PartNumber>2</PartNumber>\n    <ETag><![CDATA[\"{e2}\"]]></ETag>\n  </Part>\n</CompleteMultipartUpload>\n"
            )
        },
        |e1, e2| {
            format!(
                "<CompleteMultipartUpload><Part><ETag>&quot;{e1}&quot;</ETag><PartNumber>1</PartNumber></Part><Part><ETag>{e2}</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>"
            )
        },
        |e1, e2| {
            format!(
                "<CompleteMultipartUpload><Part><PartNumber>&#49;</PartNumber><ETag>&#34;{}&#34;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>\"{e2}\"</ETag></Part></CompleteMultipartUpload>",
                e1.to_ascii_lowercase()
            )
        },
    ];
    for (i, form) in forms.iter().enumerate() {
        let key = format!("mp{i}");
        let id = initiate(&c, &key);
        let e1 = upload_part(&c, &key, &id, "1", &a);
        let e2 = upload_part(&c, &key, &id, "2", &b);
        let r = complete(&c, &key, &id, &form(&e1, &e2));
        assert_eq!(r.status, 200, "form {i}: {}", r.text());
    }
    // Not XML, or an entity XML does not define: MalformedXML, and the upload stays open.
    let id = initiate(&c, "bad");
    let e1 = upload_part(&c, "bad", &id, "1", &b);
    for bad in [
        format!(
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&nbsp;{e1}</ETag></Part></CompleteMultipartUpload>"
        ),
        format!(
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{e1}</Part></CompleteMultipartUpload>"
        ),
        format!(
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#xFFFFFFFF;{e1}</ETag></Part></CompleteMultipartUpload>"
        ),
        String::from("not xml at all"),
    ] {
        let r = complete(&c, "bad", &id, &bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert_eq!(code(&r), "MalformedXML", "{bad}");
    }
    let good = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;{e1}&#34;</ETag></Part></CompleteMultipartUpload>"
    );
    assert_eq!(complete(&c, "bad", &id, &good).status, 200);
}

/// V4 headers from `osscse_core::sign` for a request carrying `headers`.
fn signed(method: &str, key: &str, query: &[(&str, &str)], headers: &[(&str, &str)]) -> String {
    let cred = Credentials::new("ak", "sk");
    let req = sign::Request {
        method,
        bucket: Some("bkt"),
        key: Some(key),
        query,
        headers,
    };
    let mut out = String::new();
    for (n, v) in v4::sign_headers(&req, &cred, &v4::Params::new(REGION), now())
        .unwrap()
        .headers
    {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out
}

#[test]
fn folded_header_values_are_unfolded() {
    let (server, _c) = start();
    // The value as signed is the unfolded one (one space per fold).
    let auth = signed(
        "PUT",
        "folded",
        &[],
        &[("x-oss-meta-note", "first second third")],
    );
    let raw = format!(
        "PUT /bkt/folded HTTP/1.1\r\nHost: 127.0.0.1\r\nx-oss-meta-note: first\r\n second\r\n\t third\r\n{auth}Content-Length: 2\r\nConnection: close\r\n\r\nok"
    );
    let r = exchange(server.addr(), raw.as_bytes(), false).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let obj = server.object("bkt", "folded").unwrap();
    assert_eq!(obj.meta("x-oss-meta-note"), Some("first second third"));
    // A fold before any header, or space before the colon: 400, as RFC 9112 requires.
    for raw in [
        "PUT /bkt/x HTTP/1.1\r\n continued\r\nHost: a\r\n\r\n",
        "PUT /bkt/x HTTP/1.1\r\nHost : a\r\n\r\n",
    ] {
        let r = exchange(server.addr(), raw.as_bytes(), false).unwrap();
        assert_eq!(r.status, 400, "{raw:?}: {}", r.text());
    }
}

#[test]
fn chunked_extensions_trailers_and_expect_with_length() {
    let (server, _c) = start();
    // Chunk sizes in upper-case hex with whitespace and quoted extensions, then trailers.
    let auth = signed("PUT", "chunks", &[], &[]);
    let raw = format!(
        "PUT /bkt/chunks HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Transfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nConnection: close\r\n\r\nA ; name=\"v;1\"\r\n0123456789\r\n1;x\r\n!\r\n0\r\nX-Checksum: ignored\r\nX-Other: too\r\n\r\n"
    );
    let r = exchange(server.addr(), raw.as_bytes(), false).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(server.object("bkt", "chunks").unwrap().data, b"0123456789!");
    // Chunk data longer than its size line: 400, nothing stored.
    let auth = signed("PUT", "bad-chunk", &[], &[]);
    let raw = format!(
        "PUT /bkt/bad-chunk HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nabc\r\n0\r\n\r\n"
    );
    let r = exchange(server.addr(), raw.as_bytes(), false).unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(server.object("bkt", "bad-chunk").is_none());

    // `Expect: 100-Continue` (any case) with a Content-Length: the interim answer comes
    // before the client sends the body.
    let auth = signed("PUT", "expect", &[], &[]);
    let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
    s.write_all(
        format!(
            "PUT /bkt/expect HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Length: 5\r\nExpect: 100-Continue\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
    r.read_line(&mut line).unwrap();
    s.write_all(b"hello").unwrap();
    let mut rest = String::new();
    r.read_to_string(&mut rest).unwrap();
    assert!(rest.starts_with("HTTP/1.1 200"), "{rest}");
    assert_eq!(server.object("bkt", "expect").unwrap().data, b"hello");
}
