//! The 8x8 handwritten digits set, embedded in the crate: no file, no network.

use std::io::Read;
use std::sync::OnceLock;

use flate2::read::GzDecoder;
use nabla_autograd::Tensor;
use nabla_tensor::NdArray;

use crate::dataset::Dataset;
use crate::shuffle::permutation;
use crate::tensor_dataset::TensorDataset;

/// UCI "optical recognition of handwritten digits" (Alpaydin, Kaynak; CC BY 4.0): 1,797
/// rows of 64 integers 0..=16 and a label.
const CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
const ROWS: usize = 1797;
const SIDE: usize = 8;
/// 80% of the rows, rounded down, as in a `test_size = 0.2` split.
const TRAIN_LEN: usize = 1437;
/// The seed of the fixed shuffle that assigns rows to the splits. Never change it: it
/// defines which samples are in which split.
const SPLIT_SEED: u64 = 0;

/// A small handwritten-digits set for quick starts, examples and tests: each sample an
/// `f32` image `[1, 8, 8]` scaled to `[0, 1]` (the raw 0..=16 counts divided by 16) and a
/// 0-d `i64` label `0..=9`.
///
/// The data (the UCI optical-recognition digits, 1,797 images, CC BY 4.0) is compiled
/// into the crate. The split is fixed: the rows are shuffled once with a constant seed,
/// the first 1,437 (80%) form [`Digits::train`] and the other 360 [`Digits::test`], the
/// same on every machine and in every version.
///
/// ```
/// use nabla_data::{Dataset, Digits};
/// let (train, test) = (Digits::train(), Digits::test());
/// assert_eq!((train.len(), test.len()), (1437, 360));
/// let (x, y) = train.get(0);
/// assert_eq!((x.shape(), y.dim()), (vec![1, 8, 8], 0));
/// ```
#[derive(Clone, Debug)]
pub struct Digits {
    data: TensorDataset,
}

impl Digits {
    /// The 1,437 training samples.
    pub fn train() -> Self {
        Self::rows(&split()[..TRAIN_LEN])
    }

    /// The 360 test samples.
    pub fn test() -> Self {
        Self::rows(&split()[TRAIN_LEN..])
    }

    /// The number of samples (also [`Dataset::len`]; inherent so that it works without
    /// importing the trait, as in `loader.dataset().len()`).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True if there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All images, `f32 [len, 1, 8, 8]`.
    pub fn images(&self) -> Tensor {
        self.data.inputs()
    }

    /// All labels, `i64 [len]`.
    pub fn labels(&self) -> Tensor {
        self.data.targets()
    }

    fn rows(indices: &[usize]) -> Self {
        let (x, y) = all().get_batch(indices);
        Digits { data: TensorDataset::from_arrays(x.data(), y.data()) }
    }
}

/// The row order that defines the split.
fn split() -> Vec<usize> {
    permutation(ROWS, SPLIT_SEED)
}

/// Every row, parsed once per process.
fn all() -> &'static TensorDataset {
    static ALL: OnceLock<TensorDataset> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut csv = String::new();
        GzDecoder::new(CSV_GZ).read_to_string(&mut csv).expect("the embedded digits.csv.gz is valid gzip");
        let (mut pixels, mut labels) = (Vec::with_capacity(ROWS * SIDE * SIDE), Vec::with_capacity(ROWS));
        for (row, line) in csv.lines().enumerate() {
            let values: Vec<u8> =
                line.split(',').map(|v| v.trim().parse().expect("digits.csv holds integers")).collect();
            assert_eq!(values.len(), SIDE * SIDE + 1, "digits.csv row {row}: expected 65 values");
            pixels.extend(values[..SIDE * SIDE].iter().map(|&v| f32::from(v) / 16.0));
            labels.push(i64::from(values[SIDE * SIDE]));
        }
        assert_eq!(labels.len(), ROWS, "digits.csv: expected {ROWS} rows");
        TensorDataset::from_arrays(
            NdArray::from_vec(pixels, &[ROWS, 1, SIDE, SIDE]),
            NdArray::from_vec(labels, &[ROWS]),
        )
    })
}

impl Dataset for Digits {
    fn len(&self) -> usize {
        Digits::len(self)
    }

    fn get(&self, index: usize) -> (Tensor, Tensor) {
        self.data.get(index)
    }

    fn get_batch(&self, indices: &[usize]) -> (Tensor, Tensor) {
        self.data.get_batch(indices)
    }
}
