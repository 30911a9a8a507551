//! A cache prefetch hint, for lookups into tables larger than the L2 cache: start the load
//! early, do other work, then read.

/// Asks the CPU to start loading the cache line holding `value`. A hint only: it never
/// faults and does nothing on targets without one.
#[inline]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: prefetching is a hint; any address is allowed and this one is valid.
        #[allow(unused_unsafe)]
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast::<i8>());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
