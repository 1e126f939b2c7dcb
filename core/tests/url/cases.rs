//! The OSS URL cases every HAL's URL building must pass: a plain table with no crate types, so
//! `osscse-core`'s `tests/url.rs` and a HAL's test can both include it with
//! `#[path = ".../core/tests/url/cases.rs"] mod cases;`.

/// One URL case.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UrlCase {
    /// The endpoint as configured.
    pub(crate) endpoint: &'static str,
    /// Path style requested (virtual-hosted otherwise).
    pub(crate) path_style: bool,
    /// Bucket, if any.
    pub(crate) bucket: Option<&'static str>,
    /// Object key, if any.
    pub(crate) key: Option<&'static str>,
    /// Decoded query pairs.
    pub(crate) query: &'static [(&'static str, &'static str)],
    /// The URL, or `None` when the bucket must be refused.
    pub(crate) want: Option<&'static str>,
}

const fn case(
    endpoint: &'static str,
    path_style: bool,
    bucket: Option<&'static str>,
    key: Option<&'static str>,
    want: Option<&'static str>,
) -> UrlCase {
    UrlCase {
        endpoint,
        path_style,
        bucket,
        key,
        query: &[],
        want,
    }
}

const HZ: &str = "https://oss-cn-hangzhou.aliyuncs.com";

/// The table.
pub(crate) const URL_CASES: &[UrlCase] = &[
    // Virtual-hosted: the bucket is a host label, the key keeps `/` and encodes the rest.
    case(
        HZ,
        false,
        Some("bkt"),
        Some("dir/a b+c.txt"),
        Some("https://bkt.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt"),
    ),
    case(
        HZ,
        false,
        Some("my-bucket-01"),
        Some("ключ/日本?#%&=~._-"),
        Some(
            "https://my-bucket-01.oss-cn-hangzhou.aliyuncs.com/%D0%BA%D0%BB%D1%8E%D1%87/%E6%97%A5%E6%9C%AC%3F%23%25%26%3D~._-",
        ),
    ),
    case(
        "oss-cn-beijing.aliyuncs.com",
        false,
        Some("bkt"),
        Some("k"),
        Some("https://bkt.oss-cn-beijing.aliyuncs.com/k"),
    ),
    case(
        "http://oss.example.com:8080/",
        false,
        Some("bkt"),
        Some("/lead//slashes/"),
        Some("http://bkt.oss.example.com:8080//lead//slashes/"),
    ),
    // Buckets that are not host labels are refused in virtual-hosted style.
    case(HZ, false, Some("Bad_Bucket"), Some("k"), None),
    case(HZ, false, Some("has.dot"), Some("k"), None),
    case(HZ, false, Some("-lead"), Some("k"), None),
    case(HZ, false, Some("trail-"), Some("k"), None),
    case(HZ, false, Some(""), Some("k"), None),
    case(
        HZ,
        false,
        Some("a123456789b123456789c123456789d123456789e123456789f123456789xyzw"),
        Some("k"),
        None,
    ),
    // Path style: the bucket is percent-encoded in the path, `/` included.
    case(
        HZ,
        true,
        Some("bkt"),
        Some("k/1"),
        Some("https://oss-cn-hangzhou.aliyuncs.com/bkt/k/1"),
    ),
    case(
        HZ,
        true,
        Some("Odd Bucket/x"),
        Some("a b"),
        Some("https://oss-cn-hangzhou.aliyuncs.com/Odd%20Bucket%2Fx/a%20b"),
    ),
    // IP and localhost endpoints are always path style.
    case(
        "http://127.0.0.1:9000",
        false,
        Some("bkt"),
        Some("k"),
        Some("http://127.0.0.1:9000/bkt/k"),
    ),
    case(
        "http://localhost:9000",
        false,
        Some("Tele_Metry"),
        Some("d/1.bin"),
        Some("http://localhost:9000/Tele_Metry/d/1.bin"),
    ),
    case(
        "http://[::1]:8080",
        false,
        Some("bkt"),
        Some("k"),
        Some("http://[::1]:8080/bkt/k"),
    ),
    case(
        "http://127.0.0.1:9000",
        true,
        None,
        None,
        Some("http://127.0.0.1:9000/"),
    ),
    case(
        HZ,
        false,
        Some("bkt"),
        None,
        Some("https://bkt.oss-cn-hangzhou.aliyuncs.com/"),
    ),
    // Query pairs, in order, names and values encoded.
    UrlCase {
        endpoint: HZ,
        path_style: false,
        bucket: Some("bkt"),
        key: Some("k"),
        query: &[("uploadId", "x/y"), ("partNumber", "3")],
        want: Some("https://bkt.oss-cn-hangzhou.aliyuncs.com/k?uploadId=x%2Fy&partNumber=3"),
    },
    UrlCase {
        endpoint: HZ,
        path_style: false,
        bucket: Some("bkt"),
        key: None,
        query: &[("uploads", "")],
        want: Some("https://bkt.oss-cn-hangzhou.aliyuncs.com/?uploads"),
    },
];

/// Endpoints every HAL must refuse.
pub(crate) const BAD_ENDPOINTS: &[&str] = &[
    "ftp://x",
    "",
    "http://",
    "http://h:99999",
    "http://h:",
    "http://h:+1",
    "http://h/path",
    "http://h?q",
    "http://u@h",
    "http://[::1",
    "http://[::1]x",
    "http://[zz]:80",
    "http://bad host",
];
