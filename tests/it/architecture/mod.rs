//! Architecture: imports in `src/` point down the layers of [`LAYERS`], and no folder module has
//! an import cycle among its submodules.

mod parse;
mod sizes;

use parse::{Parsed, Source, parse_all, parse_source, read_sources};
use std::collections::{BTreeMap, BTreeSet};

/// Top-level modules, bottom row first: a module may import only modules in lower rows. The
/// crate docs (`src/lib.rs`) carry the same table, one row per `//!` line.
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["emulator"],
    &["profile"],
    &["payload"],
    &["plan"],
    &["sample"],
    &["endpoint"],
    &["recorder"],
    &["engine"],
    &["results"],
    &["pricing"],
    &["recommend"],
    &["store"],
    &["report"],
    &["compare"],
    &["provision"],
    &["run"],
    &["cli"],
    &["app"],
];

/// Every module path that has a file, with all its ancestors (the root excluded).
type Modules = BTreeSet<Vec<String>>;

/// Row of a top-level module in `layers`; `main` sits above every row.
fn layer_of(layers: &[&[&str]], name: &str) -> Option<usize> {
    if name == "main" {
        return Some(layers.len());
    }
    layers.iter().position(|row| row.contains(&name))
}

/// Why `from` may not import `to` under `layers`, if it may not.
fn layer_problem(layers: &[&[&str]], from: &str, to: &str) -> Option<String> {
    let (row, to_row) = (layer_of(layers, from)?, layer_of(layers, to)?);
    if to_row > row {
        Some(format!("a higher layer: {to} is above {from}"))
    } else if to_row == row && to != from {
        Some(format!("the same layer: {to} and {from} share a row"))
    } else {
        None
    }
}

/// Upward and same-row imports between top-level modules, and modules missing from `layers`.
fn layer_violations(files: &[Parsed], modules: &Modules, layers: &[&[&str]]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.module.len() == 1) {
        if layer_of(layers, &f.module[0]).is_none() {
            out.push(format!(
                "{}:1: module {} is not in LAYERS; add it to LAYERS (and to the crate docs) \
                 in the row it belongs to",
                f.file, f.module[0]
            ));
        }
    }
    for f in files {
        let from = if f.is_main {
            "main"
        } else {
            f.module.first().map_or("", |m| m)
        };
        let mut seen = BTreeSet::new();
        for imp in &f.imports {
            let Some(to) = imp.path.first() else { continue };
            let real = |_: &String| modules.contains(&imp.path[..1]) && seen.insert((imp.line, to));
            if let Some(how) = layer_problem(layers, from, to).filter(real) {
                out.push(format!(
                    "{}:{}: {from} imports {to} (`{}`, {how}); \
                     move the shared item down or invert the call",
                    f.file,
                    imp.line,
                    imp.path.join("::")
                ));
            }
        }
    }
    out
}

/// A folder's sibling edges: child → (imported sibling → file:line of the first such import).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// The sibling graph of every folder module; names that are only the parent's items don't count.
fn sibling_graphs(files: &[Parsed], modules: &Modules) -> BTreeMap<Vec<String>, Graph> {
    let mut graphs = BTreeMap::<Vec<String>, Graph>::new();
    for f in files.iter().filter(|f| !f.is_main) {
        for imp in &f.imports {
            let (a, b) = (&f.module, &imp.path);
            let k = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            if k > 0 && k < a.len().min(b.len()) && modules.contains(&b[..=k]) {
                let graph = graphs.entry(a[..k].to_vec()).or_default();
                let edges = graph.entry(a[k].clone()).or_default();
                let at = || format!("{}:{}", f.file, imp.line);
                edges.entry(b[k].clone()).or_insert_with(at);
            }
        }
    }
    graphs
}

/// Every elementary cycle of `g`, each starting at its smallest node, closed (`[a, b, a]`).
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    fn walk(g: &Graph, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        let (start, last) = (path[0].clone(), path[path.len() - 1].clone());
        for next in g.get(&last).into_iter().flat_map(|e| e.keys()) {
            if *next == start {
                out.push(path.iter().chain([&start]).cloned().collect());
            } else if *next > start && !path.contains(next) {
                path.push(next.clone());
                walk(g, path, out);
                path.pop();
            }
        }
    }
    let mut out = Vec::new();
    for start in g.keys() {
        walk(g, &mut vec![start.clone()], &mut out);
    }
    out
}

/// Import cycles among the submodules of every folder module.
fn cycle_violations(files: &[Parsed], modules: &Modules) -> Vec<String> {
    let mut out = Vec::new();
    for (parent, g) in sibling_graphs(files, modules) {
        let name = parent.join("::");
        for cycle in cycles(&g) {
            let edge = |w: &[String]| format!("{} → {} at {}", w[0], w[1], g[&w[0]][&w[1]]);
            let edges: Vec<String> = cycle.windows(2).map(edge).collect();
            out.push(format!(
                "{}: {name}: {} ({}); break the cycle: move the shared item up into {name} \
                 or into a new sibling both import",
                g[&cycle[0]][&cycle[1]],
                cycle.join(" → "),
                edges.join(", "),
            ));
        }
    }
    out
}

