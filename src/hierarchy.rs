//! Management-chain authorization (the original's `lib/hierarchy.ts`) and the
//! reporting-line rules every writer of `people.manager_id` follows.
//!
//! **Reads.** A viewer may read a person's 1:1 notes when the person the
//! viewer's Clerk user has claimed is anywhere above that person in the
//! reporting chain (manager, manager's manager, ... at most 50 levels; a walk
//! stops where it meets an id again). Two caches serve the check:
//! - `{prefix}:clerk-person:{clerkUserId}`: the claimed person's id, raw, 1 h;
//! - `{prefix}:mgmt-chain:{personId}`: a Redis SET of the person's managers,
//!   30 min. A person without managers (top of the tree) is cached too, as a
//!   set holding only [`EMPTY_CHAIN_MEMBER`] (Redis has no empty sets).
//!
//! Costs: a warm check is ONE Upstash request (a script that resolves the
//! mapping and tests membership, [`CHECK_LUA`]). A cold one adds one recursive
//! Postgres query (viewer and whole chain together) and one more Upstash
//! request that writes what was missing ([`FILL_LUA`]).
//!
//! **Consistency.** Both keys follow the cache's generation convention
//! (`{prefix}:gen:{rest}`, bumped by every [`Cache::invalidate`]): the check
//! returns the generations it saw, and the fill writes a key only if its
//! generation is unchanged, so a rebuild that raced an invalidation cannot
//! bring a stale chain back. The chain is replaced atomically (DEL, SADD of all
//! members, EXPIRE in one script): no reader sees a partial set or a set
//! without TTL. If Redis fails, the check is answered from Postgres.
//!
//! **Writes.** Whoever changes a manager calls [`lock_reporting_lines`] first in
//! its transaction, then [`authorize_reporting_line_change`] (who may, and no
//! loop; [`ensure_no_cycle`] alone where no caller is involved), writes,
//! records the change and invalidates [`subtree_chain_keys`] of the moved
//! person (its whole subtree: every chain below it changed).
//!
//! **Who may change a reporting line.** Since access to notes follows
//! `manager_id`, changing an existing person's manager (set, change, clear) or
//! deleting a person who has reports is allowed only to an org admin
//! ([`is_org_admin`]) or to someone currently above that person in its
//! management chain (the same chain, read from Postgres under the lock, that
//! grants reading notes). A person without a manager can thus be given one
//! only by an org admin. Creating a person with a manager, and editing other
//! fields, stay open. `ENGHUB_REPORTING_LINE_POLICY=open` turns the rule off.

use std::sync::LazyLock;

use sqlx::PgConnection;

use crate::auth::Identity;
use crate::cache::{Cache, CacheKey};
use crate::config::{Config, ReportingLinePolicy};
use crate::db::{reporting, Db};
use crate::trpc::{ApiError, TrpcCode, TrpcError};
use crate::upstash::{Arg, Command, Reply, Script};

pub use crate::db::reporting::MAX_CHAIN_DEPTH;

/// The member of a cached chain that has no managers. Person ids are cuids,
/// never empty, so `""` can never be mistaken for a manager.
pub const EMPTY_CHAIN_MEMBER: &str = "";

/// The error of a manager change that would close a reporting loop.
pub const CYCLE_MESSAGE: &str =
    "Cannot set this manager — it would create a circular reporting chain.";

/// The warm check. KEYS = clerk-person, mgmt-chain, gen of mgmt-chain, gen of
/// clerk-person. Returns `{viewer or nil, chain cached (0/1), member (0/1),
/// chain generation, clerk-person generation, chain members}`; the members
/// only when the mapping is missing but the chain is cached, so the viewer
/// read from Postgres can be tested against them without another request.
pub const CHECK_LUA: &str = r#"#!lua flags=allow-key-locking
-- enghub management-chain check: clerk-person mapping + chain membership
local viewer = redis.call("GET", KEYS[1])
local cached = redis.call("EXISTS", KEYS[2])
local member = 0
local members = {}
if viewer and cached == 1 then
  member = redis.call("SISMEMBER", KEYS[2], viewer)
elseif cached == 1 then
  members = redis.call("SMEMBERS", KEYS[2])
end
return { viewer, cached, member, redis.call("GET", KEYS[3]) or "0", redis.call("GET", KEYS[4]) or "0", members }
"#;

/// The fill after a cold check. KEYS = mgmt-chain, its gen, clerk-person, its
/// gen. ARGV = chain gen seen ("" = leave the chain alone), chain ttl,
/// clerk gen seen ("" = leave the mapping alone), viewer id, mapping ttl,
/// chain members... Returns 1 per chain written + 2 per mapping written.
pub const FILL_LUA: &str = r#"#!lua flags=allow-key-locking
-- enghub management-chain fill: generation-checked, atomic replace
local written = 0
if ARGV[1] ~= "" and (redis.call("GET", KEYS[2]) or "0") == ARGV[1] then
  redis.call("DEL", KEYS[1])
  redis.call("SADD", KEYS[1], unpack(ARGV, 6))
  redis.call("EXPIRE", KEYS[1], ARGV[2])
  written = written + 1
