//! JSON parsing that refuses duplicate member names at any depth (RFC 8725 section 3.11 leaves
//! duplicates to the parser; RFC 7515 section 5.2 lets a JWS parser reject them, and twinkey
//! does, so a header or claim can never mean two things).

use std::fmt;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses `bytes` as one JSON value, refusing duplicate member names. `Err` carries a short
/// description (no input echoed).
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = UniqueValue.deserialize(&mut de).map_err(|e| describe(&e))?;
    de.end().map_err(|e| describe(&e))?;
    Ok(value)
}

pub(crate) fn describe(e: &serde_json::Error) -> String {
    // serde_json's messages quote at most a member name, never the whole input; keep the
    // category and position only.
    let what = match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "invalid JSON member",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    let msg = e.to_string();
    if msg.starts_with("duplicate member") || msg.starts_with("duplicate field") {
        format!("duplicate JSON member (column {})", e.column())
    } else {
        format!("{what} (column {})", e.column())
    }
}

struct UniqueValue;

impl<'de> DeserializeSeed<'de> for UniqueValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(UniqueValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom("duplicate member"));
            }
            let value = map.next_value_seed(UniqueValue)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_json_and_refuses_duplicates_at_any_depth() {
        let v = parse(br#"{"a":1,"b":{"c":[1,{"d":true}]}}"#).unwrap();
        assert_eq!(v["b"]["c"][1]["d"], Value::Bool(true));
        let e = parse(br#"{"a":1,"a":2}"#).unwrap_err();
        assert!(e.starts_with("duplicate JSON member"), "{e}");
        let e = parse(br#"{"x":{"a":1,"a":1}}"#).unwrap_err();
        assert!(e.starts_with("duplicate JSON member"), "{e}");
        // Escaped spellings of the same name are the same member.
        assert!(parse(br#"{"a":1,"\u0061":2}"#).is_err());
    }

    #[test]
    fn refuses_trailing_data_and_bad_syntax_without_echoing_input() {
        for bad in [&br#"{"a":1} x"#[..], b"{", b"", br#"{"secret-ish": }"#] {
            let e = parse(bad).unwrap_err();
            assert!(!e.contains("secret-ish"), "{e}");
        }
    }
}
