#![no_main]
// The body and its invariants: server/fuzzing/src/sealed_card.rs
libfuzzer_sys::fuzz_target!(|data: &[u8]| hushpay_fuzzing::sealed_card::run(data));