end
if ARGV[3] ~= "" and (redis.call("GET", KEYS[4]) or "0") == ARGV[3] then
  redis.call("SET", KEYS[3], ARGV[4], "EX", ARGV[5])
  written = written + 2
end
return written
"#;

static CHECK_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(CHECK_LUA));
static FILL_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(FILL_LUA));

/// What the warm check found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Warm {
    /// Viewer mapping and chain were both cached: the answer.
    Decided(bool),
    /// Something was missing; the generations seen, for the fill.
    Cold {
        viewer: Option<String>,
        /// The cached chain's members, if the chain is cached.
        cached_chain: Option<Vec<String>>,
        chain_generation: String,
        clerk_generation: String,
    },
}

fn parse_check(reply: Reply) -> Option<Warm> {
    let mut parts = reply.into_array()?.into_iter();
    let viewer = parts.next()?.into_string();
    let chain_cached = parts.next()?.as_int()? == 1;
    let member = parts.next()?.as_int()? == 1;
    let chain_generation = parts.next()?.into_string()?;
    let clerk_generation = parts.next()?.into_string()?;
    if viewer.is_some() && chain_cached {
        return Some(Warm::Decided(member));
    }
    let members: Vec<String> = parts.next().map(Reply::into_strings).unwrap_or_default();
    Some(Warm::Cold {
        viewer,
        cached_chain: chain_cached.then_some(members),
        chain_generation,
        clerk_generation,
    })
}

/// `isInManagementChain(clerkUserId, personId)`: whether the person claimed by
/// `clerk_user_id` is above `person_id` in the reporting chain. Unclaimed
/// viewers and unknown subjects get `false`; a person is not in their own
/// chain (unless a pre-existing loop passes through them).
pub async fn is_in_management_chain(
    cache: &Cache,
    db: &Db,
    clerk_user_id: &str,
    person_id: &str,
) -> Result<bool, sqlx::Error> {
    is_in_management_chain_after(cache, db, clerk_user_id, person_id, None).await
}

/// The warm check of [`is_in_management_chain`] as one command, for a caller
/// that sends it in a larger pipeline (see [`access_probe`]).
pub fn check_command(cache: &Cache, clerk_user_id: &str, person_id: &str) -> Command {
    let chain_key = CacheKey::MgmtChain(person_id.to_string());
    let clerk_key = CacheKey::ClerkPerson(clerk_user_id.to_string());
    Command::evalsha(
        &CHECK_SCRIPT,
        [
            cache.key(&clerk_key),
            cache.key(&chain_key),
            cache.generation_key(&chain_key),
            cache.generation_key(&clerk_key),
        ],
        Vec::<Arg>::new(),
    )
}

/// The check as a probe the executor sends in the batch's first pipeline, so
/// a warm check costs no round trip of its own.
pub fn access_probe(clerk_user_id: &str, person_id: &str) -> crate::cache::Probe {
    let (viewer, subject) = (clerk_user_id.to_string(), person_id.to_string());
    Box::new(move |cache: &Cache| check_command(cache, &viewer, &subject))
}

