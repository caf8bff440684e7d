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

/// The least `word >> 11` that keeps an element: `stream.uniform(i) >= p` compared as
/// integers. The uniform value is exactly `(word >> 11) / 2^53` and `p * 2^53` is exact
/// too, so the same elements survive, without an integer-to-float conversion each.
fn keep_threshold(p: f64) -> u64 {
    (p * (1u64 << 53) as f64).ceil() as u64
}

/// `1 / (1 - p)` with probability `1 - p`, else 0, in one pass.
fn mask<T: Element>(shape: &[usize], p: f64) -> NdArray {
    let n: usize = shape.iter().product();
    let stream = random::reserve(n as u64);
    let (keep, drop) = (T::from_f64(1.0 / (1.0 - p)), T::from_f64(0.0));
    let threshold = keep_threshold(p);
    let values = (0..n as u64).map(|i| if stream.word(i) >> 11 >= threshold { keep } else { drop }).collect();
    NdArray::from_vec(values, shape)
}

#[cfg(test)]
mod tests {
    use super::keep_threshold;

    #[test]
    fn the_integer_threshold_keeps_exactly_what_the_uniform_compare_keeps() {
        let unit = 1.0 / (1u64 << 53) as f64;
        for p in [1e-9, 0.2, 1.0 / 3.0, 0.5, 0.9, 1.0 - 1e-12, 1.0] {
            let t = keep_threshold(p);
            // Both sides of the threshold, and a spread of other 53-bit values.
            let near = [t.saturating_sub(1), t, t + 1];
            let spread = (0..1000u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11);
            for bits in near.into_iter().chain(spread).filter(|&b| b < 1 << 53) {
                assert_eq!(bits >= t, bits as f64 * unit >= p, "p = {p}, bits = {bits}");
            }
        }
    }
}
