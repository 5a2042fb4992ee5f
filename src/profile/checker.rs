//! The problem collector every section check writes into: [`Problem`] (place, key, message,
//! fix), [`Checker`] (which turns spans into lines and columns) and the checks shared by
//! several sections.

use super::raw::SpannedStr;
use crate::domain::names::closest;
use crate::domain::units::parse_duration;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

/// One thing wrong with a profile: where, which key, what, and how to fix it.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// 1-based line and column, when known.
    pub line_col: Option<(usize, usize)>,
    /// Dotted key path, e.g. `sweep.load.concurrency[2]`.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What to write instead, when there is an obvious fix.
    pub fix: Option<String>,
}

impl Problem {
    /// Formats as `file:line:col: key: message (fix)`.
    pub fn render(&self, path: &Path) -> String {
        let place = match self.line_col {
            Some((line, col)) => format!("{}:{line}:{col}", path.display()),
            None => path.display().to_string(),
        };
        let key = if self.key.is_empty() {
            String::new()
        } else {
            format!("`{}`: ", self.key)
        };
        match &self.fix {
            Some(fix) => format!("{place}: {key}{}; {fix}", self.message),
            None => format!("{place}: {key}{}", self.message),
        }
    }

    /// Turns a TOML syntax or shape error into a problem, with a did-you-mean for unknown keys.
    pub fn from_toml(err: &toml::de::Error, text: &str) -> Problem {
        let message = err.message().trim().to_string();
        let line_col = err.span().map(|s| line_col(text, s.start));
        let key = err
            .span()
            .map(|s| text[s].trim().trim_matches('"').to_string())
            .filter(|k| k.len() < 60 && !k.contains('\n'))
            .unwrap_or_default();
        let fix = unknown_field_fix(&message);
        Problem {
            line_col,
            key,
            message,
            fix,
        }
    }
}

/// From serde's "unknown field `x`, expected one of `a`, `b`", suggests the closest name.
fn unknown_field_fix(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match closest(unknown, &candidates) {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None => Some(format!("valid keys here: {}", candidates.join(", "))),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Collects problems with their places in the source text.
pub(super) struct Checker<'a> {
    text: &'a str,
    pub(super) problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    /// A checker of `text`, with no problems yet.
    pub(super) fn new(text: &'a str) -> Checker<'a> {
        Checker {
            text,
            problems: Vec::new(),
        }
    }

    pub(super) fn at(
        &mut self,
        span: Option<Range<usize>>,
        key: &str,
        message: String,
        fix: Option<String>,
    ) {
        self.problems.push(Problem {
            line_col: span.map(|s| line_col(self.text, s.start)),
            key: key.to_string(),
            message,
            fix,
        });
    }

    pub(super) fn on<T>(
        &mut self,
        value: &Spanned<T>,
        key: &str,
        message: String,
        fix: Option<String>,
    ) {
        self.at(Some(value.span()), key, message, fix);
    }

    /// Records that `word` is none of `names`: "unknown {what}", with the closest name as
    /// the fix, or the list of them.
    pub(super) fn unknown_name(
        &mut self,
        word: &SpannedStr,
        key: &str,
        what: &str,
        names: &[&str],
    ) {
        let fix = closest(word.get_ref(), names)
            .map(|b| format!("did you mean `{b}`?"))
            .unwrap_or_else(|| format!("use one of {}", names.join(", ")));
        let message = format!("unknown {what} `{}`", word.get_ref());
        self.on(word, key, message, Some(fix));
    }

    /// Parses an optional humantime field, falling back to `default`: a positive duration
    /// (zero too when `zero_ok`) of at most 24 hours.
    pub(super) fn duration(
        &mut self,
        value: Option<&SpannedStr>,
        key: &str,
        default: Duration,
        zero_ok: bool,
    ) -> Duration {
        let Some(value) = value else { return default };
        let field = key.rsplit('.').next().unwrap_or(key);
        let text = value.get_ref();
        let fix = Some(format!(
            "write e.g. `{field} = \"5s\"` (also \"500ms\", \"2m\", \"1h\")"
        ));
        let Ok(d) = parse_duration(text) else {
            let message = if text.trim_start().starts_with('-') {
                format!("`{text}` is negative; a duration is a length of time")
            } else {
                format!("`{text}` is not a duration")
            };
            self.on(value, key, message, fix);
            return default;
        };
        if d.is_zero() && !zero_ok {
            self.on(value, key, "must be more than 0".into(), fix);
            return default;
        }
        if d > MAX_DURATION {
            let message = format!("`{text}` is over the 24 h limit of a cell or a request");
            self.on(value, key, message, Some("use at most \"24h\"".into()));
            return default;
        }
        d
    }
}

/// The longest cell, warmup or request timeout a profile may ask for.
pub(super) const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Records a problem at `key` unless `url` is an http(s) URL.
pub(super) fn check_url(c: &mut Checker, url: &SpannedStr, key: &str) {
    match reqwest::Url::parse(url.get_ref()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => c.on(
            url,
            key,
            format!("`{}` is not an http(s) URL", url.get_ref()),
            Some("write e.g. \"http://127.0.0.1:8080/invocations\"".into()),
        ),
    }
}
