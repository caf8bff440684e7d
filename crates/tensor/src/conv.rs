//! 2-D convolution in NCHW through im2col and the same GEMM as `matmul`: the input
//! patches are unrolled into a `[C_in*kH*kW, oH*oW]` column matrix and each group's
//! output rows come from one GEMM written straight into the NCHW result. When an image has few output pixels, several images are unrolled side by
//! side so the GEMM stays wide, and their outputs are copied into place. The backward
//! pass runs the same GEMMs transposed (strides, no copies) and folds the column
//! gradient back with col2im.
//!
//! Images are split into parts of consecutive images, one GEMM's worth each, which the
//! calling thread and the pool take in turn. The split depends on the shapes alone, and
//! weight and bias gradients are summed per part and the partial sums added in part
//! order, so every result is the same whatever the thread count. A lone image under a
//! 1x1 kernel with stride 1 and no padding skips im2col: it already is its column
//! matrix. 3x3 kernels with stride 1 and enough channels take Winograd's algorithm
//! instead (see [`winograd`]), with 2.25x to 4x fewer multiply-adds; f32 layers with
//! few input channels, stride 1 and no padding, as an image network's first layer, are
//! computed directly (see `direct`).

use std::mem::MaybeUninit;

#[cfg(target_arch = "x86_64")]
mod direct;
mod winograd;

use crate::array::NdArray;
use crate::dtype::{DType, Element, FloatElement};
use crate::matmul::{pin_matrixmultiply_to_one_thread, Gemm, GemmCall, MatRef};
use crate::reduce::lane_sum;
use crate::threads::{map_parts, zeroed};

/// Below this many multiply-adds (a few tens of microseconds on one core) a convolution
/// runs on the calling thread, as [`MATMUL_PARALLEL_MACS`](crate::MATMUL_PARALLEL_MACS) for products; above
/// it the images are split over the calling thread and the pool.
pub const CONV_PARALLEL_MACS: usize = 1 << 20;

/// The geometry of a 2-D convolution: stride, zero padding, dilation and groups, as the
/// arguments of `torch.nn.functional.conv2d`, except that padding may differ on the two
/// sides of a dim (what `padding="same"` needs for even kernels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dSpec {
    /// Step between windows along H and W.
    pub stride: [usize; 2],
    /// Zeros added `[[top, bottom], [left, right]]`.
    pub padding: [[usize; 2]; 2],
    /// Spacing between kernel taps along H and W.
    pub dilation: [usize; 2],
    /// Number of blocked connections from input channels to output channels.
    pub groups: usize,
}

impl Default for Conv2dSpec {
    /// Stride 1, no padding, no dilation, one group (PyTorch's defaults).
    fn default() -> Self {
        Conv2dSpec { stride: [1, 1], padding: [[0, 0], [0, 0]], dilation: [1, 1], groups: 1 }
    }
}

impl Conv2dSpec {
    /// A spec with the same padding on both sides of each dim, as PyTorch's
    /// `conv2d(stride, padding, dilation, groups)` arguments.
    pub fn new(stride: [usize; 2], padding: [usize; 2], dilation: [usize; 2], groups: usize) -> Self {
        Conv2dSpec { stride, padding: [[padding[0]; 2], [padding[1]; 2]], dilation, groups }
    }
}

/// Every size of one convolution, checked once.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    spec: Conv2dSpec,
}

/// The output positions `o` along one axis whose tap `o * stride + offset - pad` falls
/// inside `0..len`.
fn valid_outputs(out_len: usize, len: usize, stride: usize, offset: usize, pad: usize) -> std::ops::Range<usize> {
    let lo = if offset >= pad { 0 } else { (pad - offset).div_ceil(stride) };
    let hi = if len + pad > offset { (len + pad - offset).div_ceil(stride) } else { 0 };
    let hi = hi.min(out_len);
    lo.min(hi)..hi
}

/// One row of the column matrix: an input channel at one kernel offset (see
/// [`Geometry::for_each_tap`]).
struct Tap {
    row: usize,
    /// Output rows whose input row is inside the image.
    ys: std::ops::Range<usize>,
    /// The input row (counting over all channels) read by output row `ys.start`.
    y0: usize,
    /// Output columns whose input column is inside the image.
    xs: std::ops::Range<usize>,
    /// The input column read by output column `xs.start`.
    x0: usize,
    stride: [usize; 2],
}

impl Tap {
    /// The input row (counting over all channels) that output row `y` reads.
    fn input_row(&self, y: usize) -> usize {
        self.y0 + (y - self.ys.start) * self.stride[0]
    }
}

/// `dst.copy_from_slice(src)` for the few elements of an output row (a 3x3 output has
/// rows of 3) without a `memcpy` call: up to 32 elements move as two fixed-size blocks
/// that may overlap, as small-size `memcpy` does, but inlined.
#[inline(always)]
fn copy_short<T: Copy>(dst: &mut [T], src: &[T]) {
    let n = dst.len();
    let mut blocks = |size: usize, copy: fn(&mut [T], &[T], usize)| {
        copy(dst, src, 0);
        copy(dst, src, n - size);
    };
    match n {
        33.. => dst.copy_from_slice(src),
        16.. => blocks(16, copy_block::<T, 16>),
        8.. => blocks(8, copy_block::<T, 8>),
        4.. => blocks(4, copy_block::<T, 4>),
        _ => {
            for at in 0..3 {
                if at < n {
                    dst[at] = src[at];
                }
            }
        }
    }
}

#[inline(always)]
fn copy_block<T: Copy, const N: usize>(dst: &mut [T], src: &[T], at: usize) {
    let block: [T; N] = src[at..at + N].try_into().expect("a block inside the row");
    dst[at..at + N].copy_from_slice(&block);
}

