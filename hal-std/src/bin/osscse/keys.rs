//! Master keys from the command line: the keyrings of `--private-key`, `--symmetric-key`,
//! `--public-key` and `--kms-key-id` (with ssh's warning for secret key files that others can
//! read), and `keygen`.

use std::path::Path;

use osscse_core::envelope::Matdesc;
use osscse_std::Error;
use osscse_std::keys::{
    KeyError, Keyring, SymmetricKeyEncoding, encode_symmetric_key, generate_rsa,
    generate_symmetric_key, load_rsa_key, load_symmetric_key, permission_warning, write_key_file,
};
use osscse_std::kms::{AnyMasterKey, KmsClient, KmsConfig, KmsMasterKey};

use crate::cli::{Global, KeyArgs, KeyEncodingArg, KeygenArgs, KmsArgs, WriterArgs};

type Result<T> = std::result::Result<T, Error>;

/// Warns on stderr, as ssh does, when group or others can access a secret key file (the key
/// is loaded anyway). Printed even with --quiet: it is a warning, not a note.
fn warn_if_exposed(path: &Path) {
    if let Some(warning) = permission_warning(path) {
        eprintln!("osscse: warning: {warning}");
    }
}

/// An RSA key file (public or private; the permission warning is for private ones).
pub(crate) fn rsa_key(path: &Path) -> Result<AnyMasterKey> {
    let key = load_rsa_key(path)?;
    if key.has_private_key() {
        warn_if_exposed(path);
    }
    Ok(key.into())
}

/// A symmetric key file.
fn symmetric_key(path: &Path) -> Result<AnyMasterKey> {
    let key = load_symmetric_key(path)?;
    warn_if_exposed(path);
    Ok(key.into())
}

/// The symmetric key of a `--symmetric-key FILE[=JSON]` argument, named by its matdesc if given.
pub(crate) fn symmetric_spec(spec: &str) -> Result<AnyMasterKey> {
    let (path, matdesc) = split_spec("--symmetric-key", spec)?;
    let key = symmetric_key(path)?;
    Ok(match matdesc {
        Some(m) => with_matdesc(key, m),
        None => key,
    })
}

/// `key` named by `matdesc` (RSA, KMS or symmetric alike).
pub(crate) fn with_matdesc(key: AnyMasterKey, matdesc: Matdesc) -> AnyMasterKey {
    match key {
        AnyMasterKey::Rsa(k) => k.with_matdesc(matdesc).into(),
        AnyMasterKey::Kms(k) => k.with_matdesc(matdesc).into(),
        AnyMasterKey::AesGcm(k) => k.with_matdesc(matdesc).into(),
    }
}

/// The KMS master key named by `--kms-key-id`, if any, called with the OSS credentials.
pub(crate) fn kms_key(args: &KmsArgs) -> Result<Option<KmsMasterKey>> {
    let Some(key_id) = &args.kms_key_id else {
        return Ok(None);
    };
    if key_id.is_empty() {
        return Err(Error::Config(
            "--kms-key-id is empty: pass the CMK's key id, ARN or alias".into(),
        ));
    }
    let config = KmsConfig::from_options(args.kms_region.as_deref(), args.kms_endpoint.as_deref())?;
    let client = KmsClient::new(config, crate::cmd::config::credentials()?)?;
    Ok(Some(KmsMasterKey::new(client, key_id)))
}

/// The keyring that writes new objects: the one key of `--public-key`, `--symmetric-key` or
/// `--kms-key-id` (clap makes them exclusive), named by `--matdesc`.
pub(crate) fn writer_keyring(args: &WriterArgs) -> Result<Keyring> {
    let key = match (&args.public_key, &args.symmetric_key, kms_key(&args.kms)?) {
        (_, _, Some(k)) => AnyMasterKey::from(k),
        (Some(path), _, None) => rsa_key(path)?,
        (None, Some(path), None) => symmetric_key(path)?,
        (None, None, None) => {
            return Err(Error::Config(
                "no key to encrypt with: pass --public-key PEM, --symmetric-key FILE or \
                 --kms-key-id, or set public-key, symmetric-key or kms-key-id in the config \
                 profile"
                    .into(),
            ));
        }
    };
    let key = match &args.matdesc {
        // Written exactly as given (after validation): the Go v2, Python v2 and PHP v2
        // readers look their keys up by the matdesc text (README).
        Some(m) => with_matdesc(
            key,
            Matdesc::parse(m).map_err(|e| Error::Config(format!("--matdesc: {e}")))?,
        ),
        None => key,
    };
    Ok(Keyring::new(key))
}

