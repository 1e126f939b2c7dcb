//! What the tree commands share: the two sides of a transfer (a local path, or a prefix or
//! object in a store), listing them, `--include`/`--exclude` globs, the worker pool, one progress
//! display for the tree, per-object JSON records and the summary line.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use osscse_std::Error;
use osscse_std::keys::Keyring;
use osscse_std::store::Store;

use super::glob::glob;
use crate::cli::Global;
use crate::error::{CliError, Result};
use crate::location::Location;

/// Flags of every tree command.
#[derive(Debug, Args)]
pub(crate) struct TreeArgs {
    /// Only paths matching this glob (repeatable; `*` and `?` stay within one path segment,
    /// `**` crosses them; a pattern without `/` is matched against the file name).
    #[arg(long)]
    pub(crate) include: Vec<String>,
    /// Skip paths matching this glob (repeatable; applied after --include).
    #[arg(long)]
    pub(crate) exclude: Vec<String>,
    /// Objects in flight at once (the parts of one object stay as for put and get).
    #[arg(long, default_value_t = 4)]
    pub(crate) jobs: usize,
    /// Say what would be done and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// `json`: one JSON record per object on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub(crate) output: Output,
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// A progress display and a summary line on stderr.
    Text,
    /// One JSON record per object on stdout (and the summary on stderr).
    Json,
}

/// One side of a transfer.
#[derive(Debug)]
pub(crate) enum Side {
    /// A local plaintext file or directory.
    Local(PathBuf),
    /// A store, and the object key or (for trees) the key prefix in it.
    Store(Box<dyn Store>, String),
}

/// Whether `text` names a store location rather than a local path.
pub(crate) fn is_location(text: &str) -> bool {
    text.starts_with("oss://") || text.starts_with("file://")
}

/// Opens `text` as a side. A store location names a prefix when `tree` is set or the text
/// ends with `/` (a directory-like destination), else one object.
pub(crate) fn open_side(g: &Global, text: &str, tree: bool, keys: Keyring) -> Result<Side> {
    if !is_location(text) {
        return Ok(Side::Local(PathBuf::from(text)));
    }
    let prefix_form = tree
        || text.ends_with('/')
        || text
            .strip_prefix("oss://")
            .is_some_and(|r| !r.contains('/'));
    let location = super::parse(text, !prefix_form)?;
    let (store, mut key) = crate::run::open_store(g, location.clone(), keys)?;
    if prefix_form && !key.is_empty() && !key.ends_with('/') {
        key.push('/');
    }
    if let Location::File { .. } = location
        && prefix_form
    {
        key.clear();
    }
    Ok(Side::Store(store, key))
}

/// A source object or file, relative to the source side.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Path relative to the side, `/`-separated (for a single object: its file name).
    pub(crate) rel: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Modification time, when known.
    pub(crate) modified: Option<SystemTime>,
}

