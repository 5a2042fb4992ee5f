//! `[traffic]`: the peak, the day's shape (`hourly` or `shape = "diurnal"`), the payload mix
//! and the instance floor, checked all at once.

use super::checker::Checker;
use super::raw::RawTraffic;
use crate::domain::Traffic;
use crate::domain::traffic::{MixShare, PromptLevel, diurnal};
use crate::domain::units::{format_size, parse_size};

/// Checks `[traffic]`, when the profile has it, against the sweep's payload sizes, or the
/// prompt levels of a `source = "prompt"` or `"dataset"` payload (when not empty).
pub(super) fn check_traffic(
    c: &mut Checker,
    raw: Option<&RawTraffic>,
    payload_sizes: &[u64],
    prompt_levels: &[PromptLevel],
) -> Option<Traffic> {
    raw.map(|raw| check(c, raw, payload_sizes, prompt_levels))
}

fn check(
    c: &mut Checker,
    raw: &RawTraffic,
    payload_sizes: &[u64],
    prompt_levels: &[PromptLevel],
) -> Traffic {
    let hourly = check_shape(c, raw);
    let peak_rps = check_peak(c, raw, hourly.as_ref());
    let requests_per_day = raw.requests_per_day.as_ref().map(|r| {
        if *r.get_ref() < 0.0 {
            c.on(
                r,
                "traffic.requests_per_day",
                "cannot be negative".into(),
                None,
            );
        }
        *r.get_ref()
    });
    let requests_per_day =
        requests_per_day.or_else(|| hourly.map(|h| h.iter().map(|r| r * 3600.0).sum()));
    let headroom = raw.headroom.as_ref().map_or(0.2, |h| {
        if !(0.0..=10.0).contains(h.get_ref()) {
            c.on(
                h,
                "traffic.headroom",
                "is out of range".into(),
                Some("use a fraction such as 0.2 for 20 %".into()),
            );
        }
        *h.get_ref()
    });
    let min_instances = raw.min_instances.as_ref().map(|m| {
        let n = *m.get_ref();
        if !(0..=10_000).contains(&n) {
            c.on(
                m,
                "traffic.min_instances",
                format!("{n} is not a number of instances"),
                Some("use e.g. `min_instances = 2` (0 lets async scale to zero)".into()),
            );
        }
        n.clamp(0, 10_000) as u32
    });
    Traffic {
        intermittent: raw.intermittent.unwrap_or(false),
        peak_rps,
        requests_per_day,
        headroom,
        hourly,
        payload_mix: if prompt_levels.is_empty() {
            check_mix(c, raw, payload_sizes)
        } else {
            check_prompt_mix(c, raw, prompt_levels)
        },
        min_instances,
    }
}

/// `peak_rps`: given, else the hourly shape's highest hour.
fn check_peak(c: &mut Checker, raw: &RawTraffic, hourly: Option<&[f64; 24]>) -> f64 {
    match (&raw.peak_rps, hourly) {
        (Some(p), _) if *p.get_ref() > 0.0 => *p.get_ref(),
        (Some(p), _) => {
            c.on(p, "traffic.peak_rps", "must be more than 0".into(), None);
            1.0
        }
        (None, Some(h)) => h.iter().copied().fold(0.0, f64::max).max(f64::MIN_POSITIVE),
        (None, None) => {
            c.at(
                None,
                "traffic.peak_rps",
                "is missing".into(),
                Some("add e.g. `peak_rps = 400` to [traffic]".into()),
            );
            1.0
        }
    }
}

/// The day's rates: `hourly = [24 rates]`, or `shape = "diurnal"` from `trough_rps` to
/// `peak_rps`.
fn check_shape(c: &mut Checker, raw: &RawTraffic) -> Option<[f64; 24]> {
    if let (Some(h), Some(s)) = (&raw.hourly, &raw.shape) {
        c.on(
            s,
            "traffic.shape",
            "cannot go with `hourly`".into(),
            Some(format!(
                "keep `hourly` (line of {} rates) or `shape`, not both",
                h.get_ref().len()
            )),
        );
    }
    if let Some(h) = &raw.hourly {
        let rates = h.get_ref();
        if rates.len() != 24 || rates.iter().any(|r| !r.is_finite() || *r < 0.0) {
            c.on(
                h,
                "traffic.hourly",
                format!("has {} rates; it needs 24, none negative", rates.len()),
                Some("list one mean req/s per hour of the day, 00:00 first".into()),
            );
            return None;
        }
        let mut hours = [0.0; 24];
        hours.copy_from_slice(rates);
        return Some(hours);
    }
    let s = raw.shape.as_ref()?;
    if s.get_ref() != "diurnal" {
        c.on(
            s,
            "traffic.shape",
            format!("unknown shape `{}`", s.get_ref()),
            Some("use `shape = \"diurnal\"` or list `hourly = [24 rates]`".into()),
        );
        return None;
    }
    let (Some(peak), Some(trough)) = (&raw.peak_rps, &raw.trough_rps) else {
        c.on(
            s,
            "traffic.trough_rps",
            "is missing: a diurnal shape runs from `trough_rps` to `peak_rps`".into(),
            Some("add e.g. `trough_rps = 20` to [traffic]".into()),
        );
        return None;
    };
    if !(0.0..=*peak.get_ref()).contains(trough.get_ref()) {
        c.on(
            trough,
            "traffic.trough_rps",
            "must be from 0 to `peak_rps`".into(),
            None,
        );
    }
    Some(diurnal(*peak.get_ref(), *trough.get_ref()))
}

