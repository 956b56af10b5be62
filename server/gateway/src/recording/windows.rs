//! Recording windows of one room, fail-closed: the room records only while no reason to pause
//! holds. Reasons are independent and may overlap: `payment:<id>` (a payment of the room is
//! in a non-terminal state), `manual` (an agent paused), `consent` (the room requires consent
//! and has none yet). Closing is idempotent per reason; reopening one reason leaves the
//! others closed.

use std::collections::BTreeMap;

/// Why a window closed, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub by: String,
}

/// The pause reasons in force for a room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Windows {
    closed: BTreeMap<String, Closure>,
}

/// The manual pause reason.
pub const MANUAL: &str = "manual";
/// The consent pause reason.
pub const CONSENT: &str = "consent";

/// The pause reason of a payment.
pub fn payment_reason(id: &str) -> String {
    format!("payment:{id}")
}

impl Windows {
    /// True when the room may record.
    pub fn is_open(&self) -> bool {
        self.closed.is_empty()
    }

    /// Closes for `reason`; false if that reason already held.
    pub fn close(&mut self, reason: &str, by: &str) -> bool {
        if self.closed.contains_key(reason) {
            return false;
        }
        self.closed
            .insert(reason.to_owned(), Closure { by: by.to_owned() });
        true
    }

    /// Lifts `reason`; false if it did not hold.
    pub fn open(&mut self, reason: &str) -> bool {
        self.closed.remove(reason).is_some()
    }

    pub fn holds(&self, reason: &str) -> bool {
        self.closed.contains_key(reason)
    }

    /// The reasons in force, with who closed them.
    pub fn reasons(&self) -> impl Iterator<Item = (&str, &Closure)> {
        self.closed.iter().map(|(r, c)| (r.as_str(), c))
    }

    /// Drops the reasons that belong to a room's life (manual, consent) when it closes;
    /// payment reasons stay until their payment ends.
    pub fn room_closed(&mut self) {
        self.closed.retain(|r, _| r.starts_with("payment:"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_only_when_no_reason_holds() {
        let mut w = Windows::default();
        assert!(w.is_open());
        assert!(w.close(&payment_reason("pay_1"), "system"));
        assert!(!w.close(&payment_reason("pay_1"), "system"), "idempotent");
        assert!(w.close(MANUAL, "agent:a"));
        assert!(!w.is_open());
        assert!(w.open(MANUAL));
        assert!(!w.is_open(), "the payment still holds it closed");
        assert!(!w.open(MANUAL));
        assert!(w.open(&payment_reason("pay_1")));
        assert!(w.is_open());
    }

    #[test]
    fn room_close_keeps_payment_reasons() {
        let mut w = Windows::default();
        w.close(CONSENT, "system");
        w.close(MANUAL, "agent:a");
        w.close(&payment_reason("pay_2"), "system");
        w.room_closed();
        assert_eq!(
            w.reasons().map(|(r, _)| r).collect::<Vec<_>>(),
            ["payment:pay_2"]
        );
    }
}
