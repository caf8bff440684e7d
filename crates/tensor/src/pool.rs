//! 2-D pooling over the last two dims (`[N, C, H, W]` or `[C, H, W]`): max pooling
//! with the argmax indices its backward scatters to, average pooling, and adaptive
//! average pooling, with PyTorch's window and output-size rules. Every `H x W` plane is
//! independent, so planes are split over the pool in one contiguous run per thread.
//!
//! Average and adaptive average pooling share one kernel: both are a mean over a window
//! that is a product of one range per axis, divided by a count that is also a product
//! of per-axis counts.

use std::hint::select_unpredictable;

use crate::array::NdArray;
use crate::dtype::{as_f32, as_f32_mut, DType, Element};
use crate::pool_avx2::max_row_2x2;
use crate::reduce::is_nan;
use crate::storage::Storage;
use crate::threads::{map_parts, split_rows, zeroed, PARALLEL_THRESHOLD};

/// The window of a 2-D pooling: `torch.nn.functional.max_pool2d`'s `kernel_size`,
/// `stride`, `padding`, `dilation` and `ceil_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dSpec {
    /// Window size along H and W.
    pub kernel: [usize; 2],
    /// Step between windows along H and W.
    pub stride: [usize; 2],
    /// Implicit padding on both sides of H and W (negative infinity for max pooling,
    /// zeros for average pooling); at most half the dilated window.
    pub padding: [usize; 2],
    /// Spacing between window taps (max pooling only).
    pub dilation: [usize; 2],
    /// Rounds the output size up instead of down; the last window must still start
    /// inside the input or its left padding.
    pub ceil_mode: bool,
}

impl Pool2dSpec {
    /// Non-overlapping windows of `kernel` (stride = kernel), no padding or dilation.
    pub fn new(kernel: [usize; 2]) -> Self {
        Pool2dSpec { kernel, stride: kernel, padding: [0, 0], dilation: [1, 1], ceil_mode: false }
    }
}

/// One axis of a pooling window: output length and, per output, the first input tap
/// (after skipping the padding) and the number of taps inside the input.
struct Axis {
    first: Vec<usize>,
    count: Vec<usize>,
    /// For average pooling: the window size clipped to the padded input.
    padded_count: Vec<usize>,
    step: usize,
}

impl Axis {
    fn len(&self) -> usize {
        self.first.len()
    }

    /// `(kernel, stride)` when every window is whole and evenly spaced: no padding, no
    /// dilation, no window clipped by `ceil_mode`.
    fn dense(&self) -> Option<(usize, usize)> {
        let k = *self.count.first()?;
        let stride = self.first.get(1).map_or(1, |&f| f - self.first[0]);
        let evenly = self.first.iter().enumerate().all(|(o, &f)| f == o * stride);
        (self.step == 1 && k > 0 && evenly && self.count.iter().all(|&c| c == k)).then_some((k, stride))
    }
}

/// PyTorch's pooled length (`pooling_output_shape`) along H (`dim` 0) or W (1) of an
/// input shaped `shape`, checking the arguments.
#[track_caller]
fn pooled_len(op: &str, shape: &[usize], dim: usize, spec: &Pool2dSpec) -> usize {
    let len = shape[shape.len() - 2 + dim];
    let (k, s, p, d) = (spec.kernel[dim], spec.stride[dim], spec.padding[dim], spec.dilation[dim]);
    if k == 0 || s == 0 || d == 0 {
        panic!("{op}: kernel size, stride and dilation must be positive, got {spec:?} for input {shape:?}");
    }
    let reach = d * (k - 1) + 1;
    if p > reach / 2 {
        panic!(
            "{op}: pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and dilation={d} (input {shape:?})"
        );
    }
    if len + 2 * p < reach {
        panic!(
            "{op}: input {shape:?} padded by {p} is smaller than the window {:?} (dilated extent {reach})",
            spec.kernel
        );
    }
    let mut out = (len + 2 * p - reach + if spec.ceil_mode { s - 1 } else { 0 }) / s + 1;
    if spec.ceil_mode && (out - 1) * s >= len + p {
        out -= 1;
    }
    out
}

