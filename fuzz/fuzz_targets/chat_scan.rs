#![no_main]
// The body and its invariants: server/fuzzing/src/chat_scan.rs
libfuzzer_sys::fuzz_target!(|data: &[u8]| hushpay_fuzzing::chat_scan::run(data));
