//! The audio bandwidth an Opus packet was coded with, read from its TOC byte (RFC 6716
//! section 3.1), without decoding. The gateway counts it per patient packet so an operator (and
//! the browser test) can see that senders honour the `maxplaybackrate` Hushpay asks for.

/// Opus audio bandwidths (RFC 6716 table 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bandwidth {
    /// 4 kHz audio band (8 kHz sampling).
    Narrowband,
    /// 6 kHz (12 kHz sampling).
    Mediumband,
    /// 8 kHz (16 kHz sampling): what Hushpay asks browsers for.
    Wideband,
    /// 12 kHz (24 kHz sampling).
    SuperWideband,
    /// 20 kHz (48 kHz sampling).
    Fullband,
}

impl Bandwidth {
    /// Every bandwidth, narrowest first.
    pub const ALL: [Bandwidth; 5] = [
        Bandwidth::Narrowband,
        Bandwidth::Mediumband,
        Bandwidth::Wideband,
        Bandwidth::SuperWideband,
        Bandwidth::Fullband,
    ];

    /// A stable lower-case name (metric labels).
    pub fn as_str(self) -> &'static str {
        match self {
            Bandwidth::Narrowband => "narrowband",
            Bandwidth::Mediumband => "mediumband",
            Bandwidth::Wideband => "wideband",
            Bandwidth::SuperWideband => "superwideband",
            Bandwidth::Fullband => "fullband",
        }
    }

    /// Position in [`Bandwidth::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The bandwidth of an Opus packet, `None` for an empty payload (DTX or a lost frame).
pub fn bandwidth(payload: &[u8]) -> Option<Bandwidth> {
    let config = payload.first()? >> 3;
    Some(match config {
        // SILK-only.
        0..=3 => Bandwidth::Narrowband,
        4..=7 => Bandwidth::Mediumband,
        8..=11 => Bandwidth::Wideband,
        // Hybrid.
        12..=13 => Bandwidth::SuperWideband,
        14..=15 => Bandwidth::Fullband,
        // CELT-only.
        16..=19 => Bandwidth::Narrowband,
        20..=23 => Bandwidth::Wideband,
        24..=27 => Bandwidth::SuperWideband,
        _ => Bandwidth::Fullband,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::opus_codec::Encoder;

    #[test]
    fn reads_every_config() {
        let names: Vec<&str> = (0u8..32)
            .map(|c| bandwidth(&[c << 3]).unwrap().as_str())
            .collect();
        assert_eq!(&names[8..12], ["wideband"; 4]);
        assert_eq!(&names[14..16], ["fullband"; 2]);
        assert_eq!(names[31], "fullband");
        assert_eq!(bandwidth(&[]), None);
    }

    #[test]
    fn the_encoder_honours_max_playback_rate() {
        let pcm: Vec<i16> = (0..960)
            .map(|i| ((i as f64 * 0.07).sin() * 8000.0) as i16)
            .collect();
        for (rate, want) in [(16_000, Bandwidth::Wideband), (48_000, Bandwidth::Fullband)] {
            let mut enc = Encoder::new(48_000, 32_000).unwrap();
            enc.set_max_playback_rate(rate).unwrap();
            let last = (0..25).map(|_| enc.encode(&pcm).unwrap()).last().unwrap();
            assert_eq!(bandwidth(&last), Some(want), "maxplaybackrate {rate}");
        }
    }
}
