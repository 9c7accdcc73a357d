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

/// One message as features: a dense embedding and sparse n-gram counts.
///
/// The counts are kept packed (`bucket << 8 | count`, sorted by bucket, each bucket once)
/// with the vector's norm, not as `(bucket, f32)` pairs: training holds the features of
/// every example at once, and packed they take half the memory.
#[derive(Clone, Debug)]
pub struct Features {
    pub dense: [f32; DIMENSIONS],
    packed: Vec<u32>,
    norm: f32,
}

/// Counts above this are kept as this (a pasted wall of text, not a message).
const MAX_COUNT: usize = 255;

/// `1 + ln count`, the sublinear weight of an n-gram seen `count` times.
static SUBLINEAR: std::sync::LazyLock<[f32; MAX_COUNT + 1]> =
    std::sync::LazyLock::new(|| std::array::from_fn(|c| if c == 0 { 0.0 } else { 1.0 + (c as f32).ln() }));

impl Features {
    /// The n-gram part as `(bucket, value)`: sublinear counts, L2-normalised, by bucket.
    pub fn sparse(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        let weights = &*SUBLINEAR;
        let norm = self.norm;
        self.packed.iter().map(move |&p| (p >> 8, weights[(p & 0xff) as usize] / norm))
    }
}

/// Features of a normalized message.
pub fn extract(normalized: &str) -> Features {
    let (packed, norm) = ngrams(normalized);
    Features { dense: embed(normalized), packed, norm }
}

/// Hashed n-grams as packed counts, and the norm of their sublinear weights.
fn ngrams(normalized: &str) -> (Vec<u32>, f32) {
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
        char_ngrams(&padded, &mut hashes);
    }
    hashes.sort_unstable();
    let weights = &*SUBLINEAR;
    let mut packed: Vec<u32> = Vec::new();
    let mut squares = 0.0f32;
    let mut i = 0;
    while i < hashes.len() {
        let mut j = i + 1;
        while j < hashes.len() && hashes[j] == hashes[i] {
            j += 1;
        }
        let count = (j - i).min(MAX_COUNT);
        squares += weights[count] * weights[count];
        packed.push(hashes[i] << 8 | count as u32);
        i = j;
    }
    packed.shrink_to_fit();
    let norm = squares.sqrt();
    (packed, if norm > 0.0 { norm } else { 1.0 })
}

/// The character n-grams of one padded word, lengths [`CHAR_NGRAMS`], hashed as
/// [`hash`]`(b'c', gram, b"")` would: each start's grams share their prefix, so the hash
/// is carried from one length to the next instead of restarted.
fn char_ngrams(padded: &[u8], out: &mut Vec<u32>) {
    let (shortest, longest) = (*CHAR_NGRAMS.start(), *CHAR_NGRAMS.end());
    for start in 0..padded.len().saturating_sub(shortest - 1) {
        let mut h = fnv_step(FNV_OFFSET, b'c');
        for (n, &byte) in padded[start..].iter().take(longest).enumerate() {
            h = fnv_step(h, byte);
            if n + 1 >= shortest {
                out.push(fold(fnv_step(h, b' ')));
            }
        }
    }
}

const FNV_OFFSET: u32 = 0x811c_9dc5;

fn fnv_step(h: u32, byte: u8) -> u32 {
    (h ^ u32::from(byte)).wrapping_mul(0x0100_0193)
}

fn fold(h: u32) -> u32 {
    (h ^ (h >> 16)) & (BUCKETS as u32 - 1)
}

/// FNV-1a over a kind tag and up to two parts, folded into [`BUCKETS`]. Fixed (not the
/// standard library's hasher), so a message lands in the same buckets on every build.
fn hash(kind: u8, a: &[u8], b: &[u8]) -> u32 {
    let mut h = FNV_OFFSET;
    for &byte in std::iter::once(&kind).chain(a).chain(std::iter::once(&b' ')).chain(b) {
        h = fnv_step(h, byte);
    }
    fold(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngrams_are_sorted_unique_and_unit_length() {
        let f = extract("ran out of my pins ran out");
        let sparse: Vec<(u32, f32)> = f.sparse().collect();
        assert!(sparse.windows(2).all(|w| w[0].0 < w[1].0));
        let norm: f32 = sparse.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(sparse.iter().all(|(b, _)| (*b as usize) < BUCKETS));
        // "ran out" twice: its word pair counts 2, so it weighs more than a pair seen once.
        let pair = |a: &str, b: &str| sparse.iter().find(|(k, _)| *k == hash(b'p', a.as_bytes(), b.as_bytes())).map(|(_, v)| *v);
        assert!(pair("ran", "out").unwrap() > pair("of", "my").unwrap());
    }

    #[test]
    fn a_misspelling_shares_most_pieces_with_the_word() {
        let dot = |a: &Features, b: &Features| -> f32 {
            let (a, b): (Vec<_>, Vec<_>) = (a.sparse().collect(), b.sparse().collect());
            let (a, b) = (&a, &b);
            let mut s = 0.0;
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                match a[i].0.cmp(&b[j].0) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        s += a[i].1 * b[j].1;
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
        assert_eq!(f.sparse().count(), 0);
    }

    #[test]
    fn carried_hashes_equal_hashing_each_gram_afresh() {
        for word in ["<a>", "<ab>", "<kpins>", "<withdrawl>", "<é>"] {
            let bytes = word.as_bytes();
            let mut carried = Vec::new();
            char_ngrams(bytes, &mut carried);
            let mut afresh: Vec<u32> = CHAR_NGRAMS.flat_map(|n| bytes.windows(n).map(|g| hash(b'c', g, b"")).collect::<Vec<_>>()).collect();
            carried.sort_unstable();
            afresh.sort_unstable();
            assert_eq!(carried, afresh, "{word}");
        }
    }
}
