//! Unit tests of the client: endpoints, URLs, region rules, redaction, presigning.

use super::*;

fn cfg(ep: &str, path_style: bool) -> ClientConfig {
    let mut c = ClientConfig::new(Endpoint::parse(ep).unwrap());
    c.path_style = path_style;
    c
}

#[test]
fn endpoints() {
    let e = Endpoint::parse("https://oss-cn-hangzhou.aliyuncs.com").unwrap();
    assert!(e.https);
    assert_eq!(e.region_from_host().as_deref(), Some("cn-hangzhou"));
    let e = Endpoint::parse("oss-cn-beijing-internal.aliyuncs.com/").unwrap();
    assert!(e.https);
    assert_eq!(e.region_from_host().as_deref(), Some("cn-beijing"));
    let e = Endpoint::parse("http://127.0.0.1:9000").unwrap();
    assert_eq!(
        (e.https, e.host.as_str(), e.port),
        (false, "127.0.0.1", Some(9000))
    );
    assert!(e.is_ip_or_localhost());
    assert_eq!(e.region_from_host(), None);
    let e = Endpoint::parse("http://[::1]:8080").unwrap();
    assert_eq!((e.host.as_str(), e.port), ("::1", Some(8080)));
    for bad in [
        "ftp://x",
        "",
        "http://",
        "http://h:99999",
        "http://h/path",
        "http://u@h",
        "http://[::1",
    ] {
        assert!(Endpoint::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn urls_virtual_hosted_and_path_style() {
    let c = cfg("https://oss-cn-hangzhou.aliyuncs.com", false);
    assert_eq!(
        c.url(Some("bkt"), Some("dir/a b+c.txt"), &[]).unwrap(),
        "https://bkt.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt"
    );
    assert_eq!(
        c.url(
            Some("bkt"),
            Some("k"),
            &[("uploadId", "x/y"), ("partNumber", "3")]
        )
        .unwrap(),
        "https://bkt.oss-cn-hangzhou.aliyuncs.com/k?uploadId=x%2Fy&partNumber=3"
    );
    assert_eq!(
        c.url(Some("bkt"), None, &[("uploads", "")]).unwrap(),
        "https://bkt.oss-cn-hangzhou.aliyuncs.com/?uploads"
    );
    assert!(c.url(Some("Bad_Bucket"), Some("k"), &[]).is_err());
    let c = cfg("https://oss-cn-hangzhou.aliyuncs.com", true);
    assert_eq!(
        c.url(Some("bkt"), Some("k/1"), &[]).unwrap(),
        "https://oss-cn-hangzhou.aliyuncs.com/bkt/k/1"
    );
    // IP endpoints are always path style.
    let c = cfg("http://127.0.0.1:9000", false);
    assert_eq!(
        c.url(Some("bkt"), Some("k"), &[]).unwrap(),
        "http://127.0.0.1:9000/bkt/k"
    );
    assert_eq!(c.url(None, None, &[]).unwrap(), "http://127.0.0.1:9000/");
}

#[test]
fn v4_needs_a_region_v1_does_not() {
    let creds = Credentials::new("ak", "sk");
    let c = cfg("http://127.0.0.1:9000", true);
    assert!(matches!(
        Client::new(c.clone(), creds.clone()),
        Err(Error::Config(_))
    ));
    let mut v1 = c.clone();
    v1.sign_version = SignVersion::V1;
    assert!(Client::new(v1, creds.clone()).is_ok());
    let mut v4 = c;
    v4.region = Some("cn-hangzhou".into());
    assert!(Client::new(v4, creds).is_ok());
}

#[test]
fn debug_never_shows_the_secret() {
    let mut c = cfg("http://127.0.0.1:9000", true);
    c.region = Some("cn-hangzhou".into());
    let client = Client::new(
        c,
        Credentials::new("AKID", "TOPSECRET").with_security_token("TOKENVALUE"),
    )
    .unwrap();
    let shown = format!("{client:?}");
    assert!(shown.contains("AKID"));
    assert!(
        !shown.contains("TOPSECRET") && !shown.contains("TOKENVALUE"),
        "{shown}"
    );
}

#[test]
fn presigned_urls_carry_the_signature() {
    let mut c = cfg("http://127.0.0.1:9000", true);
    c.region = Some("cn-hangzhou".into());
    let client = Client::new(c.clone(), Credentials::new("ak", "sk")).unwrap();
    let url = client.presign("GET", "bkt", "a/b.txt", 600).unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:9000/bkt/a/b.txt?"),
        "{url}"
    );
    assert!(
        url.contains("x-oss-signature-version=OSS4-HMAC-SHA256")
            && url.contains("x-oss-signature=")
    );
    c.sign_version = SignVersion::V1;
    let client = Client::new(c, Credentials::new("ak", "sk")).unwrap();
    let url = client.presign("GET", "bkt", "k", 600).unwrap();
    assert!(
        url.contains("OSSAccessKeyId=ak") && url.contains("Signature="),
        "{url}"
    );
}
