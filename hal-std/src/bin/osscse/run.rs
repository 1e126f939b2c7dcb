//! The commands.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;

use base64ct::{Base64, Encoding};
use indicatif::{ProgressBar, ProgressStyle};
use md5::{Digest, Md5};
use osscse_core::content::ByteRange;
use osscse_std::blocking::{Client, EncryptionClient};
use osscse_std::encryption::{DownloadOptions, UploadOptions};
use osscse_std::keys::Keyring;
use osscse_std::kms::KmsError;
use osscse_std::local::{LocalStore, PutOptions};
use osscse_std::object::{from_io, write_file_atomically};
use osscse_std::store::{FileStore, OssStore, Store};
use osscse_std::{ClientConfig, Endpoint, Error, SignVersion};

use crate::cli::{Cli, Command, Global, SignVersionArg};
use crate::keys::{keygen, keyring, writer_keyring};
use crate::location::Location;

type Result<T> = std::result::Result<T, Error>;

/// The exit code for an error (see the crate docs).
pub(crate) fn exit_code(e: &Error) -> u8 {
    use osscse_core::Error as Core;
    match e {
        Error::Oss(o) => match (o.status, o.code.as_str()) {
            (404, _) => 3,
            (403, _) | (_, "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch") => 4,
            (s, _) if s >= 500 => 7,
            _ => 1,
        },
        Error::Config(_) => 4,
        Error::Transport { .. } => 7,
        Error::CrcMismatch { .. }
        | Error::Truncated { .. }
        | Error::SourceChanged
        | Error::ShortSource { .. } => 6,
        Error::NoKeyForMatdesc { .. } => 5,
        Error::Key(k) if k.is_key_mismatch() => 5,
        Error::Key(_) => 4,
        Error::Core(Core::Wrap(_) | Core::Envelope(_)) => 5,
        Error::Kms(k) => kms_exit_code(k),
        Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => 3,
        _ => 1,
    }
}

/// The exit code for a KMS failure: 4 authentication, access or configuration, 5 the CMK is
/// missing, disabled or rejects the ciphertext, 7 KMS unreachable or failing (5xx).
fn kms_exit_code(e: &KmsError) -> u8 {
    use osscse_core::Error as Core;
    if e.is_auth() {
        return 4;
    }
    if e.is_key_not_found() || e.is_key_unusable() {
        return 5;
    }
    match e {
        KmsError::Transport { .. } => 7,
        KmsError::Service { status, .. } if *status >= 500 => 7,
        KmsError::Service {
            status: 401 | 403, ..
        }
        | KmsError::Config(_) => 4,
        KmsError::Core(Core::Wrap(_) | Core::Envelope(_)) => 5,
        _ => 1,
    }
}

pub(crate) fn run(cli: Cli) -> crate::error::Result<()> {
    let g = &cli.global;
    Ok(match cli.command {
        Command::Ops(c) => return crate::cmd::run(g, c),
        Command::Keygen(args) => keygen(g, &args),
        Command::Put {
            src,
            dst,
            writer,
            part_size,
            jobs,
            checkpoint,
            unencrypted_md5,
        } => {
            let keys = writer_keyring(&writer)?;
            put(
                g,
                &src,
                &dst,
                keys,
                part_size,
                jobs,
                checkpoint,
                unencrypted_md5,
            )
        }
        Command::Get {
            src,
            dst,
            keys,
            range,
            jobs,
        } => get(g, &src, &dst, &keyring(&keys)?, range.as_deref(), jobs),
        Command::Cat { src, keys, range } => {
            get(g, &src, "-", &keyring(&keys)?, range.as_deref(), 1)
        }
        Command::Head { location } => {
            let (store, key) = open_store(g, Location::parse(&location, true)?, Keyring::empty())?;
            let info = store.head(&key)?;
            let text = serde_json::to_string_pretty(&info.to_json())
                .map_err(|e| Error::Protocol(e.to_string()))?;
            println!("{text}");
            Ok(())
        }
        Command::Ls { location } => {
            let mut out = io::stdout().lock();
            let (store, prefix) =
                open_store(g, Location::parse(&location, false)?, Keyring::empty())?;
            for (key, size) in store.list(&prefix)? {
                writeln!(out, "{size:>14}  {}", store.location(&key))
                    .map_err(|e| Error::io("writing to stdout", e))?;
            }
            Ok(())
        }
        Command::Rm { location } => {
            let (store, key) = open_store(g, Location::parse(&location, true)?, Keyring::empty())?;
            store.delete(&key)
        }
        Command::Presign {
            location,
            expires,
            method,
        } => match Location::parse(&location, true)? {
            Location::Oss { bucket, key } => {
                let method: &'static str = match method.as_str() {
                    "PUT" => "PUT",
                    "HEAD" => "HEAD",
                    "DELETE" => "DELETE",
                    _ => "GET",
                };
                println!("{}", client(g)?.presign(method, &bucket, &key, expires)?);
                Ok(())
            }
            Location::File { .. } => Err(Error::Config(
                "presign works only for oss:// locations".into(),
            )),
        },
    }?)
}

