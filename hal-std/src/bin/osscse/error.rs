//! The binary's own error type and its exit-code table (as rage has one per binary): library
//! errors keep the codes of [`crate::run::exit_code`]; the CLI adds usage mistakes found before
//! any request, refusals to overwrite, content mismatches and per-object failures of tree
//! commands.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | other error (also: a destination exists and `--force` was not given) |
//! | 2 | usage: bad arguments, an invalid bucket name or object key (no request was sent) |
//! | 3 | object or file not found |
//! | 4 | credentials, configuration or access denied (OSS or KMS) |
//! | 5 | master key: wrong key, no key for the matdesc, KMS key unusable |
//! | 6 | integrity: CRC-64 mismatch, truncation, `verify` found a difference |
//! | 7 | network or service unavailable |
//!
//! A tree command (`cp -r`, `sync`, `verify -r`, `rewrap -r`) that fails for some objects
//! reports each and exits with their common code, or 1 when they differ.

use std::fmt;

use osscse_std::Error as LibError;

/// What went wrong in the `osscse` binary.
#[derive(Debug)]
pub(crate) enum CliError {
    /// An error of the library (exit code by [`crate::run::exit_code`]).
    Lib(LibError),
    /// Bad arguments found before any request (exit 2).
    Usage(String),
    /// The destination exists and `--force` was not given (exit 1).
    Exists(String),
    /// Stored content differs from the local one (exit 6).
    Differs(String),
    /// Some objects of a tree command failed (already reported one by one).
    Several {
        /// Objects that failed, with their exit codes.
        codes: Vec<u8>,
        /// Objects attempted.
        total: usize,
    },
}

impl CliError {
    /// The process exit code (see the module docs).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Lib(e) => crate::run::exit_code(e),
            Self::Usage(_) => 2,
            Self::Exists(_) => 1,
            Self::Differs(_) => 6,
            Self::Several { codes, .. } => match codes.split_first() {
                Some((first, rest)) if rest.iter().all(|c| c == first) => *first,
                _ => 1,
            },
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lib(e) => write!(f, "{e}"),
            Self::Usage(m) => write!(f, "{m}"),
            Self::Exists(p) => write!(
                f,
                "{p} exists; pass -f/--force to overwrite it (or choose another destination)"
            ),
            Self::Differs(m) => write!(f, "{m}"),
            Self::Several { codes, total } => {
                write!(f, "{} of {total} objects failed (see above)", codes.len())
            }
        }
    }
}

impl std::error::Error for CliError {}

impl From<LibError> for CliError {
    fn from(e: LibError) -> Self {
        Self::Lib(e)
    }
}

/// The binary's result type.
pub(crate) type Result<T> = std::result::Result<T, CliError>;