impl Geometry {
    #[track_caller]
    fn new(input: &[usize], weight: &[usize], spec: &Conv2dSpec) -> Geometry {
        let (&[n, c_in, h, w], &[c_out, c_in_g, kh, kw]) = (input, weight) else {
            panic!(
                "conv2d: expected a 4-D input [N, C_in, H, W] and a 4-D weight [C_out, C_in/groups, kH, kW], got input {input:?} and weight {weight:?}"
            );
        };
        let g = spec.groups;
        if g == 0 || spec.stride.contains(&0) || spec.dilation.contains(&0) {
            panic!(
                "conv2d: groups, stride and dilation must be positive, got groups={g}, stride={:?}, dilation={:?} (input {input:?}, weight {weight:?})",
                spec.stride, spec.dilation
            );
        }
        if c_in_g * g != c_in || !c_out.is_multiple_of(g) {
            panic!(
                "conv2d: input {input:?} and weight {weight:?} with groups={g} do not fit: expected {c_in} input channels = weight dim 1 ({c_in_g}) * groups, and output channels ({c_out}) divisible by groups"
            );
        }
        let padded = [h + spec.padding[0][0] + spec.padding[0][1], w + spec.padding[1][0] + spec.padding[1][1]];
        let reach = [spec.dilation[0] * (kh.max(1) - 1) + 1, spec.dilation[1] * (kw.max(1) - 1) + 1];
        if kh == 0 || kw == 0 || padded[0] < reach[0] || padded[1] < reach[1] {
            panic!(
                "conv2d: input {input:?} padded to {padded:?} is smaller than the kernel of weight {weight:?} (dilated extent {reach:?})"
            );
        }
        let oh = (padded[0] - reach[0]) / spec.stride[0] + 1;
        let ow = (padded[1] - reach[1]) / spec.stride[1] + 1;
        Geometry { n, c_in, h, w, c_out, kh, kw, oh, ow, spec: *spec }
    }

    fn output_shape(&self) -> [usize; 4] {
        [self.n, self.c_out, self.oh, self.ow]
    }

    /// Output pixels per channel: the columns of every GEMM.
    fn p(&self) -> usize {
        self.oh * self.ow
    }

    /// Rows of one group's column matrix: `C_in/groups * kH * kW`.
    fn k(&self) -> usize {
        self.c_in / self.spec.groups * self.kh * self.kw
    }

    fn c_out_g(&self) -> usize {
        self.c_out / self.spec.groups
    }

    fn image_len(&self) -> usize {
        self.c_in * self.h * self.w
    }

    fn macs(&self) -> usize {
        self.n * self.c_out * self.p() * self.k()
    }

    /// Images unrolled side by side into one column matrix, so every GEMM is at least
    /// [`GEMM_COLUMNS`] wide: a 5x5 output alone would give GEMMs 9 columns wide, which
    /// waste most of matrixmultiply's micro-kernel and repack the weight per image.
    fn batch(&self) -> usize {
        GEMM_COLUMNS.div_ceil(self.p().max(1))
    }

    /// True when a lone image is its own column matrix (1x1 kernel, stride 1, no padding).
    fn is_pointwise(&self) -> bool {
        let s = &self.spec;
        self.kh == 1 && self.kw == 1 && s.stride == [1, 1] && s.padding == [[0, 0], [0, 0]]
    }

    /// Elements of one image's columns: `C_in*kH*kW` rows of `oH*oW`.
    fn columns_per_image(&self) -> usize {
        self.c_in * self.kh * self.kw * self.p()
    }

    /// Scratch for one part of `m` images (see [`images_per_part`]): the column matrix
    /// (unless `with_col` is false) and, when images are batched, an output (or output
    /// gradient) in `[C_out, m*oH*oW]` layout.
    fn buffers<T: Element>(&self, m: usize, with_col: bool) -> (Vec<T>, Vec<T>) {
        let col = if !with_col || m == 1 && self.is_pointwise() { 0 } else { m * self.columns_per_image() };
        let wide = if m == 1 { 0 } else { self.c_out * m * self.p() };
        (vec![T::zero(); col], vec![T::zero(); wide])
    }

    /// Calls `f(tap)` for each row of the column matrix, i.e. each input channel and
    /// kernel offset: output row `y` of the tap reads input row `tap.input_row(y)` for
    /// `y` in `tap.ys`, and within it, output pixels `x` in `tap.xs` read columns
    /// `tap.x0 + (x - xs.start) * stride` on; everything else reads padding.
    fn for_each_tap(&self, mut f: impl FnMut(&Tap)) {
        let s = &self.spec;
        let [[pt, _], [pl, _]] = s.padding;
        let xs: Vec<(std::ops::Range<usize>, usize)> = (0..self.kw)
            .map(|kj| {
                let xs = valid_outputs(self.ow, self.w, s.stride[1], kj * s.dilation[1], pl);
                // With no valid output (a tap that only ever reads padding), any start
                // inside the row will do: nothing is read from it.
                let x0 = if xs.is_empty() { 0 } else { xs.start * s.stride[1] + kj * s.dilation[1] - pl };
                (xs, x0)
            })
            .collect();
        for c in 0..self.c_in {
            for ki in 0..self.kh {
                let ys = valid_outputs(self.oh, self.h, s.stride[0], ki * s.dilation[0], pt);
                let y0 = if ys.is_empty() { 0 } else { c * self.h + ys.start * s.stride[0] + ki * s.dilation[0] - pt };
                for (kj, (xs, x0)) in xs.iter().enumerate() {
                    let row = (c * self.kh + ki) * self.kw + kj;
                    f(&Tap { row, ys: ys.clone(), y0, xs: xs.clone(), x0: *x0, stride: s.stride });
                }
            }
        }
    }

    /// Unrolls one image `[C_in, H, W]` into its `oH*oW` columns of `col`, a column
    /// matrix `[C_in*kH*kW, ld]` that starts at this image's first column.
    fn im2col<T: Element>(&self, img: &[T], col: &mut [T], ld: usize) {
        let (ow, w) = (self.ow, self.w);
        self.for_each_tap(|tap| {
            let dst = &mut col[tap.row * ld..tap.row * ld + self.oh * ow];
            dst[..tap.ys.start * ow].fill(T::zero());
            dst[tap.ys.end * ow..].fill(T::zero());
            for y in tap.ys.clone() {
                let out = &mut dst[y * ow..(y + 1) * ow];
                let src = &img[tap.input_row(y) * w..][..w];
                out[..tap.xs.start].fill(T::zero());
                out[tap.xs.end..].fill(T::zero());
                let out = &mut out[tap.xs.clone()];
                if tap.stride[1] == 1 {
                    copy_short(out, &src[tap.x0..tap.x0 + out.len()]);
                } else {
                    for (o, &v) in out.iter_mut().zip(src[tap.x0..].iter().step_by(tap.stride[1])) {
                        *o = v;
                    }
                }
            }
        });
    }

    /// Adds one image's columns of `col` (laid out as in [`Geometry::im2col`]) back onto
    /// the image `img` they were unrolled from: the adjoint of `im2col`.
    fn col2im<T: Element>(&self, col: &[T], ld: usize, img: &mut [T]) {
        let (ow, w) = (self.ow, self.w);
        self.for_each_tap(|tap| {
            for y in tap.ys.clone() {
                let src = &col[tap.row * ld + y * ow..][tap.xs.clone()];
                let dst = &mut img[tap.input_row(y) * w..][..w];
                if tap.stride[1] == 1 {
                    for (d, &v) in dst[tap.x0..tap.x0 + src.len()].iter_mut().zip(src) {
                        *d += v;
                    }
                } else {
                    for (d, &v) in dst[tap.x0..].iter_mut().step_by(tap.stride[1]).zip(src) {
                        *d += v;
                    }
                }
            }
        });
    }

