//! What the fleet counts while its bots run: which bots have media and which pairs failed,
//! the send schedule, what each bot sent recently (by sequence, so a packet that arrives is
//! matched by its RTP timestamp), the measurement window, packets sent and received in it and
//! their latencies by direction.
//!
//! Bot `2k` is the agent and `2k + 1` the patient of pair `k`.

use std::time::{Duration, Instant};

use crate::Role;
use crate::bot::{BotEvent, TICKS_PER_PACKET};
use hushpay_rtc::Deadlines;

/// Packet interval of every bot.
pub(crate) const PACKET_INTERVAL: Duration = Duration::from_millis(20);
/// Sends remembered per bot: 20 s of packets (a later arrival is not matched).
const RING: usize = 1024;

/// The role of bot `bot`.
pub(crate) fn role(bot: usize) -> Role {
    if bot.is_multiple_of(2) {
        Role::Agent
    } else {
        Role::Patient
    }
}

/// One remembered send.
#[derive(Debug, Clone, Copy)]
struct Sent {
    seq: u32,
    at: Instant,
    in_window: bool,
    arrived: bool,
}

/// Counts kept while the bots run.
#[derive(Debug)]
pub(crate) struct Tally {
    n: usize,
    has_media: Vec<bool>,
    /// Bots that have media or failed (set-up is over when every bot is).
    settled: Vec<bool>,
    settled_count: usize,
    pub(crate) settled_at: Option<Instant>,
    pub(crate) failed: Vec<bool>,
    /// Why each failed pair failed, in order.
    pub(crate) failures: Vec<String>,
    /// Send ticks: each bot's scheduled instant of its next packet.
    pub(crate) ticks: Deadlines,
    tick_at: Vec<Option<Instant>>,
    sends: Vec<Vec<Option<Sent>>>,
    pub(crate) chat_open: Vec<bool>,
    pub(crate) window: Option<(Instant, Option<Instant>)>,
    pub(crate) sent: u64,
    pub(crate) received: u64,
    pub(crate) forwarded: u64,
    /// Latencies in µs, patient → agent and agent → patient.
    pub(crate) p2a_us: Vec<u32>,
    pub(crate) a2p_us: Vec<u32>,
    pub(crate) disconnects: u64,
    pub(crate) chat_sent: u64,
    pub(crate) chat_received: u64,
}

