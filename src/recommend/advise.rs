//! After the measurements: prices checked before a run, and the recommendation made from a
//! run's cells, written into the run folder.

use crate::domain::Hosting;
use crate::plan::Plan;
use crate::pricing::{PriceTable, PricingError, check_prices};
use crate::profile::{Profile, Target};
use crate::recommend::{
    Evidence, Options, Prices, PrunedCandidate, Recommendation, recommend_with,
};
use crate::store::record::Summary;

/// Loads the price table of the profile and checks every priced variant has a row, so a run
/// never ends without a price for what it measured (exit 2 before any load).
pub fn prices_for(profile: &Profile, plan: &Plan) -> Result<PriceTable, PricingError> {
    let table = PriceTable::load(&profile.pricing)?;
    if profile.sla.is_some() {
        let variants: Vec<(Hosting, String)> = plan
            .variants()
            .into_iter()
            .filter_map(|v| Some((v.hosting?, v.instance?)))
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

/// The recommendation for the profile's SLA, when it has one, from what the run folder's
/// summary holds: its cells, the candidates a search pruned, each variant's first request
/// and the sizes the model did not fit.
pub fn advise(profile: &Profile, table: &PriceTable, run: &Summary) -> Option<Recommendation> {
    let sla = profile.sla.as_ref()?;
    let prices = Prices {
        table,
        region: &profile.pricing.region,
    };
    let pruned: Vec<PrunedCandidate> = run
        .searches
        .iter()
        .filter_map(|s| {
            Some(PrunedCandidate {
                hosting: s.hosting?,
                instance_type: s.instance_type.clone()?,
                payload_bytes: s.payload_bytes,
                pruned: s.pruned.clone()?,
            })
        })
        .collect();
    let evidence = Evidence {
        pruned: &pruned,
        first_requests: &run.first_requests,
        unfit: &run.unfit,
    };
    Some(recommend_with(
        &run.cells,
        sla,
        profile.traffic.as_ref(),
        prices,
        &options(profile),
        &evidence,
    ))
}
