//! Without `.seed`, shuffling draws from the global generator, so `manual_seed`
//! reproduces the order. Alone in its own test binary: it is the only test that touches
//! the global generator, so no other test can draw from it in between.

use nabla_autograd::{manual_seed, Tensor};
use nabla_data::{DataLoader, TensorDataset};

fn orders(workers: usize) -> Vec<Vec<i64>> {
    let x = Tensor::zeros(&[40, 1]);
    let y = Tensor::from_vec((0..40).collect::<Vec<i64>>(), &[40]);
    let loader = DataLoader::new(TensorDataset::new(x, y).unwrap()).batch_size(40).shuffle(true).num_workers(workers);
    (0..2).map(|_| loader.iter().next().unwrap().1.to_vec::<i64>()).collect()
}

#[test]
fn manual_seed_makes_shuffling_reproducible() {
    manual_seed(42);
    let first = orders(0);
    assert_ne!(first[0], first[1], "each epoch draws a new seed");
    manual_seed(42);
    assert_eq!(orders(3), first, "same global seed, same orders, whatever the workers");
    manual_seed(43);
    assert_ne!(orders(0), first);
}
