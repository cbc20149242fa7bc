//! Fleets: the engines of several processes on one key share what they learn about its
//! secrets through Redis (or Valkey), so that a secret rejected in one process cools down in
//! all of them before they send with it.
//!
//! Off the request path: the engine decides from local state only; a task of its own mirrors
//! the engine's rejections and recoveries to Redis and applies the others' (what a message
//! means is decided by the core, [`twinkey::Engine::apply_fleet`]). When Redis is down or
//! slow the engine goes on with what it knows, the task logs one warning, keeps what it could
//! not send, and sends it and re-reads the others' state when Redis is back.
//!
//! In Redis, under the prefix (default `twinkey`):
//! - `<prefix>:<key OCID>:fleet` — the pub/sub channel; every message is a
//!   [`twinkey::fleet::FleetMessage`] in JSON;
//! - `<prefix>:<key OCID>:<fingerprint>:rejected` — the latest rejection of that value, the
//!   message itself, expiring when its cooldown ends (extended by a later one, never
//!   shortened; deleted by a recovery). Read at every (re)connection and every
//!   `resync_interval`, so a message missed on the channel is not lost;
//! - `<prefix>:<key OCID>:<fingerprint>:retiring` — a rotation's notice that the value is
//!   being retired (see [`announce`]), kept and re-read the same way;
//! - `<prefix>:<key OCID>:budget:{leases,held,seq}` — the shared tokens-per-minute budget
//!   (see [`budget`]'s module docs), when the engine has a key-wide limit;
//! - `<prefix>:<key OCID>:usage` — the fleet's usage totals (see [`usage`]'s module docs).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use twinkey::fleet::{FleetEvent, FleetMessage, FleetOutcome};
use twinkey::{Engine, Error, Event, Result, SubscriptionId};

use crate::transport::shown_url;

mod budget;
mod usage;

pub use usage::{MAX_FIELDS, read_fleet_usage};

/// Extends a rejection's key, never shortens it, with the server's clock; then publishes.
/// KEYS[1] the state key; ARGV[1] the message; ARGV[2] its cooldown end (ms since the epoch,
/// sender's clock); ARGV[3] the sender's now (ms); ARGV[4] the channel.
const EXTEND: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2]) - tonumber(ARGV[3])
if ttl <= 0 then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < ttl then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
end
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1
";

static EXTEND_SCRIPT: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(EXTEND));

/// `<prefix>:<key OCID>:<fingerprint>:<kind>` (`rejected`, `retiring`).
fn state_key(prefix: &str, key_id: &str, fingerprint: &str, kind: &str) -> String {
    format!("{prefix}:{key_id}:{fingerprint}:{kind}")
}

/// Keeps `text` at `key` until `until` (never shortening what is there) and publishes it.
async fn extend(
    conn: &mut impl redis::aio::ConnectionLike,
    key: &str,
    text: &str,
    until: twinkey::Timestamp,
    channel: &str,
) -> redis::RedisResult<i64> {
    let now = twinkey::Clock::now(&twinkey::SystemClock).as_millis();
    let mut inv = EXTEND_SCRIPT.key(key);
    inv.arg(text).arg(until.as_millis()).arg(now).arg(channel);
    inv.invoke_async::<i64>(conn).await
}

