//! RSA master keys from files, and RSA key generation.

use std::path::Path;

use osscse_core::error::WrapError;
use osscse_core::wrap::RsaMasterKey;

use super::{SysRng, read_key_file};
use crate::error::{Error, Result};

/// Loads an RSA key from a PEM (or DER) file: a private key when the file holds one, else a
/// public key. The file's bytes are read into a zeroized buffer.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Config`] when it holds no usable RSA
/// key.
pub fn load_rsa_key(path: &Path) -> Result<RsaMasterKey> {
    let bytes = read_key_file(path)?;
    let key = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => {
            if text.contains("PRIVATE KEY-----") {
                RsaMasterKey::from_private_pem(text)
            } else {
                RsaMasterKey::from_public_pem(text)
            }
        }
        _ => RsaMasterKey::from_private_der(&bytes)
            .or_else(|_| RsaMasterKey::from_public_der(&bytes)),
    };
    key.map_err(|e| {
        Error::Config(format!(
            "{}: {}",
            path.display(),
            osscse_core::Error::from(e)
        ))
    })
}

/// A freshly generated RSA key pair as PEM texts.
#[derive(Debug)]
pub struct GeneratedKeyPair {
    /// PKCS#8 `-----BEGIN PRIVATE KEY-----` (zeroized on drop).
    pub private_pem: zeroize::Zeroizing<String>,
    /// SPKI `-----BEGIN PUBLIC KEY-----`.
    pub public_pem: String,
}

/// Generates an RSA key pair of `bits` bits (2048 to 8192) from the OS generator.
///
/// # Errors
/// [`Error::Config`] for an unsupported size, [`Error::Core`] when generation fails.
pub fn generate_rsa(bits: usize) -> Result<GeneratedKeyPair> {
    use pkcs8::EncodePrivateKey;
    use spki::EncodePublicKey;
    if !(2048..=8192).contains(&bits) || !bits.is_multiple_of(8) {
        return Err(Error::Config(format!(
            "--bits {bits}: choose a size from 2048 to 8192 (3072 recommended)"
        )));
    }
    let mut rng = SysRng;
    let private = rsa::PrivateKey::new(&mut rng, bits).map_err(|_| osscse_core::Error::Rng)?;
    let private_pem = private
        .to_pkcs8_pem(pkcs8::LineEnding::LF)
        .map_err(|_| Error::Core(WrapError::Crypto.into()))?;
    let public_pem = private
        .to_public_key()
        .to_public_key_pem(pkcs8::LineEnding::LF)
        .map_err(|_| Error::Core(WrapError::Crypto.into()))?;
    Ok(GeneratedKeyPair {
        private_pem,
        public_pem,
    })
}

/// A key of `hal-std/tests/data` (unit tests).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn test_key(name: &str) -> RsaMasterKey {
    load_rsa_key(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_sizes_are_refused_before_generating() {
        assert!(matches!(generate_rsa(1024), Err(Error::Config(_))));
        assert!(matches!(generate_rsa(3000 + 1), Err(Error::Config(_))));
    }
}
