//! One table of ops, in the spirit of PyTorch's OpInfo: every entry declares an op once,
//! with its sample inputs, the op applied through the `Tensor` API, a naive reference
//! written here over plain `Vec<f64>`, and the inputs it must reject. Three tests walk
//! the table:
//!
//! 1. `forward_matches_reference`: every sample's output against the naive reference;
//! 2. `gradcheck_matches_finite_differences`: `gradcheck` on every small sample;
//! 3. `error_inputs_panic_with_op_and_shapes`: every error input panics with its message.
//!
//! A sample holds contiguous `f64` leaves plus, per leaf, the view (transpose, slice,
//! expand, permute) through which the op sees it. The view is applied inside the function
//! that `gradcheck` differentiates, so the op's backward runs on non-contiguous inputs and
//! the view's own backward is checked along with it.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use nabla_autograd::{gradcheck, set_num_threads, DType, Tensor};
use nabla_tensor::{MATMUL_PARALLEL_MACS, PARALLEL_THRESHOLD};
use Grad::{Check, Skip};
use View::{Expand, Id, Narrow, Permute, T};

/// Relative tolerance of forward values against the reference (f64 throughout).
const RTOL: f64 = 1e-10;
/// Gradcheck costs two forward passes per input element; keep its inputs this small.
const MAX_GRADCHECK_NUMEL: usize = 32;

// The large samples below must sit on the intended side of each threshold.
const _: () = assert!(PARALLEL_THRESHOLD > 1 && 200 * 200 > PARALLEL_THRESHOLD && 40 * 50 * 20 > PARALLEL_THRESHOLD);
const _: () = assert!(100 * 100 * 100 < MATMUL_PARALLEL_MACS && 104 * 104 * 104 > MATMUL_PARALLEL_MACS);
const _: () = assert!(40 * 256 * 1700 > MATMUL_PARALLEL_MACS && 4 * 130 * 130 * 260 > MATMUL_PARALLEL_MACS);

// ---------------------------------------------------------------------------------------
// Deterministic inputs
// ---------------------------------------------------------------------------------------

/// A 64-bit linear congruential generator (Knuth's MMIX constants); the top 53 bits of
/// the state give a uniform `f64` in `[0, 1)`.
struct Lcg(u64);

impl Lcg {
    fn new(seed: u64) -> Lcg {
        Lcg(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A value of `d`, at least `KINK_MARGIN` away from the op's kinks and singularities.
    fn value(&mut self, d: Domain) -> f64 {
        loop {
            let x = d.lo + (d.hi - d.lo) * self.uniform();
            if (d.kink)(x) > KINK_MARGIN {
                return x;
            }
        }
    }

    fn tensor(&mut self, d: Domain, shape: &[usize]) -> Tensor {
        let v: Vec<f64> = (0..numel(shape)).map(|_| self.value(d)).collect();
        Tensor::from_vec(v, shape)
    }
}

/// Where an op's inputs are drawn from: `[lo, hi)`, minus the points where `kink`
/// (the distance to the nearest kink or singularity) is below `KINK_MARGIN`. The margin
/// dwarfs gradcheck's step of 1e-6, so finite differences never straddle a kink.
#[derive(Clone, Copy)]
struct Domain {
    lo: f64,
    hi: f64,
    kink: fn(f64) -> f64,
}

const KINK_MARGIN: f64 = 0.05;

fn smooth(_: f64) -> f64 {
    f64::INFINITY
}
fn from_zero(x: f64) -> f64 {
    x.abs()
}
fn from_small(x: f64) -> f64 {
    x.abs() - 0.25
}
fn from_integer(x: f64) -> f64 {
    (x - x.round()).abs()
}
fn from_half_integer(x: f64) -> f64 {
    (x - x.floor() - 0.5).abs()
}
fn from_half_magnitude(x: f64) -> f64 {
    (x.abs() - 0.5).abs()
}
fn from_product_range(x: f64) -> f64 {
    x.abs() - 0.45
}

const ANY: Domain = Domain { lo: -2.0, hi: 2.0, kink: smooth };
const WIDE: Domain = Domain { lo: -4.0, hi: 4.0, kink: smooth };
const POSITIVE: Domain = Domain { lo: 0.2, hi: 3.0, kink: smooth };
const ABOVE_MINUS_ONE: Domain = Domain { lo: -0.5, hi: 2.0, kink: smooth };
const NONZERO: Domain = Domain { lo: -2.0, hi: 2.0, kink: from_zero };
const FAR_FROM_ZERO: Domain = Domain { lo: -2.0, hi: 2.0, kink: from_small };
const NOT_INTEGER: Domain = Domain { lo: -3.0, hi: 3.0, kink: from_integer };
const NOT_HALF_INTEGER: Domain = Domain { lo: -3.0, hi: 3.0, kink: from_half_integer };
const NOT_CLAMP_BOUND: Domain = Domain { lo: -1.5, hi: 1.5, kink: from_half_magnitude };
/// Magnitudes in [0.5, 1.5]: products of dozens of them stay finite and nonzero.
const PRODUCT: Domain = Domain { lo: -1.5, hi: 1.5, kink: from_product_range };

fn zeros(shape: &[usize]) -> Tensor {
    Tensor::from_vec(vec![0.0f64; numel(shape)], shape)
}

fn index(values: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape)
}

// ---------------------------------------------------------------------------------------
// The naive reference: a row-major array with index math and nothing clever
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Arr {
    shape: Vec<usize>,
    data: Vec<f64>,
}

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// The multi-index of row-major position `flat`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
    idx
}

/// The row-major position of multi-index `idx`.
fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    assert_eq!(idx.len(), shape.len(), "reference: index {idx:?} for shape {shape:?}");
    idx.iter().zip(shape).fold(0, |acc, (&i, &n)| {
        assert!(i < n, "reference: index {idx:?} outside shape {shape:?}");
        acc * n + i
    })
}

/// A possibly negative dim resolved against `ndim`.
fn dim_of(dim: isize, ndim: usize) -> usize {
    let d = if dim < 0 { dim + ndim as isize } else { dim };
    assert!(d >= 0 && (d as usize) < ndim, "reference: dim {dim} for {ndim} dims");
    d as usize
}

/// The broadcast of two shapes: align on the right, size 1 stretches.
fn broadcast(a: &[usize], b: &[usize]) -> Vec<usize> {
    let n = a.len().max(b.len());
    let pad = |s: &[usize], i: usize| if i + s.len() >= n { s[i + s.len() - n] } else { 1 };
    (0..n)
        .map(|i| match (pad(a, i), pad(b, i)) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => panic!("reference: shapes {a:?} and {b:?} do not broadcast"),
        })
        .collect()
}

/// The element of an operand of `shape` that output position `out` reads when the
/// operand is broadcast: leading output dims are dropped, size-1 dims read index 0.
fn source_index(out: &[usize], shape: &[usize]) -> Vec<usize> {
    let lead = out.len() - shape.len();
    shape.iter().enumerate().map(|(i, &n)| if n == 1 { 0 } else { out[lead + i] }).collect()
}

impl Arr {
    fn new(shape: &[usize], data: Vec<f64>) -> Arr {
        assert_eq!(numel(shape), data.len(), "reference: {} values for shape {shape:?}", data.len());
        Arr { shape: shape.to_vec(), data }
    }

    fn from_tensor(t: &Tensor) -> Arr {
        Arr::new(&t.shape(), t.to_vec::<f64>())
    }

    fn from_fn(shape: &[usize], mut f: impl FnMut(&[usize]) -> f64) -> Arr {
        let data = (0..numel(shape)).map(|i| f(&unravel(i, shape))).collect();
        Arr::new(shape, data)
    }

    fn ndim(&self) -> usize {
        self.shape.len()
    }

    fn at(&self, idx: &[usize]) -> f64 {
        self.data[ravel(idx, &self.shape)]
    }

    fn map(&self, f: impl Fn(f64) -> f64) -> Arr {
        Arr::new(&self.shape, self.data.iter().map(|&x| f(x)).collect())
    }

    fn zip(&self, other: &Arr, f: impl Fn(f64, f64) -> f64) -> Arr {
        let shape = broadcast(&self.shape, &other.shape);
        Arr::from_fn(&shape, |o| f(self.at(&source_index(o, &self.shape)), other.at(&source_index(o, &other.shape))))
    }

