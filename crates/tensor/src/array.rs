//! `NdArray`: a typed, strided view of shared storage, and the ways to create one.

use std::sync::{Arc, Weak};

use crate::dtype::{DType, Element};
use crate::error::TensorError;
use crate::kernels::map1;
use crate::layout::Layout;
use crate::random;
use crate::storage::Storage;
use crate::{dispatch, threads};

/// An n-dimensional array: a [`Layout`] over an `Arc`-shared [`Storage`].
///
/// Cloning is cheap (an `Arc` bump); views share the buffer. Values are immutable
/// through `&self`; the few in-place operations take `&mut self` and copy the buffer
/// first if anything else shares it (copy-on-write), so a view never changes under you.
#[derive(Clone, Debug)]
pub struct NdArray {
    pub(crate) storage: Arc<Storage>,
    pub(crate) layout: Layout,
}

/// A handle that does not keep an array's buffer alive; see [`NdArray::downgrade`].
#[derive(Clone, Debug)]
pub struct WeakStorage(Weak<Storage>);

impl WeakStorage {
    /// True while some array still holds the buffer.
    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}

impl NdArray {
    pub(crate) fn from_storage(storage: Storage, shape: &[usize]) -> Self {
        debug_assert_eq!(storage.len(), shape.iter().product::<usize>());
        NdArray { storage: Arc::new(storage), layout: Layout::contiguous(shape) }
    }

    pub(crate) fn with_layout(&self, layout: Layout) -> Self {
        NdArray { storage: self.storage.clone(), layout }
    }

