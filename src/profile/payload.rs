//! Validation of `[payload]` against the sweep: sources, paths, templates, content types,
//! and the sizes each swept hosting option accepts.

use super::checker::Checker;
use super::raw::{RawPayload, RawSweep, SpannedStr};
use super::*;
use crate::domain::template::{FILL, fixed_fill};
use crate::domain::units::format_size;

/// Checks `[payload]` against the sweep as written (`payload_sizes` given or not).
pub(super) fn check_payload(
    c: &mut Checker,
    raw: Option<&RawPayload>,
    sweep: &RawSweep,
    base_dir: &Path,
) -> Payload {
    let source_name = raw.and_then(|p| p.source.as_ref());
    let path = raw.and_then(|p| p.path.as_ref());
    let source = match source_name.map(|s| s.get_ref().as_str()) {
        None | Some("random") => PayloadSource::Random,
        Some("file") => PayloadSource::File {
            path: existing_path(c, source_name, path, base_dir, false),
        },
        Some("files") => PayloadSource::Files {
            paths: existing_files(c, raw, source_name, base_dir),
        },
        Some("dir") => PayloadSource::Dir {
            path: existing_path(c, source_name, path, base_dir, true),
        },
        Some("json") => PayloadSource::Json {
            template: json_template(c, raw, sweep, base_dir),
        },
        Some(other) => {
            if let Some(s) = source_name {
                c.on(
                    s,
                    "payload.source",
                    format!("unknown payload source `{other}`"),
                    Some("use \"random\", \"file\", \"files\", \"dir\", \"json\", \"prompt\" or \"dataset\"".into()),
                );
            }
            PayloadSource::Random
        }
    };
    reject_sizes_beside_files(c, sweep, source_name, &source);
    let content_type = match raw.and_then(|p| p.content_type.as_ref()) {
        Some(ct) => {
            if reqwest::header::HeaderValue::from_str(ct.get_ref()).is_err() {
                c.on(
                    ct,
                    "payload.content_type",
                    format!("`{}` is not a header value", ct.get_ref()),
                    Some("write e.g. content_type = \"application/json\"".into()),
                );
            }
            ct.get_ref().clone()
        }
        None => default_content_type(&source).to_string(),
    };
    Payload {
        source,
        content_type,
    }
}

/// Files are sent as they are: `payload_sizes` beside them would be silently ignored.
fn reject_sizes_beside_files(
    c: &mut Checker,
    sweep: &RawSweep,
    source_name: Option<&SpannedStr>,
    source: &PayloadSource,
) {
    let (Some(sizes), Some(name)) = (&sweep.payload_sizes, source_name) else {
        return;
    };
    if !matches!(
        source,
        PayloadSource::File { .. } | PayloadSource::Files { .. } | PayloadSource::Dir { .. }
    ) {
        return;
    }
    c.on(
        sizes,
        "sweep.payload_sizes",
        format!(
            "does not apply to source = \"{}\": the files are sent as they are",
            name.get_ref()
        ),
        Some(
            "remove `payload_sizes`, or use source = \"json\" with a `{{bytes}}` template \
             to grow a body to each size"
                .into(),
        ),
    );
}

/// The content type a source implies: JSON for templates, the file extension for files
/// (the first file's, for a folder or a list), raw bytes otherwise.
pub fn default_content_type(source: &PayloadSource) -> &'static str {
    let first = match source {
        PayloadSource::Json { .. } | PayloadSource::Prompt(_) => return "application/json",
        PayloadSource::Random => return "application/octet-stream",
        PayloadSource::File { path } => Some(path.clone()),
        PayloadSource::Files { paths } => paths.first().cloned(),
        PayloadSource::Dir { path } => folder_files(path).ok().and_then(|f| f.into_iter().next()),
    };
    let ext = first
        .as_deref()
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("json") => "application/json",
        Some("jsonl" | "jsonlines") => "application/jsonlines",
        Some("csv") => "text/csv",
        Some("txt") => "text/plain",
        Some("npy") => "application/x-npy",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("wav") => "audio/wav",
        Some("pb" | "protobuf") => "application/x-protobuf",
        _ => "application/octet-stream",
    }
}

