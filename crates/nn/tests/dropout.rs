//! Dropout: mask statistics, inverted scaling, eval identity, gradients.

use std::sync::{Mutex, MutexGuard};

use nabla_autograd::{gradcheck, manual_seed, Tensor};
use nabla_nn::functional::dropout;
use nabla_nn::{Dropout, Forward, ModuleExt};

/// The generator is global and tests run in parallel: every test here that draws
/// random numbers holds this lock, so a test that seeds sees its own stream.
fn rng_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn mask_keeps_about_one_minus_p_and_scales_by_its_inverse() {
    let _rng = rng_lock();
    manual_seed(0);
    let n = 100_000;
    for p in [0.1, 0.5, 0.8] {
        let y = dropout(&Tensor::ones(&[n]), p, true).to_vec::<f32>();
        let scale = (1.0 / (1.0 - p)) as f32;
        assert!(y.iter().all(|&v| v == 0.0 || (v - scale).abs() < 1e-6), "values are 0 or 1/(1-p)");
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
        // Binomial std is sqrt(p(1-p)/n) < 0.0016; allow 4 of them.
        assert!((kept - (1.0 - p)).abs() < 0.0064, "p={p}: kept {kept}");
        let mean = y.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.02, "p={p}: the expectation is preserved, mean {mean}");
    }
}

#[test]
fn same_seed_gives_the_same_mask() {
    let _rng = rng_lock();
    manual_seed(7);
    let a = dropout(&Tensor::ones(&[64]), 0.5, true).to_vec::<f32>();
    manual_seed(7);
    let b = dropout(&Tensor::ones(&[64]), 0.5, true).to_vec::<f32>();
    assert_eq!(a, b);
    assert_ne!(a, dropout(&Tensor::ones(&[64]), 0.5, true).to_vec::<f32>());
}

#[test]
fn eval_mode_and_p_zero_are_the_identity() {
    let _rng = rng_lock();
    let x = Tensor::randn(&[3, 4]);
    let layer = Dropout::new(0.9);
    layer.eval();
    assert!(!layer.is_training());
    assert_eq!(layer.forward(&x).to_vec::<f32>(), x.to_vec::<f32>());
    assert_eq!(dropout(&x, 0.0, true).to_vec::<f32>(), x.to_vec::<f32>());
    layer.train();
    assert_ne!(layer.forward(&x).to_vec::<f32>(), x.to_vec::<f32>());
}

#[test]
fn p_one_gives_zeros_and_zero_gradient() {
    let _rng = rng_lock();
    let x = Tensor::randn(&[10]).requires_grad_(true);
    let y = dropout(&x, 1.0, true);
    assert_eq!(y.to_vec::<f32>(), vec![0.0; 10]);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0; 10]);
}

#[test]
fn gradient_is_the_mask() {
    let _rng = rng_lock();
    manual_seed(3);
    let x = Tensor::ones(&[1000]).requires_grad_(true);
    let y = dropout(&x, 0.3, true);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), y.to_vec::<f32>());
}

#[test]
fn gradcheck_in_eval_and_with_a_fixed_mask_in_training() {
    let _rng = rng_lock();
    let x = Tensor::randn(&[3, 4]).double().requires_grad_(true);
    gradcheck(|t| dropout(&t[0], 0.5, false), std::slice::from_ref(&x)).unwrap();
    gradcheck(
        |t| {
            manual_seed(11); // the same mask on every evaluation
            dropout(&t[0], 0.5, true)
        },
        &[x],
    )
    .unwrap();
}

#[test]
fn default_p_is_one_half() {
    assert_eq!(Dropout::default().p(), 0.5);
}

#[test]
#[should_panic(expected = "dropout probability has to be between 0 and 1, but got 1.5")]
fn layer_rejects_p_above_one() {
    Dropout::new(1.5);
}

#[test]
#[should_panic(expected = "dropout probability has to be between 0 and 1, but got -0.1")]
fn function_rejects_negative_p() {
    dropout(&Tensor::ones(&[1]), -0.1, false);
}

#[test]
#[should_panic(expected = "dropout probability has to be between 0 and 1, but got NaN")]
fn nan_p_is_rejected() {
    Dropout::new(f64::NAN);
}
