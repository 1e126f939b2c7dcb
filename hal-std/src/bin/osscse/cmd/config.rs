//! Settings from an ossutil configuration file: `--config-file` (default `~/.ossutilconfig`)
//! and `--profile NAME`. ossutil 1.x writes one `[Credentials]` section, ossutil 2.0 writes
//! `[default]` and `[profile NAME]` sections; both are read. Keys are matched without case,
//! `-` or `_`: ossutil's `endpoint`, `region`, `accessKeyID`, `accessKeySecret`, `stsToken`,
//! and osscse's own `public-key`, `private-key`, `matdesc`, `kms-key-id`, `kms-region`,
//! `kms-endpoint`. Precedence: flags, then the environment, then the profile.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap::{Args, Subcommand};
use osscse_core::sign::Credentials;
use osscse_std::Error;
use zeroize::Zeroizing;

use crate::cli::{Cli, Command, Global, KeyArgs, KmsArgs};
use crate::error::Result;

/// `--config-file` and `--profile` (for every command).
#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// ossutil configuration file (INI); default ~/.ossutilconfig when it exists.
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config_file: Option<PathBuf>,
    /// Profile in the configuration file: the section NAME or "profile NAME" (default: the
    /// section "default", else ossutil 1.x's "Credentials").
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) profile: Option<String>,
}

/// `osscse config ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the effective settings and where each comes from (secrets masked).
    Show,
}

/// One profile's settings (names normalised: lower case, no `-` or `_`).
#[derive(Default)]
pub(crate) struct Profile {
    /// Where it was read from, and the section.
    pub(crate) origin: Option<(PathBuf, String)>,
    values: BTreeMap<String, Zeroizing<String>>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("origin", &self.origin)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Profile {
    /// A value by normalised name.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(|v| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

static PROFILE: OnceLock<Profile> = OnceLock::new();

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Parses INI text into sections (name → settings).
fn parse_ini(text: &str) -> BTreeMap<String, BTreeMap<String, Zeroizing<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Zeroizing<String>>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_owned();
            out.entry(section.clone()).or_default();
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.entry(section.clone())
                .or_default()
                .insert(normalise(k.trim()), Zeroizing::new(v.trim().to_owned()));
        }
    }
    out
}

