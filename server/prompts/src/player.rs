//! The prompt player: one outgoing Opus stream that carries either forwarded audio (the agent's,
//! on the patient's leg) or prompts, sans-IO.
//!
//! What it promises:
//!
//! * **One continuous stream.** Sequence numbers go up by one per packet across every switch
//!   between forwarded audio and prompts, and RTP timestamps advance with real time (the time
//!   the caller passes in, rounded to whole 20 ms frames): the receiver's jitter buffer sees
//!   neither a gap nor a jump. Forwarded packets keep their own spacing (a lost one stays a
//!   gap), mapped by a fixed offset from the moment forwarding resumes; a forwarded packet older
//!   than that moment is dropped rather than sent out of order.
//! * **Real-time pacing.** While playing, one 20 ms packet is due every 20 ms from the start:
//!   [`Player::poll_output`] hands back [`Output::Timeout`] with the next due time, and
//!   [`Player::handle_timeout`] emits what is due. Between clips it sends a filler (hold music
//!   or the constant silence frame), never nothing, so the stream stays continuous. A caller
//!   more than [`LATE_RESET`] late skips the missed frames (timestamps jump with real time,
//!   sequence numbers stay gap-free) instead of sending a burst.
//! * **No clock.** Time is an input; tests step it by hand.
//!
//! Clips are queued with [`Player::enqueue`] (concatenation: an amount is a run of number
//! clips), and [`Player::mark`] puts a marker in the queue that comes out as [`Output::Mark`]
//! once everything queued before it has been sent.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::prompt::{Clip, FRAME_48K};
use hushpay_media::opus_codec::SILENCE_20MS;

/// Packet time of the prompts.
pub const FRAME: Duration = Duration::from_millis(20);
/// How late the caller may be before missed frames are skipped instead of sent at once.
pub const LATE_RESET: Duration = Duration::from_millis(200);

/// How far behind the newest forwarded packet a reordered one may still be sent.
const REORDER_WINDOW: u16 = 1024;

/// A packet to send: the caller adds its SSRC and payload type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutPacket {
    pub sequence: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Vec<u8>,
}

/// What the player asks the caller to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Send this packet now.
    Packet(OutPacket),
    /// Everything queued before [`Player::mark`]`(id)` has been sent.
    Mark(u64),
    /// Call [`Player::handle_timeout`] at this time.
    Timeout(Instant),
}

#[derive(Debug)]
enum Item {
    Clip(Arc<Clip>, usize),
    Silence(u32),
    Mark(u64),
}

#[derive(Debug, Clone, Copy)]
struct Sent {
    seq: u16,
    ts: u32,
    at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Mapping {
    anchor: u16,
    seq_off: u16,
    ts_off: u32,
}

/// One outgoing stream (see the module docs).
#[derive(Debug)]
pub struct Player {
    initial: (u16, u32),
    last: Option<Sent>,
    mapping: Option<Mapping>,
    /// Next prompt packet while playing: (due, sequence, timestamp, marker).
    next: Option<(Instant, u16, u32, bool)>,
    queue: VecDeque<Item>,
    filler: Option<(Arc<Clip>, usize)>,
    out: VecDeque<Output>,
}

/// Whole frames between `at` and `now` (at least one), rounded to the nearest.
fn frames_since(at: Instant, now: Instant) -> u32 {
    let elapsed = now.saturating_duration_since(at).as_micros();
    let frames = (elapsed + FRAME.as_micros() / 2) / FRAME.as_micros();
    u32::try_from(frames).unwrap_or(u32::MAX / FRAME_48K).max(1)
}

fn newer(a: u16, b: u16) -> bool {
    (a.wrapping_sub(b) as i16) > 0
}

impl Player {
    /// A stream whose first packet (if nothing was forwarded before) has sequence number
    /// `sequence` and timestamp `timestamp` (pick them at random, RFC 3550).
    pub fn new(sequence: u16, timestamp: u32) -> Self {
        Self {
            initial: (sequence, timestamp),
            last: None,
            mapping: None,
            next: None,
            queue: VecDeque::new(),
            filler: None,
            out: VecDeque::new(),
        }
    }

    /// True while prompts (not forwarded audio) go out.
    pub fn is_playing(&self) -> bool {
        self.next.is_some()
    }

