//! What the PyTorch-fixture tests share: an array as the generators under
//! `tools/fixtures/` write it (`{"shape": [...], "data": [...]}`, values in f64).

use nabla_autograd::{DType, NdArray, Tensor};
use serde::Deserialize;

/// An array of a fixture file.
#[derive(Deserialize)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl Array {
    /// The values as an `NdArray` of `dtype`.
    pub fn array(&self, dtype: DType) -> NdArray {
        NdArray::from_vec(self.data.clone(), &self.shape).cast(dtype)
    }

    /// The values as a `Tensor` of `dtype` (not requiring grad).
    pub fn tensor(&self, dtype: DType) -> Tensor {
        Tensor::new(self.array(dtype))
    }
}
