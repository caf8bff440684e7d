//! Seeded permutations, shared by the loader's shuffle, `random_split` and the digits split.
//!
//! The permutation is a pure function of `(n, seed)`: word `i` of a SplitMix64-style
//! counter hash picks the swap partner of position `i` in a Fisher-Yates shuffle. Not
//! using the global generator here is what lets an explicit seed reproduce an order no
//! matter what else the program draws.

/// SplitMix64's finaliser: a bijective avalanche hash.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniformly random permutation of `0..n` determined by `seed`.
pub(crate) fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let key = mix(seed ^ 0x6e61_626c_612d_6461);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let word = mix(key.wrapping_add((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        // Multiply-shift maps the word to 0..=i without modulo bias worth measuring.
        let j = ((word as u128 * (i as u128 + 1)) >> 64) as usize;
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_permutation_and_depends_on_the_seed() {
        let a = permutation(1000, 1);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        assert_eq!(a, permutation(1000, 1));
        assert_ne!(a, permutation(1000, 2));
        assert!(permutation(0, 5).is_empty());
    }

    #[test]
    fn every_position_is_roughly_uniform() {
        // Where element 0 lands over many seeds: each of 4 slots about a quarter.
        let mut counts = [0usize; 4];
        for seed in 0..4000 {
            counts[permutation(4, seed).iter().position(|&v| v == 0).unwrap()] += 1;
        }
        assert!(counts.iter().all(|&c| (850..1150).contains(&c)), "{counts:?}");
    }
}
