//! The shared store (`REDIS_URL`): the same rules as the in-process store, evaluated inside
//! Redis by Lua scripts so that check-and-count is atomic across every instance, on Redis's
//! clock, in integer microseconds (exact in Lua's doubles). One multiplexed connection that
//! reconnects by itself. Every call has a short deadline; after a failure Redis is left
//! alone for a few seconds, and meanwhile the caller uses the in-process store, so an
//! outage costs a request at most one deadline.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::rules::{Decision, Rule, RuleKind};
use super::{Penalty, Verdict};

/// A rate-limit decision must not hold a request up: past this, the local store decides.
const DEADLINE: Duration = Duration::from_millis(100);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failed call, how long to decide locally before asking Redis again.
const BACK_OFF: Duration = Duration::from_secs(5);
/// How often to try again while Redis has never been reached.
const CONNECT_RETRY: Duration = Duration::from_secs(5);

/// KEYS: the block key if ARGV[2] is '1', then one key per rule. ARGV: a unique member for
/// window logs, the block flag, then per rule its kind (`b` bucket, `w` window), limit,
/// period and GCRA interval (µs). Returns {0, remaining, wait_us, limit} when allowed (the
/// tightest rule), {1, 0, wait_us, limit} when refused (the longest wait among the rules
/// that refuse), {2, 0, wait_us, 0} when blocked.
const CHECK: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local first = 1
if ARGV[2] == '1' then
  local blocked = redis.call('PTTL', KEYS[1])
  if blocked > 0 then return {2, 0, blocked * 1000, 0} end
  first = 2
end
local best_remaining, best_wait, best_limit = -1, 0, 0
local refused, refused_wait, refused_limit = false, 0, 0
local writes = {}
for i = first, #KEYS do
  local base = 2 + (i - first) * 4
  local kind, limit = ARGV[base + 1], tonumber(ARGV[base + 2])
  local period, interval = tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
  local remaining, wait, ok
  if kind == 'b' then
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if tat < now then tat = now end
    local ahead = tat - now + interval
    ok = ahead <= period
    if ok then
      remaining = math.floor((period - ahead) / interval)
      wait = ahead
      writes[#writes + 1] = {'b', KEYS[i], now + ahead, math.ceil(ahead / 1000)}
    else
      wait = ahead - period
    end
  else
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', string.format('%.0f', now - period))
    local count = redis.call('ZCARD', KEYS[i])
    local oldest = now
    if count > 0 then oldest = tonumber(redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2]) end
    wait = oldest + period - now
    ok = count < limit
    if ok then
      remaining = limit - count - 1
      writes[#writes + 1] = {'w', KEYS[i], now, math.ceil(period / 1000)}
    end
  end
  if not ok then
    if not refused or wait > refused_wait then refused_wait, refused_limit = wait, limit end
    refused = true
  elseif best_remaining < 0 or remaining < best_remaining then
    best_remaining, best_wait, best_limit = remaining, wait, limit
  end
end
if refused then return {1, 0, refused_wait, refused_limit} end
for _, w in ipairs(writes) do
  if w[1] == 'b' then
    redis.call('SET', w[2], string.format('%.0f', w[3]), 'PX', w[4])
  else
    redis.call('ZADD', w[2], string.format('%.0f', w[3]), ARGV[1])
    redis.call('PEXPIRE', w[2], w[4])
  end
end
return {0, best_remaining, best_wait, best_limit}
";

/// KEYS: violations bucket, block key, strikes counter. ARGV: the violations bucket's
/// period and interval, the first and longest block, how long strikes are remembered (µs).
/// Returns the new block's length (µs), or 0 when this refusal does not block.
const STRIKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local ahead = tat - now + interval
if ahead <= period then
  redis.call('SET', KEYS[1], string.format('%.0f', now + ahead), 'PX', math.ceil(ahead / 1000))
  return 0
end
redis.call('DEL', KEYS[1])
local strikes = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], math.ceil(tonumber(ARGV[5]) / 1000))
local block = math.min(tonumber(ARGV[3]) * 2 ^ (strikes - 1), tonumber(ARGV[4]))
redis.call('SET', KEYS[2], '1', 'PX', math.ceil(block / 1000))
return block
";

