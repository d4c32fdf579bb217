//! Cache keys, TTLs, read-through and invalidation (the seed's Redis contract).
//!
//! Every key and TTL of the original's cache table is a [`CacheKey`] variant;
//! the `enghub` part of each key is `ENGHUB_KEY_PREFIX`. Values are plain JSON
//! text, the way @upstash/redis stores them, so a TypeScript deployment can
//! share the cache. Procedures declare keys as data; the batch executor reads
//! and writes them in as few Upstash round trips as it can.
//!
//! Redis is an optimisation: callers treat every [`UpstashError`] here as a
//! miss (reads) or a logged warning (writes), never as a failed request.

use std::future::Future;
use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use std::sync::{Arc, LazyLock};

use crate::upstash::{Arg, Command, Reply, Script, UpstashClient, UpstashError};

/// A Redis command a resolver needs answered before it runs (e.g. the
/// management-chain check), built with the request's cache so the executor
/// can send it in the batch's first pipeline; the reply reaches the resolver
/// as `Ctx::probe`.
pub type Probe = Box<dyn FnOnce(&Cache) -> Command + Send>;

/// What came back for a [`Probe`]: the Redis reply, or why the request
/// carrying it failed. Resolvers hand it, unread, to the cache-layer module
/// that planned the probe (e.g. `hierarchy`), so procedures never see
/// Upstash's reply type.
#[derive(Debug, Clone)]
pub struct ProbeReply(Result<Reply, String>);

impl ProbeReply {
    pub(crate) fn new(reply: Result<Reply, String>) -> Self {
        Self(reply)
    }

    /// The reply, for the module that built the probe's command.
    pub(crate) fn into_reply(self) -> Result<Reply, String> {
        self.0
    }
}

/// Time to live of a cache entry, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl(pub u64);

impl Ttl {
    pub const REFERENCE_DATA: Ttl = Ttl(86_400);
    pub const PROJECT: Ttl = Ttl(3_600);
    pub const PROJECT_LIST: Ttl = Ttl(3_600);
    pub const PEOPLE: Ttl = Ttl(1_800);
    pub const PERSON_ME: Ttl = Ttl(3_600);
    pub const CLERK_PERSON: Ttl = Ttl(3_600);
    pub const MGMT_CHAIN: Ttl = Ttl(1_800);
    pub const GITHUB_STATS: Ttl = Ttl(3_600);
}

/// Every cache entry of the API.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    Departments,
    Titles,
    ProjectList,
    Project(String),
    People,
    PersonMe(String),
    ClerkPerson(String),
    MgmtChain(String),
    GithubStats(String),
    MeetingTemplates,
}

impl CacheKey {
    /// The key's TTL, as in the original's `ttl` table.
    pub fn ttl(&self) -> Ttl {
        match self {
            CacheKey::Departments | CacheKey::Titles | CacheKey::MeetingTemplates => {
                Ttl::REFERENCE_DATA
            }
            CacheKey::ProjectList => Ttl::PROJECT_LIST,
            CacheKey::Project(_) => Ttl::PROJECT,
            CacheKey::People => Ttl::PEOPLE,
            CacheKey::PersonMe(_) => Ttl::PERSON_ME,
            CacheKey::ClerkPerson(_) => Ttl::CLERK_PERSON,
            CacheKey::MgmtChain(_) => Ttl::MGMT_CHAIN,
            CacheKey::GithubStats(_) => Ttl::GITHUB_STATS,
        }
    }

    /// The key without the deployment prefix (e.g. `departments:all`), as the
    /// cache outbox stores it.
    pub fn suffix(&self) -> String {
        let rendered = self.render("");
        rendered[1..].to_string()
    }

    /// The Redis key under `prefix` (`enghub` by default).
    pub fn render(&self, prefix: &str) -> String {
        match self {
            CacheKey::Departments => format!("{prefix}:departments:all"),
            CacheKey::Titles => format!("{prefix}:titles:all"),
            CacheKey::ProjectList => format!("{prefix}:projects:list"),
            CacheKey::Project(id) => format!("{prefix}:project:{id}"),
            CacheKey::People => format!("{prefix}:people:all"),
            CacheKey::PersonMe(uid) => format!("{prefix}:person-me:{uid}"),
            CacheKey::ClerkPerson(uid) => format!("{prefix}:clerk-person:{uid}"),
            CacheKey::MgmtChain(pid) => format!("{prefix}:mgmt-chain:{pid}"),
            CacheKey::GithubStats(pid) => format!("{prefix}:github-stats:{pid}"),
            CacheKey::MeetingTemplates => format!("{prefix}:meeting-templates:all"),
        }
    }
}

