//! TypeScript descriptions of procedure types, for `enghub typegen`.
//!
//! Outputs derive [`ts_rs::TS`] (ts-rs 12, `serde-compat`: it reads the same
//! `#[serde(rename_all, skip_serializing_if, flatten, ..)]` attributes the
//! JSON is written with). The registry demands `TS` of every output type, so
//! a procedure whose answer has no TypeScript description does not compile;
//! `serde_json::Value` deliberately has no `TS` impl here (the `serde-json-impl`
//! feature is off), so an untyped SQL view must be wrapped in [`View`] with a
//! declared shape. Inputs are described by their parsers
//! ([`super::input::input_shape`]).

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::Value;
use ts_rs::{Config, TypeVisitor, TS};

/// The ts-rs settings of the generated file: Rust `i64`/`u64` are JSON
/// numbers (`number`, not ts-rs's default `bigint`).
pub fn ts_config() -> Config {
    Config::new().with_large_int("number")
}

/// The named declarations (`type Person = {...}`) an output type needs,
/// gathered by walking its ts-rs dependencies; keyed by TypeScript name.
#[derive(Default)]
pub struct Declarations {
    seen: HashSet<TypeId>,
    /// TypeScript name → its `export type Name = ...;` declaration, after
    /// its doc comment (the Rust one, as JSDoc).
    pub decls: BTreeMap<String, String>,
    /// TypeScript names that two different Rust types declared.
    pub conflicts: Vec<String>,
    cfg: Config,
}

impl Declarations {
    pub fn new() -> Self {
        Self {
            cfg: ts_config(),
            ..Self::default()
        }
    }
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        // Derived types have an export path; primitives and wrappers
        // (`Vec`, `Option`, ...) do not and are written inline.
        if T::output_path().is_some() {
            let name = T::ident(&self.cfg);
            let docs = T::docs().unwrap_or_default();
            let decl = format!("{docs}export {}", T::decl(&self.cfg));
            if let Some(previous) = self.decls.insert(name.clone(), decl.clone()) {
                if previous != decl {
                    self.conflicts.push(format!(
                        "{name} (one of them is {})",
                        std::any::type_name::<T>()
                    ));
                }
            }
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

/// Describes the output type `T`: its TypeScript type expression, after
/// adding every named type it refers to to `decls`. Stored by the registry
/// as a function pointer, so nothing runs until `enghub typegen` asks.
pub fn output_type<T: TS + 'static>(decls: &mut Declarations) -> String {
    decls.visit::<T>();
    T::name(&decls.cfg)
}

/// A JSON value built by Postgres (`json_build_object` views), answered as it
/// is, whose shape is declared by `T` for the TypeScript types. In debug
/// builds (every test), [`View::new`] checks the value against `T`: it must
/// deserialize into `T` and serialize back to the same JSON (same keys, no
/// missing or extra ones, equal values; key order and `10` vs `10.0` aside),
/// so a view and its declaration cannot drift apart unnoticed: a mismatch
/// panics with the JSON path, which fails the test that produced it.
pub struct View<T> {
    value: Value,
    shape: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Serialize> View<T> {
    /// Wraps `value`; debug builds panic if it does not match `T`.
    pub fn new(value: Value) -> Self {
        #[cfg(debug_assertions)]
        if let Err(e) = conforms::<T>(&value) {
            panic!(
                "the JSON view does not match its declared type {}: {e}\n{value}",
                std::any::type_name::<T>()
            );
        }
        Self {
            value,
            shape: PhantomData,
        }
    }

    /// The JSON value itself.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// Reads the value, e.g. to find ids in it.
    pub fn value(&self) -> &Value {
        &self.value
    }
}

/// Whether `value` is exactly a `T`: it deserializes into one that
/// serializes back to the same JSON ([`json_difference`]).
pub fn conforms<T: DeserializeOwned + Serialize>(value: &Value) -> Result<(), String> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    match json_difference(value, &back, "$") {
        Some(diff) => Err(diff),
        None => Ok(()),
    }
}

/// The first place (a JSON path and why) where `a` and `b` differ, ignoring
/// key order and comparing numbers by value.
pub fn json_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if let Some(k) = x.keys().find(|k| !y.contains_key(*k)) {
                return Some(format!("{path}.{k}: not in the declared type"));
            }
            if let Some(k) = y.keys().find(|k| !x.contains_key(*k)) {
                return Some(format!("{path}.{k}: declared but missing"));
            }
            x.iter()
                .find_map(|(k, v)| json_difference(v, &y[k], &format!("{path}.{k}")))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| json_difference(v, w, &format!("{path}[{i}]"))),
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => None,
        _ if a == b => None,
        _ => Some(format!("{path}: {a} reads back as {b}")),
    }
}

/// TypeScript's `Record<string, V>`, for a JSON object keyed by data (use it
/// as `#[ts(as = "Record<V>")]` on a map field). ts-rs 12 writes maps as
/// `{ [key in string]?: V }`, whose values read as `V | undefined`.
pub struct Record<V>(PhantomData<V>);

impl<V: TS + 'static> TS for Record<V> {
    type WithoutGenerics = Record<ts_rs::Dummy>;
    type OptionInnerType = Self;

    fn name(cfg: &Config) -> String {
        format!("Record<string, {}>", V::name(cfg))
    }

    fn inline(cfg: &Config) -> String {
        format!("Record<string, {}>", V::inline(cfg))
    }

    fn visit_dependencies(v: &mut impl TypeVisitor) {
        V::visit_dependencies(v);
    }

    fn visit_generics(v: &mut impl TypeVisitor) {
        V::visit_generics(v);
        v.visit::<V>();
    }
}

/// What a [`View`] can declare: a TypeScript type that reads and writes the
/// view's JSON.
pub trait Shape: TS + Serialize + DeserializeOwned + Send + 'static {}

impl<T: TS + Serialize + DeserializeOwned + Send + 'static> Shape for T {}

impl<T> Serialize for View<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: TS + 'static> TS for View<T> {
    type WithoutGenerics = View<ts_rs::Dummy>;
    type OptionInnerType = Self;

    fn name(cfg: &Config) -> String {
        T::name(cfg)
    }

    fn inline(cfg: &Config) -> String {
        T::inline(cfg)
    }

    fn visit_dependencies(v: &mut impl TypeVisitor) {
        T::visit_dependencies(v);
    }

    fn visit_generics(v: &mut impl TypeVisitor) {
        T::visit_generics(v);
        v.visit::<T>();
    }
}

impl<T> std::fmt::Debug for View<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}
