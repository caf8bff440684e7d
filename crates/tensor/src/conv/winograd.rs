//! 3x3 convolutions with stride 1 by Winograd's minimal filtering, F(4x4, 3x3) (Lavin and
//! Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
//!
//! The output is cut into 4x4 tiles, each computed from a 6x6 input tile. Input tiles
//! and 3x3 kernels are both moved into a 36-point transform domain, where the
//! convolution becomes a pointwise product: `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`. Summed over
//! input channels, each of the 36 points is one GEMM, `[C_out, C_in] x [C_in, tiles]`,
//! with 36 multiply-adds per 16 outputs instead of 144: the MNIST CNN's second layer
//! needs 3.4x fewer, the 4x4 tiles covering its 11x11 output included. The backward
//! pass runs the adjoints: the output gradient moves into the transform domain with
//! `A`, the input gradient comes back with `B` (overlapping tiles add), and the weight
//! gradient is one GEMM per point over all tiles, brought back with `Gᵀ`.
//!
//! Every stage splits over channels or points, never over the tiles of a sum, so the
//! results do not depend on the thread count. The transform matrices have entries up to
//! 8 and 1/24, so outputs round less exactly than a direct sum: in f32 the worst error
//! on the MNIST CNN's second layer is about 3e-6 of the largest output, against 6e-7.

use std::mem::MaybeUninit;

mod transforms;

use transforms::{sandwich, Input, InputAdjoint, Kernel, KernelAdjoint, Lanes, Output, OutputAdjoint, L, M, N};

use super::{valid_outputs, Geometry};
use crate::dtype::FloatElement;
use crate::matmul::{Gemm, GemmCall, MatRef, OutPtr};
use crate::reduce::lane_sum;
use crate::simd::with_simd;
use crate::threads::for_each_task;

/// Points of the transform domain per tile: one GEMM each.
const POINTS: usize = N * N;

/// Elements left between consecutive points' matrices: a cache line of f32. A chunk
/// reads (or writes) one row per point, 36 rows a whole matrix apart; when a matrix is a
/// whole number of pages long, as the MNIST CNN's `[64, 288]` products are (18 pages),
/// all 36 rows fall in the same cache set, and the transforms stalled on conflict
/// misses. The padding staggers them by a line each.
const POINT_PAD: usize = 16;

/// The distance between consecutive points' matrices of `len` elements.
fn point_stride(len: usize) -> usize {
    len + POINT_PAD
}

/// Zeroes the padding after each point's matrix of `len` elements in a buffer at `buf`
/// (so that every element of the buffer is initialised once the matrices are written).
///
/// # Safety
/// `buf` must be valid for writes of `POINTS * point_stride(len)` elements.
unsafe fn zero_padding<T>(buf: *mut T, len: usize) {
    for p in 0..POINTS {
        // SAFETY: the padding of point p lies inside the buffer, as the caller promises.
        unsafe { std::ptr::write_bytes(buf.add(p * point_stride(len) + len), 0, POINT_PAD) };
    }
}

/// Whether a convolution takes this path: a 3x3 kernel, stride 1, no dilation, one
/// group, and enough channels on both sides that the products dominate (with one input
/// channel, as on an image's first layer, the transforms would cost more than they
/// save).
fn fits(geo: &Geometry) -> bool {
    let s = &geo.spec;
    (geo.kh, geo.kw) == (3, 3)
        && s.stride == [1, 1]
        && s.dilation == [1, 1]
        && s.groups == 1
        && geo.c_in >= MIN_CHANNELS
        && geo.c_out >= MIN_CHANNELS
        && geo.oh * geo.ow > 0
}

/// Fewest input and output channels for [`fits`].
const MIN_CHANNELS: usize = 16;

/// Where the tiles of one convolution lie: `th` rows of `tw` per image, numbered image
/// by image, row by row.
struct Tiling {
    th: usize,
    tw: usize,
    count: usize,
}

/// Up to `L` consecutive tiles, transformed together: the first one's number, how many,
/// and each one's image and first output row and column.
struct Chunk {
    first: usize,
    lanes: usize,
    places: [(usize, usize, usize); L],
}

