//! `oss://BUCKET/KEY` and `file://DIR/KEY` locations.

use std::path::{Path, PathBuf};

use osscse_std::Error;

/// Where an object lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// In OSS.
    Oss {
        /// Bucket.
        bucket: String,
        /// Object key (may be empty for `ls`).
        key: String,
    },
    /// In a local directory store: `root` is the directory, `key` the object name in it.
    File {
        /// Store directory.
        root: PathBuf,
        /// Object key (may be empty for `ls`).
        key: String,
    },
}

impl Location {
    /// Parses a location; `need_key` refuses locations without an object key.
    pub(crate) fn parse(text: &str, need_key: bool) -> Result<Self, Error> {
        if let Some(rest) = text.strip_prefix("oss://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() || (need_key && key.is_empty()) {
                return Err(Error::Config(format!(
                    "{text:?}: expected oss://BUCKET/KEY"
                )));
            }
            check_bucket(bucket).map_err(|why| Error::Config(format!("{text:?}: {why}")))?;
            if !key.is_empty() {
                check_key(key).map_err(|why| Error::Config(format!("{text:?}: {why}")))?;
            }
            return Ok(Self::Oss {
                bucket: bucket.into(),
                key: key.into(),
            });
        }
        if let Some(rest) = text.strip_prefix("file://") {
            if rest.is_empty() {
                return Err(Error::Config(format!("{text:?}: expected file://DIR/KEY")));
            }
            if !need_key {
                return Ok(Self::File {
                    root: PathBuf::from(rest),
                    key: String::new(),
                });
            }
            let path = Path::new(rest);
            let key = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if key.is_empty() || rest.ends_with('/') {
                return Err(Error::Config(format!("{text:?}: expected file://DIR/KEY")));
            }
            let root = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            return Ok(Self::File {
                root,
                key: key.into(),
            });
        }
        Err(Error::Config(format!(
            "{text:?} is not a location: use oss://BUCKET/KEY or file://DIR/KEY (plain paths are for SRC of put and DST of get)"
        )))
    }
}

/// OSS's bucket naming rules: 3 to 63 characters, lower-case letters, digits and hyphens,
/// starting and ending with a letter or digit.
///
/// # Errors
/// The rule broken, in words.
pub(crate) fn check_bucket(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !(3..=63).contains(&name.len()) {
        return Err(format!(
            "bucket name {name:?} must be 3 to 63 characters long"
        ));
    }
    if let Some(c) = name.chars().find(|c| !ok_char(*c)) {
        return Err(format!(
            "bucket name {name:?} may hold only lower-case letters, digits and hyphens (not {c:?})"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(format!(
            "bucket name {name:?} must start and end with a letter or digit"
        ));
    }
    Ok(())
}

/// OSS's object key rules: 1 to 1023 bytes of UTF-8, not starting with `/` or `\`.
///
/// # Errors
/// The rule broken, in words.
pub(crate) fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > 1023 {
        return Err(format!(
            "object key must be 1 to 1023 bytes long (this one is {} bytes)",
            key.len()
        ));
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return Err(format!(
            "object key {key:?} must not start with '/' or '\\'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(
            Location::parse("oss://bkt/a/b.txt", true).unwrap(),
            Location::Oss {
                bucket: "bkt".into(),
                key: "a/b.txt".into()
            }
        );
        assert_eq!(
            Location::parse("oss://bkt", false).unwrap(),
            Location::Oss {
                bucket: "bkt".into(),
                key: String::new()
            }
        );
        assert!(Location::parse("oss://bkt", true).is_err());
        assert!(Location::parse("oss:///k", true).is_err());
        assert_eq!(
            Location::parse("file:///tmp/store/obj", true).unwrap(),
            Location::File {
                root: "/tmp/store".into(),
                key: "obj".into()
            }
        );
        assert_eq!(
            Location::parse("file://rel/obj", true).unwrap(),
            Location::File {
                root: "rel".into(),
                key: "obj".into()
            }
        );
        assert_eq!(
            Location::parse("file://obj", true).unwrap(),
            Location::File {
                root: ".".into(),
                key: "obj".into()
            }
        );
        assert!(Location::parse("file://dir/", true).is_err());
        assert!(Location::parse("/tmp/x", true).is_err());
        assert!(Location::parse("s3://b/k", true).is_err());
    }

    #[test]
    fn oss_names() {
        for good in ["abc", "my-bucket-01", &"a".repeat(63)] {
            assert!(check_bucket(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "My-Bucket",
            "-abc",
            "abc-",
            "a_b",
            "a.b",
            &"a".repeat(64),
        ] {
            assert!(check_bucket(bad).is_err(), "{bad}");
        }
        assert!(check_key("a/b c/ü.txt").is_ok());
        assert!(check_key(&"k".repeat(1023)).is_ok());
        for bad in ["/abs", "\\abs", &"k".repeat(1024)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
        assert!(Location::parse("oss://Bad_Bucket/k", true).is_err());
        assert!(Location::parse("oss://bkt//k", true).is_err());
    }
}
