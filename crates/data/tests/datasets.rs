//! TensorDataset, Subset, random_split and the embedded Digits set.

use std::sync::Arc;

use nabla_autograd::{DType, Tensor};
use nabla_data::{random_split, DataError, Dataset, Digits, Subset, TensorDataset};

fn rows(n: usize) -> TensorDataset {
    let x = Tensor::from_vec((0..2 * n).map(|v| v as f32).collect::<Vec<_>>(), &[n, 2]);
    let y = Tensor::from_vec((0..n as i64).collect::<Vec<_>>(), &[n]);
    TensorDataset::new(x, y).unwrap()
}

fn ids(ds: &dyn Dataset) -> Vec<i64> {
    let all: Vec<usize> = (0..ds.len()).collect();
    ds.get_batch(&all).1.to_vec::<i64>()
}

#[test]
fn tensor_dataset_rows_and_batches() {
    let ds = rows(5);
    assert_eq!(ds.len(), 5);
    let (x, y) = ds.get(3);
    assert_eq!((x.to_vec::<f32>(), y.shape(), y.item()), (vec![6.0, 7.0], vec![], 3.0));
    let (xb, yb) = ds.get_batch(&[4, 4, 0]);
    assert_eq!(xb.shape(), vec![3, 2]);
    assert_eq!(xb.to_vec::<f32>(), vec![8.0, 9.0, 8.0, 9.0, 0.0, 1.0]);
    assert_eq!((yb.dtype(), yb.to_vec::<i64>()), (DType::I64, vec![4, 4, 0]));
    assert!(!xb.requires_grad());
    // The default, stacking get_batch agrees with the index_select one.
    struct ByItem(TensorDataset);
    impl Dataset for ByItem {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn get(&self, i: usize) -> (Tensor, Tensor) {
            self.0.get(i)
        }
    }
    let (xs, ys) = ByItem(rows(5)).get_batch(&[4, 4, 0]);
    assert_eq!((xs.to_vec::<f32>(), ys.to_vec::<i64>()), (xb.to_vec::<f32>(), yb.to_vec::<i64>()));

    let first = rows(5).take(2);
    assert_eq!((first.len(), ids(&first)), (2, vec![0, 1]));
    assert_eq!(rows(5).take(9).len(), 5);
    assert_eq!(format!("{first:?}"), "TensorDataset { inputs: \"f32 [2, 2]\", targets: \"i64 [2]\" }");
}

#[test]
#[should_panic(expected = "TensorDataset: index 5 is out of range for a dataset of 5 samples")]
fn tensor_dataset_get_out_of_range_panics() {
    rows(5).get(5);
}

#[test]
fn tensor_dataset_rejects_mismatched_first_dims() {
    let err = TensorDataset::new(Tensor::zeros(&[4, 2]), Tensor::zeros(&[3])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "TensorDataset: inputs [4, 2] and targets [3] must have the same (non-empty) first dim"
    );
    assert!(TensorDataset::new(Tensor::scalar(1.0), Tensor::scalar(1.0)).is_err());
}

#[test]
fn subset_maps_indices() {
    let parent: Arc<dyn Dataset> = Arc::new(rows(6));
    let sub = Subset::new(Arc::clone(&parent), vec![5, 1, 1]).unwrap();
    assert_eq!((sub.len(), sub.indices()), (3, &[5, 1, 1][..]));
    assert_eq!(sub.get(0).1.item(), 5.0);
    assert_eq!(ids(&sub), vec![5, 1, 1]);
    assert_eq!(sub.dataset().len(), 6);
    let err = Subset::new(parent, vec![0, 6]).unwrap_err();
    assert_eq!(err.to_string(), "Subset: index 6 is out of range for a dataset of 6");
}

#[test]
fn random_split_partitions_reproducibly() {
    let parent: Arc<dyn Dataset> = Arc::new(rows(50));
    let parts = random_split(Arc::clone(&parent), &[30, 15, 5], 9).unwrap();
    let lens: Vec<usize> = parts.iter().map(Subset::len).collect();
    assert_eq!(lens, [30, 15, 5]);
    let mut all: Vec<i64> = parts.iter().flat_map(|p| ids(p)).collect();
    assert_ne!(all, (0..50).collect::<Vec<_>>(), "shuffled");
    all.sort_unstable();
    assert_eq!(all, (0..50).collect::<Vec<_>>(), "disjoint and complete");

    let again = random_split(Arc::clone(&parent), &[30, 15, 5], 9).unwrap();
    assert_eq!(ids(&again[0]), ids(&parts[0]));
    let other = random_split(Arc::clone(&parent), &[30, 15, 5], 10).unwrap();
    assert_ne!(ids(&other[0]), ids(&parts[0]));

    let err = random_split(Arc::clone(&parent), &[30, 15], 9).map(|_| ()).unwrap_err();
    assert!(matches!(err, DataError::InvalidConfig { what: "random_split", .. }));
    assert_eq!(err.to_string(), "random_split: lengths [30, 15] must add up to the dataset's 50 samples");
    assert!(random_split(parent, &[usize::MAX, 51], 9).is_err(), "overflowing lengths");
}

#[test]
fn digits_has_a_fixed_split_of_scaled_images() {
    let (train, test) = (Digits::train(), Digits::test());
    assert_eq!((train.len(), test.len()), (1437, 360));
    let (x, y) = (train.images(), train.labels());
    assert_eq!((x.shape(), x.dtype()), (vec![1437, 1, 8, 8], DType::F32));
    assert_eq!((y.shape(), y.dtype()), (vec![1437], DType::I64));
    let pixels = x.to_vec::<f32>();
    assert!(pixels.iter().all(|&p| (0.0..=1.0).contains(&p)));
    assert_eq!(pixels.iter().copied().fold(0.0, f32::max), 1.0);

    // Both halves together are the whole UCI set: its per-digit counts.
    let mut counts = [0usize; 10];
    for label in y.to_vec::<i64>().into_iter().chain(test.labels().to_vec::<i64>()) {
        counts[label as usize] += 1;
    }
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);

    // Fixed: the same samples every time.
    assert_eq!(Digits::train().labels().to_vec::<i64>(), y.to_vec::<i64>());
    assert_eq!(test.get(359).0.shape(), vec![1, 8, 8]);
}
