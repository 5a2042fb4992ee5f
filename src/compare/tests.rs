//! Unit tests of the comparison on hand-built summaries.

use super::*;
use crate::domain::Load;
use crate::domain::thresholds::{Metric, Thresholds};
use crate::results::{CellSummary, Percentiles, SecondStats};

/// A deterministic wobble in ±3 %.
fn wobble(i: u64, salt: u64) -> f64 {
    let h = (i.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(40_503)) % 61;
    1.0 + (h as f64 - 30.0) / 1000.0
}

/// A closed-loop cell of `seconds` seconds around `base_ms`, scaled by `slow`.
fn cell(
    concurrency: u32,
    base_ms: f64,
    slow: f64,
    seconds: u32,
    errors: u64,
    salt: u64,
) -> CellSummary {
    let mut h = crate::recorder::latency_histogram();
    let n = (200.0 * f64::from(seconds) / slow) as u64;
    for i in 0..n {
        let ms = base_ms * slow * (1.0 + 0.3 * ((i * 7919) % 100) as f64 / 100.0) * wobble(i, salt);
        h.record((ms * 1000.0) as u64).unwrap();
    }
    let p = Percentiles::of(&h);
    let ok = h.len();
    let series = (0..seconds)
        .map(|s| SecondStats {
            second: s,
            span_s: 1.0,
            throughput_rps: ((ok as f64 / f64::from(seconds)) * wobble(u64::from(s), salt + 1))
                .trunc(),
            p50_ms: p.map(|p| p.p50_ms * wobble(u64::from(s), salt + 2)),
            p99_ms: p.map(|p| p.p99_ms * wobble(u64::from(s), salt + 3)),
            errors: errors / u64::from(seconds),
        })
        .collect();
    CellSummary {
        load: Load::Closed { concurrency },
        series,
        ..CellSummary::for_tests(&h, errors, f64::from(seconds))
    }
}

fn summary(cells: Vec<CellSummary>) -> RunRecord {
    RunRecord::for_tests(
        "p.toml",
        r#"
name = "nightly"
[target]
kind = "emulator"
[model]
base_ms = 20.0
[sweep]
hosting = ["real-time"]
instance_types = ["ml.c5.xlarge"]
load = { mode = "closed", concurrency = [4] }
duration = "6s"
seed = 1
"#,
        cells,
    )
}

fn verdicts(c: &Comparison, metric: Metric) -> Vec<Verdict> {
    c.rows
        .iter()
        .filter(|r| r.metric == metric)
        .map(|r| r.verdict)
        .collect()
}

#[test]
fn identical_profiles_with_noise_are_the_same() {
    let base = summary(vec![
        cell(4, 20.0, 1.0, 6, 0, 1),
        cell(8, 20.0, 1.0, 6, 0, 2),
    ]);
    let cur = summary(vec![
        cell(4, 20.0, 1.0, 6, 0, 3),
        cell(8, 20.0, 1.0, 6, 0, 4),
    ]);
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    assert!(!c.regressed(), "{:#?}", c.rows);
    assert_eq!(c.rows.len(), 8, "4 metrics × 2 cells");
    assert!(
        c.rows
            .iter()
            .all(|r| r.verdict == Verdict::Same && !r.low_confidence)
    );
}

#[test]
fn thirty_percent_slower_is_a_p99_regression_with_its_test() {
    let base = summary(vec![cell(4, 20.0, 1.0, 6, 0, 1)]);
    let cur = summary(vec![cell(4, 20.0, 1.3, 6, 0, 2)]);
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    assert!(c.regressed());
    let p99 = c.rows.iter().find(|r| r.metric == Metric::P99).unwrap();
    assert_eq!(p99.verdict, Verdict::Worse);
    assert!(p99.change.unwrap() > 0.25, "{p99:?}");
    assert!(
        p99.evidence.contains("Mann–Whitney")
            && p99.evidence.contains("p=0.0022")
            && p99.evidence.contains("CI"),
        "{}",
        p99.evidence
    );
    assert_eq!(verdicts(&c, Metric::Throughput), [Verdict::Worse]);
    assert_eq!(verdicts(&c, Metric::ErrorRate), [Verdict::Same]);
}

