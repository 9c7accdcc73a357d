//! Bounded edit distance for typo tolerance, tuned for short words and no allocation.

/// Longest word compared; longer tokens are not typos of anything we look for.
const MAX_LEN: usize = 31;

/// Optimal-string-alignment distance between `a` and `b` (insertions, deletions,
/// substitutions and swaps of neighbours each cost 1) if it is at most `max`.
pub fn distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > max || a.len() > MAX_LEN || b.len() > MAX_LEN {
        return None;
    }
    let mut before = [0usize; MAX_LEN + 1];
    let mut prev: [usize; MAX_LEN + 1] = std::array::from_fn(|j| j);
    let mut row = [0usize; MAX_LEN + 1];
    for i in 1..=a.len() {
        row[0] = i;
        let mut row_min = row[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            row[j] = best;
            row_min = row_min.min(best);
        }
        if row_min > max {
            return None;
        }
        before = prev;
        prev = row;
    }
    Some(prev[b.len()]).filter(|d| *d <= max)
}

/// How many typos a word of this length may carry and still be recognised: none for short
/// words (too many real words lie one letter apart), one from five letters, two from nine.
pub fn allowed_typos(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let cases = [
            ("withdrawal", "withdrawal", 2, Some(0)),
            ("withdrawl", "withdrawal", 2, Some(1)),
            ("widthdrawal", "withdrawal", 2, Some(1)),
            ("overdoes", "overdose", 1, Some(1)),
            ("ovredose", "overdose", 1, Some(1)),
            ("overcome", "overdose", 1, None),
            ("clonidine", "clonazepam", 2, None),
            ("klonipin", "klonopin", 1, Some(1)),
            ("", "abc", 3, Some(3)),
            ("abc", "", 2, None),
        ];
        for (a, b, max, expected) in cases {
            assert_eq!(distance_within(a, b, max), expected, "{a} ~ {b}");
        }
    }
}
