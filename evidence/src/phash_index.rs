//! An index of 64-bit perceptual hashes that answers "every hash within Hamming distance `d`"
//! without comparing against every entry: multi-index hashing (Norouzi, Punjani and Fleet,
//! "Fast Search in Hamming Space with Multi-Index Hashing", CVPR 2012).
//!
//! Each hash is split into four 16-bit bands, each with a table from band value to entries. Two
//! hashes within distance `d` differ in at most `d / 4` bits of at least one band (pigeonhole),
//! so a query looks up, in each band, every value within `d / 4` bits of its own (697 values at
//! the default warn distance of 14), and checks the full distance of the entries found there.

use std::collections::HashMap;

use crate::PerceptualHash;

const BANDS: usize = 4;
const BAND_BITS: u32 = 16;

/// Perceptual hashes with a value each, searchable by Hamming distance.
#[derive(Debug, Clone)]
pub struct PhashIndex<T> {
    entries: Vec<(PerceptualHash, T)>,
    bands: [HashMap<u16, Vec<u32>>; BANDS],
}

impl<T> Default for PhashIndex<T> {
    fn default() -> Self {
        Self { entries: Vec::new(), bands: Default::default() }
    }
}

fn band(h: PerceptualHash, b: usize) -> u16 {
    (h.0 >> (BAND_BITS as usize * b)) as u16
}

impl<T> PhashIndex<T> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds an entry.
    ///
    /// # Panics
    /// Past 2^32 entries.
    pub fn insert(&mut self, hash: PerceptualHash, value: T) {
        let id = u32::try_from(self.entries.len()).expect("fewer than 2^32 perceptual hashes");
        for (b, table) in self.bands.iter_mut().enumerate() {
            table.entry(band(hash, b)).or_default().push(id);
        }
        self.entries.push((hash, value));
    }

    /// Every entry within `max_distance` bits of `hash`, in insertion order, with its distance.
    pub fn within(&self, hash: PerceptualHash, max_distance: u32) -> Vec<(u32, &PerceptualHash, &T)> {
        let radius = (max_distance / BANDS as u32).min(BAND_BITS);
        let mut ids: Vec<u32> = Vec::new();
        for (b, table) in self.bands.iter().enumerate() {
            let own = band(hash, b);
            for_each_within(own, radius, |v| {
                if let Some(found) = table.get(&v) {
                    ids.extend_from_slice(found);
                }
            });
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| {
                let (h, v) = &self.entries[id as usize];
                let d = h.distance(hash);
                (d <= max_distance).then_some((d, h, v))
            })
            .collect()
    }
}

/// Calls `f` with every 16-bit value within `radius` bits of `value`.
fn for_each_within(value: u16, radius: u32, mut f: impl FnMut(u16)) {
    fn flip(value: u16, from_bit: u32, left: u32, f: &mut dyn FnMut(u16)) {
        f(value);
        if left == 0 {
            return;
        }
        for bit in from_bit..BAND_BITS {
            flip(value ^ (1 << bit), bit + 1, left - 1, f);
        }
    }
    flip(value, 0, radius, &mut f);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn neighbourhoods_have_the_binomial_sizes() {
        for (radius, size) in [(0, 1), (1, 17), (2, 137), (3, 697)] {
            let mut seen = std::collections::HashSet::new();
            for_each_within(0xa5c3, radius, |v| {
                assert!((v ^ 0xa5c3).count_ones() <= radius);
                seen.insert(v);
            });
            assert_eq!(seen.len(), size, "radius {radius}");
        }
    }

    proptest! {
        /// The index finds exactly what a scan finds, for random hashes and for clusters of
        /// near-duplicates around a few originals.
        #[test]
        fn finds_what_a_scan_finds(
            seeds in proptest::collection::vec(any::<u64>(), 1..40),
            flips in proptest::collection::vec((0usize..40, any::<u64>(), 0u32..24), 0..400),
            query_flips in any::<u64>(),
            query_bits in 0u32..24,
            from in any::<usize>(),
            max_distance in 0u32..30,
        ) {
            // Flip `n` pseudo-random bits of `h`, driven by `r`.
            let flip = |mut h: u64, mut r: u64, n: u32| {
                for _ in 0..n {
                    h ^= 1 << (r % 64);
                    r = r.rotate_left(7).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d;
                }
                h
            };
            let mut hashes: Vec<u64> = seeds.clone();
            hashes.extend(flips.iter().map(|(i, r, n)| flip(seeds[i % seeds.len()], *r, *n)));
            let mut index = PhashIndex::new();
            for (i, h) in hashes.iter().enumerate() {
                index.insert(PerceptualHash(*h), i);
            }
            let query = PerceptualHash(flip(hashes[from % hashes.len()], query_flips, query_bits));
            let found: Vec<usize> = index.within(query, max_distance).into_iter().map(|(_, _, i)| *i).collect();
            let scanned: Vec<usize> = (0..hashes.len())
                .filter(|i| (hashes[*i] ^ query.0).count_ones() <= max_distance)
                .collect();
            prop_assert_eq!(found, scanned);
        }
    }
}