impl Tiling {
    fn new(geo: &Geometry) -> Tiling {
        let (th, tw) = (geo.oh.div_ceil(M), geo.ow.div_ceil(M));
        Tiling { th, tw, count: geo.n * th * tw }
    }

    /// `f(chunk)` for the tiles in chunks of `L`, in order. The places are counted on,
    /// not divided out per tile, and the chunk is filled in place and lent: divisions
    /// per tile, and an iterator moving each 200-byte chunk out, cost 4% of a CNN epoch.
    #[inline(always)]
    fn each_chunk(&self, mut f: impl FnMut(&Chunk)) {
        let mut chunk = Chunk { first: 0, lanes: 0, places: [(0, 0, 0); L] };
        let mut at = (0, 0, 0);
        while chunk.first < self.count {
            chunk.lanes = L.min(self.count - chunk.first);
            for place in &mut chunk.places[..chunk.lanes] {
                *place = (at.0, at.1 * M, at.2 * M);
                at.2 += 1;
                if at.2 == self.tw {
                    at.2 = 0;
                    at.1 += 1;
                    if at.1 == self.th {
                        at.1 = 0;
                        at.0 += 1;
                    }
                }
            }
            f(&chunk);
            chunk.first += L;
        }
    }
}

/// The part of a square tile that lies inside a plane: the tile's top-left element sits
/// at `at` in the plane padded by `pad` before, and the plane is `h x w`.
struct Window {
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    /// The plane index of tile element `(rows.start, cols.start)`.
    first: usize,
    w: usize,
}

impl Window {
    #[inline(always)]
    fn new(at: [usize; 2], pad: [usize; 2], size: usize, [h, w]: [usize; 2]) -> Window {
        // Tile row `a` reads plane row `at + a - pad`: im2col's question with stride 1.
        let rows = valid_outputs(size, h, 1, at[0], pad[0]);
        let cols = valid_outputs(size, w, 1, at[1], pad[1]);
        // `at + rows.start >= pad` (even for an empty range), so neither subtraction wraps.
        let first = (at[0] + rows.start - pad[0]) * w + at[1] + cols.start - pad[1];
        Window { rows, cols, first, w }
    }

    /// `f(tile row, plane indices)` for each tile row inside the plane: the plane
    /// indices of its elements in the columns `self.cols` (one bounds check per row,
    /// not per element).
    #[inline(always)]
    fn each_row(&self, mut f: impl FnMut(usize, std::ops::Range<usize>)) {
        for (i, a) in self.rows.clone().enumerate() {
            let start = self.first + i * self.w;
            f(a, start..start + self.cols.len());
        }
    }

    /// Copies the part of `plane` under the tile into lane `l` of `tile`, whose other
    /// elements keep their values (zeros, for padding).
    #[inline(always)]
    fn gather<T: FloatElement, const S: usize>(&self, plane: &[T], tile: &mut [[Lanes<T>; S]; S], l: usize) {
        self.each_row(|a, at| {
            for (b, &v) in self.cols.clone().zip(&plane[at]) {
                tile[a][b].0[l] = v;
            }
        });
    }

    /// `put(element, value)` for each element of `plane` under the tile, with the value
    /// at its place in lane `l` of `tile`.
    #[inline(always)]
    fn scatter<T: FloatElement, const S: usize>(
        &self,
        tile: &[[Lanes<T>; S]; S],
        l: usize,
        plane: &mut [T],
        put: impl Fn(&mut T, T),
    ) {
        self.each_row(|a, at| {
            for (b, o) in self.cols.clone().zip(&mut plane[at]) {
                put(o, tile[a][b].0[l]);
            }
        });
    }
}

/// Fills `tile` with one transform-domain chunk: point `p`'s `lanes` values start at
/// `src[p * stride]`.
#[inline(always)]
fn load_points<T: FloatElement>(src: &[T], stride: usize, lanes: usize, tile: &mut [[Lanes<T>; N]; N]) {
    for (p, v) in tile.iter_mut().flatten().enumerate() {
        *v = Lanes::load(&src[p * stride..], lanes);
    }
}

