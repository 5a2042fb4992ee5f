//! Parsing for the architecture check: `src/` read as files, each split into tokens, and the
//! `crate::`/`super::`/`self::` paths each file imports outside its tests.

use std::collections::BTreeSet;
use std::path::Path;

/// One source file: its path as `src/...` and its text.
pub(super) struct Source {
    pub(super) file: String,
    pub(super) text: String,
}

/// One imported path, made absolute (`["report", "html", "Page"]`), and its line.
pub(super) struct Import {
    pub(super) line: usize,
    pub(super) path: Vec<String>,
}

/// A parsed file: where it sits in the module tree and what it imports outside tests.
pub(super) struct Parsed {
    pub(super) file: String,
    pub(super) module: Vec<String>,
    pub(super) is_main: bool,
    pub(super) imports: Vec<Import>,
    /// Modules declared `#[cfg(test)] mod x;` here, whose files are test code.
    pub(super) test_mods: Vec<Vec<String>>,
}

/// A word or punctuation token of code, with its line.
pub(super) struct Token {
    pub(super) text: String,
    pub(super) line: usize,
}

/// Every `.rs` file under the crate's folder `folder` (`src`, `tests`), sorted, named
/// relative to the crate (`src/...`).
pub(super) fn read_sources(folder: &str) -> Vec<Source> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut out = Vec::new();
    let mut todo = vec![dir.clone()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&dir).expect("under its folder");
                let file = format!("{folder}/{}", rel.to_string_lossy().replace('\\', "/"));
                let text = std::fs::read_to_string(&path).expect("read source");
                out.push(Source { file, text });
            }
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// `src/report/html.rs` → `report::html`; `mod.rs` → its folder; `lib.rs`/`main.rs` → root.
pub(super) fn module_path(file: &str) -> Vec<String> {
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
pub(super) fn literal_end(c: &[char], i: usize) -> Option<usize> {
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
pub(super) fn past(c: &[char], from: usize, pat: &str) -> usize {
    let pat: Vec<char> = pat.chars().collect();
    let found = (from..c.len()).find(|&k| c[k..].starts_with(&pat));
    found.map_or(c.len(), |k| k + pat.len())
}

/// Splits code into words (`$` and `_` included), `::` and single punctuation, with lines;
/// comments, strings and char literals are skipped.
pub(super) fn tokens(src: &str) -> Vec<Token> {
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
pub(super) fn is(t: &[Token], i: usize, text: &str) -> bool {
    t.get(i).is_some_and(|x| x.text == text)
}

/// Whether the tokens at `i` spell `#[cfg(test)]`.
pub(super) fn is_cfg_test(t: &[Token], i: usize) -> bool {
    let want = ["#", "[", "cfg", "(", "test", ")", "]"];
    want.iter().enumerate().all(|(k, w)| is(t, i + k, w))
}

/// Index just past the brackets opened at `i` (`{`, `(` or `[`), balanced over all three.
pub(super) fn past_group(t: &[Token], i: usize) -> usize {
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
pub(super) fn past_item(t: &[Token], mut i: usize) -> usize {
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
pub(super) fn strip_cfg_test(t: Vec<Token>) -> (Vec<Token>, Vec<String>) {
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
pub(super) fn parse_tree(t: &[Token], i: &mut usize, mut path: Vec<String>, out: &mut Vec<Import>) {
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
pub(super) fn parse_group(t: &[Token], i: &mut usize, prefix: &[String], out: &mut Vec<Import>) {
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
pub(super) fn resolve(here: &[String], path: &[String]) -> Option<Vec<String>> {
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
pub(super) fn parse_source(src: &Source) -> Parsed {
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
pub(super) fn parse_all(sources: &[Source]) -> Vec<Parsed> {
    let all: Vec<Parsed> = sources.iter().map(parse_source).collect();
    let tests: BTreeSet<Vec<String>> = all.iter().flat_map(|p| p.test_mods.clone()).collect();
    let test_code = |p: &Parsed| tests.iter().any(|t| p.module.starts_with(t));
    all.into_iter().filter(|p| !test_code(p)).collect()
}
