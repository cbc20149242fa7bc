//! Control-plane documents: an `ApiKey` as OCI returns it. Every secret carries `keyMask`;
//! the value (`key`) appears only in the answers of CreateApiKey (both) and RenewApiKey (the
//! renewed one).

use serde_json::{Map, Value};
use twinkey::ApiKey;

/// `sk-...` and the value's last four characters (the value itself never leaves otherwise).
pub fn mask(value: &str) -> String {
    let tail: String = value
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("sk-...{tail}")
}

/// The key as a control-plane document; secrets named in `reveal` carry their value.
pub fn api_key(key: &ApiKey, reveal: &[&str]) -> Value {
    let mut doc: Value = serde_json::from_str(&key.to_json()).unwrap_or(Value::Null);
    let Some(obj) = doc.as_object_mut() else {
        return Value::Null;
    };
    obj.remove("region");
    for field in ["freeformTags", "definedTags", "systemTags"] {
        obj.entry(field)
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Some(items) = obj.get_mut("keys").and_then(Value::as_array_mut) {
        for (item, secret) in items.iter_mut().zip(key.secrets()) {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            // A reference (env:/file:) of a seeded key is not a value: never shown.
            item.remove("key");
            if !item.contains_key("keyMask") {
                let m = secret
                    .value
                    .as_ref()
                    .map_or_else(|| "sk-...".to_string(), |v| mask(v.expose()));
                item.insert("keyMask".into(), Value::String(m));
            }
            if reveal.contains(&secret.name.as_str())
                && let Some(v) = &secret.value
            {
                item.insert("key".into(), Value::String(v.expose().to_string()));
            }
        }
    }
    doc
}
