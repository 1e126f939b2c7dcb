//! The operator's commands (`cp`, `sync`, ...), each in its own module, and the checks that run
//! before any command sends a request.

pub(crate) mod config;
mod cp;
mod glob;
mod rewrap;
pub(crate) mod stream;
mod sync;
mod tree;
mod verify;

use clap::Subcommand;
pub(crate) use cp::keep_permissions;

// The key helpers the commands share with put/get (a merge that moves them changes this line).
pub(crate) use crate::keys::{keyring, kms_key};

use crate::cli::{Command, Global};
use crate::error::{CliError, Result};
use crate::location::Location;

/// Shown after `--help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  osscse keygen --out keys
  osscse put report.pdf oss://my-bucket/docs/report.pdf --public-key keys/public.pem
  osscse get oss://my-bucket/docs/report.pdf report.pdf --private-key keys/private.pem
  osscse cp -r photos/ oss://my-bucket/photos/ --public-key keys/public.pem --jobs 8
  osscse cp -r oss://my-bucket/photos/ restored/ --private-key keys/private.pem
  osscse cp -r oss://my-bucket/photos/ file:///backup/photos   (ciphertext and envelope, no key)
  osscse sync photos/ oss://my-bucket/photos/ --public-key keys/public.pem --dry-run
  osscse verify -r photos/ oss://my-bucket/photos/ --private-key keys/private.pem
  osscse rewrap -r oss://my-bucket/photos/ --private-key old/private.pem --public-key new/public.pem
  osscse ls oss://my-bucket/photos/
  osscse --profile dev config show

Settings: flags, then OSS_ENDPOINT, OSS_REGION, OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET,
OSS_SESSION_TOKEN, then the profile in ~/.ossutilconfig (ossutil's keys plus public-key,
private-key, matdesc, kms-key-id).
Exit codes: 0 ok, 1 other, 2 usage (bad bucket name or key: nothing sent), 3 not found,
4 credentials/configuration/access, 5 master key, 6 integrity or difference, 7 network.";

/// Commands that work on trees of objects.
#[derive(Debug, Subcommand)]
pub(crate) enum OpsCommand {
    /// Copy files and objects: a local file or directory to oss:// or file:// (encrypting),
    /// an object or prefix to a local path (decrypting), or between stores (the ciphertext and
    /// its envelope as they are: no key needed, nothing re-encrypted).
    Cp(cp::CpArgs),
    /// Copy only what differs between two trees (missing, other size, or newer source), in
    /// any direction cp supports; --delete removes destination entries SRC does not have.
    Sync(sync::SyncArgs),
    /// Check that objects hold exactly the local files' bytes without downloading them: the
    /// data key is unwrapped, the file encrypted locally, and length and CRC-64 compared with
    /// the stored ones (exit 0 equal, 6 different).
    Verify(verify::VerifyArgs),
    /// Wrap objects' data keys under a new master key (--public-key NEW) with the current
    /// one (--private-key OLD), without decrypting or changing the ciphertext.
    Rewrap(rewrap::RewrapArgs),
    /// Settings from ~/.ossutilconfig (or --config-file) and --profile.
    #[command(subcommand)]
    Config(config::ConfigCommand),
}

/// Runs an operator command.
pub(crate) fn run(g: &Global, command: OpsCommand) -> Result<()> {
    match command {
        OpsCommand::Cp(args) => cp::run(g, &args),
        OpsCommand::Sync(args) => sync::run(g, &args),
        OpsCommand::Verify(args) => verify::run(g, &args),
        OpsCommand::Rewrap(args) => rewrap::run(g, &args),
        OpsCommand::Config(config::ConfigCommand::Show) => config::show(g),
    }
}

/// Checks the locations of the single-object commands before anything is sent: a malformed
/// location, bucket name or object key is a usage error (exit 2).
pub(crate) fn precheck(command: &Command) -> Result<()> {
    let (text, need_key) = match command {
        Command::Put { dst, .. } => (dst, true),
        Command::Get { src, .. } | Command::Cat { src, .. } => (src, true),
        Command::Head { location }
        | Command::Rm { location }
        | Command::Presign { location, .. } => (location, true),
        Command::Ls { location } => (location, false),
        _ => return Ok(()),
    };
    parse(text, need_key).map(|_| ())
}

/// Parses a location; mistakes are usage errors.
pub(crate) fn parse(text: &str, need_key: bool) -> Result<Location> {
    Location::parse(text, need_key).map_err(|e| match e {
        osscse_std::Error::Config(m) => CliError::Usage(m),
        other => CliError::Lib(other),
    })
}
