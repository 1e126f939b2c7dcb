//! Command-line arguments.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

/// Alibaba Cloud OSS client-side encryption, compatible with the official SDKs.
///
/// Locations are `oss://BUCKET/KEY` or `file://DIR/KEY` (a local directory store: the
/// ciphertext in DIR/KEY, the envelope in DIR/KEY.osscse-meta.json). Credentials come from
/// OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN (also for KMS), else from
/// the profile in ~/.ossutilconfig (--config-file, --profile).
///
/// Exit codes: 0 ok, 1 other, 2 usage, 3 not found, 4 credentials/configuration/access (OSS or
/// KMS), 5 master key (wrong key, KMS key not found or disabled), 6 integrity (CRC-64,
/// truncation), 7 network/service unavailable (OSS or KMS).
#[derive(Debug, Parser)]
#[command(name = "osscse", version, about, long_about, after_help = crate::cmd::EXAMPLES)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags for every command.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// OSS endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com or http://127.0.0.1:9000.
    #[arg(long, global = true, env = "OSS_ENDPOINT")]
    pub(crate) endpoint: Option<String>,
    /// Region id for V4 signing, e.g. cn-hangzhou (derived from oss-<region> endpoints).
    #[arg(long, global = true, env = "OSS_REGION")]
    pub(crate) region: Option<String>,
    /// Path-style URLs (endpoint/bucket/key) instead of virtual-hosted (bucket.endpoint/key).
    #[arg(long, global = true)]
    pub(crate) path_style: bool,
    /// Request signature version.
    #[arg(long, global = true, value_enum, default_value_t = SignVersionArg::V4)]
    pub(crate) sign_version: SignVersionArg,
    /// Upload without the Content-MD5 of each body: no digest pass (faster on large files), but
    /// anyone on the network path can then alter the stored ciphertext undetected, and altered
    /// ciphertext decrypts to altered plaintext. Only over a connection you trust end to end.
    #[arg(long, global = true)]
    pub(crate) insecure_unsigned_payload: bool,
    /// No progress bars or notes (errors are still printed).
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) config: crate::cmd::config::ConfigArgs,
}

/// `--sign-version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SignVersionArg {
    /// OSS4-HMAC-SHA256.
    V4,
    /// HMAC-SHA1.
    V1,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate a master key: an RSA pair DIR/private.pem (PKCS#8, mode 0600) and DIR/public.pem
    /// (SPKI), or with --symmetric one AES-256 key FILE (32 random bytes, mode 0600). Never
    /// overwrites without --force and never writes through a symbolic link.
    Keygen(KeygenArgs),
    /// Encrypt SRC (a file, or - for stdin) and store it at DST (oss://BUCKET/KEY or file://DIR/KEY).
    Put {
        /// Source file, or - for stdin.
        src: String,
        /// Destination: oss://BUCKET/KEY or file://DIR/KEY.
        dst: String,
        #[command(flatten)]
        writer: WriterArgs,
        /// Multipart part size in bytes (multiple of 16, at least 102400); chosen by size if unset.
        #[arg(long)]
        part_size: Option<u64>,
        /// Parallel part uploads.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
        /// Resumable upload: keep the upload id and the wrapped envelope in this file.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Record the plaintext MD5 in unencrypted-content-md5 (leaks a hash of the plaintext).
        #[arg(long)]
        unencrypted_md5: bool,
    },
    /// Fetch SRC (oss://BUCKET/KEY or file://DIR/KEY), decrypt it and write DST (a file, or - for stdout).
    Get {
        /// Source: oss://BUCKET/KEY or file://DIR/KEY.
        src: String,
        /// Destination file, or - for stdout.
        dst: String,
        #[command(flatten)]
        keys: KeyArgs,
        /// Byte range A-B, A- or -N (as in bytes=A-B).
        #[arg(long, allow_hyphen_values = true)]
        range: Option<String>,
        /// Parallel ranged GETs for whole-object downloads from OSS.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
    },
    /// Decrypt an object to stdout.
    Cat {
        /// Source: oss://BUCKET/KEY or file://DIR/KEY.
        src: String,
        #[command(flatten)]
        keys: KeyArgs,
        /// Byte range A-B, A- or -N.
        #[arg(long, allow_hyphen_values = true)]
        range: Option<String>,
    },
    /// Print an object's size, CRC-64, ETag and encryption envelope as JSON.
    Head {
        /// oss://BUCKET/KEY or file://DIR/KEY.
        location: String,
    },
    /// List objects under a prefix (oss://BUCKET/PREFIX or file://DIR).
    Ls {
        /// oss://BUCKET[/PREFIX] or file://DIR.
        location: String,
    },
    /// Delete an object.
    Rm {
        /// oss://BUCKET/KEY or file://DIR/KEY.
        location: String,
    },
    /// Print a presigned URL for an OSS object.
    Presign {
        /// oss://BUCKET/KEY.
        location: String,
        /// Validity in seconds.
        #[arg(long, default_value_t = 3600)]
        expires: u64,
        /// HTTP method the URL is for.
        #[arg(long, default_value = "GET", value_parser = ["GET", "PUT", "HEAD", "DELETE"])]
        method: String,
    },
    #[command(flatten)]
    Ops(crate::cmd::OpsCommand),
}

