//! Profile parsing as a user meets it: every problem with its place, key and fix.

use super::*;

const HEAD: &str = r#"name = "t"
[target]
kind = "http"
url = "http://127.0.0.1:9/invocations"
"#;

fn problems(text: &str) -> Vec<Problem> {
    match parse(text, Path::new("p.toml")) {
        Err(ProfileError::Invalid { problems, .. }) => problems,
        other => panic!("expected problems, got {other:?}"),
    }
}

fn one(text: &str) -> Problem {
    let p = problems(text);
    assert_eq!(p.len(), 1, "{p:#?}");
    p.into_iter().next().unwrap()
}

fn ok(text: &str) -> Profile {
    parse(text, Path::new("p.toml")).unwrap()
}

fn http(sweep: &str) -> String {
    format!("{HEAD}[sweep]\nload = {{ mode = \"closed\", concurrency = [1] }}\n{sweep}\n")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loadtest-profile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn four_unknown_keys_are_reported_in_one_pass_with_places() {
    let text = r#"nmae = "x"
name = "t"
[target]
kind = "http"
url = "http://127.0.0.1:9/"
timout = "1s"
[sweep]
durations = "1s"
load = { mode = "closed", concurency = [1] }
[payload]
sorce = "random"
"#;
    let p = problems(text);
    let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "nmae",
            "target.timout",
            "sweep.durations",
            "sweep.load.concurency",
            "payload.sorce"
        ]
    );
    assert_eq!(p[1].line_col, Some((6, 1)));
    assert_eq!(p[3].line_col, Some((9, 27)));
    assert!(
        p.iter()
            .all(|p| p.fix.as_deref().is_some_and(|f| f.contains("did you mean")))
    );
    assert_eq!(p[1].fix.as_deref(), Some("did you mean `timeout`?"));
}

#[test]
fn a_type_error_names_the_field_and_an_example() {
    let text = format!("{HEAD}[sweep]\nload = {{ mode = \"closed\", concurrency = \"four\" }}\n");
    let p = one(&text);
    assert_eq!(p.key, "sweep.load.concurrency");
    assert!(p.line_col.is_some());
    assert!(!p.message.contains("invalid type"), "{p:?}");
    assert!(p.message.contains("list"), "{p:?}");
    assert_eq!(
        p.fix.as_deref(),
        Some("write e.g. `concurrency = [1, 2, 4]`")
    );
}

#[test]
fn a_bare_number_for_a_duration_says_to_write_a_string() {
    let p = one(&http("duration = 5"));
    assert_eq!(p.key, "sweep.duration");
    assert_eq!(p.line_col, Some((7, 12)));
    assert!(p.message.contains("has no unit"), "{p:?}");
    assert_eq!(p.fix.as_deref(), Some("write e.g. `duration = \"5s\"`"));
}

#[test]
fn a_negative_or_zero_duration_is_clean_and_placed() {
    let p = one(&http("duration = \"-1s\""));
    assert_eq!(p.key, "sweep.duration");
    assert!(p.line_col.is_some());
    assert!(!p.message.contains('('), "no parser text: {p:?}");
    assert!(
        p.fix.as_deref().unwrap().contains("duration = \"5s\""),
        "{p:?}"
    );
    for text in [
        http("duration = \"0s\""),
        http("").replace("[target]\n", "[target]\ntimeout = \"0s\"\n"),
    ] {
        let p = one(&text);
        assert!(p.line_col.is_some(), "{p:?}");
        assert_eq!(p.message, "must be more than 0");
    }
}

#[test]
fn durations_over_a_day_are_errors_naming_the_limit() {
    let p = one(&http("duration = \"100000h\""));
    assert_eq!(p.key, "sweep.duration");
    assert!(p.message.contains("24 h"), "{p:?}");
    let p = one(&http("").replace("[target]\n", "[target]\ntimeout = \"25h\"\n"));
    assert_eq!(p.key, "target.timeout");
}