#[test]
fn two_percent_slower_under_ten_percent_is_the_same() {
    let base = summary(vec![cell(4, 20.0, 1.0, 6, 0, 1)]);
    let cur = summary(vec![cell(4, 20.0, 1.02, 6, 0, 1)]);
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    assert!(!c.regressed(), "{:#?}", c.rows);
    let strict = Thresholds {
        p99: 0.01,
        ..Thresholds::default()
    };
    let c = compare(&base, &cur, strict).unwrap();
    let p99 = c.rows.iter().find(|r| r.metric == Metric::P99).unwrap();
    assert!(p99.change.unwrap() > 0.01, "past a 1 % threshold: {p99:?}");
    assert_eq!(
        p99.verdict,
        Verdict::Same,
        "but within the per-second noise: {p99:?}"
    );
}

#[test]
fn faster_is_better() {
    let base = summary(vec![cell(4, 20.0, 1.0, 6, 0, 1)]);
    let cur = summary(vec![cell(4, 20.0, 0.7, 6, 0, 2)]);
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    assert_eq!(verdicts(&c, Metric::P99), [Verdict::Better]);
    assert!(!c.regressed());
}

#[test]
fn few_seconds_need_twice_the_threshold_and_say_so() {
    let base = summary(vec![cell(4, 20.0, 1.0, 2, 0, 1)]);
    let cur = summary(vec![cell(4, 20.0, 1.15, 2, 0, 2)]);
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    let p99 = c.rows.iter().find(|r| r.metric == Metric::P99).unwrap();
    assert_eq!(p99.verdict, Verdict::Same);
    assert!(
        p99.low_confidence && p99.evidence.contains("too few"),
        "{p99:?}"
    );
    let cur = summary(vec![cell(4, 20.0, 1.5, 2, 0, 2)]);
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    assert_eq!(verdicts(&c, Metric::P99), [Verdict::Worse]);
}

#[test]
fn a_cell_on_one_side_only_is_missing_not_a_regression() {
    let base = summary(vec![
        cell(4, 20.0, 1.0, 6, 0, 1),
        cell(8, 20.0, 1.0, 6, 0, 2),
    ]);
    let mut cur = summary(vec![cell(4, 20.0, 1.0, 6, 0, 3)]);
    cur.complete = false;
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    let missing: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Missing)
        .collect();
    assert_eq!(missing.len(), 4);
    assert!(
        missing
            .iter()
            .all(|r| r.cell.contains("closed c=8") && r.evidence.contains("current run"))
    );
    assert!(!c.regressed());
    assert!(
        c.warnings.iter().any(|w| w.contains("incomplete")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn error_rate_rise_past_threshold_is_worse() {
    let base = summary(vec![cell(4, 20.0, 1.0, 6, 0, 1)]);
    let cur = summary(vec![cell(4, 20.0, 1.0, 6, 60, 1)]);
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    let row = c
        .rows
        .iter()
        .find(|r| r.metric == Metric::ErrorRate)
        .unwrap();
    assert_eq!(row.verdict, Verdict::Worse, "{row:?}");
    assert!(row.evidence.contains("two-proportion"));
    let lax = Thresholds {
        error_rate: 0.1,
        ..Thresholds::default()
    };
    assert_eq!(
        verdicts(&compare(&base, &cur, lax).unwrap(), Metric::ErrorRate),
        [Verdict::Same]
    );
}

#[test]
fn a_different_grid_or_target_kind_is_incompatible_and_named() {
    let base = summary(vec![cell(4, 20.0, 1.0, 6, 0, 1)]);
    let mut cur = summary(vec![cell(4, 20.0, 1.0, 6, 0, 1)]);
    cur.profile.sweep.load = crate::profile::LoadSweep::Closed {
        concurrency: vec![8],
    };
    cur.profile.target = crate::profile::Target::Http(crate::profile::HttpTarget {
        urls: crate::profile::Urls::One("http://127.0.0.1:8080/invocations".into()),
        method: "POST".into(),
        headers: Default::default(),
        stream: false,
    });
    let err = compare(&base, &cur, Thresholds::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("profile hash")
            && text.contains("sweep.load.concurrency: [4] vs [8]")
            && text.contains("target.kind"),
        "{text}"
    );
    let mut cur = summary(vec![cell(4, 20.0, 1.0, 6, 0, 1)]);
    cur.tool.version = "9.0.0".into();
    assert!(
        compare(&base, &cur, Thresholds::default())
            .unwrap_err()
            .to_string()
            .contains("tool version")
    );
}

#[test]
fn a_different_model_or_seed_is_only_a_warning() {
    let base = summary(vec![cell(4, 20.0, 1.0, 6, 0, 1)]);
    let mut cur = summary(vec![cell(4, 20.0, 1.0, 6, 0, 1)]);
    let crate::profile::Target::Emulator(emulator) = &mut cur.profile.target else {
        panic!("the test profile targets the emulator");
    };
    emulator.model = crate::emulator::ModelConfig {
        base_ms: Some(26.0),
        ..emulator.model.to_config()
    }
    .resolve()
    .unwrap();
    cur.profile.sweep.seed = 2;
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("target.model.base_ms: 20.0 vs 26.0")),
        "{:?}",
        c.warnings
    );
    assert!(c.warnings.iter().any(|w| w.contains("sweep.seed")));
}

