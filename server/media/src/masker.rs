//! The masker: one per patient audio stream, sans-IO.
//!
//! Feed every RTP packet of the patient's stream with [`Masker::handle_rtp`] and call
//! [`Masker::handle_timeout`] when the last [`Output::Timeout`] is due; drain
//! [`Masker::poll_output`] after each call until it returns `Timeout` or `None`.
//!
//! * telephone-event packets are consumed (never forwarded) and turned into digits by a
//!   [`KeyTracker`]; the audio packet held at that moment is masked, and so is the next one;
//! * each Opus packet is decoded to 8 kHz, checked by the sensitive [`Flagger`] and the strict
//!   [`DtmfDetector`], and held for one packet time (its own duration, at least
//!   [`MaskerConfig::hold`]: a 60 ms packet is held 60 ms). A packet is flagged when the
//!   flagger flags it or the detector hears a key; it is replaced by the constant Opus silence
//!   frame, and so are the one before (still held) and the one after (`mask_after`, 2 in secure
//!   mode) when what was flagged may run on into it: a key in progress, or the flagger's
//!   [`Flag::RunsOn`]; a flag whose pair-like windows stop inside the packet ([`Flag::Ended`],
//!   outside secure mode) masks the one before only. A packet in which a block passed every
//!   test of the detector's hit ([`DtmfDetector::take_hit_seen`]) is masked with the one before
//!   only, unless every window of it that looks like a pair is a vowel
//!   ([`Flagger::only_vowels`]): that is the packet a key the detector finds later starts in;
//! * after a masked span, each packet is also checked as the agent's decoder will hear it (its
//!   state restarted by the silence frames, `agent_view.rs`) before it is released, and
//!   masked with the one after when flagged there;
//! * output sequence numbers close the holes left by consumed packets ([`Renumber`]); RTP
//!   timestamps, SSRC, marker, CSRCs and header extensions are kept; no packet is dropped or
//!   shortened to DTX;
//! * a key that arrives in-band and as an event within [`MaskerConfig::merge_window`] is one
//!   digit (and so is a key signalled out of band, [`Masker::handle_signalled_key`]). Outside
//!   secure mode digits come out as [`Output::Digit`]; in secure mode they go to
//!   the [`Collector`] only, and [`Output::Collector`] reports progress (counts, never digits).
//!
//! A G.711 leg (a phone caller, [`MaskerConfig::g711`]) goes through the same path: its
//! packets are decoded by table instead of by libopus, analysed by the same flagger, detector
//! and key trackers, held the same way, and masked by filling the payload with the law's
//! silence code (same length, so timestamps and durations stay as they were). The agent's
//! view (`agent_view.rs`) is not needed there: G.711 has no decoder state to restart.
//!
//! Fail-closed choices: undecodable, late (reordered) and duplicate Opus packets are masked;
//! packets of a payload type that was not negotiated are consumed and refused with an error.
//! Limit: the "one before" packet can only be masked while it is still held, so a packet arriving
//! more than `hold` late (jitter) lets its predecessor go unmasked; raise `hold` on jittery legs.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::time::{Duration, Instant};

use crate::agent_view::AgentView;
use crate::collector::{Collector, CollectorEvent};
use crate::detector::{DetectedDigit, DtmfDetector};
use crate::flagger::{Flag, Flagger, FlaggerConfig, HOP, WINDOW};
use crate::g711::Law;
use crate::key_tracker::{KeyTracker, KeyTrackerConfig};
use crate::opus_codec::{Decoder8k, packet_samples_48k, silence_packet};
use crate::recent_keys::RecentKeys;
use crate::renumber::Renumber;
use crate::rfc4733::TelephoneEvent;
use crate::rtp::RtpPacket;
use crate::seq::SeqExtender;
use crate::{Digit, MediaError};

/// The audio of a G.711 leg: its payload type and companding law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct G711Audio {
    /// The payload type (0 for PCMU, 8 for PCMA, as negotiated).
    pub pt: u8,
    /// µ-law or A-law.
    pub law: Law,
}

