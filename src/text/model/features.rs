//! What the classifier sees of a message: its sentence embedding and hashed n-grams.
//!
//! The embedding carries meaning ("i bought a rope today" sits near other plans); the
//! n-grams carry spelling (characters 2 to 5 inside each word, so "withdrawl" and "kpins"
//! share most of their pieces with the words they stand for) and short phrases (word
//! pairs: "ran out", "cold turkey"). Both parts are unit length, so neither drowns the other.

use super::embedding::{embed, DIMENSIONS};

/// Size of the hashed n-gram space (a power of two; 2^16 scored the same in cross-validation
/// and costs twice the memory).
pub const BUCKETS: usize = 1 << 15;

/// Character n-gram lengths, inside word boundaries.
const CHAR_NGRAMS: std::ops::RangeInclusive<usize> = 2..=5;

/// One message as features: a dense embedding and sparse `(bucket, value)` pairs, sorted
/// by bucket, each bucket once.
#[derive(Clone, Debug)]
pub struct Features {
    pub dense: [f32; DIMENSIONS],
    pub sparse: Vec<(u32, f32)>,
}

/// Features of a normalized message.
pub fn extract(normalized: &str) -> Features {
    Features { dense: embed(normalized), sparse: ngrams(normalized) }
}

/// Hashed n-grams with sublinear counts (1 + ln count), L2-normalised.
fn ngrams(normalized: &str) -> Vec<(u32, f32)> {
    let mut hashes: Vec<u32> = Vec::with_capacity(normalized.len() * 5);
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    let mut padded: Vec<u8> = Vec::with_capacity(64);
    for (i, word) in words.iter().enumerate() {
        hashes.push(hash(b'w', word.as_bytes(), b""));
        if let Some(next) = words.get(i + 1) {
            hashes.push(hash(b'p', word.as_bytes(), next.as_bytes()));
        }
        padded.clear();
        padded.push(b'<');
        padded.extend_from_slice(word.as_bytes());
        padded.push(b'>');
        for n in CHAR_NGRAMS {
            for gram in padded.windows(n) {
                hashes.push(hash(b'c', gram, b""));
            }
        }
    }
    hashes.sort_unstable();
    let mut sparse: Vec<(u32, f32)> = Vec::with_capacity(hashes.len());
    let mut i = 0;
    while i < hashes.len() {
        let mut j = i + 1;
        while j < hashes.len() && hashes[j] == hashes[i] {
            j += 1;
        }
        sparse.push((hashes[i], 1.0 + ((j - i) as f32).ln()));
        i = j;
    }
    let norm = sparse.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, v) in &mut sparse {
            *v /= norm;
        }
    }
    sparse
}

/// FNV-1a over a kind tag and up to two parts, folded into [`BUCKETS`]. Fixed (not the
/// standard library's hasher), so a message lands in the same buckets on every build.
fn hash(kind: u8, a: &[u8], b: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &byte in std::iter::once(&kind).chain(a).chain(std::iter::once(&b' ')).chain(b) {
        h ^= u32::from(byte);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h ^ (h >> 16)) & (BUCKETS as u32 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngrams_are_sorted_unique_and_unit_length() {
        let f = extract("ran out of my pins ran out");
        assert!(f.sparse.windows(2).all(|w| w[0].0 < w[1].0));
        let norm: f32 = f.sparse.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(f.sparse.iter().all(|(b, _)| (*b as usize) < BUCKETS));
    }

    #[test]
    fn a_misspelling_shares_most_pieces_with_the_word() {
        let dot = |a: &Features, b: &Features| -> f32 {
            let mut s = 0.0;
            let (mut i, mut j) = (0, 0);
            while i < a.sparse.len() && j < b.sparse.len() {
                match a.sparse[i].0.cmp(&b.sparse[j].0) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        s += a.sparse[i].1 * b.sparse[j].1;
                        i += 1;
                        j += 1;
                    }
                }
            }
            s
        };
        let right = extract("withdrawal");
        let typo = extract("withdrawl");
        let other = extract("pregnancy");
        assert!(dot(&right, &typo) > 0.5, "{}", dot(&right, &typo));
        assert!(dot(&right, &other) < 0.2);
    }

    #[test]
    fn empty_text_has_no_features() {
        let f = extract("");
        assert!(f.sparse.is_empty());
    }
}