    /// The column matrix `[C_in*kH*kW, m*oH*oW]` of `m` consecutive images: a lone
    /// pointwise image itself, else `col` filled.
    fn columns<'a, T: Element>(&self, imgs: &'a [T], m: usize, col: &'a mut [T]) -> &'a [T] {
        if m == 1 && self.is_pointwise() {
            return imgs;
        }
        if self.columns_per_image() == 0 {
            // No input channels (or no output pixels): no rows to unroll.
            return &[];
        }
        let (p, len) = (self.p(), self.image_len());
        for i in 0..m {
            self.im2col(&imgs[i * len..(i + 1) * len], &mut col[i * p..], m * p);
        }
        &col[..self.c_in * self.kh * self.kw * m * p]
    }

    /// `dst[C_out, ld] = W_g @ cols_g` per group (+ bias), for a column matrix `ld` wide.
    /// Writes every element of `dst` without reading it first, so it may start
    /// uninitialised.
    fn gemm_forward<T: Gemm>(
        &self,
        weight: &[T],
        bias: Option<&[T]>,
        cols: &[T],
        ld: usize,
        dst: &mut [MaybeUninit<T>],
    ) {
        let (k, m) = (self.k(), self.c_out_g());
        if let Some(b) = bias {
            for (row, &v) in dst.chunks_exact_mut(ld).zip(b) {
                row.fill(MaybeUninit::new(v));
            }
        }
        for g in 0..self.spec.groups {
            let a = MatRef { ptr: weight[g * m * k..].as_ptr(), rs: k as isize, cs: 1 };
            let b = MatRef { ptr: cols[g * k * ld..].as_ptr(), rs: ld as isize, cs: 1 };
            // SAFETY: group g's weight rows are `m x k` at `g*m*k` of `weight`
            // ([C_out, k]), its column rows `k x ld` at `g*k*ld` of `cols`
            // ([groups*k, ld]), and its output rows `m x ld` at `g*m*ld` of `dst`
            // ([C_out, ld]), all in bounds; `dst` belongs to this part alone. Without a
            // bias the product overwrites `dst` (beta 0) and never reads it.
            let c = dst[g * m * ld..].as_mut_ptr().cast::<T>();
            unsafe { T::gemm(GemmCall { m, k, n: ld, a, b, c, ldc: ld, accumulate: bias.is_some() }) };
        }
    }

    /// The outputs `[m, C_out, oH*oW]` of `m` consecutive images, all written.
    #[allow(clippy::too_many_arguments)]
    fn forward_images<T: Gemm>(
        &self,
        imgs: &[T],
        m: usize,
        weight: &[T],
        bias: Option<&[T]>,
        (col, wide): (&mut [T], &mut [T]),
        out: &mut [MaybeUninit<T>],
    ) {
        let p = self.p();
        let cols = self.columns(imgs, m, col);
        if m == 1 {
            return self.gemm_forward(weight, bias, cols, p, out);
        }
        let wide = &mut wide[..self.c_out * m * p];
        // SAFETY: `gemm_forward` stores only initialised values into `wide`.
        self.gemm_forward(weight, bias, cols, m * p, unsafe { as_uninit(wide) });
        for (o, row) in wide.chunks_exact(m * p).enumerate() {
            for (i, src) in row.chunks_exact(p).enumerate() {
                for (slot, &v) in out[(i * self.c_out + o) * p..][..p].iter_mut().zip(src) {
                    slot.write(v);
                }
            }
        }
    }

    /// The gradients from `m` consecutive images, whose column matrix is `kept` from the
    /// forward pass or else rebuilt: adds `gy_g @ cols_g^T` to `gw` and
    /// the row sums of `gy` to `gb`, and writes the input gradient
    /// `col2im(W_g^T @ gy_g)` into `gx` (zeroed by the caller).
    #[allow(clippy::too_many_arguments)]
    fn backward_images<T: Gemm>(
        &self,
        imgs: &[T],
        m: usize,
        kept: Option<&[T]>,
        weight: &[T],
        gy: &[T],
        (col, wide): (&mut [T], &mut [T]),
        gx: Option<&mut [T]>,
        gw: Option<&mut [T]>,
        gb: Option<&mut [T]>,
    ) {
        let (p, k, mo) = (self.p(), self.k(), self.c_out_g());
        let ld = m * p;
        // The output gradient as `[C_out, ld]`: as given for one image, else gathered.
        let gy: &[T] = if m == 1 {
            gy
        } else {
            let wide = &mut wide[..self.c_out * ld];
            for (o, row) in wide.chunks_exact_mut(ld).enumerate() {
                for (i, dst) in row.chunks_exact_mut(p).enumerate() {
                    dst.copy_from_slice(&gy[(i * self.c_out + o) * p..][..p]);
                }
            }
            wide
        };
        if let Some(gb) = gb.filter(|_| ld > 0) {
            for (s, row) in gb.iter_mut().zip(gy.chunks_exact(ld)) {
                *s += lane_sum(row);
            }
        }
        if let Some(gw) = gw {
            let cols = match kept {
                Some(cols) => cols,
                None => self.columns(imgs, m, col),
            };
            for g in 0..self.spec.groups {
                let a = MatRef { ptr: gy[g * mo * ld..].as_ptr(), rs: ld as isize, cs: 1 };
                let b = MatRef { ptr: cols[g * k * ld..].as_ptr(), rs: 1, cs: ld as isize };
                // SAFETY: `gy_g` is `mo x ld` at `g*mo*ld` of the `[C_out, ld]` gradient,
                // `cols_g^T` reads the `k x ld` block at `g*k*ld` transposed, and `gw_g`
                // is the `mo x k` block at `g*mo*k` of this part's own `[C_out, k]` sum.
                unsafe {
                    T::gemm(GemmCall {
                        m: mo,
                        k: ld,
                        n: k,
                        a,
                        b,
                        c: gw[g * mo * k..].as_mut_ptr(),
                        ldc: k,
                        accumulate: true,
                    })
                };
            }
        }
        if let Some(gx) = gx {
            let direct = m == 1 && self.is_pointwise();
            let target: &mut [T] = if direct { gx } else { col };
            for g in 0..self.spec.groups {
                let a = MatRef { ptr: weight[g * mo * k..].as_ptr(), rs: 1, cs: k as isize };
                let b = MatRef { ptr: gy[g * mo * ld..].as_ptr(), rs: ld as isize, cs: 1 };
                // SAFETY: `W_g^T` reads the `mo x k` block at `g*mo*k` of `weight`
                // transposed, `gy_g` is `mo x ld` as above, and the `k x ld` result goes
                // to rows `g*k..(g+1)*k` of `target` (this part's column buffer, or a lone
                // pointwise image's own gradient; both `[groups*k, ld]`).
                unsafe {
                    T::gemm(GemmCall {
                        m: k,
                        k: mo,
                        n: ld,
                        a,
                        b,
                        c: target[g * k * ld..].as_mut_ptr(),
                        ldc: ld,
                        accumulate: false,
                    })
                };
            }
            if !direct {
                let len = self.image_len();
                for i in 0..m {
                    self.col2im(&col[i * p..], ld, &mut gx[i * len..(i + 1) * len]);
                }
            }
        }
    }
}