/// Tells the fleet of `message.key_id` one message, once, without joining it (a rotation
/// runner's retiring notice): kept in Redis until the message's `until` and published.
/// `TRANSPORT` when Redis does not answer within `op_timeout` (or 5 s, if longer);
/// `INVALID_OPTIONS` for a bad URL or a recovery (which has no `until`).
pub async fn announce(options: &FleetOptions, message: &FleetMessage) -> Result<()> {
    let (kind, until) = match message.event {
        FleetEvent::Rejected { until, .. } => ("rejected", until),
        FleetEvent::Retiring { until, .. } => ("retiring", until),
        FleetEvent::Recovered => {
            return Err(Error::InvalidOptions {
                reason: "fleet: only a rejection or a retiring notice can be announced".into(),
            });
        }
    };
    let client = redis_client(options)?;
    let shown = shown_url(&options.url);
    let key = state_key(&options.prefix, &message.key_id, &message.fingerprint, kind);
    let channel = format!("{}:{}:fleet", options.prefix, message.key_id);
    let work = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        extend(&mut conn, &key, &message.to_json(), until, &channel).await
    };
    let limit = options.op_timeout.max(Duration::from_secs(5));
    match tokio::time::timeout(limit, work).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Error::Transport {
            reason: format!("fleet {shown}: {e}"),
        }),
        Err(_) => Err(Error::Transport {
            reason: format!("fleet {shown}: timed out"),
        }),
    }
}

/// How a process joins a fleet.
#[derive(Clone)]
pub struct FleetOptions {
    /// `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS (Valkey alike).
    pub url: String,
    /// A PEM file of the CA(s) a `rediss://` server's certificate must chain to, instead of
    /// the system's roots.
    pub ca_file: Option<std::path::PathBuf>,
    /// Prefix of every Redis key and channel.
    pub prefix: String,
    /// This process's name in the fleet (default: host, process id and a random suffix).
    pub origin: Option<String>,
    /// Limit on each Redis operation; past it the task goes on without (default 50 ms).
    pub op_timeout: Duration,
    /// How often the shared state is re-read (a backstop for missed messages; default 1 s).
    pub resync_interval: Duration,
    /// Tokens leased at a time from the fleet's shared budget, when the engine has a
    /// key-wide tokens-per-minute limit (default: a tenth of it; `Some(0)`: do not share the
    /// budget, each process keeps its own).
    pub budget_slice: Option<u64>,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            url: "redis://127.0.0.1:6379".into(),
            ca_file: None,
            prefix: "twinkey".into(),
            origin: None,
            op_timeout: Duration::from_millis(50),
            resync_interval: Duration::from_secs(1),
            budget_slice: None,
        }
    }
}

impl std::fmt::Debug for FleetOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetOptions")
            .field("url", &shown_url(&self.url))
            .field("ca_file", &self.ca_file)
            .field("prefix", &self.prefix)
            .field("origin", &self.origin)
            .field("op_timeout", &self.op_timeout)
            .field("resync_interval", &self.resync_interval)
            .field("budget_slice", &self.budget_slice)
            .finish()
    }
}

/// The JSON shape bindings pass (`url`, `prefix`, `origin`, `opTimeoutMs`,
/// `resyncIntervalMs`, `budgetSlice`).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawOptions {
    url: String,
    #[serde(default)]
    ca_file: Option<std::path::PathBuf>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    op_timeout_ms: Option<u64>,
    #[serde(default)]
    resync_interval_ms: Option<u64>,
    #[serde(default)]
    budget_slice: Option<u64>,
}

