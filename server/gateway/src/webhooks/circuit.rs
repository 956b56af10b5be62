//! Circuit breakers, one per endpoint: after `circuit_breaker_failures` failed attempts in a
//! row (no answer, or an answer other than 2xx) the circuit opens and the endpoint's
//! deliveries are held for `circuit_breaker_cooldown_secs` (moved later in the durable outbox,
//! not dropped, no attempt counted). When the cool-down is over one trial delivery goes out
//! (half open): a 2xx closes the circuit, a failure opens it again for another cool-down.
//!
//! State lives in memory (a restart starts every endpoint closed; held deliveries keep their
//! due time in the store). Times are Unix seconds passed in by the caller.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

/// Whether a delivery to an endpoint may go out now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Go,
    /// Hold the endpoint's deliveries until this time.
    Hold(i64),
}

/// An endpoint's circuit as shown in its view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CircuitView {
    /// `closed`, `open` or `half_open` (the cool-down is over; the next delivery is a trial).
    #[schema(value_type = String, pattern = "^(closed|open|half_open)$")]
    pub state: &'static str,
    pub consecutive_failures: u32,
    /// While open: when the trial delivery may go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_until: Option<i64>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Circuit {
    consecutive_failures: u32,
    open_until: Option<i64>,
    trial_in_flight: bool,
}

/// The breakers of all endpoints.
#[derive(Debug)]
pub struct Circuits {
    threshold: u32,
    cooldown: i64,
    circuits: Mutex<HashMap<String, Circuit>>,
}

impl Circuits {
    pub fn new(threshold: u32, cooldown_secs: u64) -> Circuits {
        Circuits {
            threshold,
            cooldown: i64::try_from(cooldown_secs).unwrap_or(i64::MAX / 2),
            circuits: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Circuit>> {
        // A poisoned map only means a panic elsewhere mid-update; the counts stay usable.
        self.circuits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// May a delivery to `endpoint` start at `now`? While a trial is in flight the others wait
    /// until `now + trial_hold` (by then the trial has an answer).
    pub fn admit(&self, endpoint: &str, now: i64, trial_hold: i64) -> Admission {
        let mut map = self.lock();
        let Some(c) = map.get_mut(endpoint) else {
            return Admission::Go;
        };
        match c.open_until {
            None => Admission::Go,
            Some(until) if now < until => Admission::Hold(until),
            Some(_) if c.trial_in_flight => Admission::Hold(now + trial_hold),
            Some(_) => {
                c.trial_in_flight = true;
                Admission::Go
            }
        }
    }

    /// Records an attempt's outcome: `ok` is a 2xx answer.
    pub fn record(&self, endpoint: &str, ok: bool, now: i64) {
        let mut map = self.lock();
        if ok {
            map.remove(endpoint);
            return;
        }
        let c = map.entry(endpoint.to_owned()).or_default();
        c.consecutive_failures = c.consecutive_failures.saturating_add(1);
        let trial_failed = c.open_until.is_some();
        c.trial_in_flight = false;
        if trial_failed || c.consecutive_failures >= self.threshold {
            c.open_until = Some(now.saturating_add(self.cooldown));
        }
    }

    /// Forgets a deleted endpoint.
    pub fn forget(&self, endpoint: &str) {
        self.lock().remove(endpoint);
    }

    /// The endpoint's circuit at `now`.
    pub fn view(&self, endpoint: &str, now: i64) -> CircuitView {
        let c = self.lock().get(endpoint).copied().unwrap_or_default();
        let state = match c.open_until {
            None => "closed",
            Some(until) if now < until => "open",
            Some(_) => "half_open",
        };
        CircuitView {
            state,
            consecutive_failures: c.consecutive_failures,
            open_until: c.open_until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_holds_then_lets_one_trial_through() {
        let c = Circuits::new(3, 60);
        for _ in 0..2 {
            c.record("e", false, 100);
        }
        assert_eq!(c.admit("e", 100, 5), Admission::Go, "below the threshold");
        assert_eq!(c.view("e", 100).state, "closed");
        c.record("e", false, 100);
        assert_eq!(c.admit("e", 120, 5), Admission::Hold(160));
        assert_eq!(c.admit("other", 120, 5), Admission::Go, "per endpoint");
        let v = c.view("e", 120);
        assert_eq!(
            (v.state, v.consecutive_failures, v.open_until),
            ("open", 3, Some(160))
        );
        assert_eq!(c.view("e", 160).state, "half_open");
        assert_eq!(c.admit("e", 160, 5), Admission::Go, "the trial");
        assert_eq!(
            c.admit("e", 161, 5),
            Admission::Hold(166),
            "one trial at a time"
        );
        c.record("e", false, 162);
        assert_eq!(
            c.admit("e", 163, 5),
            Admission::Hold(222),
            "a failed trial reopens"
        );
        assert_eq!(c.admit("e", 222, 5), Admission::Go);
        c.record("e", true, 223);
        assert_eq!(c.view("e", 223).state, "closed");
        assert_eq!(c.view("e", 223).consecutive_failures, 0);
        c.record("e", false, 224);
        assert_eq!(
            c.admit("e", 224, 5),
            Admission::Go,
            "the count restarts after a success"
        );
        c.forget("e");
        assert_eq!(c.view("e", 224).consecutive_failures, 0);
    }
}