/// The width a GEMM's column matrix should reach by unrolling several images side by
/// side (see [`Geometry::batch`]).
const GEMM_COLUMNS: usize = 512;

/// The fewest parts a convolution splits its images into (when it has that many):
/// enough for four threads to share a layer whose output is so small that one GEMM
/// could take every image. Narrower GEMMs cost a little: the MNIST CNN's last
/// convolution (3x3 outputs, batch 32) takes ~10% longer at 2 threads in 4 parts of 8
/// images than in 2 parts of 16.
const MIN_PARTS: usize = 4;

/// Images per part: those of one GEMM ([`Geometry::batch`]), but no more than a
/// [`MIN_PARTS`]th of all. It depends on the shapes alone, not on the thread count.
fn images_per_part(geo: &Geometry) -> usize {
    geo.batch().min(geo.n.div_ceil(MIN_PARTS)).max(1)
}

/// `f(part, item)` for each item in order: on the calling thread and the pool when the
/// convolution is big enough to be worth handing out, else on the calling thread alone
/// (with the same parts, so with the same results).
fn each_part<I: Send, R: Send>(geo: &Geometry, items: Vec<I>, f: impl Fn(usize, I) -> R + Sync) -> Vec<R> {
    if geo.macs() >= CONV_PARALLEL_MACS {
        map_parts(items, f)
    } else {
        items.into_iter().enumerate().map(|(i, item)| f(i, item)).collect()
    }
}

