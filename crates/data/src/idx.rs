//! Reading IDX files (the MNIST format), plain or gzip-compressed.
//!
//! IDX: a big-endian `u32` magic number `0x0000_TTNN` (type `TT`, 0x08 for unsigned
//! bytes, and `NN` dimensions), one big-endian `u32` per dimension, then the values.
//!
//! Sizes in the header are never trusted for allocation: the body is read through
//! `Read::take`, so the buffer grows only with bytes actually present (a corrupt header
//! claiming terabytes costs nothing), and it is compared with the declared size after.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use crate::error::DataError;

/// The header's dimensions and the body's bytes of an unsigned-byte IDX file.
#[derive(Debug)]
pub(crate) struct Idx {
    pub(crate) dims: Vec<usize>,
    pub(crate) data: Vec<u8>,
}

/// Reads the IDX file at `path` (gzip-compressed or not, detected from its first bytes),
/// which must start with `magic`.
pub(crate) fn read_idx(path: &Path, magic: u32) -> Result<Idx, DataError> {
    let io_err = |e| DataError::io(path, e);
    let file = File::open(path).map_err(io_err)?;
    let file_len = file.metadata().map_err(io_err)?.len();
    let mut reader = BufReader::new(file);
    if reader.fill_buf().map_err(io_err)?.starts_with(&[0x1f, 0x8b]) {
        parse(MultiGzDecoder::new(reader), path, magic, None)
    } else {
        parse(reader, path, magic, Some(file_len))
    }
}

/// Parses an IDX stream; `file_len`, when known (uncompressed files), only sizes the
/// buffer up front.
fn parse(mut r: impl Read, path: &Path, magic: u32, file_len: Option<u64>) -> Result<Idx, DataError> {
    let io_err = |e| DataError::io(path, e);
    let truncated = |part, expected: usize, found: usize| DataError::Truncated {
        path: path.to_path_buf(),
        part,
        expected: expected as u64,
        found: found as u64,
    };
    let mut word = [0u8; 4];
    let got = read_full(&mut r, &mut word).map_err(io_err)?;
    if got < 4 {
        return Err(truncated("header", 4, got));
    }
    let found = u32::from_be_bytes(word);
    if found != magic {
        return Err(DataError::BadMagic { path: path.to_path_buf(), expected: magic, found });
    }
    let ndim = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndim;
    let mut dims = Vec::with_capacity(ndim);
    for i in 0..ndim {
        let got = read_full(&mut r, &mut word).map_err(io_err)?;
        if got < 4 {
            return Err(truncated("header", header_len, 4 + 4 * i + got));
        }
        dims.push(u32::from_be_bytes(word) as usize);
    }
    let body_len = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(|| DataError::BadDims {
        path: path.to_path_buf(),
        dims: dims.clone(),
        expected: "a size that fits in memory".into(),
    })?;
    let mut data = Vec::new();
    if let Some(len) = file_len {
        // Bounded by the file's real length, so a lying header cannot over-allocate.
        data.reserve_exact(body_len.min(len.saturating_sub(header_len as u64) as usize));
    }
    (&mut r).take(body_len as u64).read_to_end(&mut data).map_err(io_err)?;
    if data.len() < body_len {
        return Err(truncated("body", body_len, data.len()));
    }
    let extra = io::copy(&mut r, &mut io::sink()).map_err(io_err)?;
    if extra > 0 {
        return Err(DataError::TrailingBytes { path: path.to_path_buf(), expected: body_len as u64, extra });
    }
    Ok(Idx { dims, data })
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(bytes: &[u8]) -> Result<Idx, DataError> {
        parse(bytes, Path::new("mem.idx"), 2049, Some(bytes.len() as u64))
    }

    #[test]
    fn parses_a_label_file() {
        let got = idx(&[0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]).unwrap();
        assert_eq!((got.dims, got.data), (vec![3], vec![7, 8, 9]));
    }

    #[test]
    fn a_header_claiming_huge_sizes_is_rejected_without_allocating_them() {
        let err = idx(&[0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff, 1, 2]).unwrap_err();
        assert!(matches!(err, DataError::Truncated { part: "body", expected: 0xffff_ffff, found: 2, .. }), "{err}");
    }

    #[test]
    fn short_header() {
        let err = idx(&[0, 0, 8, 1, 0, 0]).unwrap_err();
        assert!(matches!(err, DataError::Truncated { part: "header", expected: 8, found: 6, .. }), "{err}");
    }
}
