//! The little XML the server reads and writes, and OSS error answers.

use std::fmt::Write as _;

/// Escapes text for an XML element.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Appends `<tag>escaped value</tag>`.
pub(crate) fn elem(out: &mut String, tag: &str, value: impl std::fmt::Display) {
    let _ = write!(out, "<{tag}>{}</{tag}>", escape(&value.to_string()));
}

/// The text of every `<tag>...</tag>` in `xml`, in order (no nesting of the same tag).
pub(crate) fn all_text<'a>(xml: &'a str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest: &'a str = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(unescape(after[..j].trim()));
        rest = &after[j + close.len()..];
    }
    out
}

/// An OSS error answer.
#[derive(Debug, Clone)]
pub struct OssError {
    /// HTTP status.
    pub status: u16,
    /// OSS error code (`NoSuchKey`, `SignatureDoesNotMatch`, ...).
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Extra elements (`StringToSign`, `Key`, ...).
    pub extra: Vec<(&'static str, String)>,
}

impl OssError {
    /// An error with a status, code and message.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    /// Adds an element to the error body.
    #[must_use]
    pub fn with(mut self, tag: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((tag, value.into()));
        self
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidArgument", message)
    }

    /// The XML body for request `request_id`.
    pub(crate) fn to_xml(&self, request_id: &str) -> String {
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        elem(&mut s, "Code", self.code);
        elem(&mut s, "Message", &self.message);
        elem(&mut s, "RequestId", request_id);
        elem(&mut s, "HostId", "127.0.0.1");
        for (tag, value) in &self.extra {
            elem(&mut s, tag, value);
        }
        s.push_str("</Error>");
        s
    }
}
