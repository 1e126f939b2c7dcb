//! The few OSS XML documents osscse reads and writes: errors, multipart, listings.
//!
//! Parsing builds a small bounded tree (at most [`MAX_DEPTH`] levels and [`MAX_NODES`] elements)
//! and never panics; unknown elements are ignored.

use quick_xml::Reader;
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::Event;

use crate::error::OssError;

/// Deepest element nesting accepted.
pub(crate) const MAX_DEPTH: usize = 16;
/// Most elements accepted in one document.
pub(crate) const MAX_NODES: usize = 200_000;

/// One XML element: local name, concatenated text and child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// Local name (namespace prefix removed).
    pub name: String,
    /// Text content directly inside the element (entities resolved).
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Node>,
}

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`, or "".
    pub fn text_of(&self, name: &str) -> &str {
        self.child(name).map(|c| c.text.as_str()).unwrap_or("")
    }
}

/// Why a document could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML: {0}")]
pub struct XmlError(String);

/// Parses a document into its root element.
///
/// # Errors
/// [`XmlError`] for malformed XML, no root element, or a document beyond the size limits.
pub fn parse(text: &str) -> Result<Node, XmlError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut nodes = 0usize;
    loop {
        let ev = reader.read_event().map_err(|e| XmlError(e.to_string()))?;
        match ev {
            Event::Start(e) | Event::Empty(e) if stack.len() >= MAX_DEPTH || nodes >= MAX_NODES => {
                let _ = e;
                return Err(XmlError("document too deep or too large".into()));
            }
            Event::Start(e) => {
                nodes += 1;
                stack.push(Node {
                    name: e.local_name().as_ref().to_owned(),
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                nodes += 1;
                let node = Node {
                    name: e.local_name().as_ref().to_owned(),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| XmlError("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let Some(top) = stack.last_mut() else {
                    continue;
                };
                if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => top.text.push(c),
                        _ => return Err(XmlError("invalid character reference".into())),
                    }
                } else {
                    let name = r.into_inner();
                    let s = resolve_predefined_entity(&name)
                        .ok_or_else(|| XmlError(format!("unknown entity &{name};")))?;
                    top.text.push_str(s);
                }
            }
            Event::Eof => return Err(XmlError("no root element".into())),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// Builds the typed error for an OSS error answer: the `<Error>` document when there is one,
/// else the bare status. `request_id_header` is the `x-oss-request-id` response header.
pub fn oss_error(status: u16, body: &str, request_id_header: Option<&str>) -> OssError {
    let mut err = OssError {
        status,
        code: String::new(),
        message: String::new(),
        request_id: request_id_header.unwrap_or("").to_owned(),
        ec: String::new(),
    };
    if let Ok(root) = parse(body)
        && root.name == "Error"
    {
        err.code = root.text_of("Code").trim().to_owned();
        err.message = root.text_of("Message").trim().to_owned();
        err.ec = root.text_of("EC").trim().to_owned();
        if err.request_id.is_empty() {
            err.request_id = root.text_of("RequestId").trim().to_owned();
        }
    }
    err
}

/// `<InitiateMultipartUploadResult><UploadId>`.
///
/// # Errors
/// When the document is malformed or has no upload id.
pub fn initiate_upload_id(body: &str) -> Result<String, XmlError> {
    let root = parse(body)?;
    let id = root.text_of("UploadId").trim();
    if id.is_empty() {
        return Err(XmlError(
            "InitiateMultipartUploadResult without UploadId".into(),
        ));
    }
    Ok(id.to_owned())
}

/// One uploaded part, as sent in CompleteMultipartUpload and listed by ListParts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// 1-based part number.
    pub part_number: u32,
    /// The part's ETag (with its quotes, as OSS returns it).
    pub etag: String,
    /// Part size in bytes (ListParts only; 0 otherwise).
    pub size: u64,
    /// The part's CRC-64 when OSS reported it.
    pub crc64: Option<u64>,
}

/// The parts of a ListParts answer, and whether more pages follow (next marker).
///
/// # Errors
/// When the document is malformed or a part lacks a number.
pub fn list_parts(body: &str) -> Result<(Vec<PartInfo>, Option<String>), XmlError> {
    let root = parse(body)?;
    let mut parts = Vec::new();
    for p in root.children_named("Part") {
        let part_number = p
            .text_of("PartNumber")
            .trim()
            .parse()
            .map_err(|_| XmlError("Part without a valid PartNumber".into()))?;
        parts.push(PartInfo {
            part_number,
            etag: p.text_of("ETag").trim().to_owned(),
            size: p.text_of("Size").trim().parse().unwrap_or(0),
            crc64: crate::crc64::parse_header(p.text_of("HashCrc64ecma")),
        });
    }
    let truncated = root.text_of("IsTruncated").trim() == "true";
    let next = root.text_of("NextPartNumberMarker").trim();
    Ok((
        parts,
        (truncated && !next.is_empty()).then(|| next.to_owned()),
    ))
}

/// The CompleteMultipartUpload request body.
pub fn complete_body(parts: &[PartInfo]) -> String {
    let mut s = String::from("<CompleteMultipartUpload>");
    for p in parts {
        s.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
            p.part_number,
            escape(p.etag.as_str())
        ));
    }
    s.push_str("</CompleteMultipartUpload>");
    s
}

/// One object of a ListObjectsV2 page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    /// Object key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Last-modified time as OSS wrote it (ISO 8601).
    pub last_modified: String,
    /// ETag.
    pub etag: String,
}

/// A ListObjectsV2 page: objects, common prefixes and the continuation token of the next page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Objects on this page.
    pub objects: Vec<ObjectEntry>,
    /// "Directories" when a delimiter was given.
    pub prefixes: Vec<String>,
    /// Token for the next page, when the listing is truncated.
    pub next_token: Option<String>,
}

/// Parses a ListObjectsV2 (`ListBucketResult`) answer.
///
/// # Errors
/// When the document is malformed.
pub fn list_objects(body: &str) -> Result<ListPage, XmlError> {
    let root = parse(body)?;
    if root.name != "ListBucketResult" {
        return Err(XmlError(format!(
            "expected ListBucketResult, got {}",
            root.name
        )));
    }
    let objects = root
        .children_named("Contents")
        .map(|c| ObjectEntry {
            key: c.text_of("Key").to_owned(),
            size: c.text_of("Size").trim().parse().unwrap_or(0),
            last_modified: c.text_of("LastModified").trim().to_owned(),
            etag: c.text_of("ETag").trim().to_owned(),
        })
        .collect();
    let prefixes = root
        .children_named("CommonPrefixes")
        .map(|c| c.text_of("Prefix").to_owned())
        .collect();
    let truncated = root.text_of("IsTruncated").trim() == "true";
    let token = root.text_of("NextContinuationToken").trim();
    Ok(ListPage {
        objects,
        prefixes,
        next_token: (truncated && !token.is_empty()).then(|| token.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERR: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The specified key does not exist.</Message>
  <RequestId>5C3D9175B6FC201293AD****</RequestId>
  <HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <Key>a &amp; b</Key>
  <EC>0026-00000001</EC>
</Error>"#;

    #[test]
    fn oss_error_document() {
        let e = oss_error(404, ERR, None);
        assert_eq!(e.status, 404);
        assert_eq!(e.code, "NoSuchKey");
        assert_eq!(e.message, "The specified key does not exist.");
        assert_eq!(e.request_id, "5C3D9175B6FC201293AD****");
        assert_eq!(e.ec, "0026-00000001");
        let shown = e.to_string();
        assert!(
            shown.contains("NoSuchKey") && shown.contains("check the object key"),
            "{shown}"
        );
        assert_eq!(parse(ERR).unwrap().text_of("Key"), "a & b");
    }

    #[test]
    fn header_request_id_wins_and_bodies_may_be_junk() {
        let e = oss_error(503, "<html>busy</html>", Some("rid-1"));
        assert_eq!(
            (e.status, e.code.as_str(), e.request_id.as_str()),
            (503, "", "rid-1")
        );
        let e = oss_error(500, "", None);
        assert_eq!(e.code, "");
        assert!(e.to_string().contains("retry later"));
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for bad in [
            "",
            "<",
            "<a>",
            "<a></b>",
            "</a>",
            "<a>&bogus;</a>",
            "<a>&#xD800;</a>",
            "text only",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn multipart_documents() {
        let init = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>0004B9894A22E5B1888A1E29F823****</UploadId></InitiateMultipartUploadResult>";
        assert_eq!(
            initiate_upload_id(init).unwrap(),
            "0004B9894A22E5B1888A1E29F823****"
        );
        assert!(initiate_upload_id("<InitiateMultipartUploadResult/>").is_err());
        let list = r#"<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>
<Part><PartNumber>1</PartNumber><ETag>"E1"</ETag><Size>102400</Size><HashCrc64ecma>11051210869376104954</HashCrc64ecma></Part>
<Part><PartNumber>2</PartNumber><ETag>"E2"</ETag><Size>5</Size></Part></ListPartsResult>"#;
        let (parts, next) = list_parts(list).unwrap();
        assert_eq!(next.as_deref(), Some("2"));
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].crc64, Some(0x995D_C9BB_DF19_39FA));
        assert_eq!(
            parts[1],
            PartInfo {
                part_number: 2,
                etag: "\"E2\"".into(),
                size: 5,
                crc64: None
            }
        );
        let body = complete_body(&parts);
        assert_eq!(
            body,
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;E1&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;E2&quot;</ETag></Part></CompleteMultipartUpload>"
        );
        let back = parse(&body).unwrap();
        assert_eq!(
            back.children_named("Part").nth(1).unwrap().text_of("ETag"),
            "\"E2\""
        );
    }

    #[test]
    fn listing() {
        let doc = r#"<ListBucketResult><Name>b</Name><IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken>
<Contents><Key>dir/a.txt</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"x"</ETag><Size>12</Size></Contents>
<CommonPrefixes><Prefix>dir/sub/</Prefix></CommonPrefixes></ListBucketResult>"#;
        let page = list_objects(doc).unwrap();
        assert_eq!(page.objects[0].key, "dir/a.txt");
        assert_eq!(page.objects[0].size, 12);
        assert_eq!(page.prefixes, vec!["dir/sub/".to_owned()]);
        assert_eq!(page.next_token.as_deref(), Some("tok"));
        assert!(list_objects("<Error/>").is_err());
    }
}
