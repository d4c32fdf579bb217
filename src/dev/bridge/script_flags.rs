//! Upstash-only Lua shebang flags. Upstash accepts `#!lua flags=allow-key-locking`;
//! stock Redis 7 refuses the script (`ERR Unexpected flag in script shebang`). The
//! bridge runs the script without that flag and remembers which SHA-1 the client
//! knows it by (the flagged text's) so EVALSHA works as it does on Upstash.

use std::collections::HashMap;
use std::sync::Mutex;

use sha1::{Digest, Sha1};

const UPSTASH_ONLY_FLAGS: &[&str] = &["allow-key-locking"];

/// The script without the Upstash-only flags, or `None` if there is nothing to remove.
/// Other flags stay; an emptied `flags=` is dropped.
pub(super) fn strip_upstash_flags(source: &str) -> Option<String> {
    if !source.starts_with("#!") {
        return None;
    }
    let (shebang, rest) = match source.find('\n') {
        Some(end) => source.split_at(end),
        None => (source, ""),
    };
    let mut changed = false;
    let mut parts = Vec::new();
    for part in shebang.split_whitespace() {
        match part.strip_prefix("flags=") {
            Some(flags) => {
                let kept: Vec<&str> = flags
                    .split(',')
                    .filter(|flag| !UPSTASH_ONLY_FLAGS.contains(flag))
                    .collect();
                if kept.len() == flags.split(',').count() {
                    parts.push(part.to_owned());
                    continue;
                }
                changed = true;
                if !kept.is_empty() {
                    parts.push(format!("flags={}", kept.join(",")));
                }
            }
            None => parts.push(part.to_owned()),
        }
    }
    changed.then(|| format!("{}{rest}", parts.join(" ")))
}

pub(super) fn sha1_hex(text: &[u8]) -> String {
    hex::encode(Sha1::digest(text))
}

/// flagged-text SHA-1 → SHA-1 of the text Redis actually has.
#[derive(Default)]
pub(super) struct ScriptShas {
    by_flagged_sha: Mutex<HashMap<String, String>>,
}

impl ScriptShas {
    /// The source to give Redis for EVAL / SCRIPT LOAD, with its SHA-1 recorded under
    /// the SHA-1 of the text the client sent. `None`: send the source unchanged.
    pub(super) fn runnable_source(&self, source: &[u8]) -> Option<Vec<u8>> {
        let stripped = strip_upstash_flags(std::str::from_utf8(source).ok()?)?;
        self.by_flagged_sha
            .lock()
            .expect("script map lock")
            .insert(sha1_hex(source), sha1_hex(stripped.as_bytes()));
        Some(stripped.into_bytes())
    }

    /// The SHA-1 Redis knows a script by, for a SHA-1 a client sent.
    pub(super) fn redis_sha(&self, client_sha: &[u8]) -> Option<Vec<u8>> {
        let sha = std::str::from_utf8(client_sha).ok()?.to_ascii_lowercase();
        self.by_flagged_sha
            .lock()
            .expect("script map lock")
            .get(&sha)
            .map(|sha| sha.clone().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upstash_flag_alone_drops_the_flags_part() {
        assert_eq!(
            strip_upstash_flags("#!lua flags=allow-key-locking\nreturn 1").as_deref(),
            Some("#!lua\nreturn 1")
        );
    }

    #[test]
    fn other_flags_are_kept() {
        assert_eq!(
            strip_upstash_flags("#!lua flags=no-writes,allow-key-locking,allow-oom\nreturn 1")
                .as_deref(),
            Some("#!lua flags=no-writes,allow-oom\nreturn 1")
        );
    }

    #[test]
    fn scripts_without_the_flag_are_left_alone() {
        assert_eq!(strip_upstash_flags("#!lua flags=no-writes\nreturn 1"), None);
        assert_eq!(strip_upstash_flags("return 1"), None);
        assert_eq!(strip_upstash_flags("#!lua\nreturn 1"), None);
    }

    #[test]
    fn a_shebang_without_a_body_is_handled() {
        assert_eq!(
            strip_upstash_flags("#!lua flags=allow-key-locking").as_deref(),
            Some("#!lua")
        );
    }

    #[test]
    fn evalsha_of_the_flagged_text_maps_to_the_stripped_text() {
        let shas = ScriptShas::default();
        let flagged = "#!lua flags=allow-key-locking\nreturn 1";
        let runnable = shas.runnable_source(flagged.as_bytes()).unwrap();
        assert_eq!(runnable, b"#!lua\nreturn 1");
        let flagged_sha = sha1_hex(flagged.as_bytes()).to_ascii_uppercase();
        assert_eq!(
            shas.redis_sha(flagged_sha.as_bytes()),
            Some(sha1_hex(&runnable).into_bytes())
        );
        assert_eq!(shas.redis_sha(sha1_hex(b"other").as_bytes()), None);
    }
}
