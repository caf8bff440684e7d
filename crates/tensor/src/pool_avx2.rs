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

/// Pools the windows of one output row, eight at a time (the last few through masked
/// loads), and returns how many it wrote: all of them, or 0 without AVX2 and FMA (as
/// `simd::has_avx2_fma` detects them). `r0` and `r1` are the row's two input rows from
/// its first window on, `top` is the flat index of `r0[0]` in its plane and `w` the
/// plane's width, so window `ox`'s taps are `top + 2*ox + {0, 1, w, w + 1}`.
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
    let windows = values.len().min(indices.len()).min(r0.len() / 2).min(r1.len() / 2);
    let blocks = windows / 8;
    let pool = Pool::new(w);
    for b in 0..blocks {
        // SAFETY (loads and stores): `windows` keeps 16 inputs of each row and 8 outputs
        // of each output slice in bounds for every whole block.
        let [upper, lower] =
            [r0, r1].map(|r| [_mm256_loadu_ps(r.as_ptr().add(16 * b)), _mm256_loadu_ps(r.as_ptr().add(16 * b + 8))]);
        let (value, at) = pool.block(upper, lower, top + 16 * b);
        _mm256_storeu_ps(values.as_mut_ptr().add(8 * b), value);
        _mm256_storeu_si256(indices.as_mut_ptr().add(8 * b).cast(), at[0]);
        _mm256_storeu_si256(indices.as_mut_ptr().add(8 * b + 4).cast(), at[1]);
    }
    let rest = windows - 8 * blocks;
    if rest > 0 {
        // The last windows' 2 * rest inputs of each row, the lanes after them masked off
        // (read as zeros, never touched in memory); their results go through the stack,
        // since masked stores were slow.
        let first = 16 * blocks;
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let mask = |from: i32| _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * rest as i32 - from), lane);
        let (low, high) = (mask(0), mask(8));
        // SAFETY: the masks let through only the `2 * rest` inputs left in each row.
        let [upper, lower] = [r0, r1].map(|r| unsafe {
            let at = r.as_ptr().add(first);
            // (Wrapping: with 4 windows or fewer left, `at + 8` lies past the row, and
            // the all-clear mask reads nothing there.)
            [_mm256_maskload_ps(at, low), _mm256_maskload_ps(at.wrapping_add(8), high)]
        });
        let (value, at) = pool.block(upper, lower, top + first);
        let (mut v, mut i) = ([0.0f32; 8], [0i64; 8]);
        _mm256_storeu_ps(v.as_mut_ptr(), value);
        _mm256_storeu_si256(i.as_mut_ptr().cast(), at[0]);
        _mm256_storeu_si256(i.as_mut_ptr().add(4).cast(), at[1]);
        values[8 * blocks..windows].copy_from_slice(&v[..rest]);
        indices[8 * blocks..windows].copy_from_slice(&i[..rest]);
    }
    windows
}

/// The constants of one plane's 2x2 pooling.
#[cfg(target_arch = "x86_64")]
struct Pool {
    one: __m256i,
    /// The plane's width in every lane: the offset of a window's lower row.
    below: __m256i,
    /// Each lane's window starts two input columns after the previous one.
    lane_offsets: __m256i,
}

#[cfg(target_arch = "x86_64")]
impl Pool {
    #[target_feature(enable = "avx2")]
    fn new(w: usize) -> Pool {
        Pool {
            one: _mm256_set1_epi32(1),
            below: _mm256_set1_epi32(w as i32),
            lane_offsets: _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14),
        }
    }

    /// Eight windows from their upper and lower rows' sixteen inputs each (the corner of
    /// the first window at flat index `corner`): the maxima and, in two halves, their
    /// flat indices.
    #[target_feature(enable = "avx2")]
    fn block(&self, upper: [__m256; 2], lower: [__m256; 2], corner: usize) -> (__m256, [__m256i; 2]) {
        let (a0, a1) = deinterleave(upper);
        let (b0, b1) = deinterleave(lower);
        let (take_a1, take_b1) = (beats(a1, a0), beats(b1, b0));
        let upper = _mm256_blendv_ps(a0, a1, take_a1);
        let lower = _mm256_blendv_ps(b0, b1, take_b1);
        let take_lower = beats(lower, upper);
        // The winner's offset in its window: 0 or 1 in the upper row, w or w + 1 below.
        let upper_at = _mm256_and_si256(_mm256_castps_si256(take_a1), self.one);
        let lower_at = _mm256_add_epi32(self.below, _mm256_and_si256(_mm256_castps_si256(take_b1), self.one));
        let at = _mm256_blendv_epi8(upper_at, lower_at, _mm256_castps_si256(take_lower));
        let at = _mm256_add_epi32(at, self.lane_offsets);
        let corner = _mm256_set1_epi64x(corner as i64);
        let first = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(at)), corner);
        let last = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(at)), corner);
        (_mm256_blendv_ps(upper, lower, take_lower), [first, last])
    }
}

/// Sixteen consecutive floats split into the even and the odd ones, in order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn deinterleave([lo, hi]: [__m256; 2]) -> (__m256, __m256) {
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
fn beats(v: __m256, best: __m256) -> __m256 {
    _mm256_or_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(v, best), _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v))
}
