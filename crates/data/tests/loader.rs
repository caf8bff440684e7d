//! DataLoader: batch counts, coverage, seeded order, workers, restart, and build errors.

use std::sync::Arc;

use nabla_autograd::Tensor;
use nabla_data::{DataError, DataLoader, Dataset, LoaderConfig, TensorDataset};

/// Sample `i` is `([i as f32], i)`; batches use the default (stacking) `get_batch`.
struct Count(usize);

impl Dataset for Count {
    fn len(&self) -> usize {
        self.0
    }
    fn get(&self, i: usize) -> (Tensor, Tensor) {
        assert!(i < self.0, "Count: index {i} out of range");
        (Tensor::from_vec(vec![i as f32], &[1]), Tensor::from_vec(vec![i as i64], &[]))
    }
}

/// The same samples as `Count`, gathered with `index_select`.
fn tensor_count(n: usize) -> TensorDataset {
    let x = Tensor::from_vec((0..n).map(|i| i as f32).collect::<Vec<_>>(), &[n, 1]);
    let y = Tensor::from_vec((0..n).map(|i| i as i64).collect::<Vec<_>>(), &[n]);
    TensorDataset::new(x, y).unwrap()
}

/// One epoch as a list of batches of sample ids, checking that inputs match targets.
fn epoch<D: Dataset + 'static>(loader: &DataLoader<D>) -> Vec<Vec<i64>> {
    loader
        .into_iter()
        .map(|(x, y)| {
            let ids = y.to_vec::<i64>();
            assert_eq!(x.to_vec::<f32>(), ids.iter().map(|&i| i as f32).collect::<Vec<_>>());
            assert_eq!(x.shape(), vec![ids.len(), 1]);
            ids
        })
        .collect()
}

fn sizes(batches: &[Vec<i64>]) -> Vec<usize> {
    batches.iter().map(Vec::len).collect()
}

#[test]
fn batch_counts_are_ceil_or_floor_for_any_number_of_workers() {
    for workers in 0..=4 {
        let keep = DataLoader::new(Count(10)).batch_size(3).num_workers(workers);
        assert_eq!(keep.len(), 4);
        let batches = epoch(&keep);
        assert_eq!(sizes(&batches), [3, 3, 3, 1], "workers {workers}");
        assert_eq!(batches.concat(), (0..10).collect::<Vec<_>>(), "in order without shuffle");

        let drop = DataLoader::new(tensor_count(10)).batch_size(3).drop_last(true).num_workers(workers);
        assert_eq!(drop.len(), 3);
        assert_eq!(sizes(&epoch(&drop)), [3, 3, 3], "workers {workers}");

        let exact = DataLoader::new(Count(9)).batch_size(3).drop_last(true).num_workers(workers);
        assert_eq!(sizes(&epoch(&exact)), [3, 3, 3]);
    }
}

