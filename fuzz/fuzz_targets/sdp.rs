#![no_main]
// The body and its invariants: server/fuzzing/src/sdp.rs
libfuzzer_sys::fuzz_target!(|data: &[u8]| hushpay_fuzzing::sdp::run(data));
