//! Dropout: zero each element with probability `p` and scale the survivors by
//! `1 / (1 - p)` ("inverted" dropout), so evaluation needs no rescaling.

use nabla_autograd::{DType, NdArray, Tensor};
use nabla_tensor::{random, Element};

/// Panics unless `p` is a probability (PyTorch's message).
#[track_caller]
pub(crate) fn check_probability(p: f64) {
    if !(0.0..=1.0).contains(&p) {
        panic!("dropout probability has to be between 0 and 1, but got {p}");
    }
}

/// Randomly zeroes elements of `input` with probability `p` and scales the rest by
/// `1 / (1 - p)` when `training`; returns `input` unchanged otherwise
/// (`F.dropout(input, p, training)`).
///
/// The mask comes from the seeded generator (`manual_seed`), so runs reproduce on any
/// number of threads. `p = 1` gives zeros.
///
/// # Panics
/// If `p` is outside `[0, 1]`, or `input` is not a float tensor while training.
///
/// ```
/// use nabla_autograd::{manual_seed, Tensor};
/// use nabla_nn::functional::dropout;
/// manual_seed(0);
/// let y = dropout(&Tensor::ones(&[1000]), 0.5, true);
/// assert!(y.to_vec::<f32>().iter().all(|&v| v == 0.0 || v == 2.0));
/// assert_eq!(dropout(&Tensor::ones(&[3]), 0.5, false).to_vec::<f32>(), vec![1.0; 3]);
/// ```
#[track_caller]
pub fn dropout(input: &Tensor, p: f64, training: bool) -> Tensor {
    check_probability(p);
    if !training || p == 0.0 {
        return input.clone();
    }
    let x = input.data();
    let mask = match x.dtype() {
        DType::F32 => mask::<f32>(x.shape(), p),
        DType::F64 => mask::<f64>(x.shape(), p),
        DType::I64 => panic!("dropout: expected a float tensor (f32 or f64), got i64"),
    };
    let out = x.mul(&mask);
    Tensor::from_op("dropout", out, &[input], move |g, _| Ok(vec![Some(g.mul(&mask))]))
}

/// `1 / (1 - p)` with probability `1 - p`, else 0, in one pass.
fn mask<T: Element>(shape: &[usize], p: f64) -> NdArray {
    let n: usize = shape.iter().product();
    let stream = random::reserve(n as u64);
    let (keep, drop) = (T::from_f64(1.0 / (1.0 - p)), T::from_f64(0.0));
    let values = (0..n as u64).map(|i| if stream.uniform(i) >= p { keep } else { drop }).collect();
    NdArray::from_vec(values, shape)
}
