//! report.html in headless Chromium: every chart reaches the DOM with points, no console
//! errors, and a screenshot. Needs /usr/bin/chromium (`.ci/install-chromium`, which `.ci/run`
//! calls). Where it is missing the test is skipped with a message, unless
//! LOADTEST_REQUIRE_BROWSER=1 (set by `.ci/run`), which makes a missing browser a failure.

use super::{temp_dir, written};
use loadtest::report::Format;
use std::path::Path;
use std::process::Command;

/// Renders `page` with headless Chromium: (DOM, stderr). `None` when Chromium is not
/// installed and not required; a failure telling how to install it when it is required.
fn chromium(page: &Path, extra: &[&str], profile: &Path) -> Option<(String, String)> {
    let bin = Path::new("/usr/bin/chromium");
    let required = std::env::var("LOADTEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    if !bin.exists() {
        assert!(
            !required,
            "headless Chromium is missing: run `.ci/install-chromium`"
        );
        eprintln!("SKIPPED browser test: /usr/bin/chromium is missing; run `.ci/install-chromium`");
        return None;
    }
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .args([
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Chromium logs every console message of the page (`console.*`, uncaught exceptions,
/// failed loads) on stderr as `...:CONSOLE(line)] "message", source: ...`.
fn console_messages(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn browser_renders_every_chart_without_console_errors() {
    let dir = temp_dir("browser");
    written(&dir, &[Format::Html]);
    let page = dir.join("report.html");
    let shot = dir.join("shot.png");
    let shot_arg = format!("--screenshot={}", shot.display());
    let Some((dom, stderr)) = chromium(&page, &["--dump-dom", &shot_arg], &dir.join("profile"))
    else {
        return std::fs::remove_dir_all(dir).unwrap();
    };
    let html = std::fs::read_to_string(&page).unwrap();
    let charts: Vec<&str> = dom
        .split(r#"<svg class="chart""#)
        .skip(1)
        .map(|rest| rest.split("</svg>").next().unwrap())
        .collect();
    assert_eq!(
        charts.len(),
        html.matches(r#"<svg class="chart""#).count(),
        "every chart reaches the DOM"
    );
    for chart in &charts {
        let points: usize = chart
            .split(r#"data-points=""#)
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            points > 0,
            "empty chart: {}",
            &chart[..chart.len().min(300)]
        );
        assert!(
            chart.contains("<path") || chart.contains("<circle") || chart.contains("<rect"),
            "chart draws nothing"
        );
    }
    assert!(
        console_messages(&stderr).is_empty(),
        "console: {:?}",
        console_messages(&stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot of {} bytes",
        png.len()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn browser_console_check_catches_script_errors() {
    let dir = temp_dir("console");
    let page = dir.join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><p>x</p><script>console.error('boom'); missingFn();</script>",
    )
    .unwrap();
    let Some((_, stderr)) = chromium(&page, &["--dump-dom"], &dir.join("profile")) else {
        return std::fs::remove_dir_all(dir).unwrap();
    };
    let messages = console_messages(&stderr);
    assert!(messages.iter().any(|m| m.contains("boom")), "{stderr}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("Uncaught ReferenceError")),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
