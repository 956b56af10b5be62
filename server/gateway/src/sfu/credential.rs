//! The credential a signalling session runs on: the validated claims of its token (the one it
//! connected with, or the latest accepted `refresh`) and the deadlines they set. The session
//! ends at `exp` plus the validator's leeway — the moment the validator itself would refuse
//! the token — and warns the client ahead of it (`token_expiring`).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hushpay_auth::Claims;

use super::signal::ServerMessage;

/// How long before the end a session is warned, unless its token lives less than twice that
/// (then: halfway through what is left).
pub const WARN_BEFORE: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Credential {
    claims: Claims,
    leeway_secs: u64,
    expires_at: Instant,
    warn_at: Option<Instant>,
}

impl Credential {
    pub fn new(claims: Claims, leeway_secs: u64) -> Self {
        let (expires_at, warn_at) =
            deadlines(claims.exp, leeway_secs, Instant::now(), SystemTime::now());
        Credential {
            claims,
            leeway_secs,
            expires_at,
            warn_at: Some(warn_at),
        }
    }

    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// When the session must end.
    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    /// When to send `token_expiring`; `None` once sent for this token.
    pub fn warn_at(&self) -> Option<Instant> {
        self.warn_at
    }

    pub fn warned(&mut self) {
        self.warn_at = None;
    }

    /// The `token_expiring` message for now.
    pub fn warning(&self) -> ServerMessage {
        let left = self.expires_at.saturating_duration_since(Instant::now());
        ServerMessage::TokenExpiring {
            exp: self.claims.exp,
            expires_in: left.as_secs(),
        }
    }

    /// A refreshed token: new claims, new deadlines, a new warning.
    pub fn replace(&mut self, claims: Claims) {
        *self = Credential::new(claims, self.leeway_secs);
    }
}

/// The end (`exp + leeway` on the wall clock, as a monotonic instant) and the warning time.
fn deadlines(exp: u64, leeway_secs: u64, now: Instant, wall: SystemTime) -> (Instant, Instant) {
    let end = UNIX_EPOCH + Duration::from_secs(exp.saturating_add(leeway_secs));
    let left = end.duration_since(wall).unwrap_or_default();
    let lead = WARN_BEFORE.min(left / 2);
    (now + left, now + (left - lead))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_is_exp_plus_leeway_and_the_warning_comes_before_it() {
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_000);
        let (end, warn) = deadlines(1_600, 5, now, wall);
        assert_eq!(end - now, Duration::from_secs(605));
        assert_eq!(end - warn, WARN_BEFORE);
        let (end, warn) = deadlines(1_010, 0, now, wall);
        assert_eq!(end - now, Duration::from_secs(10));
        assert_eq!(
            end - warn,
            Duration::from_secs(5),
            "halfway for short tokens"
        );
    }

    #[test]
    fn an_expired_token_ends_at_once() {
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(deadlines(900, 5, now, wall), (now, now));
    }
}