impl FleetOptions {
    /// Options from their JSON shape: `{"url": "redis://...", "caFile": "ca.pem", "prefix": "twinkey", "origin":
    /// "web-1", "opTimeoutMs": 50, "resyncIntervalMs": 1000, "budgetSlice": 6000}`, all but
    /// `url` optional (`null` = the default). `INVALID_OPTIONS` for an unknown field, a wrong
    /// type, an empty prefix or origin, an operation limit of 0 or above 10 s, a re-read
    /// interval under 10 ms or above an hour.
    pub fn from_json_value(value: &serde_json::Value) -> Result<FleetOptions> {
        let invalid = |reason: String| Error::InvalidOptions {
            reason: format!("fleet: {reason}"),
        };
        let raw = RawOptions::deserialize(value).map_err(|e| invalid(e.to_string()))?;
        let d = FleetOptions::default();
        let options = FleetOptions {
            url: raw.url,
            ca_file: raw.ca_file,
            prefix: raw.prefix.unwrap_or(d.prefix),
            origin: raw.origin,
            op_timeout: raw
                .op_timeout_ms
                .map_or(d.op_timeout, Duration::from_millis),
            resync_interval: raw
                .resync_interval_ms
                .map_or(d.resync_interval, Duration::from_millis),
            budget_slice: raw.budget_slice,
        };
        if options.prefix.is_empty() || options.prefix.contains(char::is_whitespace) {
            return Err(invalid("prefix must be a non-empty word".into()));
        }
        if options
            .origin
            .as_deref()
            .is_some_and(|o| o.is_empty() || o.chars().any(char::is_control) || o.len() > 200)
        {
            return Err(invalid(
                "origin must be 1 to 200 printable characters".into(),
            ));
        }
        if options.op_timeout.is_zero() || options.op_timeout > Duration::from_secs(10) {
            return Err(invalid("opTimeoutMs must be 1 to 10000".into()));
        }
        if options.resync_interval < Duration::from_millis(10)
            || options.resync_interval > Duration::from_secs(3600)
        {
            return Err(invalid("resyncIntervalMs must be 10 to 3600000".into()));
        }
        Ok(options)
    }
}

/// What the fleet link has done so far (`serde`: camelCase, as bindings hand it out).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetStats {
    /// Messages this process sent.
    pub sent: u64,
    /// Messages from others the engine applied.
    pub applied: u64,
    /// Messages from others the engine left (its own, stale, another key...).
    pub ignored: u64,
    /// Messages that were not fleet messages (logged, dropped).
    pub invalid: u64,
    /// Redis operations that failed or timed out.
    pub errors: u64,
    /// Whether the latest Redis operation worked.
    pub connected: bool,
    /// Tokens leased from the shared budget.
    pub leased: u64,
    /// Times the shared budget had nothing to lease.
    pub lease_refusals: u64,
    /// Unused tokens handed back to the shared budget.
    pub returned: u64,
    /// Whether the engine's budget spends leases (the shared budget answers).
    pub budget_shared: bool,
    /// Times this process's usage growth was added to the fleet's totals.
    pub usage_rounds: u64,
}

#[derive(Default)]
struct Shared {
    sent: AtomicU64,
    applied: AtomicU64,
    ignored: AtomicU64,
    invalid: AtomicU64,
    errors: AtomicU64,
    connected: std::sync::atomic::AtomicBool,
    warned: std::sync::atomic::AtomicBool,
    leased: AtomicU64,
    lease_refusals: AtomicU64,
    returned: AtomicU64,
    usage_rounds: AtomicU64,
    budget_attached: std::sync::atomic::AtomicBool,
}

/// A process's link to its fleet (the shared health store, budget and usage of the key);
/// [`RedisFleet::close`], [`RedisFleet::stop`] or dropping it leaves the fleet.
#[doc(alias = "RedisStore")]
pub struct RedisFleet {
    engine: Engine,
    subscription: SubscriptionId,
    origin: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The usage counters' task: [`RedisFleet::close`] lets it add its last growth.
    usage: Option<JoinHandle<()>>,
    op_timeout: Duration,
}

impl std::fmt::Debug for RedisFleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisFleet")
            .field("origin", &self.origin)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

fn default_origin() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let mut r = [0u8; 3];
    let _ = getrandom::fill(&mut r);
    let suffix: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!("{host}-{}-{suffix}", std::process::id())
}

struct Link {
    engine: Engine,
    client: redis::Client,
    options: FleetOptions,
    origin: String,
    channel: String,
    key_id: String,
    shared: Arc<Shared>,
    pool: budget::PoolKeys,
}

impl Link {
    fn state_key(&self, fingerprint: &str, kind: &str) -> String {
        state_key(&self.options.prefix, &self.key_id, fingerprint, kind)
    }

