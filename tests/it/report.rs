//! Reports from a run folder alone: report.html (self-contained, rendered by headless
//! Chromium), .hgrm/.hlog round trips through the hdrhistogram crate, junit.xml shape, and
//! `loadtest report` format selection and errors.

mod browser;

use crate::support::{Behaviour, TestServer, post_target};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use loadtest::domain::Load;
use loadtest::domain::Sla;
use loadtest::domain::{Deployment, Variant};
use loadtest::engine::{CellOptions, run_cell};
use loadtest::payload;
use loadtest::plan::Cell;
use loadtest::pricing::PriceTable;
use loadtest::profile::PayloadSource;
use loadtest::recommend::{Prices, recommend};
use loadtest::report::{Format, Formats, write_all};
use loadtest::results::{CellSummary, histogram};
use loadtest::sample::ErrorKind;
use loadtest::store::record::{Environment, RunRecord, SCHEMA_VERSION, Tool};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

async fn measure(server: &TestServer, index: usize, concurrency: u32) -> CellSummary {
    let cell = Cell {
        index,
        deployment: Deployment::new(
            loadtest::domain::Hosting::RealTime,
            Variant::instance("ml.c5.xlarge"),
        ),
        payload_bytes: 1024,
        payload_file: None,
        load: Load::Closed { concurrency },
        duration: Duration::from_millis(400),
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(2),
        repeat: 1,
    };
    let target = post_target(&server.url("/ok"), cell.timeout, 16);
    let bodies = payload::build(&PayloadSource::Random, cell.payload_bytes, 1).unwrap();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let result = run_cell(
        &cell,
        Arc::new(target),
        Arc::new(bodies),
        &CellOptions::seeded(7),
        cancel,
    )
    .await;
    CellSummary::from_result(&result)
}

/// Two measured cells (c=1, c=4 against a 2 ms server) and a third, copied from the second
/// as another instance type with 2% timeouts added; an SLA of p99 ≤ 50 ms, errors ≤ 0.5%;
/// the recommendation made from them with the embedded prices.
fn summary() -> &'static RunRecord {
    static SUMMARY: OnceLock<RunRecord> = OnceLock::new();
    SUMMARY.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cells = rt.block_on(async {
            let server = TestServer::start(Behaviour {
                delay: Duration::from_millis(2),
                ..Default::default()
            })
            .await;
            vec![measure(&server, 0, 1).await, measure(&server, 1, 4).await]
        });
        let mut third = cells[1].clone();
        third.index = 2;
        third.deployment.variant = Some(Variant::instance("ml.g4dn.xlarge"));
        let timeouts = third.requests / 50 + 1;
        third.errors += timeouts;
        third.requests += timeouts;
        third.error_rate = third.errors as f64 / third.requests as f64;
        *third.errors_by_kind.entry(ErrorKind::Timeout).or_default() += timeouts;
        let cells = vec![cells[0].clone(), cells[1].clone(), third];
        let profile = loadtest::profile::parse(
            r#"
name = "report-test"
description = "reports <from> the run folder & nothing else"
[target]
kind = "http"
url = "http://127.0.0.1:8080/invocations"
[sweep]
load = { mode = "closed", concurrency = [1, 4] }
[sla]
percentile = 99
latency_ms = 50
max_error_rate = 0.005
"#,
            Path::new("profile.toml"),
        )
        .unwrap();
        let plan = loadtest::plan::Plan::from_profile(&profile).unwrap();
        let sla = Sla {
            percentile: loadtest::domain::Quantile::P99,
            latency_ms: 50.0,
            max_error_rate: 0.005,
            ttft_ms: None,
            tpot_ms: None,
        };
        let table = PriceTable::embedded();
        let prices = Prices {
            table: &table,
            region: "us-east-1",
        };
        let rec = recommend(&cells, &sla, None, prices, &Default::default());
        RunRecord {
            schema_version: SCHEMA_VERSION,
            tool: Tool::current(),
            profile_path: "profile.toml".into(),
            profile,
            plan,
            environment: Environment::current(),
            started_at: "2026-11-28T12:00:00Z".into(),
            ended_at: "2026-11-28T12:00:02Z".into(),
            planned_cells: 3,
            complete: true,
            interrupted: false,
            cells,
            recommendation: Some(rec),
            searches: Vec::new(),
            first_requests: Vec::new(),
            unfit: Vec::new(),
            not_deployed: Vec::new(),
            scale_out: None,
        }
    })
}

/// An empty folder for one report test (`report-NAME`).
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    crate::bin::temp_dir(&format!("report-{name}"))
}

