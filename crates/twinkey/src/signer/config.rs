//! The OCI config file (`~/.oci/config`): INI profiles that inherit `[DEFAULT]`, read the way
//! the Python SDK's `oci.config.from_file` reads them (keys case-insensitive, section names
//! case-sensitive, no inline comments, `~` expanded in file paths).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use configparser::ini::{Ini, IniDefault};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The section every profile inherits from.
const DEFAULT_SECTION: &str = "DEFAULT";

/// One profile of an OCI config file, with `[DEFAULT]` values filled in.
///
/// `Debug` never shows `pass_phrase`.
#[derive(Clone)]
pub struct OciProfile {
    /// The profile (section) name.
    pub name: String,
    /// `user`: the user OCID.
    pub user: Option<String>,
    /// `tenancy`: the tenancy OCID.
    pub tenancy: Option<String>,
    /// `fingerprint`: the API key's fingerprint as configured.
    pub fingerprint: Option<String>,
    /// `key_file`: the private key's path as written (`~` allowed).
    pub key_file: Option<String>,
    /// `security_token_file`: the session token's path as written.
    pub security_token_file: Option<String>,
    /// `region`, e.g. `us-chicago-1`.
    pub region: Option<String>,
    /// The config file this came from (relative paths in it resolve like the SDK: against the
    /// current directory).
    pub source: Option<PathBuf>,
    pass_phrase: Option<Zeroizing<String>>,
    others: BTreeMap<String, String>,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidConfig {
        reason: reason.into(),
    }
}

/// `~` or `~/...` expanded with `$HOME` (`%USERPROFILE%` on Windows).
pub(crate) fn expand_home(path: &str) -> PathBuf {
    let rest = match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '\\']) => rest,
        _ => return PathBuf::from(path),
    };
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"));
    match home {
        Some(home) => PathBuf::from(home).join(rest.trim_start_matches(['/', '\\'])),
        None => PathBuf::from(path),
    }
}

impl OciProfile {
    /// `~/.oci/config`, the SDKs' default location.
    pub fn default_path() -> PathBuf {
        expand_home("~/.oci/config")
    }

