//! Names of the production variants that answered (`x-Amzn-Invoked-Production-Variant`),
//! interned so the hot path passes a small id instead of a string.

use std::sync::RwLock;

/// A target's table of variant names; ids index it.
#[derive(Debug, Default)]
pub struct VariantNames {
    names: RwLock<Vec<String>>,
}

impl VariantNames {
    /// The id of `name`, adding it on first sight. Reads are shared; a write happens once
    /// per distinct name.
    pub fn id(&self, name: &str) -> u16 {
        if let Ok(names) = self.names.read()
            && let Some(i) = names.iter().position(|n| n == name)
        {
            return i as u16;
        }
        let Ok(mut names) = self.names.write() else {
            return u16::MAX;
        };
        if let Some(i) = names.iter().position(|n| n == name) {
            return i as u16;
        }
        if names.len() >= usize::from(u16::MAX) {
            return u16::MAX;
        }
        names.push(name.to_string());
        (names.len() - 1) as u16
    }

    /// Every name seen, by id.
    pub fn names(&self) -> Vec<String> {
        self.names.read().map(|n| n.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_name() {
        let v = VariantNames::default();
        assert_eq!(v.id("AllTraffic"), 0);
        assert_eq!(v.id("Canary"), 1);
        assert_eq!(v.id("AllTraffic"), 0);
        assert_eq!(v.names(), vec!["AllTraffic", "Canary"]);
    }
}
