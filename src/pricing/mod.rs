//! Price tables: the embedded on-demand prices (`data/prices.csv`), user overrides from
//! `[pricing] file`, and the lookups `recommend` needs.
//!
//! # CSV schema
//!
//! One schema for every kind of price, one row per (region, hosting, item); columns may come in
//! any order, `#` starts a comment line:
//!
//! | column | meaning |
//! |---|---|
//! | `region` | AWS region, e.g. `us-east-1` |
//! | `hosting` | `real-time`, `serverless`, `async` or `batch` |
//! | `item` | an instance type (`ml.c5.xlarge`) for instance-hour rows; for `serverless`: `compute`, `data_in`, `data_out` (also `provisioned_concurrency`, `provisioned_inference`, kept for reference) |
//! | `unit` | `hour` (per instance-hour), `GB-second` (per GB of configured memory per second of processing; 1 GB = 1024 MB) or `GB` (per GB of data, 1 GB = 2^30 bytes) |
//! | `usd` | on-demand price in US dollars per unit |
//! | `confidence` | `high`, `medium` or `low` (single or conflicting source: verify) |
//! | `as_of` | when the price was read, e.g. `2026-11` |
//! | `source` | where it came from |
//!
//! Instance rows take the unit `hour`; serverless `compute` and `provisioned_*` take
//! `GB-second`; `data_in`/`data_out` take `GB`.
//!
//! **Rule for async and batch:** asynchronous inference and batch transform bill the same
//! instance-hour rates as real-time hosting, so the table keeps only `real-time` rows and an
//! `async`/`batch` lookup falls back to the `real-time` row of the same instance type. A row
//! written for `async` or `batch` (e.g. a negotiated rate) wins over that fallback.
//!
//! A row of the `[pricing] file` replaces the embedded row with the same region, hosting and
//! item, or adds a new one.

mod parse;
mod print;

use crate::domain::{Hosting, InstanceType, Variant};
use crate::profile::Pricing;
use parse::parse_csv;
pub use print::{print_prices, write_table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The embedded price table.
const EMBEDDED_CSV: &str = include_str!("../../data/prices.csv");

/// The columns of a price CSV, in the order the embedded file writes them.
const COLUMNS: [&str; 8] = [
    "region",
    "hosting",
    "item",
    "unit",
    "usd",
    "confidence",
    "as_of",
    "source",
];

/// Why prices could not be read or are missing.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    /// The override file could not be read.
    #[error("cannot read price file {}: {source}; check `[pricing] file` (or `--file`)", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The CSV itself is broken (e.g. not UTF-8).
    #[error("{file}:{line}: {source}")]
    Csv {
        /// The file name (`embedded` for the built-in table).
        file: String,
        /// 1-based line.
        line: u64,
        /// What the CSV reader said.
        source: csv::Error,
    },
    /// A row has more or fewer fields than the header.
    #[error("{file}:{line}: {found} fields where the header has {expected}; every row needs the columns {}", COLUMNS.join(","))]
    Width {
        /// The file name.
        file: String,
        /// 1-based line.
        line: u64,
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// The header row lacks a column or has an unknown one.
    #[error("{file}:1: {message}; the header must be {}", COLUMNS.join(","))]
    Header {
        /// The file name.
        file: String,
        /// Which column is missing or unknown.
        message: String,
    },
    /// A value does not parse.
    #[error("{file}:{line}, column {column_number} (`{column}`): {message}")]
    Field {
        /// The file name.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column position in the file.
        column_number: usize,
        /// The column name.
        column: &'static str,
        /// What is wrong and what is expected.
        message: String,
    },
    /// The table has no rows for the region asked for.
    #[error("no prices for region {region} (the table has {}); add its rows to a CSV and name it with `[pricing] file` (or `--file`)", known.join(", "))]
    UnknownRegion {
        /// The region asked for.
        region: String,
        /// Regions the table knows.
        known: Vec<String>,
    },
    /// Swept instance types or serverless prices without a price row.
    #[error("{}", render_missing(.0))]
    Missing(Vec<MissingPrice>),
    /// Printing the table failed.
    #[error("cannot write the price table: {0}")]
    Output(io::Error),
}

fn render_missing(missing: &[MissingPrice]) -> String {
    let lines: Vec<String> = missing.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// A price the sweep needs that the table does not have, with the row that would add it.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, thiserror::Error,
)]
#[error(
    "no price for {item} ({hosting}) in {region}: add a row `{region},{row_hosting},{item},{unit},<usd>,high,<as_of>,<source>` to the CSV named by `[pricing] file`{note}",
    row_hosting = self.row_hosting(),
    note = if self.row_hosting() != self.hosting { " (async and batch use real-time instance rates)" } else { "" }
)]
pub struct MissingPrice {
    /// Region of the lookup.
    pub region: String,
    /// Hosting option of the swept variant.
    pub hosting: Hosting,
    /// Instance type, or the serverless item (`compute`, `data_in`, `data_out`).
    pub item: String,
    /// Unit the row must use.
    pub unit: Unit,
}