#[track_caller]
fn axis(op: &str, shape: &[usize], dim: usize, spec: &Pool2dSpec) -> Axis {
    let out = pooled_len(op, shape, dim, spec);
    let len = shape[shape.len() - 2 + dim];
    let (k, s, p, d) = (spec.kernel[dim], spec.stride[dim], spec.padding[dim], spec.dilation[dim]);
    let mut a = Axis { first: vec![], count: vec![], padded_count: vec![], step: d };
    for o in 0..out {
        // Tap j sits at o*s + j*d - p; skip the taps in the left padding.
        let skip = (p.saturating_sub(o * s)).div_ceil(d);
        let first = o * s + skip * d - p;
        let inside = if first < len { ((len - first - 1) / d + 1).min(k.saturating_sub(skip)) } else { 0 };
        a.first.push(first);
        a.count.push(inside);
        a.padded_count.push((o * s + k).min(len + 2 * p) - o * s);
    }
    a
}

/// The planes (all leading dims) and `[H, W]` of a 3-D or 4-D pooling input.
#[track_caller]
fn planes(op: &str, shape: &[usize]) -> (usize, [usize; 2]) {
    if !(3..=4).contains(&shape.len()) {
        panic!("{op}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape {shape:?}");
    }
    let nd = shape.len();
    (shape[..nd - 2].iter().product(), [shape[nd - 2], shape[nd - 1]])
}

fn with_plane(shape: &[usize], plane: [usize; 2]) -> Vec<usize> {
    let mut s = shape[..shape.len() - 2].to_vec();
    s.extend(plane);
    s
}

/// A new `planes * plane_len` output, zero-filled, to which `f(plane, out_plane)` adds
/// each plane; in one run per thread when `work` (elements touched) is large.
fn each_plane<T: Element>(planes: usize, plane_len: usize, work: usize, f: impl Fn(usize, &mut [T]) + Sync) -> Vec<T> {
    let len = planes * plane_len;
    let mut out = Vec::with_capacity(len);
    if len == 0 {
        return out;
    }
    let (_, per) = split_rows(planes, work >= PARALLEL_THRESHOLD);
    map_parts(out.spare_capacity_mut()[..len].chunks_mut(per * plane_len).collect(), |run, chunk| {
        // Zeroed plane by plane, just before `f` adds to it, so the plane is still in
        // cache: zeroing the whole run first cost a pass over memory (4% of a CNN epoch).
        for (i, o) in chunk.chunks_exact_mut(plane_len).enumerate() {
            f(run * per + i, zeroed(o));
        }
    });
    // SAFETY: `map_parts` ran every piece of `0..len`, and `zeroed` initialised each
    // plane of it (`len` is a whole number of planes).
    unsafe { out.set_len(len) };
    out
}

fn float_op<R>(op: &str, x: &NdArray, f32_op: impl FnOnce(&[f32]) -> R, f64_op: impl FnOnce(&[f64]) -> R) -> R {
    let x = x.contiguous();
    match x.dtype() {
        DType::F32 => f32_op(x.as_slice().expect("contiguous")),
        DType::F64 => f64_op(x.as_slice().expect("contiguous")),
        DType::I64 => panic!("{op}: expected a float tensor (f32 or f64), got i64"),
    }
}