#[test]
fn a_shuffled_epoch_visits_every_index_exactly_once() {
    for workers in 0..=4 {
        let loader = DataLoader::new(tensor_count(103)).batch_size(10).shuffle(true).seed(5).num_workers(workers);
        for _ in 0..2 {
            let mut ids = epoch(&loader).concat();
            assert_ne!(ids, (0..103).collect::<Vec<_>>(), "shuffled");
            ids.sort_unstable();
            assert_eq!(ids, (0..103).collect::<Vec<_>>());
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_order_whatever_the_workers() {
    let order = |seed, workers| {
        let loader = DataLoader::new(Count(50)).batch_size(4).shuffle(true).seed(seed).num_workers(workers);
        (epoch(&loader), epoch(&loader))
    };
    let (first, second) = order(11, 0);
    assert_ne!(first, second, "each epoch reshuffles");
    for workers in 1..=4 {
        assert_eq!(order(11, workers), (first.clone(), second.clone()), "workers {workers}");
    }
    assert_ne!(order(12, 0).0, first, "another seed, another order");
}

#[test]
fn set_epoch_replays_an_epoch() {
    let loader = DataLoader::new(tensor_count(30)).batch_size(7).shuffle(true).seed(3);
    let e0 = epoch(&loader);
    let e1 = epoch(&loader);
    assert_eq!(loader.epoch(), 2);
    loader.set_epoch(1);
    assert_eq!(epoch(&loader), e1);
    loader.set_epoch(0);
    assert_eq!(epoch(&loader), e0);
}

#[test]
fn the_loader_is_restartable_and_exact_size() {
    let loader = DataLoader::new(Count(20)).batch_size(6).num_workers(2);
    for _ in 0..3 {
        let batches = loader.iter();
        assert_eq!(batches.len(), 4);
        assert_eq!(batches.count(), 4);
    }
    assert_eq!(loader.dataset().len(), 20);
    assert_eq!(loader.config(), &LoaderConfig { batch_size: 6, num_workers: 2, ..LoaderConfig::default() });
}

#[test]
fn dropping_an_epoch_early_stops_the_workers() {
    let loader = DataLoader::new(tensor_count(1000)).batch_size(1).num_workers(4);
    let mut it = loader.iter();
    assert_eq!(it.next().unwrap().1.to_vec::<i64>(), vec![0]);
    drop(it); // joins the workers; would hang if they stayed blocked on full channels
    assert_eq!(loader.iter().take(3).map(|(_, y)| y.item() as i64).collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
#[should_panic(expected = "Count: index 7 out of range")]
fn a_panic_in_a_worker_reaches_the_training_loop() {
    struct Short;
    impl Dataset for Short {
        fn len(&self) -> usize {
            10
        }
        fn get(&self, i: usize) -> (Tensor, Tensor) {
            Count(7).get(i)
        }
    }
    for _ in &DataLoader::new(Short).batch_size(2).num_workers(3) {}
}

#[test]
fn a_shared_dataset_feeds_a_loader() {
    let shared: Arc<dyn Dataset> = Arc::new(tensor_count(8));
    let loader = DataLoader::new(Arc::clone(&shared)).batch_size(8);
    assert_eq!(epoch(&loader), vec![(0..8).collect::<Vec<_>>()]);
}

#[test]
fn bad_configurations_are_errors_when_the_loader_is_built() {
    let err = |ds: TensorDataset, config: LoaderConfig| match DataLoader::try_new(ds, config) {
        Err(e @ DataError::InvalidConfig { what: "DataLoader", .. }) => e.to_string(),
        Err(e) => panic!("wrong error {e:?}"),
        Ok(_) => panic!("accepted a bad configuration"),
    };
    let empty = TensorDataset::new(Tensor::zeros(&[0, 2]), Tensor::zeros(&[0])).unwrap();
    assert_eq!(err(empty, LoaderConfig::default()), "DataLoader: the dataset is empty");
    let zero = LoaderConfig { batch_size: 0, ..LoaderConfig::default() };
    assert_eq!(err(tensor_count(3), zero), "DataLoader: batch_size must be at least 1");
    let few = LoaderConfig { batch_size: 4, drop_last: true, ..LoaderConfig::default() };
    assert_eq!(
        err(tensor_count(3), few),
        "DataLoader: drop_last with batch_size 4 leaves no batch: the dataset has only 3 samples"
    );
    let exact = LoaderConfig { batch_size: 4, drop_last: true, ..LoaderConfig::default() };
    assert!(DataLoader::try_new(tensor_count(4), exact).is_ok());
}

#[test]
#[should_panic(expected = "DataLoader: the dataset is empty")]
fn an_empty_dataset_panics_in_new() {
    DataLoader::new(Count(0));
}

#[test]
#[should_panic(expected = "DataLoader: batch_size must be at least 1")]
fn batch_size_zero_panics_in_the_builder() {
    DataLoader::new(Count(3)).batch_size(0);
}

#[test]
#[should_panic(expected = "leaves no batch: the dataset has only 5 samples")]
fn drop_last_with_too_few_samples_panics_in_the_builder() {
    DataLoader::new(Count(5)).batch_size(8).drop_last(true);
}

#[test]
fn loaders_and_errors_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<DataLoader<nabla_data::Mnist>>();
    send_sync::<DataError>();
    let boxed: Box<dyn std::error::Error + Send + Sync> =
        DataError::InvalidConfig { what: "x", reason: "y".into() }.into();
    assert_eq!(boxed.to_string(), "x: y");
}