/// Reads the profile the flags name (nothing when the default file does not exist).
fn load(args: &ConfigArgs) -> Result<Profile> {
    let (path, explicit) = match &args.config_file {
        Some(p) => (p.clone(), true),
        None => match std::env::var_os("HOME") {
            Some(home) => (Path::new(&home).join(".ossutilconfig"), false),
            None => return Ok(Profile::default()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(name) = &args.profile {
                return Err(Error::Config(format!(
                    "--profile {name}: no configuration file at {}",
                    path.display()
                ))
                .into());
            }
            return Ok(Profile::default());
        }
        Err(e) => {
            return Err(
                Error::Config(format!("configuration file {}: {e}", path.display())).into(),
            );
        }
    };
    let mut sections = parse_ini(&text);
    let wanted: Vec<String> = match &args.profile {
        Some(n) => vec![n.clone(), format!("profile {n}")],
        None => vec!["default".into(), "Credentials".into()],
    };
    for name in wanted {
        if let Some(values) = sections.remove(&name) {
            return Ok(Profile {
                origin: Some((path, name)),
                values,
            });
        }
    }
    match &args.profile {
        Some(n) => Err(Error::Config(format!(
            "{} has no profile {n:?} (sections [{n}] or [profile {n}])",
            path.display()
        ))
        .into()),
        None => Ok(Profile::default()),
    }
}

/// Loads the profile and fills what neither flags nor the environment set.
pub(crate) fn apply(cli: &mut Cli) -> Result<()> {
    let profile = load(&cli.global.config)?;
    let g = &mut cli.global;
    if g.endpoint.is_none() {
        g.endpoint = profile.get("endpoint").map(str::to_owned);
    }
    if g.region.is_none() {
        g.region = profile.get("region").map(str::to_owned);
    }
    match &mut cli.command {
        Command::Put { writer, .. } => fill_put_writer(writer, &profile),
        Command::Get { keys, .. } | Command::Cat { keys, .. } => fill_keys(keys, &profile),
        Command::Ops(super::OpsCommand::Cp(a)) => {
            fill_keys(&mut a.keys, &profile);
            fill_writer(&mut a.write, &a.keys, &profile);
        }
        Command::Ops(super::OpsCommand::Sync(a)) => {
            fill_keys(&mut a.keys, &profile);
            fill_writer(&mut a.write, &a.keys, &profile);
        }
        Command::Ops(super::OpsCommand::Verify(a)) => fill_keys(&mut a.keys, &profile),
        Command::Ops(super::OpsCommand::Rewrap(a)) => fill_keys(&mut a.old, &profile),
        _ => {}
    }
    // Set once per process; a second call keeps the first profile.
    let _ = PROFILE.set(profile);
    Ok(())
}

fn fill_keys(keys: &mut KeyArgs, profile: &Profile) {
    if !keys.private_keys.is_empty()
        || !keys.symmetric_keys.is_empty()
        || keys.kms.kms_key_id.is_some()
    {
        return;
    }
    if let Some(k) = profile.get("privatekey") {
        keys.private_keys.push(k.to_owned());
    }
    if let Some(k) = profile.get("symmetrickey") {
        keys.symmetric_keys.push(k.to_owned());
    }
    fill_kms(&mut keys.kms, profile);
}

/// The profile's KMS key (`kms-key-id` with its region and endpoint), when it names one.
fn fill_kms(kms: &mut KmsArgs, profile: &Profile) {
    if let Some(id) = profile.get("kmskeyid") {
        kms.kms_key_id = Some(id.to_owned());
        kms.kms_region = profile.get("kmsregion").map(str::to_owned);
        kms.kms_endpoint = profile.get("kmsendpoint").map(str::to_owned);
    }
}

/// `put`'s writer key from the profile when no flag names one: `public-key`, else
/// `symmetric-key`, else `kms-key-id` (with its region and endpoint); `matdesc` likewise.
fn fill_put_writer(w: &mut crate::cli::WriterArgs, profile: &Profile) {
    if w.public_key.is_none() && w.symmetric_key.is_none() && w.kms.kms_key_id.is_none() {
        if let Some(k) = profile.get("publickey") {
            w.public_key = Some(PathBuf::from(k));
        } else if let Some(k) = profile.get("symmetrickey") {
            w.symmetric_key = Some(PathBuf::from(k));
        } else {
            fill_kms(&mut w.kms, profile);
        }
    }
    if w.matdesc.is_none() {
        w.matdesc = profile.get("matdesc").map(str::to_owned);
    }
}

fn fill_writer(w: &mut super::cp::WriteKeyArgs, keys: &KeyArgs, profile: &Profile) {
    if w.public_key.is_none() && keys.kms.kms_key_id.is_none() {
        w.public_key = profile.get("publickey").map(PathBuf::from);
    }
    if w.matdesc.is_none() {
        w.matdesc = profile.get("matdesc").map(str::to_owned);
    }
}

/// OSS (and KMS) credentials: the environment's when it has an id and a secret, else the
/// profile's.
pub(crate) fn credentials() -> std::result::Result<Credentials, Error> {
    let env_set = |n: &str| std::env::var(n).is_ok_and(|v| !v.is_empty());
    if env_set("OSS_ACCESS_KEY_ID") && env_set("OSS_ACCESS_KEY_SECRET") {
        return osscse_std::client::credentials_from_env();
    }
    if let Some(p) = PROFILE.get()
        && let (Some(id), Some(secret)) = (p.get("accesskeyid"), p.get("accesskeysecret"))
    {
        let mut c = Credentials::new(id, secret);
        if let Some(t) = p.get("ststoken").or_else(|| p.get("securitytoken")) {
            c = c.with_security_token(t);
        }
        return Ok(c);
    }
    osscse_std::client::credentials_from_env().map_err(|e| match e {
        Error::Config(m) => Error::Config(format!(
            "{m}, or put accessKeyID and accessKeySecret in ~/.ossutilconfig (or --config-file)"
        )),
        other => other,
    })
}

/// `osscse config show`.
pub(crate) fn show(g: &Global) -> Result<()> {
    let p = PROFILE.get();
    let origin = match p.and_then(|p| p.origin.as_ref()) {
        Some((path, section)) => format!("{} [{section}]", path.display()),
        None => "(none)".into(),
    };
    println!("{:<18} {origin}", "config file");
    let from_env = |env: &str, v: &str| std::env::var(env).is_ok_and(|e| e == v);
    let prof = |name: &str| p.and_then(|p| p.get(name));
    let line = |label: &str, value: Option<String>, source: &str| {
        match value {
            Some(v) => println!("{label:<18} {v} ({source})"),
            None => println!("{label:<18} (unset)"),
        };
    };
    for (label, value, env, name) in [
        (
            "endpoint",
            g.endpoint.as_deref(),
            "OSS_ENDPOINT",
            "endpoint",
        ),
        ("region", g.region.as_deref(), "OSS_REGION", "region"),
    ] {
        let source = match value {
            Some(v) if from_env(env, v) => "environment",
            Some(v) if prof(name) == Some(v) => "profile",
            _ => "flag",
        };
        line(label, value.map(str::to_owned), source);
    }
    let env_creds = ["OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET"]
        .iter()
        .all(|n| std::env::var(n).is_ok_and(|v| !v.is_empty()));
    let (id, secret, token, source) = if env_creds {
        (
            std::env::var("OSS_ACCESS_KEY_ID").ok(),
            true,
            std::env::var("OSS_SESSION_TOKEN").is_ok_and(|t| !t.is_empty()),
            "environment",
        )
    } else {
        (
            prof("accesskeyid").map(str::to_owned),
            prof("accesskeysecret").is_some(),
            prof("ststoken").or_else(|| prof("securitytoken")).is_some(),
            "profile",
        )
    };
    line("access-key-id", id.map(|i| mask(&i)), source);
    line(
        "access-key-secret",
        secret.then(|| "****".to_owned()),
        source,
    );
    line("sts-token", token.then(|| "****".to_owned()), source);
    for (label, name) in [
        ("public-key", "publickey"),
        ("symmetric-key", "symmetrickey"),
        ("private-key", "privatekey"),
        ("matdesc", "matdesc"),
        ("kms-key-id", "kmskeyid"),
        ("kms-region", "kmsregion"),
        ("kms-endpoint", "kmsendpoint"),
    ] {
        line(label, prof(name).map(str::to_owned), "profile");
    }
    Ok(())
}

/// The first four characters of an access key id, then `****`.
fn mask(id: &str) -> String {
    let head: String = id.chars().take(4).collect();
    format!("{head}****")
}

#[cfg(test)]
mod tests {
    use super::{normalise, parse_ini};

    #[test]
    fn reads_both_ossutil_formats() {
        let v1 = "[Credentials]\nlanguage=EN\nendpoint=oss-cn-hangzhou.aliyuncs.com\naccessKeyID=AK\naccessKeySecret=SK\n";
        let s = parse_ini(v1);
        assert_eq!(s["Credentials"]["accesskeyid"].as_str(), "AK");
        assert_eq!(
            s["Credentials"]["endpoint"].as_str(),
            "oss-cn-hangzhou.aliyuncs.com"
        );
        let v2 = "# comment\n[default]\naccessKeyId = AK2\n\n[profile dev]\nregion = cn-beijing\nprivate-key = /k.pem\n";
        let s = parse_ini(v2);
        assert_eq!(s["default"]["accesskeyid"].as_str(), "AK2");
        assert_eq!(s["profile dev"]["privatekey"].as_str(), "/k.pem");
        assert_eq!(normalise("KMS_Key-Id"), "kmskeyid");
    }
}
