//! Key files on disk: reading them into zeroized buffers, ssh's warning for secret key files
//! that group or others can access, and writing new key files without following a link at the
//! destination, without overwriting unless asked, and through a temp file and a rename, so that
//! a kill leaves the old file or the new one, never half a key.

use std::io::{Read, Write};
use std::path::Path;

use zeroize::Zeroizing;

use super::KeyError;
use crate::error::{Error, Result};

/// No key file is larger (an 8192-bit PKCS#8 PEM is about 6.5 KB).
const MAX_KEY_FILE: u64 = 1 << 20;

/// Reads a key file into a buffer that is zeroized when dropped; the buffer never grows by
/// reallocation without wiping the old allocation.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`KeyError::TooLarge`] beyond 1 MiB.
pub fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let ctx = || format!("reading key file {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| Error::io(ctx(), e))?;
    let len = file.metadata().map_err(|e| Error::io(ctx(), e))?.len();
    let too_large = |len| {
        Error::from(KeyError::TooLarge {
            path: path.to_path_buf(),
            len,
        })
    };
    if len > MAX_KEY_FILE {
        return Err(too_large(len));
    }
    let capacity = usize::try_from(len).unwrap_or(0).saturating_add(1);
    let mut out = Zeroizing::new(Vec::with_capacity(capacity));
    let mut chunk = Zeroizing::new([0u8; 4096]);
    let mut reader = file.take(MAX_KEY_FILE + 1);
    loop {
        let n = match reader.read(&mut chunk[..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(ctx(), e)),
        };
        if out.len() + n > out.capacity() {
            // The file grew since it was measured: move to a larger buffer by hand, so that
            // the old one is wiped (Vec's own growth would free it unwiped).
            let mut bigger = Zeroizing::new(Vec::with_capacity((out.len() + n) * 2));
            bigger.extend_from_slice(&out);
            out = bigger;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    if out.len() as u64 > MAX_KEY_FILE {
        return Err(too_large(out.len() as u64));
    }
    Ok(out)
}

/// The warning ssh would give for a secret key file (private or symmetric) that group or
/// others can access (any of the mode bits `0o077`), naming the file and `chmod 600`; `None`
/// when the file is private to its owner, cannot be examined, or off Unix.
pub fn permission_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then(|| {
            format!(
                "permissions {mode:04o} for '{}' are too open: group or others can access this secret key; restrict them with `chmod 600 {}` (loading it anyway)",
                path.display(),
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Writes a new key file at `path` with `mode` (Unix permission bits, e.g. `0o600`).
///
/// The bytes go to a fresh temp file in the same directory (created exclusively, so it is never
/// a link, already with `mode`), are synced, and the temp file is then renamed onto `path`:
/// without `force` only if nothing exists there (an atomic no-clobber rename), with `force`
/// replacing a regular file. A symbolic link at `path` is always refused (and a link created
/// there meanwhile is replaced, never followed). A kill leaves at most a stray
/// `.osscse-key-*.tmp` next to `path`, never a partial key at `path`.
///
/// # Errors
/// [`KeyError::Symlink`], [`KeyError::Exists`] (without `force`), [`Error::Config`] for a
/// directory, [`Error::Io`] when the directory is not writable or the disk is full.
pub fn write_key_file(path: &Path, contents: &[u8], mode: u32, force: bool) -> Result<()> {
    let ctx = |what: &str| format!("{what} {}", path.display());
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() {
            return Err(KeyError::Symlink {
                path: path.to_path_buf(),
            }
            .into());
        }
        if meta.is_dir() {
            return Err(Error::Config(format!(
                "{} is a directory; give the path of the key file to create",
                path.display()
            )));
        }
        if !force {
            return Err(KeyError::Exists {
                path: path.to_path_buf(),
            }
            .into());
        }
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".osscse-key-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| Error::io(ctx("creating a temp file next to"), e))?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(ctx("writing"), e))?;
    let persisted = if force {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    };
    if let Err(e) = persisted {
        let raced = e.error.kind() == std::io::ErrorKind::AlreadyExists;
        return Err(match std::fs::symlink_metadata(path) {
            Ok(m) if raced && m.file_type().is_symlink() => KeyError::Symlink {
                path: path.to_path_buf(),
            }
            .into(),
            Ok(_) if raced => KeyError::Exists {
                path: path.to_path_buf(),
            }
            .into(),
            _ => Error::io(ctx("writing"), e.error),
        });
    }
    // Make the rename durable; a directory that cannot be synced is not an error.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_new_files_and_refuses_existing_ones_without_force() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let key = dir.path().join("k");
        write_key_file(&key, b"one", 0o600, false).unwrap_or_else(|e| panic!("{e}"));
        let again = write_key_file(&key, b"two", 0o600, false);
        assert!(matches!(again, Err(Error::Key(KeyError::Exists { .. }))));
        assert_eq!(std::fs::read(&key).ok().as_deref(), Some(&b"one"[..]));
        write_key_file(&key, b"two", 0o600, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&key).ok().as_deref(), Some(&b"two"[..]));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["k"], "no temp file left behind");
    }

    #[test]
    fn a_directory_is_not_a_key_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let r = write_key_file(dir.path(), b"x", 0o600, true);
        assert!(matches!(r, Err(Error::Config(_))));
    }
}
