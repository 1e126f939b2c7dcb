//! `osscse-server`: run the loopback OSS-compatible server by hand.
//!
//! ```text
//! osscse-server --listen 127.0.0.1:PORT --access-key-id AK --access-key-secret SK
//!               [--security-token TOKEN] [--data-dir DIR] [--etag md5|crc64]
//! ```
//! `--etag crc64` (not OSS behaviour) makes ETags from CRC-64 and length instead of MD5, for
//! throughput runs where the server's MD5 would be the bottleneck.
#![forbid(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]
// A std-only test fixture: `core`/`alloc` paths would add nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::process::ExitCode;

use osscse_tests::{Config, EtagPolicy, Server};

const USAGE: &str = "usage: osscse-server --listen 127.0.0.1:PORT --access-key-id AK --access-key-secret SK [--security-token TOKEN] [--data-dir DIR] [--etag md5|crc64]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut listen, mut ak, mut sk, mut token, mut dir) = (None, None, None, None, None);
    let mut etag = None;
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--listen" => &mut listen,
            "--access-key-id" => &mut ak,
            "--access-key-secret" => &mut sk,
            "--security-token" => &mut token,
            "--data-dir" => &mut dir,
            "--etag" => &mut etag,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        let Some(value) = args.next() else {
            eprintln!("{flag} needs a value\n{USAGE}");
            return ExitCode::from(2);
        };
        *slot = Some(value);
    }
    let (Some(ak), Some(sk)) = (ak, sk) else {
        eprintln!("--access-key-id and --access-key-secret are required\n{USAGE}");
        return ExitCode::from(2);
    };
    let mut config = Config::new(&ak, &sk);
    if let Some(t) = token {
        config.credentials = config.credentials.with_security_token(t);
    }
    if let Some(l) = listen {
        match l.parse() {
            Ok(a) => config.listen = a,
            Err(e) => {
                eprintln!("--listen {l}: {e} (expected IP:PORT, e.g. 127.0.0.1:9000)");
                return ExitCode::from(2);
            }
        }
    }
    config.data_dir = dir.map(Into::into);
    match etag.as_deref() {
        None | Some("md5") => {}
        Some("crc64") => config.etag = EtagPolicy::Crc64,
        Some(other) => {
            eprintln!("--etag {other}: expected md5 or crc64\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    match Server::start(config) {
        Ok(server) => {
            println!("osscse-server listening on {}", server.endpoint());
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("cannot start the server: {e}");
            ExitCode::from(1)
        }
    }
}
