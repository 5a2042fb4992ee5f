//! Every unknown key of a profile in one pass, and the key path of any place in the file.
//!
//! The text is parsed once into a spanned TOML table and walked against the key sets of the
//! raw mirror ([`super::raw`]), which serde gives up: a type's field names are read from its
//! derived `Deserialize`, so the sets cannot drift from the structs. The typed parse that
//! follows stops at its first error; this walk does not.

use super::checker::{Checker, Problem};
use crate::domain::names::closest;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// Each key's value span and its dotted path (`sweep.load.concurrency[2]`).
pub(super) struct KeyPaths(Vec<(Range<usize>, String)>);

impl KeyPaths {
    /// The path of the innermost value around `offset`, if any.
    pub(super) fn at(&self, offset: usize) -> Option<&str> {
        self.0
            .iter()
            .filter(|(span, _)| span.contains(&offset))
            .min_by_key(|(span, _)| span.len())
            .map(|(_, path)| path.as_str())
    }
}

/// Walks `table`: every key not in the raw mirror becomes a problem in `c`.
pub(super) fn walk(c: &mut Checker, table: &DeTable<'_>) -> KeyPaths {
    let mut paths = KeyPaths(Vec::new());
    walk_table(c, table, "", &mut paths);
    paths
}

fn walk_table(c: &mut Checker, table: &DeTable<'_>, path: &str, paths: &mut KeyPaths) {
    let known = known_keys(path);
    for (key, value) in table {
        let name = key.get_ref().as_ref();
        let full = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        if let Some(known) = known.filter(|k| !k.contains(&name)) {
            let fix = match closest(name, known) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("valid keys here: {}", known.join(", ")),
            };
            let place = if path.is_empty() { "the profile" } else { path };
            c.at(
                Some(key.span()),
                &full,
                format!("unknown key in {place}"),
                Some(fix),
            );
            continue;
        }
        walk_value(c, value.get_ref(), value.span(), &full, paths);
    }
}

fn walk_value(
    c: &mut Checker,
    value: &DeValue<'_>,
    span: Range<usize>,
    path: &str,
    paths: &mut KeyPaths,
) {
    paths.0.push((span, path.to_string()));
    match value {
        DeValue::Table(t) => walk_table(c, t, path, paths),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                walk_value(c, item.get_ref(), item.span(), &item_path, paths);
            }
        }
        _ => {}
    }
}

/// The keys a table at `path` takes; `None` where any key goes (headers, URL maps) or the
/// table is checked by its own type.
fn known_keys(path: &str) -> Option<&'static [&'static str]> {
    use super::raw::*;
    match path {
        "" => fields_of::<RawProfile>(),
        "target" => fields_of::<RawTarget>(),
        "target.faults" => fields_of::<crate::emulator::Faults>(),
        "model" => fields_of::<crate::emulator::ModelConfig>(),
        "sweep" => fields_of::<RawSweep>(),
        "sweep.load" => fields_of::<RawLoad>(),
        "payload" => fields_of::<RawPayload>(),
        "sla" => fields_of::<RawSla>(),
        "traffic" => fields_of::<RawTraffic>(),
        "pricing" => fields_of::<RawPricing>(),
        "report" => fields_of::<RawReport>(),
        "regression" => fields_of::<crate::domain::thresholds::RawRegression>(),
        "provision" => fields_of::<RawProvision>(),
        _ => None,
    }
}

/// The field names of a struct with a derived `Deserialize`, `None` for anything else.
fn fields_of<'de, T: Deserialize<'de>>() -> Option<&'static [&'static str]> {
    match T::deserialize(FieldNames) {
        Err(Captured(fields)) => fields,
        Ok(_) => None,
    }
}

/// A deserializer that answers every request with the struct's field names, as an error.
struct FieldNames;

/// The "error" [`FieldNames`] returns: the field names, when a struct was asked for.
#[derive(Debug, thiserror::Error)]
#[error("field names captured")]
struct Captured(Option<&'static [&'static str]>);

impl de::Error for Captured {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Captured(None)
    }
}

