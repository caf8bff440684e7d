//! Direct f32 convolution with AVX2 for layers with few input channels, as an image
//! network's first layer: stride 1, no padding, dilation or groups.
//!
//! With one input channel and a 3x3 kernel, im2col's product is `[C_out, 9] x [9,
//! oH*oW]`: a reduction of 9 over a column matrix that first has to be written (nine
//! copies of the image), then the output filled with the bias and added to. Here the
//! sums stay in registers instead. The forward pass makes two vectors of eight outputs
//! of [`CHANNELS`] channels at a time, loading the input once per tap for all of them.
//! The weight gradient sums `output gradient x input` in eight lanes over a whole
//! image, for [`SUM_CHANNELS`] channels and [`SUM_TAPS`] taps at a time. The input
//! gradient, which a first layer does not need, is left to im2col.
//!
//! On the MNIST CNN's first layer (`[32, 1, 28, 28]` by `[32, 1, 3, 3]`, min of 200):
//! forward 186 -> 191 us on 1 thread and 166-174 -> 97 us on 2 (im2col's writes did
//! not scale); weight and bias gradients 271 -> 206 us and 138 -> 109 us.
//!
//! Each image's weight and bias gradients are summed on their own and then added in
//! image order, so the results do not depend on the thread count.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::{each_part, Geometry};
use crate::dtype::{as_f32, as_f32_mut, Element, FloatElement};
use crate::matmul::OutPtr;

/// Most kernel taps (`C_in * kH * kW`) taken: an RGB image under a 3x3 kernel. The
/// weight gradient goes [`SUM_TAPS`] taps at a time.
const MAX_TAPS: usize = 27;

/// Output channels and taps whose weight-gradient sums are held in registers together:
/// nine sums, three output-gradient vectors and the input fill 13 of AVX2's 16
/// registers, and each input vector loaded serves three multiply-adds.
const SUM_CHANNELS: usize = 3;
const SUM_TAPS: usize = 3;

/// Output channels made together in the forward pass, sharing each input load.
const CHANNELS: usize = 4;

/// Output positions per vector.
const LANES: usize = 8;

/// Vectors of one output row made together in the forward pass.
const STEP: usize = 2;

/// A convolution on this path, with its kernel taps' offsets in an input image.
pub(super) struct Plan<'a> {
    geo: &'a Geometry,
    offsets: [usize; MAX_TAPS],
}

impl<'a> Plan<'a> {
    /// The plan for an f32 convolution this path takes, on a CPU with AVX2 and FMA.
    pub(super) fn new<T: Element>(geo: &'a Geometry) -> Option<Self> {
        let s = &geo.spec;
        let fits = s.stride == [1, 1]
            && s.dilation == [1, 1]
            && s.groups == 1
            && s.padding == [[0, 0], [0, 0]]
            && (1..=MAX_TAPS).contains(&(geo.c_in * geo.kh * geo.kw))
            && geo.ow >= LANES
            && geo.oh > 0
            && crate::simd::has_avx2_fma();
        if !fits || as_f32::<T>(&[]).is_none() {
            return None;
        }
        let mut offsets = [0; MAX_TAPS];
        let taps = (0..geo.c_in).flat_map(|c| (0..geo.kh).flat_map(move |i| (0..geo.kw).map(move |j| (c, i, j))));
        for (offset, (c, i, j)) in offsets.iter_mut().zip(taps) {
            *offset = (c * geo.h + i) * geo.w + j;
        }
        Some(Plan { geo, offsets })
    }

    fn taps(&self) -> usize {
        self.geo.c_in * self.geo.kh * self.geo.kw
    }

    /// `f(image)` for every image, on the pool too when the layer is big enough (the
    /// rule of im2col's parts, one image per part).
    fn each_image(&self, f: impl Fn(usize) + Sync) {
        each_part(self.geo, vec![(); self.geo.n], |image, ()| f(image));
    }

