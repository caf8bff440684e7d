//! Property tests for `NdArray` against naive reference implementations:
//!
//! 1. view ops share storage and read the elements a naive index model predicts;
//! 2. reshape round trips, and reshape of a strided array equals reshape of its copy;
//! 3. elementwise ops on strided/expanded inputs equal the same ops on contiguous
//!    copies, and broadcasting matches a naive loop;
//! 4. reductions match naive loops (including non-contiguous inputs);
//! 5. matmul matches a naive triple loop (views, batches, 1-D, parallel sizes);
//! 6. cat/narrow, gather and index_select match naive loops.
//!
//! The model is [`Dense`]: a row-major `Vec<f64>` with a shape, on which every op is
//! written as the obvious loop over multi-indices.

#![allow(clippy::needless_range_loop)]

use nabla_tensor::{set_num_threads, DType, NdArray};
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;

// ---------------------------------------------------------------------------------------
// The naive model
// ---------------------------------------------------------------------------------------

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// The multi-index of row-major position `l` in `shape`.
fn unravel(mut l: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = l % shape[d];
        l /= shape[d];
    }
    idx
}

/// Every multi-index of `shape`, in row-major order.
fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    (0..numel(shape)).map(|l| unravel(l, shape)).collect()
}

/// The row-major position of `idx` in `shape`.
fn linear(idx: &[usize], shape: &[usize]) -> usize {
    assert_eq!(idx.len(), shape.len());
    idx.iter().zip(shape).fold(0, |acc, (&i, &d)| {
        assert!(i < d, "index {idx:?} out of range for {shape:?}");
        acc * d + i
    })
}

/// The source index that output index `idx` reads when `shape` is broadcast up to the
/// output shape (PyTorch rules: align trailing dims, size-1 dims repeat).
fn broadcast_index(idx: &[usize], shape: &[usize]) -> Vec<usize> {
    let lead = idx.len() - shape.len();
    (0..shape.len()).map(|i| if shape[i] == 1 { 0 } else { idx[lead + i] }).collect()
}

fn naive_broadcast_shape(a: &[usize], b: &[usize]) -> Vec<usize> {
    let n = a.len().max(b.len());
    let get = |s: &[usize], i: usize| if i + s.len() >= n { s[i + s.len() - n] } else { 1 };
    (0..n)
        .map(|i| {
            let (x, y) = (get(a, i), get(b, i));
            assert!(x == y || x == 1 || y == 1, "test bug: {a:?} and {b:?} do not broadcast");
            if x == 1 {
                y
            } else {
                x
            }
        })
        .collect()
}

/// A dense row-major array: the reference every result is compared against.
#[derive(Clone, Debug, PartialEq)]
struct Dense {
    shape: Vec<usize>,
    data: Vec<f64>,
}

impl Dense {
    fn build(shape: &[usize], f: impl Fn(&[usize]) -> f64) -> Dense {
        Dense { shape: shape.to_vec(), data: indices(shape).iter().map(|i| f(i)).collect() }
    }

    /// `shape` filled with `pool[start], pool[start + 1], ...` (wrapping).
    fn fill(shape: &[usize], pool: &[f64], start: usize) -> Dense {
        let data = (0..numel(shape)).map(|i| pool[(start + i) % pool.len()]).collect();
        Dense { shape: shape.to_vec(), data }
    }

    fn ndim(&self) -> usize {
        self.shape.len()
    }

    fn at(&self, idx: &[usize]) -> f64 {
        self.data[linear(idx, &self.shape)]
    }

    fn array(&self) -> NdArray {
        NdArray::from_vec(self.data.clone(), &self.shape)
    }

    /// Output dim `i` is input dim `perm[i]`.
    fn permute(&self, perm: &[usize]) -> Dense {
        let shape: Vec<usize> = perm.iter().map(|&p| self.shape[p]).collect();
        Dense::build(&shape, |idx| {
            let mut src = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                src[p] = idx[i];
            }
            self.at(&src)
        })
    }

    fn narrow(&self, dim: usize, start: usize, len: usize) -> Dense {
        let mut shape = self.shape.clone();
        shape[dim] = len;
        Dense::build(&shape, |idx| {
            let mut src = idx.to_vec();
            src[dim] += start;
            self.at(&src)
        })
    }

    fn select(&self, dim: usize, index: usize) -> Dense {
        let mut shape = self.shape.clone();
        shape.remove(dim);
        Dense::build(&shape, |idx| {
            let mut src = idx.to_vec();
            src.insert(dim, index);
            self.at(&src)
        })
    }

    fn unsqueeze(&self, dim: usize) -> Dense {
        let mut shape = self.shape.clone();
        shape.insert(dim, 1);
        Dense::build(&shape, |idx| {
            let mut src = idx.to_vec();
            src.remove(dim);
            self.at(&src)
        })
    }

    fn squeeze_dim(&self, dim: usize) -> Dense {
        if self.shape[dim] != 1 {
            return self.clone();
        }
        let mut shape = self.shape.clone();
        shape.remove(dim);
        Dense::build(&shape, |idx| {
            let mut src = idx.to_vec();
            src.insert(dim, 0);
            self.at(&src)
        })
    }

    fn squeeze(&self) -> Dense {
        let shape: Vec<usize> = self.shape.iter().copied().filter(|&d| d != 1).collect();
        // Removing size-1 dims keeps the row-major order.
        Dense { shape, data: self.data.clone() }
    }

    fn expand(&self, target: &[usize]) -> Dense {
        Dense::build(target, |idx| self.at(&broadcast_index(idx, &self.shape)))
    }

    fn map(&self, f: impl Fn(f64) -> f64) -> Dense {
        Dense { shape: self.shape.clone(), data: self.data.iter().map(|&x| f(x)).collect() }
    }

    fn zip(&self, other: &Dense, f: impl Fn(f64, f64) -> f64) -> Dense {
        let shape = naive_broadcast_shape(&self.shape, &other.shape);
        Dense::build(&shape, |idx| {
            f(self.at(&broadcast_index(idx, &self.shape)), other.at(&broadcast_index(idx, &other.shape)))
        })
    }
}

// ---------------------------------------------------------------------------------------
// Randomness inside a case: a stream of proptest-generated numbers
// ---------------------------------------------------------------------------------------

/// Draws choices that depend on values computed inside a test (a dim of the current
/// shape, a start inside that dim, ...) from proptest-generated numbers, so they shrink.
#[derive(Clone)]
struct Picker {
    seeds: Vec<u32>,
    pos: usize,
    /// The smallest size drawn for a derived dim: 0 lets empty arrays appear, 1 avoids them.
    lo: usize,
}

impl std::fmt::Debug for Picker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // One line, even under `{:#?}`.
        write!(f, "Picker(lo {}: {})", self.lo, self.seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "))
    }
}

impl Picker {
    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        assert!(n > 0);
        let s = self.seeds[self.pos % self.seeds.len()];
        self.pos += 1;
        s as usize % n
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// A size for a derived dim in `lo..=hi` (just `hi` if that is below `lo`).
    fn size(&mut self, hi: usize) -> usize {
        self.range(self.lo.min(hi), hi)
    }

    fn coin(&mut self) -> bool {
        self.below(2) == 0
    }

    /// A random permutation of `0..n`.
    fn shuffle(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
        v
    }

    /// `dim` as a dim argument for an array of `ndim` dims: as is or counted from the end.
    fn signed(&mut self, dim: usize, ndim: usize) -> isize {
        if self.coin() {
            dim as isize
        } else {
            dim as isize - ndim as isize
        }
    }
}

/// See [`Picker::lo`].
fn picker(lo: usize) -> impl Strategy<Value = Picker> {
    prop::collection::vec(any::<u32>(), 64).prop_map(move |seeds| Picker { seeds, pos: 0, lo })
}

fn values(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-10.0f64..10.0, n)
}

/// Enough values to fill any shape of at most 4 dims of at most 5 (and then some).
fn pool() -> impl Strategy<Value = Vec<f64>> {
    values(701)
}

