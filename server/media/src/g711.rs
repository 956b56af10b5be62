//! G.711 µ-law (PCMU) and A-law (PCMA): 8-bit companded samples to and from 16-bit linear PCM.
//!
//! Bit-exact with ITU-T G.711 as given by the reference implementation in ITU-T G.191's
//! software tool library (`ulaw_compress`/`alaw_compress` and their expanders; the decoders and
//! the A-law encoder equal the segment-search form of Sun's public-domain `g711.c`, whose µ-law
//! encoder differs by one for negative samples): encoding truncates the 16-bit input to
//! the 14-bit (µ-law) or 13-bit (A-law) range the standard defines, decoding returns the centre
//! of the quantisation interval scaled to 16 bits. No tables, no allocation except in the
//! buffer helpers; every function is total (no input panics).

const SIGN_BIT: u8 = 0x80;
const QUANT_MASK: u8 = 0x0F;
const SEG_SHIFT: u8 = 4;
const SEG_MASK: u8 = 0x70;

/// µ-law bias (0x84 = 132, in 16-bit units).
const ULAW_BIAS: i32 = 0x84;

const SEG_UEND: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const SEG_AEND: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

fn segment(value: i32, ends: &[i32; 8]) -> u8 {
    ends.iter().position(|&end| value <= end).unwrap_or(8) as u8
}

/// Encodes one 16-bit linear sample to µ-law (G.191 `ulaw_compress`: a negative sample's
/// magnitude is taken as its one's complement, so -1 is µ-law's negative zero).
pub fn linear_to_ulaw(pcm: i16) -> u8 {
    let x = i32::from(pcm);
    let magnitude = if x < 0 { (!x) >> 2 } else { x >> 2 };
    let v = (magnitude + (ULAW_BIAS >> 2)).min(0x1FFF);
    let seg = segment(v, &SEG_UEND).min(7);
    let u = (seg << 4) | (((v >> (seg + 1)) as u8) & QUANT_MASK);
    let mask = if x < 0 { 0x7F } else { 0xFF };
    u ^ mask
}

/// Decodes one µ-law byte to 16-bit linear.
pub fn ulaw_to_linear(code: u8) -> i16 {
    let u = !code;
    let mut t = (i32::from(u & QUANT_MASK) << 3) + ULAW_BIAS;
    t <<= (u & SEG_MASK) >> SEG_SHIFT;
    let v = if u & SIGN_BIT != 0 {
        ULAW_BIAS - t
    } else {
        t - ULAW_BIAS
    };
    // |v| <= 32124 by construction
    v as i16
}

/// Encodes one 16-bit linear sample to A-law.
pub fn linear_to_alaw(pcm: i16) -> u8 {
    let mut v = i32::from(pcm) >> 3;
    let mask = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    let seg = segment(v, &SEG_AEND);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let shift = if seg < 2 { 1 } else { seg };
    let a = (seg << SEG_SHIFT) | (((v >> shift) as u8) & QUANT_MASK);
    a ^ mask
}

/// Decodes one A-law byte to 16-bit linear.
pub fn alaw_to_linear(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = i32::from(a & QUANT_MASK) << 4;
    let seg = (a & SEG_MASK) >> SEG_SHIFT;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    // |t| <= 32256 by construction
    if a & SIGN_BIT != 0 {
        t as i16
    } else {
        -t as i16
    }
}

/// Which G.711 companding law a leg uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Law {
    /// µ-law (PCMU, static payload type 0).
    Mu,
    /// A-law (PCMA, static payload type 8).
    A,
}

impl Law {
    /// Decodes `payload`, appending 8 kHz linear PCM to `out`.
    pub fn decode(self, payload: &[u8], out: &mut Vec<i16>) {
        match self {
            Law::Mu => decode_ulaw(payload, out),
            Law::A => decode_alaw(payload, out),
        }
    }

    /// Encodes 8 kHz linear PCM, appending to `out`.
    pub fn encode(self, pcm: &[i16], out: &mut Vec<u8>) {
        match self {
            Law::Mu => encode_ulaw(pcm, out),
            Law::A => encode_alaw(pcm, out),
        }
    }

    /// The code of a silent sample (linear 0): µ-law `0xFF`, A-law `0xD5`.
    pub fn silence(self) -> u8 {
        match self {
            Law::Mu => 0xFF,
            Law::A => 0xD5,
        }
    }
}

/// Decodes a µ-law payload, appending to `out`.
pub fn decode_ulaw(payload: &[u8], out: &mut Vec<i16>) {
    out.extend(payload.iter().map(|&b| ulaw_to_linear(b)));
}

