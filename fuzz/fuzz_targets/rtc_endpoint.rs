#![no_main]
// The body and its invariants: server/fuzzing/src/rtc_endpoint.rs
libfuzzer_sys::fuzz_target!(|data: &[u8]| hushpay_fuzzing::rtc_endpoint::run(data));
