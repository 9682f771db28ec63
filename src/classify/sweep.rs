//! Model selection by cross-validation: each variant of [`Options`] named in `GUICHET_SWEEP`
//! is scored by 5-fold cross-validation of the built-in corpus (which holds the fresh sets
//! already scored and read, `fresh2.jsonl` to `fresh11.jsonl`, reported apart as "dev"): the
//! temperature is fitted on the out-of-fold logits, then the whole decision (model,
//! threshold, safety net) is scored at each urgent threshold. Variants are
//! `name:key=value,key=value` separated by `;`, e.g.
//! `GUICHET_SWEEP='chars:chars=1;c:c=1' cargo test --release --lib pooled -- --ignored --nocapture`.
//! `GUICHET_SWEEP_ERRORS=<threshold>` also prints the development sets' errors there (every
//! training file's with `GUICHET_SWEEP_ALL=1`).

use super::eval::Report;
use super::{corpus, Category, Classification, Classifier, Example, Language, Options};

fn apply(options: &mut Options, key: &str, value: &str) {
    let f = || -> f32 { value.parse().unwrap_or_else(|_| panic!("{key}={value}")) };
    let u = || -> usize { value.parse().unwrap_or_else(|_| panic!("{key}={value}")) };
    let (feat, model) = (&mut options.features, &mut options.model);
    match key {
        "bits" => feat.bits = u() as u32,
        "bigrams" => feat.bigrams = f(),
        "chars" => feat.chars = f(),
        "char_min" => feat.char_min = u(),
        "char_max" => feat.char_max = u(),
        "signals" => feat.signals = f(),
        "concepts" => feat.concepts = f(),
        "glossary" => feat.glossary = f(),
        "context" => feat.context_cues = f(),
        "concept_cues" => feat.concept_cues = f(),
        "fw" => feat.function_words = f(),
        "epochs" => model.epochs = u() as u32,
        "lr" => model.learning_rate = f(),
        "l2" => model.l2 = f(),
        "decay" => model.decay = f(),
        "average" => model.average = value == "1",
        "c" => model.c = f(),
        "balanced" => model.balanced = value == "1",
        "kind" => {
            model.kind = match value {
                "svm" => super::model::ModelKind::LinearSvm,
                "lr" => super::model::ModelKind::LogisticRegression,
                _ => panic!("kind={value}"),
            }
        }
        "sublinear" => feat.sublinear = value == "1",
        "threshold" => {
            options.urgent_threshold = f();
            options.urgent_threshold_en = f();
        }
        "threshold_en" => options.urgent_threshold_en = f(),
        "floor" => options.rule_floor = f(),
        "billing" => options.billing_threshold = f(),
        "temperature" => options.temperature = f(),
        "rules" => options.rules = value == "1",
        "severe" => options.severe_overrides = value == "1",
        _ => panic!("unknown key {key}"),
    }
}

fn summary(r: &Report) -> String {
    let lang = |l: Language| {
        r.language(l)
            .map_or((0.0, 0.0), |s| (s.macro_f1, s.urgent_recall))
    };
    let (fr, fr_r) = lang(Language::Fr);
    let (en, en_r) = lang(Language::En);
    let urgent = super::model::class_index(Category::Urgent);
    let false_urgent: usize = (0..3)
        .filter(|&c| c != urgent)
        .map(|c| r.confusion[c][urgent])
        .sum();
    format!(
        "F1 {:.3} fr {fr:.3} (uR {fr_r:.3}) en {en:.3} (uR {en_r:.3}) falseU {false_urgent}",
        r.macro_f1
    )
}

/// How many of the built-in examples come from the former development sets (the fresh
/// sets that were read), which come last.
fn development_count() -> usize {
    [
        corpus::FRESH_2,
        corpus::FRESH_3,
        corpus::FRESH_4,
        corpus::FRESH_5,
        corpus::FRESH_6,
        corpus::FRESH_7,
        corpus::FRESH_8,
        corpus::FRESH_9,
        corpus::FRESH_10,
        corpus::FRESH_11,
    ]
    .into_iter()
    .map(|f| corpus::parse_lenient(f).len())
    .sum()
}

