//! Request bodies: random bytes of a size, one file, a list of files (one payload level
//! each), a folder of files, or a JSON template.
//!
//! Bodies are built once per cell; each request takes a cheap [`Bytes`] clone.

pub mod prompt;

use crate::domain::template::{FILL, fixed_fill};
use crate::profile::PayloadSource;
use bytes::Bytes;
use rand::{Rng, RngExt, SeedableRng};
use std::path::{Path, PathBuf};

/// The bodies one cell sends, in turn.
#[derive(Clone, Debug)]
pub struct Bodies {
    bodies: Vec<Bytes>,
}

impl Bodies {
    /// The body for the `i`-th request (round-robin).
    pub fn get(&self, i: usize) -> Bytes {
        self.bodies[i % self.bodies.len()].clone()
    }

    /// Mean body size in bytes: the cell's payload size.
    pub fn mean_len(&self) -> u64 {
        let total: usize = self.bodies.iter().map(Bytes::len).sum();
        (total / self.bodies.len()) as u64
    }
}

/// Why bodies could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// A payload file or folder could not be read.
    #[error("cannot read payload {path}: {source}")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A folder source has no files.
    #[error("payload folder {0} has no files; put request bodies in it or use source = \"random\"")]
    EmptyDir(PathBuf),
    /// A `files` source lists no files.
    #[error("payload source \"files\" lists no files; add them to `[payload] paths`")]
    NoFiles,
    /// A line of a prompt dataset is not a JSON object with `prompt` or `messages`.
    #[error(
        "prompt dataset {path} line {line}: {why}; write one JSON object per line with a `prompt` string or chat `messages`"
    )]
    Dataset {
        /// The JSONL file.
        path: PathBuf,
        /// The line, from 1 (0: the whole file).
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A swept size is smaller than the JSON template around its filler.
    #[error(
        "payload size {size} B is smaller than the JSON template ({template} B without filler); raise sweep.payload_sizes or shorten the template"
    )]
    TemplateTooLarge {
        /// The swept size.
        size: u64,
        /// The template's own size.
        template: u64,
    },
}

/// The sizes a source really sends: a file or folder replaces the swept sizes; a list of
/// files gives one size per file, in order.
pub fn effective_sizes(source: &PayloadSource, swept: &[u64]) -> Result<Vec<u64>, PayloadError> {
    match source {
        PayloadSource::Random => Ok(swept.to_vec()),
        PayloadSource::Json { template } => match fixed_fill(template) {
            Some(Ok((n, range))) => Ok(vec![(template.len() - range.len() + n) as u64]),
            _ if !template.contains(FILL) => Ok(vec![template.len() as u64]),
            _ => Ok(swept.to_vec()),
        },
        PayloadSource::Files { paths } => paths.iter().map(|p| file_len(p)).collect(),
        PayloadSource::File { path } => Ok(vec![file_len(path)?]),
        PayloadSource::Dir { .. } => Ok(vec![build(source, 0, 0)?.mean_len()]),
        PayloadSource::Prompt(p) => (0..p.levels().len())
            .map(|level| Ok(build_level(source, 0, Some(level), 0)?.mean_len()))
            .collect(),
    }
}

/// The name a `files` level is labelled by: the file name of the `index`-th path.
pub fn file_label(source: &PayloadSource, index: usize) -> Option<String> {
    if let PayloadSource::Prompt(p) = source {
        return p.label(index);
    }
    let PayloadSource::Files { paths } = source else {
        return None;
    };
    let path = paths.get(index)?;
    let name = path.file_name().unwrap_or(path.as_os_str());
    Some(name.to_string_lossy().into_owned())
}

fn file_len(path: &Path) -> Result<u64, PayloadError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|source| PayloadError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// Builds the bodies of one cell of `size` bytes (ignored by file and folder sources); a
/// `files` source sends its first file.
pub fn build(source: &PayloadSource, size: u64, seed: u64) -> Result<Bodies, PayloadError> {
    build_level(source, size, None, seed)
}

