//! View ops: new layouts over the same storage. None of these copies data, except
//! `reshape`, which copies exactly when `view` would be impossible (as in PyTorch).

use crate::array::NdArray;
use crate::error::TensorError;
use crate::layout::{broadcast_shapes, normalize_dim};

/// Resolves a shape that may hold one `-1` against an element count.
pub fn infer_shape(op: &'static str, numel: usize, shape: &[isize], from: &[usize]) -> Result<Vec<usize>, TensorError> {
    let bad = |message: String| TensorError::InvalidShape { op, message };
    let mut inferred = None;
    let mut known = 1usize;
    for (i, &d) in shape.iter().enumerate() {
        match d {
            -1 if inferred.is_none() => inferred = Some(i),
            -1 => return Err(bad(format!("only one dimension can be inferred, got {shape:?}"))),
            d if d < 0 => return Err(bad(format!("invalid shape dimension {d} in {shape:?}"))),
            d => known *= d as usize,
        }
    }
    let mut out: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    match inferred {
        Some(i) if known != 0 && numel.is_multiple_of(known) => out[i] = numel / known,
        None if known == numel => {}
        _ => return Err(bad(format!("shape {shape:?} is invalid for input of size {numel} (shape {from:?})"))),
    }
    Ok(out)
}

impl NdArray {
    /// The same elements viewed as `shape` (one entry may be `-1`), without copying.
    ///
    /// # Panics
    /// If the element count differs, or the strides make a view impossible (use
    /// [`NdArray::reshape`] then), like `torch.Tensor.view`.
    #[track_caller]
    pub fn view(&self, shape: &[isize]) -> NdArray {
        let shape = infer_shape("view", self.numel(), shape, self.shape()).unwrap_or_else(|e| panic!("{e}"));
        match self.layout.reshape_view(&shape) {
            Some(l) => self.with_layout(l),
            None => panic!(
                "view: view size is not compatible with input tensor's size and stride (shape {:?}, strides {:?}, \
                 requested {shape:?}); use .reshape(...) instead",
                self.shape(),
                self.strides()
            ),
        }
    }

