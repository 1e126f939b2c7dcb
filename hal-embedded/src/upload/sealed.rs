//! [`SealedObject`]: the data key, IV and CSE envelope of one object, on an AES cipher of the
//! caller's choice.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;

use osscse_core::content::ContentMaterial;
use osscse_core::engine::Engine;
use osscse_core::envelope::Envelope;
use osscse_core::wrap::{self, MasterKey};
use rand_core::TryCryptoRng;

use crate::cipher::{self, LoadKey};
use crate::keys::{Capture, IvPrefix, KeyGenError, generate_material};

/// The CSE envelope and content material of one object, reusable for retries.
///
/// `B` is the AES-256 cipher the content is encrypted with: osscse-core's [`Engine`] by
/// default, or an AES peripheral ([`SealedObject::new_with_cipher`]), keyed with the data key.
pub struct SealedObject<B: LoadKey = Engine> {
    material: ContentMaterial,
    envelope: Envelope,
    headers: Vec<(&'static str, String)>,
    cipher: RefCell<B>,
}

impl<B: LoadKey> fmt::Debug for SealedObject<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedObject")
            .field("envelope", &self.envelope)
            .finish_non_exhaustive()
    }
}

/// Why an object could not be sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError<E> {
    /// No data key, or no RSA padding: the DRBG (or its health-tested source) failed, or its
    /// output was stuck.
    KeyGen(KeyGenError<E>),
    /// The master key could not wrap the data key or IV.
    Wrap(osscse_core::Error),
}

impl<E: fmt::Display> fmt::Display for SealError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyGen(e) => e.fmt(f),
            Self::Wrap(e) => write!(f, "cannot wrap the data key: {e}"),
        }
    }
}

impl<E: core::error::Error> core::error::Error for SealError<E> {}

impl SealedObject {
    /// Generates the data key and IV from `rng` (IV bytes 0..8 from `prefix` when given) and
    /// wraps them with `master_key`. Records `plaintext_len` as
    /// `x-oss-meta-client-side-encryption-unencrypted-content-length`. Content is encrypted
    /// with osscse-core's engine.
    ///
    /// # Errors
    /// [`SealError::KeyGen`] when the DRBG fails (e.g. a latched health-test failure),
    /// [`SealError::Wrap`] when wrapping fails. Nothing is sealed then.
    pub fn new<K, R>(
        master_key: &K,
        rng: &mut R,
        prefix: Option<IvPrefix>,
        plaintext_len: u64,
    ) -> Result<Self, SealError<R::Error>>
    where
        K: MasterKey<Error = osscse_core::Error> + ?Sized,
        R: TryCryptoRng,
    {
        Self::new_with_cipher(
            Engine::new(&[0; 32]),
            master_key,
            rng,
            prefix,
            plaintext_len,
        )
    }
}

impl<B: LoadKey> SealedObject<B> {
    /// [`SealedObject::new`], encrypting the content with `cipher` (e.g. the MCU's AES
    /// peripheral driver), which is loaded with the new data key. Get it back with
    /// [`SealedObject::into_cipher`].
    ///
    /// # Errors
    /// As [`SealedObject::new`].
    pub fn new_with_cipher<K, R>(
        mut cipher: B,
        master_key: &K,
        rng: &mut R,
        prefix: Option<IvPrefix>,
        plaintext_len: u64,
    ) -> Result<Self, SealError<R::Error>>
    where
        K: MasterKey<Error = osscse_core::Error> + ?Sized,
        R: TryCryptoRng,
    {
        let material = generate_material(rng, prefix).map_err(SealError::KeyGen)?;
        // The RSA padding draws from the DRBG too: keep its error if that is what failed.
        let mut capture = Capture { rng, error: None };
        let mut envelope = match wrap::seal(master_key, &material, &mut capture) {
            Ok(e) => e,
            Err(e) => {
                return Err(match capture.error.take() {
                    Some(rng_error) => SealError::KeyGen(KeyGenError::Rng(rng_error)),
                    None => SealError::Wrap(e),
                });
            }
        };
        envelope.unencrypted_content_length = Some(plaintext_len);
        let headers = envelope.headers();
        cipher.load_key(material.key());
        Ok(Self {
            material,
            envelope,
            headers,
            cipher: RefCell::new(cipher),
        })
    }

    /// The envelope (wrapped key and IV, algorithms, plaintext length).
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The plaintext length recorded in the envelope.
    pub fn plaintext_len(&self) -> u64 {
        self.envelope.unencrypted_content_length.unwrap_or(0)
    }

    /// The envelope as request headers (`x-oss-meta-client-side-encryption-*`), canonical values.
    pub fn envelope_headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// Encrypts `buf` in place as the plaintext bytes at `offset` of this object (for callers
    /// that send the body themselves; [`Uploader::put`](crate::Uploader::put) does this while
    /// streaming).
    pub fn encrypt_at(&self, offset: u64, buf: &mut [u8]) {
        // The borrow lasts for this synchronous call only, so it cannot overlap another.
        let mut cipher = self.cipher.borrow_mut();
        cipher::apply_at(&mut *cipher, self.material.iv(), offset, buf);
    }

    /// The cipher back (still loaded with this object's data key: load another key or reset
    /// the peripheral before handing it elsewhere).
    pub fn into_cipher(self) -> B {
        self.cipher.into_inner()
    }
}