fn max_planes<T: Element>(x: &[T], [h, w]: [usize; 2], ys: &Axis, xs: &Axis) -> (Vec<T>, Vec<i64>) {
    let plane_out = ys.len() * xs.len();
    let planes = x.len() / (h * w).max(1);
    let len = planes * plane_out;
    let (mut values, mut indices) = (Vec::with_capacity(len), Vec::with_capacity(len));
    if plane_out == 0 {
        return (values, indices);
    }
    let (_, per) = split_rows(planes, x.len() >= PARALLEL_THRESHOLD);
    let dense = (ys.dense(), xs.dense());
    let value_parts = values.spare_capacity_mut()[..len].chunks_mut(per * plane_out);
    let parts: Vec<_> = value_parts.zip(indices.spare_capacity_mut()[..len].chunks_mut(per * plane_out)).collect();
    map_parts(parts, |run, (values, indices)| {
        // Zeroed plane by plane, as in `each_plane`: a pass over the whole run first was
        // 2% of a CNN epoch.
        for (i, (values, indices)) in values.chunks_mut(plane_out).zip(indices.chunks_mut(plane_out)).enumerate() {
            let (values, indices) = (zeroed(values), zeroed(indices));
            let p = run * per + i;
            let plane = &x[p * h * w..(p + 1) * h * w];
            let widths = [w, xs.len()];
            match dense {
                (Some((2, 2)), Some((2, 2))) => max_plane_2x2(plane, widths, values, indices),
                (Some((kh, sy)), Some((kw, sx))) => max_plane_dense(plane, widths, [kh, kw], [sy, sx], values, indices),
                _ => max_plane(plane, w, ys, xs, values, indices),
            }
        }
    });
    // SAFETY: `map_parts` ran every piece of `0..len` of both, and `zeroed` initialised
    // each plane of them (`len` is a whole number of planes).
    unsafe {
        values.set_len(len);
        indices.set_len(len);
    }
    (values, indices)
}

/// Is `v` a new maximum over `best`? NaN wins, and the first of equal maxima, as in
/// PyTorch.
#[inline(always)]
fn beats<T: Element>(v: T, best: T) -> bool {
    (v > best) | is_nan(v)
}

/// The winner of two taps `(value, offset)` under [`beats`]: `b` if it beats `a`.
#[inline(always)]
fn pick<T: Element>(a: (T, usize), b: (T, usize)) -> (T, usize) {
    let take = beats(b.0, a.0);
    (if take { b.0 } else { a.0 }, if take { b.1 } else { a.1 })
}

/// [`max_plane`] for 2x2 windows with stride 2 and no padding (the common pooling),
/// without branches: which tap wins is data, and a mispredicted jump per window made
/// this 4x slower. Each output row reads two input rows in pairs and plays a
/// tournament, which gives the same winner as scanning the taps in order because "the
/// last NaN, else the first maximum" is associative.
fn max_plane_2x2<T: Element>(plane: &[T], [w, ow]: [usize; 2], values: &mut [T], indices: &mut [i64]) {
    let rows = values.chunks_exact_mut(ow).zip(indices.chunks_exact_mut(ow));
    for (oy, (values, indices)) in rows.enumerate() {
        let top = 2 * oy * w;
        let (r0, r1) = (&plane[top..top + 2 * ow], &plane[top + w..top + w + 2 * ow]);
        // f32 rows go eight windows at a time, with AVX2.
        let done = match (as_f32(r0), as_f32(r1), as_f32_mut(values)) {
            (Some(r0), Some(r1), Some(values)) => max_row_2x2(r0, r1, w, top, values, indices),
            _ => 0,
        };
        let windows = r0[2 * done..].chunks_exact(2).zip(r1[2 * done..].chunks_exact(2));
        let outputs = values[done..].iter_mut().zip(indices[done..].iter_mut());
        for (ox, ((a, b), (value, index))) in (done..).zip(windows.zip(outputs)) {
            // Only offsets are selected (integer selects compile to conditional moves;
            // float ones became jumps), and each winner's value is loaded back.
            let upper = select_unpredictable(beats(a[1], a[0]), 1, 0);
            let lower = select_unpredictable(beats(b[1], b[0]), 1, 0);
            let at = select_unpredictable(beats(b[lower], a[upper]), w + lower, upper);
            let corner = top + 2 * ox;
            *value = plane[corner + at];
            *index = (corner + at) as i64;
        }
    }
}

