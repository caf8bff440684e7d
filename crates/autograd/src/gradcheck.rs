//! Finite-difference gradient checking in `f64`, as `torch.autograd.gradcheck`.

use std::fmt;

use nabla_tensor::{DType, NdArray};

use crate::graph::no_grad;
use crate::tensor::Tensor;

/// Tolerances for [`gradcheck_with`]; the defaults are PyTorch's.
#[derive(Clone, Copy, Debug)]
pub struct GradcheckOptions {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions { eps: 1e-6, atol: 1e-5, rtol: 1e-3 }
    }
}

/// The first gradient entry where analytic and numeric derivatives disagree.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckError {
    /// Which input.
    pub input: usize,
    /// Row-major element index within that input.
    pub index: usize,
    /// The derivative from `backward()`.
    pub analytic: f64,
    /// The central-difference estimate.
    pub numeric: f64,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradcheck: Jacobian mismatch for input {} at element {}: analytic {} vs numeric {}",
            self.input, self.index, self.analytic, self.numeric
        )
    }
}

impl std::error::Error for GradcheckError {}

/// Checks `f`'s gradients with respect to every input that requires grad against
/// central finite differences, with PyTorch's default tolerances.
///
/// The output may have any shape: it is projected onto fixed, unequal weights, so a
/// wrong or transposed Jacobian entry shows up. Inputs must be `f64`.
///
/// ```
/// use nabla_autograd::{gradcheck, Tensor};
/// let x = Tensor::randn(&[3, 2]).double().requires_grad_(true);
/// gradcheck(|t| t[0].tanh().sum_dim(&[1], false), &[x]).unwrap();
/// ```
#[track_caller]
pub fn gradcheck(f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) -> Result<(), GradcheckError> {
    gradcheck_with(f, inputs, GradcheckOptions::default())
}

/// [`gradcheck`] with explicit tolerances.
#[track_caller]
pub fn gradcheck_with(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    opts: GradcheckOptions,
) -> Result<(), GradcheckError> {
    for (i, t) in inputs.iter().enumerate() {
        if t.requires_grad() && t.dtype() != DType::F64 {
            panic!("gradcheck: input {i} requiring grad must be f64 for accurate differences, got {}", t.dtype());
        }
    }
    let values: Vec<NdArray> = inputs.iter().map(|t| t.data().contiguous()).collect();
    let leaves = |vals: &[NdArray]| -> Vec<Tensor> {
        vals.iter().zip(inputs).map(|(v, t)| Tensor::new(v.clone()).requires_grad_(t.requires_grad())).collect()
    };
    let projected = |out: &Tensor| {
        let n = out.numel();
        let w: Vec<f64> = (0..n).map(|i| 1.0 + 0.5 * ((i as f64 + 1.0) * 1.618_033_988_7).fract()).collect();
        (out.double() * Tensor::from_vec(w, &out.shape())).sum()
    };

    let analytic_inputs = leaves(&values);
    let loss = projected(&f(&analytic_inputs));
    if loss.requires_grad() {
        loss.backward();
    }

    let _guard = no_grad();
    for (k, input) in inputs.iter().enumerate() {
        if !input.requires_grad() {
            continue;
        }
        let analytic = analytic_inputs[k].grad_array().map(|g| g.to_vec::<f64>()).unwrap_or(vec![0.0; input.numel()]);
        let base = values[k].to_vec::<f64>();
        for j in 0..base.len() {
            let eval = |delta: f64| {
                let mut v = base.clone();
                v[j] += delta;
                let mut vals = values.clone();
                vals[k] = NdArray::from_vec(v, values[k].shape());
                projected(&f(&leaves(&vals))).item()
            };
            let numeric = (eval(opts.eps) - eval(-opts.eps)) / (2.0 * opts.eps);
            let a = analytic[j];
            if (a - numeric).abs() > opts.atol + opts.rtol * numeric.abs() || a.is_nan() != numeric.is_nan() {
                return Err(GradcheckError { input: k, index: j, analytic: a, numeric });
            }
        }
    }
    Ok(())
}