/// `invalidateReferenceData()`: departments and titles.
pub fn invalidate_reference_data() -> Vec<CacheKey> {
    vec![CacheKey::Departments, CacheKey::Titles]
}

/// `invalidateProjectCache(projectId)`: the project and the project list.
pub fn invalidate_project_cache(project_id: &str) -> Vec<CacheKey> {
    vec![
        CacheKey::Project(project_id.to_string()),
        CacheKey::ProjectList,
    ]
}

/// `invalidatePeopleCache(clerkUserId?)`: the people list, plus that user's
/// person-me entry when the id is a non-empty string.
pub fn invalidate_people_cache(clerk_user_id: Option<&str>) -> Vec<CacheKey> {
    let mut keys = vec![CacheKey::People];
    if let Some(uid) = clerk_user_id.filter(|u| !u.is_empty()) {
        keys.push(CacheKey::PersonMe(uid.to_string()));
    }
    keys
}

/// `invalidateMgmtChain(personId)`.
pub fn invalidate_mgmt_chain(person_id: &str) -> Vec<CacheKey> {
    vec![CacheKey::MgmtChain(person_id.to_string())]
}

/// `invalidateGithubStats(projectId)`.
pub fn invalidate_github_stats(project_id: &str) -> Vec<CacheKey> {
    vec![CacheKey::GithubStats(project_id.to_string())]
}

/// `invalidateMeetingTemplates()`.
pub fn invalidate_meeting_templates() -> Vec<CacheKey> {
    vec![CacheKey::MeetingTemplates]
}

/// The person-me entries of several Clerk users (claim/unclaim, person edits).
pub fn invalidate_person_me_by_ids<'a>(
    clerk_user_ids: impl IntoIterator<Item = &'a str>,
) -> Vec<CacheKey> {
    clerk_user_ids
        .into_iter()
        .filter(|u| !u.is_empty())
        .map(|u| CacheKey::PersonMe(u.to_string()))
        .collect()
}

/// The people views that embed what several people belong to (teams,
/// roadmap assignments, projects): `people:all` and the person-me entries of
/// `clerk_user_ids` (procedures.md §9 item 12: the original invalidated none).
pub fn invalidate_people_views(clerk_user_ids: &[String]) -> Vec<CacheKey> {
    let mut keys = vec![CacheKey::People];
    keys.extend(invalidate_person_me_by_ids(
        clerk_user_ids.iter().map(String::as_str),
    ));
    keys
}

/// A change to project `project_id` that people views embed too (its row,
/// teams, memberships): [`invalidate_project_cache`] plus
/// [`invalidate_people_views`] of the people it concerns.
pub fn invalidate_project_and_people(project_id: &str, clerk_user_ids: &[String]) -> Vec<CacheKey> {
    let mut keys = invalidate_project_cache(project_id);
    keys.extend(invalidate_people_views(clerk_user_ids));
    keys
}

/// Reads a key, its generation and, on a miss, tries to take the fill lock.
/// KEYS = key, generation, lock; ARGV = lock token, lock ms.
/// Returns `{value or nil, generation, 1 if this caller now holds the lock}`.
const READ_LUA: &str = r#"#!lua flags=allow-key-locking
-- enghub cache read: value + generation, and the fill lock on a miss
local value = redis.call("GET", KEYS[1])
local generation = redis.call("GET", KEYS[2]) or "0"
local leader = 0
if (not value) or value == "null" then
  if redis.call("SET", KEYS[3], ARGV[1], "NX", "PX", ARGV[2]) then
    leader = 1
  end
end
return { value, generation, leader }
"#;