fn shape(
    ndim: std::ops::RangeInclusive<usize>,
    dim: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(dim, ndim)
}

fn dense_of(shape: Vec<usize>) -> impl Strategy<Value = Dense> {
    values(numel(&shape)).prop_map(move |data| Dense { shape: shape.clone(), data })
}

fn dense(ndim: std::ops::RangeInclusive<usize>, dim: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Dense> {
    shape(ndim, dim).prop_flat_map(dense_of)
}

/// Small integers as floats, so that ties (for argmax/argmin, amax/amin) are common.
fn dense_ints(
    ndim: std::ops::RangeInclusive<usize>,
    dim: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Dense> {
    shape(ndim, dim).prop_flat_map(|shape| {
        prop::collection::vec((-3i32..=3).prop_map(f64::from), numel(&shape))
            .prop_map(move |data| Dense { shape: shape.clone(), data })
    })
}

/// A size for a matrix dim: often the edge cases 0 and 1.
fn mat_dim() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 2 => Just(1usize), 6 => 0..=12usize]
}

fn config(cases: u32) -> ProptestConfig {
    // No regression files: this suite must not write next to the sources.
    ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases) }
}

// ---------------------------------------------------------------------------------------
// Shapes and layouts derived inside a case
// ---------------------------------------------------------------------------------------

fn as_spec(shape: &[usize]) -> Vec<isize> {
    shape.iter().map(|&d| d as isize).collect()
}

/// A random shape with the same element count as `shape`: its prime factors (and
/// zeros), shuffled, regrouped, with some 1s inserted.
fn compatible_shape(shape: &[usize], p: &mut Picker) -> Vec<usize> {
    let mut factors = vec![];
    for &d in shape {
        let mut d = d;
        if d == 0 {
            factors.push(0);
            continue;
        }
        for q in [2, 3, 5, 7] {
            while d % q == 0 {
                factors.push(q);
                d /= q;
            }
        }
        if d > 1 {
            factors.push(d);
        }
    }
    let order = p.shuffle(factors.len());
    let mut out: Vec<usize> = vec![];
    for i in order {
        match out.last_mut() {
            Some(last) if p.coin() => *last *= factors[i],
            _ => out.push(factors[i]),
        }
    }
    for _ in 0..p.below(3) {
        let at = p.below(out.len() + 1);
        out.insert(at, 1);
    }
    assert_eq!(numel(&out), numel(shape));
    out
}

/// `shape` as a reshape argument, sometimes with one dim left to inference (`-1`).
fn with_inferred(shape: &[usize], p: &mut Picker) -> Vec<isize> {
    let mut spec = as_spec(shape);
    // `-1` is ambiguous (and refused) when the known dims multiply to 0.
    if !spec.is_empty() && numel(shape) > 0 && p.coin() {
        let i = p.below(spec.len());
        spec[i] = -1;
    }
    spec
}

/// A shape that broadcasts up to `full`: some leading dims dropped, some dims set to 1.
fn broadcastable_to(full: &[usize], p: &mut Picker) -> Vec<usize> {
    let drop = p.below(full.len() + 1);
    full[drop..].iter().map(|&d| if p.below(3) == 0 { 1 } else { d }).collect()
}

/// The inverse of a permutation.
fn inverse(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (i, &q) in perm.iter().enumerate() {
        inv[q] = i;
    }
    inv
}

/// An array holding `d`'s values with a random non-row-major layout: the data is stored
/// in a permuted order and permuted back, so the strides are scrambled.
fn scrambled(d: &Dense, p: &mut Picker) -> NdArray {
    let perm = p.shuffle(d.ndim());
    let stored = d.permute(&perm);
    let back: Vec<isize> = inverse(&perm).iter().map(|&i| i as isize).collect();
    stored.array().permute(&back)
}

/// Applies one random view op to `x` (whose values are `m`), returning the view, the
/// model of the view, and a description of the op.
fn random_view(x: &NdArray, m: &Dense, p: &mut Picker) -> (NdArray, Dense, String) {
    let nd = m.ndim();
    let kind = p.below(8);
    match kind {
        1 if nd > 0 => {
            let (i, j) = (p.below(nd), p.below(nd));
            let (si, sj) = (p.signed(i, nd), p.signed(j, nd));
            let mut perm: Vec<usize> = (0..nd).collect();
            perm.swap(i, j);
            (x.transpose(si, sj), m.permute(&perm), format!("transpose({si}, {sj})"))
        }
        2 if nd > 0 => {
            let d = p.below(nd);
            let len = p.size(m.shape[d]);
            let start = p.range(0, m.shape[d] - len);
            let sd = p.signed(d, nd);
            (x.narrow(sd, start, len), m.narrow(d, start, len), format!("narrow({sd}, {start}, {len})"))
        }
        3 if nd > 0 && m.shape.iter().any(|&s| s > 0) => {
            let candidates: Vec<usize> = (0..nd).filter(|&d| m.shape[d] > 0).collect();
            let d = candidates[p.below(candidates.len())];
            let i = p.below(m.shape[d]);
            let sd = p.signed(d, nd);
            (x.select(sd, i), m.select(d, i), format!("select({sd}, {i})"))
        }
        4 if nd < 6 => {
            let d = p.below(nd + 1);
            let sd = p.signed(d, nd + 1);
            (x.unsqueeze(sd), m.unsqueeze(d), format!("unsqueeze({sd})"))
        }
        5 if nd > 0 => {
            let d = p.below(nd);
            let sd = p.signed(d, nd);
            (x.squeeze_dim(sd), m.squeeze_dim(d), format!("squeeze_dim({sd})"))
        }
        6 => (x.squeeze(), m.squeeze(), "squeeze()".to_string()),
        7 => {
            let lead = if nd < 5 { p.below(2) } else { 0 };
            let mut target: Vec<usize> = (0..lead).map(|_| p.size(3)).collect();
            target.extend(m.shape.iter().map(|&s| if s == 1 { p.size(3) } else { s }));
            if numel(&target) > 2000 {
                target = m.shape.clone();
            }
            let spec: Vec<isize> = target
                .iter()
                .enumerate()
                .map(|(i, &t)| if i >= lead && m.shape[i - lead] == t && p.coin() { -1 } else { t as isize })
                .collect();
            (x.expand(&spec), m.expand(&target), format!("expand({spec:?})"))
        }
        _ => {
            let perm = p.shuffle(nd);
            let dims: Vec<isize> = perm.iter().map(|&q| p.signed(q, nd)).collect();
            (x.permute(&dims), m.permute(&perm), format!("permute({dims:?})"))
        }
    }
}

/// `steps` random view ops applied to `d`'s array.
fn random_views(d: &Dense, steps: usize, p: &mut Picker) -> (NdArray, Dense, Vec<String>) {
    let (mut x, mut m, mut log) = (d.array(), d.clone(), vec![format!("from shape {:?}", d.shape)]);
    for _ in 0..steps {
        let (nx, nm, what) = random_view(&x, &m, p);
        log.push(what);
        x = nx;
        m = nm;
    }
    (x, m, log)
}

// ---------------------------------------------------------------------------------------
// Comparisons
// ---------------------------------------------------------------------------------------

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

/// `got` has `want`'s shape and exactly its values.
fn check(got: &NdArray, want: &Dense, what: &dyn std::fmt::Debug) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.shape(), &want.shape[..], "shape of {:?}", what);
    let g = got.to_vec::<f64>();
    prop_assert!(same(&g, &want.data), "values of {:?}\n got {:?}\nwant {:?}", what, g, want.data);
    Ok(())
}

/// `got` is `want` up to a relative error of 1e-9 of `scale` (the sum of the magnitudes
/// of the terms, so cancellation does not make the bound meaningless).
fn close(got: f64, want: f64, scale: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if got == want {
        return true;
    }
    want.is_finite() && (got - want).abs() <= 1e-9 * scale.max(want.abs())
}