/// Lists a side: every file (or object) under it for a tree, else the one file or object.
pub(crate) fn list(side: &Side, tree: bool) -> Result<Vec<Entry>> {
    match side {
        Side::Local(path) if tree => {
            let mut out = Vec::new();
            if !path.is_dir() {
                return Err(CliError::Usage(format!(
                    "{} is not a directory (-r copies directories)",
                    path.display()
                )));
            }
            walk(path, path, &mut out)?;
            out.sort_by(|a, b| a.rel.cmp(&b.rel));
            Ok(out)
        }
        Side::Local(path) => {
            let meta = std::fs::metadata(path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            if meta.is_dir() {
                return Err(CliError::Usage(format!(
                    "{} is a directory: pass -r to copy a tree",
                    path.display()
                )));
            }
            Ok(vec![Entry {
                rel: file_name(path)?,
                size: meta.len(),
                modified: meta.modified().ok(),
            }])
        }
        Side::Store(store, prefix) if tree || prefix.is_empty() || prefix.ends_with('/') => {
            Ok(store
                .list_detailed(prefix)?
                .into_iter()
                .filter(|o| !o.key.ends_with('/'))
                .filter_map(|o| {
                    let rel = o.key.strip_prefix(prefix.as_str())?.to_owned();
                    Some(Entry {
                        rel,
                        size: o.size,
                        modified: o.modified,
                    })
                })
                .collect())
        }
        Side::Store(store, key) => {
            let info = store.head(key)?;
            Ok(vec![Entry {
                rel: key.rsplit('/').next().unwrap_or(key).to_owned(),
                size: info.size,
                modified: info
                    .last_modified
                    .as_deref()
                    .and_then(|t| httpdate::parse_http_date(t).ok()),
            }])
        }
    }
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| CliError::Usage(format!("{}: no UTF-8 file name", path.display())))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Entry>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
        let path = entry.path();
        let ft = entry
            .file_type()
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if ft.is_dir() {
            walk(root, &path, out)?;
            continue;
        }
        // Regular files, and symbolic links to them; directories are never followed.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let mut parts = Vec::new();
        for c in rel.components() {
            parts.push(c.as_os_str().to_str().ok_or_else(|| {
                CliError::Usage(format!(
                    "{}: not UTF-8 (object keys are UTF-8); exclude it or rename it",
                    path.display()
                ))
            })?);
        }
        out.push(Entry {
            rel: parts.join("/"),
            size: meta.len(),
            modified: meta.modified().ok(),
        });
    }
    Ok(())
}

/// The location of `rel` on a side (for a single object: the side itself, or the directory
/// or prefix it names).
pub(crate) fn target(side: &Side, rel: &str, tree: bool) -> Target {
    match side {
        Side::Local(base) if tree || base.is_dir() || base.to_string_lossy().ends_with('/') => {
            Target::Path(base.join(rel))
        }
        Side::Local(base) => Target::Path(base.clone()),
        Side::Store(_, prefix) if tree || prefix.is_empty() || prefix.ends_with('/') => {
            Target::Key(format!("{prefix}{rel}"))
        }
        Side::Store(_, key) => Target::Key(key.clone()),
    }
}

/// A concrete file or object of a side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A local file.
    Path(PathBuf),
    /// An object key in the side's store.
    Key(String),
}

impl Target {
    /// As the user writes it.
    pub(crate) fn display(&self, side: &Side) -> String {
        match (self, side) {
            (Self::Key(k), Side::Store(s, _)) => s.location(k),
            (Self::Path(p), _) => p.display().to_string(),
            (Self::Key(k), Side::Local(_)) => k.clone(),
        }
    }
}

/// `--include` / `--exclude`.
pub(crate) fn selected(args: &TreeArgs, rel: &str) -> bool {
    let m = |p: &String| {
        if p.contains('/') {
            glob(p.as_bytes(), rel.as_bytes())
        } else {
            glob(
                p.as_bytes(),
                rel.rsplit('/').next().unwrap_or(rel).as_bytes(),
            )
        }
    };
    (args.include.is_empty() || args.include.iter().any(m)) && !args.exclude.iter().any(m)
}

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Transferred.
    Done,
    /// Already up to date (sync).
    Skipped,
    /// `--dry-run`: would be transferred.
    WouldCopy,
    /// `--dry-run`: would be deleted (sync --delete).
    WouldDelete,
    /// Deleted (sync --delete).
    Deleted,
    /// Holds the same bytes (verify).
    Equal,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Skipped => "skipped",
            Self::WouldCopy => "would-copy",
            Self::WouldDelete => "would-delete",
            Self::Deleted => "deleted",
            Self::Equal => "equal",
        }
    }
}

/// Progress, per-object records and the summary of a tree command.
#[derive(Debug)]
pub(crate) struct Report {
    json: bool,
    quiet: bool,
    bar: Option<ProgressBar>,
    started: Instant,
    objects: usize,
    done: AtomicUsize,
    bytes: AtomicU64,
    counts: Mutex<[usize; 6]>,
    failures: Mutex<Vec<u8>>,
}

