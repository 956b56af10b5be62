//! str0m panics on an internal bug by design, and its docs ask the caller to catch the panic
//! and drop that `Rtc`. Every call into a peer's `Rtc` goes through [`guard`]: a panic costs
//! that one peer (the endpoint removes it and reports it gone), never the worker thread and
//! the other calls on it.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f`; `None` if it panicked (the peer it touched must be dropped: its state is not to
/// be trusted after an unwind, which is why unwind safety is asserted here).
pub(crate) fn guard<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_none_and_a_value_passes() {
        assert_eq!(guard(|| 7), Some(7));
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r: Option<()> = guard(|| panic!("an internal bug"));
        std::panic::set_hook(hook);
        assert_eq!(r, None);
    }
}