/// Builds the bodies of one payload level: `size` bytes, or the `file`-th file of a `files`
/// source.
pub fn build_level(
    source: &PayloadSource,
    size: u64,
    file: Option<usize>,
    seed: u64,
) -> Result<Bodies, PayloadError> {
    let bodies = match source {
        PayloadSource::Random => vec![random_bytes(size as usize, seed)],
        PayloadSource::File { path } => vec![read(path)?],
        PayloadSource::Files { paths } => {
            let path = paths.get(file.unwrap_or(0)).ok_or(PayloadError::NoFiles)?;
            vec![read(path)?]
        }
        PayloadSource::Dir { path } => read_dir(path)?,
        PayloadSource::Json { template } => vec![fill_template(template, size, seed)?],
        PayloadSource::Prompt(p) => prompt::bodies(p, file.unwrap_or(0), seed)?,
    };
    Ok(Bodies { bodies })
}

fn random_bytes(size: usize, seed: u64) -> Bytes {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let mut buf = vec![0u8; size];
    rng.fill_bytes(&mut buf);
    Bytes::from(buf)
}

fn read(path: &Path) -> Result<Bytes, PayloadError> {
    std::fs::read(path)
        .map(Bytes::from)
        .map_err(|source| PayloadError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// The files of a payload folder, in name order.
pub fn dir_files(dir: &Path) -> Result<Vec<PathBuf>, PayloadError> {
    let io = |source| PayloadError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn read_dir(dir: &Path) -> Result<Vec<Bytes>, PayloadError> {
    let files = dir_files(dir)?;
    if files.is_empty() {
        return Err(PayloadError::EmptyDir(dir.to_path_buf()));
    }
    files.iter().map(|p| read(p)).collect()
}

fn fill_template(template: &str, size: u64, seed: u64) -> Result<Bytes, PayloadError> {
    let (fill_len, range) = match fixed_fill(template) {
        Some(Ok((n, range))) => (n, range),
        _ => match template.find(FILL) {
            Some(at) => {
                let own = (template.len() - FILL.len()) as u64;
                if size < own {
                    return Err(PayloadError::TemplateTooLarge {
                        size,
                        template: own,
                    });
                }
                ((size - own) as usize, at..at + FILL.len())
            }
            None => return Ok(Bytes::from(template.to_owned())),
        },
    };
    let mut out = String::with_capacity(template.len() + fill_len);
    out.push_str(&template[..range.start]);
    out.push_str(&filler(fill_len, seed));
    out.push_str(&template[range.end..]);
    Ok(Bytes::from(out))
}

/// Letters and digits: safe inside a JSON string without escaping.
fn filler(len: usize, seed: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(template: &str) -> PayloadSource {
        PayloadSource::Json {
            template: template.into(),
        }
    }

    #[test]
    fn random_bodies_have_the_swept_size() {
        let b = build(&PayloadSource::Random, 4096, 7).unwrap();
        assert_eq!(b.get(0).len(), 4096);
        assert_eq!(b.mean_len(), 4096);
    }

    #[test]
    fn json_filler_reaches_the_swept_size_and_stays_valid_json() {
        let source = json(r#"{"inputs": "{{bytes}}"}"#);
        for size in [64, 1024, 65_536] {
            let body = build(&source, size, 1).unwrap().get(0);
            assert_eq!(body.len() as u64, size);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert!(v["inputs"].is_string());
        }
    }

    #[test]
    fn json_fixed_filler_has_a_fixed_size() {
        let source = json(r#"{"x":"{{bytes:10}}"}"#);
        let body = build(&source, 999, 1).unwrap().get(0);
        assert_eq!(body.len(), r#"{"x":""}"#.len() + 10);
        assert_eq!(
            effective_sizes(&source, &[1, 2]).unwrap(),
            vec![body.len() as u64]
        );
    }

    #[test]
    fn json_template_larger_than_size_is_an_error() {
        let err = build(&json(r#"{"inputs": "{{bytes}}"}"#), 4, 1).unwrap_err();
        assert!(matches!(err, PayloadError::TemplateTooLarge { .. }));
    }

    #[test]
    fn dir_bodies_round_robin_in_name_order() {
        let dir = std::env::temp_dir().join(format!("loadtest-payload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.bin"), b"aa").unwrap();
        std::fs::write(dir.join("b.bin"), b"bbbb").unwrap();
        let b = build(&PayloadSource::Dir { path: dir.clone() }, 0, 0).unwrap();
        assert_eq!(&b.get(0)[..], b"aa");
        assert_eq!(&b.get(1)[..], b"bbbb");
        assert_eq!(&b.get(2)[..], b"aa");
        assert_eq!(b.mean_len(), 3);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
