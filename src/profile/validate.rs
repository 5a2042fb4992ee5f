//! Checks a [`RawProfile`] for meaning and builds a [`Profile`], reporting every problem at once.

use super::checker::Checker;
use super::load::check_load;
use super::payload::check_payload;
use super::raw::{RawPricing, RawProfile, RawSla, RawSweep, SpannedStr};
use super::target::check_target;
use super::traffic::check_traffic;
use super::*;
use crate::domain::units::parse_size;
use crate::domain::{Hosting, Quantile, SERVERLESS_MEMORY_MB};
use toml::Spanned;

/// Validates a parsed profile; `Err` holds every problem found.
pub fn validate(raw: RawProfile, text: &str, base_dir: PathBuf) -> Result<Profile, Vec<Problem>> {
    let mut c = Checker::new(text);
    let name = check_name(&mut c, &raw.name);
    let timeout = c.duration(
        raw.target.timeout.as_ref(),
        "target.timeout",
        Duration::from_secs(60),
        false,
    );
    let mut sweep = check_sweep(&mut c, &raw.sweep);
    let provision = super::provision::check(&mut c, &raw);
    let target = check_target(&mut c, &raw, &mut sweep);
    let payload =
        super::prompt::check_llm_payload(&mut c, raw.payload.as_ref(), &base_dir, &target)
            .unwrap_or_else(|| check_payload(&mut c, raw.payload.as_ref(), &raw.sweep, &base_dir));
    let (limit_span, limit_key) = match (&raw.sweep.payload_sizes, &raw.payload) {
        (Some(s), _) => (Some(s.span()), "sweep.payload_sizes"),
        (None, Some(p)) => (p.path.as_ref().map(|s| s.span()), "payload.path"),
        (None, None) => (None, "sweep.payload_sizes"),
    };
    super::payload::check_limits(&mut c, &payload, &sweep, limit_span, limit_key);
    let sla = raw.sla.as_ref().map(|s| check_sla(&mut c, s, timeout));
    check_sweep_against_sla(&mut c, &raw, &sweep, sla);
    let traffic = check_traffic(
        &mut c,
        raw.traffic.as_ref(),
        &sweep.payload_sizes,
        &prompt_levels(&payload.source),
    );
    let pricing = pricing_of(raw.pricing.as_ref(), &base_dir);
    let regression = raw.regression.as_ref().map(|r| check_regression(&mut c, r));
    let report_dir = raw
        .report
        .and_then(|r| r.dir)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("reports"));
    if !c.problems.is_empty() {
        c.problems
            .sort_by_key(|p| p.line_col.unwrap_or((usize::MAX, 0)));
        return Err(c.problems);
    }
    Ok(Profile {
        name,
        description: raw.description.unwrap_or_default(),
        target,
        timeout,
        sweep,
        payload,
        sla,
        traffic,
        pricing,
        regression,
        report_dir,
        provision,
        base_dir,
    })
}

/// The prompt's (input, output) token levels a traffic mix may name; none without a prompt.
fn prompt_levels(source: &super::PayloadSource) -> Vec<crate::domain::traffic::PromptLevel> {
    let super::PayloadSource::Prompt(p) = source else {
        return Vec::new();
    };
    p.levels()
        .into_iter()
        .map(
            |(input_tokens, output_tokens)| crate::domain::traffic::PromptLevel {
                input_tokens,
                output_tokens,
            },
        )
        .collect()
}

/// The price table's region (us-east-1 unless set) and override file (beside the profile).
fn pricing_of(raw: Option<&RawPricing>, base_dir: &std::path::Path) -> Pricing {
    Pricing {
        region: raw
            .and_then(|p| p.region.clone())
            .unwrap_or_else(|| "us-east-1".into()),
        file: raw
            .and_then(|p| p.file.as_ref())
            .map(|f| base_dir.join(f.get_ref())),
    }
}

