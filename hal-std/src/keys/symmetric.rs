//! Symmetric customer master keys (AES-256, wrap-alg `AES/GCM/NoPadding`, docs/symmetric.md):
//! key files in three encodings, and generation from OS entropy.

use std::path::Path;

use base64ct::{Base64, Base64Unpadded, Encoding};
use osscse_core::wrap::{AES_GCM_KEY_LEN, AesGcmMasterKey, CryptoSource};
use zeroize::Zeroizing;

use super::{KeyError, SysRng, read_key_file};
use crate::error::Result;

/// How a symmetric key file stores the 32 key bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SymmetricKeyEncoding {
    /// Exactly the 32 raw bytes (what `osscse keygen --symmetric` writes by default).
    #[default]
    Raw,
    /// 64 lowercase hex characters and a newline.
    Hex,
    /// Standard padded base64 (44 characters) and a newline.
    Base64,
}

/// Decodes a symmetric key file's bytes: exactly 32 raw bytes; else, after one trailing
/// newline (`\n` or `\r\n`) is removed, 64 hex characters or the standard base64 (padded or
/// not) of 32 bytes. Returns `None` for anything else (never a panic).
pub fn parse_symmetric_key(bytes: &[u8]) -> Option<AesGcmMasterKey> {
    let key = decode(bytes)?;
    AesGcmMasterKey::from_bytes(&key[..]).ok()
}

fn decode(bytes: &[u8]) -> Option<Zeroizing<[u8; AES_GCM_KEY_LEN]>> {
    let mut key = Zeroizing::new([0u8; AES_GCM_KEY_LEN]);
    if bytes.len() == AES_GCM_KEY_LEN {
        key.copy_from_slice(bytes);
        return Some(key);
    }
    let text = match bytes.strip_suffix(b"\n") {
        Some(t) => t.strip_suffix(b"\r").unwrap_or(t),
        None => bytes,
    };
    if text.len() == 2 * AES_GCM_KEY_LEN {
        for (out, pair) in key.iter_mut().zip(text.chunks_exact(2)) {
            *out = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        return Some(key);
    }
    let padded = Base64::decode(text, &mut key[..]).map(<[u8]>::len);
    let decoded = match padded {
        Ok(n) => n,
        Err(_) => Base64Unpadded::decode(text, &mut key[..]).ok()?.len(),
    };
    (decoded == AES_GCM_KEY_LEN).then_some(key)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Loads a symmetric CMK from a file (see [`parse_symmetric_key`] for the encodings). The
/// file's bytes and the decoded key live only in zeroized buffers.
///
/// # Errors
/// [`crate::Error::Io`] when the file cannot be read, [`KeyError::SymmetricFormat`] when it
/// is not a key in an accepted encoding.
pub fn load_symmetric_key(path: &Path) -> Result<AesGcmMasterKey> {
    let bytes = read_key_file(path)?;
    parse_symmetric_key(&bytes).ok_or_else(|| {
        KeyError::SymmetricFormat {
            path: path.to_path_buf(),
            len: bytes.len(),
        }
        .into()
    })
}

/// 32 random bytes from the OS generator: a new symmetric CMK.
///
/// # Errors
/// [`osscse_core::Error::Rng`] (as [`crate::Error::Core`]) when the OS generator fails.
pub fn generate_symmetric_key() -> Result<Zeroizing<[u8; AES_GCM_KEY_LEN]>> {
    let mut key = Zeroizing::new([0u8; AES_GCM_KEY_LEN]);
    SysRng.fill(&mut key[..])?;
    Ok(key)
}

/// The bytes of a key file holding `key` in `encoding` (zeroized on drop).
pub fn encode_symmetric_key(
    key: &[u8; AES_GCM_KEY_LEN],
    encoding: SymmetricKeyEncoding,
) -> Zeroizing<Vec<u8>> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Zeroizing::new(Vec::with_capacity(2 * AES_GCM_KEY_LEN + 1));
    match encoding {
        SymmetricKeyEncoding::Raw => out.extend_from_slice(key),
        SymmetricKeyEncoding::Hex => {
            for b in key {
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            out.push(b'\n');
        }
        SymmetricKeyEncoding::Base64 => {
            let mut buf = Zeroizing::new([0u8; 44]);
            if let Ok(text) = Base64::encode(key, &mut buf[..]) {
                out.extend_from_slice(text.as_bytes());
            }
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use osscse_core::content::ContentMaterial;
    use osscse_core::wrap;

    use super::*;

    fn same_key(a: &AesGcmMasterKey, b: &AesGcmMasterKey) -> bool {
        let material = ContentMaterial::from_slices(&[7; 32], &[0; 16]).ok();
        let Some(material) = material else {
            return false;
        };
        wrap::seal(a, &material, &mut SysRng)
            .and_then(|env| wrap::open(b, &env, &mut SysRng))
            .is_ok_and(|m| m.key() == material.key())
    }

    #[test]
    fn every_encoding_round_trips_and_decodes_to_the_same_key() {
        let key: [u8; 32] = core::array::from_fn(|i| (i * 37 + 11) as u8);
        let raw = parse_symmetric_key(&key);
        let Some(raw) = raw else {
            panic!("raw key refused")
        };
        for encoding in [
            SymmetricKeyEncoding::Raw,
            SymmetricKeyEncoding::Hex,
            SymmetricKeyEncoding::Base64,
        ] {
            let file = encode_symmetric_key(&key, encoding);
            let parsed = parse_symmetric_key(&file);
            assert!(parsed.is_some_and(|k| same_key(&raw, &k)), "{encoding:?}");
        }
        // Upper-case hex, CRLF, unpadded base64, no newline.
        let upper: String = key.iter().map(|b| format!("{b:02X}")).collect();
        let b64 = Base64::encode_string(&key);
        for text in [
            format!("{upper}\r\n"),
            upper.clone(),
            b64.trim_end_matches('=').to_string(),
            b64.clone(),
        ] {
            let parsed = parse_symmetric_key(text.as_bytes());
            assert!(parsed.is_some_and(|k| same_key(&raw, &k)), "{text}");
        }
        // A different key does not open it.
        let other = parse_symmetric_key(&[1; 32]);
        assert!(other.is_some_and(|k| !same_key(&raw, &k)));
    }

    #[test]
    fn anything_else_is_refused() {
        let hex = "ab".repeat(32);
        let b64 = Base64::encode_string(&[5; 32]);
        for bad in [
            Vec::new(),
            vec![0; 31],
            vec![0; 33],
            vec![0; 64],
            format!("{hex}\n\n").into_bytes(),
            format!(" {hex}").into_bytes(),
            format!("{}zz\n", &hex[..62]).into_bytes(),
            Base64::encode_string(&[5; 31]).into_bytes(),
            Base64::encode_string(&[5; 33]).into_bytes(),
            format!("{b64}\n\n").into_bytes(),
            b"-----BEGIN PRIVATE KEY-----\n".to_vec(),
        ] {
            assert!(parse_symmetric_key(&bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn generated_keys_differ() {
        let a = generate_symmetric_key().ok();
        let b = generate_symmetric_key().ok();
        assert!(a.is_some() && b.is_some() && a != b);
    }
}