/// [`is_in_management_chain`] given the reply to [`check_command`] when it
/// was already sent (`Some(Ok)`), or failed (`Some(Err)`: answered from
/// Postgres without asking Redis again); `None` sends it here.
pub async fn is_in_management_chain_after(
    cache: &Cache,
    db: &Db,
    clerk_user_id: &str,
    person_id: &str,
    checked: Option<Result<Reply, String>>,
) -> Result<bool, sqlx::Error> {
    let chain_key = CacheKey::MgmtChain(person_id.to_string());
    let clerk_key = CacheKey::ClerkPerson(clerk_user_id.to_string());
    let reply = match checked {
        Some(reply) => reply,
        None => cache
            .redis()
            .command(&check_command(cache, clerk_user_id, person_id))
            .await
            .map_err(|e| e.to_string()),
    };
    let warm = match reply {
        Ok(reply) => parse_check(reply),
        Err(e) => {
            tracing::warn!(error = %e, "management-chain check failed; using Postgres");
            None
        }
    };
    if let Some(Warm::Decided(allowed)) = warm {
        return Ok(allowed);
    }

    let mut conn = db.acquire().await?;
    let (cached_chain, chain_generation, clerk_generation, cached_viewer) = match warm {
        Some(Warm::Cold {
            viewer,
            cached_chain,
            chain_generation,
            clerk_generation,
        }) => (
            cached_chain,
            Some(chain_generation),
            Some(clerk_generation),
            viewer,
        ),
        _ => (None, None, None, None),
    };
    // Only the mapping is missing: the cached chain decides, with the viewer
    // read from Postgres.
    if let Some(members) = cached_chain {
        let viewer = crate::db::people::id_by_clerk_user(&mut conn, clerk_user_id).await?;
        drop(conn);
        let allowed = viewer.as_ref().is_some_and(|v| members.contains(v));
        if let (Some(v), Some(generation)) = (&viewer, &clerk_generation) {
            let fill = fill_command(
                cache,
                &chain_key,
                &clerk_key,
                None,
                &[],
                Some(generation),
                v,
            );
            if let Err(e) = cache.redis().command(&fill).await {
                tracing::warn!(error = %e, "clerk-person cache fill failed");
            }
        }
        return Ok(allowed);
    }
    let read = reporting::read_chain(&mut conn, person_id, clerk_user_id).await?;
    drop(conn);
    let allowed = read
        .viewer
        .as_ref()
        .is_some_and(|v| read.chain.iter().any(|m| m == v));
    if let (Some(chain_generation), Some(clerk_generation)) = (chain_generation, clerk_generation) {
        let write_chain = read.subject_exists;
        let write_mapping = cached_viewer.is_none() && read.viewer.is_some();
        if write_chain || write_mapping {
            let fill = fill_command(
                cache,
                &chain_key,
                &clerk_key,
                write_chain.then_some(chain_generation.as_str()),
                &read.chain,
                write_mapping.then_some(clerk_generation.as_str()),
                read.viewer.as_deref().unwrap_or_default(),
            );
            if let Err(e) = cache.redis().command(&fill).await {
                tracing::warn!(error = %e, "management-chain cache fill failed");
            }
        }
    }
    Ok(allowed)
}

fn fill_command(
    cache: &Cache,
    chain_key: &CacheKey,
    clerk_key: &CacheKey,
    chain_generation: Option<&str>,
    chain: &[String],
    clerk_generation: Option<&str>,
    viewer: &str,
) -> Command {
    let mut args: Vec<Arg> = vec![
        Arg::from(chain_generation.unwrap_or_default()),
        Arg::from(chain_key.ttl().0),
        Arg::from(clerk_generation.unwrap_or_default()),
        Arg::from(viewer),
        Arg::from(clerk_key.ttl().0),
    ];
    if chain.is_empty() {
        args.push(Arg::from(EMPTY_CHAIN_MEMBER));
    } else {
        args.extend(chain.iter().map(Arg::from));
    }
    Command::evalsha(
        &FILL_SCRIPT,
        [
            cache.key(chain_key),
            cache.generation_key(chain_key),
            cache.key(clerk_key),
            cache.generation_key(clerk_key),
        ],
        args,
    )
}

/// Serialises manager changes until the end of the caller's transaction. Take
/// it first, before locking or writing any `people` row, so two changes can
/// neither close a loop together nor deadlock.
pub async fn lock_reporting_lines(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    reporting::lock_reporting_lines(conn).await
}

/// BAD_REQUEST [`CYCLE_MESSAGE`] if `new_manager` managing `person` would close
/// a loop (including `person` managing itself). Call it inside the writing
/// transaction, after [`lock_reporting_lines`].
pub async fn ensure_no_cycle(
    conn: &mut PgConnection,
    person: &str,
    new_manager: &str,
) -> Result<(), ApiError> {
    if reporting::would_create_cycle(conn, person, new_manager).await? {
        return Err(TrpcError::bad_request(CYCLE_MESSAGE).into());
    }
    Ok(())
}

/// Whether `caller` is an org admin: the session token's `metadata.role` is
/// `admin`, or the Clerk user id is listed in `ENGHUB_ADMIN_USER_IDS`.
pub fn is_org_admin(config: &Config, caller: &Identity) -> bool {
    caller.role.as_deref() == Some("admin")
        || config.admin_user_ids.iter().any(|id| id == &caller.user_id)
}

/// What a caller is trying to do to a reporting line (it words the refusal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportingLineChange {
    /// Set, change or clear the person's manager.
    Manager,
    /// Delete the person, unlinking its direct reports.
    DeleteWithReports,
}

fn refusal(change: ReportingLineChange, has_manager: bool) -> ApiError {
    let message = match (change, has_manager) {
        (ReportingLineChange::Manager, false) => {
            "Only an org admin can give a manager to a person who has none."
        }
        (ReportingLineChange::Manager, true) => {
            "Only an org admin or one of this person's managers can change their manager."
        }
        (ReportingLineChange::DeleteWithReports, false) => {
            "Only an org admin can delete a person who has reports and no manager."
        }
        (ReportingLineChange::DeleteWithReports, true) => {
            "Only an org admin or one of this person's managers can delete a person who has reports."
        }
    };
    TrpcError::new(TrpcCode::Forbidden, message).into()
}