/// The output and, when `keep` is set, the output is not empty and the kernel is not
/// pointwise, the column matrices of every batch of images (see [`Conv2dContext`]).
fn forward<T: Gemm + FloatElement>(
    geo: &Geometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    keep: bool,
) -> (Vec<T>, Option<Vec<T>>) {
    if let Some(plan) = winograd::Plan::new(geo) {
        return plan.forward(x, w, bias, keep);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(plan) = direct::Plan::new::<T>(geo) {
        // Nothing kept: the backward pass reads the input itself.
        return (plan.forward(x, w, bias), None);
    }
    let len = geo.output_shape().iter().product();
    let mut out = Vec::with_capacity(len);
    let keep = keep && !geo.is_pointwise();
    let cols_len = if keep { geo.n * geo.columns_per_image() } else { 0 };
    let mut kept = Vec::with_capacity(cols_len);
    let (img_in, img_out) = (geo.image_len(), geo.c_out * geo.p());
    if len == 0 {
        return (out, None);
    }
    let per = images_per_part(geo);
    // (`max(1)`: images without input channels have no columns.)
    let mut kept_parts = kept.spare_capacity_mut()[..cols_len].chunks_mut((per * geo.columns_per_image()).max(1));
    let parts = out.spare_capacity_mut()[..len].chunks_mut(per * img_out).map(|out| (out, kept_parts.next())).collect();
    each_part(geo, parts, |part, (out, kept)| {
        let (first, m) = (part * per, out.len() / img_out);
        let (mut col, mut wide) = geo.buffers(m, kept.is_none());
        let col = match kept {
            Some(kept) => zeroed(kept),
            None => &mut col[..],
        };
        geo.forward_images(&x[first * img_in..(first + m) * img_in], m, w, bias, (col, &mut wide), out);
    });
    // SAFETY: `each_part` ran every part of `0..len`, and `forward_images` wrote every
    // output of the images it was given; when kept, every part's columns were zeroed
    // (then filled) by `zeroed`, and the parts cover `0..cols_len`.
    unsafe {
        out.set_len(len);
        kept.set_len(cols_len);
    }
    (out, keep.then_some(kept))
}

/// `s` as slots that may be written: for a buffer that a kernel overwrites.
///
/// # Safety
/// Only initialised values may be stored through the result (it aliases `s`).
unsafe fn as_uninit<T>(s: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout; the caller keeps every slot initialised.
    unsafe { &mut *(s as *mut [T] as *mut [MaybeUninit<T>]) }
}

/// The input, weight and bias gradients, each computed only if `needs` says so, with
/// the forward pass's column matrices when `kept` (made with the same parts).
fn backward<T: Gemm + FloatElement>(
    geo: &Geometry,
    x: &[T],
    w: &[T],
    gy: &[T],
    needs: [bool; 3],
    kept: Option<&[T]>,
) -> [Option<Vec<T>>; 3] {
    if let Some(plan) = winograd::Plan::new(geo) {
        return plan.backward(x, w, gy, needs, kept);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(plan) = direct::Plan::new::<T>(geo).filter(|_| !needs[0]) {
        let [gw, gb] = plan.weight_grad(x, gy, [needs[1], needs[2]]);
        return [None, gw, gb];
    }
    let (img_in, img_out) = (geo.image_len(), geo.c_out * geo.p());
    let gx_len = if needs[0] { x.len() } else { 0 };
    let mut gx = Vec::with_capacity(gx_len);
    let per = images_per_part(geo);
    let chunks: Vec<Option<&mut [MaybeUninit<T>]>> = if needs[0] && img_in > 0 {
        gx.spare_capacity_mut()[..gx_len].chunks_mut(per * img_in).map(Some).collect()
    } else {
        (0..geo.n.div_ceil(per)).map(|_| None).collect()
    };
    let cols_per_image = geo.columns_per_image();
    let partials = each_part(geo, chunks, |part, gx| {
        let (first, m) = (part * per, per.min(geo.n - part * per));
        let (mut col, mut wide) = geo.buffers(m, needs[0] || kept.is_none());
        let mut gw = needs[1].then(|| vec![T::zero(); w.len()]);
        let mut gb = needs[2].then(|| vec![T::zero(); geo.c_out]);
        let (imgs, gy) = (&x[first * img_in..(first + m) * img_in], &gy[first * img_out..(first + m) * img_out]);
        let cols = kept.map(|k| &k[first * cols_per_image..(first + m) * cols_per_image]);
        let buffers = (&mut col[..], &mut wide[..]);
        geo.backward_images(imgs, m, cols, w, gy, buffers, gx.map(zeroed), gw.as_deref_mut(), gb.as_deref_mut());
        [gw, gb]
    });
    // SAFETY: when the input gradient is needed, `each_part` ran every piece of
    // `0..gx_len` and `zeroed` initialised each; otherwise `gx_len` is 0.
    unsafe { gx.set_len(gx_len) };
    // Partial sums are added in part order, and the parts follow from the shapes: the
    // same sums for any thread count.
    let [mut gw, mut gb] = [needs[1].then(|| vec![T::zero(); w.len()]), needs[2].then(|| vec![T::zero(); geo.c_out])];
    for [pw, pb] in partials {
        for (sum, part) in [(&mut gw, pw), (&mut gb, pb)] {
            if let (Some(sum), Some(part)) = (sum.as_mut(), part) {
                sum.iter_mut().zip(&part).for_each(|(s, &v)| *s += v);
            }
        }
    }
    [needs[0].then_some(gx), gw, gb]
}

/// The shape of `conv2d` of an input shaped `input` `[N, C_in, H, W]` with a weight
/// shaped `weight` `[C_out, C_in/groups, kH, kW]`: `[N, C_out, oH, oW]` with
/// `oH = (H + pad_top + pad_bottom - dilation*(kH-1) - 1) / stride + 1` (and so for W).
///
/// # Panics
/// If the shapes or the spec do not fit, naming both shapes.
#[track_caller]
pub fn conv2d_output_shape(input: &[usize], weight: &[usize], spec: &Conv2dSpec) -> Vec<usize> {
    Geometry::new(input, weight, spec).output_shape().to_vec()
}

/// `$body` with `$t` naming the Rust type of the float dtype `$dtype`; for an integer
/// dtype, a panic naming the op `$op`.
macro_rules! with_float_type {
    ($dtype:expr, $op:literal, $t:ident => $body:expr) => {
        match $dtype {
            DType::F32 => {
                type $t = f32;
                $body
            }
            DType::F64 => {
                type $t = f64;
                $body
            }
            DType::I64 => panic!(concat!($op, ": expected float tensors (f32 or f64), got i64")),
        }
    };
}

/// The operands cast to the dtype they promote to, and contiguous.
fn operands(arrays: &[&NdArray]) -> Vec<NdArray> {
    let dtype = arrays.iter().fold(arrays[0].dtype(), |t, a| DType::promote(t, a.dtype()));
    arrays.iter().map(|a| a.cast(dtype).contiguous()).collect()
}

fn slice<T: Element>(a: &NdArray) -> &[T] {
    a.as_slice::<T>().expect("conv2d: operands were cast and made contiguous")
}

impl NdArray {
    /// 2-D convolution (cross-correlation, as PyTorch) of this `[N, C_in, H, W]` input
    /// with `weight` `[C_out, C_in/groups, kH, kW]` and an optional `bias` `[C_out]`,
    /// giving `[N, C_out, oH, oW]` (see [`conv2d_output_shape`]). Float dtypes only;
    /// mixed operands are promoted as in `matmul`.
    ///
    /// ```
    /// use nabla_tensor::{Conv2dSpec, NdArray};
    /// let x = NdArray::from_vec((0..9).map(|v| v as f32).collect(), &[1, 1, 3, 3]);
    /// let w = NdArray::from_vec(vec![1.0f32, 1.0, 1.0, 1.0], &[1, 1, 2, 2]);
    /// let y = x.conv2d(&w, None, &Conv2dSpec::default());
    /// assert_eq!(y.to_vec::<f32>(), vec![8.0, 12.0, 20.0, 24.0]);
    /// ```
    ///
    /// # Panics
    /// If the shapes do not fit (the message names both), or for integer operands.
    #[track_caller]
    pub fn conv2d(&self, weight: &NdArray, bias: Option<&NdArray>, spec: &Conv2dSpec) -> NdArray {
        self.conv2d_run(weight, bias, spec, false).0
    }

    /// [`NdArray::conv2d`], also returning what its backward pass needs: the operands
    /// and the column matrices of the input (or, on the Winograd path, the transformed
    /// input tiles and kernels), so that [`Conv2dContext::backward`] does not unroll the
    /// input a second time for the weight gradient. The columns take `C_in*kH*kW` values
    /// per output pixel, the tiles `36*C_in` per 4x4 output tile and the kernels 36 per
    /// input-output channel pair (1.6 MB for the MNIST CNN's second layer at batch 32,
    /// where the columns would take 4.5 MB), until the context is dropped.
    ///
    /// ```
    /// use nabla_tensor::{Conv2dSpec, DType, NdArray};
    /// let x = NdArray::randn(&[2, 3, 6, 6], DType::F64);
    /// let w = NdArray::randn(&[4, 3, 3, 3], DType::F64);
    /// let spec = Conv2dSpec::default();
    /// let (y, context) = x.conv2d_for_backward(&w, None, &spec);
    /// let g = NdArray::ones(y.shape(), DType::F64);
    /// let [_, gw, _] = context.backward(&g, [false, true, false]);
    /// let [_, want, _] = x.conv2d_backward(&w, &g, &spec, [false, true, false]);
    /// assert_eq!(gw.unwrap().to_vec::<f64>(), want.unwrap().to_vec::<f64>());
    /// ```
    ///
    /// # Panics
    /// As [`NdArray::conv2d`].
    #[track_caller]
    pub fn conv2d_for_backward(
        &self,
        weight: &NdArray,
        bias: Option<&NdArray>,
        spec: &Conv2dSpec,
    ) -> (NdArray, Conv2dContext) {
        let (out, context) = self.conv2d_run(weight, bias, spec, true);
        (out, context.expect("conv2d_run keeps a context when asked"))
    }

    #[track_caller]
    fn conv2d_run(
        &self,
        weight: &NdArray,
        bias: Option<&NdArray>,
        spec: &Conv2dSpec,
        keep: bool,
    ) -> (NdArray, Option<Conv2dContext>) {
        let geo = Geometry::new(self.shape(), weight.shape(), spec);
        if let Some(b) = bias {
            if b.shape() != [geo.c_out] {
                panic!(
                    "conv2d: bias {:?} must have shape [{}] to match input {:?} and weight {:?}",
                    b.shape(),
                    geo.c_out,
                    self.shape(),
                    weight.shape()
                );
            }
        }
        pin_matrixmultiply_to_one_thread();
        let mut arrays = vec![self, weight];
        arrays.extend(bias);
        let mut ops = operands(&arrays);
        let (out, columns) = with_float_type!(ops[0].dtype(), "conv2d", T => {
            let (out, kept) = forward::<T>(&geo, slice(&ops[0]), slice(&ops[1]), ops.get(2).map(slice), keep);
            (T::into_storage(out), kept.map(T::into_storage))
        });
        let out = NdArray::from_storage(out, &geo.output_shape());
        if !keep {
            return (out, None);
        }
        ops.truncate(2);
        let columns = columns.map(|c| {
            let len = c.len();
            NdArray::from_storage(c, &[len])
        });
        (out, Some(Conv2dContext { geo, operands: ops, columns }))
    }

    /// The gradients of [`NdArray::conv2d`] with respect to its input (this array), its
    /// weight and its bias (`grad` summed over `[N, oH, oW]`), given the output gradient
    /// `grad`; `needs` says which to compute. All come in the promoted dtype.
    ///
    /// # Panics
    /// If the shapes do not fit, or `grad` does not have the output's shape.
    #[track_caller]
    pub fn conv2d_backward(
        &self,
        weight: &NdArray,
        grad: &NdArray,
        spec: &Conv2dSpec,
        needs: [bool; 3],
    ) -> [Option<NdArray>; 3] {
        let geo = Geometry::new(self.shape(), weight.shape(), spec);
        pin_matrixmultiply_to_one_thread();
        let ops = operands(&[self, weight, grad]);
        gradients(&geo, &ops[..2], &ops[2], needs, None)
    }
}

/// What [`NdArray::conv2d_for_backward`] keeps for the backward pass: the operands (in
/// their promoted dtype, sharing the caller's storage when no cast or copy was needed)
/// and, unless the kernel is pointwise, the column matrices of the input (the
/// transformed kernels and input tiles on the Winograd path).
#[derive(Clone, Debug)]
pub struct Conv2dContext {
    geo: Geometry,
    operands: Vec<NdArray>,
    columns: Option<NdArray>,
}

impl Conv2dContext {
    /// The gradients of the convolution with respect to its input, weight and bias, as
    /// [`NdArray::conv2d_backward`] gives them (`grad` is cast to the operands' dtype),
    /// with the kept columns for the weight gradient.
    ///
    /// # Panics
    /// If `grad` does not have the output's shape.
    #[track_caller]
    pub fn backward(&self, grad: &NdArray, needs: [bool; 3]) -> [Option<NdArray>; 3] {
        gradients(&self.geo, &self.operands, grad, needs, self.columns.as_ref())
    }
}

/// The gradients for [`NdArray::conv2d_backward`] and [`Conv2dContext::backward`], from
/// the promoted input and weight `ops`.
#[track_caller]
fn gradients(
    geo: &Geometry,
    ops: &[NdArray],
    grad: &NdArray,
    needs: [bool; 3],
    columns: Option<&NdArray>,
) -> [Option<NdArray>; 3] {
    if grad.shape() != geo.output_shape() {
        panic!(
            "conv2d_backward: grad {:?} must have the output shape {:?} of input {:?} and weight {:?}",
            grad.shape(),
            geo.output_shape(),
            ops[0].shape(),
            ops[1].shape()
        );
    }
    let grad = grad.cast(ops[0].dtype()).contiguous();
    let [gx, gw, gb] = with_float_type!(ops[0].dtype(), "conv2d_backward", T => {
        let kept = columns.map(slice::<T>);
        backward::<T>(geo, slice(&ops[0]), slice(&ops[1]), slice(&grad), needs, kept).map(|g| g.map(T::into_storage))
    });
    [
        gx.map(|s| NdArray::from_storage(s, ops[0].shape())),
        gw.map(|s| NdArray::from_storage(s, ops[1].shape())),
        gb.map(|s| NdArray::from_storage(s, &[geo.c_out])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, loop by loop, over `[N, C_in, H, W]` and `[C_out, C_in/g, kH, kW]`.
    fn naive(x: &NdArray, w: &NdArray, b: Option<&NdArray>, s: &Conv2dSpec) -> Vec<f64> {
        let geo = Geometry::new(x.shape(), w.shape(), s);
        let (xv, wv) = (x.to_vec::<f64>(), w.to_vec::<f64>());
        let bv = b.map(|b| b.to_vec::<f64>());
        let (cig, cog) = (geo.c_in / s.groups, geo.c_out_g());
        let mut out = vec![0.0; geo.output_shape().iter().product()];
        let mut i = 0;
        for n in 0..geo.n {
            for o in 0..geo.c_out {
                for y in 0..geo.oh {
                    for xo in 0..geo.ow {
                        let mut acc = bv.as_ref().map_or(0.0, |b| b[o]);
                        for c in 0..cig {
                            for ki in 0..geo.kh {
                                for kj in 0..geo.kw {
                                    let iy = (y * s.stride[0] + ki * s.dilation[0]) as isize - s.padding[0][0] as isize;
                                    let ix =
                                        (xo * s.stride[1] + kj * s.dilation[1]) as isize - s.padding[1][0] as isize;
                                    if iy < 0 || ix < 0 || iy >= geo.h as isize || ix >= geo.w as isize {
                                        continue;
                                    }
                                    let ci = o / cog * cig + c;
                                    let xi = ((n * geo.c_in + ci) * geo.h + iy as usize) * geo.w + ix as usize;
                                    acc += xv[xi] * wv[((o * cig + c) * geo.kh + ki) * geo.kw + kj];
                                }
                            }
                        }
                        out[i] = acc;
                        i += 1;
                    }
                }
            }
        }
        out
    }

    fn cases() -> Vec<([usize; 4], [usize; 4], Conv2dSpec)> {
        let spec = |stride, padding, dilation, groups| Conv2dSpec { stride, padding, dilation, groups };
        vec![
            ([2, 3, 7, 6], [4, 3, 3, 3], Conv2dSpec::default()),
            ([2, 3, 7, 6], [4, 3, 3, 2], spec([2, 3], [[1, 2], [0, 1]], [1, 1], 1)),
            ([1, 4, 9, 8], [6, 2, 3, 3], spec([1, 2], [[2, 2], [1, 1]], [2, 3], 2)),
            ([3, 4, 5, 5], [4, 1, 2, 2], spec([2, 2], [[1, 1], [1, 1]], [1, 1], 4)),
            ([2, 5, 4, 3], [3, 5, 1, 1], Conv2dSpec::default()),
            ([2, 5, 4, 3], [3, 5, 1, 1], spec([2, 1], [[0, 0], [0, 0]], [1, 1], 1)),
            // Enough work for the pool: 32 * 64 * 121 * 288 multiply-adds.
            ([32, 32, 13, 13], [64, 32, 3, 3], Conv2dSpec::default()),
            // Winograd: "same" padding with 4x4 tiles overhanging a 9x7 output,
            // uneven padding, and an output smaller than one tile.
            ([2, 16, 9, 7], [16, 16, 3, 3], spec([1, 1], [[1, 1], [1, 1]], [1, 1], 1)),
            ([1, 16, 6, 10], [20, 16, 3, 3], spec([1, 1], [[0, 2], [1, 0]], [1, 1], 1)),
            ([3, 17, 3, 3], [16, 17, 3, 3], Conv2dSpec::default()),
        ]
    }

    #[test]
    fn winograd_takes_the_3x3_stride_1_layers_with_enough_channels() {
        let takes = |xs: &[usize], ws: &[usize], spec| winograd::Plan::new(&Geometry::new(xs, ws, &spec)).is_some();
        let cases = cases();
        assert_eq!(cases.iter().filter(|(xs, ws, spec)| takes(xs, ws, *spec)).count(), 4);
        // The MNIST CNN: not the first layer (one input channel), but the other two.
        assert!(!takes(&[32, 1, 28, 28], &[32, 1, 3, 3], Conv2dSpec::default()));
        assert!(takes(&[32, 64, 5, 5], &[64, 64, 3, 3], Conv2dSpec::default()));
        assert!(!takes(&[2, 16, 9, 9], &[16, 16, 3, 3], Conv2dSpec::new([2, 2], [1, 1], [1, 1], 1)));
        assert!(!takes(&[2, 32, 9, 9], &[32, 16, 3, 3], Conv2dSpec::new([1, 1], [1, 1], [1, 1], 2)));
    }

    #[test]
    fn winograd_in_f32_errs_by_a_few_millionths_of_the_output_scale() {
        // The transforms scale terms by up to 8 and 1/24 before they cancel, so f32
        // results are less exact than a direct sum's: measured, the worst error here is
        // about 3e-6 of the largest output, where a direct f32 sum (numpy) gives 6e-7.
        // A wrong coefficient would give errors of the outputs' own size.
        crate::set_num_threads(1);
        let (x, w) = (NdArray::randn(&[4, 32, 13, 13], DType::F64), NdArray::randn(&[64, 32, 3, 3], DType::F64));
        let spec = Conv2dSpec::default();
        let want = naive(&x, &w, None, &spec);
        let got = x.cast(DType::F32).conv2d(&w.cast(DType::F32), None, &spec).to_vec::<f32>();
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = got.iter().zip(&want).fold(0.0f64, |m, (&g, w)| m.max((g as f64 - w).abs()));
        assert!(worst < 1e-5 * scale, "worst error {worst:e} of largest output {scale}");
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_direct_f32_path_agrees_with_im2col_in_f64() {
        // Few input channels, stride 1, no padding: rows of 8 to 26 outputs (the last
        // vector overlapping, masked tails in the weight gradient), one to 26 rows, 2 to
        // 27 taps (passes of 3 with 1 or 2 left), blocks of 1 to 4 output channels.
        let spec = Conv2dSpec::default();
        for (xs, ws) in [
            ([2, 1, 12, 11], [5, 1, 3, 3]),
            ([3, 3, 10, 20], [6, 3, 3, 3]),
            ([2, 2, 9, 16], [3, 2, 2, 5]),
            ([1, 1, 4, 9], [2, 1, 1, 2]),
            ([2, 1, 2, 12], [4, 1, 2, 2]),
            ([4, 1, 28, 28], [32, 1, 3, 3]),
        ] {
            let taken = direct::Plan::new::<f32>(&Geometry::new(&xs, &ws, &spec)).is_some();
            assert_eq!(taken, crate::simd::has_avx2_fma(), "{xs:?} {ws:?}");
            let (x, w, b) = (
                NdArray::randn(&xs, DType::F64),
                NdArray::randn(&ws, DType::F64),
                NdArray::randn(&[ws[0]], DType::F64),
            );
            let f32s = |a: &NdArray| a.cast(DType::F32);
            let (y, context) = f32s(&x).conv2d_for_backward(&f32s(&w), Some(&f32s(&b)), &spec);
            assert!(context.columns.is_none(), "{xs:?} {ws:?}: the direct path keeps no columns");
            let close = |got: &NdArray, want: &NdArray, what: &str| {
                assert_eq!(got.shape(), want.shape(), "{xs:?} {ws:?} {what}");
                for (g, w) in got.to_vec::<f32>().iter().zip(want.to_vec::<f64>()) {
                    assert!((*g as f64 - w).abs() < 1e-4 * w.abs().max(1.0), "{xs:?} {ws:?} {what}: {g} vs {w}");
                }
            };
            close(&y, &x.conv2d(&w, Some(&b), &spec), "output");
            let g = NdArray::randn(y.shape(), DType::F64);
            let [gx, gw, gb] = context.backward(&f32s(&g), [false, true, true]);
            let [_, want_w, want_b] = x.conv2d_backward(&w, &g, &spec, [false, true, true]);
            assert!(gx.is_none());
            close(&gw.unwrap(), &want_w.unwrap(), "weight gradient");
            close(&gb.unwrap(), &want_b.unwrap(), "bias gradient");
            // The input gradient, which the direct path leaves to im2col, still comes.
            let [gx, ..] = context.backward(&f32s(&g), [true, false, false]);
            close(
                &gx.unwrap(),
                &x.conv2d_backward(&w, &g, &spec, [true, false, false])[0].clone().unwrap(),
                "input gradient",
            );
        }
    }

    #[test]
    fn forward_matches_naive_and_backward_is_its_adjoint() {
        crate::set_num_threads(2);
        for (xs, ws, spec) in cases() {
            let x = NdArray::randn(&xs, DType::F64);
            let w = NdArray::randn(&ws, DType::F64);
            let b = NdArray::randn(&[ws[0]], DType::F64);
            let y = x.conv2d(&w, Some(&b), &spec);
            for (got, want) in y.to_vec::<f64>().iter().zip(naive(&x, &w, Some(&b), &spec)) {
                assert!((got - want).abs() < 1e-9, "{xs:?} {ws:?} {spec:?}: {got} vs {want}");
            }
            // conv is linear in x and in w, so <g, conv(x, w)> = <gx, x> = <gw, w>.
            let g = NdArray::randn(y.shape(), DType::F64);
            let [gx, gw, gb] = x.conv2d_backward(&w, &g, &spec, [true, true, true]);
            let dot = |a: &NdArray, b: &NdArray| a.mul(b).sum_all().item();
            let lhs = dot(&g, &x.conv2d(&w, None, &spec));
            for rhs in [dot(&gx.unwrap(), &x), dot(&gw.unwrap(), &w)] {
                assert!((lhs - rhs).abs() < 1e-8 * lhs.abs().max(1.0), "{xs:?} {ws:?} {spec:?}: {lhs} vs {rhs}");
            }
            let want = g.sum(&[0, 2, 3], false).to_vec::<f64>();
            for (got, want) in gb.unwrap().to_vec::<f64>().iter().zip(want) {
                assert!((got - want).abs() < 1e-9 * want.abs().max(1.0), "{xs:?} {ws:?} {spec:?}: bias grad");
            }
        }
    }

    #[test]
    fn the_thread_count_changes_no_result() {
        // Several parts per layer (7 of 5 images, 4 of 8, 32 of 1), summed into the
        // weight and bias gradients.
        for (xs, ws) in
            [([32, 32, 13, 13], [64, 32, 3, 3]), ([32, 64, 5, 5], [64, 64, 3, 3]), ([32, 1, 28, 28], [32, 1, 3, 3])]
        {
            let (x, w) = (NdArray::randn(&xs, DType::F32), NdArray::randn(&ws, DType::F32));
            let b = NdArray::randn(&[ws[0]], DType::F32);
            let run = |t| {
                crate::set_num_threads(t);
                let (y, context) = x.conv2d_for_backward(&w, Some(&b), &Conv2dSpec::default());
                let g = y.sin();
                let grads = context.backward(&g, [true, true, true]).map(|g| g.unwrap().to_vec::<f32>());
                // Without the input gradient, a first layer takes the direct path.
                let [_, gw, gb] = context.backward(&g, [false, true, true]).map(|g| g.map(|g| g.to_vec::<f32>()));
                (y.to_vec::<f32>(), grads, [gw, gb])
            };
            let one = run(1);
            for threads in [2, 3] {
                assert!(one == run(threads), "{xs:?} {ws:?} with {threads} threads");
            }
        }
    }

    #[test]
    fn kept_columns_give_the_same_gradients_as_unrolling_again() {
        for threads in [1, 2] {
            for (xs, ws, spec) in cases() {
                crate::set_num_threads(threads);
                let x = NdArray::randn(&xs, DType::F32);
                let w = NdArray::randn(&ws, DType::F32);
                let b = NdArray::randn(&[ws[0]], DType::F32);
                let (y, context) = x.conv2d_for_backward(&w, Some(&b), &spec);
                assert_eq!(y.to_vec::<f32>(), x.conv2d(&w, Some(&b), &spec).to_vec::<f32>());
                assert_eq!(context.columns.is_some(), !context.geo.is_pointwise(), "{xs:?} {ws:?}");
                let g = NdArray::randn(y.shape(), DType::F32);
                let want = x.conv2d_backward(&w, &g, &spec, [true, true, true]);
                // Also after the thread count changed: the parts do not depend on it.
                for now in [threads, 3 - threads] {
                    crate::set_num_threads(now);
                    let got = context.backward(&g, [true, true, true]);
                    for (got, want) in got.iter().zip(&want) {
                        let (got, want) = (got.as_ref().unwrap(), want.as_ref().unwrap());
                        assert_eq!(got.to_vec::<f32>(), want.to_vec::<f32>(), "{xs:?} {ws:?} {spec:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn empty_channels_and_images_keep_no_columns_and_still_differentiate() {
        let cases = [
            ([2, 0, 5, 5], [3, 0, 3, 3]),
            ([2, 3, 5, 5], [0, 3, 3, 3]),
            ([0, 3, 5, 5], [4, 3, 3, 3]),
            // Winograd's path, with no tiles to sum over.
            ([0, 16, 5, 5], [16, 16, 3, 3]),
        ];
        for (xs, ws) in cases {
            let (x, w) = (NdArray::randn(&xs, DType::F32), NdArray::randn(&ws, DType::F32));
            let (y, context) = x.conv2d_for_backward(&w, None, &Conv2dSpec::default());
            // With no input channels every output is an empty sum.
            assert!(y.to_vec::<f32>().iter().all(|&v| v == 0.0), "{xs:?} {ws:?}");
            let g = NdArray::ones(y.shape(), DType::F32);
            let got = context.backward(&g, [true, true, true]);
            let want = x.conv2d_backward(&w, &g, &Conv2dSpec::default(), [true, true, true]);
            for (got, want) in got.iter().zip(&want) {
                let (got, want) = (got.as_ref().unwrap(), want.as_ref().unwrap());
                assert_eq!((got.shape(), got.to_vec::<f32>()), (want.shape(), want.to_vec::<f32>()), "{xs:?} {ws:?}");
            }
            // Without images the weight and bias gradients are empty sums.
            if xs[0] == 0 {
                for g in &got[1..] {
                    assert!(g.as_ref().unwrap().to_vec::<f32>().iter().all(|&v| v == 0.0), "{xs:?} {ws:?}");
                }
            }
        }
    }

    #[test]
    #[should_panic(
        expected = "conv2d: input [1, 3, 5, 5] and weight [4, 2, 3, 3] with groups=1 do not fit: expected 3 input channels"
    )]
    fn channel_mismatch_names_both_shapes() {
        NdArray::zeros(&[1, 3, 5, 5], DType::F32).conv2d(
            &NdArray::zeros(&[4, 2, 3, 3], DType::F32),
            None,
            &Conv2dSpec::default(),
        );
    }

    #[test]
    #[should_panic(expected = "conv2d: expected float tensors (f32 or f64), got i64")]
    fn integer_operands_are_refused_by_name() {
        let x = NdArray::zeros(&[1, 1, 3, 3], DType::I64);
        x.conv2d(&NdArray::zeros(&[1, 1, 2, 2], DType::I64), None, &Conv2dSpec::default());
    }

    #[test]
    #[should_panic(expected = "conv2d_backward: expected float tensors (f32 or f64), got i64")]
    fn integer_gradients_are_refused_by_name() {
        let x = NdArray::zeros(&[1, 1, 3, 3], DType::I64);
        let g = NdArray::zeros(&[1, 1, 2, 2], DType::I64);
        x.conv2d_backward(&NdArray::zeros(&[1, 1, 2, 2], DType::I64), &g, &Conv2dSpec::default(), [true; 3]);
    }

    #[test]
    #[should_panic(
        expected = "conv2d: input [1, 1, 2, 2] padded to [2, 2] is smaller than the kernel of weight [1, 1, 3, 3]"
    )]
    fn kernel_larger_than_input() {
        NdArray::zeros(&[1, 1, 2, 2], DType::F32).conv2d(
            &NdArray::zeros(&[1, 1, 3, 3], DType::F32),
            None,
            &Conv2dSpec::default(),
        );
    }
}
