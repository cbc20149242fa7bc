//! Token usage: what a request will probably cost ([`request_facts`]) and what its response
//! says it cost ([`usage_from_body`], [`StreamUsage`]).

mod estimate;
mod extract;

pub use estimate::{DEFAULT_OUTPUT_TOKENS, MAX_ESTIMATE_BODY, RequestFacts, request_facts};
pub use extract::{BodyFacts, Endpoint, MAX_USAGE_BODY, StreamUsage, Usage, usage_from_body};