/// Writes one transform-domain chunk: point `p`'s `lanes` values go to `dst + p * stride`.
///
/// # Safety
/// Those `N * N` runs must be valid for writes, and nothing else may access them
/// meanwhile.
#[inline(always)]
unsafe fn store_points<T: FloatElement>(tile: &[[Lanes<T>; N]; N], dst: *mut T, stride: usize, lanes: usize) {
    for (p, v) in tile.iter().flatten().enumerate() {
        // SAFETY: as the caller promises.
        unsafe { store(dst.add(p * stride), v, lanes) };
    }
}

/// `f(i)` for each `i` in `0..count`, on the calling thread and the pool when
/// `parallel`, compiled for AVX2 where the CPU has it (if `f` is marked
/// `#[inline(always)]`: see [`with_simd`]).
fn each(parallel: bool, count: usize, f: impl Fn(usize) + Sync) {
    let run = |i| {
        with_simd(
            #[inline(always)]
            || f(i),
        )
    };
    if parallel {
        for_each_task(count, &run);
    } else {
        (0..count).for_each(run);
    }
}

/// The pieces of one convolution on this path.
pub(super) struct Plan<'a> {
    geo: &'a Geometry,
    tiles: Tiling,
    parallel: bool,
}

impl<'a> Plan<'a> {
    /// The plan for a convolution that takes this path (see [`fits`]), or `None`.
    pub(super) fn new(geo: &'a Geometry) -> Option<Self> {
        fits(geo).then(|| Plan { geo, tiles: Tiling::new(geo), parallel: geo.macs() >= super::CONV_PARALLEL_MACS })
    }

    /// The kernels in the transform domain, `[POINTS, C_out, C_in]`.
    /// Writes every matrix element of `u`, `POINTS * point_stride(C_out * C_in)` long.
    fn transform_weight<T: Gemm + FloatElement>(&self, w: &[T], u: &mut [MaybeUninit<T>]) {
        let pairs = self.geo.c_out * self.geo.c_in;
        assert_eq!(u.len(), POINTS * point_stride(pairs));
        let dst = OutPtr(u.as_mut_ptr().cast::<T>());
        self.each_kernel_chunk(
            pairs,
            #[inline(always)]
            |q0, lanes| {
                let mut g = [[Lanes::<T>::zero(); 3]; 3];
                for l in 0..lanes {
                    for (i, v) in g.iter_mut().flatten().enumerate() {
                        v.0[l] = w[(q0 + l) * 9 + i];
                    }
                }
                let mut tile = [[Lanes::<T>::zero(); N]; N];
                sandwich::<Kernel, T, 3, N>(&g, &mut tile);
                // SAFETY: each point's row of `pairs` values holds this chunk's, which no other
                // chunk writes.
                unsafe { store_points(&tile, dst.get().add(q0), point_stride(pairs), lanes) };
            },
        );
    }

    /// The input tiles in the transform domain, `[POINTS, C_in, tiles]`.
    /// Writes every matrix element of `v`, `POINTS * point_stride(C_in * tiles)` long.
    fn transform_input<T: Gemm + FloatElement>(&self, x_in: &[T], v: &mut [MaybeUninit<T>]) {
        let Geometry { c_in, h, w, .. } = *self.geo;
        let [[top, _], [left, _]] = self.geo.spec.padding;
        let count = self.tiles.count;
        assert_eq!(v.len(), POINTS * point_stride(c_in * count));
        let out = OutPtr(v.as_mut_ptr().cast::<T>());
        each(
            self.parallel,
            c_in,
            #[inline(always)]
            |c| {
                // Overwritten in full by each chunk (see `transform_output`).
                let mut tile = [[Lanes::<T>::zero(); N]; N];
                self.tiles.each_chunk(|&Chunk { first: t0, lanes, ref places }| {
                    // Zeroed per chunk: a window cut by the plane's edge leaves zeros.
                    let mut d = [[Lanes::<T>::zero(); N]; N];
                    for (l, &(image, y, x)) in places.iter().enumerate().take(lanes) {
                        let plane = &x_in[(image * c_in + c) * h * w..][..h * w];
                        Window::new([y, x], [top, left], N, [h, w]).gather(plane, &mut d, l);
                    }
                    sandwich::<Input, T, N, N>(&d, &mut tile);
                    // SAFETY: each point's row for channel c holds `count` values, this
                    // chunk's are inside it, and only channel c's task writes the row.
                    unsafe { store_points(&tile, out.get().add(c * count + t0), point_stride(c_in * count), lanes) };
                });
            },
        );
    }

