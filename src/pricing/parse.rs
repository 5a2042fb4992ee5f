//! Reading price CSVs into rows, with errors that name the file, line and column.

use super::{
    COLUMNS, Confidence, Origin, PriceRow, PricingError, SERVERLESS_ITEMS,
    SERVERLESS_REFERENCE_ITEMS, Unit, Usd,
};
use crate::domain::Hosting;

/// Parses a price CSV; `file` names it in errors.
pub(super) fn parse_csv(
    text: &str,
    file: &str,
    origin: Origin,
) -> Result<Vec<PriceRow>, PricingError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let csv_error = |source: csv::Error| PricingError::Csv {
        file: file.to_string(),
        line: source.position().map_or(1, csv::Position::line),
        source,
    };
    let headers = reader.headers().map_err(csv_error)?.clone();
    let index = column_index(&headers, file)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, csv::Position::line);
        if record.get(0).is_some_and(|first| first.starts_with('#')) {
            continue;
        }
        if record.len() != headers.len() {
            return Err(PricingError::Width {
                file: file.to_string(),
                line,
                found: record.len(),
                expected: headers.len(),
            });
        }
        let cell = RowReader {
            record: &record,
            index: &index,
            file,
            line,
        };
        rows.push(cell.row(origin)?);
    }
    Ok(rows)
}

/// For each of [`COLUMNS`], its position in the file.
fn column_index(headers: &csv::StringRecord, file: &str) -> Result<[usize; 8], PricingError> {
    let header_error = |message: String| PricingError::Header {
        file: file.to_string(),
        message,
    };
    if let Some(unknown) = headers.iter().find(|h| !COLUMNS.contains(h)) {
        return Err(header_error(format!("unknown column `{unknown}`")));
    }
    let mut index = [0; 8];
    for (slot, name) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| header_error(format!("missing column `{name}`")))?;
    }
    Ok(index)
}

/// Reads typed fields of one record, with errors naming the file, line and column.
struct RowReader<'a> {
    record: &'a csv::StringRecord,
    index: &'a [usize; 8],
    file: &'a str,
    line: u64,
}

impl RowReader<'_> {
    fn row(&self, origin: Origin) -> Result<PriceRow, PricingError> {
        let hosting = self.parse(
            1,
            Hosting::parse,
            "expected real-time, serverless, async or batch",
        )?;
        let item = self.text(2)?;
        let unit = self.parse(3, Unit::parse, "expected hour, GB-second or GB")?;
        self.check_item_unit(hosting, &item, unit)?;
        Ok(PriceRow {
            region: self.text(0)?,
            hosting,
            item,
            unit,
            usd: self.parse(
                4,
                parse_usd,
                "expected a price in dollars, 0 or more, e.g. 0.204",
            )?,
            confidence: self.parse(5, Confidence::parse, "expected high, medium or low")?,
            as_of: self.text(6)?,
            source: self.text(7)?,
            origin,
        })
    }

    fn raw(&self, column: usize) -> &str {
        self.record.get(self.index[column]).unwrap_or("")
    }

    fn error(&self, column: usize, message: String) -> PricingError {
        PricingError::Field {
            file: self.file.to_string(),
            line: self.line,
            column_number: self.index[column] + 1,
            column: COLUMNS[column],
            message,
        }
    }

    fn text(&self, column: usize) -> Result<String, PricingError> {
        let value = self.raw(column);
        if value.is_empty() {
            return Err(self.error(column, "must not be empty".into()));
        }
        Ok(value.to_string())
    }

    fn parse<T>(
        &self,
        column: usize,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<T, PricingError> {
        let value = self.raw(column);
        parse(value).ok_or_else(|| self.error(column, format!("`{value}`: {expected}")))
    }

    /// Instance rows are per hour; serverless items have fixed units.
    fn check_item_unit(
        &self,
        hosting: Hosting,
        item: &str,
        unit: Unit,
    ) -> Result<(), PricingError> {
        if hosting != Hosting::Serverless {
            return match unit {
                Unit::Hour => Ok(()),
                _ => Err(self.error(
                    3,
                    format!("`{unit}`: {hosting} rows price instance-hours; use `hour`"),
                )),
            };
        }
        let known = SERVERLESS_ITEMS.iter().chain(&SERVERLESS_REFERENCE_ITEMS);
        match known.clone().find(|(name, _)| *name == item) {
            Some((_, expected)) if *expected == unit => Ok(()),
            Some((_, expected)) => Err(self.error(
                3,
                format!("`{unit}`: serverless `{item}` is priced per `{expected}`"),
            )),
            None => {
                let names: Vec<&str> = known.map(|(name, _)| *name).collect();
                Err(self.error(
                    2,
                    format!("`{item}`: serverless items are {}", names.join(", ")),
                ))
            }
        }
    }
}

fn parse_usd(s: &str) -> Option<Usd> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(Usd)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::PriceTable;

    pub(crate) fn table_with(csv: &str) -> Result<PriceTable, PricingError> {
        let rows = parse_csv(csv, "test.csv", Origin::Override)?;
        Ok(PriceTable::embedded().with_rows(rows))
    }

    const HEADER: &str = "region,hosting,item,unit,usd,confidence,as_of,source\n";

    #[test]
    fn columns_may_come_in_any_order() {
        let csv = "usd,region,hosting,item,unit,confidence,as_of,source\n0.5,us-east-1,real-time,ml.x,hour,high,2026-11,me\n";
        let t = table_with(csv).unwrap();
        assert_eq!(
            t.instance_hourly(
                "us-east-1",
                Hosting::RealTime,
                &crate::domain::InstanceType::new("ml.x")
            )
            .unwrap()
            .usd,
            Usd(0.5)
        );
    }

    #[test]
    fn malformed_rows_name_file_line_and_column() {
        let csv =
            format!("{HEADER}# a comment\nus-east-1,real-time,ml.x,hour,abc,high,2026-11,me\n");
        let msg = table_with(&csv).unwrap_err().to_string();
        assert!(
            msg.starts_with("test.csv:3, column 5 (`usd`): `abc`"),
            "{msg}"
        );
        let csv = format!("{HEADER}us-east-1,realtime,ml.x,hour,1,high,2026-11,me\n");
        let msg = table_with(&csv).unwrap_err().to_string();
        assert!(msg.contains("test.csv:2, column 2 (`hosting`)"), "{msg}");
        let csv = format!("{HEADER}us-east-1,real-time,ml.x,GB,1,high,2026-11,me\n");
        assert!(
            table_with(&csv)
                .unwrap_err()
                .to_string()
                .contains("use `hour`")
        );
        let csv = format!("{HEADER}us-east-1,serverless,compute,GB,1,high,2026-11,me\n");
        assert!(
            table_with(&csv)
                .unwrap_err()
                .to_string()
                .contains("per `GB-second`")
        );
        let csv = format!("{HEADER}us-east-1,real-time,ml.x,hour,1,high,2026-11\n");
        assert!(matches!(
            table_with(&csv),
            Err(PricingError::Width {
                line: 2,
                found: 7,
                ..
            })
        ));
        let csv = "region,hosting,item,unit,usd,confidence,as_of\n";
        assert!(
            table_with(csv)
                .unwrap_err()
                .to_string()
                .contains("missing column `source`")
        );
    }
}
