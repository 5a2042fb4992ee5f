//! `loadtest prices`: the price table on the terminal.

use super::{Confidence, Origin, PriceRow, PriceTable, PricingError};
use std::io::{self, Write};
use std::path::Path;

/// `loadtest prices`: prints the table (only `region`'s rows when given, with the rows of
/// the CSV `file` overriding or adding to the embedded ones), its date and sources, with
/// `low` confidence rows flagged.
pub fn print_prices(file: Option<&Path>, region: Option<&str>) -> Result<(), PricingError> {
    let mut table = PriceTable::embedded();
    if let Some(path) = file {
        table = table.with_file(path)?;
    }
    if let Some(region) = region
        && !table.rows().iter().any(|r| r.region == region)
    {
        return Err(PricingError::UnknownRegion {
            region: region.to_string(),
            known: table.regions(),
        });
    }
    let stdout = io::stdout();
    match write_table(&table, region, &mut stdout.lock()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(PricingError::Output(e)),
        _ => Ok(()),
    }
}

/// Writes the rows of a region (every region when `None`) as an aligned table.
pub fn write_table(
    table: &PriceTable,
    region: Option<&str>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rows: Vec<&PriceRow> = table
        .rows()
        .iter()
        .filter(|r| region.is_none_or(|reg| r.region == reg))
        .collect();
    write!(
        out,
        "On-demand prices (USD) as of {}",
        table.as_of_dates(region).join(", ")
    )?;
    match table.override_file() {
        Some(path) => writeln!(out, "; rows marked * come from {}", path.display())?,
        None => writeln!(out, "; embedded table")?,
    }
    writeln!(
        out,
        "async and batch are billed at the real-time instance-hour rate unless a row says otherwise."
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<11} {:<11} {:<24} {:<10} {:>12}  {:<10}  source",
        "region", "hosting", "item", "unit", "usd", "confidence"
    )?;
    for r in &rows {
        let mark = if r.origin == Origin::Override {
            "*"
        } else {
            " "
        };
        let confidence = match r.confidence {
            Confidence::Low => "LOW".to_string(),
            c => c.to_string(),
        };
        writeln!(
            out,
            "{:<11} {:<11} {:<24} {:<10} {:>12}{mark} {:<10}  {}",
            r.region,
            r.hosting.as_str(),
            r.item,
            r.unit.as_str(),
            r.usd.0,
            confidence,
            r.source
        )?;
    }
    if rows.iter().any(|r| r.confidence == Confidence::Low) {
        writeln!(out)?;
        writeln!(
            out,
            "LOW: single or conflicting source; verify against the AWS price list before relying on it."
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_table_flags_low_confidence_and_date() {
        let mut out = Vec::new();
        write_table(&PriceTable::embedded(), Some("us-east-1"), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("On-demand prices (USD) as of 2026-11; embedded table"));
        let g6 = text.lines().find(|l| l.contains("ml.g6.xlarge")).unwrap();
        assert!(g6.contains("LOW"), "{g6}");
        assert!(text.contains("verify against the AWS price list"));
    }
}
