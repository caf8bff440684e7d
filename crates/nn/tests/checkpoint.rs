//! Checkpoint files: round trips, atomic writes, and a typed error (never a panic) for
//! every kind of damaged file.

use std::fs;
use std::path::{Path, PathBuf};

use nabla_autograd::manual_seed;
use nabla_nn::checkpoint::{self, CheckpointError, FORMAT_VERSION, MAGIC};
use nabla_nn::{Linear, Module, ModuleExt, StateDict, StateDictError};

/// A fresh directory per test, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("nabla-nn-ckpt-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[derive(Module)]
#[module(crate = "nabla_nn")]
struct Net {
    fc: Linear,
    out: Linear,
}

fn net(seed: u64) -> Net {
    manual_seed(seed);
    Net { fc: Linear::new(3, 4), out: Linear::new_no_bias(4, 2) }
}

/// A saved checkpoint's bytes, for tampering.
fn saved(dir: &TempDir) -> (PathBuf, Vec<u8>) {
    let path = dir.path("model.ckpt");
    net(1).save(&path).unwrap();
    let bytes = fs::read(&path).unwrap();
    (path, bytes)
}

fn load_bytes(path: &Path, bytes: &[u8]) -> CheckpointError {
    fs::write(path, bytes).unwrap();
    let m = net(2);
    let before = m.state_dict();
    let err = m.load(path).unwrap_err();
    assert_eq!(m.state_dict().len(), before.len());
    for (k, v) in &before {
        assert_eq!(m.state_dict()[k].to_vec::<f32>(), v.to_vec::<f32>(), "a failed load changed {k}");
    }
    assert!(err.to_string().contains("model.ckpt"), "errors name the file: {err}");
    err
}

#[test]
fn module_round_trip_gives_identical_values() {
    let dir = TempDir::new("round-trip");
    let path = dir.path("model.ckpt");
    let (a, b) = (net(1), net(2));
    a.save(&path).unwrap();
    b.load(&path).unwrap();
    assert_eq!(a.state_dict().keys().collect::<Vec<_>>(), b.state_dict().keys().collect::<Vec<_>>());
    for (p, q) in a.parameters().iter().zip(b.parameters()) {
        assert_eq!(p.to_vec::<f32>(), q.to_vec::<f32>());
    }
    let header = &fs::read(&path).unwrap()[..12];
    assert_eq!(&header[..8], &MAGIC);
    assert_eq!(u32::from_le_bytes(header[8..12].try_into().unwrap()), FORMAT_VERSION);
}

#[test]
fn files_are_deterministic_and_overwritten_atomically() {
    let dir = TempDir::new("atomic");
    let path = dir.path("model.ckpt");
    let (a, b) = (net(1), net(2));
    a.save(&path).unwrap();
    let first = fs::read(&path).unwrap();
    b.save(&path).unwrap();
    assert_ne!(fs::read(&path).unwrap(), first);
    a.save(&path).unwrap();
    assert_eq!(fs::read(&path).unwrap(), first, "same state, same bytes");
    assert_eq!(dir.entries(), ["model.ckpt"], "no temporary file is left behind");
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let dir = TempDir::new("failed-write");
    let err = net(1).save(dir.path("no-such-dir/model.ckpt")).unwrap_err();
    assert!(matches!(err, CheckpointError::Io { .. }), "{err:?}");
    assert!(dir.entries().is_empty());
}

#[test]
fn a_missing_file_is_an_io_error() {
    let dir = TempDir::new("missing");
    let err = net(1).load(dir.path("nope.ckpt")).unwrap_err();
    assert!(matches!(err, CheckpointError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound));
}

#[test]
fn truncated_file_is_an_error() {
    let dir = TempDir::new("truncated");
    let (path, bytes) = saved(&dir);
    for keep in [bytes.len() - 1, bytes.len() / 2, 30, 12] {
        let err = load_bytes(&path, &bytes[..keep]);
        assert!(
            matches!(err, CheckpointError::Truncated { found, expected, .. } if found == keep as u64 && expected > found),
            "{keep}: {err:?}"
        );
    }
    assert!(matches!(load_bytes(&path, &bytes[..5]), CheckpointError::Truncated { .. }));
    assert!(matches!(load_bytes(&path, &[]), CheckpointError::Truncated { .. }));
}

