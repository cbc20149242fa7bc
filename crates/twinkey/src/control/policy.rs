//! Least-privilege IAM policy statements for an API key (reference `oci.md` 1.8).
//!
//! API-key callers are principals of type `generativeaiapikey`; a statement naming the key's
//! OCID (`request.principal.id`) lets exactly that key use the models, optionally only the
//! listed ones (`target.model.id`). Managing keys is a separate right on the resource type
//! `generative-ai-apikey`.

use std::fmt;

use crate::error::{Error, Result};

/// Where a policy applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PolicyScope {
    /// `in tenancy`.
    Tenancy,
    /// `in compartment <name>` (a name or a `parent:child` path), or `in compartment id
    /// <ocid>` when given an OCID.
    Compartment(String),
}

impl fmt::Display for PolicyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyScope::Tenancy => f.write_str("tenancy"),
            PolicyScope::Compartment(c) if c.starts_with("ocid1.") => {
                write!(f, "compartment id {c}")
            }
            PolicyScope::Compartment(c) => write!(f, "compartment {c}"),
        }
    }
}

fn invalid(reason: String) -> Error {
    Error::InvalidRequest { reason }
}

/// Letters, digits and the few punctuation marks OCIDs, names and model ids use; nothing that
/// could end a quoted string or a statement.
fn plain(what: &str, value: &str, extra: &[u8]) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 255
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b) || extra.contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what} {value:?} is not valid in a policy statement"
        )))
    }
}

fn check_scope(scope: &PolicyScope) -> Result<()> {
    match scope {
        PolicyScope::Tenancy => Ok(()),
        PolicyScope::Compartment(c) => plain("compartment", c, b":"),
    }
}

/// The statement that lets one API key call the models in `scope`, restricted to `models`
/// when the list is not empty:
///
/// ```text
/// allow any-user to use generative-ai-family in compartment id <c> where ALL {request.principal.type='generativeaiapikey', request.principal.id='<key OCID>', target.model.id in ('<model-1>', '<model-2>')}
/// ```
pub fn policy_statements(
    key_ocid: &str,
    scope: &PolicyScope,
    models: &[String],
) -> Result<Vec<String>> {
    if !key_ocid.starts_with("ocid1.generativeaiapikey.") {
        return Err(invalid(format!(
            "{key_ocid:?} is not an API key OCID (ocid1.generativeaiapikey....)"
        )));
    }
    plain("key OCID", key_ocid, b"")?;
    check_scope(scope)?;
    let mut conditions = vec![
        "request.principal.type='generativeaiapikey'".to_string(),
        format!("request.principal.id='{key_ocid}'"),
    ];
    if !models.is_empty() {
        for m in models {
            plain("model id", m, b":")?;
        }
        let list: Vec<String> = models.iter().map(|m| format!("'{m}'")).collect();
        conditions.push(format!("target.model.id in ({})", list.join(", ")));
    }
    Ok(vec![format!(
        "allow any-user to use generative-ai-family in {scope} where ALL {{{}}}",
        conditions.join(", ")
    )])
}

/// The statement that lets a group manage API keys (create, rotate, delete) in `scope`, and
/// nothing else of Generative AI.
pub fn manage_statement(group: &str, scope: &PolicyScope) -> Result<String> {
    plain("group", group, b"'/ ")?;
    if group.contains('\'') {
        return Err(invalid("a group name cannot contain a quote".into()));
    }
    check_scope(scope)?;
    let group = if group.contains(' ') || group.contains('/') {
        format!("'{group}'")
    } else {
        group.to_string()
    };
    Ok(format!(
        "allow group {group} to manage generative-ai-apikey in {scope}"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const KEY: &str = "ocid1.generativeaiapikey.oc1.us-chicago-1.amaaaaaaexample";

    #[test]
    fn per_key_statements() {
        let s = policy_statements(KEY, &PolicyScope::Tenancy, &[]).unwrap();
        assert_eq!(
            s,
            [format!(
                "allow any-user to use generative-ai-family in tenancy where ALL {{request.principal.type='generativeaiapikey', request.principal.id='{KEY}'}}"
            )]
        );
        let s = policy_statements(
            KEY,
            &PolicyScope::Compartment("ocid1.compartment.oc1..aaaa".into()),
            &["openai.gpt-oss-120b".into(), "xai.grok-3".into()],
        )
        .unwrap();
        assert!(s[0].contains("in compartment id ocid1.compartment.oc1..aaaa where"));
        assert!(s[0].ends_with("target.model.id in ('openai.gpt-oss-120b', 'xai.grok-3')}"));
        let s = policy_statements(KEY, &PolicyScope::Compartment("ml:prod".into()), &[]).unwrap();
        assert!(s[0].contains("in compartment ml:prod where"));
        assert_eq!(
            manage_statement("key admins", &PolicyScope::Tenancy).unwrap(),
            "allow group 'key admins' to manage generative-ai-apikey in tenancy"
        );
    }

    #[test]
    fn injection_is_refused() {
        for (key, scope, model) in [
            ("ocid1.user.oc1..x", "c", "m"),
            (KEY, "c' where x", "m"),
            (KEY, "c", "m') allow"),
            (KEY, "", "m"),
        ] {
            let e = policy_statements(
                key,
                &PolicyScope::Compartment(scope.into()),
                &[model.to_string()],
            )
            .unwrap_err();
            assert_eq!(e.code(), "INVALID_REQUEST");
        }
        assert!(manage_statement("a'b", &PolicyScope::Tenancy).is_err());
    }
}
