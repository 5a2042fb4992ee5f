//! After the measurements: prices checked before a run, and the recommendation made from a
//! run's cells, written into the run folder.

use crate::domain::{Hosting, Variant};
use crate::plan::Plan;
use crate::pricing::{PriceTable, PricingError, check_prices};
use crate::profile::{Profile, Target};
use crate::recommend::{Evidence, Options, Prices, Recommendation, recommend_with};
use crate::results::CellSummary;

/// Loads the price table of the profile and checks every priced variant has a row, so a run
/// never ends without a price for what it measured (exit 2 before any load).
pub fn prices_for(profile: &Profile, plan: &Plan) -> Result<PriceTable, PricingError> {
    let table = PriceTable::load(&profile.pricing)?;
    if profile.sla.is_some() {
        let variants: Vec<(Hosting, Variant)> = plan
            .deployments()
            .into_iter()
            .filter_map(|d| Some((d.implied_hosting()?, d.variant?)))
            .collect();
        check_prices(&table, &profile.pricing.region, &variants)?;
    }
    Ok(table)
}

/// How the measured endpoints were built, for per-instance figures.
pub fn options(profile: &Profile) -> Options {
    match &profile.target {
        Target::Emulator(e) => Options {
            instance_count: e.instance_count,
            max_concurrency: e.max_concurrency,
        },
        _ => Options::default(),
    }
}

/// The recommendation for the profile's SLA, when it has one, from the run's cells and
/// what else it knows: the candidates a search pruned, each variant's first request and the
/// sizes the model did not fit.
pub fn advise(
    profile: &Profile,
    table: &PriceTable,
    cells: &[CellSummary],
    evidence: &Evidence<'_>,
) -> Option<Recommendation> {
    let sla = profile.sla.as_ref()?;
    let prices = Prices {
        table,
        region: &profile.pricing.region,
    };
    Some(recommend_with(
        cells,
        sla,
        profile.traffic.as_ref(),
        prices,
        &options(profile),
        evidence,
    ))
}