fn existing_path(
    c: &mut Checker,
    source: Option<&SpannedStr>,
    path: Option<&SpannedStr>,
    base_dir: &Path,
    dir: bool,
) -> PathBuf {
    let what = if dir { "folder" } else { "file" };
    let Some(path) = path else {
        if let Some(s) = source {
            c.on(
                s,
                "payload.path",
                format!("source = \"{}\" needs a path", s.get_ref()),
                Some(format!("add `path = \"...\"` naming the {what}")),
            );
        }
        return PathBuf::new();
    };
    let full = base_dir.join(path.get_ref());
    let ok = if dir { full.is_dir() } else { full.is_file() };
    if !ok {
        c.on(
            path,
            "payload.path",
            format!("{} is not a {what}", full.display()),
            Some(format!(
                "point `path` at an existing {what} (relative paths start at the profile's folder)"
            )),
        );
    } else if dir && folder_files(&full).is_ok_and(|f| f.is_empty()) {
        c.on(
            path,
            "payload.path",
            format!("the folder {} has no files", full.display()),
            Some("put request bodies in it, or point `path` at another folder".into()),
        );
    }
    full
}

fn existing_files(
    c: &mut Checker,
    raw: Option<&RawPayload>,
    source: Option<&SpannedStr>,
    base_dir: &Path,
) -> Vec<PathBuf> {
    let Some(list) = raw.and_then(|p| p.paths.as_ref()) else {
        if let Some(s) = source {
            c.on(
                s,
                "payload.paths",
                "source = \"files\" needs a list of files, one payload level each".into(),
                Some("add `paths = [\"small.json\", \"large.json\"]`".into()),
            );
        }
        return Vec::new();
    };
    if list.get_ref().is_empty() {
        c.on(
            list,
            "payload.paths",
            "is empty".into(),
            Some("list at least one file, e.g. paths = [\"request.json\"]".into()),
        );
    }
    let mut out = Vec::new();
    for (i, p) in list.get_ref().iter().enumerate() {
        let full = base_dir.join(p.get_ref());
        if !full.is_file() {
            c.on(
                p,
                &format!("payload.paths[{i}]"),
                format!("{} is not a file", full.display()),
                Some("name an existing file (relative paths start at the profile's folder)".into()),
            );
        }
        out.push(full);
    }
    out
}

fn json_template(
    c: &mut Checker,
    raw: Option<&RawPayload>,
    sweep: &RawSweep,
    base_dir: &Path,
) -> String {
    let (template, path) = (
        raw.and_then(|p| p.template.as_ref()),
        raw.and_then(|p| p.path.as_ref()),
    );
    let text = match (template, path) {
        (Some(t), _) => t.get_ref().clone(),
        (None, Some(p)) => match std::fs::read_to_string(base_dir.join(p.get_ref())) {
            Ok(text) => text,
            Err(e) => {
                c.on(
                    p,
                    "payload.path",
                    format!("cannot read the JSON template: {e}"),
                    None,
                );
                return String::new();
            }
        },
        (None, None) => {
            let span = raw.and_then(|p| p.source.as_ref()).map(|s| s.span());
            c.at(
                span,
                "payload.template",
                "source = \"json\" needs a template".into(),
                Some(
                    "add `template = '{\"inputs\": \"{{bytes}}\"}'` or `path = \"template.json\"`"
                        .into(),
                ),
            );
            return String::new();
        }
    };
    let span = template
        .map(|t| t.span())
        .or_else(|| path.map(|p| p.span()));
    if let Err(msg) = crate::domain::template::check(&text) {
        c.at(span, "payload.template", msg, None);
        return text;
    }
    check_template_sizes(c, &text, sweep, span);
    text
}