impl Report {
    /// A report for `objects` objects of `bytes` bytes in all.
    pub(crate) fn new(g: &Global, args: &TreeArgs, objects: usize, bytes: u64) -> Self {
        let bar = (!g.quiet && io::stderr().is_terminal()).then(|| {
            let style = ProgressStyle::with_template(
                "{msg} {bytes}/{total_bytes} [{wide_bar}] {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let b = ProgressBar::new(bytes).with_style(style);
            b.set_message(format!("0/{objects} objects"));
            b
        });
        Self {
            json: args.output == Output::Json,
            quiet: g.quiet,
            bar,
            started: Instant::now(),
            objects,
            done: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            counts: Mutex::new([0; 6]),
            failures: Mutex::new(Vec::new()),
        }
    }

    /// Bytes moved (for the progress display).
    pub(crate) fn tick(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Records one object's outcome.
    pub(crate) fn record(&self, src: &str, dst: &str, size: u64, outcome: &Result<Status>) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(b) = &self.bar {
            b.set_message(format!("{done}/{} objects", self.objects));
        }
        match outcome {
            Ok(s) => {
                if matches!(s, Status::Done | Status::Equal) {
                    self.bytes.fetch_add(size, Ordering::SeqCst);
                }
                let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
                c[*s as usize] += 1;
            }
            Err(e) => {
                self.failures
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(e.exit_code());
                let line = format!("osscse: error: {src} -> {dst}: {e}");
                match &self.bar {
                    Some(b) => b.println(line),
                    None => eprintln!("{line}"),
                }
            }
        }
        let text = match outcome {
            Ok(s)
                if !self.json
                    && matches!(s, Status::WouldCopy | Status::WouldDelete | Status::Equal) =>
            {
                Some(format!("{}: {src} -> {dst}", s.as_str()))
            }
            _ if self.json => {
                let mut rec = serde_json::json!({
                    "src": src,
                    "dst": dst,
                    "size": size,
                    "status": match outcome { Ok(s) => s.as_str(), Err(_) => "failed" },
                });
                if let Err(e) = outcome {
                    rec["error"] = serde_json::json!(e.to_string());
                    rec["exit_code"] = serde_json::json!(e.exit_code());
                }
                Some(rec.to_string())
            }
            _ => None,
        };
        if let Some(t) = text {
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "{t}");
        }
    }

    /// Prints the summary line and turns failures into the command's error.
    pub(crate) fn finish(self, verb: &str) -> Result<()> {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        let c = *self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let failures = self
            .failures
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        if !self.quiet {
            let secs = self.started.elapsed().as_secs_f64();
            let bytes = self.bytes.load(Ordering::SeqCst);
            let mut line = format!(
                "{verb} {} of {} objects ({bytes} bytes in {secs:.1}s)",
                c[Status::Done as usize] + c[Status::Equal as usize],
                self.objects
            );
            for (n, what) in [
                (c[Status::Skipped as usize], "up to date"),
                (c[Status::WouldCopy as usize], "would be copied (dry run)"),
                (c[Status::Deleted as usize], "deleted"),
                (
                    c[Status::WouldDelete as usize],
                    "would be deleted (dry run)",
                ),
                (failures.len(), "failed"),
            ] {
                if n > 0 {
                    line.push_str(&format!(", {n} {what}"));
                }
            }
            eprintln!("{line}");
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(CliError::Several {
                codes: failures,
                total: self.objects,
            })
        }
    }
}

/// Runs `f` on every item with up to `jobs` threads.
pub(crate) fn for_each<T: Sync>(jobs: usize, items: &[T], f: impl Fn(&T) + Sync) {
    let next = AtomicUsize::new(0);
    let workers = jobs.clamp(1, items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    f(item);
                }
            });
        }
    });
}

/// Whether `key` exists in `store` (a missing object is not an error).
pub(crate) fn exists(store: &dyn Store, key: &str) -> Result<bool> {
    match store.head(key) {
        Ok(_) => Ok(true),
        Err(e) if crate::run::exit_code(&e) == 3 => Ok(false),
        Err(e) => Err(e.into()),
    }
}