/// A complaint if the crate docs in `lib` lack the `layers` table (one row per `//!` line).
fn docs_violation(lib: &str, layers: &[&[&str]]) -> Option<String> {
    let docs: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("//!"))
        .collect();
    let docs: Vec<&str> = docs.into_iter().map(str::trim).collect();
    let rows: Vec<String> = layers.iter().map(|row| row.join(", ")).collect();
    let top_first: Vec<String> = rows.iter().rev().cloned().collect();
    // A row may be followed by words saying what the layer owns: `plan   Profile → cells`.
    let names = |line: &str, row: &str| line == row || line.starts_with(&format!("{row} "));
    let has = |want: &[String]| {
        docs.windows(want.len())
            .any(|w| w.iter().zip(want).all(|(line, row)| names(line, row)))
    };
    if has(&rows) || has(&top_first) {
        return None;
    }
    let table: Vec<String> = rows.iter().map(|r| format!("//! {r}")).collect();
    Some(format!(
        "src/lib.rs:1: the crate docs lack the LAYERS table; add it (bottom first, one row \
         per line, same-row modules comma-separated, e.g. in a ```text block):\n{}",
        table.join("\n")
    ))
}

/// Every architecture violation in `sources`, checked against `layers`.
fn check(sources: &[Source], layers: &[&[&str]]) -> Vec<String> {
    let files = parse_all(sources);
    let modules: Modules = files
        .iter()
        .flat_map(|f| (1..=f.module.len()).map(move |n| f.module[..n].to_vec()))
        .collect();
    let mut out = layer_violations(&files, &modules, layers);
    out.extend(cycle_violations(&files, &modules));
    let lib = sources.iter().find(|s| s.file == "src/lib.rs");
    out.extend(lib.and_then(|lib| docs_violation(&lib.text, layers)));
    out
}

#[test]
fn imports_point_down_the_layers() {
    let sources = read_sources("src");
    assert!(sources.iter().any(|s| s.file == "src/lib.rs"), "no lib.rs");
    let problems = check(&sources, LAYERS);
    assert!(
        problems.is_empty(),
        "{} architecture violation(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// In-memory sources: each `@@ src/file.rs` line starts a file, the lines after it are its text.
fn fixture(text: &str) -> Vec<Source> {
    let mut out: Vec<Source> = Vec::new();
    for line in text.lines() {
        if let Some(file) = line.strip_prefix("@@ ") {
            let (file, text) = (file.to_string(), String::new());
            out.push(Source { file, text });
        } else if let Some(last) = out.last_mut() {
            last.text.push_str(line);
            last.text.push('\n');
        }
    }
    out
}

/// A small fake crate: one upward import, one sibling cycle, and decoys that must not count.
const FIXTURE: &str = r#"@@ src/domain/mod.rs
//! Mentions crate::report::Doc in docs only.
use std::fmt;
// use crate::report::Comment;
use crate::report::View;
fn f() { let _ = ("crate::run::Str", '{', r"crate::run::Raw", "\"crate::run::Esc"); }
#[cfg(test)]
mod tests {
    const C: char = '}';
    use crate::app::Test;
}
/* crate::app::Block */
#[cfg(test)]
#[allow(dead_code)]
fn helper() { crate::app::go() }
@@ src/emulator/mod.rs
pub use crate::{domain::Ok, profile::{self, Up}};
#[cfg(test)]
mod tests;
@@ src/emulator/tests.rs
use crate::app::Test;
@@ src/report/mod.rs
mod html;
mod svg;
pub struct View;
#[cfg(test)]
impl View {
    fn t() { crate::app::go() }
}
@@ src/report/html.rs
use super::View;
use super::svg::Chart;
@@ src/report/svg.rs
pub struct Chart;
fn g() {
    super::html::page(super::View);
}
@@ src/main.rs
use loadtest::app::run;
@@ src/app.rs
use crate::{report::View, cli::Args};
@@ src/cli.rs
@@ src/profile/mod.rs
@@ src/run/mod.rs
@@ src/extra.rs
"#;

#[test]
fn the_checker_catches_planted_violations_and_only_those() {
    let sources = fixture(FIXTURE);
    let emulator = parse_source(&sources[1]);
    let paths: Vec<String> = emulator.imports.iter().map(|i| i.path.join("::")).collect();
    assert_eq!(paths, ["domain::Ok", "profile", "profile::Up"]);
    assert_eq!(emulator.test_mods, [["emulator", "tests"]]);
    let problems = check(&sources, LAYERS);
    let want = [
        "src/extra.rs:1: module extra is not in LAYERS; add it to LAYERS",
        "src/domain/mod.rs:4: domain imports report (`report::View`, a higher layer: report is \
         above domain); move the shared item down",
        "src/emulator/mod.rs:1: emulator imports profile (`profile`, a higher layer",
        "src/report/html.rs:2: report: html → svg → html (html → svg at src/report/html.rs:2, \
         svg → html at src/report/svg.rs:3); break the cycle",
    ];
    assert_eq!(problems.len(), want.len(), "{problems:#?}");
    for (got, want) in problems.iter().zip(want) {
        assert!(got.starts_with(want), "{got}\n  should start with\n{want}");
    }
    let rows: &[&[&str]] = &[
        &["domain"],
        &["emulator", "profile"],
        &["report"],
        &["cli", "app"],
    ];
    let same = "src/emulator/mod.rs:1: emulator imports profile (`profile`, the same layer";
    let problems = check(&sources, rows);
    assert!(
        problems.iter().any(|p| p.starts_with(same)),
        "{problems:#?}"
    );
    let docs = "//! Layers:\n//! ```text\n//! domain\n//! emulator, profile\n//! report\n";
    assert!(docs_violation(&format!("{docs}//! cli, app\n//! ```\n"), rows).is_none());
    assert!(docs_violation(docs, rows).is_some());
}
