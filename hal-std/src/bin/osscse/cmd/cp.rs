//! `osscse cp SRC DST [-r]`: local → store (encrypt), store → local (decrypt), store → store
//! (the stored bytes and their envelope as they are: never re-encrypted, no key needed).

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use clap::Args;
use osscse_core::envelope::Matdesc;
use osscse_std::Error;
use osscse_std::encryption::{DownloadOptions, UploadOptions};
use osscse_std::keys::Keyring;
use osscse_std::kms::AnyMasterKey;
use osscse_std::store::Store;

use super::tree::{self, Entry, Report, Side, Status, Target, TreeArgs};
use crate::cli::{Global, KeyArgs};
use crate::error::{CliError, Result};

/// `osscse cp`.
#[derive(Debug, Args)]
pub(crate) struct CpArgs {
    /// A local file or directory, or oss://BUCKET/KEY[/] or file://DIR[/KEY].
    pub(crate) src: String,
    /// A local path, or oss://BUCKET/KEY[/] or file://DIR[/KEY]; a trailing `/` (or an
    /// existing directory) receives SRC's file name.
    pub(crate) dst: String,
    /// Copy a directory tree or every object under a prefix (the contents of SRC go under DST).
    #[arg(short, long)]
    pub(crate) recursive: bool,
    /// Overwrite existing destination files and objects.
    #[arg(short, long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) tree: TreeArgs,
    #[command(flatten)]
    pub(crate) write: WriteKeyArgs,
    #[command(flatten)]
    pub(crate) keys: KeyArgs,
}

/// The key that encrypts uploads (with --kms-key-id of the key arguments).
#[derive(Debug, Args)]
pub(crate) struct WriteKeyArgs {
    /// RSA public (or private) key PEM that wraps the data keys of uploaded files.
    #[arg(long)]
    pub(crate) public_key: Option<PathBuf>,
    /// Material description naming the key for uploads, a JSON object of strings.
    #[arg(long)]
    pub(crate) matdesc: Option<String>,
}

/// Which way bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Local plaintext to a store: encrypt.
    Up,
    /// A store to local plaintext: decrypt.
    Down,
    /// Store to store: stored bytes and envelope as they are.
    Across,
}

/// The direction of SRC → DST.
pub(crate) fn direction(src: &str, dst: &str) -> Result<Direction> {
    match (tree::is_location(src), tree::is_location(dst)) {
        (false, true) => Ok(Direction::Up),
        (true, false) => Ok(Direction::Down),
        (true, true) => Ok(Direction::Across),
        (false, false) => Err(CliError::Usage(
            "both SRC and DST are local paths: one of them must be oss://... or file://...".into(),
        )),
    }
}

/// The keyring that encrypts uploads: `--public-key`, else the KMS key of `keys`, else the
/// first `--symmetric-key` of `keys` (a symmetric CMK both reads and writes), named by
/// `--matdesc`.
pub(crate) fn writer_keys(w: &WriteKeyArgs, keys: Option<&KeyArgs>) -> Result<Keyring> {
    let kms = match keys {
        Some(k) => super::kms_key(&k.kms)?,
        None => None,
    };
    let symmetric = keys.and_then(|k| k.symmetric_keys.first());
    let key = match (&w.public_key, kms, symmetric) {
        (_, Some(k), _) => AnyMasterKey::from(k),
        (Some(path), None, _) => crate::keys::rsa_key(path)?,
        (None, None, Some(spec)) => crate::keys::symmetric_spec(spec)?,
        (None, None, None) => {
            return Err(CliError::Usage(
                "pass --public-key PEM, --symmetric-key FILE or --kms-key-id to encrypt uploads"
                    .into(),
            ));
        }
    };
    let key = match &w.matdesc {
        Some(m) => crate::keys::with_matdesc(
            key,
            Matdesc::parse(m).map_err(|e| CliError::Usage(format!("--matdesc: {e}")))?,
        ),
        None => key,
    };
    Ok(Keyring::new(key))
}

/// Opens both sides with the keys their direction needs.
pub(crate) fn open_sides(
    g: &Global,
    src: &str,
    dst: &str,
    tree: bool,
    write: &WriteKeyArgs,
    keys: &KeyArgs,
) -> Result<(Direction, Side, Side)> {
    let dir = direction(src, dst)?;
    let (src_keys, dst_keys) = match dir {
        Direction::Up => (Keyring::empty(), writer_keys(write, Some(keys))?),
        Direction::Down => (super::keyring(keys)?, Keyring::empty()),
        Direction::Across => (Keyring::empty(), Keyring::empty()),
    };
    let src = tree::open_side(g, src, tree, src_keys)?;
    let dst = tree::open_side(g, dst, tree, dst_keys)?;
    Ok((dir, src, dst))
}

/// One planned transfer.
#[derive(Debug)]
pub(crate) struct Item {
    /// The source entry.
    pub(crate) entry: Entry,
    /// Where it comes from.
    pub(crate) src: Target,
    /// Where it goes.
    pub(crate) dst: Target,
}

/// Plans SRC's entries (filtered) onto DST.
pub(crate) fn plan(src: &Side, dst: &Side, tree_mode: bool, args: &TreeArgs) -> Result<Vec<Item>> {
    Ok(tree::list(src, tree_mode)?
        .into_iter()
        .filter(|e| !tree_mode || tree::selected(args, &e.rel))
        .map(|entry| Item {
            src: tree::target(src, &entry.rel, tree_mode),
            dst: tree::target(dst, &entry.rel, tree_mode),
            entry,
        })
        .collect())
}

