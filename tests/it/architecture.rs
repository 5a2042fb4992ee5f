//! Architecture: imports in `src/` point down the layers of [`LAYERS`], and no folder module has
//! an import cycle among its submodules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

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

/// One source file: its path as `src/...` and its text.
struct Source {
    file: String,
    text: String,
}

/// One imported path, made absolute (`["report", "html", "Page"]`), and its line.
struct Import {
    line: usize,
    path: Vec<String>,
}

/// A parsed file: where it sits in the module tree and what it imports outside tests.
struct Parsed {
    file: String,
    module: Vec<String>,
    is_main: bool,
    imports: Vec<Import>,
    /// Modules declared `#[cfg(test)] mod x;` here, whose files are test code.
    test_mods: Vec<Vec<String>>,
}

/// A word or punctuation token of code, with its line.
struct Token {
    text: String,
    line: usize,
}

/// Every `.rs` file under `dir`, sorted, named relative to the crate (`src/...`).
fn read_sources(dir: &Path) -> Vec<Source> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(dir).expect("under src");
                let file = format!("src/{}", rel.to_string_lossy().replace('\\', "/"));
                let text = std::fs::read_to_string(&path).expect("read source");
                out.push(Source { file, text });
            }
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// `src/report/html.rs` → `report::html`; `mod.rs` → its folder; `lib.rs`/`main.rs` → root.
fn module_path(file: &str) -> Vec<String> {
    let rel = file.strip_prefix("src/").unwrap_or(file);
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    let root_file = parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main");
    if root_file || parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// End of the comment, string or char literal starting at `i`, if one starts there.
fn literal_end(c: &[char], i: usize) -> Option<usize> {
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    let after_word = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
    if !after_word && (at(i) == 'r' || (at(i), at(i + 1)) == ('b', 'r')) {
        let k = if at(i) == 'r' { i + 1 } else { i + 2 };
        let hashes = c[k..].iter().take_while(|&&ch| ch == '#').count();
        if at(k + hashes) == '"' {
            let close = format!("\"{}", "#".repeat(hashes));
            return Some(past(c, k + hashes + 1, &close));
        }
    }
    match (at(i), at(i + 1)) {
        ('/', '/') => Some(past(c, i, "\n")),
        ('/', '*') => Some(past(c, i + 2, "*/")),
        ('"', _) => {
            let mut k = i + 1;
            while k < c.len() && c[k] != '"' {
                k += if c[k] == '\\' { 2 } else { 1 };
            }
            Some(c.len().min(k + 1))
        }
        ('\'', '\\') => Some(past(c, i + 3, "'")),
        ('\'', _) if at(i + 2) == '\'' => Some(i + 3),
        _ => None,
    }
}

/// Index just past the first `pat` at or after `from`, or the end.
fn past(c: &[char], from: usize, pat: &str) -> usize {
    let pat: Vec<char> = pat.chars().collect();
    let found = (from..c.len()).find(|&k| c[k..].starts_with(&pat));
    found.map_or(c.len(), |k| k + pat.len())
}

/// Splits code into words (`$` and `_` included), `::` and single punctuation, with lines;
/// comments, strings and char literals are skipped.
fn tokens(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let word = |ch: char| ch.is_alphanumeric() || ch == '_' || ch == '$';
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while i < c.len() {
        let literal = literal_end(&c, i);
        let end = literal.unwrap_or_else(|| match c[i] {
            ch if word(ch) => i + c[i..].iter().take_while(|&&ch| word(ch)).count(),
            ':' if c.get(i + 1) == Some(&':') => i + 2,
            _ => i + 1,
        });
        if literal.is_none() && !c[i].is_whitespace() {
            out.push(Token {
                text: c[i..end].iter().collect(),
                line,
            });
        }
        line += c[i..end].iter().filter(|&&ch| ch == '\n').count();
        i = end;
    }
    out
}

/// Whether the token at `i` is `text`.
fn is(t: &[Token], i: usize, text: &str) -> bool {
    t.get(i).is_some_and(|x| x.text == text)
}

/// Whether the tokens at `i` spell `#[cfg(test)]`.
fn is_cfg_test(t: &[Token], i: usize) -> bool {
    let want = ["#", "[", "cfg", "(", "test", ")", "]"];
    want.iter().enumerate().all(|(k, w)| is(t, i + k, w))
}

/// Index just past the brackets opened at `i` (`{`, `(` or `[`), balanced over all three.
fn past_group(t: &[Token], i: usize) -> usize {
    let mut depth = 0usize;
    for (k, tok) in t.iter().enumerate().skip(i) {
        match tok.text.as_str() {
            "{" | "(" | "[" => depth += 1,
            "}" | ")" | "]" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k + 1;
                }
            }
            _ => {}
        }
    }
    t.len()
}

/// Index just past the item starting at `i`: through its `;`, `,` or balanced `{ }` block.
fn past_item(t: &[Token], mut i: usize) -> usize {
    while i < t.len() {
        match t[i].text.as_str() {
            ";" | "," => return i + 1,
            "}" => return i,
            "{" => return past_group(t, i),
            "(" | "[" => i = past_group(t, i),
            _ => i += 1,
        }
    }
    i
}

