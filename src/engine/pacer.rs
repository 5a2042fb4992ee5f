//! Open-loop schedules: pure functions of the arrival index, so they cannot drift.

use crate::domain::Arrivals;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::time::Duration;

/// The arrival times of one shard, as offsets from the cell's start.
///
/// A cell at `rate` split over `shards` gives shard `s` the arrivals `s, s + shards, …` of
/// the constant schedule `i / rate`, or an independent Poisson stream of `rate / shards`
/// (the superposition of independent Poisson streams is Poisson at the summed rate).
#[derive(Clone, Debug)]
pub struct Pacer {
    kind: Kind,
    next: Duration,
}

#[derive(Clone, Debug)]
enum Kind {
    Constant { rate: f64, index: u64, stride: u64 },
    Poisson { shard_rate: f64, rng: Pcg64Mcg },
}

impl Pacer {
    /// The schedule of shard `shard` of `shards` for a cell at `rate` requests per second.
    pub fn new(arrivals: Arrivals, rate: f64, shard: u32, shards: u32, seed: u64) -> Pacer {
        let mut pacer = Pacer {
            kind: match arrivals {
                Arrivals::Constant => Kind::Constant {
                    rate,
                    index: u64::from(shard),
                    stride: u64::from(shards),
                },
                Arrivals::Poisson => Kind::Poisson {
                    shard_rate: rate / f64::from(shards),
                    rng: Pcg64Mcg::seed_from_u64(seed ^ (u64::from(shard) << 32)),
                },
            },
            next: Duration::ZERO,
        };
        pacer.next = pacer.first();
        pacer
    }

    fn first(&mut self) -> Duration {
        match &mut self.kind {
            Kind::Constant { rate, index, .. } => constant_offset(*index, *rate),
            Kind::Poisson { shard_rate, rng } => exponential_gap(rng, *shard_rate),
        }
    }

    /// The mean time between this shard's arrivals.
    pub fn mean_gap(&self) -> Duration {
        let per_second = match &self.kind {
            Kind::Constant { rate, stride, .. } => rate / *stride as f64,
            Kind::Poisson { shard_rate, .. } => *shard_rate,
        };
        Duration::from_secs_f64(1.0 / per_second.max(1e-9))
    }

    /// Offset of the next arrival from the cell's start.
    pub fn peek(&self) -> Duration {
        self.next
    }

    /// Moves to the following arrival.
    pub fn advance(&mut self) {
        self.next = match &mut self.kind {
            Kind::Constant {
                rate,
                index,
                stride,
            } => {
                *index += *stride;
                constant_offset(*index, *rate)
            }
            Kind::Poisson { shard_rate, rng } => self.next + exponential_gap(rng, *shard_rate),
        };
    }
}

/// `i / rate` seconds: computed from the index, never accumulated, so it does not drift.
pub fn constant_offset(index: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(index as f64 / rate)
}

fn exponential_gap(rng: &mut Pcg64Mcg, rate: f64) -> Duration {
    let u: f64 = rng.random::<f64>();
    Duration::from_secs_f64(-(1.0 - u).ln() / rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_n(p: &mut Pacer, n: usize) -> Vec<Duration> {
        (0..n)
            .map(|_| {
                let t = p.peek();
                p.advance();
                t
            })
            .collect()
    }

    #[test]
    fn constant_schedule_is_exact_and_shards_interleave() {
        let ms = Duration::from_millis;
        let mut one = Pacer::new(Arrivals::Constant, 100.0, 0, 1, 0);
        assert_eq!(first_n(&mut one, 4), vec![ms(0), ms(10), ms(20), ms(30)]);
        let mut a = Pacer::new(Arrivals::Constant, 100.0, 0, 2, 0);
        let mut b = Pacer::new(Arrivals::Constant, 100.0, 1, 2, 0);
        assert_eq!(first_n(&mut a, 3), vec![ms(0), ms(20), ms(40)]);
        assert_eq!(first_n(&mut b, 3), vec![ms(10), ms(30), ms(50)]);
    }

    #[test]
    fn constant_schedule_does_not_drift_over_a_million_arrivals() {
        let mut p = Pacer::new(Arrivals::Constant, 3.0, 0, 1, 0);
        for _ in 0..999_999 {
            p.advance();
        }
        assert_eq!(p.peek(), constant_offset(999_999, 3.0));
        assert!((p.peek().as_secs_f64() - 333_333.0).abs() < 1e-6);
    }

    #[test]
    fn poisson_schedule_has_the_right_mean_rate_and_is_seeded() {
        let mut p = Pacer::new(Arrivals::Poisson, 200.0, 1, 4, 42);
        let times = first_n(&mut p, 20_000);
        let rate = 20_000.0 / times.last().unwrap().as_secs_f64();
        assert!((rate - 50.0).abs() / 50.0 < 0.03, "shard rate {rate}");
        let mut again = Pacer::new(Arrivals::Poisson, 200.0, 1, 4, 42);
        assert_eq!(first_n(&mut again, 5), times[..5].to_vec());
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }
}