#[test]
fn flipped_payload_byte_fails_the_checksum() {
    let dir = TempDir::new("flipped");
    let (path, bytes) = saved(&dir);
    for i in [52, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[i] ^= 0x10;
        assert!(matches!(load_bytes(&path, &bad), CheckpointError::ChecksumMismatch { .. }), "byte {i}");
    }
    let mut bad = bytes.clone();
    bad[30] ^= 1; // inside the stored checksum
    assert!(matches!(load_bytes(&path, &bad), CheckpointError::ChecksumMismatch { .. }));
}

#[test]
fn wrong_magic_is_not_a_checkpoint() {
    let dir = TempDir::new("magic");
    let (path, mut bytes) = saved(&dir);
    bytes[0] = b'P';
    assert!(matches!(load_bytes(&path, &bytes), CheckpointError::NotACheckpoint { .. }));
    assert!(matches!(load_bytes(&path, b"PK\x03\x04"), CheckpointError::NotACheckpoint { .. }));
}

#[test]
fn wrong_version_is_unsupported() {
    let dir = TempDir::new("version");
    let (path, mut bytes) = saved(&dir);
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    let err = load_bytes(&path, &bytes);
    assert!(matches!(err, CheckpointError::UnsupportedVersion { found: 7, supported: 1, .. }), "{err:?}");
}

#[test]
fn header_claiming_a_huge_length_is_truncated_not_an_allocation() {
    let dir = TempDir::new("huge");
    let (path, mut bytes) = saved(&dir);
    bytes[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = load_bytes(&path, &bytes);
    assert!(matches!(err, CheckpointError::Truncated { expected: u64::MAX, .. }), "{err:?}");
}

#[test]
fn trailing_bytes_are_corruption() {
    let dir = TempDir::new("trailing");
    let (path, mut bytes) = saved(&dir);
    bytes.extend_from_slice(&[0; 3]);
    assert!(matches!(load_bytes(&path, &bytes), CheckpointError::TrailingBytes { extra: 3, .. }));
}

/// A payload with a valid header and checksum whose inner lengths lie: the decoder's
/// byte limit must stop it before any allocation of the claimed size.
#[test]
fn valid_checksum_over_hostile_payload_is_a_decode_error() {
    use sha2::{Digest, Sha256};
    let dir = TempDir::new("hostile");
    let path = dir.path("model.ckpt");
    // A map of one entry whose key claims u64::MAX / 2 bytes.
    let mut payload = 1u64.to_le_bytes().to_vec();
    payload.extend_from_slice(&(u64::MAX / 2).to_le_bytes());
    payload.extend_from_slice(b"fc.weight");
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(&payload));
    bytes.extend_from_slice(&payload);
    assert!(matches!(load_bytes(&path, &bytes), CheckpointError::Decode { .. }));
}

#[test]
fn mismatched_model_is_a_state_dict_error() {
    let dir = TempDir::new("mismatch");
    let path = dir.path("model.ckpt");
    Linear::new(3, 4).save(&path).unwrap();
    let err = net(1).load(&path).unwrap_err();
    assert!(matches!(err, CheckpointError::StateDict(StateDictError::NoMatchingKeys { .. })), "{err:?}");
    let err = Linear::new(3, 5).load(&path).unwrap_err();
    assert!(matches!(err, CheckpointError::StateDict(StateDictError::Incompatible { .. })), "{err:?}");
}

/// What a training loop saves to resume: model, optimizer-like state, epoch, RNG.
#[derive(serde::Serialize, serde::Deserialize)]
struct TrainState {
    model: StateDict,
    momentum: Vec<Vec<f32>>,
    epoch: u32,
    step: u64,
    rng: nabla_autograd::RngState,
}

#[test]
fn training_checkpoint_round_trips_model_state_epoch_and_rng() {
    let dir = TempDir::new("train-state");
    let path = dir.path("train.ckpt");
    let model = net(5);
    let state = TrainState {
        model: model.state_dict(),
        momentum: vec![vec![0.5; 12]],
        epoch: 3,
        step: 1234,
        rng: nabla_autograd::RngState { seed: 42, counter: 1 << 40 },
    };
    checkpoint::save(&path, &state).unwrap();

    let resumed: TrainState = checkpoint::load(&path).unwrap();
    assert_eq!((resumed.epoch, resumed.step, &resumed.momentum, resumed.rng), (3, 1234, &state.momentum, state.rng));
    let fresh = net(9);
    fresh.load_state_dict(&resumed.model, true).unwrap();
    assert_eq!(fresh.fc.weight.to_vec::<f32>(), model.fc.weight.to_vec::<f32>());

    // Loading it as a plain state dict is a decode error, not garbage or a panic.
    let err = net(1).load(&path).unwrap_err();
    assert!(matches!(err, CheckpointError::Decode { .. }), "{err:?}");
}
