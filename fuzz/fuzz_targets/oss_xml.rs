//! OSS XML answers (errors, InitiateMultipartUpload, ListParts, ListObjects): the bounded parser
//! never panics, and a ListParts answer rebuilt by `complete_body` lists the same parts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use osscse_std::xml;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let _ = xml::parse(text);
    let _ = xml::oss_error(403, text, Some("rid"));
    let _ = xml::initiate_upload_id(text);
    let _ = xml::list_objects(text);
    if let Ok((parts, _)) = xml::list_parts(text) {
        let body = xml::complete_body(&parts);
        let doc = xml::parse(&body).expect("complete_body emits well-formed XML");
        assert_eq!(doc.children_named("Part").count(), parts.len());
    }
});