pub(crate) fn run(g: &Global, a: &CpArgs) -> Result<()> {
    if a.tree.jobs == 0 {
        return Err(CliError::Usage("--jobs must be at least 1".into()));
    }
    let (_, src, dst) = open_sides(g, &a.src, &a.dst, a.recursive, &a.write, &a.keys)?;
    let items = plan(&src, &dst, a.recursive, &a.tree)?;
    let total = items.iter().map(|i| i.entry.size).sum();
    let report = Report::new(g, &a.tree, items.len(), total);
    tree::for_each(a.tree.jobs, &items, |item| {
        let outcome = if a.tree.dry_run {
            check_overwrite(&dst, &item.dst, a.force).map(|()| Status::WouldCopy)
        } else {
            check_overwrite(&dst, &item.dst, a.force)
                .and_then(|()| transfer(&src, &dst, item, &|n| report.tick(n)))
                .map(|()| Status::Done)
        };
        report.record(
            &item.src.display(&src),
            &item.dst.display(&dst),
            item.entry.size,
            &outcome,
        );
    });
    report.finish(if a.tree.dry_run { "checked" } else { "copied" })
}

/// Refuses an existing destination unless `force`.
fn check_overwrite(dst: &Side, target: &Target, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    let exists = match (dst, target) {
        (_, Target::Path(p)) => p.exists(),
        (Side::Store(store, _), Target::Key(k)) => tree::exists(store.as_ref(), k)?,
        (Side::Local(_), Target::Key(_)) => false,
    };
    if exists {
        return Err(CliError::Exists(target.display(dst)));
    }
    Ok(())
}

/// Moves one file or object.
pub(crate) fn transfer(
    src: &Side,
    dst: &Side,
    item: &Item,
    tick: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    match (src, &item.src, dst, &item.dst) {
        (Side::Local(_), Target::Path(path), Side::Store(store, _), Target::Key(key)) => {
            store.put_file(key, path, &UploadOptions::default(), Some(tick))?;
            Ok(())
        }
        (Side::Store(store, _), Target::Key(key), Side::Local(_), Target::Path(path)) => {
            download(store.as_ref(), key, path, tick)
        }
        (Side::Store(from, _), Target::Key(src_key), Side::Store(to, _), Target::Key(dst_key)) => {
            copy_raw(from.as_ref(), src_key, to.as_ref(), dst_key)?;
            tick(item.entry.size);
            Ok(())
        }
        _ => Err(CliError::Usage("both sides are local paths".into())),
    }
}

/// Decrypts `key` into `path` (parent directories created); an existing file keeps its
/// permission bits.
pub(crate) fn download(
    store: &dyn Store,
    key: &str,
    path: &Path,
    tick: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    keep_permissions(path, || {
        store.get_to_file(key, path, &DownloadOptions::default(), Some(tick))
    })?;
    Ok(())
}

/// Runs `write` (which replaces `path`) and gives the new file the permission bits the old one
/// had, if there was one.
pub(crate) fn keep_permissions<T>(
    path: &Path,
    write: impl FnOnce() -> std::result::Result<T, Error>,
) -> std::result::Result<T, Error> {
    let before = std::fs::metadata(path).ok().map(|m| m.permissions());
    let out = write()?;
    if let Some(perms) = before {
        std::fs::set_permissions(path, perms).map_err(|e| {
            Error::io(
                format!("restoring the permissions of {}", path.display()),
                e,
            )
        })?;
    }
    Ok(out)
}

/// Copies the stored bytes and metadata of `src_key` to `dst_key` as they are, and checks that
/// the CRC-64 stored at the destination is the source's.
pub(crate) fn copy_raw(
    from: &dyn Store,
    src_key: &str,
    to: &dyn Store,
    dst_key: &str,
) -> Result<()> {
    let raw = from.get_raw(src_key, None)?;
    let meta = raw.info.meta.clone();
    pipe_raw(from, src_key, raw, to, dst_key, &meta, || Ok(()))
}

/// Streams `raw` (read from `from`/`src_key`) into `to`/`dst_key` with the headers `meta`,
/// after `before_put` agrees, and checks that the CRC-64 stored is the source's.
pub(crate) fn pipe_raw(
    from: &dyn Store,
    src_key: &str,
    raw: osscse_std::store::RawObject,
    to: &dyn Store,
    dst_key: &str,
    meta: &[(String, String)],
    before_put: impl FnOnce() -> Result<()>,
) -> Result<()> {
    // The source is read on its own thread: a blocking OSS reader must not run inside the
    // destination client's runtime (OSS to OSS).
    before_put()?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(4);
    let mut source = raw.reader;
    let crc = std::thread::scope(|s| {
        s.spawn(move || {
            loop {
                let mut buf = vec![0u8; 1 << 20];
                let msg = match source.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        Ok(buf)
                    }
                    Err(e) => Err(e),
                };
                let failed = msg.is_err();
                if tx.send(msg).is_err() || failed {
                    break;
                }
            }
        });
        let mut reader = ChannelReader {
            rx,
            chunk: Vec::new(),
            pos: 0,
        };
        to.put_raw(dst_key, &mut reader, raw.info.size, meta)
    })?;
    match raw.info.crc64 {
        Some(expected) if expected != crc => Err(Error::CrcMismatch {
            what: format!("copy of {}", from.location(src_key)),
            server: expected,
            client: crc,
        }
        .into()),
        _ => Ok(()),
    }
}

/// Reads the chunks another thread sends.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
