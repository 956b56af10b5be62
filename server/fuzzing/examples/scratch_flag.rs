use hushpay_media::Digit;
use hushpay_media::detector::detect_all;
use hushpay_media::flagger::{Flagger, to_f32};
use hushpay_media::opus_codec::{Decoder8k, Encoder};
use hushpay_media::signal::TonePair;
fn main() {
    for (level, twist, lo) in [
        (0.0f32, 2.0f32, 60i8),
        (0.0, 0.0, 60),
        (-6.0, 2.0, 60),
        (0.0, 2.0, 0),
        (-10.0, 0.0, 60),
    ] {
        let mut pcm = Vec::new();
        TonePair {
            digit: Digit::from_char('A').unwrap(),
            low_dbm0: level,
            high_dbm0: level + twist,
            low_offset: f32::from(lo) * 4e-4,
            high_offset: 0.0,
            ms: 256.0,
        }
        .append(48_000, &mut pcm);
        let mut enc = Encoder::new(48_000, 20_000).unwrap();
        enc.set_max_playback_rate(16_000).unwrap();
        let mut dec = Decoder8k::new().unwrap();
        let f = Flagger::default();
        let mut flags = String::new();
        let mut all = Vec::new();
        for c in pcm.chunks_exact(960) {
            let p = enc.encode(c).unwrap();
            let out = dec.decode(&p).unwrap().to_vec();
            flags.push(if f.flag(&to_f32(&out)) { 'F' } else { '.' });
            all.extend(out);
        }
        let d: String = detect_all(&all).iter().map(|d| d.digit.as_char()).collect();
        println!("level {level} twist {twist} off {lo}: flags {flags} strict '{d}'");
    }
}
