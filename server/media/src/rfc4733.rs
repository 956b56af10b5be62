//! RFC 4733 telephone-event payload (section 2.3): event code, end bit, volume, duration.

use crate::MediaError;

/// Payload length of one telephone event.
pub const EVENT_LEN: usize = 4;

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0-15 are the DTMF keys; others are ignored by the key tracker).
    pub code: u8,
    /// End bit.
    pub end: bool,
    /// Volume: 0 to 63, meaning 0 to -63 dBm0.
    pub volume: u8,
    /// Duration since the event's RTP timestamp, in units of the event clock.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the payload. Exactly 4 bytes (or a multiple of 4, of which the first event is read,
    /// as some old senders pack several).
    pub fn parse(payload: &[u8]) -> Result<Self, MediaError> {
        if payload.len() < EVENT_LEN || !payload.len().is_multiple_of(EVENT_LEN) {
            return Err(MediaError::EventLength(payload.len()));
        }
        Ok(TelephoneEvent {
            code: payload[0],
            end: payload[1] & 0x80 != 0,
            volume: payload[1] & 0x3f,
            duration: u16::from_be_bytes([payload[2], payload[3]]),
        })
    }

    /// The 4 payload bytes (reserved bit zero, volume clamped to 63).
    pub fn build(&self) -> [u8; EVENT_LEN] {
        let d = self.duration.to_be_bytes();
        [
            self.code,
            (u8::from(self.end) << 7) | self.volume.min(63),
            d[0],
            d[1],
        ]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_rfc_example() {
        let e = TelephoneEvent::parse(&[5, 0x8a, 0x03, 0x20]).unwrap();
        assert_eq!(
            e,
            TelephoneEvent {
                code: 5,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(e.build(), [5, 0x8a, 0x03, 0x20]);
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(MediaError::EventLength(3))
        );
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3, 4, 5]),
            Err(MediaError::EventLength(5))
        );
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
            let _ = TelephoneEvent::parse(&bytes);
        }

        #[test]
        fn round_trips(code in any::<u8>(), end in any::<bool>(), volume in 0u8..64, duration in any::<u16>()) {
            let e = TelephoneEvent { code, end, volume, duration };
            prop_assert_eq!(TelephoneEvent::parse(&e.build()).unwrap(), e);
        }
    }
}
