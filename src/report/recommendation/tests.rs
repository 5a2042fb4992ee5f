//! Rendering cases for the recommendation's text and Markdown.

use super::*;
use crate::domain::Hosting;
use crate::domain::Load;
use crate::domain::{Sla, Traffic};
use crate::pricing::{MissingPrice, Unit, Usd};
use crate::recommend::Billing;
use crate::recommend::{Cost, NearestMiss, OperatingPoint, Options, Reason, Verdict};

fn candidate(instance: &str, rank: Option<usize>, verdict: Verdict) -> Candidate {
    let feasible = matches!(verdict, Verdict::Feasible);
    Candidate {
        cells: 2,
        operating: feasible.then_some(OperatingPoint {
            cell_index: 1,
            load: Load::Closed { concurrency: 4 },
            throughput_rps: 180.0,
            per_instance_rps: 180.0,
            latency_ms: 80.06,
            mean_latency_ms: 40.0,
            mean_service_ms: 39.0,
            response_bytes: 100.0,
            error_rate: 0.0,
            low_confidence: true,
        }),
        cost: feasible.then_some(Cost {
            per_million: Usd(0.425),
            per_hour: Some(Usd(0.612)),
            per_day: None,
            billing: Billing::AlwaysOn {
                usd_per_instance_hour: Usd(0.204),
                instances: Some(3),
            },
        }),
        rank,
        on_frontier: feasible,
        ..Candidate::new(
            Some(Hosting::RealTime),
            Some(crate::domain::Variant::instance(instance)),
            1024,
            verdict,
        )
    }
}

fn recommendation(
    candidates: Vec<Candidate>,
    choice: Option<usize>,
    nearest_miss: Option<NearestMiss>,
) -> Recommendation {
    Recommendation {
        sla: Sla {
            percentile: Quantile::P99,
            latency_ms: 100.0,
            max_error_rate: 0.01,
            ttft_ms: None,
            tpot_ms: None,
        },
        traffic: Some(Traffic::at_peak(400.0, None, 0.2)),
        region: "us-east-1".into(),
        prices_as_of: vec!["2026-11".into()],
        basis: CostBasis::AtPeak { peak_rps: 400.0 },
        options: Options::default(),
        candidates,
        choice,
        nearest_miss,
        unattributed_cells: 0,
        interrupted: None,
        monthly: None,
    }
}

fn no_price() -> Verdict {
    Verdict::Infeasible {
        reasons: vec![Reason::NoPrice(MissingPrice {
            region: "us-east-1".into(),
            hosting: Hosting::RealTime,
            item: "ml.x|y".into(),
            unit: Unit::Hour,
        })],
    }
}

