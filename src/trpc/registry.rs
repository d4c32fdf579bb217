//! The procedure registry: every procedure's path, kind, access tier, input
//! parser, cache declaration and resolver.
//!
//! Procedures declare their cache key as data ([`Planned::cache`]) instead of
//! calling Redis themselves, so the batch executor can read every key of a
//! batch in one Upstash round trip; mutations return the keys they invalidate
//! ([`Mutated`]) so one round trip deletes all of them after the commit.
//!
//! Every output type must implement [`ts_rs::TS`] (for `enghub typegen`), so
//! a procedure whose answer has no TypeScript description cannot be
//! registered. A typed answer compiles:
//!
//! ```
//! use enghub::db::reference_rows::Department;
//! use enghub::trpc::{Access, ApiError, Registry};
//!
//! let mut r: Registry<()> = Registry::default();
//! r.query("demo.typed", Access::Public, |_: &()| None, |_: (), _: ()| async {
//!     Ok::<_, ApiError>(Department { id: "d".into(), name: "Eng".into(), color: None })
//! });
//! ```
//!
//! an untyped JSON value does not (wrap it in [`super::types::View`] with a
//! declared shape):
//!
//! ```compile_fail
//! use enghub::trpc::{Access, ApiError, Registry};
//!
//! let mut r: Registry<()> = Registry::default();
//! r.query("demo.untyped", Access::Public, |_: &()| None, |_: (), _: ()| async {
//!     Ok::<_, ApiError>(serde_json::json!({"id": "d"}))
//! });
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

use super::error::{ApiError, TrpcError};
use super::input::{input_shape, parse, parse_query, FromInput, InputShape};
use super::types::{output_type, Declarations};
use crate::cache::{CacheKey, Probe};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Query,
    Mutation,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Mutation => "mutation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No authentication and no rate limit (only `health.ping`).
    Public,
    /// A verified Clerk session and the rate limit of the procedure's kind.
    Protected,
}

/// What a resolver produced: its data (`None` = undefined) and the cache keys
/// its writes made stale.
#[derive(Debug, Default)]
pub struct Output {
    pub data: Option<Value>,
    pub invalidate: Vec<CacheKey>,
}

/// A mutation's result and the cache keys it invalidates.
pub struct Mutated<T> {
    pub data: T,
    pub invalidate: Vec<CacheKey>,
}

impl<T> Mutated<T> {
    pub fn new(data: T, invalidate: Vec<CacheKey>) -> Self {
        Self { data, invalidate }
    }
}

/// A validated call, ready to run.
pub struct Planned<C> {
    /// The entry this call reads through, if it is cached.
    pub cache: Option<CacheKey>,
    /// A command to send in the first pipeline on the resolver's behalf.
    pub probe: Option<Probe>,
    pub run: Box<dyn FnOnce(C) -> BoxFuture<Result<Output, ApiError>> + Send>,
}

/// Validates a raw input (and knows the caller's user id, for per-user keys).
type PlanFn<C> =
    Box<dyn Fn(Option<&Value>, Option<&str>) -> Result<Planned<C>, TrpcError> + Send + Sync>;

pub struct Procedure<C> {
    pub path: &'static str,
    pub kind: Kind,
    pub access: Access,
    /// Whether it has an input parser ([`FromInput::TAKES_INPUT`]): one
    /// without ignores an unreadable input instead of failing on it.
    pub takes_input: bool,
    /// Its input type as a caller writes it (`enghub typegen`).
    pub input_type: fn() -> InputShape,
    /// Its output type as TypeScript, adding the named types it uses to the
    /// [`Declarations`] (`enghub typegen`).
    pub output_type: fn(&mut Declarations) -> String,
    plan: PlanFn<C>,
}

impl<C> Procedure<C> {
    /// Validates the raw input and returns the call to run (or BAD_REQUEST).
    /// `user_id` is the authenticated caller of a protected procedure.
    pub fn plan(
        &self,
        input: Option<&Value>,
        user_id: Option<&str>,
    ) -> Result<Planned<C>, TrpcError> {
        (self.plan)(input, user_id)
    }
}

fn to_data<T: Serialize + 'static>(value: T) -> Result<Option<Value>, ApiError> {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<Nothing>() {
        return Ok(None);
    }
    let v = serde_json::to_value(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Some(v))
}

/// All procedures, by path.
pub struct Registry<C> {
    procedures: HashMap<&'static str, Procedure<C>>,
}

impl<C> Default for Registry<C> {
    fn default() -> Self {
        Self {
            procedures: HashMap::new(),
        }
    }
}

