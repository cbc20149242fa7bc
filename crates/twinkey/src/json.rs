//! JSON in and out in OCI's own camelCase shape (`ApiKey` with `keys[]` of `ApiKeyItem`).
//!
//! A document read from the control plane, from `oci generative-ai api-key get` output or
//! from a config file parses the same way. A secret's `key` may be the value itself, or a
//! reference resolved at load time: `env:NAME` (an environment variable) or `file:PATH` (a file's
//! contents, trailing newline removed; relative paths are relative to the key file).
//!
//! Output never contains a secret value unless asked for with [`ApiKey::to_json_exposing_secrets`]:
//! references are written back as given, inline values are omitted (the `keyMask` stays).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::key::{ApiKey, Secret, region_from_ocid, validate_name};
use crate::secret::{SecretState, SecretValue};
use crate::time::Timestamp;

/// Largest key document accepted (bytes); larger input is refused before parsing.
pub const MAX_KEY_DOCUMENT: usize = 1 << 20;

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawApiKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compartment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_updated: Option<String>,
    keys: Vec<RawItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle_details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    freeform_tags: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    defined_tags: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_tags: Option<serde_json::Value>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawItem {
    key_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_mask: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_expiry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_activated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_deactivated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_revoked: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_last_used: Option<String>,
    state: String,
}

impl Drop for RawItem {
    fn drop(&mut self) {
        if let Some(k) = self.key.as_mut() {
            k.zeroize();
        }
    }
}

/// Where `env:` and `file:` references are resolved.
pub trait SecretSource {
    /// The value of an environment variable.
    fn env(&self, name: &str) -> Option<String>;
    /// The contents of a file.
    fn read_file(&self, path: &Path) -> std::io::Result<String>;
}

/// Resolves references against the process environment and file system; relative file paths
/// are taken relative to `base_dir` when set.
#[derive(Clone, Debug, Default)]
pub struct ProcessSource {
    /// Directory that relative `file:` paths are relative to.
    pub base_dir: Option<PathBuf>,
}

impl SecretSource for ProcessSource {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        let path = match (&self.base_dir, path.is_relative()) {
            (Some(base), true) => base.join(path),
            _ => path.to_path_buf(),
        };
        std::fs::read_to_string(path)
    }
}

/// A source that resolves nothing (references then fail with `SECRET_REF_UNRESOLVED`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSource;

impl SecretSource for NoSource {
    fn env(&self, _: &str) -> Option<String> {
        None
    }
    fn read_file(&self, _: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "file references are not available here",
        ))
    }
}

fn json_error(e: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    let msg = e.to_string();
    // Data errors may quote input values (which could be secrets): keep only field names.
    let what = match e.classify() {
        Category::Syntax => "malformed JSON".to_string(),
        Category::Eof => "truncated JSON".to_string(),
        Category::Io => "unreadable input".to_string(),
        Category::Data => {
            let head = msg.split(" at line").next().unwrap_or("");
            if head.starts_with("missing field") || head.starts_with("duplicate field") {
                head.to_string()
            } else {
                "a field has the wrong type".to_string()
            }
        }
    };
    Error::invalid_key(format!("{what} at line {} column {}", e.line(), e.column()))
}

fn ts(field: &str, text: &Option<String>) -> Result<Option<Timestamp>> {
    match text {
        None => Ok(None),
        Some(t) => Timestamp::parse_rfc3339(t)
            .map(Some)
            .map_err(|_| Error::invalid_key(format!("{field}: bad RFC 3339 timestamp {t:?}"))),
    }
}

