//! The server's request log: what tests count (uploads, GETs of a body, conditional headers).

/// One request as the server received it (its body fully read), for tests that count
/// operations: method, bucket and key (decoded), query and headers (names lower-case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Bucket, when addressed.
    pub bucket: Option<String>,
    /// Object key, when addressed.
    pub key: Option<String>,
    /// Decoded query pairs in arrival order.
    pub query: Vec<(String, String)>,
    /// Request headers, names lower-case.
    pub headers: Vec<(String, String)>,
}

impl LoggedRequest {
    /// Whether the query has parameter `name`.
    pub fn has_query(&self, name: &str) -> bool {
        self.query.iter().any(|(n, _)| n == name)
    }

    /// A request header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is a PutObject, UploadPart or InitiateMultipartUpload: a request that
    /// writes object data (CopyObject excluded).
    pub fn is_upload(&self) -> bool {
        self.key.is_some()
            && self.header("x-oss-copy-source").is_none()
            && ((self.method == "PUT") || (self.method == "POST" && self.has_query("uploads")))
    }
}