    fn failed(&self, what: &str, why: &dyn std::fmt::Display) {
        self.shared.errors.fetch_add(1, Ordering::Relaxed);
        self.shared.connected.store(false, Ordering::Relaxed);
        if !self.shared.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                redis = %shown_url(&self.options.url),
                "fleet: {what} failed ({why}); serving from local state until Redis answers"
            );
        }
    }

    fn worked(&self) {
        self.shared.connected.store(true, Ordering::Relaxed);
        if self.shared.warned.swap(false, Ordering::Relaxed) {
            tracing::info!(redis = %shown_url(&self.options.url), "fleet: Redis answers again");
        }
    }

    async fn timed<T>(
        &self,
        what: &str,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.options.op_timeout, f).await {
            Ok(Ok(v)) => {
                self.worked();
                Some(v)
            }
            Ok(Err(e)) => {
                self.failed(what, &e);
                None
            }
            Err(_) => {
                self.failed(what, &"timed out");
                None
            }
        }
    }

    fn receive(&self, payload: &[u8]) {
        match FleetMessage::from_json(payload) {
            Ok(m) => match self.engine.apply_fleet(&m, &self.origin) {
                FleetOutcome::Applied => {
                    self.shared.applied.fetch_add(1, Ordering::Relaxed);
                }
                FleetOutcome::Ignored(_) => {
                    self.shared.ignored.fetch_add(1, Ordering::Relaxed);
                }
            },
            Err(e) => {
                self.shared.invalid.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(code = e.code(), "fleet: dropped a message: {e}");
            }
        }
    }

    /// A connection manager that gives up on an operation after `op_timeout`.
    async fn connect(&self) -> Option<redis::aio::ConnectionManager> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.options.op_timeout))
            .set_response_timeout(Some(self.options.op_timeout))
            .set_number_of_retries(0);
        self.timed(
            "connecting",
            self.client.get_connection_manager_with_config(config),
        )
        .await
    }

    /// Sends one message; `false` if Redis did not take it.
    async fn send(&self, conn: &mut redis::aio::ConnectionManager, m: &FleetMessage) -> bool {
        let text = m.to_json();
        let key = self.state_key(&m.fingerprint, "rejected");
        let done = match &m.event {
            FleetEvent::Rejected { until, .. } | FleetEvent::Retiring { until, .. } => {
                let key = match m.event {
                    FleetEvent::Retiring { .. } => self.state_key(&m.fingerprint, "retiring"),
                    _ => key,
                };
                self.timed(
                    "sending a message",
                    extend(conn, &key, &text, *until, &self.channel),
                )
                .await
                .is_some()
            }
            FleetEvent::Recovered => {
                let mut pipe = redis::pipe();
                pipe.del(&key)
                    .ignore()
                    .publish(&self.channel, &text)
                    .ignore();
                self.timed("sending a recovery", pipe.query_async::<()>(conn))
                    .await
                    .is_some()
            }
        };
        if done {
            self.shared.sent.fetch_add(1, Ordering::Relaxed);
        }
        done
    }

    /// Re-reads the shared state of both secrets' current values.
    async fn resync(&self, conn: &mut redis::aio::ConnectionManager) {
        let key = self.engine.key();
        for s in key.secrets() {
            for kind in ["rejected", "retiring"] {
                let k = self.state_key(s.fingerprint(), kind);
                if let Some(v) = self
                    .timed(
                        "reading the shared state",
                        conn.get::<_, Option<Vec<u8>>>(&k),
                    )
                    .await
                    .flatten()
                {
                    self.receive(&v);
                }
            }
        }
    }

    /// Mirrors local events and re-reads the shared state, until stopped.
    async fn outbound(
        self: Arc<Self>,
        mut events: mpsc::Receiver<Event>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut conn: Option<redis::aio::ConnectionManager> = None;
        let mut pending: Vec<FleetMessage> = Vec::new();
        let mut tick = tokio::time::interval(self.options.resync_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                e = events.recv() => {
                    let Some(e) = e else { return };
                    if let Some(m) = self.engine.fleet_message(&e, &self.origin) {
                        // A newer message about the same value replaces one not sent yet.
                        pending.retain(|p| p.fingerprint != m.fingerprint);
                        pending.push(m);
                    }
                }
                _ = tick.tick() => {
                    if let Some(c) = conn.as_mut() {
                        self.resync(c).await;
                    }
                }
            }
            if conn.is_none() {
                conn = self.connect().await;
                if let Some(c) = conn.as_mut() {
                    self.resync(c).await;
                }
            }
            if let Some(c) = conn.as_mut() {
                let now = twinkey::Clock::now(&twinkey::SystemClock);
                let mut still = Vec::new();
                for m in pending.drain(..) {
                    let live = match &m.event {
                        FleetEvent::Rejected { until, .. } | FleetEvent::Retiring { until, .. } => {
                            *until > now
                        }
                        FleetEvent::Recovered => true,
                    };
                    if live && !self.send(c, &m).await {
                        still.push(m);
                    }
                }
                pending = still;
            }
        }
    }

    /// Listens on the channel, reconnecting with a back-off, until stopped.
    async fn inbound(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(50);
        loop {
            let subscribed = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub.subscribe(&self.channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            match tokio::time::timeout(
                self.options.op_timeout.max(Duration::from_millis(200)),
                subscribed,
            )
            .await
            {
                Ok(Ok(pubsub)) => {
                    self.worked();
                    backoff = Duration::from_millis(50);
                    let mut messages = pubsub.into_on_message();
                    loop {
                        tokio::select! {
                            _ = stop.changed() => return,
                            m = messages.next() => match m {
                                Some(m) => self.receive(m.get_payload_bytes()),
                                None => break, // connection lost
                            }
                        }
                    }
                }
                Ok(Err(e)) => self.failed("subscribing", &e),
                Err(_) => self.failed("subscribing", &"timed out"),
            }
            tokio::select! {
                _ = stop.changed() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }
}

/// A Redis client for `options.url` (`redis://`, `rediss://`, Valkey alike), trusting
/// `options.ca_file` for TLS when set; `INVALID_OPTIONS` otherwise.
pub(crate) fn redis_client(options: &FleetOptions) -> Result<redis::Client> {
    let invalid = |reason: String| Error::InvalidOptions { reason };
    let shown = shown_url(&options.url);
    let tls = ["rediss://", "valkeys://"]
        .iter()
        .any(|p| options.url.starts_with(p));
    if !(tls || options.url.starts_with("redis://") || options.url.starts_with("valkey://")) {
        return Err(invalid(format!(
            "fleet URL {shown}: must be a redis:// or rediss:// URL"
        )));
    }
    match &options.ca_file {
        None => redis::Client::open(options.url.as_str()),
        Some(_) if !tls => {
            return Err(invalid(format!(
                "fleet URL {shown}: a CA file needs a rediss:// URL"
            )));
        }
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| invalid(format!("fleet CA file {}: {e}", path.display())))?;
            let certs = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            };
            redis::Client::build_with_tls(options.url.as_str(), certs)
        }
    }
    .map_err(|e| invalid(format!("fleet URL {shown}: {e}")))
}

