//! What failed requests said, per shard and error class: the HTTP statuses seen with their
//! counts, and the first few distinct messages (answer excerpts). Bounded: after the first
//! failures of a class nothing more is allocated, and successes never come here.

use crate::sample::{ErrorKind, Excerpt, Failure};

/// Distinct messages kept per error class.
pub const MESSAGES_PER_KIND: usize = 3;

/// The failures of one class.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindFailures {
    /// `(status, count)` of the answers, in the order first seen.
    pub statuses: Vec<(u16, u64)>,
    /// The first [`MESSAGES_PER_KIND`] distinct excerpts, in the order first seen.
    pub messages: Vec<Excerpt>,
}

impl KindFailures {
    fn count_status(&mut self, status: u16, n: u64) {
        match self.statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, count)) => *count += n,
            None => self.statuses.push((status, n)),
        }
    }

    fn keep_message(&mut self, excerpt: &Excerpt) {
        if self.messages.len() < MESSAGES_PER_KIND && !self.messages.contains(excerpt) {
            self.messages.push(*excerpt);
        }
    }
}

/// Statuses and messages of failures, indexed by [`ErrorKind::index`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailureLog {
    kinds: [KindFailures; ErrorKind::ALL.len()],
}

impl FailureLog {
    /// Counts the failure's status and keeps its message while its class has room.
    pub fn record(&mut self, f: &Failure) {
        let kind = &mut self.kinds[f.kind.index()];
        if let Some(status) = f.status {
            kind.count_status(status, 1);
        }
        kind.keep_message(&f.excerpt);
    }

    /// Adds another shard's log: statuses summed, messages kept while there is room.
    pub fn merge(&mut self, other: &FailureLog) {
        for (mine, theirs) in self.kinds.iter_mut().zip(&other.kinds) {
            for &(status, n) in &theirs.statuses {
                mine.count_status(status, n);
            }
            for m in &theirs.messages {
                mine.keep_message(m);
            }
        }
    }

    /// The failures of one class.
    pub fn of(&self, kind: ErrorKind) -> &KindFailures {
        &self.kinds[kind.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: ErrorKind, status: u16, text: &str) -> Failure {
        Failure {
            kind,
            status: Some(status),
            excerpt: Excerpt::of(text),
        }
    }

    #[test]
    fn keeps_statuses_and_the_first_three_distinct_messages() {
        let mut a = FailureLog::default();
        let mut b = FailureLog::default();
        for i in 0..10 {
            a.record(&failure(ErrorKind::Http4xx, 422, &format!("bad {}", i % 5)));
        }
        b.record(&failure(ErrorKind::Http4xx, 415, "bad 0"));
        b.record(&failure(ErrorKind::Http3xx, 307, "moved"));
        a.merge(&b);
        let http = a.of(ErrorKind::Http4xx);
        assert_eq!(http.statuses, vec![(422, 10), (415, 1)]);
        let texts: Vec<String> = http.messages.iter().map(Excerpt::text).collect();
        assert_eq!(texts, ["bad 0", "bad 1", "bad 2"]);
        assert_eq!(a.of(ErrorKind::Http3xx).statuses, vec![(307, 1)]);
        assert!(a.of(ErrorKind::Timeout).messages.is_empty());
    }
}