impl MissingPrice {
    /// The hosting to write in the suggested row: async and batch fall back to real-time rows.
    fn row_hosting(&self) -> Hosting {
        match self.hosting {
            Hosting::Async | Hosting::Batch => Hosting::RealTime,
            h => h,
        }
    }
}

/// An amount in US dollars.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Usd(pub f64);

impl Usd {
    /// The amount as a number of dollars.
    pub fn value(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Usd {
    /// `$0.2040`, `$12.35`; amounts under a cent keep three significant digits (`$0.00000210`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        let decimals = if v.abs() >= 100.0 {
            2
        } else if v.abs() >= 0.01 || v == 0.0 {
            4
        } else {
            (2.0 - v.abs().log10().floor()).clamp(4.0, 12.0) as usize
        };
        write!(f, "${v:.decimals$}")
    }
}

/// What a price is per.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// Per instance-hour.
    #[serde(rename = "hour")]
    Hour,
    /// Per GB of configured memory per second of processing.
    #[serde(rename = "GB-second")]
    GbSecond,
    /// Per GB of data.
    #[serde(rename = "GB")]
    Gb,
}

impl Unit {
    /// The name used in the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Hour => "hour",
            Unit::GbSecond => "GB-second",
            Unit::Gb => "GB",
        }
    }

    fn parse(s: &str) -> Option<Unit> {
        [Unit::Hour, Unit::GbSecond, Unit::Gb]
            .into_iter()
            .find(|u| u.as_str() == s)
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far a price can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Single or conflicting source: show it and ask the user to verify.
    Low,
    /// Plausible but not checked against the price list.
    Medium,
    /// Taken from the price list.
    High,
}

impl Confidence {
    /// The name used in the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    fn parse(s: &str) -> Option<Confidence> {
        [Confidence::Low, Confidence::Medium, Confidence::High]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a row came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The table built into the binary.
    Embedded,
    /// The `[pricing] file` (or `--file`) override.
    Override,
}

/// One price.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceRow {
    /// AWS region.
    pub region: String,
    /// Hosting option the price applies to.
    pub hosting: Hosting,
    /// Instance type, or a serverless item (`compute`, `data_in`, `data_out`, ...).
    pub item: String,
    /// What the price is per.
    pub unit: Unit,
    /// Dollars per unit.
    pub usd: Usd,
    /// How far it can be trusted.
    pub confidence: Confidence,
    /// When it was read.
    pub as_of: String,
    /// Where it came from.
    pub source: String,
    /// Embedded or override.
    pub origin: Origin,
}

impl PriceRow {
    fn same_key(&self, other: &PriceRow) -> bool {
        self.region == other.region && self.hosting == other.hosting && self.item == other.item
    }
}

/// The three serverless prices of a region.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerlessPrices {
    /// Per GB-second of configured memory while processing.
    pub compute_per_gb_second: Usd,
    /// Per GB of request data.
    pub data_in_per_gb: Usd,
    /// Per GB of response data.
    pub data_out_per_gb: Usd,
    /// The lowest confidence of the three rows.
    pub confidence: Confidence,
}

/// The serverless items a cost needs, with their units.
const SERVERLESS_ITEMS: [(&str, Unit); 3] = [
    ("compute", Unit::GbSecond),
    ("data_in", Unit::Gb),
    ("data_out", Unit::Gb),
];

/// Serverless items kept for reference (provisioned concurrency), not used in costs.
const SERVERLESS_REFERENCE_ITEMS: [(&str, Unit); 2] = [
    ("provisioned_concurrency", Unit::GbSecond),
    ("provisioned_inference", Unit::GbSecond),
];

/// A price table: the embedded rows, possibly overridden.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceTable {
    rows: Vec<PriceRow>,
    override_file: Option<PathBuf>,
}

impl PriceTable {
    /// The table built into the binary (`data/prices.csv`).
    pub fn embedded() -> PriceTable {
        // The embedded CSV is a constant checked by the `embedded_table_parses` test.
        let rows = parse_csv(EMBEDDED_CSV, "embedded data/prices.csv", Origin::Embedded)
            .expect("the embedded price table parses");
        PriceTable {
            rows,
            override_file: None,
        }
    }