/// Decodes an A-law payload, appending to `out`.
pub fn decode_alaw(payload: &[u8], out: &mut Vec<i16>) {
    out.extend(payload.iter().map(|&b| alaw_to_linear(b)));
}

/// Encodes PCM to µ-law, appending to `out`.
pub fn encode_ulaw(pcm: &[i16], out: &mut Vec<u8>) {
    out.extend(pcm.iter().map(|&s| linear_to_ulaw(s)));
}

/// Encodes PCM to A-law, appending to `out`.
pub fn encode_alaw(pcm: &[i16], out: &mut Vec<u8>) {
    out.extend(pcm.iter().map(|&s| linear_to_alaw(s)));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first row (codes 0x00..=0x0F) of the decoding tables printed in G.711 implementations
    /// everywhere (e.g. the `ulaw2linear`/`alaw2linear` tables of SoX and Asterisk).
    #[test]
    fn decoding_matches_published_tables() {
        let ulaw: [i16; 16] = [
            -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956, -23932, -22908, -21884,
            -20860, -19836, -18812, -17788, -16764,
        ];
        let alaw: [i16; 16] = [
            -5504, -5248, -6016, -5760, -4480, -4224, -4992, -4736, -7552, -7296, -8064, -7808,
            -6528, -6272, -7040, -6784,
        ];
        for i in 0..16u8 {
            assert_eq!(ulaw_to_linear(i), ulaw[usize::from(i)], "ulaw {i:#x}");
            assert_eq!(alaw_to_linear(i), alaw[usize::from(i)], "alaw {i:#x}");
        }
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0xFE), 8);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
    }

    #[test]
    fn encoding_known_values() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(-1), 0x7F);
        assert_eq!(linear_to_ulaw(-4), 0x7F);
        assert_eq!(linear_to_ulaw(-5), 0x7E);
        assert_eq!(linear_to_ulaw(1000), 0xCE);
        assert_eq!(linear_to_alaw(1000), 0xFA);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    #[test]
    fn every_code_round_trips() {
        for c in 0..=255u8 {
            // 0x7F is µ-law's negative zero: it decodes to 0, which encodes as positive zero
            let want = if c == 0x7F { 0xFF } else { c };
            assert_eq!(linear_to_ulaw(ulaw_to_linear(c)), want, "ulaw {c:#x}");
            assert_eq!(linear_to_alaw(alaw_to_linear(c)), c, "alaw {c:#x}");
        }
    }

    /// Quantisation is monotonic in the input, and re-encoding a sample errs by at most about
    /// half a step, which G.711 keeps under an eighth of the magnitude (plus the smallest step).
    #[test]
    fn quantisation_is_monotonic_and_bounded() {
        let mut prev = (i16::MIN, i16::MIN);
        for x in i16::MIN..=i16::MAX {
            let u = ulaw_to_linear(linear_to_ulaw(x));
            let a = alaw_to_linear(linear_to_alaw(x));
            assert!(u >= prev.0 && a >= prev.1, "not monotonic at {x}");
            prev = (u, a);
            let bound = i32::from(x).abs() / 8 + 16;
            assert!(
                (i32::from(u) - i32::from(x)).abs() <= bound,
                "ulaw {x} -> {u}"
            );
            assert!(
                (i32::from(a) - i32::from(x)).abs() <= bound,
                "alaw {x} -> {a}"
            );
        }
    }

    #[test]
    fn silence_codes_decode_to_near_zero() {
        assert_eq!(ulaw_to_linear(Law::Mu.silence()), 0);
        assert_eq!(alaw_to_linear(Law::A.silence()).abs(), 8);
        assert_eq!(Law::Mu.silence(), linear_to_ulaw(0));
        assert_eq!(Law::A.silence(), linear_to_alaw(0));
    }

    #[test]
    fn buffers() {
        let pcm = [0i16, 1000, -1000, 32000, -32000];
        let (mut u, mut a) = (Vec::new(), Vec::new());
        encode_ulaw(&pcm, &mut u);
        encode_alaw(&pcm, &mut a);
        let (mut du, mut da) = (Vec::new(), Vec::new());
        decode_ulaw(&u, &mut du);
        decode_alaw(&a, &mut da);
        for i in 0..pcm.len() {
            assert!((i32::from(du[i]) - i32::from(pcm[i])).abs() < 1100);
            assert!((i32::from(da[i]) - i32::from(pcm[i])).abs() < 1100);
        }
    }
}
