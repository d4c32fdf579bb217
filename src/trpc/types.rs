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
    /// Empty, with [`ts_config`]'s settings.
    pub fn new() -> Self {
        Self {
            seen: HashSet::new(),
            decls: BTreeMap::new(),
            conflicts: Vec::new(),
            cfg: ts_config(),
        }
    }
}

impl Default for Declarations {
    fn default() -> Self {
        Self::new()
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
            let decl = format!("{docs}export {}", one_field_per_line(&T::decl(&self.cfg)));
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

/// ts-rs writes an object type on one line (`type A = { a: string, b: B, };`,
/// field docs inside it); this puts each field on its own indented line
/// after its doc comment. Anything else (unions, unparsable text) is kept.
fn one_field_per_line(decl: &str) -> String {
    let (Some(open), Some(body_end)) = (decl.find("= {"), decl.rfind('}')) else {
        return decl.to_string();
    };
    let body = &decl[open + 3..body_end];
    let mut fields = Vec::new();
    let (mut depth, mut start, mut chars) = (0i32, 0, body.char_indices().peekable());
    while let Some((i, c)) = chars.next() {
        match c {
            '<' | '{' | '[' | '(' => depth += 1,
            '>' | '}' | ']' | ')' => depth -= 1,
            // A doc comment or a string literal: skip to its end.
            '/' if body[i..].starts_with("/**") => match body[i..].find("*/") {
                Some(end) => {
                    while chars.peek().is_some_and(|(j, _)| *j < i + end + 2) {
                        chars.next();
                    }
                }
                None => return decl.to_string(),
            },
            '"' => loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => {
                        chars.next();
                    }
                    Some(_) => {}
                    None => return decl.to_string(),
                }
            },
            ',' if depth == 0 => {
                fields.push(body[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return decl.to_string();
        }
    }
    fields.push(body[start..].trim());
    let mut out = format!("{}= {{\n", &decl[..open]);
    for field in fields.into_iter().filter(|f| !f.is_empty()) {
        for line in field.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let indent = if line.starts_with('*') { "   " } else { "  " };
            out.push_str(indent);
            out.push_str(line);
            if !line.starts_with("/**") && !line.starts_with('*') {
                out.push(';');
            }
            out.push('\n');
        }
    }
    out.push_str(decl[body_end..].trim_end_matches(';'));
    out.push(';');
    out
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

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Serialize, Deserialize, TS)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        id: String,
        sort_order: i32,
        note: Option<String>,
    }

    #[test]
    fn object_declarations_get_one_field_per_line() {
        assert_eq!(
            one_field_per_line(
                "type A = { \n/**\n * Its id.\n */\nid: string, m: Record<string, B>, s: \"a, b\" | null, };"
            ),
            "type A = {\n  /**\n   * Its id.\n   */\n  id: string;\n  m: Record<string, B>;\n  s: \"a, b\" | null;\n};"
        );
        assert_eq!(
            one_field_per_line(r#"type Q = { s: "a\", b" | "c", n: number, };"#),
            "type Q = {\n  s: \"a\\\", b\" | \"c\";\n  n: number;\n};"
        );
        assert_eq!(
            one_field_per_line("type S = \"A\" | \"B\";"),
            "type S = \"A\" | \"B\";"
        );
    }

    #[test]
    fn a_view_that_matches_its_type_conforms() {
        let v = json!({"id": "a", "sortOrder": 1, "note": null});
        assert_eq!(conforms::<Row>(&v), Ok(()));
        assert_eq!(
            json_difference(&json!({"n": 10}), &json!({"n": 10.0}), "$"),
            None
        );
    }

    #[test]
    fn extra_missing_and_mistyped_keys_do_not_conform() {
        let extra = json!({"id": "a", "sortOrder": 1, "note": null, "more": 1});
        assert_eq!(
            conforms::<Row>(&extra),
            Err("$.more: not in the declared type".into())
        );
        let missing = json!({"id": "a", "sortOrder": 1});
        assert_eq!(
            conforms::<Row>(&missing),
            Err("$.note: declared but missing".into())
        );
        let mistyped = json!({"id": "a", "sortOrder": "1", "note": null});
        assert!(conforms::<Row>(&mistyped).is_err());
    }

    #[test]
    #[should_panic(expected = "does not match its declared type")]
    fn a_view_that_drifts_from_its_type_panics_in_debug_builds() {
        View::<Row>::new(json!({"id": "a"}));
    }

    #[test]
    fn a_view_is_typed_as_its_shape_and_written_as_its_value() {
        let v = View::<Vec<Row>>::new(json!([{"id": "a", "sortOrder": 1, "note": "n"}]));
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"[{"id":"a","sortOrder":1,"note":"n"}]"#
        );
        let mut decls = Declarations::new();
        assert_eq!(output_type::<View<Vec<Row>>>(&mut decls), "Array<Row>");
        assert!(decls.decls["Row"].contains("sortOrder: number"));
        assert_eq!(
            output_type::<Record<Row>>(&mut decls),
            "Record<string, Row>"
        );
    }
}
