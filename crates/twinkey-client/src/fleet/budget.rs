//! The fleet's shared tokens-per-minute budget, the Redis side: a pool of leases on the key's
//! limit, granted and taken back by two Lua scripts on the server's clock. What to ask for,
//! what a request may spend and what goes back is the core's ([`twinkey::budget::Budget`]'s
//! lease book); this task only carries it, every [`TICK`], off the request path.
//!
//! In Redis, under `<prefix>:<key OCID>:budget:`:
//! - `leases` — a sorted set of lease ids (`<n>@<origin>`), scored by when the pool frees
//!   them (ms since the epoch, server clock);
//! - `held` — a hash of lease id → tokens, and `total` → their sum;
//! - `seq` — the counter lease ids are numbered from.
//!
//! Both keys of the pool expire [`LEASE_HOLD`] after the latest grant.

use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::watch;
use twinkey::budget::{KEEP_SECONDS, LEASE_HOLD, LeaseReturn};

use super::Link;

/// How often the lease book is looked at (no Redis call unless it wants one).
pub(super) const TICK: Duration = Duration::from_millis(20);
/// How often a detached process tries to lease again.
const RETRY: Duration = Duration::from_millis(250);

/// Frees what no longer counts, then grants `min(wanted, limit - total)` (a request larger
/// than the limit gets it alone, from an empty pool). KEYS: leases, held, seq. ARGV: limit,
/// wanted, hold (ms), origin. Answers `{id, tokens, 0}` or `{'', 0, ms until the first lease
/// frees}`.
const LEASE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local total = tonumber(redis.call('HGET', KEYS[2], 'total')) or 0
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(gone) do
  total = total - (tonumber(redis.call('HGET', KEYS[2], id)) or 0)
  redis.call('HDEL', KEYS[2], id)
end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
if total < 0 or redis.call('ZCARD', KEYS[1]) == 0 then total = 0 end
local limit = tonumber(ARGV[1])
local wanted = tonumber(ARGV[2])
local grant = math.min(wanted, limit - total)
if total == 0 then grant = wanted end
if grant <= 0 then
  redis.call('HSET', KEYS[2], 'total', total)
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = 1000
  if first[2] then wait = math.max(1, tonumber(first[2]) - now) end
  return {'', 0, wait}
end
local id = redis.call('INCR', KEYS[3]) .. '@' .. ARGV[4]
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), id)
redis.call('HSET', KEYS[2], id, grant, 'total', total + grant)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return {id, grant, 0}
";

/// Takes a lease back: its unused tokens are freed at once; the spent ones a window after
/// they were last spent, when that is sooner than the hold. KEYS: leases, held. ARGV: id,
/// unused, ms since last spent (-1: never), the window (ms).
const RETURN: &str = r"
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]))
if not held then return 0 end
local unused = math.min(tonumber(ARGV[2]), held)
local left = held - unused
local total = (tonumber(redis.call('HGET', KEYS[2], 'total')) or held) - unused
if total < 0 then total = 0 end
if left <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[2], ARGV[1], left)
  local ago = tonumber(ARGV[3])
  if ago >= 0 then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local free = now - ago + tonumber(ARGV[4])
    local score = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
    if score and free < score then redis.call('ZADD', KEYS[1], free, ARGV[1]) end
  end
end
redis.call('HSET', KEYS[2], 'total', total)
return 1
";

static LEASE_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(LEASE));
static RETURN_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(RETURN));

/// The names of the pool's keys.
pub(super) struct PoolKeys {
    leases: String,
    held: String,
    seq: String,
}

impl PoolKeys {
    pub(super) fn new(prefix: &str, key_id: &str) -> Self {
        let base = format!("{prefix}:{key_id}:budget");
        PoolKeys {
            leases: format!("{base}:leases"),
            held: format!("{base}:held"),
            seq: format!("{base}:seq"),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What the pool answered: a lease `(id, tokens)`, or nothing left until `retry_after`.
enum Answer {
    Lease(String, u64),
    Refused(Duration),
}

impl Link {
    /// Asks the pool for `wanted` tokens; `None` when Redis did not answer.
    async fn lease(
        &self,
        conn: &mut redis::aio::ConnectionManager,
        limit: u64,
        wanted: u64,
    ) -> Option<Answer> {
        let keys = &self.pool;
        let mut inv = LEASE_SCRIPT.key(&keys.leases);
        inv.key(&keys.held)
            .key(&keys.seq)
            .arg(limit)
            .arg(wanted)
            .arg(millis(LEASE_HOLD))
            .arg(&self.origin);
        let (id, tokens, wait): (String, u64, u64) =
            self.timed("leasing budget", inv.invoke_async(conn)).await?;
        Some(if tokens > 0 {
            self.shared.leased.fetch_add(tokens, Ordering::Relaxed);
            Answer::Lease(id, tokens)
        } else {
            self.shared.lease_refusals.fetch_add(1, Ordering::Relaxed);
            Answer::Refused(Duration::from_millis(wait))
        })
    }

    /// Hands a lease back (a lease Redis does not take back expires there by itself).
    async fn give_back(&self, conn: &mut redis::aio::ConnectionManager, r: &LeaseReturn) {
        let keys = &self.pool;
        let ago = r
            .last_spent_ago
            .map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let mut inv = RETURN_SCRIPT.key(&keys.leases);
        inv.key(&keys.held)
            .arg(&r.id)
            .arg(r.unused)
            .arg(ago)
            .arg(KEEP_SECONDS * 1000);
        if self
            .timed("returning a lease", inv.invoke_async::<i64>(conn))
            .await
            .is_some()
        {
            self.shared.returned.fetch_add(r.unused, Ordering::Relaxed);
        }
    }

    /// Leases and returns budget for the engine until stopped. The budget spends leases
    /// only while Redis answers: a failed call detaches it (the local window alone decides),
    /// and a detached process tries a lease every [`RETRY`], attaching again when one comes.
    pub(super) async fn budget_loop(self: Arc<Self>, slice: u64, mut stop: watch::Receiver<bool>) {
        let Some(budget) = self.engine.budget() else {
            return;
        };
        let Some(limit) = budget.options().tokens_per_minute else {
            return;
        };
        let mut conn: Option<redis::aio::ConnectionManager> = None;
        let mut attached = false;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut next_try = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = tick.tick() => {}
            }
            if !attached {
                if tokio::time::Instant::now() < next_try {
                    continue;
                }
                next_try = tokio::time::Instant::now() + RETRY;
            }
            if conn.is_none() {
                conn = self.connect().await;
            }
            let Some(c) = conn.as_mut() else { continue };
            let wanted = if attached {
                budget.lease_wanted(self.engine.now())
            } else {
                Some(slice)
            };
            if let Some(w) = wanted {
                let answer = self.lease(c, limit, w).await;
                let now = self.engine.now();
                match answer {
                    None => {
                        if attached {
                            budget.detach_fleet();
                            attached = false;
                            self.shared.budget_attached.store(false, Ordering::Relaxed);
                        }
                        continue;
                    }
                    Some(a) => {
                        if !attached {
                            if budget.attach_fleet(slice).is_err() {
                                return;
                            }
                            attached = true;
                            self.shared.budget_attached.store(true, Ordering::Relaxed);
                        }
                        match a {
                            Answer::Lease(id, tokens) => budget.lease_granted(now, id, tokens),
                            Answer::Refused(wait) => budget.lease_refused(now, wait),
                        }
                    }
                }
            }
            for r in budget.lease_returns(self.engine.now()) {
                self.give_back(c, &r).await;
            }
        }
    }
}
