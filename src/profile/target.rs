//! Validation of `[target]`: the kinds, the fields each one takes, URLs, the emulator's
//! model and instance types.

use super::checker::{Checker, check_url};
use super::raw::{RawProfile, RawTarget, SpannedStr};
use super::*;
use crate::domain::{Hosting, SERVERLESS_MAX_CONCURRENCY};
use toml::Spanned;

pub(super) fn check_target(c: &mut Checker, raw: &RawProfile, sweep: &mut Sweep) -> Target {
    let t = &raw.target;
    match t.kind.get_ref().as_str() {
        "http" => Target::Http(check_http(c, t, sweep)),
        "emulator" => Target::Emulator(check_emulator(c, raw, sweep)),
        "sagemaker" => Target::Sagemaker(super::sagemaker::check(
            c,
            t,
            sweep,
            raw.provision.is_some(),
        )),
        "openai" => {
            reject_foreign_fields(c, t, "openai");
            check_headers(c, t);
            Target::Openai(super::prompt::check_openai(c, t, sweep))
        }
        _ => {
            let kinds = ["http", "emulator", "sagemaker", "openai"];
            c.unknown_name(&t.kind, "target.kind", "target kind", &kinds);
            Target::Http(HttpTarget {
                urls: Urls::One(String::new()),
                method: "POST".into(),
                headers: BTreeMap::new(),
                stream: false,
            })
        }
    }
}

fn check_http(c: &mut Checker, t: &RawTarget, sweep: &mut Sweep) -> HttpTarget {
    reject_foreign_fields(c, t, "http");
    let urls = match (&t.url, &t.urls) {
        (Some(url), None) => {
            check_url(c, url, "target.url");
            Urls::One(url.get_ref().clone())
        }
        (None, Some(map)) => Urls::PerInstance(check_url_map(c, map, sweep)),
        (Some(url), Some(_)) => {
            c.on(
                url,
                "target.url",
                "both `url` and `urls` are set".into(),
                Some("keep `url` for one endpoint, or `urls` for one per instance type".into()),
            );
            Urls::One(url.get_ref().clone())
        }
        (None, None) => {
            c.on(
                &t.kind,
                "target.url",
                "an http target needs a URL".into(),
                Some("add `url = \"http://127.0.0.1:8080/invocations\"`".into()),
            );
            Urls::One(String::new())
        }
    };
    let method = t.method.as_ref().map_or_else(
        || "POST".to_string(),
        |m| {
            let upper = m.get_ref().to_ascii_uppercase();
            if reqwest::Method::from_bytes(upper.as_bytes()).is_err() {
                c.on(
                    m,
                    "target.method",
                    format!("`{}` is not an HTTP method", m.get_ref()),
                    Some("use e.g. \"POST\"".into()),
                );
            }
            upper
        },
    );
    HttpTarget {
        urls,
        method,
        headers: check_headers(c, t),
        stream: t.stream.as_ref().is_some_and(|s| *s.get_ref()),
    }
}

/// Headers as `run` would send them: valid names and values, checked before any load.
fn check_headers(c: &mut Checker, t: &RawTarget) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in &t.headers {
        let key = format!("target.headers.\"{name}\"");
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            let fix = Some("use letters, digits and `-`, e.g. \"X-Api-Key\"".into());
            c.on(value, &key, format!("`{name}` is not a header name"), fix);
        } else if reqwest::header::HeaderValue::from_str(value.get_ref()).is_err() {
            let fix = Some("use visible ASCII text without line breaks".into());
            c.on(value, &key, "is not a header value".into(), fix);
        }
        out.insert(name.clone(), value.get_ref().clone());
    }
    out
}

/// Fields of `[target]` and the kinds they belong to.
const TARGET_FIELDS: &[(&str, &[&str])] = &[
    ("url", &["http"]),
    ("urls", &["http"]),
    ("method", &["http"]),
    ("headers", &["http", "openai"]),
    ("stream", &["http"]),
    ("base_url", &["openai"]),
    ("model", &["openai"]),
    ("api", &["openai"]),
    ("api_key_env", &["openai"]),
    ("instance_count", &["emulator"]),
    ("max_concurrency", &["emulator"]),
    ("faults", &["emulator"]),
    ("region", &["sagemaker"]),
    ("endpoint_url", &["sagemaker"]),
    ("endpoint", &["sagemaker"]),
    ("endpoints", &["sagemaker"]),
    ("profile", &["sagemaker"]),
    ("mode", &["sagemaker"]),
    ("custom_attributes", &["sagemaker"]),
    ("target_variant", &["sagemaker"]),
    ("target_model", &["sagemaker"]),
    ("target_container_hostname", &["sagemaker"]),
    ("inference_component", &["sagemaker"]),
    ("accept", &["sagemaker"]),
    ("retries", &["sagemaker"]),
    ("input_location", &["sagemaker"]),
];