/// Masker settings: the payload types come from the negotiated SDP.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskerConfig {
    /// Opus payload type (unused when [`Self::g711`] is set).
    pub opus_pt: u8,
    /// The stream's audio is G.711 (a phone leg), not Opus.
    pub g711: Option<G711Audio>,
    /// telephone-event payload types with their clock rates (e.g. `[(110, 48000), (126, 8000)]`).
    pub event_pts: Vec<(u8, u32)>,
    /// How long each audio packet is held at least; a longer packet is held its own
    /// duration (one packet time).
    pub hold: Duration,
    /// Packets masked after the last flagged one whose flag may run on (a key in progress,
    /// [`Flag::RunsOn`]).
    pub mask_after: usize,
    /// Packets masked after the last flagged one in secure mode (any flag).
    pub secure_mask_after: usize,
    /// In secure mode, mask every audio packet (the agent hears silence while keying).
    pub secure_mask_all: bool,
    /// Flag thresholds outside secure mode.
    pub flagger: FlaggerConfig,
    /// Flag thresholds in secure mode.
    pub secure_flagger: FlaggerConfig,
    /// A key heard in-band and as an event within this window is one digit.
    pub merge_window: Duration,
    /// A telephone event with no packet for this long is ended.
    pub event_end_timeout: Duration,
}

impl Default for MaskerConfig {
    fn default() -> Self {
        Self {
            opus_pt: 111,
            g711: None,
            event_pts: vec![(110, 48_000), (126, 8_000)],
            hold: Duration::from_millis(20),
            mask_after: 1,
            secure_mask_after: 2,
            secure_mask_all: false,
            flagger: FlaggerConfig::default(),
            secure_flagger: FlaggerConfig::secure(),
            merge_window: Duration::from_millis(300),
            event_end_timeout: Duration::from_millis(250),
        }
    }
}

/// Where a digit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigitSource {
    /// Tones in the audio.
    InBand,
    /// RFC 4733 telephone events.
    Rfc4733,
    /// The caller's signalling (a SIP INFO key), not its media.
    Signalled,
}

/// A captured digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigitEvent {
    /// The key.
    pub digit: Digit,
    /// In-band or event.
    pub source: DigitSource,
    /// Key down.
    pub start: Instant,
    /// Key up.
    pub end: Instant,
}

/// A packet to forward to the agent and the recorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// The RTP packet.
    pub bytes: Vec<u8>,
    /// True if its payload was replaced by the silence frame.
    pub masked: bool,
}

/// What the masker asks its caller to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Send this packet on.
    Forward(Forwarded),
    /// A digit was keyed (outside secure mode).
    Digit(DigitEvent),
    /// Collector progress (secure mode).
    Collector(CollectorEvent),
    /// Call [`Masker::handle_timeout`] at this instant.
    Timeout(Instant),
}

/// Counters for tests, metrics and benches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaskerStats {
    /// Audio packets forwarded.
    pub forwarded: u64,
    /// Of which masked.
    pub masked: u64,
    /// Audio packets flagged by the sensitive flag (or fail-closed rules).
    pub flagged: u64,
    /// Of the flagged: packets suspected only for a strict detector hit (a key may start).
    pub flagged_hit_only: u64,
    /// Of the flagged: packets flagged as the agent's decoder hears them after a masked span.
    pub flagged_agent_view: u64,
    /// telephone-event packets consumed.
    pub events: u64,
    /// Packets refused (parse errors, unknown payload types, other SSRC).
    pub refused: u64,
}

/// What the analysis of one audio packet found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Suspicion {
    None,
    /// A block of it passed every test of the strict detector's hit, no key is declared nor
    /// flagged, and not every window that looks like a pair is a vowel: a key may start here
    /// (masked with the one before), or speech looked like one block of a key (no packet after
    /// is masked for it: a key that goes on is flagged or declared, or hits again).
    Hit,
    /// Flagged by the flagger alone outside secure mode, and what it flagged stopped inside
    /// the packet ([`Flag::Ended`]): masked with the one before; the one after carries none of
    /// it.
    Ended,
    /// Flagged and may run on, a key in progress, or undecodable: masked with the one before
    /// and `after`.
    Flagged,
}

#[derive(Debug)]
struct Held {
    /// The packet as it will be forwarded unmasked (header, then payload).
    packet: Vec<u8>,
    header_len: usize,
    samples_48k: u32,
    masked: bool,
    deadline: Instant,
}