/// `PATH` or `PATH={json}`: the key file and the matdesc it is registered for.
fn split_spec<'a>(flag: &str, spec: &'a str) -> Result<(&'a Path, Option<Matdesc>)> {
    let Some(i) = spec.find("={") else {
        return Ok((Path::new(spec), None));
    };
    let (path, matdesc) = (&spec[..i], &spec[i + 1..]);
    let matdesc = Matdesc::parse(matdesc)
        .map_err(|e| Error::Config(format!("{flag} {path}: matdesc: {e}")))?;
    Ok((Path::new(path), Some(matdesc)))
}

/// The keyring that reads objects: every `--private-key`, then every `--symmetric-key`, then
/// the KMS key. The first is the default; the keyring tries the keys that fit each object.
pub(crate) fn keyring(args: &KeyArgs) -> Result<Keyring> {
    if args.private_keys.is_empty()
        && args.symmetric_keys.is_empty()
        && args.kms.kms_key_id.is_none()
    {
        return Err(Error::Config(
            "pass --private-key PEM, --symmetric-key FILE or --kms-key-id to decrypt".into(),
        ));
    }
    let mut ring = Keyring::empty();
    let specs = args
        .private_keys
        .iter()
        .map(|s| ("--private-key", s))
        .chain(args.symmetric_keys.iter().map(|s| ("--symmetric-key", s)));
    for (flag, spec) in specs {
        let (path, matdesc) = split_spec(flag, spec)?;
        let key = if flag == "--private-key" {
            rsa_key(path)?
        } else {
            symmetric_key(path)?
        };
        ring.add(match matdesc {
            Some(m) => with_matdesc(key, m),
            None => key,
        });
    }
    if let Some(key) = kms_key(&args.kms)? {
        ring.add(key);
    }
    Ok(ring)
}

/// Refuses to start when a destination is a link, or exists and `force` is not given, so
/// that keygen writes nothing rather than half a key pair.
fn check_destination(path: &Path, force: bool) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(KeyError::Symlink {
            path: path.to_path_buf(),
        }
        .into()),
        Ok(m) if m.is_dir() => Err(Error::Config(format!(
            "{} is a directory; give the path of the key file to create",
            path.display()
        ))),
        Ok(_) if !force => Err(KeyError::Exists {
            path: path.to_path_buf(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// `keygen`: an RSA pair in a directory, or one symmetric key file.
pub(crate) fn keygen(g: &Global, args: &KeygenArgs) -> Result<()> {
    let out = args.out.as_path();
    if args.symmetric {
        check_destination(out, args.force)?;
        if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let encoding = match args.encoding {
            KeyEncodingArg::Raw => SymmetricKeyEncoding::Raw,
            KeyEncodingArg::Hex => SymmetricKeyEncoding::Hex,
            KeyEncodingArg::Base64 => SymmetricKeyEncoding::Base64,
        };
        let key = generate_symmetric_key()?;
        write_key_file(
            out,
            &encode_symmetric_key(&key, encoding),
            0o600,
            args.force,
        )?;
        if !g.quiet {
            eprintln!(
                "wrote {} (a symmetric AES-256 key: keep it secret and back it up, objects wrapped with it are unreadable without it)",
                out.display()
            );
        }
        return Ok(());
    }
    let private = out.join("private.pem");
    let public = out.join("public.pem");
    check_destination(&private, args.force)?;
    check_destination(&public, args.force)?;
    std::fs::create_dir_all(out)
        .map_err(|e| Error::io(format!("creating {}", out.display()), e))?;
    let pair = generate_rsa(args.bits)?;
    write_key_file(&private, pair.private_pem.as_bytes(), 0o600, args.force)?;
    write_key_file(&public, pair.public_pem.as_bytes(), 0o644, args.force)?;
    if !g.quiet {
        eprintln!(
            "wrote {} (keep it secret) and {}",
            private.display(),
            public.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use osscse_core::wrap::MasterKey;

    use super::*;

    #[test]
    fn a_matdesc_attaches_to_every_kind_of_key() {
        let key = osscse_std::keys::parse_symmetric_key(&[9; 32]).map(AnyMasterKey::from);
        let Some(key) = key else {
            panic!("32 bytes are a key")
        };
        let m = Matdesc::parse(r#"{"cmk": "a"}"#).ok();
        let Some(m) = m else { panic!("valid matdesc") };
        let named = with_matdesc(key, m.clone());
        assert_eq!(named.matdesc(), Some(&m));
    }

    #[test]
    fn specs_split_at_the_matdesc() {
        let (path, m) =
            split_spec("--symmetric-key", r#"a=b.key={"k":"v"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(path, Path::new("a=b.key"));
        assert_eq!(
            m.map(|m| m.as_str().to_owned()).as_deref(),
            Some(r#"{"k":"v"}"#)
        );
        assert!(split_spec("--private-key", "k.pem={oops").is_err());
    }
}
