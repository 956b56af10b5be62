//! Keypad keys in SIP INFO bodies (RFC 6086 INFO; the bodies phones and trunks actually send):
//!
//! * `application/dtmf-relay` (Cisco and most PBXs): `Signal=5\r\nDuration=160\r\n`, where
//!   `Signal` is `0`-`9`, `*`, `#`, `A`-`D`, or `10` for `*` and `11` for `#` (some gateways);
//! * `application/dtmf`: the key alone, e.g. `5`.
//!
//! A key is one character, never more: a body cannot smuggle a card number through as one
//! "key". Nothing of the body is kept beyond the key and its duration.

/// Why an INFO body is not a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoError {
    /// Another content type (or none): answered `415`.
    NotDtmf,
    /// A DTMF content type whose body names no single key: answered `400`.
    BadKey,
}

/// Longest body read (a dtmf-relay body is a few dozen bytes).
const MAX_BODY: usize = 256;
/// Longest duration believed (ms): a key held longer is reported without one.
const MAX_DURATION_MS: u32 = 60_000;

/// The key and its duration (ms, when given) in an INFO with this content type and body.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<(char, Option<u32>), InfoError> {
    let ctype = content_type
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .ok_or(InfoError::NotDtmf)?;
    if body.len() > MAX_BODY {
        return Err(InfoError::BadKey);
    }
    let text = std::str::from_utf8(body).map_err(|_| InfoError::BadKey)?;
    match ctype.as_str() {
        "application/dtmf-relay" => relay(text),
        "application/dtmf" => key(text.trim()).map(|k| (k, None)),
        _ => Err(InfoError::NotDtmf),
    }
}

fn relay(text: &str) -> Result<(char, Option<u32>), InfoError> {
    let mut signal = None;
    let mut duration = None;
    for line in text.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "signal" if signal.is_none() => signal = Some(key(value)?),
            "signal" => return Err(InfoError::BadKey), // two keys in one INFO
            "duration" => {
                duration = value.parse::<u32>().ok().filter(|&d| d <= MAX_DURATION_MS);
            }
            _ => {}
        }
    }
    signal.map(|s| (s, duration)).ok_or(InfoError::BadKey)
}

fn key(value: &str) -> Result<char, InfoError> {
    match value {
        "10" => return Ok('*'),
        "11" => return Ok('#'),
        _ => {}
    }
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || matches!(c, '*' | '#') => Ok(c),
        (Some(c), None) if matches!(c.to_ascii_uppercase(), 'A'..='D') => {
            Ok(c.to_ascii_uppercase())
        }
        _ => Err(InfoError::BadKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_and_plain_bodies_give_one_key() {
        let relay = Some("application/dtmf-relay");
        assert_eq!(
            parse(relay, b"Signal=5\r\nDuration=160\r\n"),
            Ok(('5', Some(160)))
        );
        assert_eq!(
            parse(relay, b"signal= #\nduration=250"),
            Ok(('#', Some(250)))
        );
        assert_eq!(parse(relay, b"Signal=10\r\n"), Ok(('*', None)));
        assert_eq!(
            parse(relay, b"Signal=11\r\nDuration=x\r\n"),
            Ok(('#', None))
        );
        assert_eq!(parse(relay, b"Signal=d\r\n"), Ok(('D', None)));
        assert_eq!(
            parse(Some("Application/DTMF; charset=x"), b" 7 \r\n"),
            Ok(('7', None))
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let relay = Some("application/dtmf-relay");
        assert_eq!(parse(None, b"Signal=5"), Err(InfoError::NotDtmf));
        assert_eq!(
            parse(Some("application/sdp"), b"Signal=5"),
            Err(InfoError::NotDtmf)
        );
        // a card number is not a key
        assert_eq!(
            parse(relay, b"Signal=4111111111111111\r\n"),
            Err(InfoError::BadKey)
        );
        assert_eq!(
            parse(Some("application/dtmf"), b"41111111"),
            Err(InfoError::BadKey)
        );
        assert_eq!(
            parse(relay, b"Signal=4\r\nSignal=1\r\n"),
            Err(InfoError::BadKey)
        );
        assert_eq!(parse(relay, b"Duration=100\r\n"), Err(InfoError::BadKey));
        assert_eq!(parse(relay, b"Signal=E\r\n"), Err(InfoError::BadKey));
        assert_eq!(parse(relay, b"Signal=\xff\r\n"), Err(InfoError::BadKey));
        assert_eq!(parse(relay, &[b'x'; 300]), Err(InfoError::BadKey));
        assert_eq!(parse(Some("application/dtmf"), b""), Err(InfoError::BadKey));
    }
}