#[derive(Clone)]
pub struct RedisStore {
    connection: Arc<RwLock<Option<ConnectionManager>>>,
    /// Until when to leave Redis alone after a failure.
    resting_until: Arc<Mutex<Option<Instant>>>,
    check: Arc<redis::Script>,
    strike: Arc<redis::Script>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects (one brief attempt); when Redis does not answer, keeps trying in the
    /// background, and until then calls answer `None` so the in-process store decides. The
    /// URL is never logged (it may carry a password).
    pub async fn connect(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL: {e}"))?;
        let store = Self {
            connection: Arc::default(),
            resting_until: Arc::default(),
            check: Arc::new(redis::Script::new(CHECK)),
            strike: Arc::new(redis::Script::new(STRIKE)),
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(DEADLINE)
            .set_number_of_retries(1)
            .set_max_delay(1_000);
        if store.try_connect(&client, &config).await {
            return Ok(store);
        }
        let retrying = store.clone();
        actix_web::rt::spawn(async move {
            loop {
                actix_web::rt::time::sleep(CONNECT_RETRY).await;
                if retrying.try_connect(&client, &config).await {
                    return;
                }
            }
        });
        Ok(store)
    }

    async fn try_connect(&self, client: &redis::Client, config: &ConnectionManagerConfig) -> bool {
        let attempt = ConnectionManager::new_with_config(client.clone(), config.clone());
        match actix_web::rt::time::timeout(CONNECT_TIMEOUT * 2, attempt).await {
            Ok(Ok(manager)) => {
                tracing::info!("rate limits are shared through Redis");
                match self.connection.write() {
                    Ok(mut guard) => *guard = Some(manager),
                    Err(poisoned) => *poisoned.into_inner() = Some(manager),
                }
                true
            }
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "cannot reach Redis; rate limits are per instance until it answers");
                false
            }
            Err(_) => {
                tracing::warn!(
                    "Redis did not answer in time; rate limits are per instance until it does"
                );
                false
            }
        }
    }

    /// The connection, unless there is none yet or Redis is resting after a failure.
    fn connection(&self) -> Option<ConnectionManager> {
        let resting = match self.resting_until.lock() {
            Ok(until) => *until,
            Err(poisoned) => *poisoned.into_inner(),
        };
        if resting.is_some_and(|until| Instant::now() < until) {
            return None;
        }
        match self.connection.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Runs a script within the deadline; a failure or a timeout rests Redis for a while.
    async fn call<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Option<T> {
        let mut connection = self.connection()?;
        let outcome =
            actix_web::rt::time::timeout(DEADLINE, invocation.invoke_async(&mut connection)).await;
        let error = match outcome {
            Ok(Ok(reply)) => return Some(reply),
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no answer within {} ms", DEADLINE.as_millis()),
        };
        tracing::warn!(error = %error, "Redis failed a rate-limit call; counting per instance for a few seconds");
        match self.resting_until.lock() {
            Ok(mut until) => *until = Some(Instant::now() + BACK_OFF),
            Err(poisoned) => *poisoned.into_inner() = Some(Instant::now() + BACK_OFF),
        }
        None
    }

    /// The shared verdict, or `None` when Redis is not reachable now.
    pub async fn check(
        &self,
        block_key: Option<&str>,
        checks: &[(String, Rule)],
        member: &str,
    ) -> Option<Verdict> {
        let mut invocation = self.check.prepare_invoke();
        invocation
            .arg(member)
            .arg(if block_key.is_some() { "1" } else { "0" });
        if let Some(key) = block_key {
            invocation.key(key);
        }
        for (key, rule) in checks {
            invocation
                .key(key)
                .arg(match rule.kind {
                    RuleKind::Bucket => "b",
                    RuleKind::Window => "w",
                })
                .arg(rule.limit)
                .arg(rule.period_us())
                .arg(rule.interval_us());
        }
        let reply: Vec<i64> = self.call(&invocation).await?;
        let [status, remaining, wait_us, limit] = reply.as_slice() else {
            return None;
        };
        let decision = |allowed| Decision {
            allowed,
            limit: u32::try_from(*limit).unwrap_or(0),
            remaining: u32::try_from(*remaining).unwrap_or(0),
            wait_us: u64::try_from(*wait_us).unwrap_or(0),
        };
        Some(match status {
            0 if checks.is_empty() => Verdict::Allowed(None),
            0 => Verdict::Allowed(Some(decision(true))),
            1 => Verdict::Refused(decision(false)),
            _ => Verdict::Blocked {
                wait_us: u64::try_from(*wait_us).unwrap_or(0),
            },
        })
    }

    /// Counts a refusal; `Some(Some(µs))` when it starts a block, `None` when Redis is not
    /// reachable now.
    pub async fn strike(
        &self,
        violations_key: &str,
        block_key: &str,
        strikes_key: &str,
        penalty: &Penalty,
    ) -> Option<Option<u64>> {
        let mut invocation = self.strike.prepare_invoke();
        invocation
            .key(violations_key)
            .key(block_key)
            .key(strikes_key)
            .arg(penalty.violations.period_us())
            .arg(penalty.violations.interval_us())
            .arg(penalty.base_block_us)
            .arg(penalty.max_block_us)
            .arg(penalty.memory_us);
        let block_us: i64 = self.call(&invocation).await?;
        Some(u64::try_from(block_us).ok().filter(|&us| us > 0))
    }
}
