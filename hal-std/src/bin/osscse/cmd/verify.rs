//! `osscse verify LOCAL LOCATION [-r]`: whether stored objects hold exactly the local files'
//! bytes, without downloading them. For each file the object's data key is unwrapped (HEAD
//! gives the envelope), the file is encrypted locally with it, and the length and CRC-64 of that
//! ciphertext are compared with the stored size and `x-oss-hash-crc64ecma`. Exit 0 when every
//! object is equal, 6 when one differs (each is reported).

use std::io::{self, Read};
use std::path::Path;

use clap::Args;
use osscse_core::stream::CtrReader;
use osscse_std::keys::Keyring;
use osscse_std::object::material_for;
use osscse_std::store::Store;
use osscse_std::{Crc64, Error};

use super::tree::{self, Report, Side, Status, Target, TreeArgs};
use crate::cli::{Global, KeyArgs};
use crate::error::{CliError, Result};

/// `osscse verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The local file (or directory with -r).
    pub(crate) local: String,
    /// oss://BUCKET/KEY or file://DIR/KEY (a prefix with -r).
    pub(crate) location: String,
    /// Compare every file under LOCAL with the object of the same relative name.
    #[arg(short, long)]
    pub(crate) recursive: bool,
    #[command(flatten)]
    pub(crate) tree: TreeArgs,
    #[command(flatten)]
    pub(crate) keys: KeyArgs,
}

pub(crate) fn run(g: &Global, a: &VerifyArgs) -> Result<()> {
    if tree::is_location(&a.local) || !tree::is_location(&a.location) {
        return Err(CliError::Usage(
            "verify takes a local path, then oss://BUCKET/KEY or file://DIR/KEY".into(),
        ));
    }
    let keys = super::keyring(&a.keys)?;
    let local = Side::Local(a.local.clone().into());
    let remote = tree::open_side(g, &a.location, a.recursive, Keyring::empty())?;
    let Side::Store(store, _) = &remote else {
        return Err(CliError::Usage(
            "the second argument must be a store location".into(),
        ));
    };
    let entries = tree::list(&local, a.recursive)?;
    let entries: Vec<_> = entries
        .into_iter()
        .filter(|e| !a.recursive || tree::selected(&a.tree, &e.rel))
        .collect();
    let total = entries.iter().map(|e| e.size).sum();
    let report = Report::new(g, &a.tree, entries.len(), total);
    tree::for_each(a.tree.jobs.max(1), &entries, |entry| {
        let file = tree::target(&local, &entry.rel, a.recursive);
        let object = tree::target(&remote, &entry.rel, a.recursive);
        let outcome = match (&file, &object) {
            (Target::Path(path), Target::Key(key)) => {
                compare(store.as_ref(), key, path, &keys, &|n| report.tick(n))
                    .map(|()| Status::Equal)
            }
            _ => Err(CliError::Usage("verify compares files with objects".into())),
        };
        report.record(
            &file.display(&local),
            &object.display(&remote),
            entry.size,
            &outcome,
        );
    });
    report.finish("verified")
}

/// Compares one file with one object by HEAD and local encryption.
pub(crate) fn compare(
    store: &dyn Store,
    key: &str,
    path: &Path,
    keys: &Keyring,
    tick: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    let info = store.head(key)?;
    let material = material_for(&info.encryption, keys)?;
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let mut counted = Ticking { inner: file, tick };
    let crc = match &material {
        Some(m) => {
            let mut enc = CtrReader::new(&mut counted, m.keystream_at(0));
            drain(&mut enc, path)?
        }
        None => drain(&mut counted, path)?,
    };
    let (len, value) = (crc.len(), crc.value());
    let Some(stored_crc) = info.crc64 else {
        return Err(CliError::Usage(format!(
            "{} has no CRC-64: it cannot be compared without downloading it",
            store.location(key)
        )));
    };
    if len != info.size {
        return Err(CliError::Differs(format!(
            "differs: {} is {len} bytes, {} holds {}",
            path.display(),
            store.location(key),
            info.size
        )));
    }
    if value != stored_crc {
        return Err(CliError::Differs(format!(
            "differs: {} encrypts to CRC-64 {value}, {} holds {stored_crc}",
            path.display(),
            store.location(key)
        )));
    }
    Ok(())
}

/// Reads to the end; returns the CRC-64 and length of what was read.
fn drain<R: Read>(r: &mut R, path: &Path) -> Result<Crc64> {
    let mut crc = Crc64::new();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(crc),
            Ok(n) => crc.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e).into()),
        }
    }
}

/// Reports bytes read to the progress display.
struct Ticking<'t, R> {
    inner: R,
    tick: &'t (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Ticking<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.tick)(n as u64);
        Ok(n)
    }
}
