//! Checkpoint files: any serde value (a state dict, or a training checkpoint holding
//! the model, optimizer and scheduler state, the epoch and the RNG state) behind a
//! magic header, a format version and a checksum, written atomically.
//!
//! # Format (version 1)
//!
//! | bytes | content |
//! | --- | --- |
//! | 8 | magic `NABLACKP` |
//! | 4 | format version, `u32` little-endian |
//! | 8 | payload length in bytes, `u64` little-endian |
//! | 32 | SHA-256 of the payload |
//! | n | payload: bincode 1.x, little-endian, fixed-width integers |
//!
//! A file is written to a temporary file in the same directory, flushed to disk and
//! renamed over the target, so a crash never leaves a half-written checkpoint. Loading
//! checks the header, the length and the checksum before decoding, and decodes with a
//! byte limit equal to the payload length, so a corrupt or hostile file gives a
//! [`CheckpointError`], never a panic or a huge allocation.
//!
//! ```
//! use nabla_nn::{checkpoint, Linear, ModuleExt, StateDict};
//! use nabla_tensor::{rng_state, set_rng_state, RngState};
//!
//! /// What a training loop saves to resume exactly.
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct TrainState {
//!     model: StateDict,
//!     epoch: u32,
//!     rng: RngState,
//!     // optimizer: <the optimizer's serde state>, scheduler: ...
//! }
//!
//! let dir = std::env::temp_dir().join(format!("nabla-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("train.ckpt");
//! let model = Linear::new(3, 2);
//! let state = TrainState { model: model.state_dict(), epoch: 4, rng: rng_state() };
//! checkpoint::save(&path, &state)?;
//!
//! let resumed: TrainState = checkpoint::load(&path)?;
//! model.load_state_dict(&resumed.model, true)?;
//! set_rng_state(resumed.rng);
//! assert_eq!(resumed.epoch, 4);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::state_dict::StateDictError;

/// The first bytes of every checkpoint file.
pub const MAGIC: [u8; 8] = *b"NABLACKP";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Magic, version, payload length, checksum.
const HEADER_LEN: usize = 8 + 4 + 8 + 32;

/// Why a checkpoint could not be saved or loaded.
#[derive(Debug)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Reading or writing the file failed.
    Io {
        /// The checkpoint's path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file does not start with the checkpoint magic bytes.
    NotACheckpoint {
        /// The file's path.
        path: PathBuf,
    },
    /// The file was written in a format version this build cannot read.
    UnsupportedVersion {
        /// The file's path.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The file is shorter than its header says (an interrupted copy, or a corrupt
    /// length field).
    Truncated {
        /// The file's path.
        path: PathBuf,
        /// The length the header requires, in bytes (saturating).
        expected: u64,
        /// The file's length.
        found: u64,
    },
    /// The file is longer than its header says.
    TrailingBytes {
        /// The file's path.
        path: PathBuf,
        /// How many bytes follow the payload.
        extra: u64,
    },
    /// The payload's SHA-256 differs from the header's: the file is corrupt.
    ChecksumMismatch {
        /// The file's path.
        path: PathBuf,
    },
    /// The payload is intact but does not decode as the requested type (for example a
    /// training checkpoint loaded as a plain state dict).
    Decode {
        /// The file's path.
        path: PathBuf,
        /// The decoder's message.
        message: String,
    },
    /// The value could not be serialised.
    Encode {
        /// The checkpoint's path.
        path: PathBuf,
        /// The encoder's message.
        message: String,
    },
    /// The file is a valid checkpoint but does not fit the model.
    StateDict(StateDictError),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Io { path, source } => write!(f, "checkpoint {}: {source}", path.display()),
            CheckpointError::NotACheckpoint { path } => {
                write!(f, "checkpoint {}: not a nabla checkpoint (wrong magic bytes)", path.display())
            }
            CheckpointError::UnsupportedVersion { path, found, supported } => write!(
                f,
                "checkpoint {}: format version {found} is not supported (this build reads version {supported})",
                path.display()
            ),
            CheckpointError::Truncated { path, expected, found } => write!(
                f,
                "checkpoint {}: truncated: the header needs {expected} bytes but the file has {found}",
                path.display()
            ),
            CheckpointError::TrailingBytes { path, extra } => {
                write!(f, "checkpoint {}: corrupt: {extra} unexpected bytes after the payload", path.display())
            }
            CheckpointError::ChecksumMismatch { path } => {
                write!(f, "checkpoint {}: corrupt: the payload does not match its checksum", path.display())
            }
            CheckpointError::Decode { path, message } => {
                write!(f, "checkpoint {}: the payload does not decode as the requested type: {message}", path.display())
            }
            CheckpointError::Encode { path, message } => {
                write!(f, "checkpoint {}: cannot serialise the value: {message}", path.display())
            }
            CheckpointError::StateDict(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckpointError::Io { source, .. } => Some(source),
            CheckpointError::StateDict(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StateDictError> for CheckpointError {
    fn from(e: StateDictError) -> Self {
        CheckpointError::StateDict(e)
    }
}

/// The bincode configuration of format version 1.
fn options() -> impl Options {
    bincode::DefaultOptions::new().with_little_endian().with_fixint_encoding()
}

/// Writes `value` to `path` atomically (temporary file, fsync, rename).
pub fn save<T: Serialize + ?Sized>(path: impl AsRef<Path>, value: &T) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    write_atomically(path, &mut |w| options().serialize_into(w, value)).map_err(|e| match e {
        WriteError::Io(source) => CheckpointError::Io { path: path.to_path_buf(), source },
        WriteError::Encode(e) => CheckpointError::Encode { path: path.to_path_buf(), message: e.to_string() },
    })
}

/// Reads a value written by [`save`], checking magic, version, length and checksum.
pub fn load<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<T, CheckpointError> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| CheckpointError::Io { path: path.to_path_buf(), source })?;
    let payload = verified_payload(path, &bytes)?;
    options()
        .with_limit(payload.len() as u64)
        .deserialize(payload)
        .map_err(|e| CheckpointError::Decode { path: path.to_path_buf(), message: e.to_string() })
}

/// The payload of a checkpoint file's bytes, after checking everything around it.
fn verified_payload<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a [u8], CheckpointError> {
    let path = || path.to_path_buf();
    let truncated = |expected: u64| CheckpointError::Truncated { path: path(), expected, found: bytes.len() as u64 };
    let magic_len = MAGIC.len().min(bytes.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(CheckpointError::NotACheckpoint { path: path() });
    }
    if bytes.len() < HEADER_LEN {
        return Err(truncated(HEADER_LEN as u64));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(CheckpointError::UnsupportedVersion { path: path(), found: version, supported: FORMAT_VERSION });
    }
    let claimed = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let available = (bytes.len() - HEADER_LEN) as u64;
    if claimed > available {
        return Err(truncated(claimed.saturating_add(HEADER_LEN as u64)));
    }
    if claimed < available {
        return Err(CheckpointError::TrailingBytes { path: path(), extra: available - claimed });
    }
    let payload = &bytes[HEADER_LEN..];
    if Sha256::digest(payload).as_slice() != &bytes[20..HEADER_LEN] {
        return Err(CheckpointError::ChecksumMismatch { path: path() });
    }
    Ok(payload)
}

enum WriteError {
    Io(io::Error),
    Encode(bincode::Error),
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// Counts and hashes the payload on its way to the file, so it is never held in
/// memory whole.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

type PayloadWriter<'a> = HashingWriter<&'a mut BufWriter<File>>;

/// Writes header and payload to a temporary file next to `path`, then renames it over
/// `path`. The temporary file is removed if anything fails.
fn write_atomically(
    path: &Path,
    payload: &mut dyn FnMut(&mut PayloadWriter<'_>) -> Result<(), bincode::Error>,
) -> Result<(), WriteError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the checkpoint path has no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.{}.tmp", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
    let tmp = path.with_file_name(tmp_name);
    let result = write_file(&tmp, payload).and_then(|()| Ok(fs::rename(&tmp, path)?));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_parent_dir(path);
    Ok(())
}

fn write_file(
    tmp: &Path,
    payload: &mut dyn FnMut(&mut PayloadWriter<'_>) -> Result<(), bincode::Error>,
) -> Result<(), WriteError> {
    let mut file = BufWriter::new(File::create(tmp)?);
    // Magic and version now; length and checksum once the payload has been written.
    file.write_all(&MAGIC)?;
    file.write_all(&FORMAT_VERSION.to_le_bytes())?;
    file.write_all(&[0; HEADER_LEN - 12])?;
    let mut w = HashingWriter { inner: &mut file, hasher: Sha256::new(), len: 0 };
    payload(&mut w).map_err(|e| match *e {
        bincode::ErrorKind::Io(e) => WriteError::Io(e),
        _ => WriteError::Encode(e),
    })?;
    let (len, digest) = (w.len, w.hasher.finalize());
    file.seek(SeekFrom::Start(12))?;
    file.write_all(&len.to_le_bytes())?;
    file.write_all(&digest)?;
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(())
}

/// Makes the rename durable where the platform allows (best effort: a failure here
/// cannot corrupt the file, only lose the rename in a power cut).
fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
