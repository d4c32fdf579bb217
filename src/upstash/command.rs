//! Commands as the JSON arrays the Upstash REST API expects, and Lua scripts with
//! their SHA-1 (protocols.md A.7, A.9).

use std::borrow::Cow;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeSeq, Serializer};
use sha1::{Digest, Sha1};

/// One element of a command array: a JSON string or a JSON number (or boolean),
/// exactly as @upstash/redis puts values on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Str(String),
    Int(i64),
    UInt(u64),
    /// Non-finite floats go out as the strings `inf`, `-inf`, `nan` (JSON has no such numbers).
    Float(f64),
    Bool(bool),
}

impl Serialize for Arg {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Str(s) => serializer.serialize_str(s),
            Arg::Int(i) => serializer.serialize_i64(*i),
            Arg::UInt(u) => serializer.serialize_u64(*u),
            Arg::Float(f) if f.is_finite() => serializer.serialize_f64(*f),
            Arg::Float(f) if f.is_nan() => serializer.serialize_str("nan"),
            Arg::Float(f) if *f > 0.0 => serializer.serialize_str("inf"),
            Arg::Float(_) => serializer.serialize_str("-inf"),
            Arg::Bool(b) => serializer.serialize_bool(*b),
        }
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Str(value.to_owned())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Str(value)
    }
}

/// `&String`, `&&str`, `&i64`, ... so slices of arguments can be passed by reference.
impl<T: Clone + Into<Arg>> From<&T> for Arg {
    fn from(value: &T) -> Self {
        value.clone().into()
    }
}

macro_rules! arg_from_signed {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(value: $t) -> Self {
                Arg::Int(i64::from(value))
            }
        }
    )*};
}
arg_from_signed!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Arg {
    fn from(value: u64) -> Self {
        Arg::UInt(value)
    }
}

impl From<usize> for Arg {
    fn from(value: usize) -> Self {
        Arg::UInt(value as u64)
    }
}

impl From<f64> for Arg {
    fn from(value: f64) -> Self {
        Arg::Float(value)
    }
}

impl From<bool> for Arg {
    fn from(value: bool) -> Self {
        Arg::Bool(value)
    }
}

/// A Lua script and the lower-case hex SHA-1 of its UTF-8 text, computed once.
///
/// ```
/// use enghub::upstash::Script;
/// let script = Script::new("return 1");
/// assert_eq!(script.sha(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
/// ```
#[derive(Clone)]
pub struct Script(Arc<ScriptInner>);

struct ScriptInner {
    source: Cow<'static, str>,
    sha: String,
}

impl Script {
    pub fn new(source: impl Into<Cow<'static, str>>) -> Self {
        let source = source.into();
        let sha = hex::encode(Sha1::digest(source.as_bytes()));
        Self(Arc::new(ScriptInner { source, sha }))
    }

    pub fn sha(&self) -> &str {
        &self.0.sha
    }

    pub fn source(&self) -> &str {
        &self.0.source
    }
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script").field("sha", &self.0.sha).finish()
    }
}

impl PartialEq for Script {
    fn eq(&self, other: &Self) -> bool {
        self.0.sha == other.0.sha
    }
}

/// One Redis command, serialized as a JSON array: `["set","k","v","ex",10]`.
///
/// ```
/// use enghub::upstash::Command;
/// let cmd = Command::new("set").arg("k").arg(r#"{"a":1}"#).arg("ex").arg(10_i64);
/// assert_eq!(cmd.to_json(), r#"["set","k","{\"a\":1}","ex",10]"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    args: Vec<Arg>,
    /// Set for EVALSHA built from a [`Script`], so a NOSCRIPT reply can be retried as EVAL.
    script: Option<Script>,
}

