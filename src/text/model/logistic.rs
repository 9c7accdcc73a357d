//! Logistic regression over [`Features`]: softmax for one label of many, sigmoids for
//! labels that are each yes or no, trained by plain stochastic gradient descent.
//!
//! Hand-written because the input is half dense, half hashed-sparse (32,768 buckets of
//! which a message touches a few hundred): the linear-model crates take dense matrices,
//! which would cost gigabytes here or be hundreds of times slower. Training is deterministic:
//! a fixed seed orders the examples, so the same examples give the same model (bit for bit
//! on one build; the maths library's `exp` may differ in the last bits between platforms).

use super::embedding::DIMENSIONS;
use super::features::{Features, BUCKETS};

/// How a layer is trained.
#[derive(Clone, Copy, Debug)]
pub struct Training {
    pub epochs: usize,
    /// Learning rate at the start; it decays as 1 / (1 + epoch).
    pub rate: f32,
    /// L2 penalty (applied to the weights an example touches).
    pub l2: f32,
    /// Seeds the order in which examples are visited.
    pub seed: u64,
    /// The weights kept are the mean of those at the end of each of the last this many
    /// epochs (1: the last epoch's alone).
    pub average_last: usize,
}

/// The settings both heads start from (each changes some, below). Rate and epochs were chosen
/// by 5-fold cross-validation on the shipped examples (`klonopin-bot check`): from 12 epochs
/// at rate 0.5 to 20 at 2.0, crisis recall at 4% false alarms rose from 88% to 91% and intent
/// accuracy from 73% to 76%; more epochs or a larger dense weight changed little.
impl Default for Training {
    fn default() -> Training {
        Training { epochs: 20, rate: 2.0, l2: 1e-4, seed: 0x6b6c_6f6e_6f70_696e, average_last: 1 }
    }
}

impl Training {
    /// The crisis head's: more epochs, and the mean of the last half's weights. Trained the
    /// default way, a crisis decision moved with the order of the examples alone: on the
    /// tuning sets (2026-12-04, `training_stability` in tests/it/understanding.rs), a new
    /// seed flipped 15 of 462 crisis messages and 5 of 453 near-misses, so every edit of the
    /// examples moved borderline messages by chance. This flips 3.5 and 1.5, at +0.4 s of
    /// training, with recall at the tuning sets' 3% false alarms 84.9 -> 86.2% (means of 3
    /// seeds).
    pub fn crisis() -> Training {
        Training { epochs: 60, average_last: 30, ..Training::default() }
    }

    /// The intent head's: the default's epochs (its 45 outputs make each one costly), the
    /// mean of the last half's weights. Top intents flipped by a new seed on the routing
    /// tuning sets: 12 -> 7.5 of 568, accuracy the same (91.6%).
    pub fn intents() -> Training {
        Training { epochs: 20, average_last: 10, ..Training::default() }
    }
}

/// What the outputs mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// Exactly one output is right: probabilities sum to one.
    Softmax,
    /// Each output is its own yes/no.
    Sigmoid,
}

/// A linear layer from features to `outputs` scores.
#[derive(Clone, Debug)]
pub struct Linear {
    outputs: usize,
    link: Link,
    /// `BUCKETS x outputs`, row-major by bucket.
    sparse: Vec<f32>,
    /// `outputs x DIMENSIONS`, row-major by output: each output's dot product with the
    /// embedding runs over contiguous memory (several times faster for the 4-output head).
    dense: Vec<f32>,
    bias: Vec<f32>,
}

/// One training example: features and the wanted output per class (0 or 1).
pub struct Target<'a> {
    pub features: &'a Features,
    pub wanted: &'a [f32],
}

