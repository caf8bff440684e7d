//! Seeded, reproducible random numbers.
//!
//! The generator is counter-based: element `i` of a draw is a hash of the seed and of
//! a global counter value, so a parallel fill gives the same numbers on any number of
//! threads, and the whole generator state is two integers (easy to checkpoint).

use std::sync::Mutex;

static STATE: Mutex<RngState> = Mutex::new(RngState { seed: DEFAULT_SEED, counter: 0 });
const DEFAULT_SEED: u64 = 0x006e_6162_6c61;

/// The complete state of the global generator; save it to resume a run exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RngState {
    /// The seed given to [`manual_seed`].
    pub seed: u64,
    /// How many random words have been drawn since.
    pub counter: u64,
}

/// Seeds the global generator; later draws are identical for the same seed.
///
/// ```
/// use nabla_tensor::{manual_seed, NdArray, DType};
/// manual_seed(7);
/// let a = NdArray::randn(&[3], DType::F32);
/// manual_seed(7);
/// assert_eq!(a.to_vec::<f32>(), NdArray::randn(&[3], DType::F32).to_vec::<f32>());
/// ```
pub fn manual_seed(seed: u64) {
    set_rng_state(RngState { seed, counter: 0 });
}

/// The current generator state.
pub fn rng_state() -> RngState {
    *STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Restores a state returned by [`rng_state`].
pub fn set_rng_state(state: RngState) {
    *STATE.lock().unwrap_or_else(|e| e.into_inner()) = state;
}

/// A reserved block of `n` random words: word `i` is `stream.word(i)`.
#[derive(Clone, Copy, Debug)]
pub struct RandomStream {
    key: u64,
    start: u64,
}

/// Reserves `n` consecutive words of the global stream.
pub fn reserve(n: u64) -> RandomStream {
    let mut s = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let start = s.counter;
    s.counter = s.counter.wrapping_add(n);
    RandomStream { key: mix(s.seed ^ 0x5851_f42d_4c95_7f2d), start }
}

/// SplitMix64's finaliser: a bijective avalanche hash.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl RandomStream {
    /// The `i`-th 64-bit word of this block.
    #[inline]
    pub fn word(&self, i: u64) -> u64 {
        mix(self.key.wrapping_add(self.start.wrapping_add(i).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
    }

    /// A uniform `f64` in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn uniform(&self, i: u64) -> f64 {
        (self.word(i) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal value (Box-Muller over words `2i` and `2i + 1`).
    #[inline]
    pub fn normal(&self, i: u64) -> f64 {
        let u1 = 1.0 - self.uniform(2 * (i / 2));
        let u2 = self.uniform(2 * (i / 2) + 1);
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        if i.is_multiple_of(2) {
            r * theta.cos()
        } else {
            r * theta.sin()
        }
    }

    /// A uniform integer in `0..n` (`n > 0`), by multiply-shift.
    #[inline]
    pub fn below(&self, i: u64, n: u64) -> u64 {
        ((self.word(i) as u128 * n as u128) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_moments_are_standard() {
        let s = RandomStream { key: 1, start: 0 };
        let n = 200_000;
        let (mut m, mut v) = (0.0, 0.0);
        for i in 0..n {
            let x = s.normal(i);
            m += x;
            v += x * x;
        }
        m /= n as f64;
        v = v / n as f64 - m * m;
        assert!(m.abs() < 0.01, "mean {m}");
        assert!((v - 1.0).abs() < 0.02, "var {v}");
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let s = RandomStream { key: 9, start: 5 };
        let mut hit = [false; 7];
        for i in 0..1000 {
            let x = s.below(i, 7) as usize;
            hit[x] = true;
        }
        assert!(hit.iter().all(|&h| h));
    }
}
