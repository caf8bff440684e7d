//! Gradient clipping: `clip_grad_norm_` and `clip_grad_value_` (`torch.nn.utils`).

use nabla_autograd::{DType, NdArray, Tensor};
use nabla_tensor::{Element, FloatElement};

/// Rescales the gradients of `params` so that their total norm is at most `max_norm`,
/// in place, and returns the total norm before clipping (`torch.nn.utils.clip_grad_norm_`).
///
/// The total norm is the `norm_type`-norm of all gradients viewed as one vector
/// (`f64::INFINITY` for the max norm). When it exceeds `max_norm` every gradient is
/// multiplied by `max_norm / (total_norm + 1e-6)`. Parameters without a gradient are
/// ignored; with none at all the result is 0. A non-finite total norm propagates into
/// the gradients, as in PyTorch with `error_if_nonfinite=False`.
///
/// ```
/// use nabla_autograd::{NdArray, Tensor};
/// use nabla_optim::clip_grad_norm_;
///
/// let w = Tensor::zeros(&[2]).requires_grad_(true);
/// w.set_grad(Some(NdArray::from_vec(vec![3.0f32, 4.0], &[2])));
/// let total = clip_grad_norm_(&[w.clone()], 1.0, 2.0);
/// assert_eq!(total, 5.0);
/// let g = w.grad().unwrap().to_vec::<f32>();
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// ```
///
/// # Panics
/// If `norm_type` is not positive (or is NaN).
#[track_caller]
pub fn clip_grad_norm_(params: &[Tensor], max_norm: f64, norm_type: f64) -> f64 {
    assert!(norm_type > 0.0, "clip_grad_norm_: norm_type must be positive or infinity, got {norm_type}");
    let grads: Vec<(&Tensor, NdArray)> = params.iter().filter_map(|p| Some((p, p.grad_array()?))).collect();
    if grads.is_empty() {
        return 0.0;
    }
    // PyTorch takes the norm of each gradient, then the norm of those norms.
    let norms: Vec<f64> = grads
        .iter()
        .map(|(_, g)| {
            let g = g.contiguous();
            match g.dtype() {
                DType::F32 => vector_norm(float_slice::<f32>(&g), norm_type),
                DType::F64 => vector_norm(float_slice::<f64>(&g), norm_type),
                DType::I64 => panic!("clip_grad_norm_: gradients must be float, got {}", DType::I64),
            }
        })
        .collect();
    let total_norm = vector_norm(&norms, norm_type);
    let coef = max_norm / (total_norm + 1e-6);
    // Written out rather than `coef.min(1.0)` so that NaN propagates, as `torch.clamp` does.
    let coef = if coef > 1.0 { 1.0 } else { coef };
    if coef != 1.0 {
        for (p, g) in grads {
            edit_grad(p, g, Edit::Scale(coef));
        }
    }
    total_norm
}

/// Clamps every gradient element of `params` to `[-clip_value, clip_value]`, in place
/// (`torch.nn.utils.clip_grad_value_`). Parameters without a gradient are ignored; NaN
/// elements stay NaN.
///
/// # Panics
/// If `clip_value` is negative or NaN.
#[track_caller]
pub fn clip_grad_value_(params: &[Tensor], clip_value: f64) {
    assert!(clip_value >= 0.0, "clip_grad_value_: clip_value must be non-negative, got {clip_value}");
    for p in params {
        if let Some(g) = p.grad_array() {
            edit_grad(p, g, Edit::Clamp(clip_value));
        }
    }
}

/// An in-place change to a gradient, applied in the gradient's own dtype.
#[derive(Clone, Copy)]
enum Edit {
    Scale(f64),
    Clamp(f64),
}

/// Applies `edit` to `grad` (the gradient of `param`) and stores the result back.
fn edit_grad(param: &Tensor, mut grad: NdArray, edit: Edit) {
    // Drop the parameter's handle first so `data_mut` can write without copying.
    param.set_grad(None);
    match grad.dtype() {
        DType::F32 => apply(grad.data_mut::<f32>(), edit),
        DType::F64 => apply(grad.data_mut::<f64>(), edit),
        DType::I64 => panic!("gradient clipping: gradients must be float, got {}", DType::I64),
    }
    param.set_grad(Some(grad));
}

fn apply<T: FloatElement>(xs: &mut [T], edit: Edit) {
    match edit {
        Edit::Scale(c) => {
            let c = T::from_f64(c);
            xs.iter_mut().for_each(|x| *x = *x * c);
        }
        Edit::Clamp(c) => {
            let (lo, hi) = (T::from_f64(-c), T::from_f64(c));
            for x in xs {
                // Comparisons rather than `max`/`min`, which would turn NaN into a bound.
                if *x < lo {
                    *x = lo;
                } else if *x > hi {
                    *x = hi;
                }
            }
        }
    }
}

fn float_slice<T: FloatElement>(g: &NdArray) -> &[T] {
    g.as_slice::<T>().expect("a contiguous array has a slice of its own dtype")
}

