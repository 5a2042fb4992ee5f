//! What a configuration runs on: an instance type or a serverless memory size, and the
//! hosting option it is deployed with.

use super::Hosting;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A SageMaker instance type, e.g. `ml.c5.xlarge`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InstanceType(String);

impl InstanceType {
    /// The type named `name`, as written in profiles and price tables.
    pub fn new(name: impl Into<String>) -> InstanceType {
        InstanceType(name.into())
    }

    /// `ml.c5.xlarge`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The compute behind an endpoint: instances of one type, or serverless memory.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Instances of one type (real-time, asynchronous, batch).
    Instance(InstanceType),
    /// A serverless endpoint of this memory size.
    Serverless {
        /// Memory size, MB (1024–6144 in 1024 steps).
        memory_mb: u32,
    },
}

impl Variant {
    /// Instances of the type named `name`.
    pub fn instance(name: impl Into<String>) -> Variant {
        Variant::Instance(InstanceType::new(name))
    }

    /// The instance type, when the variant is one.
    pub fn instance_type(&self) -> Option<&InstanceType> {
        match self {
            Variant::Instance(t) => Some(t),
            Variant::Serverless { .. } => None,
        }
    }

    /// The serverless memory size, when the variant is one.
    pub fn serverless_memory_mb(&self) -> Option<u32> {
        match self {
            Variant::Instance(_) => None,
            Variant::Serverless { memory_mb } => Some(*memory_mb),
        }
    }
}

impl fmt::Display for Variant {
    /// `ml.c5.xlarge`, `serverless-2048`: the label in tables, CSV and endpoint names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Variant::Instance(t) => t.fmt(f),
            Variant::Serverless { memory_mb } => write!(f, "serverless-{memory_mb}"),
        }
    }
}

/// What one cell runs against: a hosting option and a variant, each when the target
/// names one (a plain HTTP target names neither).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Deployment {
    /// Hosting option, when the target has one.
    pub hosting: Option<Hosting>,
    /// Instance type or serverless size, when the target has one.
    pub variant: Option<Variant>,
}

impl Deployment {
    /// `hosting` on `variant`.
    pub fn new(hosting: Hosting, variant: Variant) -> Deployment {
        Deployment {
            hosting: Some(hosting),
            variant: Some(variant),
        }
    }

    /// Hosting label for tables and CSV: `-` when not given.
    pub fn hosting_label(&self) -> &str {
        self.hosting.map_or("-", Hosting::as_str)
    }

    /// Variant label for tables and CSV: `-` when not given.
    pub fn variant_label(&self) -> String {
        self.variant
            .as_ref()
            .map_or_else(|| "-".to_string(), Variant::to_string)
    }

    /// The instance type, when the variant is one.
    pub fn instance_type(&self) -> Option<&InstanceType> {
        self.variant.as_ref().and_then(Variant::instance_type)
    }

    /// The hosting option to judge and price it as: its own, else real-time when it names an
    /// instance type (an HTTP target with `urls` per instance type serves live requests).
    pub fn implied_hosting(&self) -> Option<Hosting> {
        match (self.hosting, &self.variant) {
            (Some(h), _) => Some(h),
            (None, Some(Variant::Instance(_))) => Some(Hosting::RealTime),
            (None, _) => None,
        }
    }
}

impl fmt::Display for Deployment {
    /// `real-time ml.c5.xlarge`, `serverless serverless-2048`, `-` for neither.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.hosting, &self.variant) {
            (Some(h), Some(v)) => write!(f, "{h} {v}"),
            (Some(h), None) => write!(f, "{h}"),
            (None, Some(v)) => write!(f, "{v}"),
            (None, None) => f.write_str("-"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_as_users_write_them() {
        let c5 = Deployment::new(Hosting::RealTime, Variant::instance("ml.c5.xlarge"));
        assert_eq!(c5.to_string(), "real-time ml.c5.xlarge");
        assert_eq!(c5.variant_label(), "ml.c5.xlarge");
        let sl = Deployment::new(Hosting::Serverless, Variant::Serverless { memory_mb: 2048 });
        assert_eq!(sl.to_string(), "serverless serverless-2048");
        assert_eq!(Deployment::default().variant_label(), "-");
        assert_eq!(Deployment::default().hosting_label(), "-");
    }

    #[test]
    fn an_instance_type_without_hosting_is_real_time() {
        let url_per_type = Deployment {
            hosting: None,
            variant: Some(Variant::instance("ml.c5.xlarge")),
        };
        assert_eq!(url_per_type.implied_hosting(), Some(Hosting::RealTime));
        assert_eq!(Deployment::default().implied_hosting(), None);
        let sl = Deployment::new(Hosting::Serverless, Variant::Serverless { memory_mb: 2048 });
        assert_eq!(sl.implied_hosting(), Some(Hosting::Serverless));
    }

    #[test]
    fn variants_are_tagged_in_json() {
        let v = Variant::Serverless { memory_mb: 2048 };
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"serverless":{"memory_mb":2048}}"#
        );
        let i = Variant::instance("ml.g4dn.xlarge");
        assert_eq!(
            serde_json::to_string(&i).unwrap(),
            r#"{"instance":"ml.g4dn.xlarge"}"#
        );
        assert_eq!(
            serde_json::from_str::<Variant>(r#"{"instance":"ml.g4dn.xlarge"}"#).unwrap(),
            i
        );
    }
}