#[test]
fn an_empty_payload_folder_is_placed() {
    let dir = temp("empty-dir");
    std::fs::create_dir_all(dir.join("bodies")).unwrap();
    let text = format!(
        "{}[payload]\nsource = \"dir\"\npath = \"bodies\"\n",
        http("")
    );
    let p = match parse(&text, &dir.join("p.toml")) {
        Err(ProfileError::Invalid { problems, .. }) => problems,
        other => panic!("{other:?}"),
    };
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "payload.path");
    assert!(
        p[0].line_col.is_some() && p[0].message.contains("no files"),
        "{p:?}"
    );
}

#[test]
fn a_template_larger_than_a_swept_size_is_an_error() {
    let text = format!(
        "{}[payload]\nsource = \"json\"\ntemplate = '{{\"inputs\": \"{{{{bytes}}}}\", \"pad\": \"xxxxxxxxxxxxxxxxxxxx\"}}'\n",
        http("payload_sizes = [\"16B\", \"1KiB\"]")
    );
    let p = one(&text);
    assert_eq!(p.key, "sweep.payload_sizes[0]");
    assert!(
        p.message.contains("smaller than the JSON template"),
        "{p:?}"
    );
}

#[test]
fn a_template_without_bytes_is_an_error_when_sizes_are_swept() {
    let template = "[payload]\nsource = \"json\"\ntemplate = '{\"inputs\": [1, 2]}'\n";
    let p = one(&format!("{}{template}", http("payload_sizes = [\"1KiB\"]")));
    assert_eq!(p.key, "payload.template");
    assert!(
        p.message.contains("{{bytes}}") && p.line_col.is_some(),
        "{p:?}"
    );
    // Without swept sizes, a fixed body is what was asked for.
    ok(&format!("{}{template}", http("")));
}

#[test]
fn a_payload_over_every_swept_limit_is_an_error_naming_it() {
    let text = http(
        "hosting = [\"real-time\"]\ninstance_types = [\"ml.c5.xlarge\"]\npayload_sizes = [\"2GiB\"]",
    );
    let p = one(&text.replace(
        "url = \"http://127.0.0.1:9/invocations\"",
        "urls = { \"ml.c5.xlarge\" = \"http://127.0.0.1:9/\" }",
    ));
    assert_eq!(p.key, "sweep.payload_sizes");
    assert!(p.message.contains("real-time: 6MiB"), "{p:?}");
    assert!(p.fix.as_deref().unwrap().contains("6MiB"), "{p:?}");
    // Over real-time's limit but inside async's: the recommendation judges it, not validate.
    ok(&http(
        "hosting = [\"real-time\", \"async\"]\npayload_sizes = [\"8MiB\"]",
    ));
}

#[test]
fn payload_sizes_beside_a_file_is_an_error_with_the_fix() {
    let dir = temp("file-sizes");
    std::fs::write(dir.join("req.json"), br#"{"inputs": [1]}"#).unwrap();
    let text = format!(
        "{}[payload]\nsource = \"file\"\npath = \"req.json\"\n",
        http("payload_sizes = [\"1KiB\"]")
    );
    let p = match parse(&text, &dir.join("p.toml")) {
        Err(ProfileError::Invalid { problems, .. }) => problems,
        other => panic!("{other:?}"),
    };
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "sweep.payload_sizes");
    assert!(
        p[0].fix
            .as_deref()
            .unwrap()
            .contains("remove `payload_sizes`"),
        "{p:?}"
    );
}