#[test]
fn no_common_cell_is_an_error() {
    let base = summary(vec![cell(4, 20.0, 1.0, 6, 0, 1)]);
    let cur = summary(vec![cell(8, 20.0, 1.0, 6, 0, 1)]);
    assert!(matches!(
        compare(&base, &cur, Thresholds::default()),
        Err(CompareError::NothingInCommon)
    ));
}

#[test]
fn repeats_are_pooled() {
    let base = summary(vec![
        cell(4, 20.0, 1.0, 3, 0, 1),
        cell(4, 20.0, 1.0, 3, 0, 2),
    ]);
    let cur = summary(vec![
        cell(4, 20.0, 1.3, 3, 0, 3),
        cell(4, 20.0, 1.3, 3, 0, 4),
    ]);
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    let p99 = c.rows.iter().find(|r| r.metric == Metric::P99).unwrap();
    assert!(
        !p99.low_confidence && p99.evidence.contains("6 vs 6 s"),
        "{p99:?}"
    );
    assert_eq!(p99.verdict, Verdict::Worse);
}

#[test]
fn renders_table_markdown_and_junit() {
    let base = summary(vec![
        cell(4, 20.0, 1.0, 6, 0, 1),
        cell(8, 20.0, 1.0, 6, 0, 2),
    ]);
    let cur = summary(vec![cell(4, 20.0, 1.3, 6, 0, 3)]);
    let c = compare(&base, &cur, Thresholds::default()).unwrap();
    let mut text = Vec::new();
    render::table(&c, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.starts_with("cell") && text.contains("REGRESSION: ") && text.contains("worse"),
        "{text}"
    );
    let mut md = Vec::new();
    render::markdown(&c, &mut md).unwrap();
    let md = String::from_utf8(md).unwrap();
    assert!(
        md.contains("| real-time ml.c5.xlarge 1KiB closed c=4 | p99 |") && md.contains("**worse**"),
        "{md}"
    );
    let mut xml = Vec::new();
    render::junit(&c, &mut xml).unwrap();
    let xml = String::from_utf8(xml).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 8);
    assert_eq!(xml.matches("<skipped ").count(), 4);
    assert!(xml.matches("<failure ").count() >= 1);
    assert!(
        xml.contains(r#"tests="8" failures="3" errors="0" skipped="4""#),
        "{xml}"
    );
}

