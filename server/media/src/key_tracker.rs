//! Turns RFC 4733 telephone-event packets into exactly one key press per key.
//!
//! Rules (RFC 4733 section 2.5): an event is identified by its RTP timestamp and code; updates
//! repeat the timestamp with a growing duration; the end packet is sent (typically) three times;
//! the first packet carries the marker bit. The tracker copes with lost first packets (a new
//! timestamp starts a new press, marker or not), lost end packets (a new event or a silence of
//! [`KeyTrackerConfig::end_timeout`] ends the press), long presses split into segments (a
//! continuation has the same code, no marker and a timestamp one segment later) or with a wrapping
//! duration field, and timestamp wrap (all comparisons are modular).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::Digit;
use crate::rfc4733::TelephoneEvent;

/// A key press recovered from telephone events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPress {
    /// The key.
    pub digit: Digit,
    /// When the key went down (arrival of the first packet seen, minus its duration).
    pub start: Instant,
    /// When it went up (start plus the total duration reported).
    pub end: Instant,
}

/// Tracker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTrackerConfig {
    /// Event clock rate (8000 or 48000 as negotiated).
    pub clock_rate: u32,
    /// A press with no packet for this long is ended (all end packets lost).
    pub end_timeout: Duration,
}

impl Default for KeyTrackerConfig {
    fn default() -> Self {
        Self {
            clock_rate: 8000,
            end_timeout: Duration::from_millis(250),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Active {
    ts: u32,
    code: u8,
    first_seen: Instant,
    last_seen: Instant,
    /// Clock units of earlier segments.
    earlier: u64,
    /// Duration field of the current segment, and how often it wrapped.
    last_duration: u16,
    wraps: u64,
    ended: bool,
}

impl Active {
    fn total(&self) -> u64 {
        self.earlier + (self.wraps << 16) + u64::from(self.last_duration)
    }
}

/// The tracker for one stream and one telephone-event payload type.
#[derive(Debug)]
pub struct KeyTracker {
    config: KeyTrackerConfig,
    active: Option<Active>,
    /// (timestamp, code) of ended events, to ignore their retransmitted end packets.
    ended: VecDeque<(u32, u8)>,
    presses: VecDeque<KeyPress>,
}

const ENDED_MEMORY: usize = 16;

impl KeyTracker {
    /// A tracker.
    pub fn new(config: KeyTrackerConfig) -> Self {
        Self {
            config,
            active: None,
            ended: VecDeque::new(),
            presses: VecDeque::new(),
        }
    }

    /// True while a key is down (a press started and has not ended).
    pub fn key_down(&self) -> bool {
        self.active.is_some_and(|a| !a.ended)
    }

    /// Feeds one telephone-event packet (its RTP marker bit and timestamp, and the payload).
    pub fn handle_event(&mut self, now: Instant, marker: bool, timestamp: u32, ev: TelephoneEvent) {
        if let Some(a) = self
            .active
            .as_mut()
            .filter(|a| a.ts == timestamp && a.code == ev.code)
        {
            if a.ended {
                return; // retransmitted end packet
            }
            a.last_seen = now;
            if ev.duration < a.last_duration && a.last_duration - ev.duration > 0x8000 {
                a.wraps += 1; // duration field wrapped
            }
            if ev.duration >= a.last_duration || a.last_duration - ev.duration > 0x8000 {
                a.last_duration = ev.duration;
            }
            if ev.end {
                self.finish();
            }
            return;
        }
        if self.ended.contains(&(timestamp, ev.code)) {
            return;
        }
        if let Some(a) = self.active {
            let ahead = timestamp.wrapping_sub(a.ts);
            if ahead == 0 || ahead > 0x8000_0000 {
                return; // a stale packet of an older event
            }
            let tolerance = u64::from(self.config.clock_rate) / 10;
            let continues = !marker
                && !a.ended
                && a.code == ev.code
                && u64::from(ahead) <= u64::from(a.last_duration) + (a.wraps << 16) + tolerance;
            if continues {
                self.active = Some(Active {
                    ts: timestamp,
                    earlier: a.earlier + u64::from(ahead),
                    last_duration: ev.duration,
                    wraps: 0,
                    last_seen: now,
                    ..a
                });
                if ev.end {
                    self.finish();
                }
                return;
            }
            if !a.ended {
                self.finish();
            }
        }
        let first_seen = now
            .checked_sub(self.units(u64::from(ev.duration)))
            .unwrap_or(now);
        self.active = Some(Active {
            ts: timestamp,
            code: ev.code,
            first_seen,
            last_seen: now,
            earlier: 0,
            last_duration: ev.duration,
            wraps: 0,
            ended: false,
        });
        if ev.end {
            self.finish();
        }
    }

    /// Ends a press whose end packets were all lost.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|t| t <= now) {
            self.finish();
        }
    }

    /// When [`KeyTracker::handle_timeout`] should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.active
            .filter(|a| !a.ended)
            .map(|a| a.last_seen + self.config.end_timeout)
    }

    /// The next finished key press.
    pub fn poll_press(&mut self) -> Option<KeyPress> {
        self.presses.pop_front()
    }

    fn finish(&mut self) {
        let Some(a) = self.active.as_mut() else {
            return;
        };
        if a.ended {
            return;
        }
        a.ended = true;
        let a = *a;
        if self.ended.len() == ENDED_MEMORY {
            self.ended.pop_front();
        }
        self.ended.push_back((a.ts, a.code));
        if let Some(digit) = Digit::from_event_code(a.code) {
            let end = a.first_seen + self.units(a.total());
            self.presses.push_back(KeyPress {
                digit,
                start: a.first_seen,
                end,
            });
        }
    }

    fn units(&self, units: u64) -> Duration {
        let rate = u64::from(self.config.clock_rate.max(1));
        Duration::from_micros(units.saturating_mul(1_000_000) / rate)
    }
}
