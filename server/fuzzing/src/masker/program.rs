//! The encoding of a `masker` program (read for a phone leg by `masker_g711` too), and a builder that writes one (for the seed corpus and
//! for tests). Two setup bytes (bitrate and audio band; a seed for sequence numbers, timestamps
//! and noise), then steps. A step is an opcode byte (low 3 bits: the operation, high 5 bits:
//! flags) and its operands; a program cut short reads zeros.
//!
//! | op | operands | flags |
//! |---|---|---|
//! | `TONE` | key (mod 16), level (-dBm0, mod 64), twist dB (i8 mod 12), low and high offset (i8 x 0.04 %), ms, eighths of a ms | bit 0: a noise level byte follows |
//! | `NOISE` | ms, level (-dBm0 - 6) | |
//! | `SILENCE` | ms, eighths of a ms | |
//! | `EVENT` | code (mod 20), volume, duration (u16) | bit 0 new press, bit 1 8 kHz clock (PT 126), bit 2 end, bit 3 marker |
//! | `RAW_RTP` | length, bytes | bit 0: force version 2 and the stream's SSRC |
//! | `RAW_OPUS` | length, payload | |
//! | `GAP` | ms | |
//! | `CONTROL` | see `CTL_*` (flags) | |

/// A DTMF tone pair.
pub const TONE: u8 = 0;
/// White noise.
pub const NOISE: u8 = 1;
/// Silence.
pub const SILENCE: u8 = 2;
/// An RFC 4733 telephone-event packet.
pub const EVENT: u8 = 3;
/// A raw RTP packet.
pub const RAW_RTP: u8 = 4;
/// A raw Opus payload in the next RTP packet.
pub const RAW_OPUS: u8 = 5;
/// The sender pauses.
pub const GAP: u8 = 6;
/// Settings and modes.
pub const CONTROL: u8 = 7;
/// CONTROL: packet time 10/20/40/60 ms (operand & 3).
pub const CTL_PTIME: u8 = 0;
/// CONTROL: arrival jitter, ms (operand mod 16).
pub const CTL_JITTER: u8 = 1;
/// CONTROL: enter secure mode (collecting a card number).
pub const CTL_SECURE: u8 = 2;
/// CONTROL: leave secure mode.
pub const CTL_INSECURE: u8 = 3;
/// CONTROL: send an earlier audio packet again (operand: which).
pub const CTL_REPLAY: u8 = 4;
/// CONTROL: a key signalled out of band, a SIP INFO (operands: key mod 16, duration in 4 ms
/// units, 0 for none). Read by the `masker_g711` target only.
pub const CTL_SIGNALLED: u8 = 5;

/// Writes a program.
#[derive(Debug, Clone, Default)]
pub struct Program(Vec<u8>);

impl Program {
    /// `bitrate`: 0..4 (12, 20, 32, 64 kbit/s); `band`: 0 fullband, 1 wideband, 2 narrowband.
    pub fn new(bitrate: u8, band: u8, seed: u8) -> Program {
        Program(vec![(bitrate & 3) | (band << 2), seed])
    }

    /// A program for the `masker_g711` target: A-law or µ-law, telephone-event negotiated or
    /// not.
    pub fn g711(a_law: bool, events: bool, seed: u8) -> Program {
        Program(vec![u8::from(a_law) | (u8::from(!events) << 1), seed])
    }

    pub fn bytes(self) -> Vec<u8> {
        self.0
    }

    fn op(mut self, op: u8, flags: u8, operands: &[u8]) -> Program {
        self.0.push(op | (flags << 3));
        self.0.extend_from_slice(operands);
        self
    }

    /// A tone pair for key `key` (`0`-`9`, `*`, `#`, `A`-`D`) at `-level` dBm0.
    pub fn tone(self, key: char, level: u8, ms: u8) -> Program {
        self.tone_with(key, level, 0, (0, 0), ms)
    }

    /// A tone pair with twist (dB, high tone relative to low) and frequency offsets (units of
    /// 0.04 %).
    pub fn tone_with(self, key: char, level: u8, twist: i8, offsets: (i8, i8), ms: u8) -> Program {
        let code = code(key);
        self.op(
            TONE,
            0,
            &[
                code,
                level,
                twist as u8,
                offsets.0 as u8,
                offsets.1 as u8,
                ms,
                0,
            ],
        )
    }

    /// A tone pair in noise of `-noise - 6` dBm0.
    pub fn noisy_tone(self, key: char, level: u8, ms: u8, noise: u8) -> Program {
        self.op(TONE, 1, &[code(key), level, 0, 0, 0, ms, 0, noise])
    }

    pub fn noise(self, ms: u8, level: u8) -> Program {
        self.op(NOISE, 0, &[ms, level])
    }

    pub fn silence(self, ms: u8) -> Program {
        self.op(SILENCE, 0, &[ms, 0])
    }

    /// A telephone event: `new_press` starts a key at the current position.
    pub fn event(
        self,
        key: char,
        new_press: bool,
        end: bool,
        duration: u16,
        clock_8k: bool,
    ) -> Program {
        let flags = u8::from(new_press) | (u8::from(clock_8k) << 1) | (u8::from(end) << 2);
        let d = duration.to_be_bytes();
        self.op(EVENT, flags, &[code(key), 10, d[0], d[1]])
    }