/// [`max_plane`] for whole, evenly spaced windows (see [`Axis::dense`]): the same
/// result, without per-window bounds.
fn max_plane_dense<T: Element>(
    plane: &[T],
    [w, ow]: [usize; 2],
    [kh, kw]: [usize; 2],
    [sy, sx]: [usize; 2],
    values: &mut [T],
    indices: &mut [i64],
) {
    for (oy, (values, indices)) in values.chunks_exact_mut(ow).zip(indices.chunks_exact_mut(ow)).enumerate() {
        let top = oy * sy * w;
        for (ox, (value, index)) in values.iter_mut().zip(indices.iter_mut()).enumerate() {
            let corner = top + ox * sx;
            let (mut best, mut at) = (plane[corner], corner);
            for ky in 0..kh {
                let row = corner + ky * w;
                for (kx, &v) in plane[row..row + kw].iter().enumerate() {
                    (best, at) = pick((best, at), (v, row + kx));
                }
            }
            *value = best;
            *index = at as i64;
        }
    }
}

/// The windows' maxima of one plane and their flat positions in it.
fn max_plane<T: Element>(plane: &[T], w: usize, ys: &Axis, xs: &Axis, values: &mut [T], indices: &mut [i64]) {
    let neg_inf = T::from_f64(f64::NEG_INFINITY);
    for oy in 0..ys.len() {
        for ox in 0..xs.len() {
            let (mut best, mut at) = (neg_inf, ys.first[oy] * w + xs.first[ox]);
            for iy in (0..ys.count[oy]).map(|j| ys.first[oy] + j * ys.step) {
                for ix in (0..xs.count[ox]).map(|j| xs.first[ox] + j * xs.step) {
                    let v = plane[iy * w + ix];
                    if beats(v, best) {
                        (best, at) = (v, iy * w + ix);
                    }
                }
            }
            values[oy * xs.len() + ox] = best;
            indices[oy * xs.len() + ox] = at as i64;
        }
    }
}

fn max_backward<T: Element>(g: &[T], idx: &[i64], plane_out: usize, plane_in: usize, planes: usize) -> Vec<T> {
    each_plane(planes, plane_in, g.len(), |p, o| {
        for (&gv, &i) in g[p * plane_out..(p + 1) * plane_out].iter().zip(&idx[p * plane_out..(p + 1) * plane_out]) {
            // An all-padding window (possible only with dilation) has no input to reach.
            if let Some(d) = o.get_mut(i as usize) {
                *d += gv;
            }
        }
    })
}

/// A mean over per-axis windows `first..first+count` divided by `divisor[oy][ox]`.
struct MeanWindows {
    ys: Axis,
    xs: Axis,
    /// Divide by the window clipped to the padded input, not by the taps inside it.
    count_padding: bool,
}

impl MeanWindows {
    fn divisor(&self, oy: usize, ox: usize) -> f64 {
        let (y, x) = if self.count_padding {
            (self.ys.padded_count[oy], self.xs.padded_count[ox])
        } else {
            (self.ys.count[oy], self.xs.count[ox])
        };
        (y * x) as f64
    }

    /// `f(oy, ox, rows, cols, scale)` for every window with at least one tap.
    fn each(&self, mut f: impl FnMut(usize, usize, std::ops::Range<usize>, std::ops::Range<usize>, f64)) {
        for oy in 0..self.ys.len() {
            let rows = self.ys.first[oy]..self.ys.first[oy] + self.ys.count[oy];
            for ox in 0..self.xs.len() {
                let cols = self.xs.first[ox]..self.xs.first[ox] + self.xs.count[ox];
                if !rows.is_empty() && !cols.is_empty() {
                    f(oy, ox, rows.clone(), cols, 1.0 / self.divisor(oy, ox));
                }
            }
        }
    }

