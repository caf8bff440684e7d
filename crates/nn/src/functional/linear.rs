//! `y = x W^T + b` as one recorded op with its own backward: one GEMM over all leading
//! dims at once, the bias added in place, and one tape node instead of three
//! (matmul, transpose, add).

use nabla_autograd::{DType, NdArray, Tensor};
use nabla_tensor::Element;

use super::saved::Saved;

/// Applies `y = x W^T + b` (`F.linear(input, weight, bias)`).
///
/// # Shape
/// - input: `[*, in_features]` (any number of leading dims, including none)
/// - weight: `[out_features, in_features]`
/// - bias: `[out_features]`
/// - output: `[*, out_features]`
///
/// # Panics
/// If the shapes do not fit, naming them.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::functional::linear;
/// let x = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2]);
/// let w = Tensor::from_vec(vec![1.0f32, 0.0, 1.0, 1.0, 0.0, -1.0], &[3, 2]);
/// let b = Tensor::from_vec(vec![0.5f32, 0.5, 0.5], &[3]);
/// assert_eq!(linear(&x, &w, Some(&b)).to_vec::<f32>(), vec![1.5, 3.5, -1.5]);
/// ```
#[track_caller]
pub fn linear(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
    let (x, w) = (input.data(), weight.data());
    let [out_f, in_f] = *w.shape() else {
        panic!("linear: weight must be 2-D [out_features, in_features], got shape {:?}", w.shape());
    };
    if x.shape().last() != Some(&in_f) {
        panic!(
            "linear: input {:?} must have {in_f} features in its last dim to match weight {:?}",
            x.shape(),
            w.shape()
        );
    }
    if let Some(b) = bias {
        if b.shape() != [out_f] {
            panic!("linear: bias {:?} must have shape [{out_f}] to match weight {:?}", b.shape(), w.shape());
        }
    }
    let x_dims: Vec<isize> = x.shape().iter().map(|&d| d as isize).collect();
    let mut out_dims = x_dims.clone();
    *out_dims.last_mut().expect("input has a last dim") = out_f as isize;

    // Explicit rows, not -1, which is ambiguous when a dim is 0.
    let rows = x.shape()[..x.ndim() - 1].iter().product::<usize>() as isize;
    let x2 = x.reshape(&[rows, in_f as isize]);
    let mut y = x2.matmul(&w.t());
    if let Some(b) = bias {
        add_to_rows(&mut y, &b.data());
    }
    let y = y.reshape(&out_dims);

    let saved_x = Saved::new("linear", input, x2);
    let saved_w = Saved::new("linear", weight, w);
    let dtypes = (input.dtype(), weight.dtype(), bias.map(Tensor::dtype));
    let backward = move |g: &NdArray, needs: &[bool]| {
        let g2 = g.reshape(&[rows, out_f as isize]);
        let gx = if needs[0] { Some(g2.matmul(saved_w.get()?).reshape(&x_dims).cast(dtypes.0)) } else { None };
        let gw = if needs[1] { Some(g2.t().matmul(saved_x.get()?).cast(dtypes.1)) } else { None };
        let mut grads = vec![gx, gw];
        if let Some(b_dtype) = dtypes.2 {
            grads.push(needs[2].then(|| g2.sum(&[0], false).cast(b_dtype)));
        }
        Ok(grads)
    };
    match bias {
        Some(b) => Tensor::from_op("linear", y, &[input, weight, b], backward),
        None => Tensor::from_op("linear", y, &[input, weight], backward),
    }
}

/// Adds `bias` to every row of the fresh, contiguous `[n, out]` result in place.
fn add_to_rows(y: &mut NdArray, bias: &NdArray) {
    let bias = bias.cast(y.dtype()).contiguous();
    match y.dtype() {
        DType::F32 => add_rows::<f32>(y, &bias),
        DType::F64 => add_rows::<f64>(y, &bias),
        DType::I64 => add_rows::<i64>(y, &bias),
    }
}

fn add_rows<T: Element>(y: &mut NdArray, bias: &NdArray) {
    let b = bias.as_slice::<T>().expect("bias was cast to the output dtype and made contiguous");
    if b.is_empty() {
        return;
    }
    for row in y.data_mut::<T>().chunks_exact_mut(b.len()) {
        for (v, &bi) in row.iter_mut().zip(b) {
            *v += bi;
        }
    }
}
