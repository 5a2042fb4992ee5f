//! report.html in headless Chromium at 1400 and 800 px: every chart reaches the DOM with
//! its points, axis labels and legend, no console errors, and a screenshot at each width. Needs /usr/bin/chromium (`.ci/install-chromium`, which `.ci/run`
//! calls). Where it is missing the test is skipped with a message, unless
//! LOADTEST_REQUIRE_BROWSER=1 (set by `.ci/run`), which makes a missing browser a failure.

use super::{temp_dir, written};
use loadtest::report::Format;
use std::path::Path;
use std::process::Command;

/// Renders `page` with headless Chromium: (DOM, stderr). `None` when Chromium is not
/// installed and not required; a failure telling how to install it when it is required.
fn chromium(page: &Path, extra: &[&str], profile: &Path) -> Option<(String, String)> {
    chromium_at(page, extra, profile, 1280)
}

/// [`chromium`] with a window `width` px wide.
fn chromium_at(
    page: &Path,
    extra: &[&str],
    profile: &Path,
    width: u32,
) -> Option<(String, String)> {
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
        .args(["--enable-logging=stderr", "--v=0", "--hide-scrollbars"])
        .arg(format!("--window-size={width},3200"))
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

/// Every chart of a rendered page: its points, axis labels and legend (the `<figure>` holding
/// the `<svg class="chart">` has a `<figcaption class="legend">`).
fn check_charts(dom: &str, html: &str, width: u32) {
    let figures: Vec<&str> = dom
        .split("<figure>")
        .skip(1)
        .map(|rest| rest.split("</figure>").next().unwrap())
        .filter(|f| f.contains(r#"<svg class="chart""#))
        .collect();
    assert_eq!(
        figures.len(),
        html.matches(r#"<svg class="chart""#).count(),
        "every chart reaches the DOM at {width} px"
    );
    assert!(figures.len() >= 4, "{} charts", figures.len());
    for figure in &figures {
        let title = figure
            .split("<title>")
            .nth(1)
            .and_then(|t| t.split("</title>").next())
            .unwrap_or("?");
        let points: usize = figure
            .split(r#"data-points=""#)
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(points > 0, "empty chart {title} at {width} px");
        assert!(
            figure.contains("<path") || figure.contains("<circle") || figure.contains("<rect"),
            "chart {title} draws nothing"
        );
        assert!(
            figure.contains(r#"class="axis-label""#),
            "chart {title} has no axis label"
        );
        let legend = figure
            .split(r#"<figcaption class="legend">"#)
            .nth(1)
            .unwrap_or_else(|| panic!("chart {title} has no legend"));
        assert!(legend.contains("<span>"), "chart {title}: empty legend");
    }
}

#[test]
fn browser_renders_every_chart_at_1400_and_800_px_without_console_errors() {
    let dir = temp_dir("browser");
    written(&dir, &[Format::Html]);
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for width in [1400, 800] {
        let shot = dir.join(format!("report-{width}.png"));
        let shot_arg = format!("--screenshot={}", shot.display());
        let profile = dir.join(format!("profile-{width}"));
        let Some((dom, stderr)) = chromium_at(&page, &["--dump-dom", &shot_arg], &profile, width)
        else {
            return std::fs::remove_dir_all(dir).unwrap();
        };
        check_charts(&dom, &html, width);
        for id in ["recommendation", "timeline", "error-examples", "candidates"] {
            assert!(
                dom.contains(&format!(r#"id="{id}""#)),
                "no #{id} at {width} px"
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
        // LOADTEST_SCREENSHOTS=<dir> keeps the screenshots for a look.
        if let Some(keep) = std::env::var_os("LOADTEST_SCREENSHOTS") {
            std::fs::create_dir_all(&keep).unwrap();
            std::fs::copy(
                &shot,
                Path::new(&keep).join(format!("test-report-{width}.png")),
            )
            .unwrap();
        }
    }
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