/// Private keys for decryption.
#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// RSA private key PEM; repeat for several keys. Only keys that fit an object are tried
    /// (its wrap-alg, and a modulus as long as its wrapped values): the one registered for its
    /// matdesc as PATH=JSON (e.g. key.pem='{"owner":"ops"}') first, then in the order given.
    #[arg(long = "private-key")]
    pub(crate) private_keys: Vec<String>,
    /// Symmetric AES-256 key file (32 raw bytes, 64 hex characters or base64); repeat for
    /// several keys, and give one a matdesc as FILE=JSON as for --private-key.
    #[arg(long = "symmetric-key")]
    pub(crate) symmetric_keys: Vec<String>,
    #[command(flatten)]
    pub(crate) kms: KmsArgs,
}

/// `keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Directory to write the RSA keys into (created if needed), or with --symmetric the key
    /// file to create.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Modulus size in bits.
    #[arg(long, default_value_t = 3072, conflicts_with = "symmetric")]
    pub(crate) bits: usize,
    /// Generate a symmetric AES-256 key (wrap-alg AES/GCM/NoPadding) instead of an RSA pair.
    #[arg(long)]
    pub(crate) symmetric: bool,
    /// How --symmetric writes the key.
    #[arg(long, value_enum, default_value_t = KeyEncodingArg::Raw, requires = "symmetric")]
    pub(crate) encoding: KeyEncodingArg,
    /// Overwrite existing key files (never through a symbolic link).
    #[arg(long)]
    pub(crate) force: bool,
}

/// `keygen --encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyEncodingArg {
    /// The 32 raw bytes.
    Raw,
    /// 64 hex characters and a newline.
    Hex,
    /// Base64 (44 characters) and a newline.
    Base64,
}

/// The master key that wraps the data keys of new objects: at most one of an RSA public key,
/// a symmetric key or a KMS key on the command line; without one, the profile's `public-key`,
/// `symmetric-key` or `kms-key-id` (in that order), else a configuration error.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("writer")
        .multiple(false)
        .args(["public_key", "symmetric_key", "kms_key_id"])
))]
pub(crate) struct WriterArgs {
    /// The RSA public (or private) key PEM that wraps the data key.
    #[arg(long)]
    pub(crate) public_key: Option<PathBuf>,
    /// The symmetric AES-256 key file (32 raw bytes, 64 hex characters or base64) that wraps
    /// the data key (wrap-alg AES/GCM/NoPadding; see docs/symmetric.md for SDK readers).
    #[arg(long)]
    pub(crate) symmetric_key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) kms: KmsArgs,
    /// Material description naming the key, a JSON object of strings, e.g. '{"owner":"ops"}'.
    #[arg(long)]
    pub(crate) matdesc: Option<String>,
}

/// A KMS master key (`KMS/ALICLOUD`); KMS is called with the OSS credentials.
#[derive(Debug, Args)]
pub(crate) struct KmsArgs {
    /// KMS customer master key (key id, ARN or alias/NAME) that wraps the data key.
    #[arg(long)]
    pub(crate) kms_key_id: Option<String>,
    /// KMS region, e.g. cn-hangzhou (endpoint https://kms.REGION.aliyuncs.com unless
    /// --kms-endpoint is given).
    #[arg(long, requires = "kms_key_id")]
    pub(crate) kms_region: Option<String>,
    /// KMS endpoint URL, e.g. a VPC endpoint or http://127.0.0.1:9100.
    #[arg(long, requires = "kms_key_id")]
    pub(crate) kms_endpoint: Option<String>,
}
