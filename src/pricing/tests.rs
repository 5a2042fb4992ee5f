//! Unit tests of the price table: the embedded rows, overrides, fallbacks and missing rows.

use super::*;

fn table_with(csv: &str) -> Result<PriceTable, PricingError> {
    let rows = parse_csv(csv, "test.csv", Origin::Override)?;
    Ok(PriceTable::embedded().with_rows(rows))
}

const HEADER: &str = "region,hosting,item,unit,usd,confidence,as_of,source\n";

#[test]
fn embedded_table_parses_and_keeps_facts() {
    let t = PriceTable::embedded();
    let c5 = t
        .instance_hourly(
            "us-east-1",
            Hosting::RealTime,
            &InstanceType::new("ml.c5.xlarge"),
        )
        .unwrap();
    assert_eq!(c5.usd, Usd(0.204));
    assert_eq!(c5.confidence, Confidence::High);
    assert_eq!(c5.as_of, "2026-11");
    let g4 = t
        .instance_hourly(
            "us-east-1",
            Hosting::RealTime,
            &InstanceType::new("ml.g4dn.2xlarge"),
        )
        .unwrap();
    assert_eq!(g4.confidence, Confidence::Low);
    assert_eq!(g4.source, "sources disagree (0.94 vs 1.0528); verify");
    assert_eq!(t.as_of_dates(None), vec!["2026-11".to_string()]);
    assert!(
        t.rows()
            .iter()
            .all(|r| !r.source.is_empty() && r.source != "same")
    );
}

#[test]
fn serverless_prices() {
    let s = PriceTable::embedded().serverless("us-east-1").unwrap();
    assert_eq!(s.compute_per_gb_second, Usd(0.00002));
    assert_eq!(s.data_in_per_gb, Usd(0.016));
    assert_eq!(s.data_out_per_gb, Usd(0.016));
    assert_eq!(s.confidence, Confidence::High);
    assert_eq!(PriceTable::embedded().serverless("eu-west-1"), None);
}

#[test]
fn async_and_batch_fall_back_to_real_time_unless_a_row_says_otherwise() {
    let t = table_with(&format!(
        "{HEADER}us-east-1,batch,ml.c5.xlarge,hour,0.15,high,2026-11,my discount\n"
    ))
    .unwrap();
    let price = |h| {
        t.instance_hourly("us-east-1", h, &InstanceType::new("ml.c5.xlarge"))
            .map(|r| r.usd)
    };
    assert_eq!(price(Hosting::Async), Some(Usd(0.204)));
    assert_eq!(price(Hosting::Batch), Some(Usd(0.15)));
    assert_eq!(price(Hosting::Serverless), None);
}

#[test]
fn overrides_replace_and_add_rows() {
    let csv = format!(
        "{HEADER}us-east-1,real-time,ml.c5.xlarge,hour,0.1,medium,2027-01,savings plan\n\
         eu-west-1,real-time,ml.c5.xlarge,hour,0.23,low,2027-01,my quote\n"
    );
    let t = table_with(&csv).unwrap();
    let c5 = t
        .instance_hourly(
            "us-east-1",
            Hosting::RealTime,
            &InstanceType::new("ml.c5.xlarge"),
        )
        .unwrap();
    assert_eq!((c5.usd, c5.origin), (Usd(0.1), Origin::Override));
    assert!(
        t.instance_hourly(
            "eu-west-1",
            Hosting::RealTime,
            &InstanceType::new("ml.c5.xlarge")
        )
        .is_some()
    );
    assert_eq!(t.rows().len(), PriceTable::embedded().rows().len() + 1);
    assert_eq!(
        t.regions(),
        vec!["eu-west-1".to_string(), "us-east-1".to_string()]
    );
}

#[test]
fn missing_prices_are_reported_together_with_the_row_to_add() {
    let t = PriceTable::embedded();
    let variants = [
        (Hosting::RealTime, Variant::instance("ml.c5.xlarge")),
        (Hosting::RealTime, Variant::instance("ml.x")),
        (Hosting::Async, Variant::instance("ml.y")),
        (Hosting::Serverless, Variant::Serverless { memory_mb: 2048 }),
    ];
    assert!(check_prices(&t, "us-east-1", &variants[..1]).is_ok());
    let msg = check_prices(&t, "us-east-1", &variants)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(
            "no price for ml.x (real-time) in us-east-1: add a row `us-east-1,real-time,ml.x,hour,"
        ),
        "{msg}"
    );
    assert!(
        msg.contains(
            "no price for ml.y (async) in us-east-1: add a row `us-east-1,real-time,ml.y,hour,"
        ),
        "{msg}"
    );
    let msg = check_prices(&t, "eu-west-1", &variants[3..])
        .unwrap_err()
        .to_string();
    assert_eq!(msg.lines().count(), 3, "{msg}");
    assert!(
        msg.contains("`eu-west-1,serverless,compute,GB-second,"),
        "{msg}"
    );
}

#[test]
fn usd_display() {
    assert_eq!(Usd(0.204).to_string(), "$0.2040");
    assert_eq!(Usd(1234.567).to_string(), "$1234.57");
    assert_eq!(Usd(0.0000021).to_string(), "$0.00000210");
    assert_eq!(Usd(0.0).to_string(), "$0.0000");
}
