//! Compiling hot loops for AVX2 when the CPU has it, without requiring it: the default
//! x86-64 target only assumes SSE2, so a loop the compiler vectorises runs 4 lanes wide.
//! Enabling FMA does not fuse `a * b + c` (Rust never contracts float operations), so a
//! loop gives the same bits in both variants.

/// True when the CPU has AVX2 and FMA (detected once, then cached by std).
#[inline(always)]
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `f`, compiled with AVX2 and FMA enabled if the CPU has them. `f` and what it
/// calls must be inlined into the AVX2 variant to be compiled for it, so mark the
/// closure `#[inline(always)]`, and likewise a closure made outside that it calls: both
/// variants call them, and the compiler kept large ones out of line, compiled for SSE2
/// only (the Winograd transforms ran at half width that way).
///
/// ```
/// let xs = [1.0f32, 2.0, 3.0];
/// let sum = nabla_tensor::simd::with_simd(#[inline(always)] || xs.iter().map(|x| x * x).sum::<f32>());
/// assert_eq!(sum, 14.0);
/// ```
#[inline(always)]
pub fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { avx2(f) };
    }
    f()
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