/// The masker for one patient stream. Its `Debug` shows configuration and counters only: the
/// recent digits it keeps for merging (card digits, in secure mode) are never printed.
pub struct Masker {
    config: MaskerConfig,
    flagger: Flagger,
    secure_flagger: Flagger,
    ssrc: Option<u32>,
    seq: SeqExtender,
    highest: Option<u64>,
    renumber: Renumber,
    decoder: Decoder8k,
    detector: DtmfDetector,
    window: Vec<f32>,
    /// (first 8 kHz sample index, audio start instant) of recent decoded packets.
    timeline: VecDeque<(u64, Instant)>,
    decoded: u64,
    trackers: Vec<(u8, KeyTracker)>,
    held: Option<Held>,
    mask_left: usize,
    agent_view: AgentView,
    recent: RecentKeys,
    collector: Option<Collector>,
    out: VecDeque<Output>,
    stats: MaskerStats,
    scratch: Vec<DetectedDigit>,
    /// Decoded G.711 of the packet being analysed.
    pcm: Vec<i16>,
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field("config", &self.config)
            .field("ssrc", &self.ssrc)
            .field("secure", &self.is_secure())
            .field("holding", &self.held.is_some())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Masker {
    /// A masker for a stream with the negotiated payload types in `config`.
    pub fn new(config: MaskerConfig) -> Result<Self, MediaError> {
        let audio_pt = config.g711.map_or(config.opus_pt, |g| g.pt);
        if config
            .event_pts
            .iter()
            .any(|&(pt, rate)| pt == audio_pt || rate == 0)
        {
            return Err(MediaError::Config(
                "event payload types must differ from the audio's and have a clock rate",
            ));
        }
        let trackers = config
            .event_pts
            .iter()
            .map(|&(pt, clock_rate)| {
                let c = KeyTrackerConfig {
                    clock_rate,
                    end_timeout: config.event_end_timeout,
                };
                (pt, KeyTracker::new(c))
            })
            .collect();
        Ok(Self {
            flagger: Flagger::new(config.flagger),
            secure_flagger: Flagger::new(config.secure_flagger),
            ssrc: None,
            seq: SeqExtender::new(),
            highest: None,
            renumber: Renumber::new(),
            decoder: Decoder8k::new()?,
            detector: DtmfDetector::default(),
            window: vec![0.0; WINDOW],
            timeline: VecDeque::new(),
            decoded: 0,
            trackers,
            held: None,
            mask_left: 0,
            agent_view: AgentView::new(),
            recent: RecentKeys::new(Instant::now()),
            collector: None,
            out: VecDeque::new(),
            stats: MaskerStats::default(),
            scratch: Vec::new(),
            pcm: Vec::new(),
            config,
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> MaskerStats {
        self.stats
    }

    /// Enters secure mode: stricter masking; digits go to `collector` only.
    pub fn enter_secure_mode(&mut self, collector: Collector) {
        self.collector = Some(collector);
    }

    /// Leaves secure mode and hands the collector back.
    pub fn exit_secure_mode(&mut self) -> Option<Collector> {
        // The merge memory holds the last keys (card digits): forget them with the mode.
        self.recent.clear();
        self.collector.take()
    }

    /// The collector while in secure mode (to request fields and take values).
    pub fn collector_mut(&mut self) -> Option<&mut Collector> {
        self.collector.as_mut()
    }

    /// True in secure mode.
    pub fn is_secure(&self) -> bool {
        self.collector.is_some()
    }

    /// Feeds one RTP packet that arrived at `now`.
    ///
    /// A held packet whose deadline is `now` or earlier is released only after this packet was
    /// analysed, so that it can still be masked as "the one before" when the next packet arrives
    /// on time; call [`Masker::handle_timeout`] at the deadline when no packet comes.
    pub fn handle_rtp(&mut self, now: Instant, bytes: &[u8]) -> Result<(), MediaError> {
        self.handle_rtp_owned(now, bytes.to_vec())
    }

    /// [`Masker::handle_rtp`] taking the packet's buffer: an audio packet is held and forwarded
    /// in it (sequence number rewritten in place, its payload replaced when masked), with no
    /// other copy.
    pub fn handle_rtp_owned(&mut self, now: Instant, packet: Vec<u8>) -> Result<(), MediaError> {
        self.handle_other_timeouts(now);
        let pkt = RtpPacket::parse(&packet).inspect_err(|_| self.stats.refused += 1)?;
        if *self.ssrc.get_or_insert(pkt.ssrc) != pkt.ssrc {
            self.stats.refused += 1;
            return Err(MediaError::UnexpectedSsrc(pkt.ssrc));
        }
        let ext = self.seq.extend(u64::from(pkt.sequence));
        if let Some(i) = self
            .trackers
            .iter()
            .position(|(pt, _)| *pt == pkt.payload_type)
        {
            return self.handle_event(now, ext, i, &pkt);
        }
        if pkt.payload_type != self.audio_pt() {
            self.renumber.consume(ext);
            self.stats.refused += 1;
            return Err(MediaError::UnknownPayloadType(pkt.payload_type));
        }
        let payload = pkt.header.len()..pkt.header.len() + pkt.payload.len();
        self.handle_audio(now, ext, packet, payload);
        Ok(())
    }

    /// The payload type of the stream's audio (Opus, or G.711 on a phone leg).
    fn audio_pt(&self) -> u8 {
        self.config.g711.map_or(self.config.opus_pt, |g| g.pt)
    }

    /// A key the caller's signalling reported (a SIP INFO key, RFC 6086), held for `held`
    /// when the phone said: a digit like an RFC 4733 event's (one digit with the same key
    /// heard in-band or as an event within [`MaskerConfig::merge_window`]; in secure mode it
    /// goes to the collector only). The audio packet held now is masked, and so is the next
    /// one: a phone that signals a key may also be playing its tones.
    pub fn handle_signalled_key(&mut self, now: Instant, digit: Digit, held: Option<Duration>) {
        if let Some(h) = self.held.as_mut() {
            h.masked = true;
        }
        self.mask_left = self.mask_left.max(self.after());
        let ev = DigitEvent {
            digit,
            source: DigitSource::Signalled,
            start: now,
            end: now + held.unwrap_or_default().min(Duration::from_secs(10)),
        };
        self.emit(now, ev);
    }

    /// Releases held packets and ends events and collector entries due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.held.as_ref().is_some_and(|h| h.deadline <= now) {
            self.release();
        }
        self.handle_other_timeouts(now);
    }

    fn handle_other_timeouts(&mut self, now: Instant) {
        for i in 0..self.trackers.len() {
            self.trackers[i].1.handle_timeout(now);
            self.drain_tracker(now, i);
        }
        if let Some(c) = self.collector.as_mut() {
            c.handle_timeout(now);
        }
        self.drain_collector();
        if let Some(before) = now.checked_sub(self.config.merge_window * 4) {
            self.recent.expire(before);
        }
    }

    /// The next output. Stop draining at `Timeout`; `None` means nothing is pending and no
    /// deadline is set.
    pub fn poll_output(&mut self) -> Option<Output> {
        if let Some(o) = self.out.pop_front() {
            return Some(o);
        }
        let held = self.held.as_ref().map(|h| h.deadline);
        let keys = self.trackers.iter().filter_map(|(_, t)| t.poll_timeout());
        let collector = self.collector.as_ref().and_then(|c| c.poll_timeout());
        let forget = self.recent.next_expiry(self.config.merge_window * 4);
        held.into_iter()
            .chain(keys)
            .chain(collector)
            .chain(forget)
            .min()
            .map(Output::Timeout)
    }

    /// Releases everything still held (end of stream) and reports a digit in progress.
    pub fn flush(&mut self, now: Instant) {
        self.release();
        self.scratch.clear();
        let mut found = std::mem::take(&mut self.scratch);
        self.detector.flush(&mut found);
        for d in found.drain(..) {
            self.emit_inband(now, d);
        }
        self.scratch = found;
        self.handle_timeout(now + self.config.event_end_timeout);
    }

    fn handle_event(
        &mut self,
        now: Instant,
        ext: u64,
        i: usize,
        pkt: &RtpPacket<'_>,
    ) -> Result<(), MediaError> {
        self.renumber.consume(ext);
        self.stats.events += 1;
        // A key is being pressed: mask what is held and what follows.
        if let Some(h) = self.held.as_mut() {
            h.masked = true;
        }
        self.mask_left = self.mask_left.max(self.after());
        let ev = TelephoneEvent::parse(pkt.payload)?;
        self.trackers[i]
            .1
            .handle_event(now, pkt.marker, pkt.timestamp, ev);
        self.drain_tracker(now, i);
        Ok(())
    }

    /// Analyses the audio packet `ext` (`packet[payload]` its Opus payload), releases the one
    /// held (masked first when this one is flagged) and holds this one.
    fn handle_audio(&mut self, now: Instant, ext: u64, mut packet: Vec<u8>, payload: Range<usize>) {
        let audio = &packet[payload.clone()];
        let samples_48k = match self.config.g711 {
            // one byte per 8 kHz sample
            Some(_) => u32::try_from(audio.len().saturating_mul(6)).unwrap_or(u32::MAX),
            None => packet_samples_48k(audio).unwrap_or(960),
        };
        let in_order = self.highest.is_none_or(|h| ext > h);
        let suspicion = if in_order {
            self.analyze(now, audio, samples_48k)
        } else {
            Suspicion::Flagged
        };
        if in_order {
            self.highest = Some(ext);
        }
        // Masked with the one `after` too: a key that may run on.
        let runs_on =
            suspicion == Suspicion::Flagged || self.trackers.iter().any(|(_, t)| t.key_down());
        let suspect = runs_on || suspicion != Suspicion::None;
        if suspect && let Some(h) = self.held.as_mut() {
            h.masked = true;
        }
        // Released first: what the agent hears of it may still ask to mask this one.
        self.release();
        let mut masked = suspect || (self.is_secure() && self.config.secure_mask_all);
        if suspect {
            self.stats.flagged += 1;
            self.stats.flagged_hit_only += u64::from(!runs_on && suspicion == Suspicion::Hit);
        }
        if runs_on {
            self.mask_left = self.after();
        } else if self.mask_left > 0 {
            self.mask_left -= 1;
            masked = true;
        }
        // The packet as forwarded: renumbered, padding dropped (bit cleared, bytes cut).
        let out_seq = self.renumber.output_seq(ext);
        packet.truncate(payload.end);
        packet[0] &= !0x20;
        packet[2..4].copy_from_slice(&out_seq.to_be_bytes());
        self.held = Some(Held {
            packet,
            header_len: payload.start,
            samples_48k,
            masked,
            deadline: now + self.hold_for(samples_48k),
        });
    }

    /// Decodes, runs both detectors; what the packet must be masked for.
    fn analyze(&mut self, now: Instant, payload: &[u8], samples_48k: u32) -> Suspicion {
        let pcm: &[i16] = match self.config.g711 {
            Some(g) => {
                self.pcm.clear();
                g.law.decode(payload, &mut self.pcm);
                &self.pcm
            }
            None => match self.decoder.decode(payload) {
                Ok(pcm) => pcm,
                Err(_) => return Suspicion::Flagged, // undecodable: fail closed
            },
        };
        let start = now
            .checked_sub(Duration::from_micros(u64::from(samples_48k) * 1000 / 48))
            .unwrap_or(now);
        if self.timeline.len() == 256 {
            self.timeline.pop_front();
        }
        self.timeline.push_back((self.decoded, start));
        self.decoded += pcm.len() as u64;
        // Window: the last HOP samples of the previous packet, then this packet.
        self.window.drain(..self.window.len().saturating_sub(HOP));
        self.window.extend(pcm.iter().map(|&s| f32::from(s)));
        // (not `self.flagger()`: `pcm` borrows `self.decoder` or `self.pcm`)
        let flagger = if self.collector.is_some() {
            &self.secure_flagger
        } else {
            &self.flagger
        };
        let flag = flagger.assess(&self.window);
        let mut found = std::mem::take(&mut self.scratch);
        found.clear();
        self.detector.process(pcm, &mut found);
        let hit = self.detector.take_hit_seen();
        let keying = self.detector.in_progress();
        for d in found.drain(..) {
            self.emit_inband(now, d);
        }
        self.scratch = found;
        let secure = self.collector.is_some();
        match flag {
            _ if keying => Suspicion::Flagged,
            Flag::RunsOn => Suspicion::Flagged,
            Flag::Ended if secure => Suspicion::Flagged,
            Flag::Ended => Suspicion::Ended,
            // A vowel's harmonics on a pair's frequencies passed one block (12.75 ms) of the
            // strict detector's tests (the flagger's windows are shorter and see them apart).
            Flag::Clear if hit && !self.flagger().only_vowels(&self.window) => Suspicion::Hit,
            Flag::Clear => Suspicion::None,
        }
    }

    /// How long a packet of `samples_48k` is held: one packet time, so that the next packet
    /// arrives while it is still held and can mask it as "the one before". A 40 or 60 ms
    /// packet (a peer that ignores `ptime=20`) is held 40 or 60 ms; `hold` is the minimum.
    fn hold_for(&self, samples_48k: u32) -> Duration {
        let packet = Duration::from_micros(u64::from(samples_48k) * 1000 / 48);
        self.config.hold.max(packet)
    }

    /// The flagger of the current mode.
    fn flagger(&self) -> &Flagger {
        if self.collector.is_some() {
            &self.secure_flagger
        } else {
            &self.flagger
        }
    }

    fn after(&self) -> usize {
        if self.is_secure() {
            self.config.secure_mask_after
        } else {
            self.config.mask_after
        }
    }

    /// Releases the held packet. After a masked span it is first checked as the agent's
    /// decoder will hear it ([`AgentView`]); flagged there, it is masked with the one after.
    fn release(&mut self) {
        let Some(mut h) = self.held.take() else {
            return;
        };
        if !h.masked && self.agent_view.is_watching() {
            let flagger = if self.collector.is_some() {
                &self.secure_flagger
            } else {
                &self.flagger
            };
            // (not `self.flagger()`: `agent_view` is borrowed mutably beside it)
            if self.agent_view.flags(&h.packet[h.header_len..], flagger) {
                self.stats.flagged += 1;
                self.stats.flagged_agent_view += 1;
                h.masked = true;
                self.mask_left = self.mask_left.max(self.after());
            }
        }
        let mut bytes = h.packet;
        if h.masked
            && let Some(g) = self.config.g711
        {
            // Same length: the silence code in every sample.
            bytes[h.header_len..].fill(g.law.silence());
        } else if h.masked {
            let silence = silence_packet(h.samples_48k);
            self.agent_view.masked(&silence);
            bytes.truncate(h.header_len);
            bytes.extend_from_slice(&silence);
        }
        self.stats.forwarded += 1;
        self.stats.masked += u64::from(h.masked);
        self.out.push_back(Output::Forward(Forwarded {
            bytes,
            masked: h.masked,
        }));
    }

    fn drain_tracker(&mut self, now: Instant, i: usize) {
        while let Some(p) = self.trackers[i].1.poll_press() {
            let ev = DigitEvent {
                digit: p.digit,
                source: DigitSource::Rfc4733,
                start: p.start,
                end: p.end,
            };
            self.emit(now, ev);
        }
    }

    fn emit_inband(&mut self, now: Instant, d: DetectedDigit) {
        let at = |s: u64| {
            let i = self
                .timeline
                .partition_point(|&(first, _)| first <= s)
                .saturating_sub(1);
            self.timeline.get(i).map_or(now, |&(first, t)| {
                t + Duration::from_micros((s.saturating_sub(first)) * 125)
            })
        };
        let ev = DigitEvent {
            digit: d.digit,
            source: DigitSource::InBand,
            start: at(d.start_sample),
            end: at(d.end_sample),
        };
        self.emit(now, ev);
    }

    fn emit(&mut self, now: Instant, ev: DigitEvent) {
        if self.recent.is_duplicate(&ev, self.config.merge_window) {
            return;
        }
        self.recent.push(&ev);
        match self.collector.as_mut() {
            Some(c) => {
                c.push(now, ev.digit);
                self.drain_collector();
            }
            None => self.out.push_back(Output::Digit(ev)),
        }
    }

    fn drain_collector(&mut self) {
        if let Some(c) = self.collector.as_mut() {
            while let Some(e) = c.poll_event() {
                self.out.push_back(Output::Collector(e));
            }
        }
    }
}
