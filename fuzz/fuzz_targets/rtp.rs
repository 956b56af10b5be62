#![no_main]
// The body and its invariants: server/fuzzing/src/rtp.rs
libfuzzer_sys::fuzz_target!(|data: &[u8]| hushpay_fuzzing::rtp::run(data));
