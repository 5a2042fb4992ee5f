//! `junit.xml`: the run's verdicts as JUnit test cases, for CI dashboards. It renders the
//! same [`RunVerdict`] the exit code comes from, so `failures="0"` exactly when the run
//! exits 0.
//!
//! Suites: `run` (when interrupted: one failing case saying how far it got), `accounting`
//! (sent = ok + errors + cancelled, every cell), `recommendation` (with an SLA: one case per
//! candidate) and `baseline` (with `--baseline`). A feasible candidate passes; a candidate an
//! adaptive sweep pruned as dearer passes with a note in `<system-out>`; an infeasible one
//! fails with its reasons when nothing meets the SLA, and is `<skipped>` with its reasons
//! when another candidate does (the run passed). Per-cell SLA results (load levels past
//! capacity, which a sweep exists to find) are in report.md/html, not failures here.

use super::verdict::{Baseline, RunVerdict};
use crate::recommend::{Candidate, Reason, Recommendation};
use crate::store::record::RunRecord;
use std::fmt;
use std::io::{self, Write};

/// One `<testcase>`.
#[derive(Clone, Debug, Default, PartialEq)]
struct Case {
    classname: String,
    name: String,
    time_s: f64,
    failure: Option<String>,
    skipped: Option<String>,
    system_out: Option<String>,
}

/// Writes the JUnit XML document of `summary`'s own verdict (no baseline).
pub fn write(summary: &RunRecord, out: &mut dyn Write) -> io::Result<()> {
    write_verdict(summary, &RunVerdict::of(summary, None), out)
}

/// Writes the JUnit XML document of `verdict`, with `summary`'s cells and candidates.
pub fn write_verdict(
    summary: &RunRecord,
    verdict: &RunVerdict,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut suites = Vec::new();
    if let Some(stop) = &verdict.interrupted {
        let case = Case {
            classname: "run".into(),
            name: "complete".into(),
            failure: Some(format!(
                "{stop} (Ctrl-C); rerun for a verdict on every cell"
            )),
            ..Case::default()
        };
        suites.push(("run".to_string(), vec![case]));
    }
    if verdict.all_failed {
        let case = Case {
            classname: "run".into(),
            name: "any request succeeds".into(),
            failure: Some(
                "every request of every cell failed; see report.md for the errors".into(),
            ),
            ..Case::default()
        };
        suites.push(("run".to_string(), vec![case]));
    }
    suites.push(("accounting".to_string(), accounting_cases(summary)));
    if let Some(rec) = summary.recommendation.as_ref() {
        let cases = recommendation_cases(rec, verdict.sla_missed());
        suites.push((format!("recommendation {}", rec.sla.describe()), cases));
    }
    if let Some((against, outcome)) = &verdict.baseline {
        suites.push((
            "baseline".to_string(),
            vec![baseline_case(against, outcome)],
        ));
    }
    let all = suites.iter().flat_map(|(_, cases)| cases);
    let tests = all.clone().count();
    let failures = all.clone().filter(|c| c.failure.is_some()).count();
    let skipped = all.clone().filter(|c| c.skipped.is_some()).count();
    let name = summary.profile.name.as_str();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="loadtest {}" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}" time="{:.3}">"#,
        Xml(name),
        total_time(summary)
    )?;
    for (suite, cases) in &suites {
        write_suite(suite, cases, &summary.started_at, out)?;
    }
    writeln!(out, "</testsuites>")
}

fn accounting_cases(summary: &RunRecord) -> Vec<Case> {
    summary
        .cells
        .iter()
        .map(|c| {
            let check = super::view::accounting_check(c);
            Case {
                classname: super::view::cell_label(c),
                failure: (!check.passed).then(|| {
                    format!(
                        "{}: measured {}, allowed {}",
                        check.name, check.measured, check.allowed
                    )
                }),
                name: check.name,
                time_s: c.duration_s,
                ..Case::default()
            }
        })
        .collect()
}

/// One case per candidate; when there is none, one case saying the SLA was not judged.
fn recommendation_cases(rec: &Recommendation, sla_missed: bool) -> Vec<Case> {
    let choice = rec.choice.and_then(|i| rec.candidates.get(i));
    let mut cases: Vec<Case> = rec
        .candidates
        .iter()
        .map(|c| candidate_case(c, choice, sla_missed))
        .collect();
    if cases.is_empty() {
        let why = match &rec.interrupted {
            Some(stop) => format!("no whole cell to judge ({stop})"),
            None => "no cell was measured".to_string(),
        };
        cases.push(Case {
            classname: "recommendation".into(),
            name: "sla".into(),
            failure: sla_missed.then(|| format!("nothing meets the SLA: {why}")),
            ..Case::default()
        });
    }
    cases
}

