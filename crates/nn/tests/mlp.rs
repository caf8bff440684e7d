//! End to end: a small MLP trained with hand-written SGD (no optimizer crate) learns a
//! nonlinear toy problem within a fixed number of steps.

use nabla_autograd::{manual_seed, no_grad, Tensor};
use nabla_nn::{Dropout, Forward, Linear, Module, ModuleExt};

#[derive(Module)]
#[module(crate = "nabla_nn")]
struct Mlp {
    fc1: Linear,
    fc2: Linear,
    dropout: Dropout,
}

impl Mlp {
    fn forward(&self, x: &Tensor) -> Tensor {
        let h = self.dropout.forward(&self.fc1.forward(x).tanh());
        self.fc2.forward(&h).log_softmax(1)
    }
}

/// Negative log-likelihood of integer targets, written here so this test does not
/// depend on the losses.
fn nll(log_probs: &Tensor, targets: &Tensor) -> Tensor {
    log_probs.gather(1, &targets.unsqueeze(1)).mean().neg()
}

#[test]
fn mlp_learns_xor_like_quadrants() {
    manual_seed(0);
    let n = 128;
    let x = Tensor::rand(&[n, 2]) * 2.0 - 1.0;
    let xs = x.to_vec::<f32>();
    let labels: Vec<i64> = (0..n).map(|i| i64::from(xs[2 * i] * xs[2 * i + 1] > 0.0)).collect();
    let y = Tensor::from_vec(labels.clone(), &[n]);

    let model = Mlp { fc1: Linear::new(2, 32), fc2: Linear::new(32, 2), dropout: Dropout::new(0.05) };
    let lr = 0.5;
    let mut loss_value = f64::INFINITY;
    for _ in 0..400 {
        model.train();
        model.zero_grad();
        let loss = nll(&model.forward(&x), &y);
        loss.backward();
        let _guard = no_grad();
        for p in model.parameters() {
            p.add_(&p.grad().unwrap(), -lr);
        }
        loss_value = loss.item();
    }
    model.eval();
    let _guard = no_grad();
    let log_probs = model.forward(&x);
    let eval_loss = nll(&log_probs, &y).item();
    let predicted = log_probs.argmax(Some(1), false).to_vec::<i64>();
    let correct = predicted.iter().zip(&labels).filter(|(p, l)| p == l).count();
    assert!(eval_loss < 0.15, "eval loss {eval_loss} (last training loss {loss_value})");
    assert!(correct as f64 >= 0.95 * n as f64, "accuracy {correct}/{n}");
}