/// Stores a value only if no invalidation happened since it was read, then
/// releases the fill lock if this caller holds it. KEYS = key, generation,
/// lock; ARGV = generation seen at read time, value ("" = nothing to store,
/// only release the lock), ttl seconds, lock token. Returns 1 when stored.
const STORE_LUA: &str = r#"#!lua flags=allow-key-locking
-- enghub cache write-back, conditional on the generation seen by the reader
local stored = 0
if ARGV[2] ~= "" and (redis.call("GET", KEYS[2]) or "0") == ARGV[1] then
  redis.call("SET", KEYS[1], ARGV[2], "EX", ARGV[3])
  stored = 1
end
if redis.call("GET", KEYS[3]) == ARGV[4] then
  redis.call("DEL", KEYS[3])
end
return stored
"#;

/// Deletes keys and gives them a new generation, atomically. KEYS = key1,
/// gen1, lock1, key2, gen2, lock2, ...; ARGV = generation ttl seconds, a
/// value never used before (so a generation that expired and came back can
/// never equal one a slow reader saw).
const INVALIDATE_LUA: &str = r#"#!lua flags=allow-key-locking
-- enghub cache invalidation: delete, new generation, free the fill lock
for i = 1, #KEYS, 3 do
  redis.call("DEL", KEYS[i], KEYS[i + 2])
  redis.call("SET", KEYS[i + 1], ARGV[2], "EX", ARGV[1])
end
return #KEYS / 3
"#;

static READ_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(READ_LUA));
static STORE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(STORE_LUA));
static INVALIDATE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(INVALIDATE_LUA));

/// How long a generation outlives its last invalidation (generations are
/// unique values, so one that expired never matches what a reader saw).
const GENERATION_TTL_SECS: u64 = 86_400;
/// How long one filler may hold a key's fill lock.
pub const FILL_LOCK_MS: u64 = 5_000;
/// How long a caller that missed while another fills waits before it reads
/// Postgres itself: as long as the filler may hold the lock, so a slow fill
/// (a loaded instance, a large project) does not send every waiter to Postgres
/// at once; a waiter takes over as soon as the lock is freed or expires.
pub const FILL_WAIT: Duration = Duration::from_millis(FILL_LOCK_MS);
const FILL_POLL: Duration = Duration::from_millis(40);

tokio::task_local! {
    /// What the executor tells the resolver of one call.
    static CALL: Arc<CallScope>;
}

/// The cache state of one resolver run: whether its request reached Upstash
/// before it ran, and the grant fences it placed (see [`fence_grants`]).
#[derive(Debug)]
pub struct CallScope {
    reached: bool,
    cache: Cache,
    fences: std::sync::Mutex<Vec<String>>,
}

impl CallScope {
    /// `reached`: whether the request's first Upstash pipeline was answered
    /// (if not, [`fence_grants`] refuses without trying); `cache`: the
    /// request's cache, through which fences are placed.
    pub fn new(reached: bool, cache: Cache) -> Arc<Self> {
        Arc::new(Self {
            reached,
            cache,
            fences: Default::default(),
        })
    }

    /// The tokens of the fences placed during the call (to lift after it).
    pub fn fences(&self) -> Vec<String> {
        self.fences.lock().map(|f| f.clone()).unwrap_or_default()
    }

    /// Runs `f` (a resolver) inside this scope.
    pub async fn run<F: Future>(self: &Arc<Self>, f: F) -> F::Output {
        CALL.scope(self.clone(), f).await
    }
}

/// Why a grant fence could not be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FenceUnavailable(pub String);

/// Places a grant fence for the current call, before it writes a change of
/// who may read whose 1:1 notes (reporting lines, claims): until the fence
/// is lifted (by the executor, in the invalidation after the commit) or
/// expires ([`GRANT_FENCE_MS`]), the management-chain check answers from
/// Postgres and writes nothing back. So a cached grant can never be honoured
/// after the commit revoked it, even if the invalidation after the commit is
/// lost: by the time the fence expires, the keys recorded in the cache outbox
/// have been deleted by every instance's next request (the outbox poll is
/// far shorter than the fence). One round trip; placed once per call. Fails
/// when Upstash cannot be reached (then the write must be refused). Outside
/// a request it does nothing.
pub async fn fence_grants() -> Result<(), FenceUnavailable> {
    let Ok(scope) = CALL.try_with(Arc::clone) else {
        return Ok(());
    };
    if !scope.reached {
        return Err(FenceUnavailable(
            "upstash unreachable in this request".into(),
        ));
    }
    if !scope.fences().is_empty() {
        return Ok(());
    }
    let token = lock_token();
    scope
        .cache
        .redis
        .command(&scope.cache.fence_command(&token))
        .await
        .map_err(|e| FenceUnavailable(e.to_string()))?;
    if let Ok(mut f) = scope.fences.lock() {
        f.push(token);
    }
    Ok(())
}