#[test]
fn a_file_payload_content_type_follows_its_extension() {
    let dir = temp("content-type");
    for (file, expected) in [
        ("a.json", "application/json"),
        ("a.csv", "text/csv"),
        ("a.npy", "application/x-npy"),
        ("a.png", "image/png"),
        ("a.JPG", "image/jpeg"),
        ("a.bin", "application/octet-stream"),
    ] {
        std::fs::write(dir.join(file), b"x").unwrap();
        let text = format!(
            "{}[payload]\nsource = \"file\"\npath = \"{file}\"\n",
            http("")
        );
        let profile = parse(&text, &dir.join("p.toml")).unwrap();
        assert_eq!(profile.payload.content_type, expected, "{file}");
    }
    let text = format!(
        "{}[payload]\nsource = \"file\"\npath = \"a.json\"\ncontent_type = \"text/plain\"\n",
        http("")
    );
    let profile = parse(&text, &dir.join("p.toml")).unwrap();
    assert_eq!(
        profile.payload.content_type, "text/plain",
        "an explicit type wins"
    );
}

#[test]
fn urls_per_instance_type_imply_real_time_and_shared_urls_warn() {
    let text = http("").replace(
        "url = \"http://127.0.0.1:9/invocations\"",
        "urls = { \"ml.c5.xlarge\" = \"http://127.0.0.1:9/a\", \"ml.m5.xlarge\" = \"http://127.0.0.1:9/a\", \"ml.g4dn.xlarge\" = \"http://127.0.0.1:9/b\" }",
    );
    let profile = ok(&text);
    assert_eq!(
        profile.sweep.hosting,
        vec![crate::domain::Hosting::RealTime]
    );
    let warnings = profile.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("`ml.c5.xlarge`, `ml.m5.xlarge`") && warnings[0].contains("/a"),
        "{warnings:?}"
    );
    assert!(ok(&http("")).warnings().is_empty());
}

#[test]
fn bad_headers_are_caught_before_any_load() {
    let text = http("").replace(
        "url = \"http://127.0.0.1:9/invocations\"",
        "url = \"http://127.0.0.1:9/invocations\"\nheaders = { \"Bad Name\" = \"x\", \"X-Ok\" = \"line\\nbreak\" }",
    );
    let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        ["target.headers.\"Bad Name\"", "target.headers.\"X-Ok\""]
    );
}

#[test]
fn files_are_payload_levels_one_cell_each_labelled() {
    let dir = temp("files");
    std::fs::write(dir.join("small.json"), vec![b'1'; 10]).unwrap();
    std::fs::write(dir.join("large.json"), vec![b'2'; 2048]).unwrap();
    let text = format!(
        "{}[payload]\nsource = \"files\"\npaths = [\"small.json\", \"large.json\"]\n",
        http("")
    );
    let profile = parse(&text, &dir.join("p.toml")).unwrap();
    assert_eq!(profile.payload.content_type, "application/json");
    let plan = crate::plan::Plan::from_profile(&profile).unwrap();
    let labels: Vec<String> = plan
        .cells
        .iter()
        .map(crate::plan::Cell::payload_label)
        .collect();
    assert_eq!(labels, ["small.json 10B", "large.json 2KiB"]);
    assert_eq!(plan.cells[1].payload_bytes, 2048);
    let body = crate::payload::build_level(&profile.payload.source, 0, Some(1), 0).unwrap();
    assert_eq!(body.get(0).len(), 2048);
    let missing = format!(
        "{}[payload]\nsource = \"files\"\npaths = [\"small.json\", \"nope.json\"]\n",
        http("")
    );
    let p = match parse(&missing, &dir.join("p.toml")) {
        Err(ProfileError::Invalid { problems, .. }) => problems,
        other => panic!("{other:?}"),
    };
    assert_eq!(p[0].key, "payload.paths[1]");
}

