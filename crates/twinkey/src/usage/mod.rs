//! Token usage: what a request will probably cost ([`request_facts`]) and what its response
//! says it cost ([`usage_from_body`], [`StreamUsage`]).

mod estimate;
mod extract;
mod meter;
pub mod wire;

pub use estimate::{DEFAULT_OUTPUT_TOKENS, MAX_ESTIMATE_BODY, RequestFacts, request_facts};
pub use extract::{BodyFacts, Endpoint, MAX_USAGE_BODY, StreamUsage, Usage, usage_from_body};
pub use meter::{
    DURATION_BUCKETS, HISTORY_MINUTES, Histogram, Meter, MinuteTokens, Record, SHARDS,
    TOKEN_BUCKETS, UsageRow,
};