fn resolve(
    name: &str,
    raw: &str,
    source: &dyn SecretSource,
) -> Result<(SecretValue, Option<String>)> {
    let unresolved = |reason: String| Error::SecretRefUnresolved {
        secret: name.to_string(),
        reference: raw.to_string(),
        reason,
    };
    if let Some(var) = raw.strip_prefix("env:") {
        let mut v = source
            .env(var)
            .ok_or_else(|| unresolved("the environment variable is not set".into()))?;
        let out = SecretValue::new(name, v.trim_end_matches(['\r', '\n']));
        v.zeroize();
        Ok((out?, Some(raw.to_string())))
    } else if let Some(path) = raw.strip_prefix("file:") {
        let mut v = source
            .read_file(Path::new(path))
            .map_err(|e| unresolved(e.kind().to_string()))?;
        let out = SecretValue::new(name, v.trim_end_matches(['\r', '\n']));
        v.zeroize();
        Ok((out?, Some(raw.to_string())))
    } else {
        Ok((SecretValue::new(name, raw)?, None))
    }
}

fn item_to_secret(item: &RawItem, source: &dyn SecretSource) -> Result<Secret> {
    validate_name(&item.key_name)?;
    let (value, reference) = match &item.key {
        Some(raw) => {
            let (v, r) = resolve(&item.key_name, raw, source)?;
            (Some(v), r)
        }
        None => (None, None),
    };
    Ok(Secret {
        name: item.key_name.clone(),
        value,
        reference,
        key_mask: item.key_mask.clone(),
        state: SecretState::parse(&item.state),
        time_expiry: ts("timeExpiry", &item.time_expiry)?,
        time_created: ts("timeCreated", &item.time_created)?,
        time_activated: ts("timeActivated", &item.time_activated)?,
        time_deactivated: ts("timeDeactivated", &item.time_deactivated)?,
        time_revoked: ts("timeRevoked", &item.time_revoked)?,
        time_last_used: ts("timeLastUsed", &item.time_last_used)?,
    })
}

impl ApiKey {
    /// Parses a key document, resolving `env:`/`file:` references against the process.
    pub fn from_json(text: &str) -> Result<ApiKey> {
        Self::from_json_with(text, &ProcessSource::default())
    }

