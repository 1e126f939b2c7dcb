//! Crate internals that the fuzz targets and the integration tests reach (the modules
//! themselves are crate-private), and the body of the `oss_xml` cargo-fuzz target, so the
//! same check runs under libFuzzer (`scripts/fuzz.sh`) and in a plain `cargo test` that
//! replays every seed and regression input (`hal-std/tests/fuzz_replay.rs` over
//! `fuzz/{seeds,regressions}/oss_xml/`). Not a stable API.

/// The bounded OSS XML parsers.
pub mod xml {
    pub use crate::xml::{
        ListPage, Node, XmlError, complete_body, initiate_upload_id, list_objects, list_parts,
        oss_error, parse,
    };
}

/// CRC-64/XZ (`x-oss-hash-crc64ecma`).
pub mod crc64 {
    pub use crate::crc64::{checksum, parse_header};
}

/// The retry policy's header parser.
pub mod retry {
    pub use crate::retry::parse_retry_after;
}

/// OSS XML answers (errors, InitiateMultipartUpload, ListParts, ListObjects): the bounded
/// parser never panics, and a ListParts answer rebuilt by `complete_body` lists the same parts.
#[allow(clippy::panic)]
pub fn oss_xml(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let _ = xml::parse(text);
    let _ = xml::oss_error(403, text, Some("rid"));
    let _ = xml::initiate_upload_id(text);
    let _ = xml::list_objects(text);
    if let Ok((parts, _)) = xml::list_parts(text) {
        let body = xml::complete_body(&parts);
        match xml::parse(&body) {
            Ok(doc) => assert_eq!(doc.children_named("Part").count(), parts.len()),
            Err(e) => panic!("complete_body emits XML that does not parse: {e:?}"),
        }
    }
}
