//! RFC 4571 framing of ICE-TCP: each datagram on the stream is preceded by its length (16
//! bits, big-endian). A reader keeps what it has not framed yet, bounded.

/// The largest frame a stream may carry (the 16-bit length's range).
pub const MAX_FRAME: usize = u16::MAX as usize;

/// Collects stream bytes and yields whole frames.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
    /// Where the next unread frame starts.
    at: usize,
}

impl FrameReader {
    /// The buffer to read into (after [`FrameReader::filled`] says how much was read).
    pub fn spare(&mut self, want: usize) -> &mut [u8] {
        if self.at > 0 {
            self.buf.drain(..self.at);
            self.at = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + want, 0);
        &mut self.buf[len..]
    }

    /// `n` bytes of the last [`FrameReader::spare`] were filled; the rest is dropped.
    pub fn filled(&mut self, want: usize, n: usize) {
        let len = self.buf.len();
        self.buf.truncate(len - want + n.min(want));
    }

    /// The next whole frame, if one has arrived.
    pub fn next_frame(&mut self) -> Option<&[u8]> {
        let rest = &self.buf[self.at..];
        let head = rest.get(..2)?;
        let len = usize::from(u16::from_be_bytes([head[0], head[1]]));
        rest.get(2..2 + len)?;
        let start = self.at + 2;
        self.at = start + len;
        Some(&self.buf[start..start + len])
    }
}

/// `datagram` framed for the stream, or `None` when it is too long to frame.
pub fn frame(datagram: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(datagram.len()).ok()?;
    let mut out = Vec::with_capacity(2 + datagram.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(datagram);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(r: &mut FrameReader, bytes: &[u8]) {
        let dst = r.spare(bytes.len());
        dst.copy_from_slice(bytes);
        r.filled(bytes.len(), bytes.len());
    }

    #[test]
    fn frames_survive_any_split_of_the_stream() {
        let frames: Vec<Vec<u8>> = vec![vec![1, 2, 3], vec![], vec![9; 300], vec![7]];
        let stream: Vec<u8> = frames
            .iter()
            .flat_map(|f| frame(f).unwrap_or_default())
            .collect();
        for chunk in [1, 2, 3, 5, 64, 1000] {
            let mut r = FrameReader::default();
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                feed(&mut r, piece);
                while let Some(f) = r.next_frame() {
                    got.push(f.to_vec());
                }
            }
            assert_eq!(got, frames, "chunks of {chunk}");
        }
    }

    #[test]
    fn a_short_read_keeps_only_what_was_read() {
        let mut r = FrameReader::default();
        let dst = r.spare(100);
        dst[..3].copy_from_slice(&[0, 1, 42]);
        r.filled(100, 3);
        assert_eq!(r.next_frame(), Some(&[42u8][..]));
        assert_eq!(r.next_frame(), None);
        assert!(frame(&vec![0; MAX_FRAME + 1]).is_none());
        assert!(frame(&vec![0; MAX_FRAME]).is_some());
    }
}
