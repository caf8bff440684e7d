//! Mnist over small IDX files written to a temporary folder: the layouts it accepts and
//! the errors for malformed files, each naming the file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use nabla_data::{DataError, Dataset, Mnist};

/// A fresh, empty folder for one test.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nabla-data-idx-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// An unsigned-byte IDX file: magic, dims, body.
fn idx(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend(body);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Three 28x28 images whose pixels are all `10 * k` for image `k`, labelled 7, 0, 9.
fn images() -> Vec<u8> {
    let body: Vec<u8> = (0..3).flat_map(|k| vec![10 * k as u8; 784]).collect();
    idx(2051, &[3, 28, 28], &body)
}

fn labels() -> Vec<u8> {
    idx(2049, &[3], &[7, 0, 9])
}

/// Writes a test split (`t10k-*`) into `dir`, gzipped or not.
fn write_split(dir: &Path, images: &[u8], labels: &[u8], gz: bool) {
    fs::create_dir_all(dir).unwrap();
    let (img, lab) = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
    if gz {
        fs::write(dir.join(format!("{img}.gz")), gzip(images)).unwrap();
        fs::write(dir.join(format!("{lab}.gz")), gzip(labels)).unwrap();
    } else {
        fs::write(dir.join(img), images).unwrap();
        fs::write(dir.join(lab), labels).unwrap();
    }
}

/// The error loading a test split made of `images` and `labels` (plain files).
fn load_err(tag: &str, images: &[u8], labels: &[u8]) -> (DataError, PathBuf) {
    let root = temp_dir(tag);
    write_split(&root, images, labels, false);
    let err = Mnist::test(&root).unwrap_err();
    let _ = fs::remove_dir_all(&root);
    (err, root)
}

fn check_loaded(ds: &Mnist) {
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.images().shape(), vec![3, 1, 28, 28]);
    assert_eq!(ds.labels().to_vec::<i64>(), vec![7, 0, 9]);
    let (x, y) = ds.get(2);
    assert_eq!((x.shape(), y.item()), (vec![1, 28, 28], 9.0));
    assert!(x.to_vec::<f32>().iter().all(|&p| p == 20.0 / 255.0));
}