    /// The output `[N, C_out, oH, oW]`.
    pub(super) fn forward<T: Element>(&self, x: &[T], w: &[T], bias: Option<&[T]>) -> Vec<T> {
        let geo = self.geo;
        let (x, w) = (as_f32(x).expect("f32 (Plan::new)"), as_f32(w).expect("f32 (Plan::new)"));
        let bias = bias.map(|b| as_f32(b).expect("f32 (Plan::new)"));
        let (plane, image_in) = (geo.oh * geo.ow, geo.c_in * geo.h * geo.w);
        let len = geo.n * geo.c_out * plane;
        let mut out = Vec::<T>::with_capacity(len);
        let dst = OutPtr(out.as_mut_ptr().cast::<f32>());
        self.each_image(|i| {
            for o in (0..geo.c_out).step_by(CHANNELS) {
                let out = OutPtr(dst.get().wrapping_add((i * geo.c_out + o) * plane));
                let (x, w) = (&x[i * image_in..][..image_in], &w[o * self.taps()..]);
                let bias = |j| bias.map_or(0.0, |b| b[o + j]);
                // SAFETY: the CPU has AVX2 and FMA (`Plan::new`); channels o.. of image i
                // are inside the output and written by this image's task alone.
                unsafe {
                    match geo.c_out - o {
                        1 => self.output_channels::<1>(x, w, [bias(0)], out),
                        2 => self.output_channels::<2>(x, w, [bias(0), bias(1)], out),
                        3 => self.output_channels::<3>(x, w, [bias(0), bias(1), bias(2)], out),
                        _ => self.output_channels::<4>(x, w, [bias(0), bias(1), bias(2), bias(3)], out),
                    }
                }
            }
        });
        // SAFETY: every image's task wrote every output of all its channels.
        unsafe { out.set_len(len) };
        out
    }

