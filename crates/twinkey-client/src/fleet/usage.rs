//! The fleet's shared usage counters, the Redis side: every `resync_interval` this process
//! adds its growth to the key's hash (`HINCRBY` in one `MULTI`) and reads the hash back for
//! the engine's [`twinkey::Engine::usage`] and metrics. What the fields mean, and what to add,
//! is the core's ([`twinkey::fleet::usage`]).
//!
//! In Redis: `<prefix>:<key OCID>:usage`, a hash with no expiry (delete it to start the
//! totals again). Growth that Redis did not take is sent with the next round; an answer lost
//! to a timeout after Redis applied it is sent again (counts are at least once).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::watch;
use twinkey::fleet::usage::{FleetUsage, UsageTally, parse_usage, usage_fields};
use twinkey::{Error, Result, Timestamp};

use super::{FleetOptions, Link, redis_client};

/// The most fields read back (a larger hash is not read: someone filled it).
pub const MAX_FIELDS: usize = 10_000;

/// The key of the usage hash.
pub(super) fn usage_key(prefix: &str, key_id: &str) -> String {
    format!("{prefix}:{key_id}:usage")
}

/// Reads the hash at `key` into the fleet's totals; `None` when Redis did not answer or the
/// hash is larger than [`MAX_FIELDS`].
async fn read(
    conn: &mut impl redis::aio::ConnectionLike,
    key: &str,
    at: Timestamp,
) -> redis::RedisResult<Option<FleetUsage>> {
    let len: usize = redis::cmd("HLEN").arg(key).query_async(conn).await?;
    if len > MAX_FIELDS {
        return Ok(None);
    }
    let all: Vec<(Vec<u8>, Vec<u8>)> = redis::cmd("HGETALL").arg(key).query_async(conn).await?;
    let text: Vec<(String, String)> = all
        .into_iter()
        .map(|(f, v)| {
            (
                String::from_utf8_lossy(&f).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect();
    Ok(Some(parse_usage(
        text.iter().map(|(f, v)| (f.as_str(), v.as_str())),
        at,
    )))
}

impl Link {
    /// Adds this process's growth and reads the totals back, every `resync_interval`; when
    /// stopped, adds what grew since the last round (within `op_timeout`) and ends.
    pub(super) async fn usage_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let key = usage_key(&self.options.prefix, &self.key_id);
        let mut tally = UsageTally::new();
        let mut conn: Option<redis::aio::ConnectionManager> = None;
        let mut tick = tokio::time::interval(self.options.resync_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let last = tokio::select! {
                _ = stop.changed() => true,
                _ = tick.tick() => false,
            };
            if conn.is_none() {
                conn = self.connect().await;
            }
            if let Some(c) = conn.as_mut() {
                self.add_growth(c, &key, &mut tally).await;
                if last {
                    return;
                }
                let now = self.engine.now();
                if let Some(Some(usage)) = self.timed("reading usage", read(c, &key, now)).await {
                    self.engine.set_fleet_usage(usage);
                }
            }
            if last {
                return;
            }
        }
    }

    /// Adds what this process's usage grew by since the last round that Redis took.
    async fn add_growth(
        &self,
        conn: &mut redis::aio::ConnectionManager,
        key: &str,
        tally: &mut UsageTally,
    ) {
        let increments = tally.increments(&usage_fields(&self.engine.usage()));
        if increments.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (field, n) in &increments {
            pipe.hincr(key, field, *n).ignore();
        }
        if self
            .timed("adding usage", pipe.query_async::<()>(conn))
            .await
            .is_some()
        {
            tally.sent(&increments);
            self.shared.usage_rounds.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The fleet's usage totals for `key_id`, read once (`twinkey usage --redis`).
/// `TRANSPORT` when Redis does not answer within the options' `op_timeout` (or 5 s, if that is
/// longer), `INVALID_OPTIONS` for a bad URL or a hash larger than [`MAX_FIELDS`].
pub async fn read_fleet_usage(options: &FleetOptions, key_id: &str) -> Result<FleetUsage> {
    let client = redis_client(options)?;
    let shown = crate::transport::shown_url(&options.url);
    let limit = options.op_timeout.max(std::time::Duration::from_secs(5));
    let transport = |reason: String| Error::Transport {
        reason: format!("fleet {shown}: {reason}"),
    };
    let work = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        let now = twinkey::Clock::now(&twinkey::SystemClock);
        read(&mut conn, &usage_key(&options.prefix, key_id), now).await
    };
    match tokio::time::timeout(limit, work).await {
        Err(_) => Err(transport("timed out".into())),
        Ok(Err(e)) => Err(transport(e.to_string())),
        Ok(Ok(None)) => Err(Error::InvalidOptions {
            reason: format!("fleet {shown}: the usage hash has more than {MAX_FIELDS} fields"),
        }),
        Ok(Ok(Some(u))) => Ok(u),
    }
}
