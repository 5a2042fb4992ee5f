//! Queueing formulas used to check the emulator against theory (and by callers that want a
//! quick prediction): Erlang C for M/M/c queues.

/// Probability that an arrival has to wait in an M/M/c queue with `servers` servers and
/// offered load `a = λ/μ` (Erlang C). `None` when the queue is unstable (`a ≥ servers`) or
/// the inputs are not positive.
pub fn erlang_c(servers: u32, offered_load: f64) -> Option<f64> {
    let c = f64::from(servers);
    if servers == 0 || offered_load.is_nan() || offered_load <= 0.0 || offered_load >= c {
        return None;
    }
    // Erlang B by its stable recursion, then C from B.
    let mut b = 1.0;
    for k in 1..=servers {
        b = offered_load * b / (f64::from(k) + offered_load * b);
    }
    Some(c * b / (c - offered_load * (1.0 - b)))
}

/// Mean time an arrival waits before service (`W_q`) in an M/M/c queue, in the unit of
/// `mean_service` (with `arrival_rate` per that unit). `None` when unstable.
pub fn mean_queue_wait(servers: u32, arrival_rate: f64, mean_service: f64) -> Option<f64> {
    let offered = arrival_rate * mean_service;
    let wait_probability = erlang_c(servers, offered)?;
    Some(wait_probability * mean_service / (f64::from(servers) - offered))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_server_reduces_to_mm1() {
        // M/M/1: P(wait) = ρ, W_q = ρ/(μ − λ).
        assert!((erlang_c(1, 0.5).unwrap() - 0.5).abs() < 1e-12);
        let wq = mean_queue_wait(1, 0.5, 1.0).unwrap();
        assert!((wq - 1.0).abs() < 1e-12);
    }

    #[test]
    fn matches_a_textbook_value() {
        // c = 4, a = 2.8 (ρ = 0.7): C ≈ 0.4286.
        let c = erlang_c(4, 2.8).unwrap();
        assert!((c - 0.428_63).abs() < 1e-4, "{c}");
        let wq = mean_queue_wait(4, 0.28, 10.0).unwrap();
        assert!((wq - c * 10.0 / 1.2).abs() < 1e-9);
    }

    #[test]
    fn unstable_or_empty_queues_have_no_answer() {
        assert_eq!(erlang_c(4, 4.0), None);
        assert_eq!(erlang_c(0, 0.5), None);
        assert_eq!(erlang_c(2, f64::NAN), None);
        assert_eq!(mean_queue_wait(2, 1.0, 3.0), None);
    }
}