    /// Lengths of the transformed kernels and input tiles.
    fn transformed_lens(&self) -> [usize; 2] {
        let Geometry { c_in, c_out, .. } = *self.geo;
        [POINTS * point_stride(c_out * c_in), POINTS * point_stride(c_in * self.tiles.count)]
    }

    /// The kernels `[POINTS, C_out, C_in]` followed by the input tiles `[POINTS, C_in,
    /// tiles]` in the transform domain, in one buffer: what the forward pass keeps for
    /// the backward pass, which needs both.
    fn transform_operands<T: Gemm + FloatElement>(&self, x: &[T], w: &[T]) -> Vec<T> {
        let [u_len, v_len] = self.transformed_lens();
        let mut uv = Vec::with_capacity(u_len + v_len);
        let (u, v) = uv.spare_capacity_mut()[..u_len + v_len].split_at_mut(u_len);
        let (pairs, columns) = (self.geo.c_out * self.geo.c_in, self.geo.c_in * self.tiles.count);
        // SAFETY: `u` and `v` hold `POINTS` padded matrices of those sizes.
        unsafe {
            zero_padding(u.as_mut_ptr().cast::<T>(), pairs);
            zero_padding(v.as_mut_ptr().cast::<T>(), columns);
        }
        self.transform_weight(w, u);
        self.transform_input(x, v);
        // SAFETY: both transforms write every matrix element of their part, and the
        // padding was zeroed above.
        unsafe { uv.set_len(u_len + v_len) };
        uv
    }

    /// `out[p] = a[p] @ b[p]` for every point `p`: `rows x inner` by `inner x cols`,
    /// with `a` and `b` given by their first point and their strides.
    fn products<T: Gemm>(&self, shape: [usize; 3], a: Operand<T>, b: Operand<T>) -> Vec<T> {
        let [rows, inner, cols] = shape;
        let len = point_stride(rows * cols);
        let mut out: Vec<T> = Vec::with_capacity(POINTS * len);
        // SAFETY: `out` holds `POINTS` padded matrices of `rows * cols`.
        unsafe { zero_padding(out.as_mut_ptr(), rows * cols) };
        let dst = OutPtr(out.as_mut_ptr());
        each(
            self.parallel,
            POINTS,
            #[inline(always)]
            |p| {
                // SAFETY: point p's operands lie `p * step` past the first point's and stay in
                // their buffers (the caller's shapes), and its `rows x cols` product is the
                // block of `out` at `p * len`, written by this task only, without being read
                // (beta 0).
                unsafe {
                    T::gemm(GemmCall {
                        m: rows,
                        k: inner,
                        n: cols,
                        a: a.at(p),
                        b: b.at(p),
                        c: dst.get().add(p * len),
                        ldc: cols,
                        accumulate: false,
                    })
                };
            },
        );
        // SAFETY: every point's product was written in full, and the padding zeroed.
        unsafe { out.set_len(POINTS * len) };
        out
    }

