//! Errors of key files and of picking a key for an object.

use std::path::PathBuf;

/// A key file that cannot be used or written, or an object no loaded key fits.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file is not a symmetric CMK in any accepted encoding (its bytes are never shown).
    #[error(
        "{}: not a symmetric key ({len} bytes): expected exactly 32 raw bytes, 64 hex characters or the base64 of 32 bytes (a trailing newline is allowed); create one with `osscse keygen --symmetric --out FILE`",
        path.display()
    )]
    SymmetricFormat {
        /// The key file.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
    },
    /// A key file is larger than any key file can be.
    #[error("{}: {len} bytes is too large for a key file; check the path", path.display())]
    TooLarge {
        /// The key file.
        path: PathBuf,
        /// Its length in bytes (at least).
        len: u64,
    },
    /// The destination of a new key already exists.
    #[error(
        "{} already exists; pass --force to overwrite it (objects encrypted with the old key become unreadable without it)",
        path.display()
    )]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// The destination of a new key is a symbolic link, which osscse never writes through.
    #[error(
        "{} is a symbolic link; osscse never writes a key through a link (even with --force): remove the link or choose another path",
        path.display()
    )]
    Symlink {
        /// The destination.
        path: PathBuf,
    },
    /// No loaded master key has the object's wrap-alg and wrapped-value size.
    #[error(
        "no loaded master key fits this object: it was wrapped by {object}, the loaded keys are {loaded}; pass the key it was written with (--private-key, --symmetric-key or --kms-key-id)"
    )]
    NoFittingKey {
        /// The key the object needs, e.g. `an RSA-3072 key (wrapped values of 384 bytes)`.
        object: String,
        /// The loaded keys, e.g. `RSA-2048, AES-256 (symmetric)`.
        loaded: String,
    },
}

impl KeyError {
    /// Whether this is a master-key mismatch (the object needs another key) rather than an
    /// unusable file or destination.
    pub fn is_key_mismatch(&self) -> bool {
        matches!(self, Self::NoFittingKey { .. })
    }
}