    fn reshape(&self, shape: &[usize]) -> Arr {
        Arr::new(shape, self.data.clone())
    }

    /// Output dim `i` is input dim `perm[i]`.
    fn permute(&self, perm: &[usize]) -> Arr {
        let shape: Vec<usize> = perm.iter().map(|&p| self.shape[p]).collect();
        Arr::from_fn(&shape, |o| {
            let mut src = vec![0; self.ndim()];
            for (i, &p) in perm.iter().enumerate() {
                src[p] = o[i];
            }
            self.at(&src)
        })
    }

    fn transpose(&self, a: usize, b: usize) -> Arr {
        let mut perm: Vec<usize> = (0..self.ndim()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    fn narrow(&self, dim: usize, start: usize, len: usize) -> Arr {
        let mut shape = self.shape.clone();
        shape[dim] = len;
        Arr::from_fn(&shape, |o| {
            let mut src = o.to_vec();
            src[dim] += start;
            self.at(&src)
        })
    }

    fn select(&self, dim: usize, i: usize) -> Arr {
        let mut shape = self.shape.clone();
        shape.remove(dim);
        self.narrow(dim, i, 1).reshape(&shape)
    }

    fn expand(&self, shape: &[usize]) -> Arr {
        assert_eq!(broadcast(&self.shape, shape), shape, "reference: cannot expand {:?} to {shape:?}", self.shape);
        Arr::from_fn(shape, |o| self.at(&source_index(o, &self.shape)))
    }

    /// Applies `f` to each group of elements that agree on the kept dims (all dims are
    /// reduced when `dims` is empty).
    fn reduce(&self, dims: &[isize], keepdim: bool, f: impl Fn(&[f64]) -> f64) -> Arr {
        let nd = self.ndim();
        let mut reduced = vec![dims.is_empty(); nd];
        for &d in dims {
            reduced[dim_of(d, nd)] = true;
        }
        let kept: Vec<usize> = self.shape.iter().zip(&reduced).map(|(&n, &r)| if r { 1 } else { n }).collect();
        let mut groups = vec![Vec::new(); numel(&kept)];
        for (i, &x) in self.data.iter().enumerate() {
            let mut idx = unravel(i, &self.shape);
            for (k, &r) in idx.iter_mut().zip(&reduced) {
                if r {
                    *k = 0;
                }
            }
            groups[ravel(&idx, &kept)].push(x);
        }
        let shape: Vec<usize> = if keepdim {
            kept
        } else {
            self.shape.iter().zip(&reduced).filter(|(_, &r)| !r).map(|(&n, _)| n).collect()
        };
        Arr::new(&shape, groups.iter().map(|g| f(g)).collect())
    }

    /// Replaces every 1-D lane along `dim` by `f(lane)`.
    fn lanes(&self, dim: usize, f: impl Fn(&[f64]) -> Vec<f64>) -> Arr {
        let mut kept = self.shape.clone();
        kept[dim] = 1;
        let lane_of = |i: usize| {
            let mut idx = unravel(i, &self.shape);
            let pos = idx[dim];
            idx[dim] = 0;
            (ravel(&idx, &kept), pos)
        };
        let mut lanes = vec![Vec::new(); numel(&kept)];
        for (i, &x) in self.data.iter().enumerate() {
            lanes[lane_of(i).0].push(x);
        }
        let out: Vec<Vec<f64>> = lanes.iter().map(|l| f(l)).collect();
        Arr::new(&self.shape, (0..self.data.len()).map(lane_of).map(|(l, p)| out[l][p]).collect())
    }
}

/// `torch.matmul` by definition: 1-D operands become a row (left) or column (right)
/// that is removed again from the result, batch dims broadcast, and each entry is a
/// plain sum of products.
fn naive_matmul(a: &Arr, b: &Arr) -> Arr {
    let a2 = if a.ndim() == 1 { a.reshape(&[1, a.shape[0]]) } else { a.clone() };
    let b2 = if b.ndim() == 1 { b.reshape(&[b.shape[0], 1]) } else { b.clone() };
    let (na, nb) = (a2.ndim(), b2.ndim());
    let (m, k, n) = (a2.shape[na - 2], a2.shape[na - 1], b2.shape[nb - 1]);
    assert_eq!(k, b2.shape[nb - 2], "reference: inner dims");
    let (batch_a, batch_b) = (&a2.shape[..na - 2], &b2.shape[..nb - 2]);
    let batch = broadcast(batch_a, batch_b);
    let nbatch = batch.len();
    let mut full = batch.clone();
    full.extend([m, n]);
    let c = Arr::from_fn(&full, |o| {
        let (i, j) = (o[nbatch], o[nbatch + 1]);
        let mut ia = source_index(&o[..nbatch], batch_a);
        ia.extend([i, 0]);
        let mut ib = source_index(&o[..nbatch], batch_b);
        ib.extend([0, j]);
        let mut acc = 0.0;
        for p in 0..k {
            ia[na - 1] = p;
            ib[nb - 2] = p;
            acc += a2.at(&ia) * b2.at(&ib);
        }
        acc
    });
    let mut shape = batch;
    if a.ndim() > 1 {
        shape.push(m);
    }
    if b.ndim() > 1 {
        shape.push(n);
    }
    c.reshape(&shape)
}

fn naive_cat(parts: &[Arr], dim: usize) -> Arr {
    let mut shape = parts[0].shape.clone();
    shape[dim] = parts.iter().map(|p| p.shape[dim]).sum();
    Arr::from_fn(&shape, |o| {
        let mut at = o[dim];
        for p in parts {
            if at < p.shape[dim] {
                let mut src = o.to_vec();
                src[dim] = at;
                return p.at(&src);
            }
            at -= p.shape[dim];
        }
        unreachable!("reference: cat position past the end")
    })
}

fn naive_stack(parts: &[Arr], dim: usize) -> Arr {
    let lifted: Vec<Arr> = parts
        .iter()
        .map(|p| {
            let mut shape = p.shape.clone();
            shape.insert(dim, 1);
            p.reshape(&shape)
        })
        .collect();
    naive_cat(&lifted, dim)
}

fn sum(xs: &[f64]) -> f64 {
    xs.iter().sum()
}
fn mean(xs: &[f64]) -> f64 {
    sum(xs) / xs.len() as f64
}
fn variance(xs: &[f64], correction: usize) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - correction) as f64
}
fn log_sum_exp(xs: &[f64]) -> f64 {
    xs.iter().map(|x| x.exp()).sum::<f64>().ln()
}
fn softmax(xs: &[f64]) -> Vec<f64> {
    let total: f64 = xs.iter().map(|x| x.exp()).sum();
    xs.iter().map(|x| x.exp() / total).collect()
}
fn log_softmax(xs: &[f64]) -> Vec<f64> {
    let lse = log_sum_exp(xs);
    xs.iter().map(|x| x - lse).collect()
}
/// Rounds half to even, from the floor and the fractional part.
fn round_half_even(x: f64) -> f64 {
    let f = x.floor();
    let frac = x - f;
    if frac < 0.5 || (frac == 0.5 && f % 2.0 == 0.0) {
        f
    } else {
        f + 1.0
    }
}
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------------------
// Samples
// ---------------------------------------------------------------------------------------

/// How a sample's leaf is presented to the op.
#[derive(Clone, Debug)]
enum View {
    /// The contiguous leaf itself.
    Id,
    /// `.t()` of a 2-D leaf.
    T,
    /// `.permute(dims)`.
    Permute(Vec<isize>),
    /// `.narrow(dim, start, len)`: a slice sharing storage.
    Narrow(isize, usize, usize),
    /// `.expand(shape)` of a leaf with size-1 dims: stride-0 broadcasting.
    Expand(Vec<usize>),
}

impl View {
    fn tensor(&self, t: &Tensor) -> Tensor {
        match self {
            View::Id => t.clone(),
            View::T => t.t(),
            View::Permute(p) => t.permute(p),
            View::Narrow(d, s, l) => t.narrow(*d, *s, *l),
            View::Expand(shape) => t.expand(&shape.iter().map(|&n| n as isize).collect::<Vec<_>>()),
        }
    }

    fn arr(&self, a: &Arr) -> Arr {
        match self {
            View::Id => a.clone(),
            View::T => a.transpose(0, 1),
            View::Permute(p) => a.permute(&p.iter().map(|&d| dim_of(d, a.ndim())).collect::<Vec<_>>()),
            View::Narrow(d, s, l) => a.narrow(dim_of(*d, a.ndim()), *s, *l),
            View::Expand(shape) => a.expand(shape),
        }
    }