    /// A forwarded packet (`sequence`, `timestamp` as received) arriving at `now`: the
    /// sequence number and timestamp to send it with, or `None` to drop it (prompts are
    /// playing, or it is older than the point where forwarding resumed).
    pub fn forward(&mut self, now: Instant, sequence: u16, timestamp: u32) -> Option<(u16, u32)> {
        if self.is_playing() {
            return None;
        }
        let m = match self.mapping {
            Some(m) if newer(m.anchor, sequence) => return None,
            Some(mut m) => {
                // Keep the anchor within half the sequence space behind the stream, or a long
                // stream would wrap past it and look older than the resume point.
                let floor = sequence.wrapping_sub(REORDER_WINDOW);
                if newer(floor, m.anchor) {
                    m.anchor = floor;
                    self.mapping = Some(m);
                }
                m
            }
            None => {
                let (seq, ts) = match self.last {
                    None => (sequence, timestamp),
                    Some(l) => (
                        l.seq.wrapping_add(1),
                        l.ts.wrapping_add(frames_since(l.at, now) * FRAME_48K),
                    ),
                };
                let m = Mapping {
                    anchor: sequence,
                    seq_off: seq.wrapping_sub(sequence),
                    ts_off: ts.wrapping_sub(timestamp),
                };
                self.mapping = Some(m);
                m
            }
        };
        let (seq, ts) = (
            sequence.wrapping_add(m.seq_off),
            timestamp.wrapping_add(m.ts_off),
        );
        if self.last.is_none_or(|l| newer(seq, l.seq)) {
            self.last = Some(Sent { seq, ts, at: now });
        }
        Some((seq, ts))
    }

    /// Takes over a stream somebody else numbered until now: its last packet went out at `at`
    /// with `sequence` and `timestamp`, and what this player sends continues from there (as
    /// if it had forwarded that packet itself). For callers that pass forwarded packets
    /// through without the player until it is first needed.
    pub fn continue_after(&mut self, sequence: u16, timestamp: u32, at: Instant) {
        if self.last.is_none_or(|l| newer(sequence, l.seq)) {
            self.last = Some(Sent {
                seq: sequence,
                ts: timestamp,
                at,
            });
            self.mapping = None;
        }
    }

    /// Switches to prompts at `now` (forwarded packets are dropped from now on). The first
    /// prompt packet follows the last packet sent by one sequence number and by the real time
    /// elapsed since it.
    pub fn start(&mut self, now: Instant) {
        if self.is_playing() {
            return;
        }
        self.mapping = None;
        self.next = Some(match self.last {
            None => (now, self.initial.0, self.initial.1, true),
            Some(l) => {
                let frames = frames_since(l.at, now);
                (
                    l.at + FRAME * frames,
                    l.seq.wrapping_add(1),
                    l.ts.wrapping_add(frames * FRAME_48K),
                    true,
                )
            }
        });
    }

    /// Back to forwarding: the queue is dropped (its marks never come out).
    pub fn stop(&mut self) {
        self.next = None;
        self.queue.clear();
        self.mapping = None;
    }

    /// Queues a clip after what is queued.
    pub fn enqueue(&mut self, clip: &Arc<Clip>) {
        self.queue.push_back(Item::Clip(Arc::clone(clip), 0));
    }

    /// Queues `frames` of silence (a pause between clips).
    pub fn pause(&mut self, frames: u32) {
        self.queue.push_back(Item::Silence(frames));
    }

    /// Queues a marker: [`Output::Mark`]`(id)` comes out when everything before it is sent.
    pub fn mark(&mut self, id: u64) {
        self.queue.push_back(Item::Mark(id));
    }

    /// Drops everything queued (marks included): the caller barged in.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// What plays when the queue is empty: `Some(clip)` loops it (hold audio), `None` sends
    /// the constant silence frame.
    pub fn set_filler(&mut self, clip: Option<&Arc<Clip>>) {
        self.filler = clip.map(|c| (Arc::clone(c), 0));
    }

