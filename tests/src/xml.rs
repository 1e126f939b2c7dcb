//! The little XML the server reads and writes, and OSS error answers.

use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

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

/// Appends `<tag>escaped value</tag>`.
pub(crate) fn elem(out: &mut String, tag: &str, value: impl std::fmt::Display) {
    let _ = write!(out, "<{tag}>{}</{tag}>", escape(&value.to_string()));
}

/// Deepest element nesting accepted in a request body.
const MAX_DEPTH: usize = 16;
/// Most elements accepted in one request body (10,000 parts of 3 elements each, and then some).
const MAX_NODES: usize = 100_000;

/// One element of a request body: local name, text (entities and character references
/// resolved, CDATA included, trimmed) and children.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    /// Every child named `name`.
    pub(crate) fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub(crate) fn text_of(&self, name: &str) -> Option<&str> {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.text.as_str())
    }
}

fn malformed(why: impl std::fmt::Display) -> OssError {
    OssError::new(
        400,
        "MalformedXML",
        format!(
            "The XML you provided was not well-formed or did not validate against our published schema: {why}."
        ),
    )
}

/// Parses a request body (any conforming writer: Go's `encoding/xml` writes `&#34;` in ETags,
/// others write `&quot;`, CDATA, namespaces or pretty-printing) into its root element.
pub(crate) fn parse(text: &str) -> Result<Node, OssError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut nodes = 0usize;
    let name_of = |n: &str| n.to_string();
    loop {
        let ev = reader.read_event().map_err(malformed)?;
        let finished = match ev {
            Event::Start(_) | Event::Empty(_) if stack.len() >= MAX_DEPTH || nodes >= MAX_NODES => {
                return Err(malformed("document too deep or too large"));
            }
            Event::Start(e) => {
                nodes += 1;
                stack.push(Node {
                    name: name_of(e.local_name().as_ref()),
                    ..Node::default()
                });
                None
            }
            Event::Empty(e) => {
                nodes += 1;
                Some(Node {
                    name: name_of(e.local_name().as_ref()),
                    ..Node::default()
                })
            }
            Event::End(_) => {
                let mut node = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                node.text = node.text.trim().to_string();
                Some(node)
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
                None
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.into_inner());
                }
                None
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    if r.is_char_ref() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => top.text.push(c),
                            _ => return Err(malformed("invalid character reference")),
                        }
                    } else {
                        let name = r.into_inner();
                        let s = resolve_predefined_entity(&name)
                            .ok_or_else(|| malformed(format!("unknown entity &{name};")))?;
                        top.text.push_str(s);
                    }
                }
                None
            }
            Event::Eof => return Err(malformed("no root element")),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => None,
        };
        if let Some(node) = finished {
            match stack.last_mut() {
                Some(parent) => parent.children.push(node),
                None => return Ok(node),
            }
        }
    }
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