    fn forward<T: Element>(&self, x: &[T], [h, w]: [usize; 2]) -> Vec<T> {
        let plane_out = self.ys.len() * self.xs.len();
        each_plane(x.len() / (h * w).max(1), plane_out, x.len(), |p, o| {
            let plane = &x[p * h * w..(p + 1) * h * w];
            self.each(|oy, ox, rows, cols, scale| {
                let mut s = T::zero();
                for iy in rows {
                    for &v in &plane[iy * w + cols.start..iy * w + cols.end] {
                        s += v;
                    }
                }
                o[oy * self.xs.len() + ox] = T::from_f64(s.to_f64() * scale);
            });
        })
    }

    fn backward<T: Element>(&self, g: &[T], [h, w]: [usize; 2]) -> Vec<T> {
        let plane_out = self.ys.len() * self.xs.len();
        let planes = g.len() / plane_out.max(1);
        each_plane(planes, h * w, g.len(), |p, o| {
            let gp = &g[p * plane_out..(p + 1) * plane_out];
            self.each(|oy, ox, rows, cols, scale| {
                let v = T::from_f64(gp[oy * self.xs.len() + ox].to_f64() * scale);
                for iy in rows {
                    for d in &mut o[iy * w + cols.start..iy * w + cols.end] {
                        *d += v;
                    }
                }
            });
        })
    }
}

fn avg_windows(op: &str, shape: &[usize], spec: &Pool2dSpec, count_include_pad: bool) -> MeanWindows {
    if spec.dilation != [1, 1] {
        panic!("{op}: dilation is not supported, got {:?} for input {shape:?}", spec.dilation);
    }
    planes(op, shape);
    MeanWindows { ys: axis(op, shape, 0, spec), xs: axis(op, shape, 1, spec), count_padding: count_include_pad }
}

/// PyTorch's adaptive windows: output `i` of `out` averages inputs
/// `floor(i*len/out)..ceil((i+1)*len/out)`.
fn adaptive_axis(len: usize, out: usize) -> Axis {
    let first: Vec<usize> = (0..out).map(|i| i * len / out).collect();
    let count: Vec<usize> = (0..out).map(|i| ((i + 1) * len).div_ceil(out) - i * len / out).collect();
    Axis { padded_count: count.clone(), first, count, step: 1 }
}

#[track_caller]
fn adaptive_windows(shape: &[usize], output_size: [usize; 2]) -> MeanWindows {
    let (_, [h, w]) = planes("adaptive_avg_pool2d", shape);
    if output_size.contains(&0) && h * w > 0 {
        panic!("adaptive_avg_pool2d: output size must be positive, got {output_size:?} for input {shape:?}");
    }
    MeanWindows { ys: adaptive_axis(h, output_size[0]), xs: adaptive_axis(w, output_size[1]), count_padding: false }
}

impl NdArray {
    /// Max pooling over the last two dims of a `[N, C, H, W]` or `[C, H, W]` array
    /// (`F.max_pool2d(..., return_indices=True)`). Returns the maxima and their `i64`
    /// positions within each `H x W` plane (row-major), which
    /// [`NdArray::max_pool2d_backward`] scatters the gradient to. NaN wins.
    ///
    /// ```
    /// use nabla_tensor::{NdArray, Pool2dSpec};
    /// let x = NdArray::from_vec((0..16).map(|v| v as f32).collect(), &[1, 1, 4, 4]);
    /// let (y, idx) = x.max_pool2d(&Pool2dSpec::new([2, 2]));
    /// assert_eq!(y.to_vec::<f32>(), vec![5.0, 7.0, 13.0, 15.0]);
    /// assert_eq!(idx.to_vec::<i64>(), vec![5, 7, 13, 15]);
    /// ```
    ///
    /// # Panics
    /// For another rank, an integer dtype, or a window that does not fit (PyTorch's
    /// checks, naming the input shape).
    #[track_caller]
    pub fn max_pool2d(&self, spec: &Pool2dSpec) -> (NdArray, NdArray) {
        let op = "max_pool2d";
        let (_, hw) = planes(op, self.shape());
        let (ys, xs) = (axis(op, self.shape(), 0, spec), axis(op, self.shape(), 1, spec));
        let shape = with_plane(self.shape(), [ys.len(), xs.len()]);
        let (values, idx) = float_op(
            op,
            self,
            |x| {
                let (v, i) = max_planes(x, hw, &ys, &xs);
                (Storage::F32(v), i)
            },
            |x| {
                let (v, i) = max_planes(x, hw, &ys, &xs);
                (Storage::F64(v), i)
            },
        );
        (NdArray::from_storage(values, &shape), NdArray::from_storage(Storage::I64(idx), &shape))
    }

