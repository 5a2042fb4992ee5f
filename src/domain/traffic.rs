//! The traffic production must serve (`[traffic]`): what sizing and daily cost are worked
//! out for.

use serde::{Deserialize, Serialize};

/// The traffic production must serve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    /// Peak requests per second.
    pub peak_rps: f64,
    /// Requests per day, when known.
    pub requests_per_day: Option<f64>,
    /// Spare capacity on top of the peak (0.2 = 20 %).
    pub headroom: f64,
    /// Traffic stops for minutes at a time, so serverless cold starts hit live requests.
    #[serde(default)]
    pub intermittent: bool,
}
