#![no_main]
// The body and its invariants: server/fuzzing/src/masker_g711.rs
libfuzzer_sys::fuzz_target!(|data: &[u8]| hushpay_fuzzing::masker_g711::run(data));
