//! `DataError`: everything that can go wrong reading, downloading or configuring data.
//!
//! Indexing a dataset out of range is a programming error and panics (as slicing does);
//! anything that touches files, the network or user-supplied configuration returns a
//! `DataError`, whose message names the file, URL or option involved.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// An error from loading, downloading or configuring data.
#[derive(Debug)]
#[non_exhaustive]
pub enum DataError {
    /// Reading or writing `path` failed (this includes a corrupt gzip stream).
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A data file is in none of the places it is looked for.
    NotFound {
        /// The file name, e.g. `train-images-idx3-ubyte`.
        file: String,
        /// Every path that was tried.
        searched: Vec<PathBuf>,
    },
    /// An IDX file starts with the wrong magic number.
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number this file must have (2051 for images, 2049 for labels).
        expected: u32,
        /// The magic number found.
        found: u32,
    },
    /// An IDX file's dimensions are not what the data set needs.
    BadDims {
        /// The file.
        path: PathBuf,
        /// The dimensions its header declares.
        dims: Vec<usize>,
        /// What was expected, in words (e.g. `[n, 28, 28]`).
        expected: String,
    },
    /// A file ends before its header says it should.
    Truncated {
        /// The file.
        path: PathBuf,
        /// Which part is short: `"header"` or `"body"`.
        part: &'static str,
        /// Bytes the header (or the format) requires.
        expected: u64,
        /// Bytes actually present.
        found: u64,
    },
    /// A file has bytes after the body its header declares.
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// The body length the header declares.
        expected: u64,
        /// How many bytes follow it.
        extra: u64,
    },
    /// A label outside `0..=9` in a label file.
    BadLabel {
        /// The file.
        path: PathBuf,
        /// The sample index.
        index: usize,
        /// The value found.
        label: u8,
    },
    /// A line of a text file (TSV, vocabulary) is malformed.
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based line number (0 when the problem is not one line's).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An HTTP request failed (connection, status code or body).
    Http {
        /// The URL requested.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Downloaded data does not have the published SHA-256.
    Checksum {
        /// Where the data came from.
        url: String,
        /// The published SHA-256 (hex) of the uncompressed file.
        expected: String,
        /// The SHA-256 (hex) of what was received, uncompressed.
        found: String,
    },
    /// A file could not be downloaded from any mirror; one error per mirror tried.
    Download {
        /// The file name.
        file: String,
        /// What went wrong at each mirror, in the order tried.
        attempts: Vec<DataError>,
    },
    /// An invalid or conflicting configuration (loader options, split lengths, shapes).
    InvalidConfig {
        /// The type or function that rejected it, e.g. `"DataLoader"`.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        DataError::Io { path: path.into(), source }
    }

    pub(crate) fn config(what: &'static str, reason: impl Into<String>) -> Self {
        DataError::InvalidConfig { what, reason: reason.into() }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            DataError::NotFound { file, searched } => {
                write!(f, "{file} not found; looked for:")?;
                for p in searched {
                    write!(f, " {}", p.display())?;
                }
                write!(f, " (set NABLA_DATA to the data folder, or call Mnist::download)")
            }
            DataError::BadMagic { path, expected, found } => {
                write!(f, "{}: bad IDX magic number {found} (expected {expected})", path.display())
            }
            DataError::BadDims { path, dims, expected } => {
                write!(f, "{}: IDX dimensions {dims:?}, expected {expected}", path.display())
            }
            DataError::Truncated { path, part, expected, found } => {
                write!(f, "{}: truncated IDX {part}: expected {expected} bytes, found {found}", path.display())
            }
            DataError::TrailingBytes { path, expected, extra } => write!(
                f,
                "{}: {extra} unexpected bytes after the {expected}-byte body the IDX header declares",
                path.display()
            ),
            DataError::BadLabel { path, index, label } => {
                write!(f, "{}: label {label} at index {index} is not a digit 0..=9", path.display())
            }
            DataError::Parse { path, line: 0, reason } => write!(f, "{}: {reason}", path.display()),
            DataError::Parse { path, line, reason } => write!(f, "{}:{line}: {reason}", path.display()),
            DataError::Http { url, reason } => write!(f, "GET {url}: {reason}"),
            DataError::Checksum { url, expected, found } => {
                write!(f, "{url}: SHA-256 mismatch of the uncompressed data: expected {expected}, got {found}")
            }
            DataError::Download { file, attempts } => {
                write!(f, "could not download {file} from any mirror")?;
                for (i, e) in attempts.iter().enumerate() {
                    write!(f, "; [{}] {e}", i + 1)?;
                }
                Ok(())
            }
            DataError::InvalidConfig { what, reason } => write!(f, "{what}: {reason}"),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
