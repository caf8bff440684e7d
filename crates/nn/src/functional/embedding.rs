//! `embedding`: a row lookup whose backward scatter-adds the output gradient rows.

use nabla_autograd::{DType, NdArray, Tensor};

/// Looks up row `input[...]` of `weight` for every index (`F.embedding(input, weight,
/// padding_idx)`).
///
/// The gradient of `weight` adds each output gradient row into the row it came from
/// (`index_add`); the `padding_idx` row never receives gradient.
///
/// # Shapes
/// - input: `i64` indices of any shape `[*]`, each in `0..num_embeddings`
/// - weight: `[num_embeddings, embedding_dim]`
/// - output: `[*, embedding_dim]`
///
/// # Panics
/// If `input` is not `i64` or `weight` not 2-D, and on an out-of-range index, naming the
/// index, its position and the valid range.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::functional::embedding;
/// let weight = Tensor::from_vec(vec![0.0f32, 0.0, 1.0, 1.0, 2.0, 2.0], &[3, 2]).requires_grad_(true);
/// let ids = Tensor::from_vec(vec![2i64, 1, 2], &[3]);
/// let out = embedding(&ids, &weight, Some(0));
/// assert_eq!(out.to_vec::<f32>(), vec![2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
/// out.sum().backward();
/// assert_eq!(weight.grad().unwrap().to_vec::<f32>(), vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
/// ```
#[track_caller]
pub fn embedding(input: &Tensor, weight: &Tensor, padding_idx: Option<usize>) -> Tensor {
    let (ids, w) = (input.data(), weight.data());
    if ids.dtype() != DType::I64 {
        panic!("embedding: expected i64 indices, got {}", ids.dtype());
    }
    let [rows, dim] = *w.shape() else {
        panic!("embedding: weight must be 2-D [num_embeddings, embedding_dim], got shape {:?}", w.shape());
    };
    if let Some(p) = padding_idx.filter(|&p| p >= rows) {
        panic!("embedding: padding_idx {p} must be within num_embeddings ({rows})");
    }
    let flat = ids.reshape(&[-1]);
    if let Some((pos, &bad)) = flat.to_vec::<i64>().iter().enumerate().find(|(_, &i)| i < 0 || i as usize >= rows) {
        panic!(
            "embedding: index {bad} at position {:?} of the input {:?} is out of range: valid indices are 0..{rows} (num_embeddings = {rows})",
            unravel(pos, ids.shape()),
            ids.shape()
        );
    }
    let mut out_shape: Vec<isize> = ids.shape().iter().map(|&d| d as isize).collect();
    out_shape.push(dim as isize);
    let out = w.index_select(0, &flat).reshape(&out_shape);
    Tensor::from_op("embedding", out, &[weight], move |g, _| {
        let g = g.reshape(&[-1, dim as isize]);
        let mut gw = NdArray::index_add(&[rows, dim], 0, &flat, &g);
        if let Some(p) = padding_idx {
            let row = p * dim..(p + 1) * dim;
            match gw.dtype() {
                DType::F32 => gw.data_mut::<f32>()[row].fill(0.0),
                DType::F64 => gw.data_mut::<f64>()[row].fill(0.0),
                DType::I64 => unreachable!("a float weight has a float gradient"),
            }
        }
        Ok(vec![Some(gw)])
    })
}

/// The multi-dimensional position of flat index `pos` in `shape`.
fn unravel(mut pos: usize, shape: &[usize]) -> Vec<usize> {
    let mut at = vec![0; shape.len()];
    for (a, &d) in at.iter_mut().zip(shape).rev() {
        *a = pos % d;
        pos /= d;
    }
    at
}