/// How long a grant fence lasts at most, in ms: longer than a write's
/// transaction plus its invalidation attempts plus the outbox poll.
pub const GRANT_FENCE_MS: u64 = 30_000;

/// Adds a fence: KEYS = fence set; ARGV = token, ttl ms. Expired fences are
/// dropped; scores are expiry times by Redis' clock.
const FENCE_LUA: &str = r#"#!lua flags=allow-key-locking
-- enghub grant fence: a change of who may read whose notes is in flight
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now)
redis.call("ZADD", KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return 1
"#;

static FENCE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(FENCE_LUA));

/// Per-instance hint for draining the cache outbox (Postgres table
/// `cache_outbox`, see `functions::outbox`): when this instance last looked
/// at it, and whether it knows of entries it could not drain. Losing it (a
/// new instance) costs one check, never correctness.
#[derive(Debug, Default)]
pub struct DrainHint {
    dirty: std::sync::atomic::AtomicBool,
    last_check_ms: std::sync::atomic::AtomicU64,
}

impl DrainHint {
    /// Whether this caller should read the outbox now: it is dirty, or the
    /// last check is at least `poll` old. Of concurrent callers only one is
    /// told yes (the one that records `now_ms` as the time of the check).
    pub fn check_due(&self, now_ms: u64, poll: Duration) -> bool {
        use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
        let last = self.last_check_ms.load(Acquire);
        let due =
            self.dirty.load(Relaxed) || now_ms.saturating_sub(last) >= poll.as_millis() as u64;
        due && self
            .last_check_ms
            .compare_exchange(last, now_ms.max(last + 1), AcqRel, Acquire)
            .is_ok()
    }