    /// True when the view must not be contiguous (a slice along dim 0 only moves the
    /// offset, so it stays contiguous).
    fn must_be_strided(&self) -> bool {
        match self {
            View::Id => false,
            View::Narrow(d, ..) => *d != 0,
            View::T | View::Permute(_) | View::Expand(_) => true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Grad {
    /// Run gradcheck on this sample.
    Check,
    /// Forward only (too large for finite differences, or at a kink).
    Skip,
}

struct Sample {
    desc: String,
    /// Contiguous `f64` leaves.
    inputs: Vec<Tensor>,
    /// The view of each leaf the op receives.
    views: Vec<View>,
    grad: Grad,
}

impl Sample {
    fn new(label: &str, grad: Grad, args: Vec<(Tensor, View)>) -> Sample {
        let parts: Vec<String> = args
            .iter()
            .map(|(t, v)| match v {
                View::Id => format!("{:?}", t.shape()),
                v => format!("{v:?} of {:?}", t.shape()),
            })
            .collect();
        let (inputs, views) = args.into_iter().unzip();
        Sample { desc: format!("{label}: {}", parts.join(" & ")), inputs, views, grad }
    }

    /// A forward-only sample with explicit values.
    fn fixed(label: &str, values: &[f64], shape: &[usize]) -> Sample {
        Sample::new(label, Grad::Skip, vec![(Tensor::from_vec(values.to_vec(), shape), View::Id)])
    }

    /// The op's arguments: each leaf (or the given replacement leaf) through its view.
    fn args(&self, leaves: &[Tensor]) -> Vec<Tensor> {
        leaves.iter().zip(&self.views).map(|(t, v)| v.tensor(t)).collect()
    }

    fn reference_args(&self) -> Vec<Arr> {
        self.inputs.iter().zip(&self.views).map(|(t, v)| v.arr(&Arr::from_tensor(t))).collect()
    }

    /// Problems with the sample itself: views that do not share storage, or that claim
    /// to be strided but are contiguous, or leaves that are not contiguous `f64`.
    fn check_layout(&self) -> Result<(), String> {
        for (i, (t, v)) in self.inputs.iter().zip(&self.views).enumerate() {
            let (base, view) = (t.data(), v.tensor(t).data());
            if t.dtype() != DType::F64 || !base.is_contiguous() {
                return Err(format!("leaf {i} must be a contiguous f64 tensor"));
            }
            if !view.shares_storage(&base) {
                return Err(format!("input {i}: {v:?} copied instead of viewing"));
            }
            if v.must_be_strided() && view.is_contiguous() {
                return Err(format!("input {i}: {v:?} should be non-contiguous"));
            }
        }
        Ok(())
    }
}

fn arg(g: &mut Lcg, d: Domain, base: &[usize], view: View) -> (Tensor, View) {
    (g.tensor(d, base), view)
}

/// One input of shape [3, 4] in every layout, a 0-d input, and sizes on both sides of
/// the elementwise parallel threshold (contiguous, transposed and sliced).
fn unary_samples(d: Domain) -> Vec<Sample> {
    let g = &mut Lcg::new(1);
    let n = PARALLEL_THRESHOLD;
    vec![
        Sample::new("contiguous", Check, vec![arg(g, d, &[3, 4], Id)]),
        Sample::new("0-d", Check, vec![arg(g, d, &[], Id)]),
        Sample::new("transposed", Check, vec![arg(g, d, &[4, 3], T)]),
        Sample::new("sliced", Check, vec![arg(g, d, &[3, 6], Narrow(1, 1, 4))]),
        Sample::new("expanded", Check, vec![arg(g, d, &[3, 1], Expand(vec![3, 4]))]),
        Sample::new("just below threshold", Skip, vec![arg(g, d, &[n - 1], Id)]),
        Sample::new("at threshold", Skip, vec![arg(g, d, &[n], Id)]),
        Sample::new("large", Skip, vec![arg(g, d, &[200, 200], Id)]),
        Sample::new("large transposed", Skip, vec![arg(g, d, &[200, 200], T)]),
        Sample::new("large sliced", Skip, vec![arg(g, d, &[200, 210], Narrow(1, 3, 200))]),
    ]
}

/// Same shapes, broadcasting pairs (including 0-d), strided operands, and large ones.
fn binary_samples(da: Domain, db: Domain) -> Vec<Sample> {
    let g = &mut Lcg::new(2);
    let n = PARALLEL_THRESHOLD;
    vec![
        Sample::new("same shape", Check, vec![arg(g, da, &[2, 3], Id), arg(g, db, &[2, 3], Id)]),
        Sample::new("broadcast", Check, vec![arg(g, da, &[2, 3, 4], Id), arg(g, db, &[3, 1], Id)]),
        Sample::new("broadcast", Check, vec![arg(g, da, &[4], Id), arg(g, db, &[2, 1, 4], Id)]),
        Sample::new("scalar right", Check, vec![arg(g, da, &[2, 3], Id), arg(g, db, &[], Id)]),
        Sample::new("scalar left", Check, vec![arg(g, da, &[], Id), arg(g, db, &[2, 3], Id)]),
        Sample::new("both 0-d", Check, vec![arg(g, da, &[], Id), arg(g, db, &[], Id)]),
        Sample::new("strided", Check, vec![arg(g, da, &[3, 2], T), arg(g, db, &[2, 5], Narrow(1, 1, 3))]),
        Sample::new("expanded", Check, vec![arg(g, da, &[2, 1], Expand(vec![2, 3])), arg(g, db, &[3, 2], T)]),
        Sample::new("strided broadcast", Check, vec![arg(g, da, &[4, 3], T), arg(g, db, &[1, 4], Id)]),
        Sample::new("just below threshold", Skip, vec![arg(g, da, &[n - 1], Id), arg(g, db, &[n - 1], Id)]),
        Sample::new("at threshold", Skip, vec![arg(g, da, &[n], Id), arg(g, db, &[1], Id)]),
        Sample::new("large", Skip, vec![arg(g, da, &[200, 200], Id), arg(g, db, &[200, 200], Id)]),
        Sample::new("large broadcast", Skip, vec![arg(g, da, &[200, 200], Id), arg(g, db, &[200, 1], Id)]),
        Sample::new("large strided", Skip, vec![arg(g, da, &[200, 200], T), arg(g, db, &[200], Id)]),
        Sample::new(
            "large sliced",
            Skip,
            vec![arg(g, da, &[200, 210], Narrow(1, 5, 200)), arg(g, db, &[1, 200], Expand(vec![200, 200]))],
        ),
    ]
}

/// A [2, 3, 4] input in every layout, and [40, 50, 20] (40,000 elements) ones.
fn three_d_samples(d: Domain) -> Vec<Sample> {
    let g = &mut Lcg::new(3);
    vec![
        Sample::new("contiguous", Check, vec![arg(g, d, &[2, 3, 4], Id)]),
        Sample::new("permuted", Check, vec![arg(g, d, &[4, 2, 3], Permute(vec![1, 2, 0]))]),
        Sample::new("sliced", Check, vec![arg(g, d, &[2, 4, 4], Narrow(1, 1, 3))]),
        Sample::new("expanded", Check, vec![arg(g, d, &[2, 1, 4], Expand(vec![2, 3, 4]))]),
        Sample::new("large", Skip, vec![arg(g, d, &[40, 50, 20], Id)]),
        Sample::new("large permuted", Skip, vec![arg(g, d, &[50, 20, 40], Permute(vec![2, 0, 1]))]),
        Sample::new("large sliced", Skip, vec![arg(g, d, &[40, 60, 20], Narrow(1, 5, 50))]),
    ]
}

/// Full reductions also take a 0-d input.
fn full_reduction_samples(d: Domain) -> Vec<Sample> {
    let mut v = three_d_samples(d);
    v.push(Sample::new("0-d", Check, vec![arg(&mut Lcg::new(4), d, &[], Id)]));
    v
}

/// A [2, 3, 4] input with one zero in the dim-1 group (0, :, 0) and two in (1, :, 2):
/// the gradient of a product must not divide by them.
fn prod_zero_samples() -> Vec<Sample> {
    let mut v: Vec<f64> =
        (0..24).map(|i| if i % 2 == 0 { 0.6 + 0.04 * i as f64 } else { -0.7 - 0.03 * i as f64 }).collect();
    for idx in [[0, 1, 0], [1, 0, 2], [1, 2, 2]] {
        v[ravel(&idx, &[2, 3, 4])] = 0.0;
    }
    vec![Sample::new("with zeros", Check, vec![(Tensor::from_vec(v, &[2, 3, 4]), Id)])]
}

/// Inputs of shape [2, 1, 4] (a size-1 dim to squeeze or expand) in every layout.
fn size_one_samples(d: Domain) -> Vec<Sample> {
    let g = &mut Lcg::new(5);
    vec![
        Sample::new("contiguous", Check, vec![arg(g, d, &[2, 1, 4], Id)]),
        Sample::new("sliced", Check, vec![arg(g, d, &[2, 3, 4], Narrow(1, 1, 1))]),
        Sample::new("permuted", Check, vec![arg(g, d, &[4, 1, 2], Permute(vec![2, 1, 0]))]),
        Sample::new("expanded", Check, vec![arg(g, d, &[1, 1, 4], Expand(vec![2, 1, 4]))]),
    ]
}

/// A [3, 4] input in every layout.
fn matrix_samples(d: Domain) -> Vec<Sample> {
    let g = &mut Lcg::new(6);
    vec![
        Sample::new("contiguous", Check, vec![arg(g, d, &[3, 4], Id)]),
        Sample::new("transposed", Check, vec![arg(g, d, &[4, 3], T)]),
        Sample::new("sliced", Check, vec![arg(g, d, &[3, 6], Narrow(1, 1, 4))]),
        Sample::new("expanded", Check, vec![arg(g, d, &[3, 1], Expand(vec![3, 4]))]),
    ]
}

fn matmul_2d_samples() -> Vec<Sample> {
    let g = &mut Lcg::new(7);
    vec![
        Sample::new("contiguous", Check, vec![arg(g, ANY, &[3, 4], Id), arg(g, ANY, &[4, 5], Id)]),
        Sample::new("strided", Check, vec![arg(g, ANY, &[4, 3], T), arg(g, ANY, &[4, 7], Narrow(1, 1, 5))]),
        Sample::new("expanded", Check, vec![arg(g, ANY, &[3, 1], Expand(vec![3, 4])), arg(g, ANY, &[5, 4], T)]),
        Sample::new("1x1", Check, vec![arg(g, ANY, &[1, 1], Id), arg(g, ANY, &[1, 1], Id)]),
        Sample::new("below parallel", Skip, vec![arg(g, ANY, &[100, 100], Id), arg(g, ANY, &[100, 100], Id)]),
        Sample::new("parallel rows", Skip, vec![arg(g, ANY, &[104, 104], Id), arg(g, ANY, &[104, 104], Id)]),
        Sample::new("parallel transposed", Skip, vec![arg(g, ANY, &[104, 104], T), arg(g, ANY, &[104, 104], T)]),
        Sample::new("parallel columns", Skip, vec![arg(g, ANY, &[40, 256], Id), arg(g, ANY, &[256, 1700], Id)]),
    ]
}

fn matmul_batched_samples() -> Vec<Sample> {
    let g = &mut Lcg::new(8);
    vec![
        Sample::new("broadcast rhs", Check, vec![arg(g, ANY, &[2, 3, 4], Id), arg(g, ANY, &[4, 5], Id)]),
        Sample::new("broadcast both", Check, vec![arg(g, ANY, &[2, 1, 3, 4], Id), arg(g, ANY, &[3, 4, 2], Id)]),
        Sample::new("same batch", Check, vec![arg(g, ANY, &[2, 3, 4], Id), arg(g, ANY, &[2, 4, 2], Id)]),
        Sample::new(
            "permuted",
            Check,
            vec![arg(g, ANY, &[3, 2, 4], Permute(vec![1, 0, 2])), arg(g, ANY, &[2, 2, 4], Permute(vec![0, 2, 1]))],
        ),
        Sample::new(
            "expanded batch",
            Check,
            vec![arg(g, ANY, &[1, 3, 4], Expand(vec![2, 3, 4])), arg(g, ANY, &[4, 5], Id)],
        ),
        Sample::new("parallel batches", Skip, vec![arg(g, ANY, &[4, 130, 130], Id), arg(g, ANY, &[4, 130, 260], Id)]),
        Sample::new("parallel broadcast", Skip, vec![arg(g, ANY, &[4, 130, 130], Id), arg(g, ANY, &[130, 260], Id)]),
    ]
}

fn matmul_vec_mat_samples() -> Vec<Sample> {
    let g = &mut Lcg::new(9);
    vec![
        Sample::new("contiguous", Check, vec![arg(g, ANY, &[4], Id), arg(g, ANY, &[4, 5], Id)]),
        Sample::new("strided", Check, vec![arg(g, ANY, &[1], Expand(vec![4])), arg(g, ANY, &[5, 4], T)]),
        Sample::new("batched rhs", Check, vec![arg(g, ANY, &[4], Id), arg(g, ANY, &[2, 4, 3], Id)]),
        Sample::new("large", Skip, vec![arg(g, ANY, &[512], Id), arg(g, ANY, &[512, 600], Id)]),
    ]
}

fn matmul_mat_vec_samples() -> Vec<Sample> {
    let g = &mut Lcg::new(10);
    vec![
        Sample::new("contiguous", Check, vec![arg(g, ANY, &[3, 4], Id), arg(g, ANY, &[4], Id)]),
        Sample::new("strided", Check, vec![arg(g, ANY, &[4, 3], T), arg(g, ANY, &[6], Narrow(0, 1, 4))]),
        Sample::new("batched lhs", Check, vec![arg(g, ANY, &[2, 3, 4], Id), arg(g, ANY, &[4], Id)]),
        Sample::new("large", Skip, vec![arg(g, ANY, &[600, 512], Id), arg(g, ANY, &[512], Id)]),
    ]
}

fn matmul_dot_samples() -> Vec<Sample> {
    let g = &mut Lcg::new(11);
    vec![
        Sample::new("contiguous", Check, vec![arg(g, ANY, &[4], Id), arg(g, ANY, &[4], Id)]),
        Sample::new("strided", Check, vec![arg(g, ANY, &[6], Narrow(0, 2, 4)), arg(g, ANY, &[1], Expand(vec![4]))]),
        Sample::new("large", Skip, vec![arg(g, ANY, &[300_000], Id), arg(g, ANY, &[300_000], Id)]),
    ]
}

fn cat_samples() -> Vec<Sample> {
    let g = &mut Lcg::new(12);
    vec![
        Sample::new(
            "contiguous",
            Check,
            vec![arg(g, ANY, &[2, 3], Id), arg(g, ANY, &[2, 1], Id), arg(g, ANY, &[2, 4], Id)],
        ),
        Sample::new(
            "strided",
            Check,
            vec![
                arg(g, ANY, &[3, 2], T),
                arg(g, ANY, &[2, 5], Narrow(1, 1, 2)),
                arg(g, ANY, &[2, 1], Expand(vec![2, 4])),
            ],
        ),
        Sample::new("3-d", Check, vec![arg(g, ANY, &[2, 3, 4], Id), arg(g, ANY, &[2, 4, 2], Permute(vec![0, 2, 1]))]),
        Sample::new("one tensor", Check, vec![arg(g, ANY, &[2, 3], Id)]),
        Sample::new("large", Skip, vec![arg(g, ANY, &[200, 100], Id), arg(g, ANY, &[100, 200], T)]),
    ]
}

fn stack_samples() -> Vec<Sample> {
    let g = &mut Lcg::new(13);
    vec![
        Sample::new(
            "2-d",
            Check,
            vec![arg(g, ANY, &[2, 3], Id), arg(g, ANY, &[3, 2], T), arg(g, ANY, &[2, 5], Narrow(1, 2, 3))],
        ),
        Sample::new("3-d", Check, vec![arg(g, ANY, &[2, 3, 4], Id), arg(g, ANY, &[2, 1, 4], Expand(vec![2, 3, 4]))]),
    ]
}

fn where_samples() -> Vec<Sample> {
    let g = &mut Lcg::new(14);
    vec![
        Sample::new("same shape", Check, vec![arg(g, ANY, &[3, 4], Id), arg(g, ANY, &[3, 4], Id)]),
        Sample::new("broadcast", Check, vec![arg(g, ANY, &[4, 3], T), arg(g, ANY, &[4], Id)]),
        Sample::new("scalar", Check, vec![arg(g, ANY, &[3, 1], Expand(vec![3, 4])), arg(g, ANY, &[], Id)]),
        Sample::new("sliced", Check, vec![arg(g, ANY, &[4], Id), arg(g, ANY, &[3, 6], Narrow(1, 2, 4))]),
    ]
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

type OpFn = Box<dyn Fn(&[Tensor]) -> Tensor>;
type ReferenceFn = Box<dyn Fn(&[Arr]) -> Arr>;
type SamplesFn = Box<dyn Fn() -> Vec<Sample>>;

struct OpInfo {
    name: &'static str,
    samples: SamplesFn,
    op: OpFn,
    reference: ReferenceFn,
    errors: Vec<ErrorInput>,
}

struct ErrorInput {
    desc: String,
    call: ErrorCall,
    /// A substring of the panic message.
    expect: String,
}

enum ErrorCall {
    /// The entry's own op applied to these inputs.
    Op(Vec<Tensor>),
    /// Anything else (other arguments than the entry's op takes).
    Custom(Box<dyn Fn()>),
}

fn op_info(
    name: &'static str,
    samples: impl Fn() -> Vec<Sample> + 'static,
    op: impl Fn(&[Tensor]) -> Tensor + 'static,
    reference: impl Fn(&[Arr]) -> Arr + 'static,
) -> OpInfo {
    OpInfo { name, samples: Box::new(samples), op: Box::new(op), reference: Box::new(reference), errors: Vec::new() }
}

impl OpInfo {
    /// The op applied to `inputs` must panic with `expect` in the message.
    fn rejects(mut self, inputs: Vec<Tensor>, expect: &str) -> Self {
        let shapes: Vec<Vec<usize>> = inputs.iter().map(Tensor::shape).collect();
        self.errors.push(ErrorInput {
            desc: format!("inputs of shapes {shapes:?}"),
            call: ErrorCall::Op(inputs),
            expect: expect.to_string(),
        });
        self
    }

    /// `call` must panic with `expect` in the message.
    fn rejects_call(mut self, desc: &str, call: impl Fn() + 'static, expect: &str) -> Self {
        self.errors.push(ErrorInput {
            desc: desc.to_string(),
            call: ErrorCall::Custom(Box::new(call)),
            expect: expect.to_string(),
        });
        self
    }

    /// Adds samples to the entry's generated ones.
    fn with_samples(mut self, more: fn() -> Vec<Sample>) -> Self {
        let samples = self.samples;
        self.samples = Box::new(move || {
            let mut v = samples();
            v.extend(more());
            v
        });
        self
    }
}

fn unary(name: &'static str, f: fn(&Tensor) -> Tensor, r: fn(f64) -> f64, d: Domain) -> OpInfo {
    op_info(name, move || unary_samples(d), move |t| f(&t[0]), move |a| a[0].map(r))
}

/// A binary op named `name` in its messages, with its broadcasting errors.
fn binary(
    name: &'static str,
    f: fn(&Tensor, &Tensor) -> Tensor,
    r: fn(f64, f64) -> f64,
    da: Domain,
    db: Domain,
) -> OpInfo {
    op_info(name, move || binary_samples(da, db), move |t| f(&t[0], &t[1]), move |a| a[0].zip(&a[1], r))
        .rejects(
            vec![zeros(&[2, 3]), zeros(&[4])],
            &format!("{name}: the shapes [2, 3] and [4] cannot be broadcast together"),
        )
        .rejects(
            vec![zeros(&[2, 3, 4]), zeros(&[3, 2])],
            &format!("{name}: the shapes [2, 3, 4] and [3, 2] cannot be broadcast together"),
        )
}

fn reduction(
    name: &'static str,
    samples: fn(Domain) -> Vec<Sample>,
    d: Domain,
    f: fn(&Tensor) -> Tensor,
    r: impl Fn(&Arr) -> Arr + 'static,
) -> OpInfo {
    op_info(name, move || samples(d), move |t| f(&t[0]), move |a| r(&a[0]))
}

fn view_op(
    name: &'static str,
    samples: fn(Domain) -> Vec<Sample>,
    f: fn(&Tensor) -> Tensor,
    r: impl Fn(&Arr) -> Arr + 'static,
) -> OpInfo {
    op_info(name, move || samples(ANY), move |t| f(&t[0]), move |a| r(&a[0]))
}

fn matmul_op(name: &'static str, samples: fn() -> Vec<Sample>) -> OpInfo {
    op_info(name, samples, |t| t[0].matmul(&t[1]), |a| naive_matmul(&a[0], &a[1]))
}

fn out_of_range(op: &str, dim: isize, ndim: isize) -> String {
    let n = ndim.max(1);
    format!("{op}: dimension out of range (expected to be in range of [{}, {}], but got {dim})", -n, n - 1)
}

fn table() -> Vec<OpInfo> {
    // Index tensors: i64, captured by the ops, never inputs.
    let gather_idx: Vec<i64> = vec![3, 0, 3, 1, 2, 0, 0, 2, 3, 1];
    let select_idx: Vec<i64> = vec![2, 0, 2, 1];
    let fill_mask: Vec<i64> = vec![1, 0, 0, 1];
    let cond: Vec<i64> = vec![1, 0, 1];
    let (gi, si) = (index(&gather_idx, &[2, 5]), index(&select_idx, &[4]));
    let (fm, co) = (index(&fill_mask, &[4]), index(&cond, &[3, 1]));
    let (gi0, si1, gv0, sv1) = (gi.clone(), si.clone(), gather_idx.clone(), select_idx.clone());

    vec![
        // ---- unary, elementwise ----
        unary("neg", |x| x.neg(), |x| -x, ANY),
        unary("exp", |x| x.exp(), f64::exp, ANY),
        unary("log", |x| x.log(), f64::ln, POSITIVE),
        unary("log1p", |x| x.log1p(), f64::ln_1p, ABOVE_MINUS_ONE),
        unary("expm1", |x| x.expm1(), f64::exp_m1, ANY),
        unary("sqrt", |x| x.sqrt(), f64::sqrt, POSITIVE),
        unary("rsqrt", |x| x.rsqrt(), |x| 1.0 / x.sqrt(), POSITIVE),
        unary("abs", |x| x.abs(), f64::abs, NONZERO).with_samples(at_zero),
        unary("relu", |x| x.relu(), |x| if x > 0.0 { x } else { 0.0 }, NONZERO).with_samples(at_zero),
        unary("sigmoid", |x| x.sigmoid(), |x| 1.0 / (1.0 + (-x).exp()), WIDE),
        unary("tanh", |x| x.tanh(), f64::tanh, ANY),
        unary("sin", |x| x.sin(), f64::sin, WIDE),
        unary("cos", |x| x.cos(), f64::cos, WIDE),
        unary("reciprocal", |x| x.reciprocal(), |x| 1.0 / x, FAR_FROM_ZERO),
        unary("square", |x| x.square(), |x| x * x, ANY),
        unary("pow_scalar(3)", |x| x.pow_scalar(3.0), |x| x * x * x, ANY),
        unary("pow_scalar(0.5)", |x| x.pow_scalar(0.5), f64::sqrt, POSITIVE),
        unary("clamp(-0.5, 0.5)", |x| x.clamp(Some(-0.5), Some(0.5)), |x| x.clamp(-0.5, 0.5), NOT_CLAMP_BOUND)
            .with_samples(at_clamp_bounds),
        unary("leaky_relu(0.1)", |x| x.leaky_relu(0.1), |x| if x > 0.0 { x } else { 0.1 * x }, NONZERO)
            .with_samples(at_zero),
        unary("floor", |x| x.floor(), f64::floor, NOT_INTEGER).with_samples(at_integers),
        unary("round", |x| x.round(), round_half_even, NOT_HALF_INTEGER).with_samples(at_halves),
        unary("sign", |x| x.sign(), sign, NONZERO).with_samples(at_zero),
        // ---- binary, elementwise with broadcasting ----
        binary("add", |a, b| a.add(b), |x, y| x + y, ANY, ANY),
        binary("sub", |a, b| a.sub(b), |x, y| x - y, ANY, ANY),
        binary("mul", |a, b| a.mul(b), |x, y| x * y, ANY, ANY),
        binary("div", |a, b| a.div(b), |x, y| x / y, ANY, FAR_FROM_ZERO),
        binary("pow", |a, b| a.pow(b), f64::powf, POSITIVE, ANY),
        binary("maximum", |a, b| a.maximum(b), f64::max, ANY, ANY),
        binary("minimum", |a, b| a.minimum(b), f64::min, ANY, ANY),
        // ---- binary with a scalar ----
        unary("add_scalar(2.5)", |x| x.add_scalar(2.5), |x| x + 2.5, ANY),
        unary("mul_scalar(-1.5)", |x| x.mul_scalar(-1.5), |x| x * -1.5, ANY),
        unary("div_scalar(0.8)", |x| x.div_scalar(0.8), |x| x / 0.8, ANY),
        unary("1.0 - x", |x| 1.0 - x, |x| 1.0 - x, ANY),
        // ---- reductions ----
        reduction("sum", full_reduction_samples, ANY, |x| x.sum(), |a| a.reduce(&[], false, sum)),
        reduction("sum_dim([1])", three_d_samples, ANY, |x| x.sum_dim(&[1], false), |a| a.reduce(&[1], false, sum))
            .rejects(vec![zeros(&[4])], &out_of_range("sum", 1, 1))
            .rejects_call(
                "sum_dim(&[1, -1]) of [2, 3]",
                || drop(zeros(&[2, 3]).sum_dim(&[1, -1], false)),
                "sum: dim 1 appears multiple times in the list of dims [1, -1]",
            ),
        reduction(
            "sum_dim([0, 2], keepdim)",
            three_d_samples,
            ANY,
            |x| x.sum_dim(&[0, 2], true),
            |a| a.reduce(&[0, 2], true, sum),
        )
        .rejects(vec![zeros(&[2, 3])], &out_of_range("sum", 2, 2)),
        // Reducing leading dims of a contiguous input takes a row-add fast path.
        reduction("sum_dim([0])", three_d_samples, ANY, |x| x.sum_dim(&[0], false), |a| a.reduce(&[0], false, sum)),
        reduction("mean", full_reduction_samples, ANY, |x| x.mean(), |a| a.reduce(&[], false, mean)),
        reduction(
            "mean_dim([-1])",
            three_d_samples,
            ANY,
            |x| x.mean_dim(&[-1], false),
            |a| a.reduce(&[-1], false, mean),
        )
        .rejects_call(
            "mean_dim(&[3]) of [2, 3]",
            || drop(zeros(&[2, 3]).mean_dim(&[3], false)),
            &out_of_range("mean", 3, 2),
        ),
        reduction(
            "prod_dim([1])",
            three_d_samples,
            PRODUCT,
            |x| x.prod_dim(&[1], false),
            |a| a.reduce(&[1], false, |g| g.iter().product()),
        )
        .with_samples(prod_zero_samples)
        .rejects(vec![zeros(&[4])], &out_of_range("prod", 1, 1)),
        reduction(
            "amax([1])",
            three_d_samples,
            ANY,
            |x| x.amax(&[1], false),
            |a| a.reduce(&[1], false, |g| g.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        )
        .rejects(vec![zeros(&[2, 0, 3])], "amax: cannot reduce over a zero-size dimension (shape [2, 0, 3])"),
        reduction(
            "amin([0, 2], keepdim)",
            three_d_samples,
            ANY,
            |x| x.amin(&[0, 2], true),
            |a| a.reduce(&[0, 2], true, |g| g.iter().copied().fold(f64::INFINITY, f64::min)),
        )
        .rejects(vec![zeros(&[0, 3, 4])], "amin: cannot reduce over a zero-size dimension (shape [0, 3, 4])"),
        reduction(
            "max_dim(1).0",
            three_d_samples,
            ANY,
            |x| x.max_dim(1, false).0,
            |a| a.reduce(&[1], false, |g| g.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        )
        .rejects(vec![zeros(&[2, 0, 3])], "max: cannot reduce over a zero-size dimension (shape [2, 0, 3])")
        .rejects(vec![zeros(&[4])], &out_of_range("max", 1, 1)),
        reduction(
            "logsumexp([2])",
            three_d_samples,
            ANY,
            |x| x.logsumexp(&[2], false),
            |a| a.reduce(&[2], false, log_sum_exp),
        )
        .rejects(vec![zeros(&[2, 3])], &out_of_range("logsumexp", 2, 2)),
        reduction(
            "var([1], 1)",
            three_d_samples,
            ANY,
            |x| x.var(&[1], 1, false),
            |a| a.reduce(&[1], false, |g| variance(g, 1)),
        )
        .rejects(vec![zeros(&[4])], &out_of_range("var", 1, 1)),
        reduction(
            "std([0, 2], 0, keepdim)",
            three_d_samples,
            ANY,
            |x| x.std(&[0, 2], 0, true),
            |a| a.reduce(&[0, 2], true, |g| variance(g, 0).sqrt()),
        )
        .rejects(vec![zeros(&[2, 3])], &out_of_range("std", 2, 2)),
        reduction("softmax(1)", three_d_samples, ANY, |x| x.softmax(1), |a| a.lanes(1, softmax))
            .rejects(vec![zeros(&[4])], &out_of_range("softmax", 1, 1)),
        reduction(
            "log_softmax(-1)",
            three_d_samples,
            ANY,
            |x| x.log_softmax(-1),
            |a| a.lanes(a.ndim() - 1, log_softmax),
        )
        .rejects_call(
            "log_softmax(3) of [2, 3]",
            || drop(zeros(&[2, 3]).log_softmax(3)),
            &out_of_range("log_softmax", 3, 2),
        ),
        // ---- views ----
        view_op("view([4, -1])", view_samples, |x| x.view(&[4, -1]), |a| a.reshape(&[4, a.data.len() / 4]))
            .rejects(vec![zeros(&[5])], "view: shape [4, -1] is invalid for input of size 5 (shape [5])")
            .rejects(
                vec![zeros(&[4, 6]).t()],
                "view: view size is not compatible with input tensor's size and stride (shape [6, 4], strides [1, 6], \
                 requested [4, 6])",
            ),
        view_op("reshape([4, -1])", three_d_samples, |x| x.reshape(&[4, -1]), |a| a.reshape(&[4, a.data.len() / 4]))
            .rejects(vec![zeros(&[5])], "reshape: shape [4, -1] is invalid for input of size 5 (shape [5])"),
        view_op("permute([2, 0, 1])", three_d_samples, |x| x.permute(&[2, 0, 1]), |a| a.permute(&[2, 0, 1]))
            .rejects(
                vec![zeros(&[2, 3, 4, 5])],
                "permute: [2, 0, 1] is not a permutation of the dims of a tensor of shape [2, 3, 4, 5]",
            )
            .rejects_call(
                "permute(&[0, 0, 1]) of [2, 3, 4]",
                || drop(zeros(&[2, 3, 4]).permute(&[0, 0, 1])),
                "permute: [0, 0, 1] is not a permutation of the dims of a tensor of shape [2, 3, 4]",
            ),
        view_op("transpose(0, 2)", three_d_samples, |x| x.transpose(0, 2), |a| a.transpose(0, 2))
            .rejects(vec![zeros(&[2, 3])], &out_of_range("transpose", 2, 2)),
        view_op("t", t_samples, |x| x.t(), |a| if a.ndim() == 2 { a.transpose(0, 1) } else { a.clone() }).rejects(
            vec![zeros(&[2, 3, 4])],
            "t: expects a tensor with <= 2 dimensions, but self is 3D (shape [2, 3, 4])",
        ),
        view_op("narrow(1, 1, 2)", three_d_samples, |x| x.narrow(1, 1, 2), |a| a.narrow(1, 1, 2)).rejects(
            vec![zeros(&[2, 2, 4])],
            "narrow: start (1) + length (2) exceeds dimension size (2) of dim 1 of shape [2, 2, 4]",
        ),
        view_op("select(1, 2)", three_d_samples, |x| x.select(1, 2), |a| a.select(1, 2))
            .rejects(vec![zeros(&[2, 2, 4])], "select: index 2 is out of bounds for dimension 1 with size 2"),
        view_op(
            "squeeze_dim(1)",
            size_one_or_not_samples,
            |x| x.squeeze_dim(1),
            |a| {
                let mut shape = a.shape.clone();
                if shape[1] == 1 {
                    shape.remove(1);
                }
                a.reshape(&shape)
            },
        )
        .rejects(vec![zeros(&[4])], &out_of_range("squeeze", 1, 1)),
        view_op(
            "unsqueeze(1)",
            three_d_samples,
            |x| x.unsqueeze(1),
            |a| {
                let mut shape = a.shape.clone();
                shape.insert(1, 1);
                a.reshape(&shape)
            },
        )
        .rejects(vec![zeros(&[])], &out_of_range("unsqueeze", 1, 1)),
        view_op(
            "expand([3, -1, 5, -1])",
            size_one_samples,
            |x| x.expand(&[3, -1, 5, -1]),
            |a| a.expand(&[3, a.shape[0], 5, a.shape[2]]),
        )
        .rejects(vec![zeros(&[2, 3, 4])], "expand: the shape [2, 3, 4] cannot be broadcast to [3, 2, 5, 4]"),
        view_op(
            "flatten(0, 1)",
            three_d_samples,
            |x| x.flatten(0, 1),
            |a| a.reshape(&[a.shape[0] * a.shape[1], a.shape[2]]),
        )
        .rejects(vec![zeros(&[4])], &out_of_range("flatten", 1, 1))
        .rejects_call(
            "flatten(2, 1) of [2, 3, 4]",
            || drop(zeros(&[2, 3, 4]).flatten(2, 1)),
            "flatten: start_dim (2) cannot come after end_dim (1) for shape [2, 3, 4]",
        ),
        view_op("contiguous", three_d_samples, |x| x.contiguous(), Arr::clone),
        view_op("copy", three_d_samples, |x| x.copy(), Arr::clone),
        // ---- matmul ----
        matmul_op("matmul 2-D @ 2-D", matmul_2d_samples)
            .rejects(
                vec![zeros(&[3, 4]), zeros(&[5, 6])],
                "matmul: shapes [3, 4] and [5, 6] cannot be multiplied (inner dims 4 and 5 differ)",
            )
            .rejects(
                vec![zeros(&[]), zeros(&[3, 4])],
                "matmul: both arguments need at least 1 dimension, got shapes [] and [3, 4]",
            ),
        matmul_op("matmul batched", matmul_batched_samples)
            .rejects(
                vec![zeros(&[2, 3, 4]), zeros(&[3, 4, 5])],
                "matmul: batch dims of shapes [2, 3, 4] and [3, 4, 5] cannot be broadcast together",
            )
            .rejects(
                vec![zeros(&[2, 3, 4]), zeros(&[2, 5, 4])],
                "matmul: shapes [2, 3, 4] and [2, 5, 4] cannot be multiplied (inner dims 4 and 5 differ)",
            ),
        matmul_op("matmul 1-D @ 2-D", matmul_vec_mat_samples)
            .rejects(
                vec![zeros(&[3]), zeros(&[4, 5])],
                "matmul: shapes [3] and [4, 5] cannot be multiplied (inner dims 3 and 4 differ)",
            )
            .rejects(
                vec![zeros(&[3]), zeros(&[])],
                "matmul: both arguments need at least 1 dimension, got shapes [3] and []",
            ),
        matmul_op("matmul 2-D @ 1-D", matmul_mat_vec_samples)
            .rejects(
                vec![zeros(&[3, 4]), zeros(&[5])],
                "matmul: shapes [3, 4] and [5] cannot be multiplied (inner dims 4 and 5 differ)",
            )
            .rejects(
                vec![zeros(&[]), zeros(&[3])],
                "matmul: both arguments need at least 1 dimension, got shapes [] and [3]",
            ),
        matmul_op("matmul 1-D @ 1-D", matmul_dot_samples).rejects(
            vec![zeros(&[3]), zeros(&[4])],
            "matmul: shapes [3] and [4] cannot be multiplied (inner dims 3 and 4 differ)",
        ),
        // ---- joining and indexing ----
        op_info("cat(1)", cat_samples, |t| Tensor::cat(t, 1), |a| naive_cat(a, 1))
            .rejects(
                vec![zeros(&[2, 3]), zeros(&[3, 3])],
                "cat: sizes of tensors must match except in dimension 1: got shapes [2, 3] and [3, 3]",
            )
            .rejects(
                vec![zeros(&[2, 3]), zeros(&[2, 3, 1])],
                "cat: sizes of tensors must match except in dimension 1: got shapes [2, 3] and [2, 3, 1]",
            )
            .rejects(vec![zeros(&[2]), zeros(&[2])], &out_of_range("cat", 1, 1))
            .rejects(vec![], "cat: expected a non-empty list of tensors"),
        op_info("stack(1)", stack_samples, |t| Tensor::stack(t, 1), |a| naive_stack(a, 1))
            .rejects(
                vec![zeros(&[2, 3]), zeros(&[3, 2])],
                "stack: expects each tensor to be equal size, but got [2, 3] and [3, 2]",
            )
            .rejects(vec![], "stack: expected a non-empty list of tensors"),
        op_info(
            "gather(1, [2, 5])",
            || matrix_samples(ANY),
            move |t| t[0].gather(1, &gi),
            move |a| {
                Arr::from_fn(&[2, 5], |o| {
                    let j = gather_idx[ravel(o, &[2, 5])] as usize;
                    a[0].at(&[o[0], j])
                })
            },
        )
        .rejects(vec![zeros(&[3, 2])], "gather: index 3 is out of bounds for dimension 1 with size 2")
        .rejects(
            vec![zeros(&[1, 4])],
            "gather: index of shape [2, 5] does not fit input of shape [1, 4] (same number of dims, and no larger \
             except in dim 1)",
        )
        .rejects_call(
            "gather with an f64 index",
            || drop(zeros(&[3, 4]).gather(1, &zeros(&[3, 2]))),
            "gather: expected an i64 index tensor, got f64",
        ),
        op_info(
            "gather(0, [2, 5])",
            gather_dim0_samples,
            move |t| t[0].gather(0, &gi0),
            move |a| Arr::from_fn(&[2, 5], |o| a[0].at(&[gv0[ravel(o, &[2, 5])] as usize, o[1]])),
        )
        .rejects(vec![zeros(&[3, 5])], "gather: index 3 is out of bounds for dimension 0 with size 3"),
        op_info(
            "index_select(0, [4])",
            || matrix_samples(ANY),
            move |t| t[0].index_select(0, &si),
            move |a| Arr::from_fn(&[4, 4], |o| a[0].at(&[select_idx[o[0]] as usize, o[1]])),
        )
        .rejects(vec![zeros(&[2, 4])], "index_select: index 2 is out of bounds for dimension 0 with size 2")
        .rejects_call(
            "index_select with a 2-D index",
            || drop(zeros(&[3, 4]).index_select(0, &index(&[0, 1, 1, 0], &[2, 2]))),
            "index_select: index must be 0-D or 1-D, got shape [2, 2]",
        ),
        op_info(
            "index_select(1, [4])",
            || matrix_samples(ANY),
            move |t| t[0].index_select(1, &si1),
            move |a| Arr::from_fn(&[3, 4], |o| a[0].at(&[o[0], sv1[o[1]] as usize])),
        )
        .rejects(vec![zeros(&[3, 2])], "index_select: index 2 is out of bounds for dimension 1 with size 2"),
        op_info(
            "masked_fill([4], -7.5)",
            || matrix_samples(ANY),
            move |t| t[0].masked_fill(&fm, -7.5),
            move |a| {
                let mask = Arr::new(&[4], fill_mask.iter().map(|&m| m as f64).collect());
                a[0].zip(&mask, |x, m| if m != 0.0 { -7.5 } else { x })
            },
        )
        .rejects_call(
            "mask [2, 3, 4] for input [3, 4]",
            || drop(zeros(&[3, 4]).masked_fill(&index(&[0; 24], &[2, 3, 4]), 1.0)),
            "masked_fill: mask of shape [2, 3, 4] cannot be broadcast to the input shape [3, 4]",
        )
        .rejects(vec![zeros(&[3, 5])], "masked_fill: mask of shape [4] cannot be broadcast to the input shape [3, 5]"),
        op_info(
            "where_cond([3, 1])",
            where_samples,
            move |t| Tensor::where_cond(&co, &t[0], &t[1]),
            move |a| {
                let c = Arr::new(&[3, 1], cond.iter().map(|&m| m as f64).collect());
                let shape = broadcast(&broadcast(&c.shape, &a[0].shape), &a[1].shape);
                Arr::from_fn(&shape, |o| {
                    let pick = if c.at(&source_index(o, &c.shape)) != 0.0 { &a[0] } else { &a[1] };
                    pick.at(&source_index(o, &pick.shape))
                })
            },
        )
        .rejects(vec![zeros(&[2, 4]), zeros(&[4])], "where: the shapes [3, 1] and [2, 4] cannot be broadcast together")
        .rejects(
            vec![zeros(&[3, 4]), zeros(&[3, 5])],
            "where: the shapes [3, 4] and [3, 5] cannot be broadcast together",
        ),
    ]
}

fn gather_dim0_samples() -> Vec<Sample> {
    let g = &mut Lcg::new(15);
    vec![
        Sample::new("contiguous", Check, vec![arg(g, ANY, &[4, 5], Id)]),
        Sample::new("transposed", Check, vec![arg(g, ANY, &[5, 4], T)]),
        Sample::new("sliced", Check, vec![arg(g, ANY, &[6, 5], Narrow(0, 1, 4))]),
    ]
}

fn view_samples(d: Domain) -> Vec<Sample> {
    let g = &mut Lcg::new(16);
    vec![
        Sample::new("contiguous", Check, vec![arg(g, d, &[2, 3, 4], Id)]),
        Sample::new("sliced along dim 0", Check, vec![arg(g, d, &[3, 2, 4], Narrow(0, 1, 2))]),
        Sample::new("large", Skip, vec![arg(g, d, &[40, 50, 20], Id)]),
    ]
}

fn t_samples(d: Domain) -> Vec<Sample> {
    let mut v = matrix_samples(d);
    let g = &mut Lcg::new(17);
    v.push(Sample::new("1-D", Check, vec![arg(g, d, &[5], Id)]));
    v.push(Sample::new("0-d", Check, vec![arg(g, d, &[], Id)]));
    v
}

fn size_one_or_not_samples(d: Domain) -> Vec<Sample> {
    let mut v = size_one_samples(d);
    v.push(Sample::new("no size-1 dim", Check, vec![arg(&mut Lcg::new(18), d, &[2, 3, 4], Id)]));
    v
}

fn at_zero() -> Vec<Sample> {
    vec![Sample::fixed("at zero", &[0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300], &[6])]
}

fn at_clamp_bounds() -> Vec<Sample> {
    vec![Sample::fixed("at the bounds", &[-0.5, 0.5, -0.50001, 0.50001, 0.0, f64::INFINITY], &[6])]
}

fn at_integers() -> Vec<Sample> {
    vec![Sample::fixed("at integers", &[-2.0, -1.0, -0.0, 0.0, 1.0, 2.0, -1e-12, 1.0 - 1e-12], &[8])]
}

fn at_halves() -> Vec<Sample> {
    let ties = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, -3.5, 1e15 + 0.5, 1e15 + 1.5];
    let near = [0.499_999_999_999_999_94, 2.500_000_000_000_000_4, -1.499_999_999_999_999_8, 1e15 + 0.25];
    vec![Sample::fixed("half-way ties round to even", &ties, &[10]), Sample::fixed("near ties", &near, &[4])]
}

// ---------------------------------------------------------------------------------------
// The three table-driven tests
// ---------------------------------------------------------------------------------------

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else {
        "<panic payload is not a string>".to_string()
    }
}

/// Runs `f`, turning a panic into an error that carries its message.
fn catching<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| format!("panicked: {}", panic_message(&*p)))
}

fn close(got: f64, want: f64) -> bool {
    if want.is_nan() {
        got.is_nan()
    } else if want.is_infinite() {
        got == want
    } else {
        (got - want).abs() <= RTOL * want.abs().max(1.0)
    }
}

fn compare(got: &Tensor, want: &Arr) -> Result<(), String> {
    if got.dtype() != DType::F64 {
        return Err(format!("dtype {} instead of f64", got.dtype()));
    }
    if got.shape() != want.shape {
        return Err(format!("shape {:?} instead of {:?}", got.shape(), want.shape));
    }
    let values = got.to_vec::<f64>();
    match values.iter().zip(&want.data).position(|(&g, &w)| !close(g, w)) {
        None => Ok(()),
        Some(i) => Err(format!(
            "element {:?} is {} instead of {} (and {} of {} elements differ)",
            unravel(i, &want.shape),
            values[i],
            want.data[i],
            values.iter().zip(&want.data).filter(|(&g, &w)| !close(g, w)).count(),
            values.len()
        )),
    }
}

fn forward(info: &OpInfo, s: &Sample) -> Result<(), String> {
    s.check_layout()?;
    let got = catching(|| (info.op)(&s.args(&s.inputs)))?;
    let want = catching(|| (info.reference)(&s.reference_args())).map_err(|e| format!("reference {e}"))?;
    compare(&got, &want)
}

fn run_gradcheck(info: &OpInfo, s: &Sample) -> Result<(), String> {
    if let Some(t) = s.inputs.iter().find(|t| t.numel() > MAX_GRADCHECK_NUMEL) {
        return Err(format!("a gradcheck input has {} elements (limit {MAX_GRADCHECK_NUMEL})", t.numel()));
    }
    let leaves: Vec<Tensor> =
        s.inputs.iter().map(|t| Tensor::from_vec(t.to_vec::<f64>(), &t.shape()).requires_grad_(true)).collect();
    let result = catching(|| gradcheck(|t| (info.op)(&s.args(t)), &leaves))?;
    result.map_err(|e| e.to_string())
}

/// True when `expect` occurs in `msg` not preceded by a letter, digit or underscore, so
/// that "max: ..." does not match inside "argmax: ...".
fn contains_from_word_start(msg: &str, expect: &str) -> bool {
    msg.match_indices(expect)
        .any(|(i, _)| !matches!(msg[..i].chars().next_back(), Some(c) if c.is_alphanumeric() || c == '_'))
}

fn run_error(info: &OpInfo, e: &ErrorInput) -> Result<(), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| match &e.call {
        ErrorCall::Op(inputs) => drop((info.op)(inputs)),
        ErrorCall::Custom(f) => f(),
    }));
    match outcome {
        Ok(()) => Err("did not panic".to_string()),
        Err(p) => {
            let msg = panic_message(&*p);
            if contains_from_word_start(&msg, &e.expect) {
                Ok(())
            } else {
                Err(format!("panicked with {msg:?}, expected it to contain {:?}", e.expect))
            }
        }
    }
}

