//! Training gives the same numbers whatever the thread count. The thread count is a
//! process-wide setting, so this check has a test binary of its own: tests in another
//! binary cannot change it halfway through.

#[path = "../examples/mnist_cnn.rs"]
#[allow(dead_code)]
mod mnist_cnn;

use mnist_cnn::common::fit::Classifier;
use nabla::prelude::*;

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

#[test]
fn the_cnn_trains_to_the_same_weights_on_one_two_and_three_threads() {
    let one = train_a_few_steps(1);
    for threads in [2, 3] {
        // Bit for bit: every split of the work is fixed by the shapes, not the threads.
        assert!(train_a_few_steps(threads) == one, "{threads} threads give other weights than 1");
    }
}