    /// Reads and parses a key file; relative `file:` references are relative to its folder.
    pub fn load(path: impl AsRef<Path>) -> Result<ApiKey> {
        let path = path.as_ref();
        let mut text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_key(format!("cannot read {}: {}", path.display(), e.kind()))
        })?;
        let source = ProcessSource {
            base_dir: path.parent().map(Path::to_path_buf),
        };
        let out = Self::from_json_with(&text, &source);
        text.zeroize();
        out
    }

    /// Parses a key document with an explicit reference resolver.
    pub fn from_json_with(text: &str, source: &dyn SecretSource) -> Result<ApiKey> {
        if text.len() > MAX_KEY_DOCUMENT {
            return Err(Error::invalid_key(format!(
                "document of {} bytes exceeds the {MAX_KEY_DOCUMENT}-byte limit",
                text.len()
            )));
        }
        let raw: RawApiKey = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        if raw.keys.len() != 2 {
            return Err(Error::invalid_key(format!(
                "an API key holds exactly two secrets, found {}",
                raw.keys.len()
            )));
        }
        let one = item_to_secret(&raw.keys[0], source)?;
        let two = item_to_secret(&raw.keys[1], source)?;
        let mut key = ApiKey::new(one, two)?;
        key.region = raw
            .region
            .clone()
            .or_else(|| raw.id.as_deref().and_then(region_from_ocid));
        key.id = raw.id.clone();
        key.display_name = raw.display_name.clone();
        key.description = raw.description.clone();
        key.compartment_id = raw.compartment_id.clone();
        key.lifecycle_state = raw.lifecycle_state.clone();
        key.lifecycle_details = raw.lifecycle_details.clone();
        key.time_created = ts("timeCreated", &raw.time_created)?;
        key.time_updated = ts("timeUpdated", &raw.time_updated)?;
        key.freeform_tags = raw.freeform_tags.clone();
        key.defined_tags = raw.defined_tags.clone();
        key.system_tags = raw.system_tags.clone();
        Ok(key)
    }

    /// The key as OCI-shaped JSON without secret values (references are kept, `key` is
    /// otherwise omitted). Safe to log and to store.
    pub fn to_json(&self) -> String {
        self.to_json_inner(false)
    }

    /// The key as OCI-shaped JSON **including secret values**. Only for writing a key file
    /// that must carry its secrets (e.g. `twinkey emulate --init`).
    pub fn to_json_exposing_secrets(&self) -> String {
        self.to_json_inner(true)
    }

    fn to_json_inner(&self, expose: bool) -> String {
        let fmt = |t: Option<Timestamp>| t.map(Timestamp::to_rfc3339);
        let keys = self
            .secrets()
            .iter()
            .map(|s| RawItem {
                key_name: s.name.clone(),
                key_mask: s.key_mask.clone(),
                key: match (&s.reference, &s.value, expose) {
                    (_, Some(v), true) => Some(v.expose().to_string()),
                    (Some(r), _, _) => Some(r.clone()),
                    _ => None,
                },
                time_created: fmt(s.time_created),
                time_expiry: fmt(s.time_expiry),
                time_activated: fmt(s.time_activated),
                time_deactivated: fmt(s.time_deactivated),
                time_revoked: fmt(s.time_revoked),
                time_last_used: fmt(s.time_last_used),
                state: s.state.as_str().to_string(),
            })
            .collect();
        let derived_region = self.id.as_deref().and_then(region_from_ocid);
        let raw = RawApiKey {
            id: self.id.clone(),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            compartment_id: self.compartment_id.clone(),
            // Only written when it is not implied by the OCID.
            region: self
                .region
                .clone()
                .filter(|r| Some(r) != derived_region.as_ref()),
            time_created: fmt(self.time_created),
            time_updated: fmt(self.time_updated),
            keys,
            lifecycle_state: self.lifecycle_state.clone(),
            lifecycle_details: self.lifecycle_details.clone(),
            freeform_tags: self.freeform_tags.clone(),
            defined_tags: self.defined_tags.clone(),
            system_tags: self.system_tags.clone(),
        };
        serde_json::to_string_pretty(&raw).unwrap_or_else(|_| "{}".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Slot;
    use std::collections::HashMap;

    struct MapSource(HashMap<String, String>);
    impl SecretSource for MapSource {
        fn env(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
        fn read_file(&self, path: &Path) -> std::io::Result<String> {
            self.0
                .get(&format!("file:{}", path.display()))
                .cloned()
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        }
    }

    const CONTROL_PLANE: &str = r#"{
      "id": "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaaexample",
      "displayName": "prod-key",
      "compartmentId": "ocid1.compartment.oc1..aaaaexample",
      "timeCreated": "2026-01-21T10:00:00.000Z",
      "lifecycleState": "ACTIVE",
      "freeformTags": {"team": "ml"},
      "someFutureField": 42,
      "keys": [
        {"keyName": "key-one", "keyMask": "sk-...abcd", "timeCreated": "2026-01-21T10:00:00.000Z",
         "timeExpiry": "2026-04-21T10:00:00.000Z", "state": "ACTIVE"},
        {"keyName": "key-two", "keyMask": "sk-...wxyz", "timeCreated": "2026-01-21T10:00:00.000Z",
         "timeExpiry": "2026-04-21T10:00:00.000Z", "state": "INACTIVE"}
      ]
    }"#;

    #[test]
    fn control_plane_document_parses_as_is() {
        let k = ApiKey::from_json_with(CONTROL_PLANE, &NoSource).unwrap();
        assert_eq!(k.region.as_deref(), Some("us-chicago-1"));
        assert_eq!(k.secret(Slot::Two).state, SecretState::Inactive);
        assert!(k.secret(Slot::One).value.is_none());
        let out = k.to_json();
        let again = ApiKey::from_json_with(&out, &NoSource).unwrap();
        assert_eq!(again.to_json(), out);
        assert!(out.contains("\"keyMask\": \"sk-...abcd\""));
        assert!(out.contains("\"team\": \"ml\""));
    }

    #[test]
    fn references_resolve_and_are_written_back_not_the_values() {
        let doc = r#"{"keys":[{"keyName":"key-one","key":"env:K1","state":"ACTIVE"},
                              {"keyName":"key-two","key":"file:two.txt","state":"ACTIVE"}]}"#;
        let src = MapSource(HashMap::from([
            ("K1".to_string(), "sk-from-env".to_string()),
            ("file:two.txt".to_string(), "sk-from-file\n".to_string()),
        ]));
        let k = ApiKey::from_json_with(doc, &src).unwrap();
        assert_eq!(
            k.secret(Slot::One).value.as_ref().unwrap().expose(),
            "sk-from-env"
        );
        assert_eq!(
            k.secret(Slot::Two).value.as_ref().unwrap().expose(),
            "sk-from-file"
        );
        let out = k.to_json();
        assert!(out.contains("env:K1") && out.contains("file:two.txt"));
        assert!(!out.contains("sk-from"));
        assert!(k.to_json_exposing_secrets().contains("sk-from-env"));
    }

    #[test]
    fn inline_values_are_omitted_from_safe_output() {
        let doc = r#"{"keys":[{"keyName":"a","key":"sk-inline-1","state":"ACTIVE"},
                              {"keyName":"b","key":"sk-inline-2","state":"ACTIVE"}]}"#;
        let k = ApiKey::from_json_with(doc, &NoSource).unwrap();
        assert!(!k.to_json().contains("sk-inline"));
    }

    #[test]
    fn bad_documents_get_codes_and_never_echo_values() {
        let cases = [
            ("not json", "INVALID_KEY"),
            ("{", "INVALID_KEY"),
            (r#"{"keys": "sk-secret-in-wrong-place"}"#, "INVALID_KEY"),
            (r#"{"keys": []}"#, "INVALID_KEY"),
            (
                r#"{"keys":[{"keyName":"a","key":"sk-1","state":"ACTIVE"},{"keyName":"b","key":"sk-2","state":"ACTIVE"},{"keyName":"c","key":"sk-3","state":"ACTIVE"}]}"#,
                "INVALID_KEY",
            ),
            (
                r#"{"keys":[{"keyName":"a","key":"sk-1","state":"ACTIVE"},{"keyName":"a","key":"sk-2","state":"ACTIVE"}]}"#,
                "INVALID_KEY",
            ),
            (
                r#"{"keys":[{"keyName":"a","key":"","state":"ACTIVE"},{"keyName":"b","key":"sk-2","state":"ACTIVE"}]}"#,
                "INVALID_SECRET",
            ),
            (
                r#"{"keys":[{"keyName":"a","key":"sk-1","state":"ACTIVE","timeExpiry":"soon"},{"keyName":"b","key":"sk-2","state":"ACTIVE"}]}"#,
                "INVALID_KEY",
            ),
            (
                r#"{"keys":[{"keyName":"a","key":"env:NOPE","state":"ACTIVE"},{"keyName":"b","key":"sk-2","state":"ACTIVE"}]}"#,
                "SECRET_REF_UNRESOLVED",
            ),
            (
                r#"{"keys":[{"keyName":"a","key":"file:/nope","state":"ACTIVE"},{"keyName":"b","key":"sk-2","state":"ACTIVE"}]}"#,
                "SECRET_REF_UNRESOLVED",
            ),
            (
                r#"{"keys":[{"keyName":"a","keyName":"a2","key":"sk-1","state":"ACTIVE"},{"keyName":"b","key":"sk-2","state":"ACTIVE"}]}"#,
                "INVALID_KEY",
            ),
            (
                r#"{"keys":[{"keyName":"a","key":123,"state":"ACTIVE"},{"keyName":"b","key":"sk-2","state":"ACTIVE"}]}"#,
                "INVALID_KEY",
            ),
        ];
        for (doc, code) in cases {
            let e = ApiKey::from_json_with(doc, &NoSource).unwrap_err();
            assert_eq!(e.code(), code, "{doc} -> {e}");
            assert!(!e.to_string().contains("sk-"), "{e}");
        }
        let huge = format!(
            "{{\"keys\": [], \"pad\": \"{}\"}}",
            "x".repeat(MAX_KEY_DOCUMENT)
        );
        assert_eq!(ApiKey::from_json(&huge).unwrap_err().code(), "INVALID_KEY");
    }
}
