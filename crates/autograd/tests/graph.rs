//! Behaviour of the tape itself: accumulation, freeing, retain_graph, no_grad,
//! version checks, and error messages.

use nabla_autograd::{gradcheck, no_grad, AutogradError, NdArray, Tensor};

fn leaf(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(v, shape).requires_grad_(true)
}

#[test]
fn gradients_accumulate_over_two_backward_calls() {
    let w = leaf(&[1.0, 2.0], &[2]);
    (&w * 3.0).sum().backward();
    (&w * &w).sum().backward();
    // 3 + 2w
    assert_eq!(w.grad().unwrap().to_vec::<f64>(), vec![5.0, 7.0]);
    w.zero_grad();
    assert!(w.grad().is_none());
}

#[test]
fn shared_subexpression_sums_both_paths() {
    let x = leaf(&[2.0], &[1]);
    let y = x.exp();
    let z = (&y * &y + &y).sum(); // e^2x + e^x
    z.backward();
    let e = 2f64.exp();
    assert!((x.grad().unwrap().item() - (2.0 * e * e + e)).abs() < 1e-9);
}

#[test]
fn graph_is_freed_after_backward() {
    let w = leaf(&[0.5, -0.25, 1.0], &[3]);
    let h = w.exp(); // exp saves its output
    let weak = h.data().downgrade();
    let loss = (&h * &h).sum(); // mul saves h twice
    drop(h);
    assert!(weak.is_alive(), "the graph holds the saved output until backward");
    loss.backward();
    assert!(!weak.is_alive(), "backward must free the saved tensors");
}

#[test]
fn graph_is_freed_when_output_is_dropped() {
    let w = leaf(&[0.5, -0.25], &[2]);
    let h = w.sigmoid();
    let weak = h.data().downgrade();
    let loss = (&h * 2.0).sum();
    drop(h);
    assert!(weak.is_alive());
    drop(loss);
    assert!(!weak.is_alive());
}

#[test]
fn second_backward_needs_retain_graph() {
    let w = leaf(&[1.0], &[1]);
    let loss = w.exp().sum();
    loss.backward_with(None, true);
    loss.backward_with(None, false);
    assert!((w.grad().unwrap().item() - 2.0 * 1f64.exp()).abs() < 1e-12);
    let err = loss.try_backward(None, false).unwrap_err();
    assert!(matches!(err, AutogradError::GraphFreed { .. }), "{err}");
    assert!(err.to_string().contains("Trying to backward through the graph a second time"));
}

#[test]
fn no_grad_records_nothing() {
    let w = leaf(&[1.0], &[1]);
    let y = {
        let _g = no_grad();
        w.exp()
    };
    assert!(!y.requires_grad());
    assert_eq!(y.grad_fn_name(), None);
    assert!((&w * 2.0).requires_grad(), "grad mode is restored after the guard");
}

#[test]
fn detach_cuts_the_graph() {
    let w = leaf(&[3.0], &[1]);
    let y = (&w.detach() * &w).sum(); // d/dw (c * w) with c = w detached
    y.backward();
    assert_eq!(w.grad().unwrap().item(), 3.0);
}

#[test]
fn in_place_change_of_saved_tensor_is_caught() {
    let w = leaf(&[1.0, 2.0], &[2]);
    let x = Tensor::from_slice(&[3.0f64, 4.0], &[2]);
    let loss = (&w * &x).sum(); // saves x
    x.add_(&Tensor::from_slice(&[1.0f64, 1.0], &[2]), 1.0);
    let err = loss.try_backward(None, false).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("modified by an inplace operation"), "{msg}");
    assert!(msg.contains("is at version 1; expected version 0"), "{msg}");
}

#[test]
#[should_panic(expected = "a leaf Variable that requires grad is being used in an in-place operation")]
fn in_place_on_leaf_needs_no_grad() {
    leaf(&[1.0], &[1]).mul_scalar_(2.0);
}

#[test]
#[should_panic(expected = "grad can be implicitly created only for scalar outputs")]
fn non_scalar_backward_needs_a_gradient() {
    (leaf(&[1.0, 2.0], &[2]) * 2.0).backward();
}

#[test]
fn explicit_output_gradient() {
    let w = leaf(&[1.0, 2.0], &[2]);
    (&w * 2.0).backward_with(Some(&Tensor::from_slice(&[1.0f64, 10.0], &[2])), false);
    assert_eq!(w.grad().unwrap().to_vec::<f64>(), vec![2.0, 20.0]);
}

#[test]
#[should_panic(expected = "does not require grad")]
fn backward_without_grad_panics() {
    Tensor::ones(&[1]).sum().backward();
}

#[test]
fn broadcast_gradient_is_summed_back() {
    let b = leaf(&[1.0, 2.0, 3.0], &[3]);
    let x = Tensor::from_vec((0..6).map(f64::from).collect(), &[2, 3]);
    (&x + &b).sum().backward();
    assert_eq!(b.grad().unwrap().to_vec::<f64>(), vec![2.0, 2.0, 2.0]);
    gradcheck(|t| (&t[0] * &t[1]).exp(), &[x.requires_grad_(true), b.clone()]).unwrap();
}

#[test]
fn deep_chain_drops_without_stack_overflow() {
    let w = leaf(&[1.0], &[1]);
    let mut y = w.clone();
    for _ in 0..200_000 {
        y = &y * 1.0;
    }
    drop(y);
}

#[test]
fn tensor_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Tensor>();
    check::<NdArray>();
}

#[test]
fn op_without_derivative_fails_at_backward() {
    let w = leaf(&[1.0, 2.0], &[2]);
    let y = Tensor::from_op_not_differentiable("argsort_values", w.data(), &[&w]);
    let err = (&y * 2.0).sum().try_backward(None, false).unwrap_err();
    assert_eq!(err, AutogradError::NotDifferentiable { op: "argsort_values" });
    assert!(err.to_string().contains("'argsort_values' is not implemented"), "{err}");
}

#[test]
fn custom_op_gradient_is_checked() {
    let x = leaf(&[0.3, -1.2, 2.0], &[3]);
    let cube = |t: &[Tensor]| {
        let d = t[0].data();
        Tensor::from_op("cube", d.pow_scalar(3.0), &[&t[0]], move |g, _| {
            Ok(vec![Some(g.mul(&d.square().mul_scalar(3.0)))])
        })
    };
    gradcheck(cube, &[x]).unwrap();
}
