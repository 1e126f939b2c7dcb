//! Master keys on std hosts: OS entropy, key files (RSA PEM/DER and symmetric AES-256 CMKs,
//! read with ssh's permission warning and written without following links or overwriting),
//! RSA and symmetric key generation, and the [`Keyring`] that picks a key (RSA, KMS or
//! symmetric) for an object by its wrap-alg, wrapped-value size and matdesc.

mod error;
mod file;
mod keyring;
mod rsa;
mod rsa_key;
mod symmetric;

pub use error::KeyError;
pub use file::{permission_warning, read_key_file, write_key_file};
pub use keyring::Keyring;
#[cfg(test)]
pub(crate) use rsa::test_key;
pub use rsa::{GeneratedKeyPair, generate_rsa, load_rsa_key};
pub use rsa_key::RsaKey;
pub use symmetric::{
    SymmetricKeyEncoding, encode_symmetric_key, generate_symmetric_key, load_symmetric_key,
    parse_symmetric_key,
};

/// The operating system's cryptographically secure generator (getrandom), usable wherever
/// osscse-core takes an RNG (`rand_core::TryCryptoRng` / `CryptoSource`).
pub use getrandom::SysRng;
