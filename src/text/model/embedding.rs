//! Static sentence embeddings distilled from all-MiniLM-L6-v2, built into the binary.
//!
//! The asset (`assets/embeddings/`, made by `tools/distill-embeddings/distill.py`) is one
//! int8 row of [`DIMENSIONS`] numbers per WordPiece token; a sentence is the weighted mean of
//! its tokens' rows, L2-normalised. `model2vec-rs` (local files only, no hub) tokenizes and
//! pools: a few microseconds per message, no transformer at run time.

use std::sync::LazyLock;

use model2vec_rs::model::StaticModel;

/// Width of a sentence embedding.
pub const DIMENSIONS: usize = 256;

static TOKENIZER: &[u8] = include_bytes!("../../../assets/embeddings/tokenizer.json");
static TABLE: &[u8] = include_bytes!("../../../assets/embeddings/model.safetensors");
static CONFIG: &[u8] = include_bytes!("../../../assets/embeddings/config.json");

/// Messages are cut after this many tokens: far past a chat message, short of a pasted page.
const MAX_TOKENS: usize = 256;

static MODEL: LazyLock<Option<StaticModel>> = LazyLock::new(|| {
    StaticModel::from_bytes(TOKENIZER, TABLE, CONFIG, Some(true))
        .ok()
        .filter(|m| m.dim() == DIMENSIONS)
});

/// Whether the built-in embeddings loaded (a test asserts they do; without them the
/// classifier still runs on character n-grams alone).
pub fn available() -> bool {
    MODEL.is_some()
}

/// The sentence embedding of `text` (unit length; zeros for a text with no known token).
pub fn embed(text: &str) -> [f32; DIMENSIONS] {
    let mut out = [0.0; DIMENSIONS];
    if let Some(model) = MODEL.as_ref() {
        let v = model.encode_with_args(&[text.to_owned()], Some(MAX_TOKENS), 1);
        if let Some(row) = v.first().filter(|r| r.len() == DIMENSIONS) {
            out.copy_from_slice(row);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_built_in_embeddings_load_and_place_like_meanings_together() {
        assert!(available());
        let a = embed("i want to end my life");
        let b = embed("i dont want to be alive anymore");
        let c = embed("how should i store my pills");
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "unit length, got {norm}");
        assert!(cosine(&a, &b) > cosine(&a, &c) + 0.1, "{} vs {}", cosine(&a, &b), cosine(&a, &c));
    }

    #[test]
    fn a_text_without_tokens_embeds_to_zeros() {
        assert!(embed("").iter().all(|x| *x == 0.0));
    }
}
