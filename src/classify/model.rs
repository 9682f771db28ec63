//! The learned part of the classifier: weights over hashed features for the three categories.
//!
//! Owns training (one linear SVM per category by dual coordinate descent, the
//! cross-validated choice; logistic regression by SGD and complement / multinomial naive Bayes
//! are kept to be measured against it) and scoring, which also says how much each
//! token pushed each category so the reasons can name the words that decided. Training is
//! deterministic: the example order is shuffled by a seeded generator. No I/O.

use crate::domain::Category;

use super::features::{Features, GLOBAL};

/// The categories in model order (the order of their severity).
pub(crate) const CLASSES: [Category; 3] = [Category::Info, Category::Complaint, Category::Urgent];
pub(crate) const N_CLASSES: usize = 3;

pub(crate) fn class_index(category: Category) -> usize {
    match category {
        Category::Info => 0,
        Category::Complaint => 1,
        Category::Urgent => 2,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ModelKind {
    /// One linear support vector machine per category against the others (squared hinge
    /// loss, L2 penalty), trained by dual coordinate descent as liblinear does.
    LinearSvm,
    LogisticRegression,
    // The naive Bayes variants lost to logistic regression in cross-validation (see `eval`),
    // which still measures them.
    #[cfg_attr(not(test), allow(dead_code))]
    ComplementNaiveBayes,
    #[cfg_attr(not(test), allow(dead_code))]
    MultinomialNaiveBayes,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub(crate) struct ModelConfig {
    pub kind: ModelKind,
    /// Logistic regression: passes over the training set, initial step, L2 penalty.
    pub epochs: u32,
    pub learning_rate: f32,
    pub l2: f32,
    /// Naive Bayes: additive smoothing, and the temperature that turns its (overconfident)
    /// log-likelihoods into usable confidences.
    pub alpha: f32,
    pub temperature: f32,
    /// L2 penalty applied to the whole table once per pass (the weights shrink by this
    /// share times the step), so weights of rare features decay like the others.
    pub decay: f32,
    /// Answer with the mean of the weights after each pass from the second half of
    /// training on (averaged SGD): steadier than the last pass's weights.
    pub average: bool,
    /// Weigh each class inversely to its frequency, so a rarer urgent class is not drowned.
    pub balanced: bool,
    /// Weigh each feature by its inverse document frequency: words found in every kind of
    /// message ("de", "the") then count for little.
    pub idf: bool,
    /// Linear SVM: the cost of a margin violation (higher fits the training set harder).
    pub c: f32,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            kind: ModelKind::LinearSvm,
            epochs: 10,
            learning_rate: 4.0,
            l2: 1e-5,
            alpha: 0.1,
            temperature: 8.0,
            decay: 0.0,
            average: false,
            balanced: true,
            idf: true,
            c: 2.0,
            // The defaults are the cross-validated choice; see `eval::cross_validation`.
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Model {
    kind: ModelKind,
    weights: Vec<[f32; N_CLASSES]>,
    bias: [f32; N_CLASSES],
    temperature: f32,
    /// Inverse document frequency per feature; empty when not used.
    idf: Vec<f32>,
    /// What scoring reads, one slot per feature: the three weights and the inverse document
    /// frequency (1 when not used) side by side, so that a feature costs one cache line, not
    /// two. Built once training is over.
    scoring: Vec<[f32; N_CLASSES + 1]>,
}

impl Model {
    /// A model with no knowledge: uniform probabilities, so only the rules decide.
    pub fn untrained(dim: usize) -> Model {
        let mut model = Model {
            kind: ModelKind::LogisticRegression,
            weights: vec![[0.0; N_CLASSES]; dim],
            bias: [0.0; N_CLASSES],
            temperature: 1.0,
            idf: Vec::new(),
            scoring: Vec::new(),
        };
        model.build_scoring();
        model
    }

    fn build_scoring(&mut self) {
        let idf = &self.idf;
        self.scoring = self
            .weights
            .iter()
            .enumerate()
            .map(|(f, w)| [w[0], w[1], w[2], Model::weight_of(idf, f as u32)])
            .collect();
    }

    /// Trains on `(features, class index)` pairs; every index must be below `dim`.
    pub fn train(config: &ModelConfig, dim: usize, data: &[(Features, usize)]) -> Model {
        let mut counts = [0usize; N_CLASSES];
        for (_, y) in data {
            counts[*y] += 1;
        }
        let class_weight: [f32; N_CLASSES] = std::array::from_fn(|c| {
            if config.balanced && counts[c] > 0 {
                data.len() as f32 / (N_CLASSES as f32 * counts[c] as f32)
            } else {
                1.0
            }
        });
        let idf = if config.idf {
            inverse_document_frequency(dim, data)
        } else {
            Vec::new()
        };
        let mut model = match config.kind {
            ModelKind::LogisticRegression => train_logistic(config, dim, data, &class_weight, &idf),
            ModelKind::LinearSvm => train_svm(config, dim, data, &class_weight, &idf),
            ModelKind::ComplementNaiveBayes | ModelKind::MultinomialNaiveBayes => {
                train_naive_bayes(config, dim, data, &counts, &class_weight, &idf)
            }
        };
        model.idf = idf;
        model.build_scoring();
        model
    }

    fn weight_of(idf: &[f32], f: u32) -> f32 {
        idf.get(f as usize).copied().unwrap_or(1.0)
    }

    /// Scale of a message's features: logistic regression sees unit-length vectors, so long
    /// messages are not more confident by length alone; naive Bayes divides its
    /// log-likelihoods by its temperature.
    fn scale(&self, features: &Features) -> f32 {
        scale(self.kind, self.temperature, &self.idf, features)
    }

    /// [`Model::scale`] read from the scoring table: the same sums in the same order.
    fn scoring_scale(&self, features: &Features) -> f32 {
        match self.kind {
            ModelKind::LogisticRegression | ModelKind::LinearSvm => {
                let norm: f32 = features
                    .index
                    .iter()
                    .zip(&features.value)
                    .map(|(&f, &x)| {
                        let idf = self.scoring.get(f as usize).map_or(1.0, |s| s[N_CLASSES]);
                        (x * idf).powi(2)
                    })
                    .sum();
                if norm > 0.0 {
                    1.0 / norm.sqrt()
                } else {
                    0.0
                }
            }
            _ => 1.0 / self.temperature,
        }
    }

    /// Logits of the three classes. When `per_token` is given (one slot per token, zeroed
    /// by the caller), each token's share of the logits is added to its slot.
    pub fn logits(
        &self,
        features: &Features,
        mut per_token: Option<&mut [[f32; N_CLASSES]]>,
    ) -> [f32; N_CLASSES] {
        let scale = self.scoring_scale(features);
        let mut z = self.bias;
        for ((&f, &t), &x) in features
            .index
            .iter()
            .zip(&features.token)
            .zip(&features.value)
        {
            let Some(slot) = self.scoring.get(f as usize) else {
                continue;
            };
            let (w, idf) = (&slot[..N_CLASSES], slot[N_CLASSES]);
            let v = scale * x * idf;
            for (z, w) in z.iter_mut().zip(w) {
                *z += v * w;
            }
            if let Some(slots) = per_token.as_deref_mut() {
                if t != GLOBAL {
                    if let Some(slot) = slots.get_mut(t as usize) {
                        for (s, w) in slot.iter_mut().zip(w) {
                            *s += v * w;
                        }
                    }
                }
            }
        }
        z
    }
}

fn scale(kind: ModelKind, temperature: f32, idf: &[f32], features: &Features) -> f32 {
    match kind {
        ModelKind::LogisticRegression | ModelKind::LinearSvm => {
            let norm: f32 = features
                .index
                .iter()
                .zip(&features.value)
                .map(|(&f, &x)| (x * Model::weight_of(idf, f)).powi(2))
                .sum();
            if norm > 0.0 {
                1.0 / norm.sqrt()
            } else {
                0.0
            }
        }
        _ => 1.0 / temperature,
    }
}

/// `ln((1 + n) / (1 + df)) + 1` per feature, as in the usual smoothed TF-IDF.
fn inverse_document_frequency(dim: usize, data: &[(Features, usize)]) -> Vec<f32> {
    let mut df = vec![0u32; dim];
    let mut seen: Vec<u32> = Vec::new();
    for (x, _) in data {
        seen.clear();
        seen.extend(x.index.iter().copied());
        seen.sort_unstable();
        seen.dedup();
        for &f in &seen {
            if let Some(d) = df.get_mut(f as usize) {
                *d += 1;
            }
        }
    }
    let n = data.len() as f32;
    df.iter()
        .map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0)
        .collect()
}

/// Softmax; the result always sums to one, whatever the logits.
pub(crate) fn softmax(z: [f32; N_CLASSES]) -> [f32; N_CLASSES] {
    const UNIFORM: [f32; N_CLASSES] = [1.0 / N_CLASSES as f32; N_CLASSES];
    if z.iter().any(|x| !x.is_finite()) {
        return UNIFORM;
    }
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: [f32; N_CLASSES] = std::array::from_fn(|c| (z[c] - max).exp());
    let sum: f32 = e.iter().sum();
    if !(sum.is_finite() && sum > 0.0) {
        return UNIFORM;
    }
    std::array::from_fn(|c| e[c] / sum)
}

fn train_logistic(
    config: &ModelConfig,
    dim: usize,
    data: &[(Features, usize)],
    class_weight: &[f32; N_CLASSES],
    idf: &[f32],
) -> Model {
    let mut model = Model {
        kind: ModelKind::LogisticRegression,
        weights: vec![[0.0; N_CLASSES]; dim],
        bias: [0.0; N_CLASSES],
        temperature: 1.0,
        idf: idf.to_vec(),
        scoring: Vec::new(),
    };
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    sgd(
        config,
        data,
        class_weight,
        idf,
        &mut model,
        &mut order,
        &mut rng,
    );
    model
}

fn sgd(
    config: &ModelConfig,
    data: &[(Features, usize)],
    class_weight: &[f32; N_CLASSES],
    idf: &[f32],
    model: &mut Model,
    order: &mut [usize],
    rng: &mut XorShift,
) {
    // Each example's scaled values, computed once rather than once per epoch.
    let scaled: Vec<Vec<(u32, f32)>> = data
        .iter()
        .map(|(x, _)| {
            let scale = model.scale(x);
            x.index
                .iter()
                .zip(&x.value)
                .filter(|(&f, _)| (f as usize) < model.weights.len())
                .map(|(&f, &value)| (f, scale * value * Model::weight_of(idf, f)))
                .collect()
        })
        .collect();
    let first_averaged = config.epochs / 2;
    let mut sum_weights: Vec<[f32; N_CLASSES]> = Vec::new();
    let mut sum_bias = [0.0f32; N_CLASSES];
    let mut averaged = 0u32;
    for epoch in 0..config.epochs {
        rng.shuffle(order);
        // A decaying step: big moves first, then settle.
        let rate = config.learning_rate / (1.0 + epoch as f32 * 0.5);
        // L2 is applied to the weights an example touches only: exact decay of the whole
        // table would cost the table size per example.
        let shrink = 1.0 - rate * config.l2;
        for &i in order.iter() {
            let y = data[i].1;
            let x = &scaled[i];
            let mut z = model.bias;
            for &(f, v) in x {
                for (z, w) in z.iter_mut().zip(&model.weights[f as usize]) {
                    *z += v * w;
                }
            }
            let p = softmax(z);
            let g: [f32; N_CLASSES] = std::array::from_fn(|c| {
                let target = if c == y { 1.0 } else { 0.0 };
                (p[c] - target) * class_weight[y]
            });
            for (b, g) in model.bias.iter_mut().zip(&g) {
                *b -= rate * g;
            }
            for &(f, v) in x {
                for (w, g) in model.weights[f as usize].iter_mut().zip(&g) {
                    *w = *w * shrink - rate * g * v;
                }
            }
        }
        if config.decay > 0.0 {
            let keep = (1.0 - rate * config.decay).max(0.0);
            for w in model.weights.iter_mut().flatten() {
                *w *= keep;
            }
        }
        if config.average && epoch >= first_averaged {
            if sum_weights.is_empty() {
                sum_weights = vec![[0.0; N_CLASSES]; model.weights.len()];
            }
            for (s, w) in sum_weights.iter_mut().zip(&model.weights) {
                for (s, w) in s.iter_mut().zip(w) {
                    *s += w;
                }
            }
            for (s, b) in sum_bias.iter_mut().zip(&model.bias) {
                *s += b;
            }
            averaged += 1;
        }
    }
    if averaged > 0 {
        let n = averaged as f32;
        for (w, s) in model.weights.iter_mut().zip(&sum_weights) {
            *w = s.map(|x| x / n);
        }
        model.bias = sum_bias.map(|x| x / n);
    }
}

/// Each example's features scaled as the model will score them: inverse document frequency,
/// then unit length; one row an example.
fn scaled_examples(kind: ModelKind, dim: usize, data: &[(Features, usize)], idf: &[f32]) -> Rows {
    let mut starts = Vec::with_capacity(data.len() + 1);
    starts.push(0);
    let mut entries = Vec::with_capacity(data.iter().map(|(x, _)| x.index.len()).sum());
    for (x, _) in data {
        let scale = scale(kind, 1.0, idf, x);
        entries.extend(
            x.index
                .iter()
                .zip(&x.value)
                .filter(|(&f, _)| (f as usize) < dim)
                .map(|(&f, &value)| (f, scale * value * Model::weight_of(idf, f))),
        );
        starts.push(entries.len());
    }
    Rows { entries, starts }
}

/// L2-regularised squared-hinge SVMs, one per category against the others, by dual
/// coordinate descent (Hsieh et al., 2008, the solver of liblinear and scikit-learn's
/// `LinearSVC`), each on a thread of its own. The bias is a constant feature of value 1,
/// penalised like the others (as liblinear does).
fn train_svm(
    config: &ModelConfig,
    dim: usize,
    data: &[(Features, usize)],
    class_weight: &[f32; N_CLASSES],
    idf: &[f32],
) -> Model {
    let x = scaled_examples(ModelKind::LinearSvm, dim, data, idf);
    let c = config.c.max(1e-6);
    let epochs = config.epochs.max(1);
    // One-vs-rest: the three binary problems share nothing but the examples, so each is
    // solved on a thread of its own, as liblinear solves them one after the other.
    let columns: Vec<(Vec<f32>, f32)> = std::thread::scope(|s| {
        let x = &x;
        let handles: Vec<_> = (0..N_CLASSES)
            .map(|k| {
                s.spawn(move || {
                    let labels: Vec<(f32, f32)> = data
                        .iter()
                        .map(|(_, y)| {
                            let cost = c * if k == *y { class_weight[*y] } else { 1.0 };
                            (if k == *y { 1.0 } else { -1.0 }, 0.5 / cost)
                        })
                        .collect();
                    train_svm_binary(x, &labels, dim, epochs)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an SVM thread panicked"))
            .collect()
    });
    let mut weights = vec![[0.0f32; N_CLASSES]; dim];
    let mut bias = [0.0f32; N_CLASSES];
    for (k, (column, b)) in columns.into_iter().enumerate() {
        for (w, v) in weights.iter_mut().zip(column) {
            w[k] = v;
        }
        bias[k] = b;
    }
    Model {
        kind: ModelKind::LinearSvm,
        weights,
        bias,
        temperature: 1.0,
        idf: idf.to_vec(),
        scoring: Vec::new(),
    }
}

/// Examples as rows of (feature, value) pairs in one contiguous table, so a pass reads
/// memory in order instead of chasing one allocation per example.
struct Rows {
    entries: Vec<(u32, f32)>,
    /// Row `i` is `entries[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
}

impl Rows {
    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn row(&self, i: usize) -> &[(u32, f32)] {
        &self.entries[self.starts[i]..self.starts[i + 1]]
    }
}

/// Dual coordinate descent for one L2-loss linear SVM with a bias (liblinear's solver):
/// `labels[i]` is example `i`'s sign and `1 / (2 C)` for it. Returns the weights and bias.
fn train_svm_binary(x: &Rows, labels: &[(f32, f32)], dim: usize, epochs: u32) -> (Vec<f32>, f32) {
    let mut weights = vec![0.0f32; dim];
    let mut bias = 0.0f32;
    let mut alpha = vec![0.0f32; x.len()];
    // The diagonal of the dual's Hessian: |x|² + 1 (bias) + 1 / (2 C).
    let diag: Vec<f32> = (0..x.len())
        .zip(labels)
        .map(|(i, (_, half_inv_cost))| {
            x.row(i).iter().map(|(_, v)| v * v).sum::<f32>() + 1.0 + half_inv_cost
        })
        .collect();
    // Shrinking, as in liblinear: an example whose dual variable is zero and whose gradient
    // lies beyond the largest violation of the previous pass is left out of the following
    // passes (it is far outside the margin). The last pass visits every example again, so
    // none is left with a violation.
    let mut active: Vec<usize> = (0..x.len()).collect();
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut bound = f32::INFINITY;
    for epoch in 0..epochs {
        if epoch + 1 == epochs {
            active = (0..x.len()).collect();
            bound = f32::INFINITY;
        }
        rng.shuffle(&mut active);
        let mut largest_violation = 0.0f32;
        let mut keep = Vec::with_capacity(active.len());
        for &i in &active {
            let xi = x.row(i);
            let (y, half_inv_cost) = labels[i];
            let z = bias
                + xi.iter()
                    .map(|&(f, v)| v * weights[f as usize])
                    .sum::<f32>();
            let a = alpha[i];
            let g = y * z - 1.0 + half_inv_cost * a;
            if a > 0.0 || g <= bound {
                keep.push(i);
            }
            let projected = if a > 0.0 { g } else { g.min(0.0) };
            largest_violation = largest_violation.max(projected.abs());
            if projected != 0.0 {
                let next = (a - g / diag[i]).max(0.0);
                alpha[i] = next;
                let delta = (next - a) * y;
                if delta != 0.0 {
                    bias += delta;
                    for &(f, v) in xi {
                        weights[f as usize] += delta * v;
                    }
                }
            }
        }
        active = keep;
        bound = largest_violation;
    }
    (weights, bias)
}

fn train_naive_bayes(
    config: &ModelConfig,
    dim: usize,
    data: &[(Features, usize)],
    doc_counts: &[usize; N_CLASSES],
    class_weight: &[f32; N_CLASSES],
    idf: &[f32],
) -> Model {
    // Feature counts per class, weighted like the documents they come from.
    let mut counts = vec![[0.0f32; N_CLASSES]; dim];
    let mut totals = [0.0f32; N_CLASSES];
    for (x, y) in data {
        for (&f, &value) in x.index.iter().zip(&x.value) {
            let v = class_weight[*y] * value * Model::weight_of(idf, f);
            if let Some(n) = counts.get_mut(f as usize) {
                n[*y] += v;
                totals[*y] += v;
            }
        }
    }
    // Smoothing over the features that occur, not over the whole hashed table: empty slots
    // would otherwise swamp the counts of a small corpus.
    let active = counts
        .iter()
        .filter(|c| c.iter().any(|&n| n > 0.0))
        .count()
        .max(1) as f32;
    let alpha = config.alpha;
    let mut weights = vec![[0.0f32; N_CLASSES]; dim];
    let total_docs: usize = doc_counts.iter().sum();
    let bias: [f32; N_CLASSES] = std::array::from_fn(|c| {
        if config.balanced {
            0.0
        } else {
            ((doc_counts[c] as f32 + 1.0) / (total_docs as f32 + N_CLASSES as f32)).ln()
        }
    });
    let complement = config.kind == ModelKind::ComplementNaiveBayes;
    let all: f32 = totals.iter().sum();
    for (w, n) in weights.iter_mut().zip(&counts) {
        if !n.iter().any(|&x| x > 0.0) {
            continue;
        }
        let n_all: f32 = n.iter().sum();
        for c in 0..N_CLASSES {
            w[c] = if complement {
                // Evidence against the other classes: less skewed by class sizes.
                let num = n_all - n[c] + alpha;
                let den = all - totals[c] + alpha * active;
                -(num / den).ln()
            } else {
                ((n[c] + alpha) / (totals[c] + alpha * active)).ln()
            };
        }
        // Only differences between classes matter; centring keeps unseen slots neutral.
        let mean = w.iter().sum::<f32>() / N_CLASSES as f32;
        for x in w.iter_mut() {
            *x -= mean;
        }
    }
    Model {
        kind: config.kind,
        weights,
        bias,
        temperature: config.temperature.max(1e-3),
        idf: Vec::new(),
        scoring: Vec::new(),
    }
}

/// A small deterministic generator: training must give the same model on every start.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(index: &[u32], y: usize) -> (Features, usize) {
        let f = Features {
            index: index.to_vec(),
            token: vec![0; index.len()],
            value: vec![1.0; index.len()],
            ..Features::default()
        };
        (f, y)
    }

    fn data() -> Vec<(Features, usize)> {
        vec![
            example(&[1, 2], 0),
            example(&[1, 3], 0),
            example(&[4, 5], 1),
            example(&[4, 6], 1),
            example(&[7, 8], 2),
            example(&[7, 9], 2),
        ]
    }

    #[test]
    fn every_model_kind_learns_separable_classes() {
        for kind in [
            ModelKind::LinearSvm,
            ModelKind::LogisticRegression,
            ModelKind::ComplementNaiveBayes,
            ModelKind::MultinomialNaiveBayes,
        ] {
            let config = ModelConfig {
                kind,
                temperature: 1.0,
                ..ModelConfig::default()
            };
            let model = Model::train(&config, 16, &data());
            for (x, y) in data() {
                let p = softmax(model.logits(&x, None));
                let best = (0..N_CLASSES)
                    .max_by(|&a, &b| p[a].total_cmp(&p[b]))
                    .unwrap_or(0);
                assert_eq!(best, y, "{kind:?} on {:?}", x.index);
            }
        }
    }

    #[test]
    fn softmax_sums_to_one_even_for_extreme_logits() {
        for z in [[0.0, 0.0, 0.0], [1e30, -1e30, 0.0], [f32::NAN, 0.0, 0.0]] {
            let p = softmax(z);
            let sum: f32 = p.iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "{z:?} gave {p:?}");
        }
    }

    #[test]
    fn per_token_shares_add_up_to_the_logits() {
        let model = Model::train(&ModelConfig::default(), 16, &data());
        let x = Features {
            index: vec![1, 4, 7],
            token: vec![0, 1, 2],
            value: vec![1.0, 0.5, 2.0],
            ..Features::default()
        };
        let mut slots = vec![[0.0; N_CLASSES]; 3];
        let z = model.logits(&x, Some(&mut slots));
        for c in 0..N_CLASSES {
            let sum: f32 = slots.iter().map(|s| s[c]).sum::<f32>() + model.bias[c];
            assert!((sum - z[c]).abs() < 1e-5);
        }
    }
}
