//! The shared store (`REDIS_URL`): the same rules as the in-process store, evaluated inside
//! Redis by Lua scripts so that check-and-count is atomic across every instance, on Redis's
//! clock. One multiplexed connection that reconnects by itself; every call has a short
//! deadline, and the caller falls back to the in-process store when Redis does not answer.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::rules::{Decision, Rule, RuleKind};
use super::{Penalty, Verdict};

/// A rate-limit decision must not hold a request up: past this, the local store decides.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(100);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How often to try again while Redis has never been reached.
const CONNECT_RETRY: Duration = Duration::from_secs(5);

/// KEYS: the block key, then one key per rule. ARGV: a unique member for window logs, then
/// per rule its kind (`b` bucket, `w` window), limit and period in ms.
/// Returns {0, remaining, wait_ms, limit} when allowed (the tightest rule),
/// {1, 0, wait_ms, limit} when a rule refuses, {2, 0, wait_ms, 0} when blocked.
const CHECK: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = redis.call('PTTL', KEYS[1])
if blocked > 0 then return {2, 0, blocked, 0} end
local best_remaining, best_wait, best_limit = -1, 0, 0
local writes = {}
for i = 2, #KEYS do
  local base = 1 + (i - 2) * 3
  local kind, limit, period = ARGV[base + 1], tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  local remaining, wait
  if kind == 'b' then
    local interval = period / limit
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if tat < now then tat = now end
    local new_tat = tat + interval
    if new_tat - now > period then return {1, 0, math.ceil(new_tat - now - period), limit} end
    remaining = math.floor((period - (new_tat - now)) / interval)
    wait = math.ceil(new_tat - now)
    writes[#writes + 1] = {'b', KEYS[i], new_tat, wait}
  else
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - period)
    local count = redis.call('ZCARD', KEYS[i])
    local oldest = now
    if count > 0 then oldest = tonumber(redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2]) end
    if count >= limit then return {1, 0, oldest + period - now, limit} end
    remaining = limit - count - 1
    wait = oldest + period - now
    writes[#writes + 1] = {'w', KEYS[i], now, period}
  end
  if best_remaining < 0 or remaining < best_remaining then
    best_remaining, best_wait, best_limit = remaining, wait, limit
  end
end
for _, w in ipairs(writes) do
  if w[1] == 'b' then
    redis.call('SET', w[2], tostring(w[3]), 'PX', w[4])
  else
    redis.call('ZADD', w[2], w[3], ARGV[1])
    redis.call('PEXPIRE', w[2], w[4])
  end
end
return {0, best_remaining, best_wait, best_limit}
";

/// KEYS: violations bucket, block key, strikes counter. ARGV: violations limit and period
/// (ms), base and longest block (ms), how long strikes are remembered (ms).
/// Returns the new block's length in ms, or 0 when this refusal does not block.
const STRIKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local interval = period / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now <= period then
  redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now))
  return 0
end
redis.call('DEL', KEYS[1])
local strikes = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
local block = math.min(tonumber(ARGV[3]) * 2 ^ (strikes - 1), tonumber(ARGV[4]))
redis.call('SET', KEYS[2], '1', 'PX', math.floor(block))
return math.floor(block)
";

#[derive(Clone)]
pub struct RedisStore {
    connection: Arc<RwLock<Option<ConnectionManager>>>,
    check: Arc<redis::Script>,
    strike: Arc<redis::Script>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects (one attempt, briefly); when Redis does not answer, keeps trying in the
    /// background, and until then calls answer `None` so the in-process store decides. The
    /// URL is never logged (it may carry a password).
    pub async fn connect(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL: {e}"))?;
        let store = Self {
            connection: Arc::default(),
            check: Arc::new(redis::Script::new(CHECK)),
            strike: Arc::new(redis::Script::new(STRIKE)),
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_max_delay(2_000);
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
        match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
            Ok(manager) => {
                tracing::info!("rate limits are shared through Redis");
                match self.connection.write() {
                    Ok(mut guard) => *guard = Some(manager),
                    Err(poisoned) => *poisoned.into_inner() = Some(manager),
                }
                true
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot reach Redis; rate limits are per instance until it answers");
                false
            }
        }
    }

    fn connection(&self) -> Option<ConnectionManager> {
        match self.connection.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The shared verdict, or `None` when Redis is not reachable now.
    pub async fn check(
        &self,
        block_key: &str,
        checks: &[(String, Rule)],
        member: &str,
    ) -> Option<Verdict> {
        let mut connection = self.connection()?;
        let mut invocation = self.check.key(block_key);
        invocation.arg(member);
        for (key, rule) in checks {
            invocation
                .key(key)
                .arg(match rule.kind {
                    RuleKind::Bucket => "b",
                    RuleKind::Window => "w",
                })
                .arg(rule.limit)
                .arg(rule.period_ms());
        }
        let reply: Vec<i64> = match invocation.invoke_async(&mut connection).await {
            Ok(reply) => reply,
            Err(error) => {
                tracing::warn!(error = %error, "Redis did not answer a rate-limit check; deciding locally");
                return None;
            }
        };
        let [status, remaining, wait_ms, limit] = reply.as_slice() else {
            return None;
        };
        let decision = |allowed| Decision {
            allowed,
            limit: u32::try_from(*limit).unwrap_or(0),
            remaining: u32::try_from(*remaining).unwrap_or(0),
            wait_ms: u64::try_from(*wait_ms).unwrap_or(0),
        };
        Some(match status {
            0 if checks.is_empty() => Verdict::Allowed(None),
            0 => Verdict::Allowed(Some(decision(true))),
            1 => Verdict::Refused(decision(false)),
            _ => Verdict::Blocked {
                wait_ms: u64::try_from(*wait_ms).unwrap_or(0),
            },
        })
    }

    /// Counts a refusal; `Some(Some(ms))` when it starts a block, `None` when Redis is not
    /// reachable now.
    pub async fn strike(
        &self,
        violations_key: &str,
        block_key: &str,
        strikes_key: &str,
        penalty: &Penalty,
    ) -> Option<Option<u64>> {
        let mut connection = self.connection()?;
        let block_ms: i64 = self
            .strike
            .key(violations_key)
            .key(block_key)
            .key(strikes_key)
            .arg(penalty.violations.limit)
            .arg(penalty.violations.period_ms())
            .arg(penalty.base_block_ms)
            .arg(penalty.max_block_ms)
            .arg(penalty.memory_ms)
            .invoke_async(&mut connection)
            .await
            .map_err(
                |error| tracing::warn!(error = %error, "Redis did not record a rate-limit refusal"),
            )
            .ok()?;
        Some(u64::try_from(block_ms).ok().filter(|&ms| ms > 0))
    }
}