/// Collects what went wrong.
#[derive(Default)]
struct Report {
    checked: usize,
    failures: Vec<String>,
}

impl Report {
    fn record(&mut self, what: String, result: Result<(), String>) {
        self.checked += 1;
        if let Err(e) = result {
            self.failures.push(format!("{what}: {e}"));
        }
    }

    fn finish(self, test: &str, at_least: usize) {
        assert!(self.failures.is_empty(), "{test}: {} failures:\n{}", self.failures.len(), self.failures.join("\n"));
        assert!(self.checked >= at_least, "{test}: only {} cases ran (expected at least {at_least})", self.checked);
        println!("{test}: {} cases as expected", self.checked);
    }
}

fn setup() -> Vec<OpInfo> {
    // Elementwise kernels and matmul only use the pool with more than one thread.
    set_num_threads(2);
    let ops = table();
    let mut names: Vec<&str> = ops.iter().map(|o| o.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ops.len(), "op names in the table must be unique");
    println!("{} ops in the table", ops.len());
    ops
}

#[test]
fn forward_matches_reference() {
    let mut report = Report::default();
    for info in setup() {
        for s in (info.samples)() {
            report.record(format!("{} [{}]", info.name, s.desc), forward(&info, &s));
        }
    }
    report.finish("forward", 500);
}

#[test]
fn gradcheck_matches_finite_differences() {
    let mut report = Report::default();
    for info in setup() {
        let mut any = false;
        for s in (info.samples)() {
            if s.grad == Skip {
                continue;
            }
            any = true;
            report.record(format!("{} [{}]", info.name, s.desc), run_gradcheck(&info, &s));
        }
        assert!(any, "{} has no gradcheck sample", info.name);
    }
    report.finish("gradcheck", 300);
}

#[test]
fn error_inputs_panic_with_op_and_shapes() {
    let mut report = Report::default();
    for info in setup() {
        for e in &info.errors {
            report.record(format!("{} [{}]", info.name, e.desc), run_error(&info, e));
        }
    }
    report.finish("errors", 40);
}