    /// The output `[N, C_out, oH, oW]` from the products `m` `[POINTS, C_out, tiles]`.
    fn transform_output<T: Gemm + FloatElement>(&self, m: &[T], bias: Option<&[T]>, out: &mut [MaybeUninit<T>]) {
        let Geometry { c_out, oh, ow, .. } = *self.geo;
        let count = self.tiles.count;
        let dst = OutPtr(out.as_mut_ptr().cast::<T>());
        each(
            self.parallel,
            c_out,
            #[inline(always)]
            |k| {
                let bias = bias.map_or(T::zero(), |b| b[k]);
                // Every chunk overwrites both in full, so they are zeroed once per task:
                // zeroing them per chunk cost a `memset` call each, 2% of a CNN epoch.
                let (mut tile, mut y) = ([[Lanes::<T>::zero(); N]; N], [[Lanes::<T>::zero(); M]; M]);
                self.tiles.each_chunk(|&Chunk { first: t0, lanes, ref places }| {
                    load_points(&m[k * count + t0..], point_stride(c_out * count), lanes, &mut tile);
                    sandwich::<Output, T, N, M>(&tile, &mut y);
                    for (l, &(image, y0, x0)) in places.iter().enumerate().take(lanes) {
                        // SAFETY: plane (image, k) is inside the output, and only channel k's
                        // task writes it.
                        let plane = unsafe {
                            std::slice::from_raw_parts_mut(dst.get().add((image * c_out + k) * oh * ow), oh * ow)
                        };
                        Window::new([y0, x0], [0, 0], M, [oh, ow]).scatter(&y, l, plane, |o, v| *o = v + bias);
                    }
                });
            },
        );
    }

    /// The output gradient `[N, C_out, oH, oW]` in the transform domain,
    /// `[POINTS, C_out, tiles]` (the adjoint of [`Plan::transform_output`]).
    /// With `bias`, also the bias gradient: each channel's sum, image by image.
    fn transform_output_grad<T: Gemm + FloatElement>(&self, gy: &[T], bias: bool) -> (Vec<T>, Option<Vec<T>>) {
        let Geometry { n, c_out, oh, ow, .. } = *self.geo;
        let count = self.tiles.count;
        let mut dm: Vec<T> = Vec::with_capacity(POINTS * point_stride(c_out * count));
        // SAFETY: `dm` holds `POINTS` padded matrices of `c_out * count`.
        unsafe { zero_padding(dm.as_mut_ptr(), c_out * count) };
        let mut gb: Vec<T> = Vec::with_capacity(c_out);
        let (dst, gb_dst) = (OutPtr(dm.as_mut_ptr()), OutPtr(gb.as_mut_ptr()));
        each(
            self.parallel,
            c_out,
            #[inline(always)]
            |k| {
                if bias {
                    let sum = (0..n).fold(T::zero(), |s, i| s + lane_sum(&gy[(i * c_out + k) * oh * ow..][..oh * ow]));
                    // SAFETY: slot k of the `c_out` reserved is written by channel k's task only.
                    unsafe { *gb_dst.get().add(k) = sum };
                }
                // Overwritten in full by each chunk (see `transform_output`).
                let mut t = [[Lanes::<T>::zero(); N]; N];
                self.tiles.each_chunk(|&Chunk { first: t0, lanes, ref places }| {
                    // Zeroed per chunk: a tile cut by the plane's edge leaves zeros.
                    let mut tile = [[Lanes::<T>::zero(); M]; M];
                    for (l, &(image, y0, x0)) in places.iter().enumerate().take(lanes) {
                        let plane = &gy[(image * c_out + k) * oh * ow..][..oh * ow];
                        Window::new([y0, x0], [0, 0], M, [oh, ow]).gather(plane, &mut tile, l);
                    }
                    sandwich::<OutputAdjoint, T, M, N>(&tile, &mut t);
                    // SAFETY: as in `transform_input`, channel k's rows belong to this task.
                    unsafe { store_points(&t, dst.get().add(k * count + t0), point_stride(c_out * count), lanes) };
                });
            },
        );
        // SAFETY: every output channel's task covered `0..count` of its rows, and wrote
        // its bias slot when asked.
        unsafe {
            dm.set_len(POINTS * point_stride(c_out * count));
            gb.set_len(if bias { c_out } else { 0 });
        }
        (dm, bias.then_some(gb))
    }