impl<'de> Deserializer<'de> for FieldNames {
    type Error = Captured;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Captured> {
        Err(Captured(None))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Captured> {
        Err(Captured(Some(fields)))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// An example of the form `key` takes, written as it goes in the profile.
pub(super) fn example(key: &str, expected: &str) -> String {
    let field = key
        .rsplit('.')
        .next()
        .unwrap_or(key)
        .split('[')
        .next()
        .unwrap_or(key);
    let value = match field {
        "duration" | "warmup" | "timeout" => "\"5s\"",
        "concurrency" => "[1, 2, 4]",
        "rates" => "[50, 100, 200]",
        "payload_sizes" => "[\"1KiB\", \"64KiB\"]",
        "hosting" => "[\"real-time\", \"serverless\"]",
        "instance_types" => "[\"ml.c5.xlarge\", \"ml.m5.xlarge\"]",
        "serverless_memory_mb" => "[2048, 4096]",
        "paths" => "[\"small.json\", \"large.json\"]",
        "percentile" => "99",
        "latency_ms" => "250",
        "max_error_rate" => "0.001",
        "peak_rps" => "400",
        "requests_per_day" => "2000000",
        "headroom" => "0.2",
        "url" => "\"http://127.0.0.1:8080/invocations\"",
        "kind" => "\"http\"",
        "source" => "\"random\"",
        "content_type" => "\"application/json\"",
        "mode" => "\"closed\"",
        "arrivals" => "\"poisson\"",
        "strategy" => "\"grid\"",
        "name" => "\"bert-launch\"",
        "region" => "\"us-east-1\"",
        _ => match expected {
            "a list" => "[...]",
            "a string" => "\"...\"",
            "a whole number" => "1",
            "a number" => "1.5",
            "true or false" => "true",
            "a table" => "{ ... }",
            _ => return format!("write `{field}` as {expected}"),
        },
    };
    format!("write e.g. `{field} = {value}`")
}

/// Serde's word for a type ("a sequence", "u32") as a profile author would say it.
pub(super) fn plain_type(serde: &str) -> &'static str {
    let s = serde
        .trim()
        .trim_start_matches("a ")
        .trim_start_matches("an ");
    match s {
        "sequence" => "a list",
        "string" | "str" | "char" => "a string",
        "boolean" | "bool" => "true or false",
        "map" | "struct" => "a table",
        t if t.starts_with('u') || t.starts_with('i') || t.contains("integer") => "a whole number",
        t if t.starts_with('f') || t.contains("float") => "a number",
        _ => "a value of another type",
    }
}

/// Turns an error of the typed parse into a problem naming the key (from `paths`), the
/// form it takes and an example, in the profile's words rather than the parser's.
pub(super) fn typed_problem(err: &toml::de::Error, text: &str, paths: &KeyPaths) -> Problem {
    let mut p = Problem::from_toml(err, text);
    let Some(span) = err.span() else { return p };
    let at = paths.at(span.start).unwrap_or_default().to_string();
    let message = err.message().trim();
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        p.key = if at.is_empty() {
            field.to_string()
        } else {
            format!("{at}.{field}")
        };
        p.message = "is missing".into();
        let example = example(&p.key, "a value");
        p.fix = Some(example.replacen("write", "add", 1));
        return p;
    }
    let shape = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    let Some((found, expected)) = shape.and_then(|s| s.split_once(", expected ")) else {
        if !at.is_empty() && p.fix.is_none() {
            p.key = at;
        }
        return p;
    };
    let (kind, value) = found.split_once(' ').unwrap_or((found, ""));
    let plain = plain_type(expected);
    let value = value.trim_matches('`');
    let field = at.rsplit('.').next().unwrap_or_default();
    let duration = matches!(field, "duration" | "warmup" | "timeout");
    p.message = if duration && plain == "a string" {
        format!("{value} has no unit: a duration is a string such as \"5s\"")
    } else if message.starts_with("invalid type") {
        format!("{value} is {}, and this key takes {plain}", article(kind))
    } else {
        format!("{value} is out of range for {plain}")
    };
    p.fix = Some(example(&at, plain));
    p.key = at;
    p
}

fn article(kind: &str) -> String {
    let kind = if kind == "sequence" { "list" } else { kind };
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {kind}")
    } else {
        format!("a {kind}")
    }
}