/// Drops `#[cfg(test)]` items; returns the rest and the names of `#[cfg(test)] mod x;`.
fn strip_cfg_test(t: Vec<Token>) -> (Vec<Token>, Vec<String>) {
    let (mut keep, mut test_mods) = (vec![true; t.len()], Vec::new());
    let mut i = 0;
    while i < t.len() {
        if !is_cfg_test(&t, i) {
            i += 1;
            continue;
        }
        let mut start = i + 7;
        while is(&t, start, "#") {
            start = past_group(&t, start + 1); // further attributes
        }
        let end = past_item(&t, start);
        let item: Vec<&str> = t[start..end].iter().map(|x| x.text.as_str()).collect();
        if let [.., "mod", name, ";"] = item.as_slice() {
            test_mods.push(name.to_string());
        }
        keep[i..end].iter_mut().for_each(|k| *k = false);
        i = end;
    }
    let kept = t.into_iter().zip(keep).filter(|(_, k)| *k).map(|(x, _)| x);
    (kept.collect(), test_mods)
}

/// Parses the use tree at `*i` after `path`, pushing each leaf path and its line to `out`.
fn parse_tree(t: &[Token], i: &mut usize, mut path: Vec<String>, out: &mut Vec<Import>) {
    let line = t.get(*i).map_or(0, |x| x.line);
    while let Some(tok) = t.get(*i) {
        if tok.text == "{" {
            *i += 1;
            parse_group(t, i, &path, out);
            return;
        }
        if !tok
            .text
            .starts_with(|ch: char| ch.is_alphabetic() || "_$".contains(ch))
        {
            break;
        }
        path.push(tok.text.clone());
        *i += 1;
        if !is(t, *i, "::") {
            break;
        }
        *i += 1;
    }
    out.push(Import { line, path });
}

/// Parses the inside of `{ a::X, b::{Y, Z} as W }` up to and past its `}`.
fn parse_group(t: &[Token], i: &mut usize, prefix: &[String], out: &mut Vec<Import>) {
    while let Some(tok) = t.get(*i) {
        match tok.text.as_str() {
            "}" => {
                *i += 1;
                return;
            }
            "," => *i += 1,
            _ => {
                parse_tree(t, i, prefix.to_vec(), out);
                while *i < t.len() && !is(t, *i, ",") && !is(t, *i, "}") {
                    *i += 1; // `as Name`
                }
            }
        }
    }
}

/// Makes a path absolute from module `here`; `None` if `super` climbs above the root.
fn resolve(here: &[String], path: &[String]) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let relative = first == "self" || first == "super";
    let mut out = if relative { here.to_vec() } else { Vec::new() };
    for seg in std::iter::once(first).filter(|f| *f == "super").chain(rest) {
        match seg.as_str() {
            "super" => drop(out.pop()?),
            "self" => {}
            _ => out.push(seg.clone()),
        }
    }
    Some(out)
}

/// Parses one file: its module, and every `crate::`/`super::`/`self::` path outside tests
/// (`loadtest::` too in `main.rs`), in `use` lines and inline in code.
fn parse_source(src: &Source) -> Parsed {
    let module = module_path(&src.file);
    let is_main = src.file == "src/main.rs";
    let (t, test_mods) = strip_cfg_test(tokens(&src.text));
    let test_mods = test_mods.into_iter().map(|m| [&module[..], &[m]].concat());
    let (mut imports, mut here, mut inline, mut depth) = (vec![], module.clone(), vec![], 0);
    let mut i = 0;
    while i < t.len() {
        let text = t[i].text.as_str();
        let start =
            matches!(text, "crate" | "$crate" | "self" | "super") || is_main && text == "loadtest";
        if text == "mod" && is(&t, i + 2, "{") {
            here.push(t[i + 1].text.clone());
            inline.push(depth + 1);
        } else if text == "{" {
            depth += 1;
        } else if text == "}" {
            if inline.last() == Some(&depth) {
                inline.pop();
                here.pop();
            }
            depth -= 1;
        } else if start && is(&t, i + 1, "::") && (i == 0 || !is(&t, i - 1, "::")) {
            let mut found = Vec::new();
            parse_tree(&t, &mut i, Vec::new(), &mut found);
            imports.extend(found.into_iter().filter_map(|mut imp| {
                imp.path = resolve(&here, &imp.path)?;
                Some(imp)
            }));
            continue;
        }
        i += 1;
    }
    let (file, test_mods) = (src.file.clone(), test_mods.collect());
    Parsed {
        file,
        module,
        is_main,
        imports,
        test_mods,
    }
}

/// Parses every source and drops the files of `#[cfg(test)] mod x;` modules.
fn parse_all(sources: &[Source]) -> Vec<Parsed> {
    let all: Vec<Parsed> = sources.iter().map(parse_source).collect();
    let tests: Modules = all.iter().flat_map(|p| p.test_mods.clone()).collect();
    let test_code = |p: &Parsed| tests.iter().any(|t| p.module.starts_with(t));
    all.into_iter().filter(|p| !test_code(p)).collect()
}

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
    let sources = read_sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
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