/// `payload_mix = { "1KiB" = 0.8, "64KiB" = 0.2 }`: swept sizes, positive weights,
/// normalised to sum to 1.
fn check_mix(c: &mut Checker, raw: &RawTraffic, payload_sizes: &[u64]) -> Vec<MixShare> {
    let Some(mix) = &raw.payload_mix else {
        return Vec::new();
    };
    let mut shares = Vec::new();
    for (size, weight) in mix.get_ref() {
        let key = format!("traffic.payload_mix.\"{size}\"");
        match parse_size(size) {
            Ok(bytes) if payload_sizes.is_empty() || payload_sizes.contains(&bytes) => {
                if !weight.is_finite() || *weight < 0.0 {
                    c.on(mix, &key, "must be a share of 0 or more".into(), None);
                }
                shares.push(MixShare {
                    payload_bytes: bytes,
                    weight: weight.max(0.0),
                    prompt_level: None,
                });
            }
            Ok(_) => {
                let swept: Vec<String> = payload_sizes.iter().map(|b| format_size(*b)).collect();
                c.on(
                    mix,
                    &key,
                    format!("{size} is not a swept payload size"),
                    Some(format!(
                        "use sizes of `sweep.payload_sizes`: {}",
                        swept.join(", ")
                    )),
                );
            }
            Err(e) => c.on(
                mix,
                &key,
                e,
                Some("write sizes as \"1KiB\", \"64KiB\"".into()),
            ),
        }
    }
    normalised(c, raw, shares)
}

/// `payload_mix = { "in128 out128" = 3, "in1024 out512" = 1 }` for prompt payloads: keys
/// are the swept levels' labels (input × output tokens), weights as for sizes.
fn check_prompt_mix(c: &mut Checker, raw: &RawTraffic, levels: &[PromptLevel]) -> Vec<MixShare> {
    let Some(mix) = &raw.payload_mix else {
        return Vec::new();
    };
    let mut shares = Vec::new();
    for (key, weight) in mix.get_ref() {
        let path = format!("traffic.payload_mix.\"{key}\"");
        let wanted: String = key.split_whitespace().collect::<Vec<_>>().join(" ");
        let Some(level) = levels.iter().find(|l| l.label() == wanted) else {
            let swept: Vec<String> = levels
                .iter()
                .map(|l| format!("\"{}\"", l.label()))
                .collect();
            c.on(
                mix,
                &path,
                format!("`{key}` is not a swept prompt level (input × output tokens)"),
                Some(format!(
                    "key the mix by the levels of `payload.input_tokens` × `payload.output_tokens`: {}",
                    swept.join(", ")
                )),
            );
            continue;
        };
        if !weight.is_finite() || *weight < 0.0 {
            c.on(mix, &path, "must be a share of 0 or more".into(), None);
        }
        shares.push(MixShare {
            payload_bytes: 0,
            weight: weight.max(0.0),
            prompt_level: Some(*level),
        });
    }
    normalised(c, raw, shares)
}

/// The shares scaled to sum to 1; an error when none is positive.
fn normalised(c: &mut Checker, raw: &RawTraffic, mut shares: Vec<MixShare>) -> Vec<MixShare> {
    let Some(mix) = &raw.payload_mix else {
        return Vec::new();
    };
    let total: f64 = shares.iter().map(|s| s.weight).sum();
    if total <= 0.0 {
        c.on(
            mix,
            "traffic.payload_mix",
            "has no positive share".into(),
            Some("e.g. `payload_mix = { \"1KiB\" = 0.8, \"64KiB\" = 0.2 }`".into()),
        );
        return Vec::new();
    }
    for s in &mut shares {
        s.weight /= total;
    }
    shares
}