    /// The embedded table with the rows of `[pricing] file`, when given, on top.
    pub fn load(pricing: &Pricing) -> Result<PriceTable, PricingError> {
        let table = PriceTable::embedded();
        match &pricing.file {
            Some(path) => table.with_file(path),
            None => Ok(table),
        }
    }

    /// This table with the rows of a CSV file replacing or adding rows.
    pub fn with_file(self, path: &Path) -> Result<PriceTable, PricingError> {
        let text = std::fs::read_to_string(path).map_err(|source| PricingError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let rows = parse_csv(&text, &path.display().to_string(), Origin::Override)?;
        let mut table = self.with_rows(rows);
        table.override_file = Some(path.to_path_buf());
        Ok(table)
    }

    /// This table with `rows` replacing rows of the same region, hosting and item, or added.
    pub fn with_rows(mut self, rows: Vec<PriceRow>) -> PriceTable {
        for row in rows {
            match self.rows.iter_mut().find(|r| r.same_key(&row)) {
                Some(existing) => *existing = row,
                None => self.rows.push(row),
            }
        }
        self
    }

    /// Every row, embedded first, in file order.
    pub fn rows(&self) -> &[PriceRow] {
        &self.rows
    }

    /// The override file whose rows are in the table, if any.
    pub fn override_file(&self) -> Option<&Path> {
        self.override_file.as_deref()
    }

    /// The regions the table has rows for, sorted.
    pub fn regions(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self.rows.iter().map(|r| r.region.as_str()).collect();
        set.into_iter().map(String::from).collect()
    }

    /// The distinct `as_of` dates of a region's rows (all regions when `None`), sorted.
    pub fn as_of_dates(&self, region: Option<&str>) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .rows
            .iter()
            .filter(|r| region.is_none_or(|reg| r.region == reg))
            .map(|r| r.as_of.as_str())
            .collect();
        set.into_iter().map(String::from).collect()
    }

    /// The instance-hour price of an instance type; `async` and `batch` fall back to the
    /// `real-time` row. `None` for serverless or when there is no row.
    pub fn instance_hourly(
        &self,
        region: &str,
        hosting: Hosting,
        instance_type: &InstanceType,
    ) -> Option<&PriceRow> {
        let find = |h: Hosting| {
            self.rows.iter().find(|r| {
                r.region == region
                    && r.hosting == h
                    && r.item == instance_type.as_str()
                    && r.unit == Unit::Hour
            })
        };
        match hosting {
            Hosting::Serverless => None,
            Hosting::RealTime => find(Hosting::RealTime),
            Hosting::Async | Hosting::Batch => find(hosting).or_else(|| find(Hosting::RealTime)),
        }
    }

    /// The serverless prices of a region, when compute, data in and data out all have rows.
    pub fn serverless(&self, region: &str) -> Option<ServerlessPrices> {
        let compute = self.serverless_row(region, "compute")?;
        let data_in = self.serverless_row(region, "data_in")?;
        let data_out = self.serverless_row(region, "data_out")?;
        Some(ServerlessPrices {
            compute_per_gb_second: compute.usd,
            data_in_per_gb: data_in.usd,
            data_out_per_gb: data_out.usd,
            confidence: compute
                .confidence
                .min(data_in.confidence)
                .min(data_out.confidence),
        })
    }

    fn serverless_row(&self, region: &str, item: &str) -> Option<&PriceRow> {
        self.rows
            .iter()
            .find(|r| r.region == region && r.hosting == Hosting::Serverless && r.item == item)
    }

    /// The rows a variant needs that the table lacks (empty when it can be priced).
    pub fn missing(&self, region: &str, hosting: Hosting, variant: &Variant) -> Vec<MissingPrice> {
        let missing = |item: &str, unit| MissingPrice {
            region: region.to_string(),
            hosting,
            item: item.to_string(),
            unit,
        };
        match variant {
            Variant::Serverless { .. } => SERVERLESS_ITEMS
                .iter()
                .filter(|(item, _)| self.serverless_row(region, item).is_none())
                .map(|(item, unit)| missing(item, *unit))
                .collect(),
            Variant::Instance(t) if self.instance_hourly(region, hosting, t).is_none() => {
                vec![missing(t.as_str(), Unit::Hour)]
            }
            Variant::Instance(_) => Vec::new(),
        }
    }
}

/// Checks that every swept variant has a price in `region`; reports every missing row at once,
/// each with the row to add.
pub fn check_prices(
    table: &PriceTable,
    region: &str,
    variants: &[(Hosting, Variant)],
) -> Result<(), PricingError> {
    let missing: BTreeSet<MissingPrice> = variants
        .iter()
        .flat_map(|(hosting, variant)| table.missing(region, *hosting, variant))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(PricingError::Missing(missing.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests;