fn candidate_case(c: &Candidate, choice: Option<&Candidate>, sla_missed: bool) -> Case {
    let reasons: Vec<String> = c.reasons().iter().map(ToString::to_string).collect();
    let reasons = reasons.join("; ");
    let pruned = c.reasons().iter().any(|r| matches!(r, Reason::Dearer(_)));
    let mut case = Case {
        classname: "recommendation".into(),
        name: c.label(),
        ..Case::default()
    };
    if c.feasible() {
        case.system_out = Some(figures(c, choice));
    } else if pruned {
        case.system_out = Some(format!("pruned, not a failure: {reasons}"));
    } else if sla_missed {
        case.failure = Some(reasons);
    } else {
        let chosen = choice.map_or_else(String::new, |k| format!("; recommended: {}", k.label()));
        case.skipped = Some(format!("not feasible: {reasons}{chosen}"));
    }
    case
}

/// `feasible, rank 1 (recommended): closed c=8, 38.2 rps/inst, 151.0 ms, $1.2345/M`.
fn figures(c: &Candidate, choice: Option<&Candidate>) -> String {
    let mut text = String::from("feasible");
    if let Some(rank) = c.rank {
        text.push_str(&format!(", rank {rank}"));
    }
    if choice.is_some_and(|k| std::ptr::eq(k, c)) {
        text.push_str(" (recommended)");
    }
    if let Some(op) = &c.operating {
        text.push_str(&format!(
            ": {}, {:.1} rps/inst, {:.1} ms",
            op.load, op.per_instance_rps, op.latency_ms
        ));
    }
    match &c.cost {
        Some(cost) => text.push_str(&format!(", {}/M", cost.per_million)),
        None => text.push_str(", unpriced"),
    }
    text
}

fn baseline_case(against: &str, outcome: &Baseline) -> Case {
    let failure = match outcome {
        Baseline::NoRegression => None,
        Baseline::Regressed => Some(format!("regressed against {against}; see compare.md")),
        Baseline::NothingComparable => Some(format!(
            "nothing comparable with {against}: every shared cell is partial (interrupted)"
        )),
    };
    Case {
        classname: "baseline".into(),
        name: format!("no regression against {against}"),
        failure,
        ..Case::default()
    }
}

fn total_time(summary: &RunRecord) -> f64 {
    summary.cells.iter().map(|c| c.duration_s).sum()
}

fn write_suite(name: &str, cases: &[Case], timestamp: &str, out: &mut dyn Write) -> io::Result<()> {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
    let time: f64 = cases.iter().map(|c| c.time_s).sum();
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="{skipped}" time="{time:.3}" timestamp="{}">"#,
        Xml(name),
        cases.len(),
        Xml(timestamp.trim_end_matches('Z'))
    )?;
    for c in cases {
        write_case(c, out)?;
    }
    writeln!(out, "  </testsuite>")
}

