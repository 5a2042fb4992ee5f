//! The instance catalog: vCPU, memory, accelerator and relative speed of each SageMaker
//! instance type the emulator can host, read once from the embedded `data/instances.csv`.

use serde::Deserialize;
use std::sync::LazyLock;

/// The embedded catalog file.
const CATALOG_CSV: &str = include_str!("../../data/instances.csv");

/// How many close matches an unknown-instance error lists at most.
const MAX_SUGGESTIONS: usize = 3;

/// One hosting instance type.
///
/// `speed` means different things for CPU and accelerator instances: for a CPU instance it is
/// the speed of one core relative to an `ml.m5` core (1.0); for an accelerator instance it is
/// the throughput of one accelerator relative to an NVIDIA T4 (1.0). Both are modelling
/// assumptions, explained per row in the `source` column.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Instance {
    /// SageMaker instance type, e.g. `ml.c5.xlarge`.
    #[serde(rename = "instance_type")]
    pub name: String,
    /// Virtual CPUs.
    pub vcpu: u32,
    /// Host memory in GiB.
    pub memory_gib: f64,
    /// Accelerator model (e.g. `NVIDIA T4`), `None` for CPU-only instances.
    pub accelerator: Option<String>,
    /// Number of accelerators.
    pub accelerator_count: u32,
    /// Memory of one accelerator in GiB (see [`ACCELERATOR_MEMORY`] for the sources); an LLM's
    /// KV-cache budget comes from it.
    pub accelerator_memory_gib: f64,
    /// Relative speed: per-core for CPU instances, per-accelerator for accelerator instances.
    pub speed: f64,
    /// Where the figures come from, and which of them are assumptions.
    pub source: String,
}

impl Instance {
    /// True when the instance has a GPU or another inference accelerator.
    pub fn has_accelerator(&self) -> bool {
        self.accelerator.is_some() && self.accelerator_count > 0
    }

    /// Host memory in MiB (SageMaker's "MB").
    pub fn memory_mb(&self) -> u32 {
        gib_to_mb(self.memory_gib)
    }

    /// Memory of one accelerator in MiB.
    pub fn accelerator_memory_mb(&self) -> u32 {
        gib_to_mb(self.accelerator_memory_gib)
    }
}

fn gib_to_mb(gib: f64) -> u32 {
    (gib * 1024.0).round().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// Memory per accelerator (GiB) of each accelerator the catalog lists, from AWS's EC2
/// accelerated-computing instance pages (the SageMaker `ml.` types run on the same hardware);
/// a test holds `data/instances.csv` to these figures.
pub const ACCELERATOR_MEMORY: [(&str, f64); 5] = [
    // g4dn: "NVIDIA T4 Tensor Core GPUs ... 16 GiB of GPU memory" per GPU,
    // https://aws.amazon.com/ec2/instance-types/g4/
    ("NVIDIA T4", 16.0),
    // g5: "NVIDIA A10G Tensor Core GPUs ... 24 GiB of memory per GPU",
    // https://aws.amazon.com/ec2/instance-types/g5/
    ("NVIDIA A10G", 24.0),
    // g6: "NVIDIA L4 Tensor Core GPUs ... 24 GiB of memory per GPU",
    // https://aws.amazon.com/ec2/instance-types/g6/
    ("NVIDIA L4", 24.0),
    // p3.2xlarge: one "NVIDIA Tesla V100" with 16 GiB of GPU memory,
    // https://aws.amazon.com/ec2/instance-types/p3/
    ("NVIDIA V100", 16.0),
    // inf2: "32 GB of high-bandwidth memory" per Inferentia2 chip,
    // https://aws.amazon.com/ec2/instance-types/inf2/
    ("AWS Inferentia2", 32.0),
];

static CATALOG: LazyLock<Vec<Instance>> = LazyLock::new(|| {
    parse(CATALOG_CSV).unwrap_or_else(|e| panic!("embedded data/instances.csv is invalid: {e}"))
});

/// Parses a catalog in the `data/instances.csv` format.
fn parse(text: &str) -> Result<Vec<Instance>, csv::Error> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .map(|row| {
            row.map(|mut instance: Instance| {
                instance.accelerator = instance.accelerator.filter(|a| !a.trim().is_empty());
                instance
            })
        })
        .collect()
}

/// Every instance type in the catalog, in file order.
pub fn all() -> &'static [Instance] {
    &CATALOG
}

/// The catalog entry for an instance type, e.g. `ml.g4dn.xlarge`.
pub fn lookup(name: &str) -> Option<&'static Instance> {
    CATALOG.iter().find(|i| i.name == name)
}

