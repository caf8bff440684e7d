//! The f32 row kernel of 2x2, stride-2 max-pooling with AVX2: eight windows per step.
//!
//! It plays the same tournament as the scalar kernel in `pool.rs` (the better of each
//! input row's pair, then the better of the two, where NaN beats everything and ties
//! keep the earlier tap), so it picks the same values and the same arg-max indices. The
//! scalar version cannot be vectorised by the compiler: it loads each winner back by its
//! offset, because float selects compiled to jumps there.

#[cfg(target_arch = "x86_64")]
use crate::simd::has_avx2_fma;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Pools the first windows of one output row, eight at a time, and returns how many it
/// wrote (a multiple of 8; 0 without AVX2 and FMA, as `simd::has_avx2_fma` detects
/// them). `r0` and `r1` are the row's two input rows from its first window on, `top` is
/// the flat index of `r0[0]` in its plane and `w` the plane's width, so window `ox`'s
/// taps are `top + 2*ox + {0, 1, w, w + 1}`.
pub(crate) fn max_row_2x2(
    r0: &[f32],
    r1: &[f32],
    w: usize,
    top: usize,
    values: &mut [f32],
    indices: &mut [i64],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() && w < (i32::MAX as usize) - 16 {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { row(r0, r1, w, top, values, indices) };
    }
    let _ = (r0, r1, w, top, values, indices);
    0
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn row(r0: &[f32], r1: &[f32], w: usize, top: usize, values: &mut [f32], indices: &mut [i64]) -> usize {
    let blocks = values.len().min(indices.len()).min(r0.len() / 16 * 8).min(r1.len() / 16 * 8) / 8;
    let one = _mm256_set1_epi32(1);
    let below = _mm256_set1_epi32(w as i32);
    // Each lane's window starts two input columns after the previous one.
    let lane_offsets = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    for b in 0..blocks {
        // SAFETY (loads and stores): `blocks` keeps 16 inputs of each row and 8 outputs
        // of each output slice in bounds for every block.
        let (a0, a1) = deinterleave(r0.as_ptr().add(16 * b));
        let (b0, b1) = deinterleave(r1.as_ptr().add(16 * b));
        let (take_a1, take_b1) = (beats(a1, a0), beats(b1, b0));
        let upper = _mm256_blendv_ps(a0, a1, take_a1);
        let lower = _mm256_blendv_ps(b0, b1, take_b1);
        let take_lower = beats(lower, upper);
        _mm256_storeu_ps(values.as_mut_ptr().add(8 * b), _mm256_blendv_ps(upper, lower, take_lower));
        // The winner's offset in its window: 0 or 1 in the upper row, w or w + 1 below.
        let upper_at = _mm256_and_si256(_mm256_castps_si256(take_a1), one);
        let lower_at = _mm256_add_epi32(below, _mm256_and_si256(_mm256_castps_si256(take_b1), one));
        let at = _mm256_blendv_epi8(upper_at, lower_at, _mm256_castps_si256(take_lower));
        let at = _mm256_add_epi32(at, lane_offsets);
        let corner = _mm256_set1_epi64x((top + 16 * b) as i64);
        let first = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(at)), corner);
        let last = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(at)), corner);
        let out = indices.as_mut_ptr().add(8 * b).cast::<__m256i>();
        _mm256_storeu_si256(out, first);
        _mm256_storeu_si256(out.add(1), last);
    }
    8 * blocks
}

/// Sixteen consecutive floats at `p` split into the even and the odd ones, in order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn deinterleave(p: *const f32) -> (__m256, __m256) {
    let (lo, hi) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
    // Per 128-bit half: [lo0 lo2 hi0 hi2] and [lo1 lo3 hi1 hi3], i.e. the pairs come out
    // as (0 2) (8 10) (4 6) (12 14); swapping the middle two 64-bit pairs restores order.
    let even = _mm256_shuffle_ps::<0b10_00_10_00>(lo, hi);
    let odd = _mm256_shuffle_ps::<0b11_01_11_01>(lo, hi);
    let order = |v: __m256| _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)));
    (order(even), order(odd))
}

/// Lanes where `v` beats `best`: greater, or NaN (as `pool::beats`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn beats(v: __m256, best: __m256) -> __m256 {
    _mm256_or_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(v, best), _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v))
}
