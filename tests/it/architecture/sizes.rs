//! Size: every file of `src/`, `tests/` and `benches/` has at most [`MAX_FILE_LINES`] lines
//! and every function at most [`MAX_FN_LINES`] (STYLE.md), so each reads on its own.

use super::parse::{Source, is, read_sources, tokens};

/// Longest file, in lines.
const MAX_FILE_LINES: usize = 600;
/// Longest function, in lines from its `fn` to its closing brace.
const MAX_FN_LINES: usize = 80;

/// Every function of `text` with a body: its name, first line and length in lines.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let t = tokens(text);
    let mut out = Vec::new();
    for i in 0..t.len() {
        let named = t
            .get(i + 1)
            .is_some_and(|n| n.text.starts_with(char::is_alphabetic));
        if !is(&t, i, "fn") || !named {
            continue; // not a function, or a `fn(..)` pointer type
        }
        let Some(open) = (i..t.len()).find(|&k| is(&t, k, "{") || is(&t, k, ";")) else {
            continue;
        };
        if is(&t, open, ";") {
            continue; // a declaration without a body
        }
        let mut depth = 0usize;
        for k in open..t.len() {
            match t[k].text.as_str() {
                "{" => depth += 1,
                "}" => depth -= 1,
                _ => continue,
            }
            if depth == 0 {
                out.push((t[i + 1].text.clone(), t[i].line, t[k].line - t[i].line + 1));
                break;
            }
        }
    }
    out
}

/// What is too long in `sources`, one line each.
fn size_problems(sources: &[Source]) -> Vec<String> {
    let mut out = Vec::new();
    for s in sources {
        let lines = s.text.lines().count();
        if lines > MAX_FILE_LINES {
            out.push(format!(
                "{}: {lines} lines (at most {MAX_FILE_LINES})",
                s.file
            ));
        }
        for (name, line, len) in functions(&s.text) {
            if len > MAX_FN_LINES {
                out.push(format!(
                    "{}:{line}: fn {name} has {len} lines (at most {MAX_FN_LINES})",
                    s.file
                ));
            }
        }
    }
    out
}

#[test]
fn files_and_functions_stay_small() {
    let sources: Vec<Source> = ["src", "tests", "benches"]
        .into_iter()
        .flat_map(read_sources)
        .collect();
    assert!(sources.len() > 100, "only {} sources read", sources.len());
    let problems = size_problems(&sources);
    assert!(problems.is_empty(), "too long:\n{}", problems.join("\n"));
}

/// A function of `body` lines in all (its `fn` line and closing brace included).
fn function_of(name: &str, body: usize) -> String {
    let mut f = format!("fn {name}() {{\n");
    f.push_str(&"    let _ = \"}\"; // }\n".repeat(body - 2));
    f.push_str("}\n");
    f
}

#[test]
fn the_size_check_catches_a_long_file_and_a_long_function_and_only_those() {
    let text = [
        function_of("just_fits", MAX_FN_LINES),
        function_of("one_too_many", MAX_FN_LINES + 1),
        "trait T { fn declared(&self); }\nfn takes(f: fn(u8) -> u8) -> u8 { f(1) }\n".into(),
    ]
    .concat();
    let found: Vec<_> = functions(&text)
        .into_iter()
        .map(|(n, _, len)| (n, len))
        .collect();
    assert_eq!(
        found,
        [
            ("just_fits".to_string(), MAX_FN_LINES),
            ("one_too_many".to_string(), MAX_FN_LINES + 1),
            ("takes".to_string(), 1),
        ]
    );
    let sources = [
        Source {
            file: "src/a.rs".into(),
            text,
        },
        Source {
            file: "src/long.rs".into(),
            text: "// a line\n".repeat(MAX_FILE_LINES + 1),
        },
        Source {
            file: "src/fits.rs".into(),
            text: "// a line\n".repeat(MAX_FILE_LINES),
        },
    ];
    assert_eq!(
        size_problems(&sources),
        [
            format!(
                "src/a.rs:{}: fn one_too_many has 81 lines (at most 80)",
                MAX_FN_LINES + 1
            ),
            "src/long.rs: 601 lines (at most 600)".to_string(),
        ]
    );
}