/// Catalog names closest to a mistyped one, best first (at most three).
pub fn close_matches(name: &str) -> Vec<&'static str> {
    let wanted = name.trim().to_ascii_lowercase();
    let wanted = if wanted.starts_with("ml.") {
        wanted
    } else {
        format!("ml.{wanted}")
    };
    let mut scored: Vec<(f64, &'static str)> = CATALOG
        .iter()
        .map(|i| (strsim::jaro_winkler(&wanted, &i.name), i.name.as_str()))
        .filter(|(score, _)| *score >= 0.85)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, n)| n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Instance types, vCPU, memory GiB and accelerator count of the shared us-east-1
    /// price table (`sagemaker-us-east-1.csv`), which the catalog must cover.
    const PRICED: [(&str, u32, f64, u32); 18] = [
        ("ml.t2.medium", 2, 4.0, 0),
        ("ml.m5.large", 2, 8.0, 0),
        ("ml.m5.xlarge", 4, 16.0, 0),
        ("ml.m5.2xlarge", 8, 32.0, 0),
        ("ml.m5.4xlarge", 16, 64.0, 0),
        ("ml.c5.large", 2, 4.0, 0),
        ("ml.c5.xlarge", 4, 8.0, 0),
        ("ml.c5.2xlarge", 8, 16.0, 0),
        ("ml.c5.4xlarge", 16, 32.0, 0),
        ("ml.r5.large", 2, 16.0, 0),
        ("ml.r5.xlarge", 4, 32.0, 0),
        ("ml.g4dn.xlarge", 4, 16.0, 1),
        ("ml.g4dn.2xlarge", 8, 32.0, 1),
        ("ml.g5.xlarge", 4, 16.0, 1),
        ("ml.g5.2xlarge", 8, 32.0, 1),
        ("ml.g6.xlarge", 4, 16.0, 1),
        ("ml.p3.2xlarge", 8, 61.0, 1),
        ("ml.inf2.xlarge", 4, 16.0, 1),
    ];

    #[test]
    fn embedded_catalog_parses_with_sane_values() {
        assert!(all().len() >= PRICED.len());
        for i in all() {
            assert!(i.vcpu > 0 && i.memory_gib > 0.0 && i.speed > 0.0, "{i:?}");
            assert!(!i.source.is_empty(), "{} has no source", i.name);
            assert_eq!(
                i.has_accelerator(),
                i.accelerator_memory_gib > 0.0,
                "{}",
                i.name
            );
        }
    }

    #[test]
    fn every_priced_instance_is_in_the_catalog_with_the_same_shape() {
        for (name, vcpu, memory_gib, accelerators) in PRICED {
            let instance = lookup(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(instance.vcpu, vcpu, "{name}");
            assert_eq!(instance.memory_gib, memory_gib, "{name}");
            assert_eq!(instance.accelerator_count, accelerators, "{name}");
        }
    }

    #[test]
    fn lookup_finds_gpu_and_cpu_types() {
        let g4 = lookup("ml.g4dn.xlarge").expect("g4dn");
        assert!(g4.has_accelerator());
        assert_eq!(g4.accelerator.as_deref(), Some("NVIDIA T4"));
        assert_eq!(g4.accelerator_memory_mb(), 16 * 1024);
        let c5 = lookup("ml.c5.xlarge").expect("c5");
        assert!(!c5.has_accelerator());
        assert_eq!(c5.memory_mb(), 8192);
        assert!(lookup("ml.c5.xlarg").is_none());
    }

    #[test]
    fn accelerator_memory_matches_the_aws_figures() {
        let mut gpus = 0;
        for i in all().iter().filter(|i| i.has_accelerator()) {
            let name = i.accelerator.as_deref().unwrap_or_default();
            let (_, gib) = ACCELERATOR_MEMORY
                .iter()
                .find(|(a, _)| *a == name)
                .unwrap_or_else(|| panic!("{}: no AWS figure for {name}", i.name));
            assert_eq!(i.accelerator_memory_gib, *gib, "{}", i.name);
            gpus += 1;
        }
        assert_eq!(gpus, 7);
    }

    #[test]
    fn close_matches_suggest_the_intended_type() {
        assert_eq!(close_matches("ml.c5.xlarg").first(), Some(&"ml.c5.xlarge"));
        assert_eq!(close_matches("c5.xlarge").first(), Some(&"ml.c5.xlarge"));
        assert!(close_matches("ml.g4dn.xl").contains(&"ml.g4dn.xlarge"));
        assert!(close_matches("zzzz").is_empty());
        assert!(close_matches("ml.m5.large").len() <= MAX_SUGGESTIONS);
    }
}
