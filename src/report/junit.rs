//! `junit.xml`: the run's checks as JUnit test cases, for CI dashboards.
//!
//! Suites: `sla` (when the profile has one: the latency percentile and the error rate of every
//! cell), `accounting` (sent = ok + errors + cancelled, every cell), and `recommendation` (one
//! case per candidate, when the run made a recommendation). A failing case carries the
//! measured and allowed values in its `<failure message>`.

use super::candidates::Advice;
use super::view::{self, Check};
use crate::domain::Sla;
use crate::recommend::Recommendation;
use crate::store::record::RunRecord;
use std::fmt;
use std::io::{self, Write};

/// One `<testcase>`.
#[derive(Clone, Debug, PartialEq)]
struct Case {
    classname: String,
    name: String,
    time_s: f64,
    failure: Option<String>,
}

impl Case {
    fn of(classname: String, check: Check, time_s: f64) -> Case {
        let failure = (!check.passed).then(|| {
            format!(
                "{}: measured {}, allowed {}",
                check.name, check.measured, check.allowed
            )
        });
        Case {
            classname,
            name: check.name,
            time_s,
            failure,
        }
    }
}

/// Writes the JUnit XML document.
pub fn write(summary: &RunRecord, out: &mut dyn Write) -> io::Result<()> {
    let mut suites = Vec::new();
    if let Some(sla) = summary.profile.sla {
        suites.push((format!("sla {}", sla.describe()), sla_cases(summary, &sla)));
    }
    suites.push(("accounting".to_string(), accounting_cases(summary)));
    if let Some(rec) = summary.recommendation.as_ref() {
        suites.push(("recommendation".to_string(), recommendation_cases(rec)));
    }
    let all = suites.iter().flat_map(|(_, cases)| cases);
    let tests = all.clone().count();
    let failures = all.clone().filter(|c| c.failure.is_some()).count();
    let name = summary.profile.name.as_str();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="loadtest {}" tests="{tests}" failures="{failures}" errors="0" time="{:.3}">"#,
        Xml(name),
        total_time(summary)
    )?;
    for (suite, cases) in &suites {
        write_suite(suite, cases, &summary.started_at, out)?;
    }
    writeln!(out, "</testsuites>")
}

fn sla_cases(summary: &RunRecord, sla: &Sla) -> Vec<Case> {
    let cells = summary.cells.iter();
    cells
        .flat_map(|c| {
            view::sla_checks(sla, c).map(|k| Case::of(view::cell_label(c), k, c.duration_s))
        })
        .collect()
}

fn accounting_cases(summary: &RunRecord) -> Vec<Case> {
    let cells = summary.cells.iter();
    cells
        .map(|c| Case::of(view::cell_label(c), view::accounting_check(c), c.duration_s))
        .collect()
}

fn recommendation_cases(rec: &Recommendation) -> Vec<Case> {
    Advice::of(rec)
        .candidates
        .into_iter()
        .map(|c| Case {
            classname: "recommendation".into(),
            name: c.label,
            time_s: 0.0,
            failure: (!c.feasible)
                .then(|| c.reason.unwrap_or_else(|| "does not meet the SLA".into())),
        })
        .collect()
}

fn total_time(summary: &RunRecord) -> f64 {
    summary.cells.iter().map(|c| c.duration_s).sum()
}

fn write_suite(name: &str, cases: &[Case], timestamp: &str, out: &mut dyn Write) -> io::Result<()> {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let time: f64 = cases.iter().map(|c| c.time_s).sum();
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="0" time="{time:.3}" timestamp="{}">"#,
        Xml(name),
        cases.len(),
        Xml(timestamp.trim_end_matches('Z'))
    )?;
    for c in cases {
        write!(
            out,
            r#"    <testcase classname="{}" name="{}" time="{:.3}""#,
            Xml(&c.classname),
            Xml(&c.name),
            c.time_s
        )?;
        match &c.failure {
            Some(message) => writeln!(
                out,
                ">\n      <failure message=\"{m}\" type=\"{}\">{m}</failure>\n    </testcase>",
                Xml(&c.name),
                m = Xml(message)
            )?,
            None => writeln!(out, "/>")?,
        }
    }
    writeln!(out, "  </testsuite>")
}

/// Text escaped for XML content and attributes; characters XML 1.0 forbids are dropped.
pub(crate) struct Xml<'a>(pub(crate) &'a str);

impl fmt::Display for Xml<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for ch in self.0.chars() {
            match ch {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                '\n' => f.write_str("&#10;")?,
                '\t' | '\r' => write!(f, "&#{};", ch as u32)?,
                c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::summary;

    fn xml(s: &RunRecord) -> String {
        let mut out = Vec::new();
        write(s, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn one_case_per_check_and_cell() {
        let x = xml(&summary(true));
        assert_eq!(x.matches("<testcase ").count(), 6, "{x}");
        assert!(
            x.contains(r#"<testsuites name="loadtest bert &lt;launch&gt;" tests="6" failures="2""#),
            "{x}"
        );
        assert!(
            x.contains("error rate: measured 4.7619% (80 of 1680), allowed 1.0000%"),
            "{x}"
        );
    }

    #[test]
    fn without_sla_only_accounting() {
        let x = xml(&summary(false));
        assert_eq!(x.matches("<testsuite ").count(), 1);
        assert!(
            x.contains(r#"<testsuite name="accounting" tests="2" failures="0""#),
            "{x}"
        );
    }

    #[test]
    fn escapes_and_drops_control_characters() {
        assert_eq!(
            Xml("a<b>&\"c'\u{1}\n").to_string(),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;"
        );
    }
}
