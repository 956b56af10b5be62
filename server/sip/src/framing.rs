//! Cutting a TCP byte stream into SIP messages (RFC 3261 §18.3): a head ends at the first empty
//! line, the body is `Content-Length` bytes (mandatory over TCP). Leading CRLFs are keep-alives
//! and skipped. A head larger than the message limit, or a missing or bad `Content-Length`,
//! poisons the stream: the connection must be closed.

use crate::SipError;

/// Accumulates bytes of one TCP connection.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
}

impl Framer {
    pub fn new() -> Self {
        Framer::default()
    }

    /// Appends what the socket read.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, `Ok(None)` when more bytes are needed, or an error after which
    /// the connection should be closed.
    pub fn next_message(&mut self, max_bytes: usize) -> Result<Option<Vec<u8>>, SipError> {
        let skip = self
            .buf
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        self.buf.drain(..skip);
        let Some(head_end) = find(&self.buf, b"\r\n\r\n").map(|i| i + 4) else {
            if self.buf.len() > max_bytes {
                return Err(SipError::TooLarge(self.buf.len()));
            }
            return Ok(None);
        };
        let len = content_length(&self.buf[..head_end])?;
        let total = head_end
            .checked_add(len)
            .ok_or(SipError::TooLarge(usize::MAX))?;
        if total > max_bytes {
            return Err(SipError::TooLarge(total));
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let msg: Vec<u8> = self.buf.drain(..total).collect();
        Ok(Some(msg))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> Result<usize, SipError> {
    let head = std::str::from_utf8(head).map_err(|_| SipError::NotUtf8)?;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
            return value
                .trim()
                .parse::<usize>()
                .map_err(|_| SipError::BadHeader("Content-Length"));
        }
    }
    Err(SipError::MissingHeader("Content-Length"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cuts_messages_split_anywhere() {
        let a = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\nabc";
        let b = b"BYE sip:a@b SIP/2.0\r\nl: 0\r\n\r\n";
        let mut stream = b"\r\n\r\n".to_vec();
        stream.extend_from_slice(a);
        stream.extend_from_slice(b);
        for split in 0..stream.len() {
            let mut f = Framer::new();
            let mut got = Vec::new();
            for chunk in [&stream[..split], &stream[split..]] {
                f.push(chunk);
                while let Some(m) = f.next_message(4096).unwrap() {
                    got.push(m);
                }
            }
            assert_eq!(got, vec![a.to_vec(), b.to_vec()], "split at {split}");
        }
    }

    #[test]
    fn hostile_streams_are_errors() {
        let mut f = Framer::new();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\n\r\n");
        assert_eq!(
            f.next_message(4096),
            Err(SipError::MissingHeader("Content-Length"))
        );
        let mut f = Framer::new();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999999\r\n\r\n");
        assert!(f.next_message(4096).is_err());
        let mut f = Framer::new();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n");
        assert_eq!(f.next_message(4096), Err(SipError::TooLarge(5000 + 49)));
        let mut f = Framer::new();
        f.push(&vec![b'x'; 5000]);
        assert!(f.next_message(4096).is_err());
    }
}