fn write_case(c: &Case, out: &mut dyn Write) -> io::Result<()> {
    write!(
        out,
        r#"    <testcase classname="{}" name="{}" time="{:.3}""#,
        Xml(&c.classname),
        Xml(&c.name),
        c.time_s
    )?;
    if c.failure.is_none() && c.skipped.is_none() && c.system_out.is_none() {
        return writeln!(out, "/>");
    }
    writeln!(out, ">")?;
    if let Some(m) = &c.failure {
        writeln!(
            out,
            "      <failure message=\"{m}\" type=\"{}\">{m}</failure>",
            Xml(&c.classname),
            m = Xml(m)
        )?;
    }
    if let Some(m) = &c.skipped {
        writeln!(out, "      <skipped message=\"{}\"/>", Xml(m))?;
    }
    if let Some(text) = &c.system_out {
        writeln!(out, "      <system-out>{}</system-out>", Xml(text))?;
    }
    writeln!(out, "    </testcase>")
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
    use crate::report::verdict::Outcome;

    fn xml(s: &RunRecord) -> String {
        let mut out = Vec::new();
        write(s, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn xml_of(s: &RunRecord, v: &RunVerdict) -> String {
        let mut out = Vec::new();
        write_verdict(s, v, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// `summary(true)` with its recommendation: c=1 meets p99 ≤ 50 ms, c=4 does not.
    fn recommended(latency_ms: f64) -> RunRecord {
        let mut s = summary(true);
        let mut sla = s.profile.sla.unwrap();
        sla.latency_ms = latency_ms;
        let table = crate::pricing::PriceTable::embedded();
        let prices = crate::recommend::Prices {
            table: &table,
            region: "us-east-1",
        };
        let rec = crate::recommend::recommend(&s.cells, &sla, None, prices, &Default::default());
        s.recommendation = Some(rec);
        s
    }

    fn failures(x: &str) -> usize {
        let at = x.find("<testsuites ").unwrap();
        let attr = &x[at..][x[at..].find("failures=\"").unwrap() + 10..];
        attr[..attr.find('"').unwrap()].parse().unwrap()
    }

    #[test]
    fn a_load_level_past_capacity_is_not_a_failure_when_a_candidate_meets_the_sla() {
        let s = recommended(50.0);
        let x = xml(&s);
        assert_eq!(x.matches("<testcase ").count(), 3, "{x}");
        assert!(
            x.contains(r#"<testsuites name="loadtest bert &lt;launch&gt;" tests="3" failures="0""#),
            "{x}"
        );
        assert!(
            x.contains(r#"<testcase classname="recommendation" name="real-time ml.c5.xlarge""#),
            "{x}"
        );
        assert!(
            x.contains("feasible, rank 1 (recommended): closed c=1"),
            "{x}"
        );
    }

    #[test]
    fn nothing_feasible_fails_each_candidate_with_its_reasons() {
        let s = recommended(1.0);
        let x = xml(&s);
        assert_eq!(failures(&x), 1, "{x}");
        assert!(
            x.contains("<failure message=\"p99 over 1 ms at 2 of 2 loads"),
            "{x}"
        );
        assert_eq!(RunVerdict::of(&s, None).outcome(), Outcome::Failed);
    }

    #[test]
    fn an_infeasible_candidate_beside_the_choice_is_skipped_and_a_pruned_one_noted() {
        let mut s = recommended(50.0);
        let rec = s.recommendation.as_mut().unwrap();
        let mut other = rec.candidates[0].clone();
        other.variant = Some(crate::domain::Variant::instance("ml.m5.xlarge"));
        other.verdict = crate::recommend::Verdict::Infeasible {
            reasons: vec![Reason::OfflineOnly],
        };
        let mut pruned = other.clone();
        pruned.variant = Some(crate::domain::Variant::instance("ml.g4dn.xlarge"));
        pruned.verdict = crate::recommend::Verdict::Infeasible {
            reasons: vec![Reason::Dearer(crate::domain::Pruned {
                at: crate::domain::Load::Closed { concurrency: 4 },
                per_instance_rps: 10.0,
                floor_per_million: 9.0,
                beaten_by: "real-time ml.c5.xlarge 1KiB".into(),
                beaten_per_million: 1.0,
            })],
        };
        rec.candidates.extend([other, pruned]);
        let x = xml(&s);
        assert_eq!(failures(&x), 0, "{x}");
        assert!(
            x.contains(r#"<skipped message="not feasible: offline only"#),
            "{x}"
        );
        assert!(
            x.contains("<system-out>pruned, not a failure: not probed below closed c=4"),
            "{x}"
        );
        assert!(x.contains(r#"skipped="1""#), "{x}");
    }

    #[test]
    fn failures_are_zero_exactly_when_the_outcome_passes() {
        let met = recommended(50.0);
        let missed = recommended(1.0);
        let mut stopped = recommended(50.0);
        stopped.interrupted = true;
        let mut unbalanced = recommended(50.0);
        unbalanced.cells[1].accounting_ok = false;
        let base = |b: Baseline| Some(("reports/base".to_string(), b));
        let cases = [
            RunVerdict::of(&met, None),
            RunVerdict::of(&met, base(Baseline::NoRegression)),
            RunVerdict::of(&met, base(Baseline::Regressed)),
            RunVerdict::of(&met, base(Baseline::NothingComparable)),
            RunVerdict::of(&missed, None),
            RunVerdict::of(&stopped, None),
            RunVerdict::of(&unbalanced, None),
            RunVerdict::of(&summary(false), None),
        ];
        for (i, v) in cases.iter().enumerate() {
            let s = [&met, &met, &met, &met, &missed, &stopped, &unbalanced, &met][i];
            let x = xml_of(s, v);
            assert_eq!(
                failures(&x) == 0,
                v.outcome() == Outcome::Passed,
                "case {i}: {:?}\n{x}",
                v.outcome()
            );
        }
        let x = xml_of(&stopped, &cases[5]);
        assert!(x.contains("interrupted: 2 of 2 cells"), "{x}");
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
