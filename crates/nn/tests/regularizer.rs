//! L1/L2 penalties: values and gradients.

use nabla_autograd::Tensor;
use nabla_nn::{l1_penalty, l2_penalty};

#[test]
fn penalties_sum_over_every_chosen_parameter() {
    let a = Tensor::from_vec(vec![1.0f32, -2.0, 0.0], &[3]).requires_grad_(true);
    let b = Tensor::from_vec(vec![3.0f32, -0.5], &[2, 1]).requires_grad_(true);
    let l1 = l1_penalty(&[a.clone(), b.clone()]);
    assert_eq!(l1.item(), 6.5);
    l1.backward();
    assert_eq!(a.grad().unwrap().to_vec::<f32>(), vec![1.0, -1.0, 0.0], "sign(w), 0 at 0");
    a.zero_grad();
    b.zero_grad();
    let l2 = l2_penalty(&[a.clone(), b.clone()]);
    assert_eq!(l2.item(), 1.0 + 4.0 + 9.0 + 0.25);
    l2.backward();
    assert_eq!(a.grad().unwrap().to_vec::<f32>(), vec![2.0, -4.0, 0.0], "2w");
    assert_eq!(b.grad().unwrap().to_vec::<f32>(), vec![6.0, -1.0]);
}

#[test]
fn no_parameter_gives_zero() {
    assert_eq!(l1_penalty(&[]).item(), 0.0);
    assert_eq!(l2_penalty(&[]).item(), 0.0);
}