/// The checks between the sweep's strategy and the rest: a search needs an SLA, adaptive
/// its prerequisites, repeats a grid.
fn check_sweep_against_sla(c: &mut Checker, raw: &RawProfile, sweep: &Sweep, sla: Option<Sla>) {
    if matches!(sweep.load, LoadSweep::Search { .. }) && sla.is_none() {
        c.on(
            &raw.sweep.load,
            "sla",
            "search mode looks for the highest load that meets the SLA, and there is no [sla]"
                .into(),
            Some("add `[sla]` with `percentile` and `latency_ms`".into()),
        );
    }
    if let (Strategy::Adaptive, Some(why)) = (sweep.strategy, adaptive_blocker(sweep, sla)) {
        let span = raw.sweep.strategy.as_ref().map(|s| s.span());
        c.at(span, "sweep.strategy", why.0.into(), Some(why.1.into()));
    }
    let searching = matches!(sweep.load, LoadSweep::Search { .. });
    if let (true, true, Some(r)) = (sweep.repeats > 1, searching, &raw.sweep.repeats) {
        c.on(
            r,
            "sweep.repeats",
            "repeats apply to a grid: a search picks its cells as it goes".into(),
            Some("list `concurrency` or `rates` instead of a search, or remove `repeats`".into()),
        );
    }
}

fn check_regression(
    c: &mut Checker,
    raw: &Spanned<crate::domain::thresholds::RawRegression>,
) -> crate::domain::thresholds::Thresholds {
    raw.get_ref().thresholds().unwrap_or_else(|problems| {
        for (key, message) in problems {
            c.on(raw, &key, message, None);
        }
        crate::domain::thresholds::Thresholds::default()
    })
}

fn check_name(c: &mut Checker, name: &SpannedStr) -> String {
    let ok = !name.get_ref().is_empty()
        && name
            .get_ref()
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch));
    if !ok {
        c.on(
            name,
            "name",
            format!("`{}` cannot name a report folder", name.get_ref()),
            Some("use letters, digits, `-`, `_` and `.` only".into()),
        );
    }
    name.get_ref().clone()
}

fn check_sweep(c: &mut Checker, raw: &RawSweep) -> Sweep {
    let hosting = raw.hosting.as_ref().map_or_else(Vec::new, |list| {
        let mut out = Vec::new();
        for (i, h) in list.get_ref().iter().enumerate() {
            match Hosting::parse(h.get_ref()) {
                Some(parsed) => out.push(parsed),
                None => {
                    let names = Hosting::ALL.map(Hosting::as_str);
                    let key = format!("sweep.hosting[{i}]");
                    c.unknown_name(h, &key, "hosting option", &names);
                }
            }
        }
        out
    });
    let instance_types = raw.instance_types.as_ref().map_or_else(Vec::new, |list| {
        list.get_ref().iter().map(|s| s.get_ref().clone()).collect()
    });
    let serverless_memory_mb = check_memory(c, raw, &hosting);
    let payload_sizes = check_sizes(c, raw);
    let load = check_load(c, &raw.load);
    let duration = c.duration(
        raw.duration.as_ref(),
        "sweep.duration",
        Duration::from_secs(15),
        false,
    );
    let warmup = c.duration(
        raw.warmup.as_ref(),
        "sweep.warmup",
        Duration::from_secs(1),
        true,
    );
    Sweep {
        hosting,
        instance_types,
        serverless_memory_mb,
        payload_sizes,
        load,
        duration,
        warmup,
        seed: raw.seed.unwrap_or(1),
        strategy: check_strategy(c, raw),
        repeats: check_repeats(c, raw),
    }
}

/// Why an adaptive sweep cannot run with this sweep and SLA, if it cannot.
/// Returns the problem and its fix.
pub fn adaptive_blocker(sweep: &Sweep, sla: Option<Sla>) -> Option<(&'static str, &'static str)> {
    if sla.is_none() {
        return Some((
            "an adaptive sweep stops where the SLA is met or missed, and there is no [sla]",
            "add `[sla]` with `percentile` and `latency_ms`, or use strategy = \"grid\"",
        ));
    }
    if matches!(sweep.load, LoadSweep::Search { .. }) {
        return Some((
            "an adaptive sweep picks among the levels of a load grid, and load mode \"search\" has none",
            "list `concurrency` (closed) or `rates` (open), or use strategy = \"grid\"",
        ));
    }
    if sweep.repeats > 1 {
        return Some((
            "an adaptive sweep picks its cells as it goes, and the profile sets `repeats`",
            "remove `repeats` from [sweep], or use strategy = \"grid\"",
        ));
    }
    None
}

fn check_strategy(c: &mut Checker, raw: &RawSweep) -> Strategy {
    let Some(s) = &raw.strategy else {
        return Strategy::Grid;
    };
    match s.get_ref().as_str() {
        "grid" => Strategy::Grid,
        "adaptive" => Strategy::Adaptive,
        _ => {
            c.unknown_name(s, "sweep.strategy", "strategy", &["grid", "adaptive"]);
            Strategy::Grid
        }
    }
}