impl<C: Send + 'static> Registry<C> {
    pub fn get(&self, path: &str) -> Option<&Procedure<C>> {
        self.procedures.get(path)
    }

    pub fn paths(&self) -> Vec<&'static str> {
        let mut p: Vec<_> = self.procedures.keys().copied().collect();
        p.sort_unstable();
        p
    }

    fn insert(&mut self, proc_: Procedure<C>) {
        let path = proc_.path;
        assert!(
            self.procedures.insert(path, proc_).is_none(),
            "procedure {path} registered twice"
        );
    }

    /// Registers a query. `cache` names the entry it reads through, if any.
    pub fn query<I, T, F, Fut>(
        &mut self,
        path: &'static str,
        access: Access,
        cache: fn(&I) -> Option<CacheKey>,
        resolve: F,
    ) where
        I: FromInput + Send + 'static,
        T: Serialize + TS + 'static,
        F: Fn(C, I) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        self.add_query(path, access, move |input, _| (cache(input), None), resolve);
    }

    /// Registers a protected query whose cache entry belongs to the caller
    /// (e.g. `person-me:{clerkUserId}`): `cache` maps the caller's user id to
    /// the key, which the executor then reads in the batch's pipeline.
    pub fn query_for_caller<I, T, F, Fut>(
        &mut self,
        path: &'static str,
        cache: fn(&str) -> CacheKey,
        resolve: F,
    ) where
        I: FromInput + Send + 'static,
        T: Serialize + TS + 'static,
        F: Fn(C, I) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        self.add_query(
            path,
            Access::Protected,
            move |_: &I, user| (user.map(cache), None),
            resolve,
        );
    }

    /// Registers a protected query whose resolver needs a Redis answer first
    /// (`probe`, from the input and the caller's user id): the executor sends
    /// it in the batch's first pipeline, saving the resolver a round trip.
    pub fn query_with_probe<I, T, F, Fut>(
        &mut self,
        path: &'static str,
        probe: fn(&I, &str) -> Probe,
        resolve: F,
    ) where
        I: FromInput + Send + 'static,
        T: Serialize + TS + 'static,
        F: Fn(C, I) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        self.add_query(
            path,
            Access::Protected,
            move |input: &I, user| (None, user.map(|u| probe(input, u))),
            resolve,
        );
    }

    fn add_query<I, T, F, Fut, K>(
        &mut self,
        path: &'static str,
        access: Access,
        cache: K,
        resolve: F,
    ) where
        I: FromInput + Send + 'static,
        T: Serialize + TS + 'static,
        F: Fn(C, I) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
        K: Fn(&I, Option<&str>) -> (Option<CacheKey>, Option<Probe>) + Send + Sync + 'static,
    {
        self.insert(Procedure {
            path,
            kind: Kind::Query,
            access,
            takes_input: I::TAKES_INPUT,
            input_type: input_shape::<I>,
            output_type: output_type::<T>,
            plan: Box::new(move |raw, user| {
                let input: I = parse_query(raw)?;
                let (cache, probe) = cache(&input, user);
                Ok(Planned {
                    cache,
                    probe,
                    run: Box::new(move |ctx| {
                        Box::pin(async move {
                            let data = to_data(resolve(ctx, input).await?)?;
                            Ok(Output {
                                data,
                                invalidate: vec![],
                            })
                        })
                    }),
                })
            }),
        });
    }

    /// Registers a protected mutation.
    pub fn mutation<I, T, F, Fut>(&mut self, path: &'static str, resolve: F)
    where
        I: FromInput + Send + 'static,
        T: Serialize + TS + 'static,
        F: Fn(C, I) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<Mutated<T>, ApiError>> + Send + 'static,
    {
        self.insert(Procedure {
            path,
            kind: Kind::Mutation,
            access: Access::Protected,
            takes_input: I::TAKES_INPUT,
            input_type: input_shape::<I>,
            output_type: output_type::<T>,
            plan: Box::new(move |raw, _user| {
                let input: I = parse(raw)?;
                Ok(Planned {
                    cache: None,
                    probe: None,
                    run: Box::new(move |ctx| {
                        Box::pin(async move {
                            let m = resolve(ctx, input).await?;
                            Ok(Output {
                                data: to_data(m.data)?,
                                invalidate: m.invalidate,
                            })
                        })
                    }),
                })
            }),
        });
    }
}

/// A mutation that returns nothing answers `{"result":{}}`, like tRPC's
/// `undefined`.
#[derive(Debug, Clone, Copy)]
pub struct Nothing;

/// tRPC's output type of a resolver that returns nothing.
impl TS for Nothing {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(_: &ts_rs::Config) -> String {
        "void".to_string()
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

impl Serialize for Nothing {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}
