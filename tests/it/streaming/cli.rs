//! `loadtest run` with `kind = "openai"` against the emulator's OpenAI routes: token figures
//! in summary.json, the token tables, the charts, and an API key that appears nowhere.

use super::openai_profile;
use crate::bin::{loadtest, only_run_dir, quiet_run, temp_dir};
use crate::emulator::llm::small_llm;
use loadtest::store::record;
use std::path::{Path, PathBuf};

const KEY: &str = "sk-loadtest-never-written-0123456789";

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_target_reports_tokens_and_never_writes_its_key() {
    let emu = small_llm("ml.g5.xlarge", 0.5).await;
    let dir = temp_dir("openai-run");
    let profile = dir.join("llm.toml");
    let rest = r#"api_key_env = "LOADTEST_IT_KEY"

[sweep]
load = { mode = "closed", concurrency = [1, 4] }
duration = "600ms"
warmup = "100ms"

[payload]
source = "prompt"
input_tokens = [16]
output_tokens = [8, 16]

[sla]
percentile = 90
ttft_ms = 500
tpot_ms = 50
"#;
    let text = openai_profile("openai-run", &emu.openai_base_url("small"), rest);
    std::fs::write(&profile, text).unwrap();
    let out_dir = dir.join("out");
    let mut cmd = loadtest();
    cmd.env("LOADTEST_IT_KEY", KEY)
        .arg("run")
        .arg(&profile)
        .arg("--out")
        .arg(&out_dir);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    emu.stop().await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Tokens (TTFT"), "{stdout}");
    assert!(
        stdout.contains("TTFT p90 ≤ 500 ms, TPOT p90 ≤ 50 ms"),
        "{stdout}"
    );
    let run = only_run_dir(&out_dir);
    let summary = record::read(&run.join("summary.json")).unwrap();
    assert_eq!(summary.cells.len(), 4);
    for c in &summary.cells {
        let t = c.tokens.as_ref().expect("token figures per cell");
        let asked = if c.payload_label().starts_with("in16 out8") {
            8.0
        } else {
            16.0
        };
        assert_eq!(t.mean_output_tokens, asked, "{}", c.payload_label());
        assert_eq!(t.mean_input_tokens, 16.0);
        assert!(t.ttft.is_some() && t.tpot.is_some() && t.output_tokens_per_s > 0.0);
    }
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("TTFT vs output tokens/s"), "the TTFT chart");
    assert!(html.contains("TPOT vs output tokens/s"), "the TPOT chart");
    let mut texts = vec![stdout, stderr];
    for path in files_under(&out_dir) {
        texts.push(String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned());
    }
    assert!(texts.len() > 3);
    assert!(texts.iter().all(|t| !t.contains(KEY)), "the API key leaked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_target_streams_when_its_model_is_an_llm() {
    let dir = temp_dir("emulated-llm");
    let profile = dir.join("llm.toml");
    std::fs::write(
        &profile,
        r#"name = "emulated-llm"
[target]
kind = "emulator"
[model]
preset = "llm-small"
time_scale = 0.5
[sweep]
instance_types = ["ml.g5.xlarge"]
load = { mode = "closed", concurrency = [2] }
duration = "500ms"
warmup = "100ms"
[payload]
source = "prompt"
input_tokens = [32]
output_tokens = [12]
"#,
    )
    .unwrap();
    let out_dir = dir.join("out");
    let out = quiet_run(&profile, &out_dir).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = record::read(&only_run_dir(&out_dir).join("summary.json")).unwrap();
    let t = summary.cells[0]
        .tokens
        .as_ref()
        .expect("the event-stream route was used");
    assert_eq!((t.mean_output_tokens, t.mean_input_tokens), (12.0, 32.0));
}

#[test]
fn a_payload_mix_key_that_is_no_prompt_level_exits_2_with_the_fix() {
    let dir = temp_dir("prompt-mix");
    let profile = dir.join("llm.toml");
    std::fs::write(
        &profile,
        r#"name = "prompt-mix"
[target]
kind = "emulator"
[model]
preset = "llm-small"
[sweep]
instance_types = ["ml.g5.xlarge"]
load = { mode = "closed", concurrency = [1] }
[payload]
source = "prompt"
input_tokens = [128]
output_tokens = [16, 512]
[traffic]
peak_rps = 10
payload_mix = { "in128 out16" = 4, "in128 out64" = 1 }
"#,
    )
    .unwrap();
    let out = loadtest().arg("validate").arg(&profile).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("llm.toml:")
            && stderr.contains("traffic.payload_mix.\"in128 out64\"")
            && stderr.contains("not a swept prompt level")
            && stderr.contains("\"in128 out16\", \"in128 out512\""),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