    /// Marks the outbox as holding entries this instance could not drain (the
    /// next request then checks it), or as drained.
    pub fn set_dirty(&self, dirty: bool) {
        self.dirty
            .store(dirty, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Decodes a cached value the way @upstash/redis does for our JSON payloads:
/// absent, unparsable or JSON `null` is a miss. The JSON text is checked but
/// kept as text (surrounding whitespace removed), never built into a `Value`:
/// a hit is answered with these very bytes.
pub fn decode_cached(reply: &Reply) -> Option<Box<RawValue>> {
    let text = reply.as_str()?;
    match serde_json::from_str::<Box<RawValue>>(text) {
        Ok(raw) if raw.get() != "null" => Some(raw),
        _ => None,
    }
}

/// What a reader learnt from a miss: the generation it saw, and whether it
/// holds the fill lock (then it fills; otherwise it waits for the filler).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub key: CacheKey,
    pub generation: String,
    pub leader: bool,
    token: String,
}

/// The result of one cache read.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The stored JSON text (never `null`).
    Hit(Box<RawValue>),
    Miss(Ticket),
}

fn lock_token() -> String {
    use rand::Rng;
    format!("{:016x}", rand::thread_rng().gen::<u64>())
}

/// The cache of one deployment: an Upstash client and the key prefix.
///
/// Correctness rules (procedures.md §9 items 9 and 10):
/// - *No stale write-back*: every invalidation bumps a per-key generation
///   (`{prefix}:gen:…`) in the same script that deletes the key, and a
///   write-back stores only if the generation is still the one its reader saw.
/// - *No stampede*: the first reader that misses takes a fill lock
///   (`{prefix}:lock:…`, [`FILL_LOCK_MS`]); others poll for the value for at
///   most [`FILL_WAIT`], then read Postgres themselves.
#[derive(Clone, Debug)]
pub struct Cache {
    redis: UpstashClient,
    prefix: String,
}

impl Cache {
    pub fn new(redis: UpstashClient, prefix: impl Into<String>) -> Self {
        Self {
            redis,
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn redis(&self) -> &UpstashClient {
        &self.redis
    }

    /// The same cache talking through another client (e.g. one that observes
    /// round trips for a request).
    pub fn with_client(&self, redis: UpstashClient) -> Self {
        Self {
            redis,
            prefix: self.prefix.clone(),
        }
    }

    pub fn key(&self, key: &CacheKey) -> String {
        key.render(&self.prefix)
    }

    /// The generation counter of `key`, bumped by every invalidation.
    pub fn generation_key(&self, key: &CacheKey) -> String {
        key.render(&format!("{}:gen", self.prefix))
    }

    /// The set of active grant fences (see [`fence_grants`]).
    pub fn grant_fence_key(&self) -> String {
        format!("{}:grants:fence", self.prefix)
    }

    /// Places the grant fence `token`.
    pub fn fence_command(&self, token: &str) -> Command {
        Command::evalsha(
            &FENCE_SCRIPT,
            [self.grant_fence_key()],
            [Arg::from(token), Arg::from(GRANT_FENCE_MS)],
        )
    }

    /// Lifts the grant fences `tokens`.
    pub fn unfence_command(&self, tokens: &[String]) -> Option<Command> {
        if tokens.is_empty() {
            return None;
        }
        Some(
            Command::new("zrem")
                .arg(self.grant_fence_key())
                .args(tokens.iter().map(String::as_str)),
        )
    }

    /// The fill lock of `key`.
    pub fn lock_key(&self, key: &CacheKey) -> String {
        key.render(&format!("{}:lock", self.prefix))
    }

    /// The read command of `key` (value, generation, fill lock on a miss), for
    /// a larger pipeline. Pair it with [`Cache::lookup`].
    pub fn read_command(&self, key: &CacheKey) -> (Command, String) {
        let token = lock_token();
        let cmd = Command::evalsha(
            &READ_SCRIPT,
            [self.key(key), self.generation_key(key), self.lock_key(key)],
            [Arg::from(token.as_str()), Arg::from(FILL_LOCK_MS)],
        );
        (cmd, token)
    }

    /// Interprets the reply of [`Cache::read_command`].
    pub fn lookup(&self, key: &CacheKey, token: String, reply: &Reply) -> Lookup {
        let parts = match reply {
            Reply::Array(parts) if parts.len() == 3 => parts,
            _ => {
                return Lookup::Miss(Ticket {
                    key: key.clone(),
                    generation: "0".into(),
                    leader: false,
                    token,
                })
            }
        };
        if let Some(v) = decode_cached(&parts[0]) {
            return Lookup::Hit(v);
        }
        Lookup::Miss(Ticket {
            key: key.clone(),
            generation: parts[1].as_str().unwrap_or("0").to_string(),
            leader: parts[2].as_int() == Some(1),
            token,
        })
    }

    /// Reads one key (one round trip).
    pub async fn read(&self, key: &CacheKey) -> Result<Lookup, UpstashError> {
        let (cmd, token) = self.read_command(key);
        let reply = self.redis.command(&cmd).await?;
        Ok(self.lookup(key, token, &reply))
    }

    /// The conditional write-back of `value` for a reader holding `ticket`,
    /// releasing its fill lock. `null` is never stored (it would never be
    /// served): then the command only releases the lock.
    pub fn store_command(&self, ticket: &Ticket, value: &Value) -> Command {
        let key = &ticket.key;
        Command::evalsha(
            &STORE_SCRIPT,
            [self.key(key), self.generation_key(key), self.lock_key(key)],
            [
                Arg::from(ticket.generation.as_str()),
                Arg::from(if value.is_null() {
                    String::new()
                } else {
                    // As JavaScript writes it: a later hit is passed through
                    // as stored, byte-identical to this miss's answer.
                    crate::js_json::to_string(value)
                }),
                Arg::from(key.ttl().0),
                Arg::from(ticket.token.as_str()),
            ],
        )
    }

    /// Writes back several values in one pipeline and releases the fill
    /// locks the tickets hold; returns how many were stored (a value whose key
    /// was invalidated since its read is dropped, and so is `null`).
    pub async fn store_many(&self, entries: &[(Ticket, Value)]) -> Result<usize, UpstashError> {
        let cmds: Vec<Command> = entries
            .iter()
            .filter(|(t, v)| !v.is_null() || t.leader)
            .map(|(t, v)| self.store_command(t, v))
            .collect();
        if cmds.is_empty() {
            return Ok(0);
        }
        let mut stored = 0;
        for r in self.redis.pipeline(&cmds).await? {
            if r.map_err(UpstashError::Redis)?.as_int() == Some(1) {
                stored += 1;
            }
        }
        Ok(stored)
    }

    /// One atomic command deleting `keys` and bumping their generations.
    pub fn invalidate_command(&self, keys: &[CacheKey]) -> Option<Command> {
        let suffixes: Vec<String> = keys.iter().map(CacheKey::suffix).collect();
        self.invalidate_suffixes_command(&suffixes)
    }

    /// [`Cache::invalidate_command`] for keys given without the prefix (see
    /// [`CacheKey::suffix`]), e.g. read back from the cache outbox.
    pub fn invalidate_suffixes_command(&self, suffixes: &[String]) -> Option<Command> {
        let mut unique: Vec<&str> = Vec::new();
        for k in suffixes {
            if !unique.contains(&k.as_str()) {
                unique.push(k);
            }
        }
        if unique.is_empty() {
            return None;
        }
        let p = &self.prefix;
        let redis_keys: Vec<String> = unique
            .iter()
            .flat_map(|k| {
                [
                    format!("{p}:{k}"),
                    format!("{p}:gen:{k}"),
                    format!("{p}:lock:{k}"),
                ]
            })
            .collect();
        let generation = format!("{}-{}", crate::ratelimit::now_ms(), lock_token());
        Some(Command::evalsha(
            &INVALIDATE_SCRIPT,
            redis_keys,
            [Arg::from(GENERATION_TTL_SECS), Arg::from(generation)],
        ))
    }

    /// Deletes `keys` (one round trip).
    pub async fn invalidate(&self, keys: &[CacheKey]) -> Result<(), UpstashError> {
        match self.invalidate_command(keys) {
            None => Ok(()),
            Some(cmd) => self.redis.command(&cmd).await.map(|_| ()),
        }
    }

    /// Deletes every key under this deployment's prefix (cache entries,
    /// generations, locks and rate-limit counters), e.g. after the database
    /// was recreated. SCAN-based, in batches; returns how many were deleted.
    pub async fn flush(&self) -> Result<u64, UpstashError> {
        let pattern = format!("{}:*", self.prefix);
        let mut cursor = "0".to_string();
        let mut deleted = 0;
        loop {
            let reply = self
                .redis
                .command(
                    &Command::new("scan")
                        .arg(cursor.as_str())
                        .arg("match")
                        .arg(pattern.as_str())
                        .arg("count")
                        .arg(500_u64),
                )
                .await?;
            let mut parts = reply.into_array().unwrap_or_default().into_iter();
            cursor = parts
                .next()
                .and_then(Reply::into_string)
                .unwrap_or_else(|| "0".into());
            let keys: Vec<String> = parts.next().map(Reply::into_strings).unwrap_or_default();
            if !keys.is_empty() {
                let reply = self.redis.command(&Command::new("del").args(keys)).await?;
                deleted += reply.as_int().unwrap_or(0).max(0) as u64;
            }
            if cursor == "0" {
                return Ok(deleted);
            }
        }
    }

    /// Waits while another caller fills the key: polls until the value
    /// appears, this caller becomes the filler (the lock was freed), or
    /// [`FILL_WAIT`] has passed (then it should read Postgres itself).
    pub async fn wait_for_fill(&self, ticket: Ticket) -> Result<Lookup, UpstashError> {
        let deadline = tokio::time::Instant::now() + FILL_WAIT;
        let mut current = ticket;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(FILL_POLL).await;
            match self.read(&current.key).await? {
                Lookup::Hit(v) => return Ok(Lookup::Hit(v)),
                Lookup::Miss(t) if t.leader => return Ok(Lookup::Miss(t)),
                Lookup::Miss(t) => current = t,
            }
        }
        Ok(Lookup::Miss(current))
    }

    /// Cache-aside read of one key with every rule above: a hit returns the
    /// stored value without calling `fetch`; a miss calls `fetch` (or waits
    /// for the caller already filling) and writes back conditionally. Redis
    /// failures are logged and fall back to `fetch`.
    pub async fn cached<T, E, F, Fut>(&self, key: &CacheKey, fetch: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut lookup = self.read(key).await;
        if let Ok(Lookup::Miss(t)) = &lookup {
            if !t.leader {
                lookup = self.wait_for_fill(t.clone()).await;
            }
        }
        let ticket = match lookup {
            Ok(Lookup::Hit(v)) => match serde_json::from_str(v.get()) {
                Ok(v) => return Ok(v),
                Err(_) => None,
            },
            Ok(Lookup::Miss(t)) => Some(t),
            Err(e) => {
                tracing::warn!(key = %self.key(key), error = %e, "cache read failed; using Postgres");
                None
            }
        };
        let fetched = fetch().await;
        if let Some(ticket) = ticket {
            // On an error, or a null, this only releases the fill lock.
            let json = match &fetched {
                Ok(v) => serde_json::to_value(v).unwrap_or(Value::Null),
                Err(_) => Value::Null,
            };
            if let Err(e) = self.store_many(&[(ticket, json)]).await {
                tracing::warn!(key = %self.key(key), error = %e, "cache write failed");
            }
        }
        fetched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_keys_match_the_original() {
        let p = "enghub";
        assert_eq!(CacheKey::Departments.render(p), "enghub:departments:all");
        assert_eq!(CacheKey::Titles.render(p), "enghub:titles:all");
        assert_eq!(CacheKey::ProjectList.render(p), "enghub:projects:list");
        assert_eq!(CacheKey::People.render(p), "enghub:people:all");
        assert_eq!(
            CacheKey::MeetingTemplates.render(p),
            "enghub:meeting-templates:all"
        );
    }

    #[test]
    fn dynamic_keys_match_the_original() {
        let p = "enghub";
        assert_eq!(
            CacheKey::Project("proj-1".into()).render(p),
            "enghub:project:proj-1"
        );
        assert_eq!(
            CacheKey::PersonMe("clerk-abc".into()).render(p),
            "enghub:person-me:clerk-abc"
        );
        assert_eq!(
            CacheKey::ClerkPerson("clerk-abc".into()).render(p),
            "enghub:clerk-person:clerk-abc"
        );
        assert_eq!(
            CacheKey::MgmtChain("person-1".into()).render(p),
            "enghub:mgmt-chain:person-1"
        );
        assert_eq!(
            CacheKey::GithubStats("proj-1".into()).render(p),
            "enghub:github-stats:proj-1"
        );
    }

    #[test]
    fn ttls_match_the_original() {
        assert_eq!(CacheKey::Departments.ttl().0, 86_400);
        assert_eq!(CacheKey::Titles.ttl().0, 86_400);
        assert_eq!(CacheKey::MeetingTemplates.ttl().0, 86_400);
        assert_eq!(CacheKey::Project("x".into()).ttl().0, 3_600);
        assert_eq!(CacheKey::ProjectList.ttl().0, 3_600);
        assert_eq!(CacheKey::People.ttl().0, 1_800);
        assert_eq!(CacheKey::PersonMe("x".into()).ttl().0, 3_600);
        assert_eq!(CacheKey::ClerkPerson("x".into()).ttl().0, 3_600);
        assert_eq!(CacheKey::MgmtChain("x".into()).ttl().0, 1_800);
        assert_eq!(CacheKey::GithubStats("x".into()).ttl().0, 3_600);
    }

    #[test]
    fn invalidation_helpers_name_exactly_the_original_keys() {
        assert_eq!(
            invalidate_reference_data(),
            vec![CacheKey::Departments, CacheKey::Titles]
        );
        assert_eq!(
            invalidate_project_cache("proj-123"),
            vec![CacheKey::Project("proj-123".into()), CacheKey::ProjectList]
        );
        assert_eq!(invalidate_people_cache(None), vec![CacheKey::People]);
        assert_eq!(invalidate_people_cache(Some("")), vec![CacheKey::People]);
        assert_eq!(
            invalidate_people_cache(Some("clerk-abc")),
            vec![CacheKey::People, CacheKey::PersonMe("clerk-abc".into())]
        );
        assert_eq!(
            invalidate_mgmt_chain("person-1"),
            vec![CacheKey::MgmtChain("person-1".into())]
        );
        assert_eq!(
            invalidate_github_stats("proj-1"),
            vec![CacheKey::GithubStats("proj-1".into())]
        );
        assert_eq!(
            invalidate_meeting_templates(),
            vec![CacheKey::MeetingTemplates]
        );
        assert_eq!(
            invalidate_person_me_by_ids(["a", "", "b"]),
            vec![
                CacheKey::PersonMe("a".into()),
                CacheKey::PersonMe("b".into())
            ]
        );
    }

    #[test]
    fn every_script_asks_upstash_to_lock_only_its_keys() {
        for script in [READ_LUA, STORE_LUA, INVALIDATE_LUA, FENCE_LUA] {
            assert!(script.starts_with("#!lua flags=allow-key-locking\n"));
        }
    }

    /// A cache under prefix `enghub` whose Upstash is never called.
    fn offline_cache() -> Cache {
        Cache::new(
            UpstashClient::new(
                reqwest::Client::new(),
                "http://x",
                "t",
                Duration::from_secs(1),
            ),
            "enghub",
        )
    }

    #[test]
    fn generation_and_lock_keys_sit_beside_the_original_key() {
        let cache = offline_cache();
        let key = CacheKey::Project("p1".into());
        assert_eq!(cache.key(&key), "enghub:project:p1");
        assert_eq!(cache.generation_key(&key), "enghub:gen:project:p1");
        assert_eq!(cache.lock_key(&key), "enghub:lock:project:p1");
        let cmd = cache.invalidate_command(&[key.clone(), key]).unwrap();
        assert_eq!(cmd.name(), "evalsha");
    }

    #[test]
    fn the_outbox_is_checked_once_per_poll_unless_dirty() {
        let hint = DrainHint::default();
        let poll = Duration::from_secs(1);
        assert!(hint.check_due(10_000, poll), "never checked");
        assert!(!hint.check_due(10_500, poll), "checked 0.5 s ago");
        assert!(hint.check_due(11_000, poll), "a poll later");
        hint.set_dirty(true);
        assert!(hint.check_due(11_001, poll), "dirty: every request");
        assert!(hint.check_due(11_001, poll), "even within the same ms");
        hint.set_dirty(false);
        assert!(!hint.check_due(11_002, poll));
    }

    #[test]
    fn keys_round_trip_through_their_suffix() {
        let cache = offline_cache();
        let key = CacheKey::PersonMe("u1".into());
        assert_eq!(key.suffix(), "person-me:u1");
        // A key recorded by its suffix (the outbox) is invalidated under the
        // very names the cache reads, fills and locks.
        let sent = cache
            .invalidate_suffixes_command(&[key.suffix()])
            .unwrap()
            .to_json();
        let expected = format!(
            r#""{}","{}","{}""#,
            cache.key(&key),
            cache.generation_key(&key),
            cache.lock_key(&key)
        );
        assert!(sent.contains(&expected), "{sent} lacks {expected}");
    }

    #[test]
    fn stored_null_and_non_json_read_as_misses() {
        let decode = |bytes: &[u8]| {
            decode_cached(&Reply::Bytes(bytes.to_vec())).map(|raw| raw.get().to_owned())
        };
        assert_eq!(decode(b"null"), None);
        assert_eq!(decode(b" null "), None);
        assert_eq!(decode(b"[1"), None);
        assert_eq!(decode(b"[1] x"), None);
        assert!(decode_cached(&Reply::Nil).is_none());
        assert_eq!(decode(b"[1]").as_deref(), Some("[1]"));
        assert_eq!(decode(b" {\"a\":1.5}\n").as_deref(), Some("{\"a\":1.5}"));
    }
}