#[test]
fn save_baseline_replaces_the_old_copy_whole() {
    let root = std::env::temp_dir().join(format!("loadtest-baseline-unit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let run = root.join("run-1");
    std::fs::create_dir_all(&run).unwrap();
    let s = summary(vec![cell(4, 20.0, 1.0, 2, 0, 1)]);
    std::fs::write(run.join("summary.json"), serde_json::to_string(&s).unwrap()).unwrap();
    std::fs::write(run.join("compare.md"), "old comparison").unwrap();
    let target = save_baseline(&run, &root.join("reports"), "nightly").unwrap();
    assert_eq!(target, root.join("reports/baseline-nightly"));
    std::fs::write(target.join("stale.txt"), "x").unwrap();
    save_baseline(&run, &root.join("reports"), "nightly").unwrap();
    assert!(target.join("summary.json").exists());
    assert!(!target.join("stale.txt").exists() && !target.join("compare.md").exists());
    let leftovers: Vec<_> = std::fs::read_dir(root.join("reports")).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temp folders left");
    assert!(matches!(
        save_baseline(&root.join("nope"), &root, "x"),
        Err(CompareError::Record(_))
    ));
    std::fs::remove_dir_all(&root).unwrap();
}

/// A streamed cell: `cell(4, 200 ms)` with TTFT around `ttft_ms` and TPOT around 5 ms, and a
/// per-second token series of both.
fn streamed(ttft_ms: f64, salt: u64) -> CellSummary {
    use crate::results::histogram::encode;
    use crate::results::tokens::{CountedFrom, TokenSecondStats, TokenSummary};
    let mut c = cell(4, 200.0, 1.0, 6, 0, salt);
    let (mut ttft, mut tpot) = (
        crate::recorder::latency_histogram(),
        crate::recorder::latency_histogram(),
    );
    for i in 0..120 {
        ttft.record((ttft_ms * 1000.0 * wobble(i, salt + 5)) as u64)
            .unwrap();
        tpot.record((5_000.0 * wobble(i, salt + 6)) as u64).unwrap();
    }
    let series = (0..6)
        .map(|s| TokenSecondStats {
            second: s,
            span_s: 1.0,
            output_tokens: 800,
            output_tokens_per_s: 800.0,
            ttft_p50_ms: Some(ttft_ms * wobble(u64::from(s), salt + 7)),
            ttft_p99_ms: Some(ttft_ms * 1.1 * wobble(u64::from(s), salt + 8)),
            tpot_mean_ms: Some(5.0 * wobble(u64::from(s), salt + 9)),
            tpot_p50_ms: Some(5.0 * wobble(u64::from(s), salt + 11)),
            tpot_p99_ms: Some(5.5 * wobble(u64::from(s), salt + 12)),
            tpot_n: 20,
            itl_mean_ms: Some(5.0 * wobble(u64::from(s), salt + 10)),
            itl_p50_ms: Some(5.0 * wobble(u64::from(s), salt + 13)),
            itl_p99_ms: Some(5.5 * wobble(u64::from(s), salt + 14)),
            itl_n: 800,
        })
        .collect();
    c.tokens = Some(TokenSummary {
        replies: 120,
        output_tokens: 4800,
        input_tokens: 0,
        counted_from: CountedFrom::Usage,
        output_tokens_per_s: 800.0,
        total_tokens_per_s: 800.0,
        mean_request_tokens_per_s: 25.0,
        mean_output_tokens: 40.0,
        mean_input_tokens: 0.0,
        ttft: Percentiles::of(&ttft),
        itl: Percentiles::of(&tpot),
        tpot: Percentiles::of(&tpot),
        ttft_histogram: encode(&ttft),
        itl_histogram: encode(&tpot),
        tpot_histogram: encode(&tpot),
        series,
        series_histograms: Vec::new(),
        series_tpot_histograms: Vec::new(),
        series_itl_histograms: Vec::new(),
    });
    c
}

#[test]
fn a_ttft_regression_alone_fails_the_comparison_with_its_test() {
    let base = summary(vec![streamed(40.0, 1)]);
    let same = summary(vec![streamed(40.0, 2)]);
    let c = compare(&base, &same, Thresholds::default()).unwrap();
    assert!(!c.regressed(), "{:#?}", c.rows);
    assert_eq!(c.rows.len(), 10, "4 metrics + 6 token metrics");
    let slower = summary(vec![streamed(60.0, 2)]);
    let c = compare(&base, &slower, Thresholds::default()).unwrap();
    assert!(c.regressed(), "{:#?}", c.rows);
    for m in [Metric::TtftP50, Metric::TtftP99] {
        let row = c.rows.iter().find(|r| r.metric == m).unwrap();
        assert_eq!(row.verdict, Verdict::Worse, "{row:?}");
        assert!(row.evidence.contains("Mann–Whitney"), "{row:?}");
        assert!((row.change.unwrap() - 0.5).abs() < 0.05, "{row:?}");
    }
    let worse: Vec<Metric> = c
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Worse)
        .map(|r| r.metric)
        .collect();
    assert_eq!(worse, [Metric::TtftP50, Metric::TtftP99], "only TTFT");
    let mut md = Vec::new();
    render::markdown(&c, &mut md).unwrap();
    let md = String::from_utf8(md).unwrap();
    assert!(
        md.contains("| ttft_p99 |") && md.contains("ttft_p99 +10%"),
        "{md}"
    );
    // A limit of 60 % lets it pass: the same thresholds rule.
    let lax = Thresholds::default()
        .with_overrides(&["ttft_p50=60%".into(), "ttft_p99=60%".into()])
        .unwrap();
    assert!(!compare(&base, &slower, lax).unwrap().regressed());
}

/// `streamed` whose ITL has rare long gaps of `long_ms` (2 % of them): the cell's ITL p99 and
/// each second's are the long gap, while each second's mean stays near 5 ms.
fn with_long_gaps(long_ms: f64, salt: u64) -> CellSummary {
    let mut c = streamed(40.0, salt);
    let t = c.tokens.as_mut().unwrap();
    let mut itl = crate::recorder::latency_histogram();
    for i in 0..1_000 {
        let ms = if i % 50 == 0 { long_ms } else { 5.0 };
        itl.record((ms * 1000.0 * wobble(i, salt + 15)) as u64)
            .unwrap();
    }
    t.itl = Percentiles::of(&itl);
    t.itl_histogram = crate::results::histogram::encode(&itl);
    for s in &mut t.series {
        s.itl_p99_ms = Some(long_ms * wobble(u64::from(s.second), salt + 16));
    }
    c
}

#[test]
fn itl_p99_is_judged_on_per_second_p99s_not_means() {
    let base = summary(vec![with_long_gaps(20.0, 1)]);
    let same = summary(vec![with_long_gaps(20.0, 2)]);
    let c = compare(&base, &same, Thresholds::default()).unwrap();
    assert!(!c.regressed(), "{:#?}", c.rows);
    // The long gaps double; the per-second means do not move.
    let slower = summary(vec![with_long_gaps(40.0, 2)]);
    let c = compare(&base, &slower, Thresholds::default()).unwrap();
    let row = |m: Metric| c.rows.iter().find(|r| r.metric == m).unwrap();
    let p99 = row(Metric::ItlP99);
    assert_eq!(p99.verdict, Verdict::Worse, "{p99:?}");
    assert!(p99.evidence.contains("Mann–Whitney"), "{p99:?}");
    assert!((p99.change.unwrap() - 1.0).abs() < 0.1, "{p99:?}");
    assert_eq!(
        row(Metric::ItlP50).verdict,
        Verdict::Same,
        "{:?}",
        row(Metric::ItlP50)
    );
}