    /// `C` output channels of one image, `x` being the image and `w` the channels'
    /// kernels, into the planes from `out` on. Each row goes [`STEP`] vectors of eight
    /// outputs at a time (`2 * C` independent sums, enough to hide the multiply-adds'
    /// latency); a vector that would pass the row's end ends at it instead, and may
    /// overlap the ones before, which it then writes again with the same values.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; `out` must be valid for writes of `C` output
    /// planes, which nothing else accesses meanwhile.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn output_channels<const C: usize>(&self, x: &[f32], w: &[f32], bias: [f32; C], out: OutPtr<f32>) {
        let Geometry { w: width, oh, ow, .. } = *self.geo;
        let (taps, offsets) = (self.taps(), &self.offsets[..self.taps()]);
        assert!(w.len() >= C * taps, "direct conv: {C} kernels of {taps} taps in {} weights", w.len());
        // Every load below reads inside `x`: tap offsets reach at most `(kh - 1) * width
        // + kw - 1` (plus a whole channel per input channel) past `y * width + x0`, and
        // the last vector of the last row ends at the image's end.
        assert!(x.len() >= offsets[taps - 1] + (oh - 1) * width + ow, "direct conv: image too short");
        for y in 0..oh {
            for first in (0..ow).step_by(STEP * LANES) {
                let mut starts = [0; STEP];
                for (s, start) in starts.iter_mut().enumerate() {
                    *start = (first + s * LANES).min(ow - LANES);
                }
                let mut sums = [[_mm256_setzero_ps(); STEP]; C];
                for (sums, &b) in sums.iter_mut().zip(&bias) {
                    *sums = [_mm256_set1_ps(b); STEP];
                }
                let row = x.as_ptr().add(y * width);
                for (t, &offset) in offsets.iter().enumerate() {
                    let mut v = [_mm256_setzero_ps(); STEP];
                    for (v, &start) in v.iter_mut().zip(&starts) {
                        // SAFETY: inside `x`, as asserted above.
                        *v = unsafe { _mm256_loadu_ps(row.add(start + offset)) };
                    }
                    for (j, sums) in sums.iter_mut().enumerate() {
                        let weight = _mm256_set1_ps(w[j * taps + t]);
                        for (sum, &v) in sums.iter_mut().zip(&v) {
                            *sum = _mm256_fmadd_ps(weight, v, *sum);
                        }
                    }
                }
                for (j, sums) in sums.iter().enumerate() {
                    for (&sum, &start) in sums.iter().zip(&starts) {
                        // SAFETY: outputs start..start + 8 of row y of plane j, as the
                        // caller promises.
                        unsafe { _mm256_storeu_ps(out.get().add(j * oh * ow + y * ow + start), sum) };
                    }
                }
            }
        }
    }

    /// The weight `[C_out, C_in, kH, kW]` and bias gradients from the output gradient
    /// `gy`, each when asked for.
    pub(super) fn weight_grad<T: FloatElement>(&self, x: &[T], gy: &[T], needs: [bool; 2]) -> [Option<Vec<T>>; 2] {
        let geo = self.geo;
        let (x, gy) = (as_f32(x).expect("f32 (Plan::new)"), as_f32(gy).expect("f32 (Plan::new)"));
        let (taps, plane) = (self.taps(), geo.oh * geo.ow);
        let (image_in, image_out) = (geo.c_in * geo.h * geo.w, geo.c_out * plane);
        // One weight and one bias gradient per image, summed in image order below.
        let per_image = geo.c_out * (taps + 1);
        let mut parts = vec![0.0f32; geo.n * per_image];
        let dst = OutPtr(parts.as_mut_ptr());
        self.each_image(|i| {
            // SAFETY: image i's part lies inside `parts` and only this task touches it.
            let part = unsafe { std::slice::from_raw_parts_mut(dst.get().add(i * per_image), per_image) };
            let (gw, gb) = part.split_at_mut(geo.c_out * taps);
            let (x, gy) = (&x[i * image_in..][..image_in], &gy[i * image_out..][..image_out]);
            for o in (0..geo.c_out).step_by(SUM_CHANNELS) {
                for first in (0..taps).step_by(SUM_TAPS) {
                    let (gy, taps) = (&gy[o * plane..], first..taps.min(first + SUM_TAPS));
                    let (gw, gb) = (&mut gw[o * self.taps()..], (first == 0).then(|| &mut gb[o..]));
                    // SAFETY: the CPU has AVX2 and FMA (`Plan::new`).
                    unsafe {
                        match geo.c_out - o {
                            1 => self.tap_sums::<1>(x, gy, taps, gw, gb),
                            2 => self.tap_sums::<2>(x, gy, taps, gw, gb),
                            _ => self.tap_sums::<3>(x, gy, taps, gw, gb),
                        }
                    }
                }
            }
        });
        let sum = |range: std::ops::Range<usize>| {
            let mut total = vec![T::zero(); range.len()];
            let sums = as_f32_mut(&mut total).expect("f32 (Plan::new)");
            for part in parts.chunks_exact(per_image) {
                for (s, &v) in sums.iter_mut().zip(&part[range.clone()]) {
                    *s += v;
                }
            }
            total
        };
        let gw = needs[0].then(|| sum(0..geo.c_out * taps));
        let gb = needs[1].then(|| sum(geo.c_out * taps..per_image));
        [gw, gb]
    }

    /// For `C` output channels of one image (their gradient planes from `gy` on) and
    /// the taps `taps` (at most [`SUM_TAPS`]), `gw[c * taps + t] = sum of gy_c x input
    /// under tap t`, and `gb[c] = sum of gy_c` when given. Each input vector loaded
    /// serves all `C` channels. Rows go eight
    /// outputs at a time; their last few outputs come in a second loop, through masked
    /// loads (in one loop, the masked tail pushed the sums out of registers).
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tap_sums<const C: usize>(
        &self,
        x: &[f32],
        gy: &[f32],
        taps: std::ops::Range<usize>,
        gw: &mut [f32],
        gb: Option<&mut [f32]>,
    ) {
        let Geometry { w: width, oh, ow, .. } = *self.geo;
        let (all_taps, plane) = (self.taps(), oh * ow);
        // Always SUM_TAPS sums per channel, any unused ones over tap 0 and dropped: a
        // variable count kept the sums in memory, and ran 2x slower than im2col.
        let mut offsets = [self.offsets[0]; SUM_TAPS];
        offsets[..taps.len()].copy_from_slice(&self.offsets[taps.clone()]);
        assert!(taps.len() <= SUM_TAPS && gy.len() >= C * plane && gw.len() >= (C - 1) * all_taps + taps.end);
        assert!(x.len() >= self.offsets[all_taps - 1] + (oh - 1) * width + ow, "direct conv: image too short");
        let mut sums = [[_mm256_setzero_ps(); SUM_TAPS]; C];
        let mut bias_sums = [_mm256_setzero_ps(); C];
        let rest = ow % LANES;
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest as i32), lane);
        let rows = Rows { gy: gy.as_ptr(), x: x.as_ptr(), plane, ow, width, offsets, mask: tail };
        // SAFETY (both loops): every vector read lies inside `gy` and `x`, as asserted
        // above; the masked ones touch only the lanes before each row's end.
        for y in 0..oh {
            for x0 in (0..ow - rest).step_by(LANES) {
                unsafe { add_products::<C, false>(&rows, [y, x0], &mut sums, &mut bias_sums) };
            }
        }
        if rest > 0 {
            for y in 0..oh {
                unsafe { add_products::<C, true>(&rows, [y, ow - rest], &mut sums, &mut bias_sums) };
            }
        }
        for (c, sums) in sums.iter().enumerate() {
            for (g, &sum) in gw[c * all_taps..][taps.clone()].iter_mut().zip(sums) {
                *g = lane_total(sum);
            }
        }
        if let Some(gb) = gb {
            for (gb, &sum) in gb.iter_mut().zip(&bias_sums) {
                *gb = lane_total(sum);
            }
        }
    }
}

