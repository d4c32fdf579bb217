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
use serde_json::Value;

use crate::upstash::{Command, Reply, UpstashClient, UpstashError};

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

    pub fn as_duration(self) -> Duration {
        Duration::from_secs(self.0)
    }
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

/// Decodes a cached value the way @upstash/redis does for our JSON payloads:
/// absent, unparsable or JSON `null` is a miss.
pub fn decode_cached(reply: &Reply) -> Option<Value> {
    let text = reply.as_str()?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Null) | Err(_) => None,
        Ok(v) => Some(v),
    }
}

/// The cache of one deployment: an Upstash client and the key prefix.
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

    pub fn key(&self, key: &CacheKey) -> String {
        key.render(&self.prefix)
    }

    /// The `GET` command of a key (for callers building a larger pipeline).
    pub fn get_command(&self, key: &CacheKey) -> Command {
        Command::new("get").arg(self.key(key))
    }

    /// The `SET … EX ttl` command storing `value` as JSON text.
    pub fn set_command(&self, key: &CacheKey, value: &Value) -> Command {
        Command::new("set")
            .arg(self.key(key))
            .arg(value.to_string())
            .arg("ex")
            .arg(key.ttl().0)
    }

    /// One `DEL` of every given key (one round trip).
    pub fn del_command(&self, keys: &[CacheKey]) -> Option<Command> {
        if keys.is_empty() {
            return None;
        }
        let mut unique: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        unique.sort();
        unique.dedup();
        let mut cmd = Command::new("del");
        for k in unique {
            cmd = cmd.arg(k);
        }
        Some(cmd)
    }

    /// Reads several keys in one pipeline; each entry is `None` on a miss.
    pub async fn get_many(&self, keys: &[CacheKey]) -> Result<Vec<Option<Value>>, UpstashError> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let cmds: Vec<Command> = keys.iter().map(|k| self.get_command(k)).collect();
        let replies = self.redis.pipeline(&cmds).await?;
        Ok(replies
            .into_iter()
            .map(|r| r.ok().as_ref().and_then(decode_cached))
            .collect())
    }

    /// Writes several entries in one pipeline. `null` values are not written:
    /// they would never be served (a stored `null` reads as a miss).
    pub async fn set_many(&self, entries: &[(CacheKey, Value)]) -> Result<(), UpstashError> {
        let cmds: Vec<Command> = entries
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| self.set_command(k, v))
            .collect();
        if cmds.is_empty() {
            return Ok(());
        }
        for r in self.redis.pipeline(&cmds).await? {
            r.map_err(UpstashError::Redis)?;
        }
        Ok(())
    }

    /// Deletes the given keys with one `DEL` (one round trip).
    pub async fn invalidate(&self, keys: &[CacheKey]) -> Result<(), UpstashError> {
        match self.del_command(keys) {
            None => Ok(()),
            Some(cmd) => self.redis.command(&cmd).await.map(|_| ()),
        }
    }

    /// Cache-aside read of one key: a hit returns the stored value without
    /// calling `fetch`; a miss calls `fetch` once and stores a non-null result
    /// with the key's TTL. Redis failures are logged and fall back to `fetch`.
    pub async fn cached<T, E, F, Fut>(&self, key: &CacheKey, fetch: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        match self.get_many(std::slice::from_ref(key)).await {
            Ok(mut hits) => {
                if let Some(value) = hits.pop().flatten() {
                    if let Ok(v) = serde_json::from_value(value) {
                        return Ok(v);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(key = %self.key(key), error = %e, "cache read failed; using Postgres")
            }
        }
        let value = fetch().await?;
        if let Ok(json) = serde_json::to_value(&value) {
            if let Err(e) = self.set_many(&[(key.clone(), json)]).await {
                tracing::warn!(key = %self.key(key), error = %e, "cache write failed");
            }
        }
        Ok(value)
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
    fn stored_null_and_non_json_read_as_misses() {
        assert_eq!(decode_cached(&Reply::Bytes(b"null".to_vec())), None);
        assert_eq!(decode_cached(&Reply::Nil), None);
        assert_eq!(
            decode_cached(&Reply::Bytes(b"[1]".to_vec())),
            Some(serde_json::json!([1]))
        );
    }
}