/// A template grown to each swept size: it needs `{{bytes}}`, and no size below its own.
fn check_template_sizes(
    c: &mut Checker,
    text: &str,
    sweep: &RawSweep,
    span: Option<std::ops::Range<usize>>,
) {
    let Some(sizes) = &sweep.payload_sizes else {
        return;
    };
    if fixed_fill(text).is_some() {
        return;
    }
    if !text.contains(FILL) {
        c.at(
            span,
            "payload.template",
            format!(
                "has no `{FILL}` placeholder, so every request is the template's {} B and \
                 sweep.payload_sizes cannot apply",
                text.len()
            ),
            Some(format!(
                "put `{FILL}` inside a JSON string, e.g. '{{\"inputs\": \"{FILL}\"}}', or remove \
                 `payload_sizes` from [sweep]"
            )),
        );
        return;
    }
    let own = (text.len() - FILL.len()) as u64;
    for (i, s) in sizes.get_ref().iter().enumerate() {
        match crate::domain::units::parse_size(s.get_ref()) {
            Ok(size) if size < own => c.on(
                s,
                &format!("sweep.payload_sizes[{i}]"),
                format!(
                    "{} is smaller than the JSON template around `{FILL}` ({own} B)",
                    format_size(size)
                ),
                Some(format!(
                    "use sizes of at least {own} B, or shorten the template"
                )),
            ),
            _ => {}
        }
    }
}

/// The payload sizes a profile sends must fit at least one swept hosting option (any option
/// when none is swept); `span` is where the sizes come from.
pub(super) fn check_limits(
    c: &mut Checker,
    payload: &Payload,
    sweep: &Sweep,
    span: Option<std::ops::Range<usize>>,
    key: &str,
) {
    let hosting: Vec<Hosting> = if sweep.hosting.is_empty() {
        Hosting::ALL.to_vec()
    } else {
        sweep.hosting.clone()
    };
    let Some(widest) = hosting
        .iter()
        .copied()
        .max_by_key(|h| h.max_payload_bytes())
    else {
        return;
    };
    let limit = widest.max_payload_bytes();
    let largest = largest_size(&payload.source, &sweep.payload_sizes);
    let Some(largest) = largest.filter(|&b| b > limit) else {
        return;
    };
    let limits = hosting
        .iter()
        .map(|h| format!("{h}: {}", format_size(h.max_payload_bytes())))
        .collect::<Vec<_>>()
        .join(", ");
    let scope = if sweep.hosting.is_empty() {
        "any hosting option"
    } else {
        "every swept hosting option"
    };
    c.at(
        span,
        key,
        format!(
            "a {} payload is over the request limit of {scope} ({limits})",
            format_size(largest)
        ),
        Some(format!(
            "send at most {} ({widest}), e.g. payload_sizes = [\"1MiB\"]",
            format_size(limit)
        )),
    );
}

/// The files of a payload folder, in name order (what `run` sends, in turn).
fn folder_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// The largest body a source sends, without building any (`None` when unknown).
fn largest_size(source: &PayloadSource, swept: &[u64]) -> Option<u64> {
    let len = |p: &Path| std::fs::metadata(p).ok().map(|m| m.len());
    match source {
        PayloadSource::Random => swept.iter().copied().max(),
        PayloadSource::Json { template } => match fixed_fill(template) {
            Some(Ok((n, range))) => Some((template.len() - range.len() + n) as u64),
            _ if !template.contains(FILL) => Some(template.len() as u64),
            _ => swept.iter().copied().max(),
        },
        PayloadSource::File { path } => len(path),
        PayloadSource::Files { paths } => paths.iter().filter_map(|p| len(p)).max(),
        PayloadSource::Dir { path } => folder_files(path).ok()?.iter().filter_map(|p| len(p)).max(),
        PayloadSource::Prompt(_) => None,
    }
}