    /// The input gradient of [`NdArray::max_pool2d`]: each element of `grad` added at
    /// the position `indices` recorded, in a zero array of `input_shape`.
    ///
    /// # Panics
    /// If `grad` and `indices` differ in shape or do not fit `input_shape`.
    #[track_caller]
    pub fn max_pool2d_backward(grad: &NdArray, indices: &NdArray, input_shape: &[usize]) -> NdArray {
        let (planes_in, [h, w]) = planes("max_pool2d_backward", input_shape);
        let (planes_out, [oh, ow]) = planes("max_pool2d_backward", grad.shape());
        if grad.shape() != indices.shape() || planes_in != planes_out || indices.dtype() != DType::I64 {
            panic!(
                "max_pool2d_backward: grad {:?} and i64 indices {:?} ({}) must share one shape with the planes of input {input_shape:?}",
                grad.shape(),
                indices.shape(),
                indices.dtype()
            );
        }
        let idx = indices.contiguous();
        let idx = idx.as_slice::<i64>().expect("contiguous i64");
        let storage = float_op(
            "max_pool2d_backward",
            grad,
            |g| Storage::F32(max_backward(g, idx, oh * ow, h * w, planes_in)),
            |g| Storage::F64(max_backward(g, idx, oh * ow, h * w, planes_in)),
        );
        NdArray::from_storage(storage, input_shape)
    }

    /// Average pooling over the last two dims (`F.avg_pool2d`); padding counts as
    /// zeros, and with `count_include_pad` the padded positions count in the divisor
    /// (PyTorch's default). `spec.dilation` must be `[1, 1]`.
    ///
    /// ```
    /// use nabla_tensor::{NdArray, Pool2dSpec};
    /// let x = NdArray::from_vec((0..16).map(|v| v as f32).collect(), &[1, 4, 4]);
    /// let y = x.avg_pool2d(&Pool2dSpec::new([2, 2]), true);
    /// assert_eq!(y.to_vec::<f32>(), vec![2.5, 4.5, 10.5, 12.5]);
    /// ```
    #[track_caller]
    pub fn avg_pool2d(&self, spec: &Pool2dSpec, count_include_pad: bool) -> NdArray {
        let (_, hw) = planes("avg_pool2d", self.shape());
        self.mean_windows("avg_pool2d", &avg_windows("avg_pool2d", self.shape(), spec, count_include_pad), hw)
    }

    /// The input gradient of [`NdArray::avg_pool2d`] for an input shaped `input_shape`.
    #[track_caller]
    pub fn avg_pool2d_backward(
        grad: &NdArray,
        input_shape: &[usize],
        spec: &Pool2dSpec,
        count_include_pad: bool,
    ) -> NdArray {
        let windows = avg_windows("avg_pool2d_backward", input_shape, spec, count_include_pad);
        grad.mean_windows_backward("avg_pool2d_backward", &windows, input_shape)
    }

