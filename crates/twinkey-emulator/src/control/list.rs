//! ListApiKeys: filters, sort and pages.

use serde_json::Value;
use twinkey::control::encode::parse_query;
use twinkey::control::{SortBy, SortOrder};

use crate::oci_error::OciError;
use crate::store::StoredKey;

/// Default and largest page size.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// The lifecycle states OCI defines for an API key.
const LIFECYCLE_STATES: [&str; 7] = [
    "CREATING", "ACTIVE", "INACTIVE", "UPDATING", "DELETING", "DELETED", "FAILED",
];

/// A parsed ListApiKeys query.
#[derive(Debug)]
pub(crate) struct Query {
    compartment_id: String,
    lifecycle_state: Option<String>,
    display_name: Option<String>,
    id: Option<String>,
    limit: usize,
    offset: usize,
    sort_by: SortBy,
    sort_order: SortOrder,
}

fn bad(name: &str, why: &str) -> OciError {
    OciError::invalid_parameter(format!("Query parameter `{name}` {why}."))
}

impl Query {
    /// Parses the query string (`None`: no query at all).
    pub fn parse(query: Option<&str>) -> Result<Query, OciError> {
        let pairs = parse_query(query.unwrap_or(""))
            .ok_or_else(|| OciError::invalid_parameter("The query string is malformed."))?;
        let mut q = Query {
            compartment_id: String::new(),
            lifecycle_state: None,
            display_name: None,
            id: None,
            limit: DEFAULT_LIMIT,
            offset: 0,
            sort_by: SortBy::TimeCreated,
            sort_order: SortOrder::Desc,
        };
        let mut compartment = None;
        let mut order = None;
        for (name, value) in pairs {
            match name.as_str() {
                "compartmentId" => compartment = Some(value),
                "lifecycleState" => {
                    if !LIFECYCLE_STATES.contains(&value.as_str()) {
                        return Err(bad(
                            &name,
                            &format!("must be one of {}", LIFECYCLE_STATES.join(", ")),
                        ));
                    }
                    q.lifecycle_state = Some(value);
                }
                "displayName" => q.display_name = Some(value),
                "id" => q.id = Some(value),
                "limit" => {
                    q.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|l| (1..=MAX_LIMIT).contains(l))
                        .ok_or_else(|| {
                            bad(&name, &format!("must be an integer from 1 to {MAX_LIMIT}"))
                        })?;
                }
                "page" => {
                    q.offset = value
                        .strip_prefix("page-")
                        .and_then(|n| n.parse::<usize>().ok())
                        .ok_or_else(|| bad(&name, "is not a page token of this list"))?;
                }
                "sortBy" => {
                    q.sort_by = SortBy::parse(&value)
                        .ok_or_else(|| bad(&name, "must be displayName or timeCreated"))?;
                }
                "sortOrder" => {
                    order = Some(
                        SortOrder::parse(&value)
                            .ok_or_else(|| bad(&name, "must be ASC or DESC"))?,
                    );
                }
                _ => {}
            }
        }
        q.compartment_id = compartment.filter(|c| !c.is_empty()).ok_or_else(|| {
            OciError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "MissingParameter",
                "Query parameter `compartmentId` is required.",
            )
        })?;
        q.sort_order = order.unwrap_or(q.sort_by.default_order());
        Ok(q)
    }

    /// The page of matching keys and the next page token.
    pub fn page(&self, keys: Vec<StoredKey>) -> (Vec<StoredKey>, Option<String>) {
        let mut matching: Vec<StoredKey> = keys
            .into_iter()
            .filter(|s| {
                let k = &s.key;
                let state = k.lifecycle_state.as_deref().unwrap_or("ACTIVE");
                k.compartment_id.as_deref() == Some(self.compartment_id.as_str())
                    && match &self.lifecycle_state {
                        Some(want) => state == want,
                        None => state != "DELETED",
                    }
                    && self
                        .display_name
                        .as_ref()
                        .is_none_or(|d| k.display_name.as_ref() == Some(d))
                    && self.id.as_ref().is_none_or(|id| s.id() == id)
            })
            .collect();
        matching.sort_by(|a, b| {
            let ord = match self.sort_by {
                SortBy::TimeCreated => a.key.time_created.cmp(&b.key.time_created),
                SortBy::DisplayName => a.key.display_name.cmp(&b.key.display_name),
            }
            .then_with(|| a.id().cmp(b.id()));
            match self.sort_order {
                SortOrder::Asc => ord,
                SortOrder::Desc => ord.reverse(),
            }
        });
        let total = matching.len();
        let page: Vec<StoredKey> = matching
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        let end = self.offset.saturating_add(self.limit);
        let next = (end < total).then(|| format!("page-{end}"));
        (page, next)
    }
}

/// `{"items": [...]}`.
pub(crate) fn collection(items: Vec<Value>) -> Value {
    serde_json::json!({ "items": items })
}