impl Linear {
    /// Trains a layer. `examples` may be empty: the layer then answers its bias (zeros).
    pub fn train(outputs: usize, link: Link, examples: &[Target], training: &Training) -> Linear {
        let mut layer = Linear {
            outputs,
            link,
            sparse: vec![0.0; BUCKETS * outputs],
            dense: vec![0.0; DIMENSIONS * outputs],
            bias: vec![0.0; outputs],
        };
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let mut rng = SplitMix(training.seed);
        let average_from = training.epochs.saturating_sub(training.average_last.max(1));
        let mut sum: Option<Linear> = None;
        let mut scores = vec![0.0; outputs];
        let mut grad = vec![0.0; outputs];
        for epoch in 0..training.epochs {
            shuffle(&mut order, &mut rng);
            let rate = training.rate / (1.0 + epoch as f32);
            let keep = 1.0 - rate * training.l2;
            for &i in &order {
                let example = &examples[i];
                layer.probabilities_into(example.features, &mut scores);
                for ((g, p), y) in grad.iter_mut().zip(&scores).zip(example.wanted) {
                    *g = rate * (p - y);
                }
                for (bucket, value) in example.features.sparse() {
                    let row = &mut layer.sparse[bucket as usize * outputs..][..outputs];
                    for (w, g) in row.iter_mut().zip(&grad) {
                        *w = *w * keep - g * value;
                    }
                }
                for (row, g) in layer.dense.chunks_exact_mut(DIMENSIONS).zip(&grad) {
                    for (w, value) in row.iter_mut().zip(&example.features.dense) {
                        *w = *w * keep - g * value;
                    }
                }
                for (b, g) in layer.bias.iter_mut().zip(&grad) {
                    *b -= g;
                }
            }
            if epoch >= average_from && epoch + 1 < training.epochs {
                match &mut sum {
                    None => sum = Some(layer.clone()),
                    Some(sum) => sum.add(&layer),
                }
            }
        }
        if let Some(mut sum) = sum {
            sum.add(&layer);
            let n = training.epochs - average_from;
            sum.scale(1.0 / n as f32);
            return sum;
        }
        layer
    }

    fn add(&mut self, other: &Linear) {
        for (a, b) in self
            .sparse
            .iter_mut()
            .zip(&other.sparse)
            .chain(self.dense.iter_mut().zip(&other.dense))
            .chain(self.bias.iter_mut().zip(&other.bias))
        {
            *a += b;
        }
    }