    /// The same elements as `shape` (one entry may be `-1`): a view when possible, else
    /// a contiguous copy (`torch.reshape`).
    #[track_caller]
    pub fn reshape(&self, shape: &[isize]) -> NdArray {
        self.try_reshape(shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`NdArray::reshape`] but returns an error when the element count differs.
    pub fn try_reshape(&self, shape: &[isize]) -> Result<NdArray, TensorError> {
        let shape = infer_shape("reshape", self.numel(), shape, self.shape())?;
        Ok(self.reshape_exact(&shape))
    }

    /// Reshape to a fully known shape with the same element count.
    pub(crate) fn reshape_exact(&self, shape: &[usize]) -> NdArray {
        match self.layout.reshape_view(shape) {
            Some(l) => self.with_layout(l),
            None => self.contiguous().with_layout(crate::Layout::contiguous(shape)),
        }
    }

    /// Reorders dims: output dim `i` is input dim `dims[i]` (negative dims count from
    /// the end).
    #[track_caller]
    pub fn permute(&self, dims: &[isize]) -> NdArray {
        let perm: Vec<usize> = dims.iter().map(|&d| normalize_dim("permute", d, self.ndim())).collect();
        self.with_layout(self.layout.permute(&perm))
    }

    /// Swaps dims `d0` and `d1`.
    #[track_caller]
    pub fn transpose(&self, d0: isize, d1: isize) -> NdArray {
        if self.ndim() == 0 {
            return self.clone();
        }
        let a = normalize_dim("transpose", d0, self.ndim());
        let b = normalize_dim("transpose", d1, self.ndim());
        self.with_layout(self.layout.transpose(a, b))
    }

    /// The transpose of a matrix (a vector or scalar is returned as is), as `Tensor.t()`.
    #[track_caller]
    pub fn t(&self) -> NdArray {
        match self.ndim() {
            0 | 1 => self.clone(),
            2 => self.transpose(0, 1),
            n => panic!("t: expects a tensor with <= 2 dimensions, but self is {n}D (shape {:?})", self.shape()),
        }
    }

    /// Elements `start..start + len` along `dim`.
    #[track_caller]
    pub fn narrow(&self, dim: isize, start: usize, len: usize) -> NdArray {
        let d = normalize_dim("narrow", dim, self.ndim());
        self.with_layout(self.layout.narrow(d, start, len))
    }

    /// The slice at `index` along `dim`, with that dim removed (`Tensor.select`).
    #[track_caller]
    pub fn select(&self, dim: isize, index: usize) -> NdArray {
        let d = normalize_dim("select", dim, self.ndim());
        if index >= self.shape()[d] {
            panic!("select: index {index} is out of bounds for dimension {d} with size {}", self.shape()[d]);
        }
        self.with_layout(self.layout.narrow(d, index, 1).squeeze(d))
    }

    /// Removes every size-1 dim.
    pub fn squeeze(&self) -> NdArray {
        let mut l = self.layout.clone();
        for d in (0..self.ndim()).rev() {
            if self.shape()[d] == 1 {
                l = l.squeeze(d);
            }
        }
        self.with_layout(l)
    }

    /// Removes dim `dim` if its size is 1 (otherwise returns the array unchanged, as
    /// PyTorch does).
    #[track_caller]
    pub fn squeeze_dim(&self, dim: isize) -> NdArray {
        if self.ndim() == 0 {
            return self.clone();
        }
        let d = normalize_dim("squeeze", dim, self.ndim());
        if self.shape()[d] != 1 {
            return self.clone();
        }
        self.with_layout(self.layout.squeeze(d))
    }

    /// Inserts a size-1 dim at `dim` (in `-ndim-1..=ndim`).
    #[track_caller]
    pub fn unsqueeze(&self, dim: isize) -> NdArray {
        let d = normalize_dim("unsqueeze", dim, self.ndim() + 1);
        self.with_layout(self.layout.unsqueeze(d))
    }

    /// Broadcasts to `shape` without copying; `-1` keeps a dim (`Tensor.expand`).
    #[track_caller]
    pub fn expand(&self, shape: &[isize]) -> NdArray {
        let lead = shape.len().saturating_sub(self.ndim());
        let target: Vec<usize> = shape
            .iter()
            .enumerate()
            .map(|(i, &d)| if d == -1 && i >= lead { self.shape()[i - lead] } else { d.max(0) as usize })
            .collect();
        self.broadcast_to_op("expand", &target)
    }

    /// Broadcasts to `shape` without copying (`torch.broadcast_to`).
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> NdArray {
        self.broadcast_to_op("broadcast_to", shape)
    }

    #[track_caller]
    pub(crate) fn broadcast_to_op(&self, op: &str, shape: &[usize]) -> NdArray {
        if self.shape() == shape {
            return self.clone();
        }
        match self.layout.expand(shape) {
            Some(l) => self.with_layout(l),
            None => panic!("{op}: the shape {:?} cannot be broadcast to {shape:?}", self.shape()),
        }
    }

    /// Flattens dims `start..=end` into one (negative dims count from the end).
    #[track_caller]
    pub fn flatten(&self, start: isize, end: isize) -> NdArray {
        if self.ndim() == 0 {
            return self.reshape_exact(&[1]);
        }
        let s = normalize_dim("flatten", start, self.ndim());
        let e = normalize_dim("flatten", end, self.ndim());
        if s > e {
            panic!("flatten: start_dim ({start}) cannot come after end_dim ({end}) for shape {:?}", self.shape());
        }
        let mut shape = self.shape()[..s].to_vec();
        shape.push(self.shape()[s..=e].iter().product());
        shape.extend_from_slice(&self.shape()[e + 1..]);
        self.reshape_exact(&shape)
    }
}

/// The broadcast shape of two arrays for `op`, panicking with both shapes if none.
#[track_caller]
pub fn broadcast_shape_for(op: &str, a: &[usize], b: &[usize]) -> Vec<usize> {
    broadcast_shapes(a, b).unwrap_or_else(|| panic!("{op}: the shapes {a:?} and {b:?} cannot be broadcast together"))
}