/// `‖xs‖_p` in f64: the largest magnitude for p = ∞, else `(Σ |x|^p)^(1/p)`.
fn vector_norm<T: FloatElement>(xs: &[T], p: f64) -> f64 {
    let abs = xs.iter().map(|&x| Element::to_f64(x).abs());
    if p == f64::INFINITY {
        abs.fold(0.0, f64::max)
    } else if p == 2.0 {
        abs.map(|a| a * a).sum::<f64>().sqrt()
    } else if p == 1.0 {
        abs.sum()
    } else {
        abs.map(|a| a.powf(p)).sum::<f64>().powf(1.0 / p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param_with_grad(grad: &[f64]) -> Tensor {
        let p = Tensor::new(NdArray::zeros(&[grad.len()], DType::F64)).requires_grad_(true);
        p.set_grad(Some(NdArray::from_slice(grad, &[grad.len()])));
        p
    }

    fn grad(p: &Tensor) -> Vec<f64> {
        p.grad_array().unwrap().to_vec()
    }

    #[test]
    fn l2_norm_over_all_parameters_scales_every_gradient() {
        let a = param_with_grad(&[3.0, 4.0]);
        let b = param_with_grad(&[0.0, -12.0, 0.0]);
        let total = clip_grad_norm_(&[a.clone(), b.clone()], 6.5, 2.0);
        assert_eq!(total, 13.0); // sqrt(9 + 16 + 144)
        let coef = 6.5 / (13.0 + 1e-6);
        assert_eq!(grad(&a), [3.0 * coef, 4.0 * coef]);
        assert_eq!(grad(&b), [0.0, -12.0 * coef, 0.0]);
    }

    #[test]
    fn norm_below_the_maximum_leaves_gradients_alone() {
        let a = param_with_grad(&[0.3, -0.4]);
        assert_eq!(clip_grad_norm_(std::slice::from_ref(&a), 1.0, 2.0), 0.5);
        assert_eq!(grad(&a), [0.3, -0.4]);
    }

    #[test]
    fn inf_and_one_norms() {
        let a = param_with_grad(&[1.0, -5.0]);
        let b = param_with_grad(&[2.0]);
        assert_eq!(clip_grad_norm_(&[a.clone(), b.clone()], 10.0, f64::INFINITY), 5.0);
        assert_eq!(clip_grad_norm_(&[a.clone(), b.clone()], 1.0, 1.0), 8.0);
        let coef = 1.0 / (8.0 + 1e-6);
        assert_eq!(grad(&a), [coef, -5.0 * coef]);
        assert_eq!(grad(&b), [2.0 * coef]);
    }

    #[test]
    fn general_p_norm() {
        let a = param_with_grad(&[1.0, 2.0]);
        let b = param_with_grad(&[2.0]);
        // (1 + 8 + 8)^(1/3) for the gradients; per-tensor norms combine to the same.
        let total = clip_grad_norm_(&[a, b], 100.0, 3.0);
        assert!((total - 17f64.cbrt()).abs() < 1e-12, "{total}");
    }

    #[test]
    fn parameters_without_gradients_are_ignored() {
        let none = Tensor::new(NdArray::zeros(&[2], DType::F64)).requires_grad_(true);
        assert_eq!(clip_grad_norm_(std::slice::from_ref(&none), 1.0, 2.0), 0.0);
        let a = param_with_grad(&[6.0, 8.0]);
        assert_eq!(clip_grad_norm_(&[none.clone(), a], 1.0, 2.0), 10.0);
        assert!(none.grad_array().is_none());
    }

    #[test]
    fn f32_gradients_are_scaled_in_f32() {
        let p = Tensor::zeros(&[2]).requires_grad_(true);
        p.set_grad(Some(NdArray::from_vec(vec![3.0f32, 4.0], &[2])));
        assert_eq!(clip_grad_norm_(std::slice::from_ref(&p), 2.5, 2.0), 5.0);
        let coef = (2.5 / (5.0 + 1e-6)) as f32;
        assert_eq!(p.grad_array().unwrap().to_vec::<f32>(), [3.0 * coef, 4.0 * coef]);
    }

    #[test]
    #[should_panic(expected = "clip_grad_norm_: norm_type must be positive or infinity, got 0")]
    fn zero_norm_type_panics() {
        clip_grad_norm_(&[param_with_grad(&[1.0])], 1.0, 0.0);
    }

    #[test]
    fn clip_value_clamps_each_element_and_keeps_nan() {
        let a = param_with_grad(&[-3.0, -0.5, 0.25, 2.0, f64::NAN]);
        clip_grad_value_(std::slice::from_ref(&a), 1.0);
        let g = grad(&a);
        assert_eq!(g[..4], [-1.0, -0.5, 0.25, 1.0]);
        assert!(g[4].is_nan());
    }

    #[test]
    #[should_panic(expected = "clip_grad_value_: clip_value must be non-negative, got -1")]
    fn negative_clip_value_panics() {
        clip_grad_value_(&[param_with_grad(&[1.0])], -1.0);
    }
}