    fn scale(&mut self, by: f32) {
        for w in self.sparse.iter_mut().chain(self.dense.iter_mut()).chain(self.bias.iter_mut()) {
            *w *= by;
        }
    }

    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Probabilities per output (softmax or sigmoid, by the layer's link).
    pub fn probabilities(&self, features: &Features) -> Vec<f32> {
        let mut out = vec![0.0; self.outputs];
        self.probabilities_into(features, &mut out);
        out
    }

    fn probabilities_into(&self, features: &Features, out: &mut [f32]) {
        let k = self.outputs;
        out.copy_from_slice(&self.bias);
        for (bucket, value) in features.sparse() {
            let row = &self.sparse[bucket as usize * k..][..k];
            for (o, w) in out.iter_mut().zip(row) {
                *o += w * value;
            }
        }
        for (o, row) in out.iter_mut().zip(self.dense.chunks_exact(DIMENSIONS)) {
            *o += dot(row, &features.dense);
        }
        match self.link {
            Link::Sigmoid => {
                for o in out.iter_mut() {
                    *o = 1.0 / (1.0 + (-*o).exp());
                }
            }
            Link::Softmax => {
                let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0;
                for o in out.iter_mut() {
                    *o = (*o - max).exp();
                    sum += *o;
                }
                for o in out.iter_mut() {
                    *o /= sum;
                }
            }
        }
    }
}

/// A dot product in eight lanes, which the compiler turns into vector instructions (a
/// single running sum must be added in order, one element at a time).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut lanes = [0.0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a.chunks_exact(8).remainder().iter().zip(b.chunks_exact(8).remainder()).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}

/// A small, fixed pseudo-random sequence (SplitMix64): the same order on every machine.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Fisher-Yates.
fn shuffle(items: &mut [usize], rng: &mut SplitMix) {
    for i in (1..items.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::super::features::extract;
    use super::*;

    fn toy() -> (Vec<Features>, Vec<Vec<f32>>) {
        let texts = [
            ("my cat is fluffy", 0),
            ("the cat sleeps all day", 0),
            ("a cat on the sofa", 0),
            ("my dog barks", 1),
            ("the dog wants a walk", 1),
            ("a dog in the park", 1),
        ];
        let features = texts.iter().map(|(t, _)| extract(t)).collect();
        let wanted = texts.iter().map(|(_, c)| if *c == 0 { vec![1.0, 0.0] } else { vec![0.0, 1.0] }).collect();
        (features, wanted)
    }

    #[test]
    fn softmax_learns_a_separable_toy_problem_and_sums_to_one() {
        let (features, wanted) = toy();
        let targets: Vec<Target> = features.iter().zip(&wanted).map(|(f, w)| Target { features: f, wanted: w }).collect();
        let layer = Linear::train(2, Link::Softmax, &targets, &Training::default());
        let cat = layer.probabilities(&extract("is that cat yours"));
        let dog = layer.probabilities(&extract("whose dog is that"));
        assert!(cat[0] > 0.6 && dog[1] > 0.6, "{cat:?} {dog:?}");
        assert!((cat.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn training_is_deterministic() {
        let (features, wanted) = toy();
        let targets: Vec<Target> = features.iter().zip(&wanted).map(|(f, w)| Target { features: f, wanted: w }).collect();
        let a = Linear::train(2, Link::Sigmoid, &targets, &Training::default());
        let b = Linear::train(2, Link::Sigmoid, &targets, &Training::default());
        let probe = extract("a cat and a dog");
        assert_eq!(a.probabilities(&probe), b.probabilities(&probe));
    }

    #[test]
    fn the_eight_lane_dot_product_equals_a_plain_one_at_any_length() {
        for n in [0, 1, 7, 8, 13, 256] {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
            let b: Vec<f32> = (0..n).map(|i| 1.0 / (1.0 + i as f32)).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "length {n}");
        }
    }

    #[test]
    fn averaging_keeps_the_mean_of_the_last_epochs_weights() {
        let (features, wanted) = toy();
        let targets: Vec<Target> = features.iter().zip(&wanted).map(|(f, w)| Target { features: f, wanted: w }).collect();
        let after = |epochs: usize| Linear::train(2, Link::Sigmoid, &targets, &Training { epochs, ..Training::default() });
        let averaged = Linear::train(2, Link::Sigmoid, &targets, &Training { epochs: 5, average_last: 3, ..Training::default() });
        // Training the same seed for 3, 4 and 5 epochs passes through the same weights as one
        // 5-epoch run at the end of its epochs 3, 4 and 5 (the order of each epoch and the
        // rate schedule are the same).
        let (a, b, c) = (after(3), after(4), after(5));
        for i in 0..averaged.bias.len() {
            let mean = (a.bias[i] + b.bias[i] + c.bias[i]) / 3.0;
            assert!((averaged.bias[i] - mean).abs() < 1e-6, "{} vs {mean}", averaged.bias[i]);
        }
        for i in (0..averaged.dense.len()).step_by(97) {
            let mean = (a.dense[i] + b.dense[i] + c.dense[i]) / 3.0;
            assert!((averaged.dense[i] - mean).abs() < 1e-6);
        }
        // Averaging nothing (or one epoch) is the last epoch's weights.
        let one = Linear::train(2, Link::Sigmoid, &targets, &Training { epochs: 5, average_last: 1, ..Training::default() });
        let none = Linear::train(2, Link::Sigmoid, &targets, &Training { epochs: 5, average_last: 0, ..Training::default() });
        assert_eq!(one.bias, c.bias);
        assert_eq!(none.bias, c.bias);
    }

    #[test]
    fn an_untrained_layer_is_undecided() {
        let layer = Linear::train(3, Link::Sigmoid, &[], &Training::default());
        assert_eq!(layer.probabilities(&extract("anything")), vec![0.5, 0.5, 0.5]);
    }
}