impl Tally {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            n,
            has_media: vec![false; n],
            settled: vec![false; n],
            settled_count: 0,
            settled_at: None,
            failed: vec![false; n],
            failures: Vec::new(),
            ticks: Deadlines::default(),
            tick_at: vec![None; n],
            sends: vec![Vec::new(); n],
            chat_open: vec![false; n],
            window: None,
            sent: 0,
            received: 0,
            forwarded: 0,
            p2a_us: Vec::new(),
            a2p_us: Vec::new(),
            disconnects: 0,
            chat_sent: 0,
            chat_received: 0,
        }
    }

    /// Pairs that have not failed.
    pub(crate) fn live_pairs(&self) -> usize {
        self.n / 2 - self.failures.len()
    }

    fn settle(&mut self, bot: usize, at: Instant) {
        if !self.settled[bot] {
            self.settled[bot] = true;
            self.settled_count += 1;
            if self.settled_count == self.n {
                self.settled_at = Some(at);
            }
        }
    }

    /// Stops both bots of `bot`'s pair (their send ticks and str0m timers); the first failure
    /// of a pair is recorded with `why`.
    pub(crate) fn fail(&mut self, bot: usize, why: &str, timers: &mut Deadlines, at: Instant) {
        let pair = bot / 2;
        if self.failed[2 * pair] {
            return;
        }
        let who = match role(bot) {
            Role::Agent => "agent",
            Role::Patient => "patient",
        };
        self.failures.push(format!("pair {pair} ({who}): {why}"));
        for b in [2 * pair, 2 * pair + 1] {
            self.failed[b] = true;
            timers.clear(b);
            self.ticks.clear(b);
            self.tick_at[b] = None;
            self.settle(b, at);
        }
    }

    /// Fails every bot that has not settled (set-up timed out).
    pub(crate) fn time_out(&mut self, timers: &mut Deadlines, at: Instant) {
        for bot in 0..self.n {
            if !self.settled[bot] {
                self.fail(bot, "no media within the set-up timeout", timers, at);
            }
        }
    }

    fn schedule(&mut self, bot: usize, at: Instant) {
        self.tick_at[bot] = Some(at);
        self.ticks.set(bot, at);
    }

    /// Schedules the tick after the one of `bot` just sent, on its 20 ms grid (a late tick is
    /// sent late, not skipped).
    pub(crate) fn reschedule(&mut self, bot: usize) {
        if let Some(at) = self.tick_at[bot] {
            self.schedule(bot, at + PACKET_INTERVAL);
        }
    }

    pub(crate) fn in_window(&self, t: Instant) -> bool {
        match self.window {
            Some((start, end)) => t >= start && end.is_none_or(|end| t < end),
            None => false,
        }
    }

    /// Books packet `seq` of `bot`, sent at `at`.
    pub(crate) fn sent(&mut self, bot: usize, seq: u32, at: Instant) {
        let in_window = self.in_window(at);
        if in_window {
            self.sent += 1;
        }
        let ring = &mut self.sends[bot];
        if ring.is_empty() {
            ring.resize(RING, None);
        }
        ring[seq as usize % RING] = Some(Sent {
            seq,
            at,
            in_window,
            arrived: false,
        });
    }

    pub(crate) fn event(&mut self, bot: usize, ev: BotEvent, at: Instant) {
        if self.failed[bot] {
            return;
        }
        match ev {
            BotEvent::Connected => {
                // spread the bots' send instants over the 20 ms period
                let phase = PACKET_INTERVAL.mul_f64(bot as f64 / self.n as f64);
                self.schedule(bot, at + phase);
            }
            BotEvent::Disconnected => self.disconnects += 1,
            BotEvent::ChatOpen => self.chat_open[bot] = true,
            BotEvent::Chat => {
                if self.in_window(at) {
                    self.chat_received += 1;
                }
            }
            BotEvent::Media { timestamp } => {
                if !self.has_media[bot] {
                    self.has_media[bot] = true;
                    self.settle(bot, at);
                }
                if self.in_window(at) {
                    self.forwarded += 1;
                }
                self.arrived(bot, timestamp, at);
            }
        }
    }

    /// Matches a packet `bot` received with its partner's send of the same RTP timestamp.
    fn arrived(&mut self, bot: usize, timestamp: u32, at: Instant) {
        if !timestamp.is_multiple_of(TICKS_PER_PACKET) {
            return; // not one of the partner's packets (an IVR prompt)
        }
        let seq = timestamp / TICKS_PER_PACKET;
        let Some(slot) = self
            .sends
            .get_mut(bot ^ 1)
            .and_then(|ring| ring.get_mut(seq as usize % RING))
        else {
            return;
        };
        let Some(sent) = slot.as_mut().filter(|s| s.seq == seq && !s.arrived) else {
            return;
        };
        sent.arrived = true;
        if !sent.in_window {
            return;
        }
        let us = at.saturating_duration_since(sent.at).as_micros();
        let us = u32::try_from(us).unwrap_or(u32::MAX);
        self.received += 1;
        match role(bot) {
            Role::Agent => self.p2a_us.push(us),
            Role::Patient => self.a2p_us.push(us),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn media(seq: u32) -> BotEvent {
        BotEvent::Media {
            timestamp: seq * TICKS_PER_PACKET,
        }
    }

    #[test]
    fn packets_sent_in_the_window_are_matched_by_timestamp_once() {
        let t0 = Instant::now();
        let mut t = Tally::new(2);
        t.window = Some((t0 + ms(100), Some(t0 + ms(200))));
        t.sent(1, 4, t0 + ms(90)); // patient, before the window
        t.sent(1, 5, t0 + ms(110)); // patient, in it
        t.sent(0, 5, t0 + ms(120)); // agent, in it
        t.sent(1, 9, t0 + ms(199)); // patient, last in it
        assert_eq!(t.sent, 3);
        t.event(0, media(4), t0 + ms(112)); // arrives in the window, sent before it
        t.event(0, media(5), t0 + ms(133)); // patient -> agent 23 ms
        t.event(0, media(5), t0 + ms(134)); // duplicate
        t.event(1, media(5), t0 + ms(121)); // agent -> patient 1 ms
        t.event(0, media(9), t0 + ms(230)); // after the window, sent in it
        t.event(1, BotEvent::Media { timestamp: 17 }, t0 + ms(150)); // not a bot's timestamp
        assert_eq!(t.received, 3);
        assert_eq!(t.p2a_us, vec![23_000, 31_000]);
        assert_eq!(t.a2p_us, vec![1000]);
        assert_eq!(t.forwarded, 5, "arrivals in the window, any packet");
    }

    #[test]
    fn set_up_ends_when_every_bot_has_media_or_failed() {
        let t0 = Instant::now();
        let mut timers = Deadlines::default();
        let mut t = Tally::new(4);
        t.event(0, media(0), t0);
        t.event(1, media(0), t0 + ms(1));
        assert_eq!(t.settled_at, None);
        t.event(2, BotEvent::Connected, t0);
        t.fail(2, "join refused", &mut timers, t0 + ms(5));
        assert_eq!(t.settled_at, Some(t0 + ms(5)));
        assert_eq!(t.failures, vec!["pair 1 (agent): join refused"]);
        assert_eq!(t.live_pairs(), 1);
        assert_eq!(t.ticks.earliest(), None, "the failed pair stops sending");
        t.fail(3, "again", &mut timers, t0 + ms(6));
        assert_eq!(t.failures.len(), 1, "one failure per pair");
    }

    #[test]
    fn a_timed_out_set_up_fails_the_pairs_without_media() {
        let t0 = Instant::now();
        let mut timers = Deadlines::default();
        let mut t = Tally::new(4);
        t.event(0, media(0), t0);
        t.event(1, media(0), t0);
        t.event(2, media(0), t0);
        t.time_out(&mut timers, t0 + ms(9));
        assert_eq!(t.failures.len(), 1);
        assert_eq!(t.settled_at, Some(t0 + ms(9)));
    }

    #[test]
    fn connected_bots_send_on_a_spread_20_ms_grid() {
        let t0 = Instant::now();
        let mut t = Tally::new(4);
        t.event(2, BotEvent::Connected, t0);
        assert_eq!(t.tick_at[2], Some(t0 + ms(10)));
        t.reschedule(2);
        assert_eq!(t.tick_at[2], Some(t0 + ms(30)));
    }
}
