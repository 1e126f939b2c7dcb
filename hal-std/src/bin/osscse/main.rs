//! `osscse`: encrypt, upload, download and inspect Alibaba Cloud OSS objects with client-side
//! encryption compatible with the official SDKs, or work offline with a local directory store
//! (`file://DIR/KEY`).
//!
//! Exit codes: 0 success, 1 other error, 2 usage (also an invalid bucket name or object key,
//! found before any request), 3 object not found, 4 credentials / configuration / access denied
//! (OSS or KMS), 5 master key problem (wrong key, no key for the matdesc, KMS key not found or
//! disabled), 6 integrity (CRC-64 mismatch, truncation, source changed, `verify` differences),
//! 7 network or service unavailable (OSS or KMS). The table lives in `error.rs`.
#![forbid(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]
// The doc comments of the CLI types are clap help text (URLs and <PLACEHOLDERS> as typed).
#![allow(rustdoc::bare_urls, rustdoc::invalid_html_tags)]
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

mod cli;
mod cmd;
mod error;
mod keys;
mod location;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let mut cli = cli::Cli::parse();
    let checked = cmd::config::apply(&mut cli).and_then(|()| cmd::precheck(&cli.command));
    match checked.and_then(|()| run::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Errors are printed even with --quiet (which only silences progress and notes).
            eprintln!("osscse: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
