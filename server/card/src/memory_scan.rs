//! A tracer scanner for memory images (a process's heap, a core file): besides the textual forms
//! of [`crate::leak_scan`], a program keeps digits as elements of an array or of a vector of
//! structs, one digit per element. This finds a tracer laid out that way: each digit as an
//! ASCII byte (`u8`) or as a little-endian `char` (`u32`), at any constant stride up to
//! `max_stride` bytes (`Vec<char>` has stride 4; `Vec<struct { digit: char, at: Instant, .. }>`
//! the struct's size).
//!
//! Like the leak scanner it handles no card data of its own and its hits carry the tracer's
//! label, never its value.

use crate::leak_scan::{Form, Hit, Tracers};

/// Element widths searched: ASCII bytes and 4-byte chars.
const WIDTHS: [usize; 2] = [1, 4];

/// Every place in `bytes` where a tracer's digits sit one per element, at a constant stride of
/// `width..=max_stride` bytes (stride 1 is the plain ASCII string, stride 4 with width 4 a
/// `Vec<char>`).
pub fn scan_strided(tracers: &Tracers, bytes: &[u8], max_stride: usize) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (label, digits) in tracers.entries() {
        let Some(&first) = digits.first() else {
            continue;
        };
        for (offset, _) in bytes.iter().enumerate().filter(|&(_, &b)| b == first) {
            for width in WIDTHS {
                for stride in width..=max_stride {
                    if laid_out(bytes, offset, digits, width, stride) {
                        hits.push(Hit {
                            tracer: Some(label.to_owned()),
                            form: Form::Strided {
                                width: width as u8,
                                stride: u8::try_from(stride).unwrap_or(u8::MAX),
                            },
                            offset,
                        });
                    }
                }
            }
        }
    }
    hits
}

/// True if `digits` start at `offset`, one per `stride` bytes, each `width` bytes wide
/// (the ASCII byte, then zero bytes).
fn laid_out(bytes: &[u8], offset: usize, digits: &[u8], width: usize, stride: usize) -> bool {
    digits.iter().enumerate().all(|(i, &d)| {
        let at = offset + i * stride;
        bytes.get(at) == Some(&d)
            && bytes
                .get(at + 1..at + width)
                .is_some_and(|rest| rest.iter().all(|&b| b == 0))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tracers() -> Tracers {
        let mut t = Tracers::new();
        t.add("pan", "4929123456781236").unwrap();
        t
    }

    /// Lays `digits` out as `[u8; stride]` elements (the digit at `width` bytes, then noise).
    fn image(digits: &str, width: usize, stride: usize) -> Vec<u8> {
        let mut out = vec![0x5a; 37];
        for d in digits.bytes() {
            let mut el = vec![0xa5u8; stride];
            el[0] = d;
            el[1..width].fill(0);
            out.extend(el);
        }
        out.extend([0x5a; 11]);
        out
    }

    #[test]
    fn finds_a_vec_of_structs_holding_chars() {
        let hits = scan_strided(&tracers(), &image("4929123456781236", 4, 24), 64);
        assert!(
            hits.iter().any(|h| h.form
                == Form::Strided {
                    width: 4,
                    stride: 24
                }
                && h.offset == 37),
            "{hits:?}"
        );
    }

    #[test]
    fn finds_ascii_bytes_at_a_stride() {
        let hits = scan_strided(&tracers(), &image("4929123456781236", 1, 40), 64);
        assert!(hits.iter().any(|h| h.form
            == Form::Strided {
                width: 1,
                stride: 40
            }));
    }

    #[test]
    fn finds_the_plain_string() {
        let mut bytes = b"xx4929123456781236yy".to_vec();
        let hits = scan_strided(&tracers(), &bytes, 64);
        assert!(hits.iter().any(|h| h.form
            == Form::Strided {
                width: 1,
                stride: 1
            }
            && h.offset == 2));
        bytes[5] = b'0';
        assert!(scan_strided(&tracers(), &bytes, 64).is_empty());
    }

    #[test]
    fn a_partial_number_or_a_longer_stride_is_not_a_hit() {
        assert!(scan_strided(&tracers(), &image("49291234567812", 4, 24), 64).is_empty());
        assert!(scan_strided(&tracers(), &image("4929123456781236", 4, 80), 64).is_empty());
        assert!(scan_strided(&tracers(), &[], 64).is_empty());
    }
}
