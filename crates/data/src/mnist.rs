//! MNIST from its IDX files, with a verified download from the canonical mirrors.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nabla_autograd::Tensor;
use nabla_tensor::NdArray;

use crate::dataset::Dataset;
use crate::download::{fetch_verified, sha256_of_gunzipped};
use crate::error::DataError;
use crate::idx::read_idx;

/// The four files and the SHA-256 of each, uncompressed (from the data folder's README).
const FILES: [(&str, &str); 4] = [
    ("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    ("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    ("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    ("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
];
const IMAGES_MAGIC: u32 = 2051;
const LABELS_MAGIC: u32 = 2049;
const SIDE: usize = 28;

/// The MNIST handwritten digits (LeCun, Cortes, Burges): 60,000 training and 10,000 test
/// images, each sample an `f32` image `[1, 28, 28]` scaled to `[0, 1]` (torchvision's
/// `ToTensor`) and a 0-d `i64` label `0..=9`.
///
/// The split is kept as its raw bytes (47 MB for the training set, a quarter of the
/// `f32` images) and a batch is converted through a 256-entry table of the byte values'
/// scaled (and normalised) `f32`s, so an epoch of batches costs milliseconds and the
/// result is identical to converting everything up front. The files are the original IDX files, plain or `.gz`, looked up in
/// `<root>/mnist/`, then `<root>/MNIST/raw/` (torchvision's layout), then `<root>/`.
///
/// ```no_run
/// use nabla_data::{DataLoader, Mnist};
/// let root = Mnist::default_root(); // $NABLA_DATA, else ./data
/// Mnist::download(&root)?; // no-op when the files are already there and intact
/// let train = Mnist::train(&root)?.normalize(Mnist::MEAN, Mnist::STD);
/// let loader = DataLoader::new(train).batch_size(64).shuffle(true);
/// for (x, y) in &loader {
///     assert_eq!(x.shape()[1..], [1, 28, 28]);
/// #   let _ = y;
/// }
/// # Ok::<(), nabla_data::DataError>(())
/// ```
#[derive(Clone)]
pub struct Mnist {
    /// `len * 784` pixel bytes, shared by clones and `take`.
    pixels: Arc<[u8]>,
    labels: Arc<[u8]>,
    len: usize,
    /// The `f32` value of each pixel byte: `p / 255`, then any normalisation.
    table: Arc<[f32; 256]>,
}

impl Mnist {
    /// Mean pixel value of the training set after scaling to `[0, 1]`.
    pub const MEAN: f32 = 0.1307;
    /// Standard deviation of the training set's pixels after scaling to `[0, 1]`.
    pub const STD: f32 = 0.3081;
    /// The mirrors [`Mnist::download`] tries, in order (torchvision's list).
    pub const MIRRORS: [&'static str; 2] =
        ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"];

    /// The 60,000 training samples, from the files under `root`.
    ///
    /// # Errors
    /// [`DataError::NotFound`] if a file is missing; I/O and format errors name the file.
    pub fn train(root: impl AsRef<Path>) -> Result<Self, DataError> {
        Self::load(root.as_ref(), "train")
    }

    /// The 10,000 test samples, from the files under `root`.
    ///
    /// # Errors
    /// As [`Mnist::train`].
    pub fn test(root: impl AsRef<Path>) -> Result<Self, DataError> {
        Self::load(root.as_ref(), "t10k")
    }

    /// The data folder: `$NABLA_DATA` if set, else `./data`.
    pub fn default_root() -> PathBuf {
        std::env::var_os("NABLA_DATA").filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(|| "data".into())
    }

    /// Downloads the four files into `<root>/mnist/` from [`Mnist::MIRRORS`]; see
    /// [`Mnist::download_from`].
    ///
    /// # Errors
    /// As [`Mnist::download_from`].
    pub fn download(root: impl AsRef<Path>) -> Result<(), DataError> {
        Self::download_from(root, &Self::MIRRORS)
    }

    /// Downloads the four `.gz` files into `<root>/mnist/`, trying `mirrors` (base URLs)
    /// in order for each. A file is accepted only if the SHA-256 of its uncompressed bytes
    /// is the published one, and written atomically (temporary file, then rename). Files
    /// already present and intact are not fetched again.
    ///
    /// # Errors
    /// [`DataError::Download`] with one error per mirror ([`DataError::Http`] or
    /// [`DataError::Checksum`]) if no mirror serves a file intact; [`DataError::Io`] if
    /// the folder cannot be written.
    pub fn download_from(root: impl AsRef<Path>, mirrors: &[&str]) -> Result<(), DataError> {
        let dir = root.as_ref().join("mnist");
        std::fs::create_dir_all(&dir).map_err(|e| DataError::io(&dir, e))?;
        for (name, sha256) in FILES {
            let file = format!("{name}.gz");
            let intact = File::open(dir.join(&file))
                .and_then(|f| sha256_of_gunzipped(BufReader::new(f)))
                .is_ok_and(|found| found == sha256);
            if !intact {
                fetch_verified(&dir, &file, sha256, mirrors)?;
            }
        }
        Ok(())
    }

    /// Standardises every pixel to `(x - mean) / std`, once, in place (torchvision's
    /// `Normalize((0.1307,), (0.3081,))` with [`Mnist::MEAN`] and [`Mnist::STD`]).
    ///
    /// # Panics
    /// If `std` is not a positive number.
    #[track_caller]
    pub fn normalize(self, mean: f32, std: f32) -> Self {
        assert!(std > 0.0, "Mnist::normalize: std must be positive, got {std}");
        let table = Arc::new(self.table.map(|v| (v - mean) / std));
        Mnist { table, ..self }
    }

    /// The first `n` samples (all if `n` is larger), e.g. for a quick run; a view, no copy.
    pub fn take(self, n: usize) -> Self {
        Mnist { len: self.len.min(n), ..self }
    }

    /// The number of samples (also [`Dataset::len`]; inherent so that it works without
    /// importing the trait, as in `loader.dataset().len()`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All images, `f32 [len, 1, 28, 28]`.
    pub fn images(&self) -> Tensor {
        self.get_batch(&(0..self.len).collect::<Vec<_>>()).0
    }

    /// All labels, `i64 [len]`.
    pub fn labels(&self) -> Tensor {
        Tensor::from_vec(self.labels[..self.len].iter().map(|&l| i64::from(l)).collect(), &[self.len])
    }

    /// Images `indices` as `f32 [n, 1, 28, 28]` and their labels as `i64 [n]`.
    #[track_caller]
    fn batch(&self, indices: &[usize]) -> (NdArray, NdArray) {
        const PIXELS: usize = SIDE * SIDE;
        let mut images = Vec::with_capacity(indices.len() * PIXELS);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            assert!(i < self.len, "Mnist: index {i} is out of range for {} samples", self.len);
            images.extend(self.pixels[i * PIXELS..(i + 1) * PIXELS].iter().map(|&p| self.table[usize::from(p)]));
            labels.push(i64::from(self.labels[i]));
        }
        (NdArray::from_vec(images, &[indices.len(), 1, SIDE, SIDE]), NdArray::from_vec(labels, &[indices.len()]))
    }

    fn load(root: &Path, split: &str) -> Result<Self, DataError> {
        let images_path = locate(root, &format!("{split}-images-idx3-ubyte"))?;
        let labels_path = locate(root, &format!("{split}-labels-idx1-ubyte"))?;
        let images = read_idx(&images_path, IMAGES_MAGIC)?;
        let labels = read_idx(&labels_path, LABELS_MAGIC)?;
        let n = images.dims[0];
        if images.dims[1..] != [SIDE, SIDE] {
            return Err(DataError::BadDims { path: images_path, dims: images.dims, expected: "[n, 28, 28]".into() });
        }
        if labels.dims[0] != n {
            let expected = format!("[{n}], one label per image of {}", images_path.display());
            return Err(DataError::BadDims { path: labels_path, dims: labels.dims, expected });
        }
        if let Some((index, &label)) = labels.data.iter().enumerate().find(|(_, &l)| l > 9) {
            return Err(DataError::BadLabel { path: labels_path, index, label });
        }
        let table = Arc::new(std::array::from_fn(|p| p as f32 / 255.0));
        Ok(Mnist { pixels: images.data.into(), labels: labels.data.into(), len: n, table })
    }
}

/// The sample count only: the pixels are tens of megabytes.
impl std::fmt::Debug for Mnist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mnist").field("len", &self.len).finish_non_exhaustive()
    }
}

/// The first of `<root>/mnist/`, `<root>/MNIST/raw/`, `<root>/` that holds `name` or
/// `name.gz`.
fn locate(root: &Path, name: &str) -> Result<PathBuf, DataError> {
    let dirs = [root.join("mnist"), root.join("MNIST").join("raw"), root.to_path_buf()];
    let searched: Vec<PathBuf> = dirs.iter().flat_map(|d| [d.join(name), d.join(format!("{name}.gz"))]).collect();
    match searched.iter().find(|p| p.is_file()) {
        Some(p) => Ok(p.clone()),
        None => Err(DataError::NotFound { file: name.to_string(), searched }),
    }
}

impl Dataset for Mnist {
    fn len(&self) -> usize {
        Mnist::len(self)
    }

    fn get(&self, index: usize) -> (Tensor, Tensor) {
        let (x, y) = self.batch(&[index]);
        (Tensor::new(x.reshape(&[1, SIDE as isize, SIDE as isize])), Tensor::new(y.reshape(&[])))
    }

    fn get_batch(&self, indices: &[usize]) -> (Tensor, Tensor) {
        let (x, y) = self.batch(indices);
        (Tensor::new(x), Tensor::new(y))
    }
}