/// What [`add_products`] reads: output-gradient planes `plane` apart, rows `ow` long,
/// and an input image with rows `width` long, the taps at `offsets` from an output's
/// place; `mask` selects the lanes of a masked load.
#[cfg(target_arch = "x86_64")]
struct Rows {
    gy: *const f32,
    x: *const f32,
    plane: usize,
    ow: usize,
    width: usize,
    offsets: [usize; SUM_TAPS],
    mask: __m256i,
}

/// Adds the products of the eight outputs from `[y, x0]` on to `sums[c][t]` (output
/// gradient of channel `c` times the input under tap `t`) and the output gradient
/// itself to `bias_sums[c]`; each vector read with a plain load or, when `MASKED`, a
/// load of the lanes set in `rows.mask` (the others read as zero).
///
/// # Safety
/// The CPU must have AVX2 and FMA, and every vector (or masked lanes) read must lie in
/// its buffer.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn add_products<const C: usize, const MASKED: bool>(
    rows: &Rows,
    [y, x0]: [usize; 2],
    sums: &mut [[__m256; SUM_TAPS]; C],
    bias_sums: &mut [__m256; C],
) {
    // SAFETY (the loads and offsets): as the caller promises.
    let load = |p: *const f32| unsafe {
        if MASKED {
            _mm256_maskload_ps(p, rows.mask)
        } else {
            _mm256_loadu_ps(p)
        }
    };
    let (gy, x) = unsafe { (rows.gy.add(y * rows.ow + x0), rows.x.add(y * rows.width + x0)) };
    let mut g = [_mm256_setzero_ps(); C];
    for ((c, g), bias_sum) in g.iter_mut().enumerate().zip(bias_sums) {
        *g = load(unsafe { gy.add(c * rows.plane) });
        *bias_sum = _mm256_add_ps(*bias_sum, *g);
    }
    for (t, &offset) in rows.offsets.iter().enumerate() {
        let v = load(unsafe { x.add(offset) });
        for (sums, &g) in sums.iter_mut().zip(&g) {
            sums[t] = _mm256_fmadd_ps(g, v, sums[t]);
        }
    }
}

/// The sum of the eight lanes of `v`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lane_total(v: __m256) -> f32 {
    let half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
    _mm_cvtss_f32(_mm_add_ss(quarter, _mm_shuffle_ps::<1>(quarter, quarter)))
}