/// Reports `[target]` fields set for another kind of target.
fn reject_foreign_fields(c: &mut Checker, t: &RawTarget, kind: &str) {
    let present = |field: &str| match field {
        "url" => t.url.is_some(),
        "urls" => t.urls.is_some(),
        "method" => t.method.is_some(),
        "headers" => !t.headers.is_empty(),
        "instance_count" => t.instance_count.is_some(),
        "max_concurrency" => t.max_concurrency.is_some(),
        "faults" => t.faults.is_some(),
        "region" => t.region.is_some(),
        "endpoint_url" => t.endpoint_url.is_some(),
        "endpoint" => t.endpoint.is_some(),
        "endpoints" => t.endpoints.is_some(),
        "profile" => t.profile.is_some(),
        "mode" => t.mode.is_some(),
        "custom_attributes" => t.custom_attributes.is_some(),
        "target_variant" => t.target_variant.is_some(),
        "target_model" => t.target_model.is_some(),
        "target_container_hostname" => t.target_container_hostname.is_some(),
        "inference_component" => t.inference_component.is_some(),
        "accept" => t.accept.is_some(),
        "retries" => t.retries.is_some(),
        "input_location" => t.input_location.is_some(),
        "stream" => t.stream.is_some(),
        "base_url" => t.base_url.is_some(),
        "model" => t.model.is_some(),
        "api" => t.api.is_some(),
        "api_key_env" => t.api_key_env.is_some(),
        _ => false,
    };
    for (field, kinds) in TARGET_FIELDS {
        if !kinds.contains(&kind) && present(field) {
            c.on(
                &t.kind,
                &format!("target.{field}"),
                format!("does not apply to kind = \"{kind}\""),
                Some(format!("remove `{field}`, or use kind = \"{}\"", kinds[0])),
            );
        }
    }
}

fn check_url_map(
    c: &mut Checker,
    map: &Spanned<BTreeMap<String, SpannedStr>>,
    sweep: &mut Sweep,
) -> BTreeMap<String, String> {
    for (name, url) in map.get_ref() {
        check_url(c, url, &format!("target.urls.\"{name}\""));
    }
    if sweep.instance_types.is_empty() {
        sweep.instance_types = map.get_ref().keys().cloned().collect();
    }
    if sweep.hosting.is_empty() {
        // A URL per instance type is a real-time endpoint per instance type: price it so.
        sweep.hosting = vec![Hosting::RealTime];
    }
    for name in &sweep.instance_types {
        if !map.get_ref().contains_key(name) {
            c.on(
                map,
                "target.urls",
                format!("no URL for instance type `{name}` of sweep.instance_types"),
                Some(format!("add `\"{name}\" = \"http://...\"` to target.urls")),
            );
        }
    }
    for name in map.get_ref().keys() {
        if !sweep.instance_types.contains(name) {
            c.on(
                map,
                &format!("target.urls.\"{name}\""),
                "is not in sweep.instance_types".into(),
                Some(format!(
                    "add \"{name}\" to sweep.instance_types or remove it here"
                )),
            );
        }
    }
    map.get_ref()
        .iter()
        .map(|(k, v)| (k.clone(), v.get_ref().clone()))
        .collect()
}

fn check_emulator(c: &mut Checker, raw: &RawProfile, sweep: &mut Sweep) -> EmulatorTarget {
    let t = &raw.target;
    reject_foreign_fields(c, t, "emulator");
    if sweep.hosting.is_empty() {
        sweep.hosting = vec![Hosting::RealTime];
    }
    let needs_instances = sweep.hosting.iter().any(|h| *h != Hosting::Serverless);
    if needs_instances && sweep.instance_types.is_empty() {
        c.on(
            &t.kind,
            "sweep.instance_types",
            "the emulator needs instance types to emulate".into(),
            Some("add e.g. `instance_types = [\"ml.c5.xlarge\"]` to [sweep]".into()),
        );
    }
    let max_concurrency = t.max_concurrency.as_ref().map_or(20, |m| {
        if !SERVERLESS_MAX_CONCURRENCY.contains(m.get_ref()) {
            c.on(
                m,
                "target.max_concurrency",
                format!(
                    "{} is outside SageMaker's MaxConcurrency range",
                    m.get_ref()
                ),
                Some("use 1 to 200".into()),
            );
        }
        *m.get_ref()
    });
    let instance_count = t.instance_count.as_ref().map_or(1, |n| {
        if *n.get_ref() == 0 {
            c.on(
                n,
                "target.instance_count",
                "must be at least 1".into(),
                None,
            );
        }
        *n.get_ref()
    });
    check_instance_types(c, raw, sweep);
    let model_config = raw
        .model
        .as_ref()
        .map(|m| m.get_ref().clone())
        .unwrap_or_default();
    let model = match model_config.resolve() {
        Ok(model) => model,
        Err(e) => {
            let span = raw.model.as_ref().map(|m| m.span());
            c.at(span, &format!("model.{}", e.field()), e.to_string(), None);
            crate::emulator::Model::custom(1.0)
        }
    };
    EmulatorTarget {
        model,
        instance_count,
        max_concurrency,
        faults: t
            .faults
            .as_ref()
            .map(|f| f.get_ref().clone())
            .unwrap_or_default(),
    }
}

/// Every swept instance type must be in the emulator's catalog.
fn check_instance_types(c: &mut Checker, raw: &RawProfile, sweep: &Sweep) {
    let Some(list) = &raw.sweep.instance_types else {
        return;
    };
    for (i, name) in list.get_ref().iter().enumerate() {
        if crate::emulator::catalog::lookup(name.get_ref()).is_none() {
            let close = crate::emulator::catalog::close_matches(name.get_ref());
            let fix = if close.is_empty() {
                "run `loadtest emulate --help` or see data/instances.csv for the catalog"
                    .to_string()
            } else {
                format!(
                    "did you mean {}?",
                    close
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            c.on(
                name,
                &format!("sweep.instance_types[{i}]"),
                format!("unknown instance type `{}`", name.get_ref()),
                Some(fix),
            );
        }
    }
    let _ = sweep;
}
