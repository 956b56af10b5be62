#![no_main]
// The body and its invariants: server/fuzzing/src/webhook_url.rs
libfuzzer_sys::fuzz_target!(|data: &[u8]| hushpay_fuzzing::webhook_url::run(data));