impl Command {
    /// A command named `name` (sent as given; @upstash/redis sends lower case).
    pub fn new(name: &str) -> Self {
        Self {
            args: vec![Arg::Str(name.to_owned())],
            script: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I>(mut self, args: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Arg>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// `["evalsha", sha, numkeys, keys.., args..]`; the client falls back to EVAL on NOSCRIPT
    /// (see [`crate::upstash::UpstashClient::command`]).
    pub fn evalsha<K, A>(script: &Script, keys: K, args: A) -> Self
    where
        K: IntoIterator,
        K::Item: Into<Arg>,
        A: IntoIterator,
        A::Item: Into<Arg>,
    {
        let mut cmd = Self::script_call("evalsha", script.sha(), keys, args);
        cmd.script = Some(script.clone());
        cmd
    }

    /// `["eval", source, numkeys, keys.., args..]`.
    pub fn eval<K, A>(script: &Script, keys: K, args: A) -> Self
    where
        K: IntoIterator,
        K::Item: Into<Arg>,
        A: IntoIterator,
        A::Item: Into<Arg>,
    {
        Self::script_call("eval", script.source(), keys, args)
    }

    fn script_call<K, A>(name: &str, body: &str, keys: K, args: A) -> Self
    where
        K: IntoIterator,
        K::Item: Into<Arg>,
        A: IntoIterator,
        A::Item: Into<Arg>,
    {
        let keys: Vec<Arg> = keys.into_iter().map(Into::into).collect();
        Self::new(name)
            .arg(body)
            .arg(keys.len())
            .args(keys)
            .args(args)
    }

    /// The command name as given to [`Command::new`].
    pub fn name(&self) -> &str {
        match &self.args[0] {
            Arg::Str(name) => name,
            _ => unreachable!("the first element is always the name"),
        }
    }

    /// The script of an EVALSHA built with [`Command::evalsha`].
    pub fn script(&self) -> Option<&Script> {
        self.script.as_ref()
    }

    /// The same call as EVAL with the full source, for an EVALSHA the server did not know.
    pub(crate) fn as_eval(&self) -> Option<Command> {
        let script = self.script.as_ref()?;
        let mut args = self.args.clone();
        args[0] = Arg::Str("eval".to_owned());
        args[1] = Arg::Str(script.source().to_owned());
        Some(Command { args, script: None })
    }

    /// The command as sent inside a MULTI/EXEC: scripts always as EVAL, because a
    /// NOSCRIPT retry of a transaction could apply its other commands twice.
    pub(crate) fn for_transaction(&self) -> Cow<'_, Command> {
        match self.as_eval() {
            Some(eval) => Cow::Owned(eval),
            None => Cow::Borrowed(self),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a command always serializes")
    }
}

impl Serialize for Command {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.args.len()))?;
        for arg in &self.args {
            seq.serialize_element(arg)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_serialize_as_json_strings_and_numbers() {
        let cmd = Command::new("set")
            .arg("k")
            .arg(String::from("v"))
            .arg("ex")
            .arg(10_i64)
            .arg(u64::MAX)
            .arg(1.5_f64)
            .arg(true);
        assert_eq!(
            cmd.to_json(),
            r#"["set","k","v","ex",10,18446744073709551615,1.5,true]"#
        );
    }

    #[test]
    fn json_text_values_are_sent_as_one_string() {
        let cmd = Command::new("set")
            .arg("obj")
            .arg(r#"{"a":1,"b":[true,null]}"#);
        assert_eq!(
            cmd.to_json(),
            r#"["set","obj","{\"a\":1,\"b\":[true,null]}"]"#
        );
    }

    #[test]
    fn non_finite_floats_are_sent_as_redis_strings() {
        let cmd = Command::new("zadd")
            .arg("z")
            .arg(f64::INFINITY)
            .arg(f64::NEG_INFINITY)
            .arg(f64::NAN);
        assert_eq!(cmd.to_json(), r#"["zadd","z","inf","-inf","nan"]"#);
    }

    #[test]
    fn sha1_of_a_known_script_is_lower_case_hex() {
        // The captured @upstash/redis call in protocols.md A.9.
        let script = Script::new("return ARGV[1]");
        assert_eq!(script.sha(), "098e0f0d1448c0a81dafe820f66d460eb09263da");
        assert_eq!(script.source(), "return ARGV[1]");
    }

    #[test]
    fn sha1_of_an_owned_script_matches_the_borrowed_one() {
        let owned = Script::new(String::from("return ARGV[1]"));
        assert_eq!(owned, Script::new("return ARGV[1]"));
    }

    #[test]
    fn evalsha_carries_numkeys_keys_then_args() {
        let script = Script::new("return ARGV[1]");
        let cmd = Command::evalsha(&script, &["k"], ["v"]);
        assert_eq!(
            cmd.to_json(),
            r#"["evalsha","098e0f0d1448c0a81dafe820f66d460eb09263da",1,"k","v"]"#
        );
        let keys = vec![String::from("a"), String::from("b")];
        let cmd = Command::evalsha(&script, &keys, [Arg::from(3_i64), Arg::from("x")]);
        assert_eq!(
            cmd.to_json(),
            r#"["evalsha","098e0f0d1448c0a81dafe820f66d460eb09263da",2,"a","b",3,"x"]"#
        );
    }

    #[test]
    fn evalsha_falls_back_to_eval_with_the_same_keys_and_args() {
        let script = Script::new("return ARGV[1]");
        let keys: &[&str] = &["k"];
        let eval = Command::evalsha(&script, keys, [10_i64]).as_eval().unwrap();
        assert_eq!(eval.to_json(), r#"["eval","return ARGV[1]",1,"k",10]"#);
        assert_eq!(eval, Command::eval(&script, keys, [10_i64]));
    }

    #[test]
    fn transactions_send_scripts_as_eval_and_other_commands_unchanged() {
        let script = Script::new("return 1");
        let no_args: [&str; 0] = [];
        let evalsha = Command::evalsha(&script, no_args, no_args);
        assert_eq!(evalsha.for_transaction().name(), "eval");
        let get = Command::new("get").arg("k");
        assert_eq!(*get.for_transaction(), get);
    }
}
