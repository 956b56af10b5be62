//! What the generator counts while its bots run: which bots have media, their send schedule,
//! the measurement window, packets sent and received in it and their latencies, and the
//! `/proc` counters read at the window's edges.

use std::time::{Duration, Instant};

use engines_common::deadlines::Deadlines;

use crate::bot::{BotError, BotEvent};
use crate::fleet::PACKET_INTERVAL;
use crate::proc_stat::{self, ProcError};

/// Counters read at the window's start and end.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) fwd_cpu_us: u64,
    pub(crate) gen_cpu_us: u64,
    pub(crate) fwd_wait_us: u64,
    pub(crate) gen_wait_us: u64,
    pub(crate) udp_drops: u64,
}

impl Sample {
    pub(crate) fn take(forwarder: u32, me: u32) -> Result<Self, ProcError> {
        Ok(Self {
            fwd_cpu_us: proc_stat::cpu_us(forwarder)?,
            gen_cpu_us: proc_stat::cpu_us(me)?,
            fwd_wait_us: proc_stat::run_delay_us(forwarder)?,
            gen_wait_us: proc_stat::run_delay_us(me)?,
            udp_drops: proc_stat::udp_rcvbuf_errors()?,
        })
    }
}

/// Counts kept while the bots run.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) epoch: Option<Instant>,
    pub(crate) has_media: Vec<bool>,
    pub(crate) with_media: usize,
    pub(crate) all_media_at: Option<Instant>,
    /// Send ticks: each bot's scheduled instant of its next packet.
    pub(crate) ticks: Deadlines,
    pub(crate) tick_at: Vec<Option<Instant>>,
    pub(crate) window: Option<(Instant, Option<Instant>)>,
    pub(crate) sent: u64,
    pub(crate) received: u64,
    pub(crate) forwarded: u64,
    pub(crate) latencies_us: Vec<u32>,
    pub(crate) disconnects: u64,
    /// Bots whose engine failed (they stop; their pair never has media).
    pub(crate) failed: Vec<bool>,
    pub(crate) failures: usize,
}

impl Tally {
    /// Stops a bot whose engine returned an error (reported once per bot, first ten only).
    pub(crate) fn fail(&mut self, bot: usize, e: &BotError, timers: &mut Deadlines) {
        timers.clear(bot);
        self.ticks.clear(bot);
        self.tick_at[bot] = None;
        if !self.failed[bot] {
            self.failed[bot] = true;
            self.failures += 1;
            if self.failures <= 10 {
                eprintln!("bot {bot} failed: {e}");
            }
        }
    }

    pub(crate) fn schedule(&mut self, bot: usize, at: Instant) {
        self.tick_at[bot] = Some(at);
        self.ticks.set(bot, at);
    }

    /// Books the tick of `bot` just sent and schedules the next one on its 20 ms grid (a late
    /// tick is sent late, not skipped).
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

    pub(crate) fn event(&mut self, bot: usize, n: usize, ev: BotEvent, at: Instant) {
        match ev {
            BotEvent::Connected => {
                // spread the bots' send instants over the 20 ms period
                let phase = PACKET_INTERVAL.mul_f64(bot as f64 / n as f64);
                self.schedule(bot, at + phase);
            }
            BotEvent::Disconnected => self.disconnects += 1,
            BotEvent::Media { sent_ns, .. } => {
                if !self.has_media[bot] {
                    self.has_media[bot] = true;
                    self.with_media += 1;
                    if self.with_media == n {
                        self.all_media_at = Some(at);
                    }
                }
                if self.in_window(at) {
                    self.forwarded += 1;
                }
                let Some(epoch) = self.epoch else { return };
                let sent = epoch + Duration::from_nanos(sent_ns);
                if self.in_window(sent) {
                    self.received += 1;
                    let us = at.saturating_duration_since(sent).as_micros();
                    self.latencies_us
                        .push(u32::try_from(us).unwrap_or(u32::MAX));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(n: usize, epoch: Instant) -> Tally {
        Tally {
            epoch: Some(epoch),
            has_media: vec![false; n],
            tick_at: vec![None; n],
            failed: vec![false; n],
            ..Tally::default()
        }
    }

    #[test]
    fn only_packets_sent_in_the_window_count_for_loss_and_latency() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut t = tally(2, t0);
        let media = |sent: Duration| BotEvent::Media {
            seq: 0,
            sent_ns: sent.as_nanos() as u64,
        };
        t.event(0, 2, media(ms(0)), t0 + ms(1));
        assert_eq!(t.all_media_at, None, "one bot of two has media");
        t.event(1, 2, media(ms(0)), t0 + ms(2));
        assert_eq!(t.all_media_at, Some(t0 + ms(2)));
        t.window = Some((t0 + ms(100), Some(t0 + ms(200))));
        // sent before the window, arrives in it: forwarded, not a window packet
        t.event(0, 2, media(ms(99)), t0 + ms(101));
        // sent and arrived in the window, 3 ms later
        t.event(1, 2, media(ms(150)), t0 + ms(153));
        // sent at the end of the window, arrives after it
        t.event(0, 2, media(ms(199)), t0 + ms(205));
        assert_eq!(t.forwarded, 2);
        assert_eq!(t.received, 2);
        assert_eq!(t.latencies_us, vec![3000, 6000]);
    }

    #[test]
    fn connected_bots_send_on_a_spread_20_ms_grid() {
        let t0 = Instant::now();
        let mut t = tally(4, t0);
        t.event(2, 4, BotEvent::Connected, t0);
        assert_eq!(t.tick_at[2], Some(t0 + Duration::from_millis(10)));
        t.reschedule(2);
        assert_eq!(t.tick_at[2], Some(t0 + Duration::from_millis(30)));
    }
}