impl RedisFleet {
    /// Joins `engine` to the fleet of its key at `options.url` (call within a Tokio runtime).
    /// Returns at once: connecting happens in the background, and until it does (or whenever
    /// Redis is away) the engine runs on local state. `INVALID_OPTIONS` for a URL that is not
    /// a `redis://` URL, a key without an OCID, or no runtime.
    pub fn start(engine: Engine, options: FleetOptions) -> Result<RedisFleet> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::InvalidOptions {
            reason: "a fleet must be started within a Tokio runtime".into(),
        })?;
        Self::start_on(&runtime, engine, options)
    }

    /// [`RedisFleet::start`] on the given runtime (a binding's own), from any thread.
    pub fn start_on(
        runtime: &tokio::runtime::Handle,
        engine: Engine,
        options: FleetOptions,
    ) -> Result<RedisFleet> {
        let invalid = |reason: String| Error::InvalidOptions { reason };
        let client = redis_client(&options)?;
        let key_id = engine
            .key()
            .id
            .ok_or_else(|| invalid("a fleet needs a key with an OCID (its id)".into()))?;
        let origin = options.origin.clone().unwrap_or_else(default_origin);
        let shared = Arc::new(Shared::default());
        let slice = match (options.budget_slice, engine.budget()) {
            (Some(0), _) | (_, None) => None,
            (Some(n), Some(b)) => b.attach_fleet(n).map(|_| Some(n))?,
            (None, Some(b)) => b.default_slice(),
        };
        if let (Some(b), Some(_)) = (engine.budget(), slice) {
            // Until the first lease comes, the local window decides.
            b.detach_fleet();
        }
        let link = Arc::new(Link {
            pool: budget::PoolKeys::new(&options.prefix, &key_id),
            engine: engine.clone(),
            client,
            channel: format!("{}:{key_id}:fleet", options.prefix),
            key_id,
            options,
            origin: origin.clone(),
            shared: shared.clone(),
        });
        let (tx, rx) = mpsc::channel::<Event>(1024);
        // The subscriber only queues (never blocks the request that raised the event).
        let subscription = engine.subscribe(move |e| {
            if matches!(
                e.kind,
                twinkey::EventKind::SecretRejected | twinkey::EventKind::SecretRecovered
            ) && e.origin.is_none()
            {
                let _ = tx.try_send(e.clone());
            }
        });
        let (stop, stopped) = watch::channel(false);
        let mut tasks = vec![
            runtime.spawn(link.clone().outbound(rx, stopped.clone())),
            runtime.spawn(link.clone().inbound(stopped.clone())),
        ];
        if let Some(slice) = slice {
            tasks.push(runtime.spawn(link.clone().budget_loop(slice, stopped.clone())));
        }
        let op_timeout = link.options.op_timeout;
        let usage = Some(runtime.spawn(link.usage_loop(stopped)));
        Ok(RedisFleet {
            engine,
            subscription,
            origin,
            shared,
            stop,
            tasks,
            usage,
            op_timeout,
        })
    }

    /// This process's name in the fleet.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// What the link has done so far.
    pub fn stats(&self) -> FleetStats {
        let s = &self.shared;
        FleetStats {
            sent: s.sent.load(Ordering::Relaxed),
            applied: s.applied.load(Ordering::Relaxed),
            ignored: s.ignored.load(Ordering::Relaxed),
            invalid: s.invalid.load(Ordering::Relaxed),
            errors: s.errors.load(Ordering::Relaxed),
            connected: s.connected.load(Ordering::Relaxed),
            leased: s.leased.load(Ordering::Relaxed),
            lease_refusals: s.lease_refusals.load(Ordering::Relaxed),
            returned: s.returned.load(Ordering::Relaxed),
            budget_shared: s.budget_attached.load(Ordering::Relaxed),
            usage_rounds: s.usage_rounds.load(Ordering::Relaxed),
        }
    }

    /// Leaves the fleet at once (what was not sent yet is dropped).
    pub fn stop(self) {
        drop(self);
    }

    /// Leaves the fleet after adding this process's last usage growth to the fleet's totals
    /// (waiting at most a few `op_timeout`s for Redis); messages not sent yet are dropped.
    pub async fn close(mut self) {
        let _ = self.stop.send(true);
        if let Some(usage) = self.usage.take() {
            let limit = self.op_timeout * 4 + Duration::from_millis(100);
            if tokio::time::timeout(limit, usage).await.is_err() {
                tracing::debug!("fleet: the last usage round did not finish in time");
            }
        }
    }
}

impl Drop for RedisFleet {
    fn drop(&mut self) {
        self.engine.unsubscribe(self.subscription);
        let _ = self.stop.send(true);
        for t in self.tasks.iter().chain(&self.usage) {
            t.abort();
        }
    }
}