pub(crate) fn client(g: &Global) -> Result<Client> {
    let endpoint = g.endpoint.as_deref().ok_or_else(|| {
        Error::Config("no endpoint: pass --endpoint or set OSS_ENDPOINT (e.g. https://oss-cn-hangzhou.aliyuncs.com)".into())
    })?;
    let mut cfg = ClientConfig::new(Endpoint::parse(endpoint)?);
    cfg.region.clone_from(&g.region);
    cfg.path_style = g.path_style;
    cfg.sign_version = match g.sign_version {
        SignVersionArg::V4 => SignVersion::V4,
        SignVersionArg::V1 => SignVersion::V1,
    };
    if g.insecure_unsigned_payload {
        cfg.payload_signing = osscse_std::PayloadSigning::UnsignedPayloadAlterableInTransit;
    }
    Client::new(cfg, crate::cmd::config::credentials()?)
}

/// The store a location names, holding `keys`, and the key (or prefix) within it.
pub(crate) fn open_store(
    g: &Global,
    location: Location,
    keys: Keyring,
) -> Result<(Box<dyn Store>, String)> {
    Ok(match location {
        Location::Oss { bucket, key } => (Box::new(OssStore::new(oss(g, keys)?, &bucket)), key),
        Location::File { root, key } => {
            (Box::new(FileStore::new(LocalStore::new(root), keys)), key)
        }
    })
}

pub(crate) fn oss(g: &Global, keys: Keyring) -> Result<EncryptionClient> {
    Ok(EncryptionClient::new(client(g)?, keys))
}

pub(crate) fn progress_bar(g: &Global, len: u64) -> Option<ProgressBar> {
    if g.quiet || !io::stderr().is_terminal() {
        return None;
    }
    let style = ProgressStyle::with_template(
        "{bytes}/{total_bytes} [{wide_bar}] {bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    Some(ProgressBar::new(len).with_style(style))
}

fn md5_of(reader: impl Read) -> Result<String> {
    let mut h = Md5::new();
    let mut r = reader;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = r
            .read(&mut buf)
            .map_err(|e| Error::io("reading the source", e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(Base64::encode_string(&h.finalize()))
}

#[allow(clippy::too_many_arguments)]
fn put(
    g: &Global,
    src: &str,
    dst: &str,
    keys: Keyring,
    part_size: Option<u64>,
    jobs: usize,
    checkpoint: Option<std::path::PathBuf>,
    unencrypted_md5: bool,
) -> Result<()> {
    let dst = Location::parse(dst, true)?;
    if let (true, false, Location::Oss { bucket, key }) = (src == "-", unencrypted_md5, &dst) {
        // Streamed through a multipart upload with bounded memory (cmd/stream.rs).
        return crate::cmd::stream::put_stdin(g, bucket, key, keys, part_size);
    }
    let stdin_data = if src == "-" {
        let mut v = Vec::new();
        io::stdin()
            .lock()
            .read_to_end(&mut v)
            .map_err(|e| Error::io("reading stdin", e))?;
        Some(v)
    } else {
        None
    };
    let mut put_opts = PutOptions::default();
    if unencrypted_md5 {
        put_opts.unencrypted_md5 = Some(match &stdin_data {
            Some(v) => md5_of(&v[..])?,
            None => md5_of(File::open(src).map_err(|e| Error::io(format!("opening {src}"), e))?)?,
        });
    }
    let len = match &stdin_data {
        Some(v) => v.len() as u64,
        None => std::fs::metadata(src)
            .map_err(|e| Error::io(format!("opening {src}"), e))?
            .len(),
    };
    let bar = progress_bar(g, len);
    let tick = |n: u64| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    };
    let (store, key) = open_store(g, dst, keys)?;
    match &stdin_data {
        Some(v) => {
            store.put_bytes(&key, v, &put_opts)?;
            tick(len);
        }
        None => {
            let opts = UploadOptions {
                part_size,
                jobs: Some(jobs),
                checkpoint,
                put: put_opts,
            };
            store.put_file(&key, Path::new(src), &opts, Some(&tick))?;
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(())
}

fn get(
    g: &Global,
    src: &str,
    dst: &str,
    keys: &Keyring,
    range: Option<&str>,
    jobs: usize,
) -> Result<()> {
    let range = match range {
        Some(r) => {
            Some(ByteRange::parse(r).map_err(|e| Error::Config(format!("--range {r}: {e}")))?)
        }
        None => None,
    };
    let src = Location::parse(src, true)?;
    let (store, key) = open_store(g, src, keys.clone())?;
    if range.is_none() && dst != "-" {
        let size = store.head(&key)?.size;
        let bar = progress_bar(g, size);
        let tick = |n: u64| {
            if let Some(b) = &bar {
                b.inc(n);
            }
        };
        let opts = DownloadOptions {
            jobs: Some(jobs),
            ..DownloadOptions::default()
        };
        // An existing destination keeps its permission bits.
        crate::cmd::keep_permissions(Path::new(dst), || {
            store.get_to_file(&key, Path::new(dst), &opts, Some(&tick))
        })?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        return Ok(());
    }
    let obj = store.get(&key, range)?;
    let (reader, len) = (obj.reader, obj.len);
    let bar = if dst == "-" {
        None
    } else {
        progress_bar(g, len)
    };
    let tick = |n: u64| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    };
    let reader = ProgressReader {
        inner: reader,
        tick: &tick,
    };
    if dst == "-" {
        let mut out = io::stdout().lock();
        let mut reader = reader;
        io::copy(&mut reader, &mut out).map_err(|e| from_io("writing to stdout", e))?;
        out.flush().map_err(|e| Error::io("writing to stdout", e))?;
    } else {
        write_file_atomically(reader, Path::new(dst))?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(())
}

/// Counts bytes read for the progress bar.
struct ProgressReader<'a, R> {
    inner: R,
    tick: &'a dyn Fn(u64),
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.tick)(n as u64);
        Ok(n)
    }
}