    /// A contiguous array owning `data`, shaped `shape`.
    ///
    /// # Panics
    /// If `data.len()` differs from the product of `shape`; see [`NdArray::try_from_vec`].
    #[track_caller]
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Self {
        Self::try_from_vec(data, shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`NdArray::from_vec`] but returns an error for a length mismatch.
    pub fn try_from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Self, TensorError> {
        if data.len() != shape.iter().product::<usize>() {
            return Err(TensorError::LengthMismatch { op: "from_vec", len: data.len(), shape: shape.to_vec() });
        }
        Ok(Self::from_storage(T::into_storage(data), shape))
    }

    /// A contiguous copy of `data`, shaped `shape`.
    #[track_caller]
    pub fn from_slice<T: Element>(data: &[T], shape: &[usize]) -> Self {
        Self::from_vec(data.to_vec(), shape)
    }

    /// A 0-dimensional array holding `value` converted to `dtype`.
    pub fn scalar(value: f64, dtype: DType) -> Self {
        Self::full(&[], value, dtype)
    }

    /// An array of `shape` filled with `value` converted to `dtype`.
    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Self {
        let n = shape.iter().product();
        let storage = match dtype {
            DType::F32 => Storage::F32(vec![value as f32; n]),
            DType::F64 => Storage::F64(vec![value; n]),
            DType::I64 => Storage::I64(vec![value as i64; n]),
        };
        Self::from_storage(storage, shape)
    }

    /// An array of zeros.
    pub fn zeros(shape: &[usize], dtype: DType) -> Self {
        Self::full(shape, 0.0, dtype)
    }

    /// An array of ones.
    pub fn ones(shape: &[usize], dtype: DType) -> Self {
        Self::full(shape, 1.0, dtype)
    }

    /// Zeros with this array's shape and dtype.
    pub fn zeros_like(&self) -> Self {
        Self::zeros(self.shape(), self.dtype())
    }

    /// Ones with this array's shape and dtype.
    pub fn ones_like(&self) -> Self {
        Self::ones(self.shape(), self.dtype())
    }

    /// Values `start, start + step, ...` below `end` (above, for a negative step), as
    /// `torch.arange`.
    ///
    /// ```
    /// use nabla_tensor::{NdArray, DType};
    /// assert_eq!(NdArray::arange(0.0, 5.0, 2.0, DType::I64).to_vec::<i64>(), vec![0, 2, 4]);
    /// ```
    #[track_caller]
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Self {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            panic!(
                "arange: step must be finite and nonzero and bounds finite, got start={start}, end={end}, step={step}"
            );
        }
        if (end - start) * step < 0.0 {
            panic!("arange: upper bound and larger bound inconsistent with step sign (start={start}, end={end}, step={step})");
        }
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        let v: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
        Self::from_vec(v, &[n]).cast(dtype)
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive, as `torch.linspace`.
    pub fn linspace(start: f64, end: f64, steps: usize, dtype: DType) -> Self {
        let v: Vec<f64> = match steps {
            0 => vec![],
            1 => vec![start],
            _ => {
                let step = (end - start) / (steps - 1) as f64;
                // Fill from both ends, as PyTorch does, so `end` is exact.
                (0..steps)
                    .map(|i| if i < steps / 2 { start + step * i as f64 } else { end - step * (steps - 1 - i) as f64 })
                    .collect()
            }
        };
        Self::from_vec(v, &[steps]).cast(dtype)
    }

    /// The `n x n` identity matrix.
    pub fn eye(n: usize, dtype: DType) -> Self {
        let mut v = vec![0.0; n * n];
        for i in 0..n {
            v[i * n + i] = 1.0;
        }
        Self::from_vec(v, &[n, n]).cast(dtype)
    }

    fn random(shape: &[usize], dtype: DType, words: u64, f: impl Fn(&random::RandomStream, u64) -> f64 + Sync) -> Self {
        let n: usize = shape.iter().product();
        let stream = random::reserve(words);
        let mut v = vec![0.0f64; n];
        threads::fill_chunks(&mut v, n * 8, |start, chunk| {
            for (i, x) in chunk.iter_mut().enumerate() {
                *x = f(&stream, (start + i) as u64);
            }
        });
        Self::from_vec(v, shape).cast(dtype)
    }

    /// Uniform samples in `[0, 1)` from the global seeded generator (`torch.rand`).
    #[track_caller]
    pub fn rand(shape: &[usize], dtype: DType) -> Self {
        assert!(dtype.is_float(), "rand: expected a float dtype, got {dtype}");
        let n = shape.iter().product::<usize>() as u64;
        Self::random(shape, dtype, n, |s, i| s.uniform(i))
    }

    /// Standard normal samples from the global seeded generator (`torch.randn`).
    #[track_caller]
    pub fn randn(shape: &[usize], dtype: DType) -> Self {
        assert!(dtype.is_float(), "randn: expected a float dtype, got {dtype}");
        let n = shape.iter().product::<usize>() as u64;
        Self::random(shape, dtype, n + n % 2, |s, i| s.normal(i))
    }

    /// Uniform integers in `low..high` (`torch.randint`).
    #[track_caller]
    pub fn randint(low: i64, high: i64, shape: &[usize], dtype: DType) -> Self {
        assert!(low < high, "randint: expected low < high, got low={low}, high={high}");
        let n = shape.iter().product::<usize>() as u64;
        let range = high.abs_diff(low);
        let v = Self::random(shape, DType::I64, n, |s, i| s.below(i, range) as f64);
        let v: Vec<i64> = v.to_vec::<i64>().into_iter().map(|x| low + x).collect();
        Self::from_vec(v, shape).cast(dtype)
    }

    /// The extent of each dimension.
    pub fn shape(&self) -> &[usize] {
        self.layout.shape()
    }

    /// Element strides of each dimension.
    pub fn strides(&self) -> &[usize] {
        self.layout.strides()
    }

    /// The layout (shape, strides, offset).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The shared buffer.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.storage.dtype()
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.layout.ndim()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.layout.numel()
    }

    /// True when the elements are row-major without gaps.
    pub fn is_contiguous(&self) -> bool {
        self.layout.is_contiguous()
    }