    /// True when nothing is queued.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Emits every packet due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((due, seq, ts, marker)) = self.next {
            if due > now {
                break;
            }
            let late = now.saturating_duration_since(due);
            let (due, ts) = if late > LATE_RESET {
                let skip = u32::try_from(late.as_micros() / FRAME.as_micros()).unwrap_or(0);
                (due + FRAME * skip, ts.wrapping_add(skip * FRAME_48K))
            } else {
                (due, ts)
            };
            let payload = self.next_frame();
            self.out.push_back(Output::Packet(OutPacket {
                sequence: seq,
                timestamp: ts,
                marker,
                payload,
            }));
            self.last = Some(Sent { seq, ts, at: due });
            self.next = Some((
                due + FRAME,
                seq.wrapping_add(1),
                ts.wrapping_add(FRAME_48K),
                false,
            ));
            // A mark right after a clip comes out with the clip's last packet.
            self.pop_marks();
        }
    }

    fn pop_marks(&mut self) {
        while let Some(Item::Mark(id)) = self.queue.front() {
            self.out.push_back(Output::Mark(*id));
            self.queue.pop_front();
        }
    }

    fn next_frame(&mut self) -> Vec<u8> {
        self.pop_marks();
        match self.queue.front_mut() {
            Some(Item::Clip(clip, at)) => {
                let frame = clip.packets().get(*at).cloned();
                *at += 1;
                if *at >= clip.frames() {
                    self.queue.pop_front();
                }
                frame.unwrap_or_else(|| SILENCE_20MS.to_vec())
            }
            Some(Item::Silence(n)) => {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.queue.pop_front();
                }
                SILENCE_20MS.to_vec()
            }
            Some(Item::Mark(_)) | None => match &mut self.filler {
                Some((clip, at)) if clip.frames() > 0 => {
                    let frame = clip.packets()[*at % clip.frames()].clone();
                    *at = (*at + 1) % clip.frames();
                    frame
                }
                _ => SILENCE_20MS.to_vec(),
            },
        }
    }

    /// The next thing to do; `Timeout` while playing, `None` when forwarding.
    pub fn poll_output(&mut self) -> Option<Output> {
        if let Some(o) = self.out.pop_front() {
            return Some(o);
        }
        self.next.map(|(due, ..)| Output::Timeout(due))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn clip(frames: usize, byte: u8) -> Arc<Clip> {
        let mut pcm = Vec::new();
        hushpay_media::signal::append_tone(1000.0, -6.0, 20.0 * frames as f32, 8000, &mut pcm);
        let c = Clip::from_pcm(&pcm, 8000).unwrap();
        assert_eq!(c.frames(), frames, "{byte}");
        Arc::new(c)
    }

    fn drain(p: &mut Player) -> (Vec<OutPacket>, Vec<u64>, Option<Instant>) {
        let (mut pkts, mut marks) = (vec![], vec![]);
        loop {
            match p.poll_output() {
                Some(Output::Packet(k)) => pkts.push(k),
                Some(Output::Mark(m)) => marks.push(m),
                Some(Output::Timeout(t)) => return (pkts, marks, Some(t)),
                None => return (pkts, marks, None),
            }
        }
    }

    #[test]
    fn forwarding_passes_through_until_a_switch() {
        let t0 = Instant::now();
        let mut p = Player::new(1, 1);
        assert_eq!(p.forward(t0, 500, 9000), Some((500, 9000)));
        assert_eq!(p.forward(t0 + FRAME, 501, 9960), Some((501, 9960)));
        assert_eq!(p.poll_output(), None);
    }

    #[test]
    fn prompt_follows_forwarded_audio_and_forwarding_resumes_after_it() {
        let t0 = Instant::now();
        let mut p = Player::new(1, 1);
        p.forward(t0, 65_534, 9000);
        // Prompts start 45 ms later: the first frame is 2 frames on (rounded), due at once.
        p.start(t0 + Duration::from_millis(45));
        p.enqueue(&clip(3, 1));
        p.mark(7);
        p.handle_timeout(t0 + Duration::from_millis(45));
        let (pkts, marks, next) = drain(&mut p);
        assert_eq!(pkts.len(), 1);
        assert_eq!(
            (pkts[0].sequence, pkts[0].timestamp),
            (65_535, 9000 + 2 * 960)
        );
        assert!(pkts[0].marker);
        assert!(marks.is_empty());
        assert_eq!(next, Some(t0 + Duration::from_millis(60)));
        // Forwarded packets are dropped while playing.
        assert_eq!(p.forward(t0 + Duration::from_millis(55), 2, 10_000), None);
        p.handle_timeout(t0 + Duration::from_millis(100));
        let (pkts, marks, _) = drain(&mut p);
        assert_eq!(
            pkts.iter()
                .map(|k| (k.sequence, k.timestamp))
                .collect::<Vec<_>>(),
            vec![
                (0, 9000 + 3 * 960),
                (1, 9000 + 4 * 960),
                (2, 9000 + 5 * 960)
            ]
        );
        assert_eq!(marks, vec![7]);
        assert!(pkts.iter().all(|k| !k.marker));
        // Idle but still playing: silence keeps the stream going.
        p.handle_timeout(t0 + Duration::from_millis(120));
        let (pkts, ..) = drain(&mut p);
        assert_eq!(pkts.len(), 1);
        assert_eq!(pkts[0].payload, SILENCE_20MS);
        p.stop();
        // The next forwarded packet continues the stream; an older one is dropped.
        let back = t0 + Duration::from_millis(141);
        assert_eq!(p.forward(back, 10, 50_000), Some((4, 9000 + 7 * 960)));
        assert_eq!(p.forward(back, 9, 49_040), None);
        assert_eq!(
            p.forward(back + FRAME, 11, 50_960),
            Some((5, 9000 + 8 * 960))
        );
        assert_eq!(p.poll_output(), None);
    }

    #[test]
    fn a_stream_numbered_elsewhere_is_continued_after_its_last_packet() {
        let t0 = Instant::now();
        let mut p = Player::new(1, 1);
        p.continue_after(700, 30_000, t0);
        p.continue_after(699, 29_040, t0); // older: ignored
        p.start(t0 + Duration::from_millis(40));
        p.handle_timeout(t0 + Duration::from_millis(40));
        let (pkts, ..) = drain(&mut p);
        assert_eq!(
            (pkts[0].sequence, pkts[0].timestamp),
            (701, 30_000 + 2 * 960)
        );
        p.stop();
        // Forwarding resumes after the prompt, whatever the source's own numbers.
        let back = t0 + Duration::from_millis(61);
        assert_eq!(p.forward(back, 9, 100), Some((702, 30_000 + 3 * 960)));
    }

    #[test]
    fn a_long_forwarded_stream_passes_through_past_the_sequence_wrap() {
        let t0 = Instant::now();
        let mut p = Player::new(1, 1);
        // 200 000 packets (over an hour): every one passes, sequence numbers wrap three times.
        for i in 0..200_000u32 {
            let seq = (40_000 + i) as u16;
            let ts = i.wrapping_mul(960);
            let at = t0 + FRAME * i;
            assert_eq!(p.forward(at, seq, ts), Some((seq, ts)), "packet {i}");
        }
        // A packet reordered by a few places still passes; one from long ago does not.
        let last = (40_000u32 + 199_999) as u16;
        let later = t0 + FRAME * 200_000;
        assert!(p.forward(later, last.wrapping_sub(3), 0).is_some());
        assert!(p.forward(later, last.wrapping_sub(5000), 0).is_none());
    }

    #[test]
    fn late_caller_skips_frames_without_a_burst() {
        let t0 = Instant::now();
        let mut p = Player::new(100, 0);
        p.start(t0);
        p.handle_timeout(t0);
        drain(&mut p);
        p.handle_timeout(t0 + Duration::from_millis(1020));
        let (pkts, ..) = drain(&mut p);
        assert_eq!(pkts.len(), 1, "one packet, not a burst of 50");
        assert_eq!((pkts[0].sequence, pkts[0].timestamp), (101, 51 * 960));
    }

    #[test]
    fn filler_loops_when_the_queue_is_empty() {
        let t0 = Instant::now();
        let hold = clip(2, 9);
        let mut p = Player::new(0, 0);
        p.set_filler(Some(&hold));
        p.start(t0);
        p.handle_timeout(t0 + Duration::from_millis(100));
        let (pkts, ..) = drain(&mut p);
        let payloads: Vec<_> = pkts.iter().map(|k| k.payload.clone()).collect();
        assert_eq!(payloads.len(), 6);
        assert_eq!(payloads[0], hold.packets()[0]);
        assert_eq!(payloads[1], hold.packets()[1]);
        assert_eq!(payloads[2], hold.packets()[0]);
        p.clear();
        p.stop();
        assert_eq!(p.poll_output(), None);
    }
}
