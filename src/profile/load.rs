//! Validation of `sweep.load`: closed, open and search loads.

use super::checker::Checker;
use super::raw::RawLoad;
use super::*;
use crate::domain::Arrivals;
use toml::Spanned;

pub(super) fn check_load(c: &mut Checker, load: &Spanned<RawLoad>) -> LoadSweep {
    let raw = load.get_ref();
    let fallback = LoadSweep::Closed {
        concurrency: vec![1],
    };
    match raw.mode.get_ref().as_str() {
        "closed" => {
            if let Some(rates) = &raw.rates {
                c.on(
                    rates,
                    "sweep.load.rates",
                    "applies to open loops only".into(),
                    Some(
                        "use `concurrency = [...]` with mode = \"closed\", or set mode = \"open\""
                            .into(),
                    ),
                );
            }
            let Some(list) = &raw.concurrency else {
                c.on(
                    load,
                    "sweep.load.concurrency",
                    "is missing".into(),
                    Some("add e.g. `concurrency = [1, 4, 16]`".into()),
                );
                return fallback;
            };
            LoadSweep::Closed {
                concurrency: positive_list(c, list, "sweep.load.concurrency", 100_000),
            }
        }
        "open" => check_open_load(c, load).unwrap_or(fallback),
        "search" => check_search_load(c, load).unwrap_or(fallback),
        _ => {
            let modes = ["closed", "open", "search"];
            c.unknown_name(&raw.mode, "sweep.load.mode", "load mode", &modes);
            fallback
        }
    }
}

fn check_open_load(c: &mut Checker, load: &Spanned<RawLoad>) -> Option<LoadSweep> {
    let raw = load.get_ref();
    if let (Some(conc), false) = (&raw.concurrency, raw.mode.get_ref() == "search") {
        c.on(
            conc,
            "sweep.load.concurrency",
            "applies to closed loops only".into(),
            Some("use `rates = [...]` with mode = \"open\"".into()),
        );
    }
    let searching = raw.mode.get_ref() == "search";
    let no_rates = Spanned::new(0..0, Vec::new());
    let rates = match &raw.rates {
        Some(rates) => rates,
        None if searching => &no_rates,
        None => {
            c.on(
                load,
                "sweep.load.rates",
                "is missing".into(),
                Some("add e.g. `rates = [50, 100, 200]` (requests per second)".into()),
            );
            return None;
        }
    };
    let mut out = Vec::new();
    for (i, r) in rates.get_ref().iter().enumerate() {
        let rate = *r.get_ref();
        if rate.is_finite() && rate > 0.0 && rate <= 1_000_000.0 {
            out.push(rate);
        } else {
            c.on(
                r,
                &format!("sweep.load.rates[{i}]"),
                format!("{rate} is not a rate"),
                Some("use a number of requests per second above 0".into()),
            );
        }
    }
    if out.is_empty() && c.problems.is_empty() && !searching {
        c.on(
            rates,
            "sweep.load.rates",
            "is empty".into(),
            Some("list at least one rate".into()),
        );
    }
    let arrivals = check_arrivals(c, raw);
    let max_in_flight = check_max_in_flight(c, raw);
    Some(LoadSweep::Open {
        rates: out,
        arrivals,
        max_in_flight,
    })
}

/// `arrivals`: constant (the default) or poisson.
fn check_arrivals(c: &mut Checker, raw: &RawLoad) -> Arrivals {
    let Some(arrivals) = &raw.arrivals else {
        return Arrivals::Constant;
    };
    match arrivals.get_ref().as_str() {
        "constant" => Arrivals::Constant,
        "poisson" => Arrivals::Poisson,
        _ => {
            c.unknown_name(
                arrivals,
                "sweep.load.arrivals",
                "arrivals",
                &["constant", "poisson"],
            );
            Arrivals::Constant
        }
    }
}

/// `max_in_flight`: at least 1; 1000 unless set.
fn check_max_in_flight(c: &mut Checker, raw: &RawLoad) -> u32 {
    match &raw.max_in_flight {
        None => 1000,
        Some(m) => match u32::try_from(*m.get_ref()) {
            Ok(v) if v >= 1 => v,
            _ => {
                c.on(
                    m,
                    "sweep.load.max_in_flight",
                    "must be at least 1".into(),
                    None,
                );
                1000
            }
        },
    }
}

fn check_search_load(c: &mut Checker, load: &Spanned<RawLoad>) -> Option<LoadSweep> {
    let raw = load.get_ref();
    for (field, present) in [
        ("concurrency", raw.concurrency.is_some()),
        ("rates", raw.rates.is_some()),
    ] {
        if present {
            c.on(load, &format!("sweep.load.{field}"), "does not apply to mode = \"search\"".into(), Some("give `min_rps`/`max_rps` (open loop) or `min_concurrency`/`max_concurrency` (closed loop)".into()));
        }
    }
    let space = match (
        &raw.min_rps,
        &raw.max_rps,
        &raw.min_concurrency,
        &raw.max_concurrency,
    ) {
        (Some(lo), Some(hi), None, None) => {
            let (min, max) = (*lo.get_ref(), *hi.get_ref());
            if !(min > 0.0 && max > min && max.is_finite()) {
                c.on(
                    hi,
                    "sweep.load.max_rps",
                    format!("the range {min}..{max} is empty"),
                    Some("use 0 < min_rps < max_rps".into()),
                );
            }
            let open = check_open_load(c, load);
            let (arrivals, max_in_flight) = match open {
                Some(LoadSweep::Open {
                    arrivals,
                    max_in_flight,
                    ..
                }) => (arrivals, max_in_flight),
                _ => (Arrivals::Constant, 1000),
            };
            SearchSpace::Rate {
                min,
                max,
                arrivals,
                max_in_flight,
            }
        }
        (None, None, Some(lo), Some(hi)) => {
            let (min, max) = (*lo.get_ref(), *hi.get_ref());
            if !(1 <= min && min < max && max <= 100_000) {
                c.on(
                    hi,
                    "sweep.load.max_concurrency",
                    format!("the range {min}..{max} is empty"),
                    Some("use 1 <= min_concurrency < max_concurrency <= 100000".into()),
                );
            }
            SearchSpace::Concurrency {
                min: min.max(1) as u32,
                max: max.clamp(1, 100_000) as u32,
            }
        }
        _ => {
            c.on(load, "sweep.load", "search needs a range".into(), Some("give `min_rps` and `max_rps` (open loop), or `min_concurrency` and `max_concurrency` (closed loop)".into()));
            return None;
        }
    };
    Some(LoadSweep::Search { space })
}

fn positive_list(
    c: &mut Checker,
    list: &Spanned<Vec<Spanned<i64>>>,
    key: &str,
    max: u32,
) -> Vec<u32> {
    if list.get_ref().is_empty() {
        c.on(
            list,
            key,
            "is empty".into(),
            Some("list at least one value".into()),
        );
    }
    let mut out = Vec::new();
    for (i, v) in list.get_ref().iter().enumerate() {
        match u32::try_from(*v.get_ref()) {
            Ok(n) if (1..=max).contains(&n) => out.push(n),
            _ => c.on(
                v,
                &format!("{key}[{i}]"),
                format!("{} is out of range", v.get_ref()),
                Some(format!("use a whole number from 1 to {max}")),
            ),
        }
    }
    out
}