fn check_close(got: &NdArray, want: &Dense, scale: &[f64], what: &dyn std::fmt::Debug) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.shape(), &want.shape[..], "shape of {:?}", what);
    let g = got.to_vec::<f64>();
    prop_assert_eq!(g.len(), want.data.len());
    for i in 0..g.len() {
        prop_assert!(
            close(g[i], want.data[i], scale[i]),
            "element {} of {:?}: got {}, want {}\n got {:?}\nwant {:?}",
            i,
            what,
            g[i],
            want.data[i],
            g,
            want.data
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Regression tests for empty-array bugs this suite found (a walk over a size-0 dim
// divided by zero; a leading-dim sum of an empty array lost its shape); the
// `*_with_empty_arrays` twins further down run the full properties on empty shapes.
// ---------------------------------------------------------------------------------------

/// Every non-contiguous traversal of an empty array goes through `Walk::runs`, which
/// once divided by the zero dim even for the empty range `0..0`.
#[test]
fn empty_transposed_array_reads_back() {
    let t = NdArray::zeros(&[0, 3], DType::F64).t(); // shape [3, 0], strides [1, 3]
    assert_eq!(t.shape(), &[3, 0]);
    assert_eq!(t.to_vec::<f64>(), Vec::<f64>::new());
}

#[test]
fn narrow_to_length_zero_reads_back() {
    let v = NdArray::ones(&[2, 3], DType::F64).narrow(1, 1, 0); // shape [2, 0], strides [3, 1]
    assert_eq!(v.to_vec::<f64>(), Vec::<f64>::new());
}

#[test]
fn broadcasting_against_an_empty_array() {
    let s = NdArray::zeros(&[0, 3], DType::F64).add(&NdArray::ones(&[3], DType::F64));
    assert_eq!(s.shape(), &[0, 3]);
    assert_eq!(s.to_vec::<f64>(), Vec::<f64>::new());
}

#[test]
fn cat_with_an_empty_part() {
    let c = NdArray::cat(&[NdArray::ones(&[2, 2], DType::F64), NdArray::zeros(&[2, 0], DType::F64)], 1);
    assert_eq!(c.to_vec::<f64>(), vec![1.0; 4]);
}

#[test]
fn keepdim_sum_over_an_empty_dim_is_zeros() {
    let s = NdArray::zeros(&[0, 3], DType::F64).sum(&[0], true);
    assert_eq!(s.shape(), &[1, 3]);
    assert_eq!(s.to_vec::<f64>(), vec![0.0; 3]);
}

/// `sum_leading` (the fast path for summing the leading dims of a contiguous array)
/// computes `cols = numel / rows.max(1)`: with 0 rows that is 0 columns instead of the
/// kept extent, so the result has no elements (a debug assertion in `from_storage`
/// fires; a release build returns an array whose storage is shorter than its shape).
#[test]
fn sum_over_an_empty_leading_dim_is_zeros() {
    let s = NdArray::zeros(&[0, 3], DType::F64).sum(&[0], false);
    assert_eq!(s.shape(), &[3]);
    assert_eq!(s.to_vec::<f64>(), vec![0.0; 3]);
}

#[test]
fn sum_of_an_empty_array_is_zero() {
    assert_eq!(NdArray::zeros(&[0], DType::F64).sum_all().item(), 0.0);
    assert_eq!(NdArray::zeros(&[2, 0], DType::F64).sum(&[], false).item(), 0.0);
}

// ---------------------------------------------------------------------------------------
// 1. Views share storage and copy nothing
// ---------------------------------------------------------------------------------------

fn narrow_and_select(d: &Dense, p: &mut Picker) -> TestCaseResult {
    let a = d.array();
    let nd = d.ndim();
    let dim = p.below(nd);
    let size = d.shape[dim];
    let len = p.size(size);
    let start = p.range(0, size - len);
    let sd = p.signed(dim, nd);
    let v = a.narrow(sd, start, len);
    prop_assert!(v.shares_storage(&a));
    check(&v, &d.narrow(dim, start, len), &("narrow", sd, start, len))?;
    if size > 0 {
        let i = p.below(size);
        let s = a.select(sd, i);
        prop_assert!(s.shares_storage(&a));
        check(&s, &d.select(dim, i), &("select", sd, i))?;
    }
    Ok(())
}

fn permute_and_transpose(d: &Dense, p: &mut Picker) -> TestCaseResult {
    let a = d.array();
    let nd = d.ndim();
    let perm = p.shuffle(nd);
    let dims: Vec<isize> = perm.iter().map(|&q| p.signed(q, nd)).collect();
    let v = a.permute(&dims);
    prop_assert!(v.shares_storage(&a));
    check(&v, &d.permute(&perm), &("permute", &dims))?;
    if nd > 0 {
        let (i, j) = (p.below(nd), p.below(nd));
        let (si, sj) = (p.signed(i, nd), p.signed(j, nd));
        let mut swap: Vec<usize> = (0..nd).collect();
        swap.swap(i, j);
        let t = a.transpose(si, sj);
        prop_assert!(t.shares_storage(&a));
        check(&t, &d.permute(&swap), &("transpose", si, sj))?;
    }
    if nd <= 2 {
        let t = a.t();
        prop_assert!(t.shares_storage(&a));
        let rev: Vec<usize> = (0..nd).rev().collect();
        check(&t, &d.permute(&rev), &"t")?;
    }
    Ok(())
}

fn expand_and_broadcast_to(full: &[usize], pool: &[f64], p: &mut Picker) -> TestCaseResult {
    let small = broadcastable_to(full, p);
    let d = Dense::fill(&small, pool, 0);
    let a = d.array();
    let want = d.expand(full);
    let lead = full.len() - small.len();
    let spec: Vec<isize> = full
        .iter()
        .enumerate()
        .map(|(i, &t)| if i >= lead && small[i - lead] == t && p.coin() { -1 } else { t as isize })
        .collect();
    let e = a.expand(&spec);
    prop_assert!(e.shares_storage(&a));
    check(&e, &want, &("expand", &small, &spec))?;
    let b = a.broadcast_to(full);
    prop_assert!(b.shares_storage(&a));
    check(&b, &want, &("broadcast_to", &small, full))?;
    Ok(())
}

fn view_chain(d: &Dense, steps: usize, p: &mut Picker) -> TestCaseResult {
    let a = d.array();
    let (mut x, mut m, mut log) = (a.clone(), d.clone(), vec![format!("from shape {:?}", d.shape)]);
    for _ in 0..steps {
        let (nx, nm, what) = random_view(&x, &m, p);
        log.push(what);
        prop_assert!(nx.shares_storage(&a), "{:?} copied", log);
        prop_assert!(nx.layout().storage_span() <= d.data.len(), "{:?} reaches past the buffer", log);
        check(&nx, &nm, &log)?;
        x = nx;
        m = nm;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn reshape_and_view_of_contiguous_are_views(d in dense(0..=4, 0..=5), mut p in picker(0)) {
        let a = d.array();
        let target = compatible_shape(&d.shape, &mut p);
        let spec = with_inferred(&target, &mut p);
        // A contiguous reshape keeps the row-major order: element `idx` of the result is
        // element `linear(idx)` of the source's data.
        let want = Dense::build(&target, |idx| d.data[linear(idx, &target)]);
        for (name, r) in [("reshape", a.reshape(&spec)), ("view", a.view(&spec))] {
            prop_assert!(r.shares_storage(&a), "{} {:?} copied", name, spec);
            check(&r, &want, &(name, &spec))?;
        }
        let flat = a.flatten(0, -1);
        prop_assert!(flat.shares_storage(&a));
        check(&flat, &Dense { shape: vec![d.data.len()], data: d.data.clone() }, &"flatten")?;
    }

    #[test]
    fn unsqueeze_and_squeeze_are_views(d in dense(0..=4, 0..=3), mut p in picker(0)) {
        let a = d.array();
        let nd = d.ndim();
        let dim = p.below(nd + 1);
        let sd = p.signed(dim, nd + 1);
        let u = a.unsqueeze(sd);
        prop_assert!(u.shares_storage(&a));
        check(&u, &d.unsqueeze(dim), &("unsqueeze", sd))?;
        let back = u.squeeze_dim(sd);
        prop_assert!(back.shares_storage(&a));
        check(&back, &d, &("squeeze_dim after unsqueeze", sd))?;
        let s = u.squeeze();
        prop_assert!(s.shares_storage(&a));
        check(&s, &d.squeeze(), &"squeeze")?;
        if nd > 0 {
            // Squeezing a dim whose size is not 1 changes nothing.
            let k = p.below(nd);
            let sk = p.signed(k, nd);
            let q = a.squeeze_dim(sk);
            prop_assert!(q.shares_storage(&a));
            check(&q, &d.squeeze_dim(k), &("squeeze_dim", sk))?;
        }
    }

    #[test]
    fn narrow_and_select_are_views(d in dense(1..=4, 1..=5), mut p in picker(1)) {
        narrow_and_select(&d, &mut p)?;
    }

    #[test]

    fn narrow_and_select_are_views_with_empty_arrays(d in dense(1..=4, 0..=5), mut p in picker(0)) {
        narrow_and_select(&d, &mut p)?;
    }

    #[test]
    fn permute_and_transpose_are_views(d in dense(0..=4, 1..=5), mut p in picker(1)) {
        permute_and_transpose(&d, &mut p)?;
    }

    #[test]

    fn permute_and_transpose_are_views_with_empty_arrays(d in dense(0..=4, 0..=5), mut p in picker(0)) {
        permute_and_transpose(&d, &mut p)?;
    }

    #[test]
    fn expand_is_a_view(full in shape(0..=4, 1..=4), pool in pool(), mut p in picker(1)) {
        expand_and_broadcast_to(&full, &pool, &mut p)?;
    }

    #[test]

    fn expand_is_a_view_with_empty_arrays(full in shape(0..=4, 0..=4), pool in pool(), mut p in picker(0)) {
        expand_and_broadcast_to(&full, &pool, &mut p)?;
    }

    #[test]
    fn chains_of_views_share_storage_and_match_the_model(
        d in dense(0..=4, 1..=4),
        steps in 1..=6usize,
        mut p in picker(1),
    ) {
        view_chain(&d, steps, &mut p)?;
    }

    #[test]

    fn chains_of_views_share_storage_and_match_the_model_with_empty_arrays(
        d in dense(0..=4, 0..=4),
        steps in 1..=6usize,
        mut p in picker(0),
    ) {
        view_chain(&d, steps, &mut p)?;
    }
}

// ---------------------------------------------------------------------------------------
// 2. Reshape round trips
// ---------------------------------------------------------------------------------------

/// Whether `x`'s elements, in row-major order, sit at storage offsets that some strides
/// of `target` reproduce: the naive condition for `view(target)` to exist.
fn view_possible(x: &NdArray, target: &[usize]) -> bool {
    let (offset, strides) = (x.layout().offset(), x.strides());
    let offs: Vec<usize> = indices(x.shape())
        .iter()
        .map(|idx| offset + idx.iter().zip(strides).map(|(i, s)| i * s).sum::<usize>())
        .collect();
    let base = offs[0];
    let t: Vec<i64> = (0..target.len())
        .map(|j| {
            if target[j] < 2 {
                return 0;
            }
            let mut e = vec![0; target.len()];
            e[j] = 1;
            offs[linear(&e, target)] as i64 - base as i64
        })
        .collect();
    indices(target)
        .iter()
        .enumerate()
        .all(|(l, idx)| offs[l] as i64 == base as i64 + idx.iter().zip(&t).map(|(&i, &s)| i as i64 * s).sum::<i64>())
}

fn reshape_of_permuted(d: &Dense, p: &mut Picker) -> TestCaseResult {
    let perm = p.shuffle(d.ndim());
    let x = d.array().permute(&as_spec(&perm));
    let m = d.permute(&perm);
    let target = compatible_shape(&m.shape, p);
    let spec = with_inferred(&target, p);
    let r = x.reshape(&spec);
    let want = Dense { shape: target.clone(), data: m.data.clone() };
    check(&r, &want, &("reshape of permuted", &perm, &spec))?;
    check(&x.contiguous().reshape(&spec), &want, &("reshape of contiguous copy", &spec))?;
    check(&r.reshape(&as_spec(&m.shape)), &m, &("and back", &spec))?;
    if m.data.is_empty() {
        return Ok(());
    }
    // A view exactly when the strides allow one (PyTorch's rule), else a copy.
    let viewable = view_possible(&x, &target);
    prop_assert_eq!(r.shares_storage(&x), viewable, "perm {:?} to {:?}", perm, target);
    if viewable {
        let v = x.view(&spec);
        prop_assert!(v.shares_storage(&x));
        check(&v, &want, &("view of permuted", &perm, &spec))?;
    }
    Ok(())
}

fn reshape_of_views(d: &Dense, steps: usize, p: &mut Picker) -> TestCaseResult {
    let (x, m, log) = random_views(d, steps, p);
    let target = compatible_shape(&m.shape, p);
    let spec = with_inferred(&target, p);
    let want = Dense { shape: target.clone(), data: m.data.clone() };
    let r = x.reshape(&spec);
    check(&r, &want, &(&log, "reshape", &spec))?;
    check(&x.contiguous().reshape(&spec), &want, &(&log, "reshape of contiguous copy", &spec))?;
    check(&r.reshape(&as_spec(&m.shape)), &m, &(&log, "reshape back from", &spec))?;
    if !m.data.is_empty() {
        prop_assert_eq!(r.shares_storage(&x), view_possible(&x, &target), "{:?} to {:?}", log, target);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn reshape_round_trips(d in dense(0..=4, 0..=5), mut p in picker(0)) {
        let a = d.array();
        let target = compatible_shape(&d.shape, &mut p);
        let there = a.reshape(&with_inferred(&target, &mut p));
        let back = there.reshape(&as_spec(&d.shape));
        prop_assert!(back.shares_storage(&a));
        check(&back, &d, &("round trip via", &target))?;
    }

    #[test]
    fn reshape_of_strided_equals_reshape_of_contiguous(d in dense(0..=4, 1..=5), mut p in picker(1)) {
        reshape_of_permuted(&d, &mut p)?;
    }

    #[test]

    fn reshape_of_strided_equals_reshape_of_contiguous_with_empty_arrays(
        d in dense(0..=4, 0..=5),
        mut p in picker(0),
    ) {
        reshape_of_permuted(&d, &mut p)?;
    }

    #[test]
    fn reshape_of_views_equals_reshape_of_contiguous(
        d in dense(0..=4, 1..=4),
        steps in 1..=3usize,
        mut p in picker(1),
    ) {
        reshape_of_views(&d, steps, &mut p)?;
    }

    #[test]

    fn reshape_of_views_equals_reshape_of_contiguous_with_empty_arrays(
        d in dense(0..=4, 0..=4),
        steps in 1..=3usize,
        mut p in picker(0),
    ) {
        reshape_of_views(&d, steps, &mut p)?;
    }
}

// ---------------------------------------------------------------------------------------
// 3. Strided inputs give the same results as contiguous copies
// ---------------------------------------------------------------------------------------

type UnaryCase = (&'static str, fn(&NdArray) -> NdArray, fn(f64) -> f64);

const UNARY: [UnaryCase; 5] = [
    ("exp", NdArray::exp, f64::exp),
    ("relu", NdArray::relu, |x| if x > 0.0 { x } else { 0.0 }),
    ("tanh", NdArray::tanh, f64::tanh),
    ("neg", NdArray::neg, |x| -x),
    ("abs", NdArray::abs, f64::abs),
];

type BinaryCase = (&'static str, fn(&NdArray, &NdArray) -> NdArray, fn(f64, f64) -> f64);

const BINARY: [BinaryCase; 4] = [
    ("add", NdArray::add, |x, y| x + y),
    ("mul", NdArray::mul, |x, y| x * y),
    ("sub", NdArray::sub, |x, y| x - y),
    ("maximum", NdArray::maximum, f64::max),
];

fn unary_on_views(d: &Dense, steps: usize, p: &mut Picker) -> TestCaseResult {
    let (x, m, log) = random_views(d, steps, p);
    let c = x.contiguous();
    prop_assert!(c.is_contiguous());
    check(&c, &m, &(&log, "contiguous"))?;
    for (name, op, f) in UNARY {
        let got = op(&x);
        let want = op(&c);
        check(&got, &Dense { shape: want.shape().to_vec(), data: want.to_vec() }, &(&log, name, "vs contiguous"))?;
        check(&got, &m.map(f), &(&log, name, "vs naive"))?;
    }
    Ok(())
}

fn binary_on_views(d: &Dense, steps: usize, pool: &[f64], swap: bool, p: &mut Picker) -> TestCaseResult {
    let (x, mx, log) = random_views(d, steps, p);
    // The other operand: same shape, scrambled strides.
    let my = Dense::fill(&mx.shape, pool, 0);
    let y = scrambled(&my, p);
    let ((a, ma), (b, mb)) = if swap { ((y, my), (x, mx)) } else { ((x, mx), (y, my)) };
    let (ac, bc) = (a.contiguous(), b.contiguous());
    for (name, op, f) in BINARY {
        let got = op(&a, &b);
        let want = op(&ac, &bc);
        let want = Dense { shape: want.shape().to_vec(), data: want.to_vec() };
        check(&got, &want, &(&log, swap, name, "vs contiguous"))?;
        check(&got, &ma.zip(&mb, f), &(&log, swap, name, "vs naive"))?;
    }
    Ok(())
}

fn binary_broadcasting(full: &[usize], pool_a: &[f64], pool_b: &[f64], p: &mut Picker) -> TestCaseResult {
    let (sa, sb) = (broadcastable_to(full, p), broadcastable_to(full, p));
    let (ma, mb) = (Dense::fill(&sa, pool_a, 0), Dense::fill(&sb, pool_b, 0));
    // Sometimes with scrambled strides as well as broadcasting.
    let a = if p.coin() { scrambled(&ma, p) } else { ma.array() };
    let b = if p.coin() { scrambled(&mb, p) } else { mb.array() };
    for (name, op, f) in BINARY {
        check(&op(&a, &b), &ma.zip(&mb, f), &(name, &sa, &sb))?;
        check(&op(&b, &a), &mb.zip(&ma, f), &(name, &sb, &sa))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn unary_on_views_equals_unary_on_contiguous(
        d in dense(0..=4, 1..=5),
        steps in 1..=3usize,
        mut p in picker(1),
    ) {
        unary_on_views(&d, steps, &mut p)?;
    }

    #[test]

    fn unary_on_views_equals_unary_on_contiguous_with_empty_arrays(
        d in dense(0..=4, 0..=5),
        steps in 1..=3usize,
        mut p in picker(0),
    ) {
        unary_on_views(&d, steps, &mut p)?;
    }

    #[test]
    fn binary_on_views_equals_binary_on_contiguous(
        d in dense(0..=4, 1..=5),
        steps in 1..=3usize,
        pool in pool(),
        swap in any::<bool>(),
        mut p in picker(1),
    ) {
        binary_on_views(&d, steps, &pool, swap, &mut p)?;
    }

    #[test]

    fn binary_on_views_equals_binary_on_contiguous_with_empty_arrays(
        d in dense(0..=4, 0..=5),
        steps in 1..=3usize,
        pool in pool(),
        swap in any::<bool>(),
        mut p in picker(0),
    ) {
        binary_on_views(&d, steps, &pool, swap, &mut p)?;
    }

    #[test]
    fn binary_broadcasting_matches_naive(
        full in shape(0..=4, 1..=4),
        pool_a in pool(),
        pool_b in pool(),
        mut p in picker(1),
    ) {
        binary_broadcasting(&full, &pool_a, &pool_b, &mut p)?;
    }

    #[test]

    fn binary_broadcasting_matches_naive_with_empty_arrays(
        full in shape(0..=4, 0..=4),
        pool_a in pool(),
        pool_b in pool(),
        mut p in picker(0),
    ) {
        binary_broadcasting(&full, &pool_a, &pool_b, &mut p)?;
    }
}

proptest! {
    #![proptest_config(config(4))]

    /// Large enough (over `PARALLEL_THRESHOLD` elements) that the elementwise kernels
    /// split the strided walk across threads, with chunks starting mid-row.
    #[test]
    fn parallel_elementwise_on_views_matches_naive(
        rows in 180..=230usize,
        cols in 180..=230usize,
        pool_a in values(997),
        pool_b in values(991),
        mut p in picker(1),
    ) {
        set_num_threads(2);
        assert!(rows * cols > nabla_tensor::PARALLEL_THRESHOLD);
        // A transposed view, narrowed by a few rows and columns.
        let stored = Dense::fill(&[cols + 3, rows + 2], &pool_a, 0);
        let (sr, sc) = (p.below(3), p.below(4));
        let x = stored.array().t().narrow(0, sr, rows).narrow(1, sc, cols);
        let mx = stored.permute(&[1, 0]).narrow(0, sr, rows).narrow(1, sc, cols);
        check(&x.contiguous(), &mx, &"contiguous")?;
        for (name, op, f) in UNARY {
            check(&op(&x), &mx.map(f), &name)?;
        }
        // Against a scrambled operand of the same shape, and against a broadcast row.
        let my = Dense::fill(&[rows, cols], &pool_b, 0);
        let y = scrambled(&my, &mut p);
        let row = Dense::fill(&[cols], &pool_b, 7);
        for (name, op, f) in BINARY {
            check(&op(&x, &y), &mx.zip(&my, f), &(name, "scrambled"))?;
            check(&op(&row.array(), &x), &row.zip(&mx, f), &(name, "broadcast row"))?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 4. Reductions agree with naive loops
// ---------------------------------------------------------------------------------------

/// The groups a reduction over the dims in `mask` folds, one per output element (in
/// row-major output order), each in row-major order of the reduced dims, and the output
/// shape.
fn groups(m: &Dense, mask: &[bool], keepdim: bool) -> (Vec<usize>, Vec<Vec<f64>>) {
    let nd = m.ndim();
    let kept: Vec<usize> = (0..nd).filter(|&d| !mask[d]).collect();
    let red: Vec<usize> = (0..nd).filter(|&d| mask[d]).collect();
    let kept_shape: Vec<usize> = kept.iter().map(|&d| m.shape[d]).collect();
    let red_shape: Vec<usize> = red.iter().map(|&d| m.shape[d]).collect();
    let gs = indices(&kept_shape)
        .iter()
        .map(|k| {
            indices(&red_shape)
                .iter()
                .map(|r| {
                    let mut idx = vec![0; nd];
                    for (i, &d) in kept.iter().enumerate() {
                        idx[d] = k[i];
                    }
                    for (i, &d) in red.iter().enumerate() {
                        idx[d] = r[i];
                    }
                    m.at(&idx)
                })
                .collect()
        })
        .collect();
    let out_shape = if keepdim { (0..nd).map(|d| if mask[d] { 1 } else { m.shape[d] }).collect() } else { kept_shape };
    (out_shape, gs)
}

fn naive_var(g: &[f64], correction: usize) -> f64 {
    let n = g.len() as f64;
    let mean = g.iter().sum::<f64>() / n;
    g.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (g.len() as f64 - correction as f64).max(0.0)
}

/// Checks sum, mean, prod, amax, amin and var of `x` (values `m`) over the dims `dims`
/// (`mask` marks them; all dims when `dims` is empty).
fn check_reductions(x: &NdArray, m: &Dense, dims: &[isize], mask: &[bool], keepdim: bool) -> TestCaseResult {
    let (shape, gs) = groups(m, mask, keepdim);
    let what = |op: &str| format!("{op} over {dims:?} (keepdim {keepdim}) of {:?}", m.shape);
    let out = |f: &dyn Fn(&[f64]) -> f64| Dense { shape: shape.clone(), data: gs.iter().map(|g| f(g)).collect() };
    let abs_sum: Vec<f64> = gs.iter().map(|g| g.iter().map(|x| x.abs()).sum()).collect();
    let n: Vec<f64> = gs.iter().map(|g| g.len() as f64).collect();

    check_close(&x.sum(dims, keepdim), &out(&|g| g.iter().sum()), &abs_sum, &what("sum"))?;
    let mean_scale: Vec<f64> = abs_sum.iter().zip(&n).map(|(s, n)| s / n).collect();
    let mean = out(&|g| g.iter().sum::<f64>() / g.len() as f64);
    check_close(&x.mean(dims, keepdim), &mean, &mean_scale, &what("mean"))?;
    let prod = out(&|g| g.iter().product());
    let prod_scale: Vec<f64> = prod.data.iter().map(|v| v.abs()).collect();
    check_close(&x.prod(dims, keepdim), &prod, &prod_scale, &what("prod"))?;
    // As in PyTorch, max/min over a zero-size dim is an error even when there are no groups.
    let reduced: usize = m.shape.iter().zip(mask).filter(|(_, &r)| r).map(|(&d, _)| d).product();
    if reduced > 0 {
        check(&x.amax(dims, keepdim), &out(&|g| g.iter().copied().fold(f64::NEG_INFINITY, f64::max)), &what("amax"))?;
        check(&x.amin(dims, keepdim), &out(&|g| g.iter().copied().fold(f64::INFINITY, f64::min)), &what("amin"))?;
    }
    for correction in [0, 1] {
        let want = out(&|g| naive_var(g, correction));
        let scale: Vec<f64> = gs
            .iter()
            .map(|g| g.iter().map(|x| x * x).sum::<f64>() / (g.len() as f64 - correction as f64).max(1.0))
            .collect();
        let got = x.var(dims, correction, keepdim);
        check_close(&got, &want, &scale, &what(&format!("var(correction={correction})")))?;
    }
    Ok(())
}

/// A random set of dims of an `nd`-dim array, in random order and sign, and its mask.
fn random_dims(nd: usize, p: &mut Picker) -> (Vec<isize>, Vec<bool>) {
    let mask: Vec<bool> = (0..nd).map(|_| p.coin()).collect();
    let order = p.shuffle(nd);
    let dims: Vec<isize> = order.into_iter().filter(|&d| mask[d]).map(|d| p.signed(d, nd)).collect();
    if dims.is_empty() {
        // An empty list means every dim.
        return (dims, vec![true; nd]);
    }
    (dims, mask)
}

fn reductions(d: &Dense, strided: bool, keepdim: bool, p: &mut Picker) -> TestCaseResult {
    let x = if strided { scrambled(d, p) } else { d.array() };
    let (dims, mask) = random_dims(d.ndim(), p);
    check_reductions(&x, d, &dims, &mask, keepdim)?;
    // And over every dim.
    check_reductions(&x, d, &[], &vec![true; d.ndim()], keepdim)?;
    let total = Dense { shape: vec![], data: vec![d.data.iter().sum()] };
    check_close(&x.sum_all(), &total, &[d.data.iter().map(|v| v.abs()).sum()], &"sum_all")?;
    Ok(())
}

fn reductions_of_views(d: &Dense, steps: usize, keepdim: bool, p: &mut Picker) -> TestCaseResult {
    let (x, m, log) = random_views(d, steps, p);
    let (dims, mask) = random_dims(m.ndim(), p);
    check_reductions(&x, &m, &dims, &mask, keepdim).map_err(|e| TestCaseError::fail(format!("{log:?}: {e}")))
}

fn first_position(g: &[f64], v: f64) -> f64 {
    g.iter().position(|&x| x == v).expect("the extreme is in the group") as f64
}

fn extremes_with_ties(d: &Dense, strided: bool, keepdim: bool, p: &mut Picker) -> TestCaseResult {
    let x = if strided { scrambled(d, p) } else { d.array() };
    let nd = d.ndim();
    let (dims, mask) = random_dims(nd, p);
    check_reductions(&x, d, &dims, &mask, keepdim)?;
    // argmax/argmin (and max_dim) along one dim: the first extreme wins ties.
    let dim = if nd == 0 { 0 } else { p.below(nd) };
    if nd == 0 || d.shape[dim] > 0 {
        let mut arg_mask = vec![false; nd];
        if nd > 0 {
            arg_mask[dim] = true;
        }
        let (shape, gs) = groups(d, &arg_mask, keepdim);
        let maxes: Vec<f64> = gs.iter().map(|g| g.iter().copied().fold(f64::NEG_INFINITY, f64::max)).collect();
        let mins: Vec<f64> = gs.iter().map(|g| g.iter().copied().fold(f64::INFINITY, f64::min)).collect();
        let argmax = gs.iter().zip(&maxes).map(|(g, &v)| first_position(g, v)).collect();
        let argmin = gs.iter().zip(&mins).map(|(g, &v)| first_position(g, v)).collect();
        let argmax = Dense { shape: shape.clone(), data: argmax };
        let argmin = Dense { shape: shape.clone(), data: argmin };
        let sd = if nd == 0 { 0 } else { p.signed(dim, nd) };
        let got = x.argmax(Some(sd), keepdim);
        prop_assert_eq!(got.dtype(), DType::I64);
        check(&got, &argmax, &("argmax", sd, keepdim))?;
        check(&x.argmin(Some(sd), keepdim), &argmin, &("argmin", sd, keepdim))?;
        if nd > 0 {
            let (values, idx) = x.max_dim(sd, keepdim);
            check(&idx, &argmax, &("max_dim indices", sd, keepdim))?;
            check(&values, &Dense { shape: shape.clone(), data: maxes }, &("max_dim values", sd, keepdim))?;
            let (values, idx) = x.min_dim(sd, keepdim);
            check(&idx, &argmin, &("min_dim indices", sd, keepdim))?;
            check(&values, &Dense { shape, data: mins }, &("min_dim values", sd, keepdim))?;
        }
    }
    // Over the flattened array.
    if !d.data.is_empty() {
        let best = d.data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let worst = d.data.iter().copied().fold(f64::INFINITY, f64::min);
        let shape = if keepdim { vec![1; nd] } else { vec![] };
        let argmax = Dense { shape: shape.clone(), data: vec![first_position(&d.data, best)] };
        check(&x.argmax(None, keepdim), &argmax, &("argmax(None)", keepdim))?;
        let argmin = Dense { shape, data: vec![first_position(&d.data, worst)] };
        check(&x.argmin(None, keepdim), &argmin, &("argmin(None)", keepdim))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn reductions_match_naive(
        d in dense(0..=4, 1..=5),
        strided in any::<bool>(),
        keepdim in any::<bool>(),
        mut p in picker(1),
    ) {
        reductions(&d, strided, keepdim, &mut p)?;
    }

    #[test]

    fn reductions_match_naive_with_empty_arrays(
        d in dense(0..=4, 0..=5),
        strided in any::<bool>(),
        keepdim in any::<bool>(),
        mut p in picker(0),
    ) {
        reductions(&d, strided, keepdim, &mut p)?;
    }

    #[test]
    fn reductions_of_views_match_naive(
        d in dense(0..=4, 1..=4),
        steps in 1..=3usize,
        keepdim in any::<bool>(),
        mut p in picker(1),
    ) {
        reductions_of_views(&d, steps, keepdim, &mut p)?;
    }

    #[test]

    fn reductions_of_views_match_naive_with_empty_arrays(
        d in dense(0..=4, 0..=4),
        steps in 1..=3usize,
        keepdim in any::<bool>(),
        mut p in picker(0),
    ) {
        reductions_of_views(&d, steps, keepdim, &mut p)?;
    }

    #[test]
    fn extremes_with_ties_match_naive(
        d in dense_ints(0..=4, 1..=5),
        strided in any::<bool>(),
        keepdim in any::<bool>(),
        mut p in picker(1),
    ) {
        extremes_with_ties(&d, strided, keepdim, &mut p)?;
    }

    #[test]

    fn extremes_with_ties_match_naive_with_empty_arrays(
        d in dense_ints(0..=4, 0..=5),
        strided in any::<bool>(),
        keepdim in any::<bool>(),
        mut p in picker(0),
    ) {
        extremes_with_ties(&d, strided, keepdim, &mut p)?;
    }
}

proptest! {
    #![proptest_config(config(4))]

    /// Large enough that the reduction kernels split the output across threads.
    #[test]
    fn parallel_reductions_match_naive(
        rows in 180..=230usize,
        cols in 180..=230usize,
        pool in values(997),
        mut p in picker(1),
    ) {
        set_num_threads(2);
        let d = Dense::fill(&[rows, cols], &pool, 0);
        let x = if p.coin() { scrambled(&d, &mut p) } else { d.array() };
        for (dims, mask) in [(vec![0isize], vec![true, false]), (vec![-1], vec![false, true]), (vec![], vec![true, true])] {
            let (shape, gs) = groups(&d, &mask, false);
            let sums: Vec<f64> = gs.iter().map(|g| g.iter().sum()).collect();
            let scale: Vec<f64> = gs.iter().map(|g| g.iter().map(|v| v.abs()).sum()).collect();
            check_close(&x.sum(&dims, false), &Dense { shape: shape.clone(), data: sums }, &scale, &("sum", &dims))?;
            let maxes: Vec<f64> = gs.iter().map(|g| g.iter().copied().fold(f64::NEG_INFINITY, f64::max)).collect();
            check(&x.amax(&dims, false), &Dense { shape: shape.clone(), data: maxes }, &("amax", &dims))?;
            let vars: Vec<f64> = gs.iter().map(|g| naive_var(g, 1)).collect();
            let vscale: Vec<f64> = gs.iter().map(|g| g.iter().map(|v| v * v).sum::<f64>() / g.len() as f64).collect();
            check_close(&x.var(&dims, 1, false), &Dense { shape, data: vars }, &vscale, &("var", &dims))?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 5. matmul agrees with a naive triple loop
// ---------------------------------------------------------------------------------------

/// An `rows x cols` matrix operand with values from `pool`, laid out as one of: a
/// contiguous array, a transposed view, a narrowed view, a narrowed transposed view, or
/// a row broadcast down the rows (stride 0).
fn matrix(rows: usize, cols: usize, pool: &[f64], p: &mut Picker) -> (NdArray, Dense, &'static str) {
    let start = p.below(pool.len());
    match p.below(5) {
        0 => {
            let m = Dense::fill(&[rows, cols], pool, start);
            (m.array(), m, "contiguous")
        }
        1 => {
            let stored = Dense::fill(&[cols, rows], pool, start);
            (stored.array().t(), stored.permute(&[1, 0]), "transposed")
        }
        2 => {
            let (er, ec) = (p.below(3), p.below(3));
            let (sr, sc) = (p.below(er + 1), p.below(ec + 1));
            let big = Dense::fill(&[rows + er, cols + ec], pool, start);
            let x = big.array().narrow(0, sr, rows).narrow(1, sc, cols);
            (x, big.narrow(0, sr, rows).narrow(1, sc, cols), "narrowed")
        }
        3 => {
            let (er, ec) = (p.below(3), p.below(3));
            let (sr, sc) = (p.below(er + 1), p.below(ec + 1));
            let big = Dense::fill(&[cols + ec, rows + er], pool, start);
            let x = big.array().t().narrow(0, sr, rows).narrow(1, sc, cols);
            (x, big.permute(&[1, 0]).narrow(0, sr, rows).narrow(1, sc, cols), "narrowed transposed")
        }
        _ => {
            let row = Dense::fill(&[1, cols], pool, start);
            let spec = as_spec(&[rows, cols]);
            (row.array().expand(&spec), row.expand(&[rows, cols]), "broadcast row")
        }
    }
}

/// The naive product of `a` (`batch_a + [m, k]`) and `b` (`batch_b + [k, n]`) with
/// broadcast batch dims, and for each output element the sum of `|a_ip * b_pj|`.
fn naive_matmul(a: &Dense, b: &Dense) -> (Dense, Vec<f64>) {
    let (na, nb) = (a.ndim(), b.ndim());
    let (m, k, n) = (a.shape[na - 2], a.shape[na - 1], b.shape[nb - 1]);
    assert_eq!(k, b.shape[nb - 2]);
    let (ba, bb) = (&a.shape[..na - 2], &b.shape[..nb - 2]);
    let batch = naive_broadcast_shape(ba, bb);
    let mut shape = batch.clone();
    shape.extend([m, n]);
    let mut scale = vec![];
    let mut data = vec![];
    for bi in indices(&batch) {
        let (ia, ib) = (broadcast_index(&bi, ba), broadcast_index(&bi, bb));
        for i in 0..m {
            for j in 0..n {
                let (mut acc, mut mag) = (0.0, 0.0);
                for q in 0..k {
                    let mut xa = ia.clone();
                    xa.extend([i, q]);
                    let mut xb = ib.clone();
                    xb.extend([q, j]);
                    let t = a.at(&xa) * b.at(&xb);
                    acc += t;
                    mag += t.abs();
                }
                data.push(acc);
                scale.push(mag);
            }
        }
    }
    (Dense { shape, data }, scale)
}

/// A 1-D model as a `[1, k]` or `[k, 1]` matrix.
fn as_row(v: &Dense) -> Dense {
    Dense { shape: vec![1, v.data.len()], data: v.data.clone() }
}

fn as_col(v: &Dense) -> Dense {
    Dense { shape: vec![v.data.len(), 1], data: v.data.clone() }
}

fn reshaped(d: Dense, shape: &[usize]) -> Dense {
    assert_eq!(numel(shape), d.data.len());
    Dense { shape: shape.to_vec(), data: d.data }
}

fn batched_matmul(full: &[usize], (m, k, n): (usize, usize, usize), pool: &[f64], p: &mut Picker) -> TestCaseResult {
    let (ba, bb) = (broadcastable_to(full, p), broadcastable_to(full, p));
    // Operand a: its last two dims stored transposed or not; b: scrambled or not.
    let (a, ma) = {
        let mut s = ba.clone();
        s.extend([m, k]);
        let ma = Dense::fill(&s, pool, p.below(pool.len()));
        let nd = s.len();
        let a = if p.coin() {
            let mut perm: Vec<usize> = (0..nd).collect();
            perm.swap(nd - 2, nd - 1);
            ma.permute(&perm).array().transpose(-1, -2)
        } else {
            ma.array()
        };
        (a, ma)
    };
    let (b, mb) = {
        let mut s = bb.clone();
        s.extend([k, n]);
        let mb = Dense::fill(&s, pool, p.below(pool.len()));
        (if p.coin() { scrambled(&mb, p) } else { mb.array() }, mb)
    };
    let (want, scale) = naive_matmul(&ma, &mb);
    check_close(&a.matmul(&b), &want, &scale, &(&ba, &bb, m, k, n))
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn matmul_matches_naive(
        m in mat_dim(),
        k in mat_dim(),
        n in mat_dim(),
        pool in pool(),
        mut p in picker(0),
    ) {
        let (a, ma, ka) = matrix(m, k, &pool, &mut p);
        let (b, mb, kb) = matrix(k, n, &pool, &mut p);
        let (want, scale) = naive_matmul(&ma, &mb);
        check_close(&a.matmul(&b), &want, &scale, &(ka, kb, m, k, n))?;

        // 1-D operands, as strided rows/columns of the operands above.
        if m > 0 {
            let i = p.below(m);
            let (v, mv) = (a.select(0, i), ma.select(0, i));
            let (w, s) = naive_matmul(&as_row(&mv), &mb);
            check_close(&v.matmul(&b), &reshaped(w, &[n]), &s, &("vector @ matrix", ka, kb, i))?;
            if n > 0 {
                let j = p.below(n);
                let (u, mu) = (b.select(1, j), mb.select(1, j));
                let (w, s) = naive_matmul(&as_row(&mv), &as_col(&mu));
                check_close(&v.matmul(&u), &reshaped(w, &[]), &s, &("vector @ vector", ka, kb, i, j))?;
            }
        }
        if n > 0 {
            let j = p.below(n);
            let (u, mu) = (b.select(1, j), mb.select(1, j));
            let (w, s) = naive_matmul(&ma, &as_col(&mu));
            check_close(&a.matmul(&u), &reshaped(w, &[m]), &s, &("matrix @ vector", ka, kb, j))?;
        }
    }

    #[test]
    fn batched_matmul_broadcasts_batch_dims(
        full in shape(0..=3, 1..=3),
        mkn in (1..=5usize, 1..=5usize, 1..=5usize),
        pool in pool(),
        mut p in picker(1),
    ) {
        batched_matmul(&full, mkn, &pool, &mut p)?;
    }

    #[test]

    fn batched_matmul_broadcasts_batch_dims_with_empty_arrays(
        full in shape(0..=3, 0..=3),
        mkn in (0..=5usize, 0..=5usize, 0..=5usize),
        pool in pool(),
        mut p in picker(0),
    ) {
        batched_matmul(&full, mkn, &pool, &mut p)?;
    }
}

proptest! {
    #![proptest_config(config(3))]

    /// Large enough (over `MATMUL_PARALLEL_MACS` multiply-adds) that the product is split
    /// across threads: one matrix split into row or column blocks, or a batch of matrices.
    #[test]
    fn parallel_matmul_matches_naive(
        m in 258..=264usize,
        k in 256..=260usize,
        n in 258..=264usize,
        pool in values(997),
        mut p in picker(1),
    ) {
        set_num_threads(2);
        prop_assert!(m * k * n > nabla_tensor::MATMUL_PARALLEL_MACS);
        let (a, ma, ka) = matrix(m, k, &pool, &mut p);
        let (b, mb, kb) = matrix(k, n, &pool, &mut p);
        let (want, scale) = naive_matmul(&ma, &mb);
        check_close(&a.matmul(&b), &want, &scale, &(ka, kb, m, k, n))?;

        // Wide rather than tall: split along the columns.
        let (c, mc, kc) = matrix(n / 2, k, &pool, &mut p);
        let (wide, mwide, kw) = matrix(k, 3 * m, &pool, &mut p);
        let (want, scale) = naive_matmul(&mc, &mwide);
        check_close(&c.matmul(&wide), &want, &scale, &(kc, kw, n / 2, k, 3 * m))?;

        // A batch of three products, one per thread.
        let batch = Dense::fill(&[3, m, k], &pool, p.below(pool.len()));
        let x = scrambled(&batch, &mut p);
        let (want, scale) = naive_matmul(&batch, &mb);
        check_close(&x.matmul(&b), &want, &scale, &("batched", kb, m, k, n))?;
    }
}

// ---------------------------------------------------------------------------------------
// 6. cat, gather, index_select
// ---------------------------------------------------------------------------------------

fn cat_then_narrow(base: &[usize], parts: usize, pool: &[f64], p: &mut Picker) -> TestCaseResult {
    let nd = base.len();
    let dim = p.below(nd);
    let mut models = vec![];
    let mut arrays = vec![];
    for _ in 0..parts {
        let mut s = base.to_vec();
        s[dim] = p.size(4);
        let m = Dense::fill(&s, pool, p.below(pool.len()));
        arrays.push(if p.coin() { scrambled(&m, p) } else { m.array() });
        models.push(m);
    }
    let sd = p.signed(dim, nd);
    let c = NdArray::cat(&arrays, sd);
    let sizes: Vec<usize> = models.iter().map(|m| m.shape[dim]).collect();
    let mut shape = base.to_vec();
    shape[dim] = sizes.iter().sum();
    let want = Dense::build(&shape, |idx| {
        let (mut part, mut i) = (0, idx[dim]);
        while i >= sizes[part] {
            i -= sizes[part];
            part += 1;
        }
        let mut src = idx.to_vec();
        src[dim] = i;
        models[part].at(&src)
    });
    check(&c, &want, &("cat", &sizes, sd))?;
    let mut start = 0;
    for (i, m) in models.iter().enumerate() {
        let part = c.narrow(sd, start, sizes[i]);
        prop_assert!(part.shares_storage(&c));
        check(&part, m, &("part", i, &sizes, sd))?;
        start += sizes[i];
    }
    Ok(())
}

fn gather_case(d: &Dense, strided: bool, p: &mut Picker) -> TestCaseResult {
    let nd = d.ndim();
    let dim = p.below(nd);
    let x = if strided { scrambled(d, p) } else { d.array() };
    // The index may be smaller than the input in every dim but `dim`, larger in `dim`.
    let mut ishape: Vec<usize> = (0..nd).map(|i| if i == dim { p.size(5) } else { p.size(d.shape[i]) }).collect();
    if d.shape[dim] == 0 {
        ishape[dim] = 0;
    }
    let index: Vec<i64> = (0..numel(&ishape)).map(|_| p.below(d.shape[dim]) as i64).collect();
    let want = Dense::build(&ishape, |idx| {
        let mut src = idx.to_vec();
        src[dim] = index[linear(idx, &ishape)] as usize;
        d.at(&src)
    });
    let sd = p.signed(dim, nd);
    let got = x.gather(sd, &NdArray::from_vec(index.clone(), &ishape));
    check(&got, &want, &("gather", sd, &ishape, &index))
}

fn index_select_case(d: &Dense, strided: bool, scalar_index: bool, p: &mut Picker) -> TestCaseResult {
    let nd = d.ndim();
    let dim = p.below(nd);
    let x = if strided { scrambled(d, p) } else { d.array() };
    let size = d.shape[dim];
    let len = if size == 0 { 0 } else { p.size(6) };
    let index: Vec<i64> = (0..len).map(|_| p.below(size) as i64).collect();
    let sd = p.signed(dim, nd);
    let mut shape = d.shape.clone();
    shape[dim] = len;
    let want = Dense::build(&shape, |idx| {
        let mut src = idx.to_vec();
        src[dim] = index[idx[dim]] as usize;
        d.at(&src)
    });
    let got = x.index_select(sd, &NdArray::from_vec(index.clone(), &[len]));
    check(&got, &want, &("index_select", sd, &index))?;
    if scalar_index && size > 0 {
        // A 0-d index selects one entry and keeps the dim (as size 1).
        let i = p.below(size);
        let got = x.index_select(sd, &NdArray::from_vec(vec![i as i64], &[]));
        check(&got, &d.narrow(dim, i, 1), &("index_select with a 0-d index", sd, i))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn cat_then_narrow_returns_the_parts(
        base in shape(1..=4, 1..=4),
        parts in 1..=4usize,
        pool in pool(),
        mut p in picker(1),
    ) {
        cat_then_narrow(&base, parts, &pool, &mut p)?;
    }

    #[test]

    fn cat_then_narrow_returns_the_parts_with_empty_arrays(
        base in shape(1..=4, 0..=4),
        parts in 1..=4usize,
        pool in pool(),
        mut p in picker(0),
    ) {
        cat_then_narrow(&base, parts, &pool, &mut p)?;
    }

    #[test]
    fn gather_matches_naive(d in dense(1..=4, 1..=5), strided in any::<bool>(), mut p in picker(1)) {
        gather_case(&d, strided, &mut p)?;
    }

    #[test]

    fn gather_matches_naive_with_empty_arrays(d in dense(1..=4, 0..=5), strided in any::<bool>(), mut p in picker(0)) {
        gather_case(&d, strided, &mut p)?;
    }

    #[test]
    fn index_select_matches_naive(
        d in dense(1..=4, 1..=5),
        strided in any::<bool>(),
        scalar_index in any::<bool>(),
        mut p in picker(1),
    ) {
        index_select_case(&d, strided, scalar_index, &mut p)?;
    }

    #[test]

    fn index_select_matches_naive_with_empty_arrays(
        d in dense(1..=4, 0..=5),
        strided in any::<bool>(),
        scalar_index in any::<bool>(),
        mut p in picker(0),
    ) {
        index_select_case(&d, strided, scalar_index, &mut p)?;
    }
}