    /// Adaptive average pooling to `output_size` over the last two dims
    /// (`F.adaptive_avg_pool2d`): output `i` along an axis of length `len` averages
    /// inputs `floor(i*len/out)..ceil((i+1)*len/out)`.
    ///
    /// ```
    /// use nabla_tensor::NdArray;
    /// let x = NdArray::from_vec((0..6).map(|v| v as f64).collect(), &[1, 1, 2, 3]);
    /// assert_eq!(x.adaptive_avg_pool2d([1, 2]).to_vec::<f64>(), vec![2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn adaptive_avg_pool2d(&self, output_size: [usize; 2]) -> NdArray {
        let (_, hw) = planes("adaptive_avg_pool2d", self.shape());
        self.mean_windows("adaptive_avg_pool2d", &adaptive_windows(self.shape(), output_size), hw)
    }

    /// The input gradient of [`NdArray::adaptive_avg_pool2d`] for an input shaped
    /// `input_shape`; the output size is `grad`'s last two dims.
    #[track_caller]
    pub fn adaptive_avg_pool2d_backward(grad: &NdArray, input_shape: &[usize]) -> NdArray {
        let (_, [oh, ow]) = planes("adaptive_avg_pool2d_backward", grad.shape());
        let windows = adaptive_windows(input_shape, [oh, ow]);
        grad.mean_windows_backward("adaptive_avg_pool2d_backward", &windows, input_shape)
    }

    fn mean_windows(&self, op: &str, windows: &MeanWindows, hw: [usize; 2]) -> NdArray {
        let shape = with_plane(self.shape(), [windows.ys.len(), windows.xs.len()]);
        let storage =
            float_op(op, self, |x| Storage::F32(windows.forward(x, hw)), |x| Storage::F64(windows.forward(x, hw)));
        NdArray::from_storage(storage, &shape)
    }

    #[track_caller]
    fn mean_windows_backward(&self, op: &str, windows: &MeanWindows, input_shape: &[usize]) -> NdArray {
        let (_, hw) = planes(op, input_shape);
        let want = with_plane(input_shape, [windows.ys.len(), windows.xs.len()]);
        if self.shape() != want {
            panic!("{op}: grad {:?} must have the output shape {want:?} of input {input_shape:?}", self.shape());
        }
        let storage =
            float_op(op, self, |g| Storage::F32(windows.backward(g, hw)), |g| Storage::F64(windows.backward(g, hw)));
        NdArray::from_storage(storage, input_shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_mode_keeps_only_windows_starting_inside() {
        let x = NdArray::zeros(&[1, 1, 5, 5], DType::F32);
        let mut spec = Pool2dSpec { stride: [2, 2], ceil_mode: true, ..Pool2dSpec::new([2, 2]) };
        assert_eq!(x.max_pool2d(&spec).0.shape(), &[1, 1, 3, 3]);
        // 6 = 5 + 1 of padding: a fourth window would start in the right padding.
        spec.padding = [1, 1];
        assert_eq!(x.max_pool2d(&spec).0.shape(), &[1, 1, 3, 3]);
    }

    #[test]
    fn avg_divisor_with_and_without_padding() {
        let x = NdArray::ones(&[1, 2, 2], DType::F64);
        let spec = Pool2dSpec { padding: [1, 1], ..Pool2dSpec::new([2, 2]) };
        assert_eq!(x.avg_pool2d(&spec, true).to_vec::<f64>(), vec![0.25; 4]);
        assert_eq!(x.avg_pool2d(&spec, false).to_vec::<f64>(), vec![1.0; 4]);
    }

    #[test]
    fn max_pool_backward_scatters_to_argmax_and_nan_wins() {
        let x = NdArray::from_vec(vec![1.0f64, f64::NAN, 3.0, 2.0], &[1, 2, 2]);
        let (y, idx) = x.max_pool2d(&Pool2dSpec::new([2, 2]));
        assert!(y.item().is_nan());
        assert_eq!(idx.to_vec::<i64>(), vec![1]);
        let g = NdArray::max_pool2d_backward(&NdArray::ones(&[1, 1, 1], DType::F64), &idx, &[1, 2, 2]);
        assert_eq!(g.to_vec::<f64>(), vec![0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn dense_windows_match_the_general_kernel_with_ties_and_nan() {
        let shape = [3, 7, 9];
        // Few distinct values make ties common; NaN and -inf appear too.
        let pool = [0.0, 1.0, 2.0, f64::NAN, f64::NEG_INFINITY];
        let x: Vec<f64> = (0..shape.iter().product()).map(|i: usize| pool[(i * 7 + i / 5) % pool.len()]).collect();
        for (kernel, stride) in
            [([2, 2], [2, 2]), ([3, 3], [1, 2]), ([2, 3], [3, 1]), ([2, 2], [1, 1]), ([1, 1], [1, 1])]
        {
            let spec = Pool2dSpec { stride, ..Pool2dSpec::new(kernel) };
            let (ys, xs) = (axis("t", &shape, 0, &spec), axis("t", &shape, 1, &spec));
            assert!(ys.dense().is_some() && xs.dense().is_some(), "{spec:?}");
            let (values, indices) = max_planes(&x, [7, 9], &ys, &xs);
            let plane_out = ys.len() * xs.len();
            for p in 0..3 {
                let (mut v, mut i) = (vec![0.0; plane_out], vec![0; plane_out]);
                max_plane(&x[p * 63..(p + 1) * 63], 9, &ys, &xs, &mut v, &mut i);
                assert_eq!(&indices[p * plane_out..(p + 1) * plane_out], &i[..], "{spec:?}");
                let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
                assert!(values[p * plane_out..].iter().zip(&v).all(|(&a, &b)| same(a, b)), "{spec:?}");
            }
        }
        let padded = Pool2dSpec { padding: [1, 1], ..Pool2dSpec::new([2, 2]) };
        assert!(axis("t", &shape, 0, &padded).dense().is_none());
    }

    #[test]
    fn the_f32_2x2_kernel_matches_the_general_kernel_on_long_rows() {
        // Rows with whole 8-window AVX2 steps, masked tails, or both.
        let spec = Pool2dSpec::new([2, 2]);
        let pool = [0.0f32, 1.0, -1.0, 2.0, f32::NAN, f32::NEG_INFINITY, 1.0];
        for shape in [[2, 6, 40], [1, 5, 17], [3, 4, 33], [1, 2, 16], [1, 3, 3], [2, 4, 11], [1, 4, 26], [1, 2, 15]] {
            let [planes, h, w] = shape;
            let x: Vec<f32> = (0..planes * h * w).map(|i| pool[(i * 5 + i / 3) % pool.len()]).collect();
            let (ys, xs) = (axis("t", &shape, 0, &spec), axis("t", &shape, 1, &spec));
            let (values, indices) = max_planes(&x, [h, w], &ys, &xs);
            let plane_out = ys.len() * xs.len();
            for p in 0..planes {
                let (mut v, mut i) = (vec![0.0; plane_out], vec![0; plane_out]);
                max_plane(&x[p * h * w..(p + 1) * h * w], w, &ys, &xs, &mut v, &mut i);
                assert_eq!(&indices[p * plane_out..(p + 1) * plane_out], &i[..], "{shape:?}");
                let same = |a: f32, b: f32| a == b || (a.is_nan() && b.is_nan());
                assert!(values[p * plane_out..].iter().zip(&v).all(|(&a, &b)| same(a, b)), "{shape:?}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "max_pool2d: pad should be at most half of effective kernel size, but got pad=2")]
    fn too_much_padding() {
        NdArray::zeros(&[1, 1, 5, 5], DType::F32)
            .max_pool2d(&Pool2dSpec { padding: [2, 2], ..Pool2dSpec::new([3, 3]) });
    }
}
