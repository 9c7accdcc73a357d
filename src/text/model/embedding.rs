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

static MODEL: LazyLock<Option<StaticModel>> = LazyLock::new(load);

/// The model over the table as compiled into the binary: the 7.8 MB of int8 rows are read
/// in place (`from_bytes` would copy them to the heap); only the per-row weights, 120 KB of
/// f32 that the file does not align, are copied.
fn load() -> Option<StaticModel> {
    let _ = CONFIG; // normalize = true, dimensions = 256: checked by the test below
    let tensors = safetensors::SafeTensors::deserialize(TABLE).ok()?;
    let table = tensors.tensor("embeddings").ok()?;
    let [rows, cols]: [usize; 2] = table.shape().try_into().ok()?;
    if cols != DIMENSIONS || table.dtype() != safetensors::Dtype::I8 {
        return None;
    }
    let bytes: &'static [u8] = table.data();
    // SAFETY: i8 and u8 have the same size and alignment, and every bit pattern is valid.
    let rows_i8: &'static [i8] = unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<i8>(), bytes.len()) };
    let weights = tensors.tensor("weights").ok()?;
    let weights: Vec<f32> = weights.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let weights: &'static [f32] = Box::leak(weights.into_boxed_slice());
    let tokenizer = tokenizers::Tokenizer::from_bytes(TOKENIZER).ok()?;
    StaticModel::from_borrowed_i8(tokenizer, rows_i8, rows, cols, true, Some(weights), None).ok()
}

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
    fn reading_in_place_gives_what_model2vec_reads_from_the_files() {
        let copied = StaticModel::from_bytes(TOKENIZER, TABLE, CONFIG, None).expect("the asset loads");
        for text in ["my son took a whole bottle", "klonopin withdrawl day 3", "hola"] {
            let a = embed(text);
            let b = copied.encode_single(text);
            assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5), "{text}");
        }
    }

    #[test]
    fn a_text_without_tokens_embeds_to_zeros() {
        assert!(embed("").iter().all(|x| *x == 0.0));
    }
}
