//! `osscse rewrap LOCATION... [-r]`: wraps each object's data key and IV under a new master
//! key without decrypting the content.
//!
//! OSS protects client-side-encryption metadata: a CopyObject onto itself with
//! `x-oss-metadata-directive: REPLACE` that changes it is refused (EC 0005-00000421, which the
//! loopback server models), and PutObject has no documented `If-Match`. So the ciphertext is
//! streamed through unchanged: HEAD (envelope and ETag), unwrap with the old key and wrap with
//! the new one, GET with `If-Match` on that ETag, HEAD again right before the PUT (the ETag must
//! be unchanged), PUT the same bytes with the new envelope. The CRC-64 the server computes for
//! the new object must equal the old one. A writer that replaces the object between the second
//! HEAD and the end of the PUT is not detected: rewrap objects nobody is writing.

use clap::Args;
use osscse_core::envelope::{Matdesc, ObjectEncryption};
use osscse_core::wrap;
use osscse_std::Error;
use osscse_std::keys::{Keyring, SysRng};
use osscse_std::store::Store;

use super::cp::{WriteKeyArgs, writer_keys};
use super::tree::{self, Report, Side, Status, TreeArgs};
use crate::cli::{Global, KeyArgs};
use crate::error::{CliError, Result};

/// `osscse rewrap`.
#[derive(Debug, Args)]
pub(crate) struct RewrapArgs {
    /// oss://BUCKET/KEY or file://DIR/KEY (prefixes with -r).
    #[arg(required = true)]
    pub(crate) locations: Vec<String>,
    /// Every object under each prefix.
    #[arg(short, long)]
    pub(crate) recursive: bool,
    #[command(flatten)]
    pub(crate) tree: TreeArgs,
    /// The new key (and its matdesc) that wraps the data keys from now on.
    #[command(flatten)]
    pub(crate) new: WriteKeyArgs,
    /// The current keys (--private-key or --kms-key-id) that open the data keys.
    #[command(flatten)]
    pub(crate) old: KeyArgs,
}

pub(crate) fn run(g: &Global, a: &RewrapArgs) -> Result<()> {
    if a.new.public_key.is_none() {
        return Err(CliError::Usage(
            "pass --public-key NEW (the key that wraps the data keys from now on)".into(),
        ));
    }
    let old = super::keyring(&a.old)?;
    // The new key is only a wrapping key here: --kms-key-id belongs to the old key.
    let new = writer_keys(&a.new, None)?;
    if let Some(m) = &a.new.matdesc {
        Matdesc::parse(m).map_err(|e| CliError::Usage(format!("--matdesc: {e}")))?;
    }
    let mut work = Vec::new();
    let mut sides = Vec::new();
    for text in &a.locations {
        if !tree::is_location(text) {
            return Err(CliError::Usage(format!(
                "{text}: rewrap takes oss://BUCKET/KEY or file://DIR/KEY"
            )));
        }
        let side = tree::open_side(g, text, a.recursive, Keyring::empty())?;
        let keys: Vec<String> = match &side {
            Side::Store(store, prefix) if a.recursive => store
                .list(prefix)?
                .into_iter()
                .map(|(k, _)| k)
                .filter(|k| !k.ends_with('/') && tree::selected(&a.tree, &k[prefix.len()..]))
                .collect(),
            Side::Store(_, key) => vec![key.clone()],
            Side::Local(_) => Vec::new(),
        };
        let index = sides.len();
        sides.push(side);
        work.extend(keys.into_iter().map(|k| (index, k)));
    }
    let report = Report::new(g, &a.tree, work.len(), 0);
    tree::for_each(a.tree.jobs.max(1), &work, |(index, key)| {
        let Side::Store(store, _) = &sides[*index] else {
            return;
        };
        let outcome = if a.tree.dry_run {
            Ok(Status::WouldCopy)
        } else {
            rewrap_one(store.as_ref(), key, &old, &new).map(|()| Status::Done)
        };
        let location = store.location(key);
        report.record(&location, &location, 0, &outcome);
    });
    report.finish("rewrapped")
}

/// Rewraps one object (see the module docs).
fn rewrap_one(store: &dyn Store, key: &str, old: &Keyring, new: &Keyring) -> Result<()> {
    let info = store.head(key)?;
    let ObjectEncryption::Envelope(envelope) = &info.encryption else {
        return Err(CliError::Usage(format!(
            "{} is not an object in the current client-side-encryption format",
            store.location(key)
        )));
    };
    let material = old.open(envelope)?;
    let sealed = wrap::seal(new.writer()?, &material, &mut SysRng)?;
    let mut next = envelope.clone();
    next.wrapped_key = sealed.wrapped_key;
    next.wrapped_iv = sealed.wrapped_iv;
    next.wrap_alg = sealed.wrap_alg;
    next.matdesc = sealed.matdesc;
    let mut meta: Vec<(String, String)> = info
        .meta
        .iter()
        .filter(|(n, _)| !n.starts_with(osscse_core::envelope::HEADER_PREFIX)) // other x-oss-meta-* headers are kept
        .cloned()
        .collect();
    meta.extend(next.headers().into_iter().map(|(n, v)| (n.to_owned(), v)));
    let etag = info.etag.clone();
    let raw = store.get_raw(key, etag.as_deref())?;
    let unchanged = || {
        let now = store.head(key)?;
        if now.etag != info.etag || now.crc64 != info.crc64 || now.size != info.size {
            return Err(Error::SourceChanged.into());
        }
        Ok(())
    };
    super::cp::pipe_raw(store, key, raw, store, key, &meta, unchanged)
}