#[test]
fn loads_plain_and_gzip_files_from_each_layout() {
    let root = temp_dir("layouts");
    for (sub, gz) in [("mnist", true), ("MNIST/raw", false), ("", true)] {
        let _ = fs::remove_dir_all(&root);
        write_split(&root.join(sub), &images(), &labels(), gz);
        check_loaded(&Mnist::test(&root).unwrap());
    }
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn normalize_and_take() {
    let root = temp_dir("normalize");
    write_split(&root, &images(), &labels(), true);
    let ds = Mnist::test(&root).unwrap().normalize(Mnist::MEAN, Mnist::STD).take(2);
    fs::remove_dir_all(&root).unwrap();
    assert_eq!(ds.len(), 2);
    let x = ds.images().to_vec::<f32>();
    assert!((x[0] - (0.0 - 0.1307) / 0.3081).abs() < 1e-6);
    assert!((x[784] - (10.0 / 255.0 - 0.1307) / 0.3081).abs() < 1e-6);
}

#[test]
fn a_missing_file_lists_where_it_was_looked_for() {
    let root = temp_dir("missing");
    let err = Mnist::train(&root).unwrap_err();
    let _ = fs::remove_dir_all(&root);
    let DataError::NotFound { file, searched } = &err else { panic!("{err:?}") };
    assert_eq!(file, "train-images-idx3-ubyte");
    assert_eq!(searched.len(), 6);
    assert!(err.to_string().contains(&root.join("mnist").join("train-images-idx3-ubyte.gz").display().to_string()));
    assert!(err.to_string().contains("NABLA_DATA"));
}

#[test]
fn bad_magic_names_the_file() {
    let (err, root) = load_err("magic", &idx(2049, &[3], &[0; 3]), &labels());
    assert!(matches!(err, DataError::BadMagic { expected: 2051, found: 2049, .. }), "{err:?}");
    let path = root.join("t10k-images-idx3-ubyte");
    assert_eq!(err.to_string(), format!("{}: bad IDX magic number 2049 (expected 2051)", path.display()));
}

#[test]
fn wrong_image_size_is_bad_dims() {
    let (err, _) = load_err("dims", &idx(2051, &[2, 28, 27], &[0; 2 * 28 * 27]), &labels());
    assert!(matches!(&err, DataError::BadDims { dims, .. } if dims == &[2, 28, 27]), "{err:?}");
    assert!(err.to_string().contains("t10k-images-idx3-ubyte: IDX dimensions [2, 28, 27], expected [n, 28, 28]"));
}

#[test]
fn label_count_must_match_image_count() {
    let (err, _) = load_err("count", &images(), &idx(2049, &[2], &[1, 2]));
    assert!(matches!(&err, DataError::BadDims { path, .. } if path.ends_with("t10k-labels-idx1-ubyte")), "{err:?}");
    assert!(err.to_string().contains("expected [3], one label per image"));
}

#[test]
fn truncated_body_names_the_file() {
    let mut short = images();
    short.truncate(short.len() - 5);
    let (err, _) = load_err("truncated", &short, &labels());
    assert!(matches!(err, DataError::Truncated { part: "body", expected: 2352, found: 2347, .. }), "{err:?}");
    assert!(err.to_string().contains("t10k-images-idx3-ubyte: truncated IDX body: expected 2352 bytes, found 2347"));
}

#[test]
fn truncated_gzip_header_names_the_file() {
    let root = temp_dir("gzheader");
    write_split(&root, &images()[..10], &labels(), true);
    let err = Mnist::test(&root).unwrap_err();
    let _ = fs::remove_dir_all(&root);
    assert!(matches!(err, DataError::Truncated { part: "header", expected: 16, found: 10, .. }), "{err:?}");
    assert!(err.to_string().contains("t10k-images-idx3-ubyte.gz"));
}

#[test]
fn trailing_bytes_are_an_error() {
    let mut long = labels();
    long.extend([1, 2]);
    let (err, _) = load_err("trailing", &images(), &long);
    assert!(matches!(err, DataError::TrailingBytes { expected: 3, extra: 2, .. }), "{err:?}");
    assert!(err.to_string().contains("t10k-labels-idx1-ubyte: 2 unexpected bytes"));
}

#[test]
fn a_header_claiming_a_huge_body_is_caught_before_allocating_it() {
    let (err, _) = load_err("huge", &idx(2051, &[u32::MAX, 28, 28], &[0; 100]), &labels());
    assert!(matches!(err, DataError::Truncated { part: "body", found: 100, .. }), "{err:?}");
}

#[test]
fn a_label_above_nine_is_an_error() {
    let (err, _) = load_err("label", &images(), &idx(2049, &[3], &[1, 10, 2]));
    assert!(matches!(err, DataError::BadLabel { index: 1, label: 10, .. }), "{err:?}");
}

#[test]
fn corrupt_gzip_is_an_io_error_naming_the_file() {
    let root = temp_dir("corrupt");
    write_split(&root, &images(), &labels(), true);
    let path = root.join("t10k-images-idx3-ubyte.gz");
    let mut gz = fs::read(&path).unwrap();
    let crc = gz.len() - 8; // the CRC-32 of the uncompressed data, checked at the end
    gz[crc] ^= 0xff;
    fs::write(&path, gz).unwrap();
    let err = Mnist::test(&root).unwrap_err();
    let _ = fs::remove_dir_all(&root);
    assert!(matches!(&err, DataError::Io { path: p, .. } if p == &path), "{err:?}");
    assert!(err.to_string().starts_with(&path.display().to_string()));
}