    /// Parses `profile` out of config text. Errors (`INVALID_CONFIG`): malformed INI, unknown
    /// profile (the message lists the profiles present).
    pub fn parse(text: &str, profile: &str) -> Result<Self> {
        let mut defaults = IniDefault::default();
        defaults.default_section = DEFAULT_SECTION.to_string();
        defaults.case_sensitive = true;
        defaults.enable_inline_comments = false;
        defaults.multiline = true;
        let mut ini = Ini::new_from_defaults(defaults);
        let map = ini
            .read(text.to_string())
            .map_err(|e| invalid(format!("malformed config: {e}")))?;
        let Some(section) = map.get(profile) else {
            let mut names: Vec<&str> = map.keys().map(String::as_str).collect();
            names.sort_unstable();
            return Err(invalid(format!(
                "profile [{profile}] not found (profiles: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        };
        let mut values = BTreeMap::new();
        let inherited = map.get(DEFAULT_SECTION).into_iter().flatten();
        // A key left empty in the profile hides the inherited value, as in the SDK.
        for (key, value) in inherited.chain(section) {
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                Some(v) => values.insert(key.to_ascii_lowercase(), v.to_string()),
                None => values.remove(&key.to_ascii_lowercase()),
            };
        }
        let mut take = |k: &str| values.remove(k);
        Ok(OciProfile {
            name: profile.to_string(),
            user: take("user"),
            tenancy: take("tenancy"),
            fingerprint: take("fingerprint"),
            key_file: take("key_file"),
            security_token_file: take("security_token_file"),
            region: take("region"),
            pass_phrase: take("pass_phrase").map(Zeroizing::new),
            source: None,
            others: values,
        })
    }

    /// Reads `profile` of the config file at `path` (`~` expanded).
    pub fn load(path: &Path, profile: &str) -> Result<Self> {
        let path = path
            .to_str()
            .map_or_else(|| path.to_path_buf(), expand_home);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| invalid(format!("cannot read config file {}: {e}", path.display())))?;
        let mut p = Self::parse(&text, profile)
            .map_err(|e| invalid(format!("{}: {}", path.display(), reason_of(&e))))?;
        p.source = Some(path);
        Ok(p)
    }

    /// `pass_phrase`, when set.
    pub fn pass_phrase(&self) -> Option<&str> {
        self.pass_phrase.as_deref().map(String::as_str)
    }

    /// Any other key of the profile (lowercase name), e.g. `log_requests`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.others
            .get(&key.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// `<tenancy>/<user>/<fingerprint>`; `INVALID_CONFIG` naming every missing key.
    pub fn user_key_id(&self) -> Result<String> {
        let fields = [
            ("tenancy", &self.tenancy),
            ("user", &self.user),
            ("fingerprint", &self.fingerprint),
        ];
        let missing: Vec<&str> = fields
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect();
        match (&self.tenancy, &self.user, &self.fingerprint) {
            (Some(t), Some(u), Some(f)) => Ok(format!("{t}/{u}/{f}")),
            _ => Err(invalid(format!(
                "profile [{}] is missing {} (required for API-key signing unless \
                 security_token_file is set)",
                self.name,
                missing.join(", ")
            ))),
        }
    }

    /// The contents of `key_file`.
    pub fn read_key_file(&self) -> Result<String> {
        let file = self
            .key_file
            .as_deref()
            .ok_or_else(|| invalid(format!("profile [{}] is missing key_file", self.name)))?;
        let path = expand_home(file);
        std::fs::read_to_string(&path)
            .map_err(|e| invalid(format!("cannot read key_file {}: {e}", path.display())))
    }

    /// The contents of `security_token_file`, trimmed; `None` when the profile has none.
    pub fn read_security_token(&self) -> Result<Option<String>> {
        let Some(file) = self.security_token_file.as_deref() else {
            return Ok(None);
        };
        let path = expand_home(file);
        let token = std::fs::read_to_string(&path).map_err(|e| {
            invalid(format!(
                "cannot read security_token_file {}: {e}",
                path.display()
            ))
        })?;
        Ok(Some(token.trim().to_string()))
    }
}

fn reason_of(e: &Error) -> String {
    match e {
        Error::InvalidConfig { reason } => reason.clone(),
        other => other.to_string(),
    }
}

impl fmt::Debug for OciProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciProfile")
            .field("name", &self.name)
            .field("user", &self.user)
            .field("tenancy", &self.tenancy)
            .field("fingerprint", &self.fingerprint)
            .field("key_file", &self.key_file)
            .field("security_token_file", &self.security_token_file)
            .field("region", &self.region)
            .field(
                "pass_phrase",
                &self.pass_phrase.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const CONFIG: &str = "\
# comment
[DEFAULT]
tenancy = ocid1.tenancy.oc1..aaa
region=us-chicago-1
Key_File = ~/.oci/key.pem

[work]
user = ocid1.user.oc1..bbb
fingerprint = 3e:af:72:33:e7:10:23:6d:53:69:e9:f5:96:74:15:39
pass_phrase = p#ss;word = with spaces
region = eu-frankfurt-1

[empty]
fingerprint =
";

    #[test]
    fn profiles_inherit_default_and_keep_values_verbatim() {
        let p = OciProfile::parse(CONFIG, "work").unwrap();
        assert_eq!(p.tenancy.as_deref(), Some("ocid1.tenancy.oc1..aaa"));
        assert_eq!(p.region.as_deref(), Some("eu-frankfurt-1"));
        assert_eq!(p.key_file.as_deref(), Some("~/.oci/key.pem"));
        assert_eq!(p.pass_phrase(), Some("p#ss;word = with spaces"));
        assert_eq!(
            p.user_key_id().unwrap(),
            "ocid1.tenancy.oc1..aaa/ocid1.user.oc1..bbb/3e:af:72:33:e7:10:23:6d:53:69:e9:f5:96:74:15:39"
        );
        let dbg = format!("{p:?}");
        assert!(!dbg.contains("p#ss") && dbg.contains("<redacted>"), "{dbg}");
    }

    #[test]
    fn missing_profile_and_missing_keys_are_invalid_config() {
        let e = OciProfile::parse(CONFIG, "nope").unwrap_err();
        assert_eq!(e.code(), "INVALID_CONFIG");
        assert!(e.to_string().contains("DEFAULT, empty, work"), "{e}");
        let e = OciProfile::parse(CONFIG, "Work").unwrap_err();
        assert_eq!(
            e.code(),
            "INVALID_CONFIG",
            "section names are case-sensitive"
        );
        let p = OciProfile::parse(CONFIG, "empty").unwrap();
        assert_eq!(p.fingerprint, None);
        let e = p.user_key_id().unwrap_err();
        assert_eq!(e.code(), "INVALID_CONFIG");
        assert!(e.to_string().contains("user, fingerprint"), "{e}");
        assert_eq!(p.read_security_token().unwrap(), None);
    }

    #[test]
    fn home_is_expanded_only_at_the_start() {
        let home = PathBuf::from(std::env::var_os("HOME").unwrap());
        assert_eq!(expand_home("~/.oci/k.pem"), home.join(".oci/k.pem"));
        assert_eq!(expand_home("~"), home);
        assert_eq!(expand_home("~other/k"), PathBuf::from("~other/k"));
        assert_eq!(expand_home("/a/~/b"), PathBuf::from("/a/~/b"));
    }
}
