//! Strict parsing of envelope headers.

use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64, Encoding};

use super::*;
use crate::error::{EnvelopeError, Field};

const FIELDS: [Field; 9] = [
    Field::Key,
    Field::Start,
    Field::CekAlg,
    Field::WrapAlg,
    Field::Matdesc,
    Field::UnencryptedContentLength,
    Field::UnencryptedContentMd5,
    Field::DataSize,
    Field::PartSize,
];

const LEGACY_NAMES: [&str; 5] = [
    LEGACY_HEADER_KEY,
    LEGACY_HEADER_START,
    LEGACY_HEADER_CEK_ALG,
    LEGACY_HEADER_WRAP_ALG,
    LEGACY_HEADER_MATDESC,
];

/// Parses an object's response headers (any order, names case-insensitive, unrelated headers
/// ignored) into what they say about its encryption.
///
/// An object is encrypted when **any** `client-side-encryption-*` header (or any legacy
/// `oss-crypto-*` header) is present, even with an empty value; then the key, start, cek-alg
/// and wrap-alg headers must all be present, non-empty and valid. A partial or emptied
/// envelope is therefore an error, never ciphertext handed back as plaintext. When both
/// current and legacy headers are present, the current envelope is the one read.
///
/// A header may appear more than once only with the identical value (after trimming spaces
/// and tabs); two different values for one field are [`EnvelopeError::Duplicate`]. An empty
/// matdesc (`{}`, or an empty value) is the same as no matdesc.
///
/// # Errors
/// An [`EnvelopeError`] naming the header and the problem.
pub fn parse<I, K, V>(headers: I) -> Result<ObjectEncryption, EnvelopeError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut current: [Option<String>; 9] = Default::default();
    let mut legacy: [Option<String>; 5] = Default::default();
    for (name, value) in headers {
        let (name, value) = (name.as_ref(), value.as_ref());
        if let Some(i) = FIELDS
            .iter()
            .position(|f| f.header_name().eq_ignore_ascii_case(name))
        {
            store(&mut current[i], value, FIELDS[i])?;
        } else if let Some(i) = LEGACY_NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
        {
            // Legacy duplicates are reported against the nearest current field.
            store(&mut legacy[i], value, LEGACY_FIELDS[i])?;
        }
    }
    let [
        key,
        start,
        cek,
        wrap,
        matdesc,
        ucl,
        umd5,
        data_size,
        part_size,
    ] = current;
    let any_current = [
        &key, &start, &cek, &wrap, &matdesc, &ucl, &umd5, &data_size, &part_size,
    ]
    .into_iter()
    .any(Option::is_some);
    if any_current {
        let wrapped_key = b64(key, Field::Key)?;
        let wrapped_iv = b64(start, Field::Start)?;
        match nonempty(cek, Field::CekAlg)?.as_str() {
            CEK_ALG_AES_CTR => {}
            _ => return Err(EnvelopeError::UnsupportedCekAlg),
        }
        let wrap_alg = match nonempty(wrap, Field::WrapAlg)?.as_str() {
            WRAP_ALG_RSA => WrapAlg::Rsa,
            WRAP_ALG_KMS => WrapAlg::Kms,
            WRAP_ALG_AES_GCM => WrapAlg::AesGcm,
            _ => return Err(EnvelopeError::UnsupportedWrapAlg),
        };
        let unencrypted_content_md5 = match umd5.filter(|s| !s.is_empty()) {
            Some(s) => {
                Base64::decode_vec(&s)
                    .map_err(|_| EnvelopeError::InvalidBase64(Field::UnencryptedContentMd5))?;
                Some(s)
            }
            None => None,
        };
        let data_size = number(data_size, Field::DataSize)?;
        let part_size = number(part_size, Field::PartSize)?;
        match (data_size, part_size) {
            (_, Some(p)) if p == 0 || !p.is_multiple_of(16) => {
                return Err(EnvelopeError::PartSizeNotMultipleOf16);
            }
            (Some(_), None) => return Err(EnvelopeError::DataSizeWithoutPartSize),
            _ => {}
        }
        return Ok(ObjectEncryption::Envelope(Envelope {
            wrapped_key,
            wrapped_iv,
            wrap_alg,
            matdesc: parse_matdesc(matdesc)?,
            unencrypted_content_length: number(ucl, Field::UnencryptedContentLength)?,
            unencrypted_content_md5,
            data_size,
            part_size,
        }));
    }
    if legacy.iter().any(Option::is_some) {
        let [lkey, lstart, lcek, lwrap, lmatdesc] = legacy;
        let wrapped_key = b64(lkey, Field::Key)?;
        let wrapped_start = b64(lstart, Field::Start)?;
        match nonempty(lcek, Field::CekAlg)?.as_str() {
            // oss2 wrote the misnomer "AES/GCM/NoPadding" for what is really CTR.
            "AES/GCM/NoPadding" | CEK_ALG_AES_CTR => {}
            _ => return Err(EnvelopeError::UnsupportedCekAlg),
        }
        let wrap_alg = match nonempty(lwrap, Field::WrapAlg)?.as_str() {
            "rsa" => LegacyWrapAlg::RsaOaepSha1,
            "kms" => LegacyWrapAlg::Kms,
            _ => return Err(EnvelopeError::UnsupportedWrapAlg),
        };
        return Ok(ObjectEncryption::Legacy(LegacyEnvelope {
            wrapped_key,
            wrapped_start,
            wrap_alg,
            matdesc: parse_matdesc(lmatdesc)?,
        }));
    }
    Ok(ObjectEncryption::Plain)
}

const LEGACY_FIELDS: [Field; 5] = [
    Field::Key,
    Field::Start,
    Field::CekAlg,
    Field::WrapAlg,
    Field::Matdesc,
];

fn store(slot: &mut Option<String>, value: &str, field: Field) -> Result<(), EnvelopeError> {
    let value = value.trim_matches([' ', '\t']);
    if value.bytes().any(|b| b.is_ascii_control()) {
        return Err(EnvelopeError::InvalidText(field));
    }
    match slot {
        Some(old) if old != value => Err(EnvelopeError::Duplicate(field)),
        Some(_) => Ok(()),
        None => {
            *slot = Some(String::from(value));
            Ok(())
        }
    }
}

fn nonempty(v: Option<String>, field: Field) -> Result<String, EnvelopeError> {
    v.filter(|s| !s.is_empty())
        .ok_or(EnvelopeError::Missing(field))
}

fn b64(v: Option<String>, field: Field) -> Result<Vec<u8>, EnvelopeError> {
    let s = nonempty(v, field)?;
    Base64::decode_vec(&s).map_err(|_| EnvelopeError::InvalidBase64(field))
}

fn number(v: Option<String>, field: Field) -> Result<Option<u64>, EnvelopeError> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse::<u64>()
            .map(Some)
            .map_err(|_| EnvelopeError::InvalidNumber(field)),
        Some(_) => Err(EnvelopeError::InvalidNumber(field)),
    }
}

/// An absent, empty or `{}` matdesc is no matdesc: SDKs omit the header when it is empty, and
/// emitting never writes an empty one, so parse → emit → parse is stable.
fn parse_matdesc(v: Option<String>) -> Result<Option<Matdesc>, EnvelopeError> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Ok(Some(Matdesc::parse(&s)?).filter(|m| !m.is_empty())),
    }
}