fn render(
    f: fn(&Recommendation, &mut dyn Write) -> io::Result<()>,
    rec: &Recommendation,
) -> String {
    let mut out = Vec::new();
    f(rec, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A feasible c5.xlarge (the choice) and an instance type without a price.
fn feasible_and_unpriced() -> Recommendation {
    recommendation(
        vec![
            candidate("ml.c5.xlarge", Some(1), Verdict::Feasible),
            candidate("ml.x|y", None, no_price()),
        ],
        Some(0),
        None,
    )
}

#[test]
fn text_shows_choice_figures_and_reasons() {
    let rec = feasible_and_unpriced();
    let text = render(write_text, &rec);
    assert!(text.starts_with("Recommendation: p99 ≤ 100 ms, errors ≤ 1.000%; peak 400 rps + 20% headroom; prices us-east-1 as of 2026-11\n"), "{text}");
    let c5 = text.lines().find(|l| l.starts_with("1*")).unwrap();
    // The terminal keeps to 100 columns: best load and $/hour stay in the files.
    for figure in ["c5.xlarge", "180.0", "~80.1", "3", "$0.4250", "feasible"] {
        assert!(c5.contains(figure), "{figure} in {c5}");
    }
    assert!(
        text.contains("(1) real-time ml.x|y: no price for ml.x|y (real-time) in us-east-1"),
        "{text}"
    );
    assert!(text.contains("no, see (1)"), "{text}");
    assert!(text.contains("Recommended: real-time ml.c5.xlarge — 3 instances, $0.6120/hour at peak, $0.4250 per million requests"), "{text}");
    assert!(
        text.lines()
            .all(|l| l.chars().count() <= 100 || !l.contains("  ")),
        "{text}"
    );
    let md = render(write_markdown, &rec);
    for figure in ["closed c=4", "$0.6120", "3 instances"] {
        assert!(md.contains(figure), "{figure} in {md}");
    }
    assert!(
        text.contains("Pareto frontier (cost vs p99): real-time ml.c5.xlarge ($0.4250/M, 80.1 ms)"),
        "{text}"
    );
    assert!(text.contains("~ low confidence"), "{text}");
}

#[test]
fn markdown_is_a_table_with_escaped_cells() {
    let rec = feasible_and_unpriced();
    let md = render(write_markdown, &rec);
    assert!(md.starts_with("# Recommendation\n"), "{md}");
    assert!(md.contains("| # | hosting | instance |"), "{md}");
    assert!(md.contains("|---|---|"), "{md}");
    assert!(md.contains("| - | real-time | ml.x\\|y |"), "{md}");
    let table_rows = md.lines().filter(|l| l.starts_with("| ")).count();
    assert_eq!(table_rows, 3);
}

#[test]
fn an_interrupted_run_and_an_unpriced_choice_say_so() {
    let mut target = candidate("x", Some(1), Verdict::Feasible);
    (target.hosting, target.variant, target.cost) = (None, None, None);
    let mut rec = recommendation(vec![target], Some(0), None);
    rec.interrupted = Some(crate::recommend::Interruption {
        measured: 2,
        planned: 6,
        partial: vec![1],
    });
    for text in [render(write_text, &rec), render(write_markdown, &rec)] {
        assert!(text.contains("Run interrupted: 2 of 6 cells, the last one partial; partial cells are left out of the recommendation (#1)."), "{text}");
        assert!(
            text.contains("Recommended: target — meets the SLA up to closed c=4 (180.0 rps"),
            "{text}"
        );
    }
}

#[test]
fn nothing_feasible_shows_the_nearest_miss() {
    let miss = NearestMiss {
        candidate: 0,
        explanation: "nothing meets the SLA; closest is real-time ml.x|y 1KiB".into(),
    };
    let rec = recommendation(
        vec![candidate("ml.x|y", None, no_price())],
        None,
        Some(miss),
    );
    assert!(
        render(write_text, &rec)
            .contains("No candidate is feasible: nothing meets the SLA; closest is")
    );
    assert!(render(write_markdown, &rec).contains("closest is real-time ml.x\\|y 1KiB"));
}

#[test]
fn write_errors_propagate() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let rec = recommendation(Vec::new(), None, None);
    assert!(write_text(&rec, &mut Broken).is_err());
    assert!(write_markdown(&rec, &mut Broken).is_err());
}

#[test]
fn a_candidate_that_could_not_deploy_shows_why_in_text_and_markdown() {
    let refused = Verdict::Infeasible {
        reasons: vec![Reason::CouldNotDeploy {
            count: 1,
            reason: "InsufficientCapacity: no ml.g5.xlarge now".into(),
        }],
    };
    let rec = recommendation(
        vec![
            candidate("ml.c5.xlarge", Some(1), Verdict::Feasible),
            candidate("ml.g5.xlarge", None, refused),
        ],
        Some(0),
        None,
    );
    let line =
        "real-time ml.g5.xlarge: could not deploy: InsufficientCapacity: no ml.g5.xlarge now";
    let text = render(write_text, &rec);
    assert!(text.contains(line), "{text}");
    let md = render(write_markdown, &rec);
    let verdict = "| could not deploy: InsufficientCapacity: no ml.g5.xlarge now |";
    assert!(md.contains(verdict), "{md}");
}