fn check_repeats(c: &mut Checker, raw: &RawSweep) -> u32 {
    let Some(r) = &raw.repeats else { return 1 };
    match u32::try_from(*r.get_ref()) {
        Ok(n @ 1..=100) => n,
        _ => {
            c.on(
                r,
                "sweep.repeats",
                format!("{} is not a number of repeats", r.get_ref()),
                Some("use a whole number from 1 to 100".into()),
            );
            1
        }
    }
}

fn check_memory(c: &mut Checker, raw: &RawSweep, hosting: &[Hosting]) -> Vec<u32> {
    let Some(list) = &raw.serverless_memory_mb else {
        return if hosting.contains(&Hosting::Serverless) {
            vec![2048]
        } else {
            Vec::new()
        };
    };
    let mut out = Vec::new();
    for (i, mb) in list.get_ref().iter().enumerate() {
        match u32::try_from(*mb.get_ref()) {
            Ok(v) if SERVERLESS_MEMORY_MB.contains(&v) => out.push(v),
            _ => c.on(
                mb,
                &format!("sweep.serverless_memory_mb[{i}]"),
                format!("{} MB is not a serverless memory size", mb.get_ref()),
                Some("use 1024, 2048, 3072, 4096, 5120 or 6144".into()),
            ),
        }
    }
    out
}

fn check_sizes(c: &mut Checker, raw: &RawSweep) -> Vec<u64> {
    let Some(list) = &raw.payload_sizes else {
        return vec![1024];
    };
    if list.get_ref().is_empty() {
        c.on(
            list,
            "sweep.payload_sizes",
            "is empty".into(),
            Some("list at least one size, e.g. [\"1KiB\"]".into()),
        );
    }
    let mut out = Vec::new();
    for (i, s) in list.get_ref().iter().enumerate() {
        match parse_size(s.get_ref()) {
            Ok(bytes) => out.push(bytes),
            Err(msg) => c.on(s, &format!("sweep.payload_sizes[{i}]"), msg, None),
        }
    }
    out
}

fn check_sla(c: &mut Checker, raw: &RawSla, timeout: Duration) -> Sla {
    let percentile = raw.percentile.as_ref().map_or(Quantile::P99, |p| {
        let v = *p.get_ref();
        if !(v > 0.0 && v <= 100.0) {
            c.on(
                p,
                "sla.percentile",
                format!("{v} is not a percentile"),
                Some("use e.g. 50, 90, 95, 99 or 99.9".into()),
            );
        }
        Quantile::new(v).unwrap_or(Quantile::P99)
    });
    let latency_ms = match &raw.latency_ms {
        Some(l) if *l.get_ref() > 0.0 => *l.get_ref(),
        Some(l) => {
            c.on(l, "sla.latency_ms", "must be more than 0".into(), None);
            0.0
        }
        // Token limits alone: end-to-end is bounded by the timeout only.
        None if raw.ttft_ms.is_some() || raw.tpot_ms.is_some() => timeout.as_secs_f64() * 1000.0,
        None => {
            c.at(
                None,
                "sla.latency_ms",
                "is missing".into(),
                Some("add e.g. `latency_ms = 250` to [sla]".into()),
            );
            0.0
        }
    };
    let max_error_rate = raw.max_error_rate.as_ref().map_or(0.001, |e| {
        let v = *e.get_ref();
        if !(0.0..=1.0).contains(&v) {
            c.on(
                e,
                "sla.max_error_rate",
                format!("{v} is not a fraction"),
                Some("use a number from 0 to 1, e.g. 0.001 for 0.1 %".into()),
            );
        }
        v
    });
    let mut token_limit = |v: &Option<Spanned<f64>>, key: &str| {
        v.as_ref().map(|l| {
            if *l.get_ref() <= 0.0 {
                c.on(l, key, "must be more than 0".into(), None);
            }
            *l.get_ref()
        })
    };
    let ttft_ms = token_limit(&raw.ttft_ms, "sla.ttft_ms");
    let tpot_ms = token_limit(&raw.tpot_ms, "sla.tpot_ms");
    Sla {
        percentile,
        latency_ms,
        max_error_rate,
        ttft_ms,
        tpot_ms,
    }
}
