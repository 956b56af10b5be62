#![no_main]
// The body and its invariants: server/fuzzing/src/sip.rs
libfuzzer_sys::fuzz_target!(|data: &[u8]| hushpay_fuzzing::sip::run(data));