    /// A whole RFC 4733 key press: a start packet, updates every 20 ms, three end packets.
    pub fn event_press(mut self, key: char, ms: u16) -> Program {
        let units = |ms: u16| ms.saturating_mul(48);
        self = self.event(key, true, false, units(20), false);
        let mut at = 40;
        while at < ms {
            self = self.event(key, false, false, units(at), false).silence(20);
            at += 20;
        }
        for _ in 0..3 {
            self = self.event(key, false, true, units(ms), false);
        }
        self
    }

    /// A whole RFC 4733 key press on the 8 kHz clock (a phone leg's telephone-event).
    pub fn event_press_8k(mut self, key: char, ms: u16) -> Program {
        let units = |ms: u16| ms.saturating_mul(8);
        self = self.event(key, true, false, units(20), true);
        let mut at = 40;
        while at < ms {
            self = self.event(key, false, false, units(at), true).silence(20);
            at += 20;
        }
        for _ in 0..3 {
            self = self.event(key, false, true, units(ms), true);
        }
        self
    }

    /// A key signalled by SIP INFO, held `held_ms` (rounded to 4 ms; 0: no duration).
    pub fn signalled(self, key: char, held_ms: u16) -> Program {
        let units = u8::try_from(held_ms / 4).unwrap_or(u8::MAX);
        self.op(CONTROL, CTL_SIGNALLED, &[code(key), units])
    }

    pub fn raw_rtp(self, force_stream: bool, bytes: &[u8]) -> Program {
        let len = bytes.len().min(255);
        let mut operands = vec![len as u8];
        operands.extend_from_slice(&bytes[..len]);
        self.op(RAW_RTP, u8::from(force_stream), &operands)
    }

    /// Read as a raw G.711 payload by the `masker_g711` target.
    pub fn raw_opus(self, payload: &[u8]) -> Program {
        let len = payload.len().min(255);
        let mut operands = vec![len as u8];
        operands.extend_from_slice(&payload[..len]);
        self.op(RAW_OPUS, 0, &operands)
    }

    pub fn gap(self, ms: u8) -> Program {
        self.op(GAP, 0, &[ms])
    }

    /// Packet time 10, 20, 40 or 60 ms.
    pub fn ptime(self, ms: u8) -> Program {
        let code = match ms {
            10 => 0,
            40 => 2,
            60 => 3,
            _ => 1,
        };
        self.op(CONTROL, CTL_PTIME, &[code])
    }

    pub fn jitter(self, ms: u8) -> Program {
        self.op(CONTROL, CTL_JITTER, &[ms])
    }

    pub fn secure(self) -> Program {
        self.op(CONTROL, CTL_SECURE, &[])
    }

    pub fn insecure(self) -> Program {
        self.op(CONTROL, CTL_INSECURE, &[])
    }

    /// Sends audio packet `index` (counted from the first) again.
    pub fn replay(self, index: u8) -> Program {
        self.op(CONTROL, CTL_REPLAY, &[index])
    }

    /// `keys` as tone pairs of `ms`, each followed by `pause` ms of silence.
    pub fn keyed(mut self, keys: &str, level: u8, ms: u8, pause: u8) -> Program {
        for k in keys.chars() {
            self = self.tone(k, level, ms).silence(pause);
        }
        self
    }
}

fn code(key: char) -> u8 {
    hushpay_media::Digit::from_char(key).map_or(0, |d| d.event_code())
}

/// The audio a [`TONE`], [`NOISE`] or [`SILENCE`] step describes (its bytes read from `b`), at
/// `rate`; `None` for a tone whose code names no key (its bytes read all the same) or another op.
pub fn audio(
    op: u8,
    flags: u8,
    b: &mut crate::bytes::Bytes<'_>,
    rate: u32,
    rng: &mut hushpay_media::signal::Rng,
) -> Option<Vec<i16>> {
    use hushpay_media::Digit;
    use hushpay_media::signal::{TonePair, add_noise, append_silence};
    let mut pcm = Vec::new();
    match op {
        TONE => {
            let digit = Digit::from_event_code(b.u8() % 16);
            let level = -f32::from(b.u8() % 64);
            let twist = f32::from(b.i8() % 12);
            let (lo, hi) = (f32::from(b.i8()) * 4e-4, f32::from(b.i8()) * 4e-4);
            let ms = f32::from(b.u8()) + f32::from(b.u8() % 8) / 8.0;
            let noise = (flags & 1 == 1).then(|| -f32::from(b.u8() % 64) - 6.0);
            let pair = TonePair {
                digit: digit?,
                low_dbm0: level,
                high_dbm0: level + twist,
                low_offset: lo,
                high_offset: hi,
                ms,
            };
            pair.append(rate, &mut pcm);
            if let Some(dbm0) = noise {
                add_noise(&mut pcm, dbm0, rng);
            }
        }
        NOISE => {
            let ms = f32::from(b.u8());
            let dbm0 = -f32::from(b.u8() % 64) - 6.0;
            append_silence(ms, rate, &mut pcm);
            add_noise(&mut pcm, dbm0, rng);
        }
        SILENCE => {
            append_silence(
                f32::from(b.u8()) + f32::from(b.u8() % 8) / 8.0,
                rate,
                &mut pcm,
            );
        }
        _ => return None,
    }
    Some(pcm)
}
