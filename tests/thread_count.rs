//! Training gives the same numbers whatever the thread count. The thread count is a
//! process-wide setting, so this check has a test binary of its own: tests in another
//! binary cannot change it halfway through, and the tests here take turns.

#[path = "../examples/mnist_cnn.rs"]
#[allow(dead_code)]
mod mnist_cnn;

use mnist_cnn::common::fit::Classifier;
use nabla::prelude::*;
use std::sync::Mutex;

/// Held by each test while it changes the thread count.
static THREAD_COUNT: Mutex<()> = Mutex::new(());

/// The tutorial's CNN (with BatchNorm, whose statistics are reductions too) after a few
/// Adam steps on random images, as one vector of every state_dict value.
fn train_a_few_steps(threads: usize) -> Vec<f32> {
    set_num_threads(threads);
    manual_seed(7);
    let model = mnist_cnn::Cnn::new(true);
    let mut opt = optim::Adam::new(model.parameters(), 1e-3);
    for _ in 0..3 {
        let x = Tensor::randn(&[32, 1, 28, 28]);
        let y = Tensor::randint(0, 10, &[32]);
        opt.zero_grad();
        model.loss(&model.forward(&x), &y).backward();
        opt.step();
    }
    model.state_dict().values().flat_map(|t| t.to_vec::<f32>()).collect()
}

/// Asserts that `run(threads)` gives the same values, bit for bit, on 1, 2 and 3
/// threads: every split of the work is fixed by the shapes, not the threads.
fn same_on_one_two_and_three_threads(what: &str, run: impl Fn(usize) -> Vec<f32>) {
    let _turn = THREAD_COUNT.lock().unwrap_or_else(|e| e.into_inner());
    let one = run(1);
    for threads in [2, 3] {
        assert!(run(threads) == one, "{what}: {threads} threads give other values than 1");
    }
}

#[test]
fn the_cnn_trains_to_the_same_weights_on_one_two_and_three_threads() {
    same_on_one_two_and_three_threads("the CNN's weights", train_a_few_steps);
}

/// A bidirectional LSTM and a GRU over a padded batch big enough to be split into
/// parts (6 for the LSTM, 3 for the GRU): the outputs, and the input and parameter
/// gradients, as one vector.
fn recurrent_values(threads: usize) -> Vec<f32> {
    set_num_threads(threads);
    manual_seed(11);
    let config = nn::RnnConfig { bidirectional: true, ..nn::RnnConfig::default() };
    let lstm = nn::LSTM::with_config(5, 64, config);
    let gru = nn::GRU::new(128, 48);
    let (steps, batch) = (6, 96);
    let lengths: Vec<usize> = (0..batch).map(|b| 1 + b % steps).collect();
    let x = Tensor::randn(&[steps, batch, 5]).requires_grad_(true);
    let (hidden, _) = lstm.forward_with_lengths(&x, &lengths, None);
    let (out, _) = gru.forward_with_lengths(&hidden, &lengths, None);
    (out.clone() * Tensor::randn(&out.shape())).sum().backward();
    let params = lstm.parameters().into_iter().chain(gru.parameters());
    let grads = params.map(|p| p.grad().expect("a parameter gradient")).chain([x.grad().expect("an input gradient")]);
    out.to_vec::<f32>().into_iter().chain(grads.flat_map(|g| g.to_vec::<f32>())).collect()
}

#[test]
fn recurrent_layers_give_the_same_values_and_gradients_on_one_two_and_three_threads() {
    same_on_one_two_and_three_threads("the LSTM and GRU", recurrent_values);
}