    /// The input gradient `[N, C_in, H, W]` from its transform-domain form `dv`
    /// `[POINTS, C_in, tiles]` (the adjoint of [`Plan::transform_input`]).
    fn transform_input_grad<T: Gemm + FloatElement>(&self, dv: &[T]) -> Vec<T> {
        let Geometry { n, c_in, h, w, .. } = *self.geo;
        let [[top, _], [left, _]] = self.geo.spec.padding;
        let count = self.tiles.count;
        let mut gx: Vec<T> = Vec::with_capacity(n * c_in * h * w);
        let dst = OutPtr(gx.as_mut_ptr());
        each(
            self.parallel,
            c_in,
            #[inline(always)]
            |c| {
                for image in 0..n {
                    // SAFETY: plane (image, c) is inside `gx` and only channel c's task
                    // writes it.
                    unsafe { std::ptr::write_bytes(dst.get().add((image * c_in + c) * h * w), 0, h * w) };
                }
                // Overwritten in full by each chunk (see `transform_output`).
                let (mut tile, mut d) = ([[Lanes::<T>::zero(); N]; N], [[Lanes::<T>::zero(); N]; N]);
                self.tiles.each_chunk(|&Chunk { first: t0, lanes, ref places }| {
                    load_points(&dv[c * count + t0..], point_stride(c_in * count), lanes, &mut tile);
                    sandwich::<InputAdjoint, T, N, N>(&tile, &mut d);
                    for (l, &(image, y, x)) in places.iter().enumerate().take(lanes) {
                        // SAFETY: plane (image, c) is inside `gx`, zeroed above, and only
                        // channel c's task writes it.
                        let plane =
                            unsafe { std::slice::from_raw_parts_mut(dst.get().add((image * c_in + c) * h * w), h * w) };
                        Window::new([y, x], [top, left], N, [h, w]).scatter(&d, l, plane, |o, v| *o += v);
                    }
                });
            },
        );
        // SAFETY: every channel's task zeroed (then added to) all its planes.
        unsafe { gx.set_len(n * c_in * h * w) };
        gx
    }

    /// The weight gradient `[C_out, C_in, 3, 3]` from its transform-domain form `du`
    /// `[POINTS, C_out, C_in]` (the adjoint of [`Plan::transform_weight`]).
    fn transform_weight_grad<T: Gemm + FloatElement>(&self, du: &[T]) -> Vec<T> {
        let pairs = self.geo.c_out * self.geo.c_in;
        let mut gw: Vec<T> = Vec::with_capacity(pairs * 9);
        let dst = OutPtr(gw.as_mut_ptr());
        self.each_kernel_chunk(
            pairs,
            #[inline(always)]
            |q0, lanes| {
                let mut tile = [[Lanes::<T>::zero(); N]; N];
                load_points(&du[q0..], point_stride(pairs), lanes, &mut tile);
                let mut g = [[Lanes::<T>::zero(); 3]; 3];
                sandwich::<KernelAdjoint, T, N, 3>(&tile, &mut g);
                for l in 0..lanes {
                    for (i, v) in g.iter().flatten().enumerate() {
                        // SAFETY: kernel q0 + l's 9 values lie inside `gw`, and only this
                        // chunk writes them.
                        unsafe { *dst.get().add((q0 + l) * 9 + i) = v.0[l] };
                    }
                }
            },
        );
        // SAFETY: the chunks cover every kernel, and each wrote all 9 of its values.
        unsafe { gw.set_len(pairs * 9) };
        gw
    }

    /// `f(first, lanes)` for the `pairs` kernels in chunks of `L`, on the pool (in tasks
    /// of [`KERNELS_PER_TASK`]) when the convolution is parallel.
    fn each_kernel_chunk(&self, pairs: usize, f: impl Fn(usize, usize) + Sync) {
        each(
            self.parallel,
            pairs.div_ceil(KERNELS_PER_TASK),
            #[inline(always)]
            |task| {
                let end = pairs.min((task + 1) * KERNELS_PER_TASK);
                for q0 in (task * KERNELS_PER_TASK..end).step_by(L) {
                    f(q0, L.min(end - q0));
                }
            },
        );
    }
}

