//! `osscse sync SRC DST`: copies only what differs, in any direction `cp -r` supports.
//!
//! The rule (as ossutil's `--update`, plus size): a source file or object is copied when the
//! destination has no such entry, when the sizes differ (a CSE object's size is the plaintext
//! size), or when the source is newer than the destination (local mtime against the object's
//! Last-Modified, or the two objects' Last-Modified). A copy is always newer than its source,
//! so a second sync copies nothing. Content changes that keep both size and an older mtime
//! are not seen by that rule: `--checksum` compares the content of every such pair exactly and
//! without downloading (local files as `osscse verify` does, with the private key; two stores
//! by their stored CRC-64). Destination entries without a source are deleted only with
//! `--delete` (filters apply to them too).

use std::collections::BTreeMap;

use clap::Args;
use osscse_std::Error;

use osscse_std::keys::Keyring;

use super::cp::{self, WriteKeyArgs};
use super::tree::{self, Entry, Report, Side, Status, Target, TreeArgs};
use super::verify;
use crate::cli::{Global, KeyArgs};
use crate::error::{CliError, Result};

/// `osscse sync`.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// A local directory, or oss://BUCKET/PREFIX or file://DIR.
    pub(crate) src: String,
    /// A local directory, or oss://BUCKET/PREFIX or file://DIR.
    pub(crate) dst: String,
    /// Delete destination files or objects that SRC does not have.
    #[arg(long)]
    pub(crate) delete: bool,
    /// Also compare content when size and times say "same" (needs --private-key between a
    /// local tree and a store; HEAD requests only).
    #[arg(long)]
    pub(crate) checksum: bool,
    #[command(flatten)]
    pub(crate) tree: TreeArgs,
    #[command(flatten)]
    pub(crate) write: WriteKeyArgs,
    #[command(flatten)]
    pub(crate) keys: KeyArgs,
}

/// What to do with one entry.
enum Action {
    Copy(cp::Item),
    Keep(cp::Item),
    Delete(Target, u64),
}

/// Whether `src` must be copied over `dst`.
pub(crate) fn differs(src: &Entry, dst: Option<&Entry>) -> bool {
    let Some(dst) = dst else { return true };
    if src.size != dst.size {
        return true;
    }
    match (src.modified, dst.modified) {
        (Some(s), Some(d)) => s > d,
        _ => true,
    }
}

pub(crate) fn run(g: &Global, a: &SyncArgs) -> Result<()> {
    if a.tree.jobs == 0 {
        return Err(CliError::Usage("--jobs must be at least 1".into()));
    }
    let (_, src, dst) = cp::open_sides(g, &a.src, &a.dst, true, &a.write, &a.keys)?;
    let items = cp::plan(&src, &dst, true, &a.tree)?;
    let existing: BTreeMap<String, Entry> = match &dst {
        Side::Local(path) if !path.exists() => BTreeMap::new(),
        _ => tree::list(&dst, true)?
            .into_iter()
            .map(|e| (e.rel.clone(), e))
            .collect(),
    };
    let mut actions = Vec::new();
    let mut wanted = std::collections::BTreeSet::new();
    for item in items {
        wanted.insert(item.entry.rel.clone());
        if differs(&item.entry, existing.get(&item.entry.rel)) {
            actions.push(Action::Copy(item));
        } else {
            actions.push(Action::Keep(item));
        }
    }
    if a.delete {
        for (rel, e) in &existing {
            if !wanted.contains(rel) && tree::selected(&a.tree, rel) {
                actions.push(Action::Delete(tree::target(&dst, rel, true), e.size));
            }
        }
    }
    let total = actions
        .iter()
        .map(|x| match x {
            Action::Copy(i) => i.entry.size,
            _ => 0,
        })
        .sum();
    let keys = match (a.checksum, &src, &dst) {
        (true, Side::Local(_), _) | (true, _, Side::Local(_)) => Some(super::keyring(&a.keys)?),
        _ => None,
    };
    let report = Report::new(g, &a.tree, actions.len(), total);
    tree::for_each(a.tree.jobs, &actions, |action| match action {
        Action::Keep(item) if !a.checksum => report.record(
            &item.src.display(&src),
            &item.dst.display(&dst),
            item.entry.size,
            &Ok(Status::Skipped),
        ),
        Action::Keep(item) | Action::Copy(item) => {
            let needed = match action {
                Action::Keep(_) => same(&src, &dst, item, keys.as_ref()).map(|same| !same),
                _ => Ok(true),
            };
            let outcome = match needed {
                Ok(false) => Ok(Status::Skipped),
                Err(e) => Err(e),
                Ok(true) if a.tree.dry_run => Ok(Status::WouldCopy),
                Ok(true) => {
                    cp::transfer(&src, &dst, item, &|n| report.tick(n)).map(|()| Status::Done)
                }
            };
            report.record(
                &item.src.display(&src),
                &item.dst.display(&dst),
                item.entry.size,
                &outcome,
            );
        }
        Action::Delete(target, size) => {
            let outcome = if a.tree.dry_run {
                Ok(Status::WouldDelete)
            } else {
                delete(&dst, target).map(|()| Status::Deleted)
            };
            report.record("", &target.display(&dst), *size, &outcome);
        }
    });
    report.finish(if a.tree.dry_run { "checked" } else { "synced" })
}

/// `--checksum`: whether source and destination hold the same content.
fn same(src: &Side, dst: &Side, item: &cp::Item, keys: Option<&Keyring>) -> Result<bool> {
    let noop = |_: u64| {};
    let outcome = match (src, &item.src, dst, &item.dst) {
        (Side::Local(_), Target::Path(path), Side::Store(store, _), Target::Key(key))
        | (Side::Store(store, _), Target::Key(key), Side::Local(_), Target::Path(path)) => {
            let keys = keys.ok_or_else(|| {
                CliError::Usage("--checksum needs --private-key (or --kms-key-id)".into())
            })?;
            verify::compare(store.as_ref(), key, path, keys, &noop)
        }
        (Side::Store(a, _), Target::Key(ka), Side::Store(b, _), Target::Key(kb)) => {
            let (x, y) = (a.head(ka)?, b.head(kb)?);
            return Ok(x.size == y.size && x.crc64.is_some() && x.crc64 == y.crc64);
        }
        _ => return Ok(false),
    };
    match outcome {
        Ok(()) => Ok(true),
        Err(CliError::Differs(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

fn delete(side: &Side, target: &Target) -> Result<()> {
    match (side, target) {
        (_, Target::Path(p)) => std::fs::remove_file(p)
            .map_err(|e| Error::io(format!("deleting {}", p.display()), e).into()),
        (Side::Store(store, _), Target::Key(k)) => Ok(store.delete(k)?),
        (Side::Local(_), Target::Key(_)) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::{Entry, differs};

    #[test]
    fn the_sync_rule() {
        let at = |s: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        let e = |size, modified| Entry {
            rel: "k".into(),
            size,
            modified,
        };
        assert!(differs(&e(1, at(10)), None), "missing");
        assert!(differs(&e(1, at(10)), Some(&e(2, at(20)))), "size");
        assert!(differs(&e(1, at(30)), Some(&e(1, at(20)))), "source newer");
        assert!(!differs(&e(1, at(20)), Some(&e(1, at(20)))), "same time");
        assert!(
            !differs(&e(1, at(10)), Some(&e(1, at(20)))),
            "destination newer"
        );
        assert!(differs(&e(1, None), Some(&e(1, at(20)))), "unknown time");
    }
}