/// The five classifiers of a 5-fold cross-validation over `examples` and each example's
/// fold, folds drawn per (category, language) in file order like `eval::cross_validate_with`.
pub(super) fn fold_classifiers(
    examples: &[Example],
    options: Options,
) -> (Vec<Classifier>, Vec<usize>) {
    let folds = 5;
    let fold_of = super::eval::fold_of(examples, folds);
    let classifiers = (0..folds)
        .map(|fold| {
            let train: Vec<Example> = examples
                .iter()
                .zip(&fold_of)
                .filter(|(_, &f)| f != fold)
                .map(|(e, _)| e.clone())
                .collect();
            Classifier::train_options(&train, options).expect("categories")
        })
        .collect();
    (classifiers, fold_of)
}

/// The temperature that minimises the negative log-likelihood of out-of-fold logits.
pub(super) fn fit_temperature(oof: &[([f32; 3], usize)]) -> (f32, f32) {
    let nll = |t: f32| -> f32 {
        oof.iter()
            .map(|(z, y)| -super::model::softmax(z.map(|x| x / t))[*y].max(1e-9).ln())
            .sum::<f32>()
            / oof.len() as f32
    };
    let mut best = (1.0f32, f32::INFINITY);
    for i in 1..=200 {
        let t = i as f32 * 0.01;
        let l = nll(t);
        if l < best.1 {
            best = (t, l);
        }
    }
    best
}

/// Each variant of `GUICHET_SWEEP` scored by 5-fold cross-validation over the training files
/// and the development sets together, overall and on the development sets' messages alone:
/// the temperature fitted on the out-of-fold logits, then the whole decision at each urgent
/// threshold. `GUICHET_SWEEP_ERRORS=<threshold>` prints the development sets' errors there.
#[test]
#[ignore = "prints pooled cross-validated figures of the variants in GUICHET_SWEEP"]
fn pooled() {
    let spec = std::env::var("GUICHET_SWEEP").unwrap_or_else(|_| "default:".into());
    let errors: Option<f32> = std::env::var("GUICHET_SWEEP_ERRORS")
        .ok()
        .and_then(|v| v.parse().ok());
    let examples = corpus::builtin_examples();
    let n_corpus = examples.len() - development_count();
    for variant in spec.split(';').filter(|v| !v.trim().is_empty()) {
        let (name, settings) = variant.split_once(':').unwrap_or((variant, ""));
        let mut options = Options::default();
        for kv in settings.split(',').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv.split_once('=').expect("key=value");
            apply(&mut options, k.trim(), v.trim());
        }
        let start = std::time::Instant::now();
        let (mut classifiers, fold_of) = fold_classifiers(&examples, options);
        let oof: Vec<([f32; 3], usize)> = examples
            .iter()
            .zip(&fold_of)
            .map(|(e, &f)| {
                (
                    classifiers[f].model_logits(&e.text),
                    super::model::class_index(e.label),
                )
            })
            .collect();
        let (t, nll) = fit_temperature(&oof);
        println!("{name:<16} T={t:.2} NLL {nll:.4} ({:.0?})", start.elapsed());
        let thresholds = [
            0.05f32, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.2, 0.25, 0.3, 0.5,
        ];
        // The variant's own thresholds first (NaN), then the curve.
        for threshold in [f32::NAN]
            .into_iter()
            .chain(thresholds.iter().copied())
            .chain(errors)
        {
            for c in &mut classifiers {
                c.options.temperature = t;
                if !threshold.is_nan() {
                    c.options.urgent_threshold = threshold;
                    c.options.urgent_threshold_en = threshold;
                }
            }
            let pairs: Vec<(&Example, Classification)> = examples
                .iter()
                .zip(&fold_of)
                .map(|(e, &f)| (e, classifiers[f].classify(&e.text)))
                .collect();
            if Some(threshold) == errors {
                let from = if std::env::var_os("GUICHET_SWEEP_ALL").is_some() {
                    0
                } else {
                    n_corpus
                };
                for (e, c) in &pairs[from..] {
                    if e.label != c.category {
                        println!(
                            "  {} -> {} {:.2} [{}] {} || {}",
                            e.label,
                            c.category,
                            c.confidence,
                            e.lang.as_str(),
                            e.text,
                            c.reasons.join(" / ")
                        );
                    }
                }
            }
            let all = Report::from_predictions(&pairs);
            let dev = Report::from_predictions(&pairs[n_corpus..]);
            println!(
                "  t {threshold:.2} all {} | dev {}",
                summary(&all),
                summary(&dev)
            );
        }
    }
}