/// Kernels per task in the weight transforms: a multiple of `L`, and a few microseconds
/// of work.
const KERNELS_PER_TASK: usize = 32 * L;

/// Writes the first `lanes` values of `v` from `dst` on.
///
/// # Safety
/// `dst` must be valid for `lanes` writes, and nothing else may access them meanwhile.
#[inline(always)]
unsafe fn store<T: FloatElement>(dst: *mut T, v: &Lanes<T>, lanes: usize) {
    // SAFETY: as the caller promises.
    v.store(unsafe { std::slice::from_raw_parts_mut(dst, lanes) }, lanes);
}

/// A GEMM operand for every point: the first point's matrix, and the step between
/// points' matrices.
#[derive(Clone, Copy)]
struct Operand<T> {
    first: MatRef<T>,
    step: usize,
}

impl<T> Operand<T> {
    fn at(self, p: usize) -> MatRef<T> {
        // SAFETY: callers build operands whose POINTS matrices lie in one buffer.
        MatRef { ptr: unsafe { self.first.ptr.add(p * self.step) }, ..self.first }
    }
}

/// A matrix `rows x cols`, row-major (`transposed` reads it as `cols x rows`), at the
/// start of `buf`, one per point, [`point_stride`] apart.
fn operand<T>(buf: &[T], rows: usize, cols: usize, transposed: bool) -> Operand<T> {
    let (rs, cs) = if transposed { (1, cols as isize) } else { (cols as isize, 1) };
    Operand { first: MatRef { ptr: buf.as_ptr(), rs, cs }, step: point_stride(rows * cols) }
}

impl Plan<'_> {
    /// The forward pass: the output `[N, C_out, oH, oW]`, and when `keep`, the kernels
    /// and input tiles in the transform domain for [`Plan::backward`].
    pub(super) fn forward<T: Gemm + FloatElement>(
        &self,
        x: &[T],
        w: &[T],
        bias: Option<&[T]>,
        keep: bool,
    ) -> (Vec<T>, Option<Vec<T>>) {
        let geo = self.geo;
        let (c_in, c_out, count) = (geo.c_in, geo.c_out, self.tiles.count);
        let uv = self.transform_operands(x, w);
        let (u, v) = uv.split_at(self.transformed_lens()[0]);
        let m = self.products([c_out, c_in, count], operand(u, c_out, c_in, false), operand(v, c_in, count, false));
        let len = geo.output_shape().iter().product();
        let mut out = Vec::with_capacity(len);
        self.transform_output(&m, bias, &mut out.spare_capacity_mut()[..len]);
        // SAFETY: the tiles cover every output position of every plane.
        unsafe { out.set_len(len) };
        (out, keep.then_some(uv))
    }

    /// The input, weight and bias gradients that `needs` asks for, with the transformed
    /// kernels and input tiles `kept` by [`Plan::forward`] (else transformed again).
    pub(super) fn backward<T: Gemm + FloatElement>(
        &self,
        x: &[T],
        w: &[T],
        gy: &[T],
        needs: [bool; 3],
        kept: Option<&[T]>,
    ) -> [Option<Vec<T>>; 3] {
        let geo = self.geo;
        let (c_in, c_out, count) = (geo.c_in, geo.c_out, self.tiles.count);
        let transformed;
        let uv = match kept {
            Some(uv) => uv,
            None => {
                transformed = self.transform_operands(x, w);
                &transformed
            }
        };
        let (u, v) = uv.split_at(self.transformed_lens()[0]);
        let (dm, gb) = self.transform_output_grad(gy, needs[2]);
        let dm_rows = operand(&dm, c_out, count, false);
        let gx = needs[0].then(|| {
            let dv = self.products([c_in, c_out, count], operand(u, c_out, c_in, true), dm_rows);
            self.transform_input_grad(&dv)
        });
        let gw = needs[1].then(|| {
            let du = self.products([c_out, count, c_in], dm_rows, operand(v, c_in, count, true));
            self.transform_weight_grad(&du)
        });
        [gx, gw, gb]
    }
}