pub(crate) fn written(dir: &Path, formats: &[Format]) -> Vec<PathBuf> {
    write_all(dir, summary(), &Formats::only(formats)).unwrap()
}

#[test]
fn html_is_self_contained_and_well_formed() {
    let dir = temp_dir("html");
    written(&dir, &[Format::Html]);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    for tag in ["svg", "figure", "section", "table", "tr", "header", "dl"] {
        let open =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        assert_eq!(
            open,
            html.matches(&format!("</{tag}>")).count(),
            "<{tag}> not balanced"
        );
    }
    for loader in [
        "src=", "href=", "<script", "<link", "@import", "url(", "://",
    ] {
        assert!(
            !html.contains(loader),
            "report.html must not load anything: found {loader}"
        );
    }
    assert!(html.contains("reports &lt;from&gt; the run folder &amp; nothing else"));
    // Issue 14: one timeline of the run replaces the per-cell "over time" charts, and the
    // headline names the deployment (candidates no longer carry a payload size).
    assert_eq!(
        html.matches(r#"<svg class="chart""#).count(),
        1 + 1 + 1 + 2 + 1,
        "charts: cost, timeline, throughput, 2 percentile groups, errors"
    );
    assert!(
        html.contains(r#"<p class="what">Deploy real-time ml.c5.xlarge"#),
        "headline"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The intervals of an .hlog file added into one histogram, and how many there were.
pub fn read_hlog(path: &Path) -> (Histogram<u64>, usize) {
    let bytes = std::fs::read(path).unwrap();
    let mut merged = loadtest::recorder::latency_histogram();
    let mut intervals = 0;
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(i) = entry.unwrap() {
            let raw = base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                i.encoded_histogram(),
            )
            .unwrap();
            let h: Histogram<u64> = Deserializer::new()
                .deserialize(&mut raw.as_slice())
                .unwrap();
            merged.add(&h).unwrap();
            intervals += 1;
        }
    }
    (merged, intervals)
}

fn stored(cell: &CellSummary) -> Histogram<u64> {
    histogram::decode(&cell.histogram).unwrap()
}

#[test]
fn hlog_merges_back_to_the_run_histogram() {
    let dir = temp_dir("hlog");
    let files = written(&dir, &[Format::Hgrm]);
    assert_eq!(files.len(), 6);
    for cell in &summary().cells {
        let hlog = files
            .iter()
            .find(|p| {
                p.extension().is_some_and(|e| e == "hlog")
                    && p.to_string_lossy()
                        .contains(&format!("cell-{}-", cell.index))
            })
            .unwrap();
        let (merged, intervals) = read_hlog(hlog);
        assert_eq!(intervals, 1, "one whole-cell interval");
        assert_eq!(merged, stored(cell));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn hgrm_lines_match_value_at_quantile() {
    let dir = temp_dir("hgrm");
    written(&dir, &[Format::Hgrm]);
    let cell = &summary().cells[1];
    let h = stored(cell);
    let text =
        std::fs::read_to_string(dir.join("cell-1-real-time-ml.c5.xlarge-1KiB-closed-c4.hgrm"))
            .unwrap();
    assert!(text.starts_with("       Value   Percentile   TotalCount 1/(1-Percentile)\n\n"));
    let rows: Vec<(f64, f64, u64)> = text
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect();
    let at = |q: f64| rows.iter().find(|r| r.1 >= q).unwrap();
    for q in [0.5, 0.99] {
        let row = at(q);
        let expected = h.value_at_quantile(row.1) as f64 / 1000.0;
        assert!(
            (row.0 - expected).abs() < 0.0005,
            "{q}: hgrm {} vs {expected}",
            row.0
        );
    }
    assert_eq!(
        rows.last().unwrap().2,
        h.len(),
        "total count on the 100% line"
    );
    assert!(text.contains(&format!("Total count    = {:>12}]", h.len())));
    std::fs::remove_dir_all(dir).unwrap();
}

/// Checks one element of junit.xml against its parents; returns a failure message if it has one.
fn junit_element(e: &quick_xml::events::BytesStart, parents: &[String]) -> Option<String> {
    let name = e.name().0.to_string();
    let attr = |key: &str| {
        e.try_get_attribute(key).unwrap().map(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .unwrap()
                .into_owned()
        })
    };
    let parent: Vec<&str> = parents.iter().map(String::as_str).collect();
    match name.as_str() {
        "testsuites" => assert!(parent.is_empty()),
        "testsuite" => {
            assert_eq!(parent, ["testsuites"]);
            assert!(
                attr("name").is_some()
                    && attr("tests").is_some()
                    && attr("failures").is_some()
                    && attr("time").is_some()
            );
        }
        "testcase" => {
            assert_eq!(parent, ["testsuites", "testsuite"]);
            assert!(
                attr("classname").is_some() && attr("name").is_some() && attr("time").is_some()
            );
        }
        "failure" => {
            assert_eq!(parent, ["testsuites", "testsuite", "testcase"]);
            return attr("message");
        }
        "skipped" => {
            assert_eq!(parent, ["testsuites", "testsuite", "testcase"]);
            assert!(attr("message").is_some());
        }
        "system-out" => assert_eq!(parent, ["testsuites", "testsuite", "testcase"]),
        other => panic!("unexpected element <{other}>"),
    }
    None
}

#[test]
fn junit_has_the_standard_shape() {
    use quick_xml::events::Event;
    let dir = temp_dir("junit");
    written(&dir, &[Format::Junit]);
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut parents, mut cases, mut failures) = (Vec::<String>::new(), 0, Vec::new());
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                failures.extend(junit_element(&e, &parents));
                cases += usize::from(e.name().0 == "testcase");
                parents.push(e.name().0.to_string());
            }
            Event::Empty(e) => {
                failures.extend(junit_element(&e, &parents));
                cases += usize::from(e.name().0 == "testcase");
            }
            Event::End(_) => {
                parents.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(parents.is_empty());
    // 3 accounting checks + 2 recommendation candidates. Per-cell SLA results (a cell over
    // the error limit here) are in report.md/html, not JUnit failures: a candidate meets the
    // SLA, so the run passes and JUnit has no failure (issue 13).
    assert_eq!(cases, 5, "{xml}");
    let declared = format!(
        r#"<testsuites name="loadtest report-test" tests="5" failures="{}""#,
        failures.len()
    );
    assert!(xml.contains(&declared), "{xml}");
    assert!(failures.is_empty(), "{failures:?}");
    assert!(
        xml.contains("feasible, rank 1 (recommended)"),
        "the choice passes with its figures: {xml}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn report_cmd(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .arg("report")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn run_folder(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    written(&dir, &[Format::Json]);
    dir
}

#[test]
fn format_selects_the_outputs() {
    let dir = run_folder("select");
    let out = report_cmd(&dir, &["--format", "md,junit"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["junit.xml", "report.md", "summary.json"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("report.md"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn report_rebuilds_everything_from_summary_json() {
    let dir = run_folder("all");
    let out = report_cmd(&dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "report.html",
        "report.md",
        "junit.xml",
        "results.csv",
        "cell-2-real-time-ml.g4dn.xlarge-1KiB-closed-c4.hlog",
    ] {
        assert!(dir.join(name).exists(), "{name} missing");
    }
    let back = loadtest::store::record::read(&dir).unwrap();
    assert_eq!(
        back.cells,
        summary().cells,
        "summary.json is rewritten as it was"
    );
    let rows =
        loadtest::store::csv::read(std::fs::File::open(dir.join("results.csv")).unwrap()).unwrap();
    assert_eq!(rows.len(), 3);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unknown_format_is_a_usage_error() {
    let dir = run_folder("unknown");
    let out = report_cmd(&dir, &["--format", "html,pdf"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`pdf`") && err.contains("json, csv, hgrm, md, html, junit"),
        "{err}"
    );
    assert!(
        !dir.join("report.html").exists(),
        "nothing is written on a usage error"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_or_invalid_summary_names_the_path() {
    let dir = temp_dir("missing");
    let out = report_cmd(&dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    let path = dir.join("summary.json");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&path.display().to_string()));
    std::fs::write(&path, "{\"schema_version\": 1}").unwrap();
    let out = report_cmd(&dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&path.display().to_string())
            && err.contains("schema version 1")
            && err.contains(&format!("reads version {SCHEMA_VERSION}")),
        "an older record names both versions: {err}"
    );
    let newer = format!("{{\"schema_version\": {}}}", SCHEMA_VERSION + 1);
    std::fs::write(&path, newer).unwrap();
    let err = String::from_utf8_lossy(&report_cmd(&dir, &[]).stderr).into_owned();
    assert!(
        err.contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
        "{err}"
    );
    std::fs::write(&path, format!("{{\"schema_version\": {SCHEMA_VERSION}}}")).unwrap();
    let out = report_cmd(&dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&path.display().to_string()) && err.contains("missing field"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
