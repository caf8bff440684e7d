//! Downloading a gzip file from a list of mirrors, verified by the SHA-256 of its
//! uncompressed bytes, and written atomically.
//!
//! HTTP goes through `ureq` (rustls for https): the primary MNIST mirror is https-only,
//! which a hand-written HTTP/1.1 client could not reach.

use std::fs;
use std::io::{self, BufRead, Write};
use std::path::Path;
use std::time::Duration;

use flate2::bufread::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::error::DataError;

/// Larger than any file fetched here (MNIST's largest is 9.9 MB); a response over it is
/// an error rather than an unbounded allocation.
const MAX_BODY: u64 = 64 << 20;

/// The SHA-256 (lower-case hex) of the gzip stream `gz` once decompressed.
pub(crate) fn sha256_of_gunzipped(gz: impl BufRead) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut MultiGzDecoder::new(gz), &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Fetches `file` from the first of `mirrors` (base URLs) that serves bytes whose
/// uncompressed SHA-256 is `sha256`, and writes them to `dir/file`.
pub(crate) fn fetch_verified(dir: &Path, file: &str, sha256: &str, mirrors: &[&str]) -> Result<(), DataError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let mut attempts = Vec::new();
    for base in mirrors {
        let url = format!("{}/{file}", base.trim_end_matches('/'));
        match fetch_one(&agent, &url, sha256) {
            Ok(bytes) => return write_atomically(&dir.join(file), &bytes),
            Err(e) => attempts.push(e),
        }
    }
    Err(DataError::Download { file: file.to_string(), attempts })
}

/// GETs `url` and checks the checksum of its decompressed body.
fn fetch_one(agent: &ureq::Agent, url: &str, sha256: &str) -> Result<Vec<u8>, DataError> {
    let http = |e: ureq::Error| DataError::Http { url: url.to_string(), reason: e.to_string() };
    let mut response = agent.get(url).call().map_err(http)?;
    let bytes = response.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(http)?;
    let found =
        sha256_of_gunzipped(&bytes[..]).unwrap_or_else(|e| format!("(none: the body is not valid gzip data: {e})"));
    if found != sha256 {
        return Err(DataError::Checksum { url: url.to_string(), expected: sha256.to_string(), found });
    }
    Ok(bytes)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place, so
/// `path` is either absent or complete even if the process dies mid-write.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .map_err(|e| DataError::io(&tmp, e));
    let renamed = written.and_then(|()| fs::rename(&tmp, path).map_err(|e| DataError::io(path, e)));
    if renamed.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    renamed
}