#[test]
fn traffic_shape_mix_and_floor_are_read_and_checked() {
    let sweep = "payload_sizes = [\"1KiB\", \"64KiB\"]";
    let p = ok(&format!(
        "{}[traffic]\npeak_rps = 100\ntrough_rps = 10\nshape = \"diurnal\"\n\
         payload_mix = {{ \"1KiB\" = 4, \"64KiB\" = 1 }}\nmin_instances = 3\n",
        http(sweep)
    ));
    let t = p.traffic.unwrap();
    let hours = t.hourly.unwrap();
    assert!(
        hours.iter().all(|r| (10.0..=100.0).contains(r)),
        "{hours:?}"
    );
    // The day's requests come from the shape; the mix is normalised to shares.
    assert!((t.requests_per_day.unwrap() - hours.iter().sum::<f64>() * 3600.0).abs() < 1e-6);
    let shares: Vec<(u64, f64)> = t
        .payload_mix
        .iter()
        .map(|s| (s.payload_bytes, s.weight))
        .collect();
    assert_eq!(shares, [(1024, 0.8), (65536, 0.2)]);
    assert_eq!(t.min_instances(crate::domain::Hosting::RealTime), 3);
    // 24 hourly rates give the peak when peak_rps is left out.
    let rates: Vec<String> = (0..24).map(|h| (h * 10).to_string()).collect();
    let p = ok(&format!(
        "{}[traffic]\nhourly = [{}]\n",
        http(sweep),
        rates.join(", ")
    ));
    assert_eq!(p.traffic.unwrap().peak_rps, 230.0);
    // Every mistake at once: 3 rates, a size not swept, a diurnal day without its trough.
    let bad = problems(&format!(
        "{}[traffic]\nhourly = [1, 2, 3]\npayload_mix = {{ \"2KiB\" = 1 }}\nmin_instances = -1\n",
        http(sweep)
    ));
    let keys: Vec<&str> = bad.iter().map(|p| p.key.as_str()).collect();
    assert!(keys.contains(&"traffic.hourly"), "{bad:#?}");
    assert!(keys.contains(&"traffic.payload_mix.\"2KiB\""), "{bad:#?}");
    assert!(keys.contains(&"traffic.min_instances"), "{bad:#?}");
    let p = one(&format!(
        "{}[traffic]\npeak_rps = 100\nshape = \"diurnal\"\n",
        http(sweep)
    ));
    assert_eq!(p.key, "traffic.trough_rps", "{p:#?}");
}

#[test]
fn a_payload_mix_weighs_prompt_levels_and_names_the_swept_ones() {
    let llm = "name = \"t\"\n[target]\nkind = \"emulator\"\n[model]\npreset = \"llm-small\"\n\
               [sweep]\ninstance_types = [\"ml.g5.xlarge\"]\n\
               load = { mode = \"closed\", concurrency = [1] }\n\
               [payload]\nsource = \"prompt\"\ninput_tokens = [128, 1024]\n\
               output_tokens = [128, 512]\n[traffic]\npeak_rps = 10\n";
    let p = ok(&format!(
        "{llm}payload_mix = {{ \"in128 out128\" = 3, \"in1024 out512\" = 1 }}\n"
    ));
    let shares: Vec<(String, f64)> = p
        .traffic
        .unwrap()
        .payload_mix
        .iter()
        .map(|s| (s.prompt_level.unwrap().label(), s.weight))
        .collect();
    assert_eq!(
        shares,
        [
            ("in1024 out512".to_string(), 0.25),
            ("in128 out128".into(), 0.75)
        ]
    );
    let bad = problems(&format!(
        "{llm}payload_mix = {{ \"in64 out128\" = 1, \"in128 out128\" = 1 }}\n"
    ));
    assert_eq!(bad.len(), 1, "{bad:#?}");
    assert_eq!(bad[0].key, "traffic.payload_mix.\"in64 out128\"");
    assert!(
        bad[0].message.contains("not a swept prompt level"),
        "{bad:#?}"
    );
    let fix = bad[0].fix.as_deref().unwrap_or_default();
    assert!(
        fix.contains("\"in128 out128\", \"in128 out512\", \"in1024 out128\", \"in1024 out512\""),
        "{fix}"
    );
}