    /// True when both arrays view the same buffer.
    pub fn shares_storage(&self, other: &NdArray) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    /// A weak handle to the buffer, to check whether it has been freed.
    pub fn downgrade(&self) -> WeakStorage {
        WeakStorage(Arc::downgrade(&self.storage))
    }

    /// This array if it is contiguous, else a contiguous copy (`Tensor.contiguous()`).
    pub fn contiguous(&self) -> NdArray {
        if self.is_contiguous() {
            return self.clone();
        }
        let storage = dispatch!(&*self.storage, s, T => T::into_storage(map1(s, &self.layout, |x: T| x)));
        Self::from_storage(storage, self.shape())
    }

    /// The elements in row-major order as a contiguous slice, without copying, when the
    /// array is contiguous and of type `T`.
    pub fn as_slice<T: Element>(&self) -> Option<&[T]> {
        if !self.is_contiguous() {
            return None;
        }
        let off = self.layout.offset();
        T::slice(&self.storage).map(|s| &s[off..off + self.numel()])
    }

    /// The elements in row-major order, converted to `T`.
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        if let Some(s) = self.as_slice::<T>() {
            return s.to_vec();
        }
        dispatch!(&*self.storage, s, S => map1(s, &self.layout, |x: S| T::from_f64(x.to_f64())))
    }

    /// The value of a one-element array as `f64` (`Tensor.item()`).
    ///
    /// # Panics
    /// If the array does not hold exactly one element.
    #[track_caller]
    pub fn item(&self) -> f64 {
        if self.numel() != 1 {
            panic!(
                "item: a Tensor with {} elements (shape {:?}) cannot be converted to a scalar",
                self.numel(),
                self.shape()
            );
        }
        let i = self.layout.offset();
        dispatch!(&*self.storage, s, T => s[i].to_f64())
    }

    /// A copy converted to `dtype` (`Tensor.to(dtype)`); free if already of that dtype.
    pub fn cast(&self, dtype: DType) -> NdArray {
        if dtype == self.dtype() {
            return self.clone();
        }
        let storage = dispatch!(&*self.storage, s, S => match dtype {
            DType::F32 => Storage::F32(map1(s, &self.layout, |x: S| x.to_f64() as f32)),
            DType::F64 => Storage::F64(map1(s, &self.layout, |x: S| x.to_f64())),
            DType::I64 => Storage::I64(map1(s, &self.layout, |x: S| x.to_f64() as i64)),
        });
        Self::from_storage(storage, self.shape())
    }

    /// Mutable access to the elements, row-major. Makes the array contiguous and the sole
    /// owner of its buffer first (copying if needed), so no other array sees the writes.
    ///
    /// # Panics
    /// If the array is not of type `T`.
    #[track_caller]
    pub fn data_mut<T: Element>(&mut self) -> &mut [T] {
        let whole = self.layout.offset() == 0 && self.storage.len() == self.numel();
        if !(self.is_contiguous() && whole) {
            *self = self.contiguous_copy();
        }
        let dtype = self.dtype();
        let storage = Arc::make_mut(&mut self.storage);
        T::slice_mut(storage).unwrap_or_else(|| panic!("data_mut: array holds {dtype}, not {}", T::DTYPE))
    }

    fn contiguous_copy(&self) -> NdArray {
        let c = self.contiguous();
        if c.shares_storage(self) {
            let storage = dispatch!(&*self.storage, s, T => T::into_storage(s[self.layout.offset()..self.layout.offset() + self.numel()].to_vec()));
            return Self::from_storage(storage, self.shape());
        }
        c
    }

    /// Overwrites this array's values with `src` (broadcast to this shape and cast to
    /// this dtype), in place (`Tensor.copy_`). Later writes through either array copy
    /// first, so the two never alias.
    #[track_caller]
    pub fn assign(&mut self, src: &NdArray) {
        *self = src.broadcast_to_op("copy_", self.shape()).cast(self.dtype()).contiguous();
    }
}