/// The access rule and, with `new_manager`, the cycle check, in one statement
/// (none for admins without a cycle check to make).
async fn authorize(
    conn: &mut PgConnection,
    config: &Config,
    caller: &Identity,
    subject: &str,
    new_manager: Option<&str>,
    change: ReportingLineChange,
) -> Result<(), ApiError> {
    if config.reporting_line_policy == ReportingLinePolicy::Open || is_org_admin(config, caller) {
        return match new_manager {
            Some(m) => ensure_no_cycle(conn, subject, m).await,
            None => Ok(()),
        };
    }
    let (read, cycle) =
        reporting::read_chain_for_change(conn, subject, &caller.user_id, new_manager).await?;
    let allowed = read.viewer.as_ref().is_some_and(|v| read.chain.contains(v));
    if !allowed {
        tracing::warn!(
            caller = %caller.user_id,
            subject = %subject,
            change = ?change,
            "reporting-line change refused"
        );
        return Err(refusal(change, !read.chain.is_empty()));
    }
    if cycle {
        return Err(TrpcError::bad_request(CYCLE_MESSAGE).into());
    }
    Ok(())
}

/// FORBIDDEN unless `caller` may change `subject`'s manager: an org admin
/// ([`is_org_admin`]), or a person currently above `subject` in its management
/// chain (so nobody but an admin can give a manager to a person who has none),
/// unless `ENGHUB_REPORTING_LINE_POLICY=open`. Then, if `new_manager` is given,
/// BAD_REQUEST [`CYCLE_MESSAGE`] if it would close a loop: this call REPLACES
/// [`ensure_no_cycle`] (both in one recursive query, so an authorized change
/// costs no statement more than the cycle check did).
///
/// Call it only when the manager really changes (`subject` already exists),
/// inside the writing transaction, after [`lock_reporting_lines`] and before
/// writing anything; a refusal is logged (warning, caller and subject) and
/// the caller's error rolls the transaction back. Wiring, e.g. in
/// `teamMember.update`:
///
/// ```ignore
/// hierarchy::authorize_reporting_line_change(&mut tx, &ctx.app.config, ctx.caller()?, &person_id, new_manager.as_deref()).await?;
/// ```
pub async fn authorize_reporting_line_change(
    conn: &mut PgConnection,
    config: &Config,
    caller: &Identity,
    subject: &str,
    new_manager: Option<&str>,
) -> Result<(), ApiError> {
    authorize(
        conn,
        config,
        caller,
        subject,
        new_manager,
        ReportingLineChange::Manager,
    )
    .await
}

/// FORBIDDEN unless `caller` may delete `subject`, a person who has direct
/// reports (their manager is cleared by the delete): the rule of
/// [`authorize_reporting_line_change`], applied to `subject` itself (its own
/// holder is not above it, so cannot). Same transaction and lock rules.
pub async fn authorize_delete_with_reports(
    conn: &mut PgConnection,
    config: &Config,
    caller: &Identity,
    subject: &str,
) -> Result<(), ApiError> {
    authorize(
        conn,
        config,
        caller,
        subject,
        None,
        ReportingLineChange::DeleteWithReports,
    )
    .await
}

/// The chain keys of `root` and everyone below it: what a manager change of
/// `root` (or its deletion) makes stale. Read it inside the writing
/// transaction (before a delete: the reports are unlinked by it).
pub async fn subtree_chain_keys(
    conn: &mut PgConnection,
    root: &str,
) -> Result<Vec<CacheKey>, sqlx::Error> {
    Ok(reporting::subtree(conn, root)
        .await?
        .into_iter()
        .map(CacheKey::MgmtChain)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Reply {
        Reply::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn warm_reply_with_mapping_and_chain_decides() {
        let reply = Reply::Array(vec![
            bytes("viewer"),
            Reply::Int(1),
            Reply::Int(1),
            bytes("0"),
            bytes("0"),
        ]);
        assert_eq!(parse_check(reply), Some(Warm::Decided(true)));
    }

    #[test]
    fn missing_mapping_or_chain_is_cold_with_generations() {
        let reply = Reply::Array(vec![
            Reply::Nil,
            Reply::Int(1),
            Reply::Int(0),
            bytes("3"),
            bytes("7"),
            Reply::Array(vec![bytes("boss")]),
        ]);
        assert_eq!(
            parse_check(reply),
            Some(Warm::Cold {
                viewer: None,
                cached_chain: Some(vec!["boss".into()]),
                chain_generation: "3".into(),
                clerk_generation: "7".into(),
            })
        );
    }

    #[test]
    fn scripts_declare_key_locking() {
        for src in [CHECK_LUA, FILL_LUA] {
            assert!(src.starts_with("#!lua flags=allow-key-locking\n"));
        }
    }
}
