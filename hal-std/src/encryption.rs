//! `EncryptionClient`: the async, SDK-v2-shaped encryption client over [`Client`].
//!
//! Writes AES-256-CTR ciphertext with the envelope as `x-oss-meta-client-side-encryption-*`
//! headers (byte-compatible with the official SDKs); reads pick the master key by semantic
//! matdesc, decrypt whole objects or any range (suffix ranges resolved by a HEAD first), and
//! pass plain objects through. Whole-object transfers are CRC-64 checked end to end.
//!
//! * [`source`]: replayable plaintext sources.
//! * [`checkpoint`]: the resumable state of an upload.
//! * `object`: PutObject, GetObject, HeadObject, Delete and List.
//! * `multipart`: Initiate / UploadPart / Complete / Abort / ListParts with the CSE context.
//! * `transfer`: `upload_file` and `download_file` with a limit of requests in flight.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use osscse_core::content::{ContentMaterial, MultipartPlan};
use osscse_core::envelope::{Envelope, ObjectEncryption, WrapAlg};
use tokio::io::AsyncRead;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::keys::Keyring;
use crate::local::PutOptions;
use crate::object::{ObjectInfo, material_for};

pub mod checkpoint;
mod multipart;
mod object;
mod reader;
pub mod source;
mod transfer;

pub use checkpoint::Checkpoint;
pub use source::{FileSource, PlainSource};
pub use transfer::default_part_size;

/// Sent on ranged GETs so that OSS answers any satisfiable range with 206 (v2 SDK behaviour).
const RANGE_BEHAVIOR: (&str, &str) = ("x-oss-range-behavior", "standard");
/// Largest XML answer read.
const MAX_XML: u64 = 16 << 20;
/// Most pages a listing follows (a hostile server could otherwise page forever).
const MAX_PAGES: usize = 10_000;
/// The largest object OSS stores (48.8 TiB); a larger size in an answer is refused.
const MAX_OBJECT_SIZE: u64 = 48_800 * (1 << 30);

/// Progress callback: called with the number of bytes just transferred.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// What a completed upload returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    /// ETag.
    pub etag: Option<String>,
    /// CRC-64 of the stored ciphertext (verified against OSS when it reported one).
    pub crc64: u64,
    /// Bytes stored.
    pub size: u64,
}

/// An object being read.
pub struct GetObject {
    /// The plaintext stream (range applied; verified at the end).
    pub reader: Pin<Box<dyn AsyncRead + Send>>,
    /// Bytes the reader yields.
    pub len: u64,
    /// The object's metadata as the GET answer carried it (`size` is the whole object's when
    /// known).
    pub info: ObjectInfo,
    /// The plaintext range returned, inclusive, when a range was asked for.
    pub range: Option<(u64, u64)>,
}

impl std::fmt::Debug for GetObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetObject")
            .field("len", &self.len)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// The CSE context of a multipart upload: the envelope sent on Initiate and on every
/// UploadPart (identical strings), the data key material and the part layout.
pub struct MultipartContext {
    /// Bucket.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Envelope (with data size and part size).
    pub envelope: Envelope,
    /// Part layout.
    pub plan: MultipartPlan,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) material: ContentMaterial,
}

impl std::fmt::Debug for MultipartContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultipartContext")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("upload_id", &self.upload_id)
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

/// Options of [`EncryptionClient::upload_file`].
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// Part size (rounded up to a multiple of 16 and to at least 100 KiB); chosen by size when
    /// unset.
    pub part_size: Option<u64>,
    /// Part uploads in flight at once (default 4; tasks, not threads).
    pub jobs: Option<usize>,
    /// Checkpoint file for resuming (holds the upload id and the wrapped envelope only).
    pub checkpoint: Option<PathBuf>,
    /// Envelope extras.
    pub put: PutOptions,
}

/// Options of [`EncryptionClient::download_file`].
#[derive(Debug, Clone, Default)]
pub struct DownloadOptions {
    /// Bytes per ranged GET (multiple of 16; default 8 MiB).
    pub chunk_size: Option<u64>,
    /// Ranged GETs in flight at once (default 4; tasks, not threads).
    pub jobs: Option<usize>,
    /// Skip the `fsync` of the finished file and of its directory around the rename. By
    /// default (`false`) both are synced, so even a power loss leaves `dest` old or new, whole;
    /// the sync waits for the whole file to reach the disk (on the report machine about as
    /// long as the download itself). With `true` a crash of the *process* still leaves `dest`
    /// as it was (nothing is renamed before verification), but a crash of the *machine* may
    /// leave a new name with unwritten data, as with tools that never sync (curl, rclone's
    /// default).
    pub no_fsync: bool,
}

/// The async OSS encryption client. Clones share the connection pool and the keyring.
#[derive(Debug, Clone)]
pub struct EncryptionClient {
    client: Client,
    keys: Arc<Keyring>,
}

impl EncryptionClient {
    /// An encryption client writing with `keys`' default key and reading with any of them.
    pub fn new(client: Client, keys: Keyring) -> Self {
        Self {
            client,
            keys: Arc::new(keys),
        }
    }

    /// The underlying (plain) client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The keyring.
    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// The content material of an object (`None` for a plain one), unwrapped on tokio's
    /// blocking pool: an RSA-2048 unwrap is milliseconds of CPU per wrapped value (two per
    /// object) and a KMS unwrap a blocking call, so run in place they would hold up every
    /// other future polled by the same task or worker (64 reads in flight in one
    /// `buffer_unordered` would unwrap one at a time on one thread). Outside a runtime, and
    /// for an object wrapped with a symmetric CMK (only AES-GCM keys are tried on it: two GCM
    /// opens, about a microsecond, less than the trip to the pool and back), it runs in place.
    ///
    /// # Errors
    /// Key selection and unwrapping errors.
    pub(crate) async fn open_material(
        &self,
        encryption: &ObjectEncryption,
    ) -> Result<Option<ContentMaterial>> {
        if matches!(encryption, ObjectEncryption::Plain) {
            return Ok(None);
        }
        let symmetric =
            matches!(encryption, ObjectEncryption::Envelope(e) if e.wrap_alg == WrapAlg::AesGcm);
        let runtime = match tokio::runtime::Handle::try_current() {
            Ok(runtime) if !symmetric => runtime,
            _ => return material_for(encryption, &self.keys),
        };
        let keys = Arc::clone(&self.keys);
        let encryption = encryption.clone();
        match runtime
            .spawn_blocking(move || material_for(&encryption, &keys))
            .await
        {
            Ok(material) => material,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(Error::io(
                "unwrapping the data key",
                std::io::Error::other("the tokio runtime is shutting down"),
            )),
        }
    }

    fn new_envelope(
        &self,
        opts: &PutOptions,
        len: Option<u64>,
    ) -> Result<(ContentMaterial, Envelope)> {
        let (material, mut envelope) = self.keys.seal_new()?;
        if opts.record_length {
            envelope.unencrypted_content_length = len;
        }
        envelope
            .unencrypted_content_md5
            .clone_from(&opts.unencrypted_md5);
        Ok((material, envelope))
    }
}
