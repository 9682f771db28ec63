//! Model selection on held-out data: each variant of [`Options`] named in `GUICHET_SWEEP` is
//! scored by 5-fold cross-validation of the built-in corpus and, trained on the whole corpus,
//! on the development set (`data/corpus/fresh2.jsonl`, never trained on). Variants are
//! `name:key=value,key=value` separated by `;`, e.g.
//! `GUICHET_SWEEP='chars:chars=0.5;l2:l2=1e-4' cargo test --release --lib sweep -- --ignored --nocapture`.
//! `GUICHET_SWEEP_ERRORS=1` also prints the development set's errors of each variant.

use super::eval::{cross_validate_with, evaluate, Report};
use super::{corpus, parse_labelled, Category, Classifier, Language, Options};

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
        "threshold" => options.urgent_threshold = f(),
        "floor" => options.rule_floor = f(),
        "billing" => options.billing_threshold = f(),
        "temperature" => options.temperature = f(),
        "rules" => options.rules = value == "1",
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

#[test]
#[ignore = "prints cross-validated and development-set figures of the variants in GUICHET_SWEEP"]
fn sweep() {
    let spec = std::env::var("GUICHET_SWEEP").unwrap_or_else(|_| "default:".into());
    let errors = std::env::var("GUICHET_SWEEP_ERRORS").is_ok();
    let cv = std::env::var("GUICHET_SWEEP_NO_CV").is_err();
    let examples = corpus::builtin_examples();
    let dev = parse_labelled(include_str!("../../data/corpus/fresh2.jsonl")).expect("valid");
    for variant in spec.split(';').filter(|v| !v.trim().is_empty()) {
        let (name, settings) = variant.split_once(':').unwrap_or((variant, ""));
        let mut options = Options::default();
        for kv in settings.split(',').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv.split_once('=').expect("key=value");
            apply(&mut options, k.trim(), v.trim());
        }
        let start = std::time::Instant::now();
        let classifier = Classifier::train_options(&examples, options).expect("categories");
        let trained = start.elapsed();
        let r = evaluate(&classifier, &dev);
        let cv_line = if cv {
            let r = cross_validate_with(&examples, 5, options).expect("categories");
            summary(&r)
        } else {
            String::new()
        };
        println!(
            "{name:<16} dev {} | cv {cv_line} | train {trained:.0?}",
            summary(&r)
        );
        if std::env::var("GUICHET_SWEEP_CURVE").is_ok() {
            let mut c = classifier;
            for floor in [0.02f32, 0.05, 0.1] {
                for t in [0.08f32, 0.1, 0.12, 0.13, 0.14, 0.15, 0.17, 0.2, 0.25, 0.3] {
                    c.options.urgent_threshold = t;
                    c.options.rule_floor = floor;
                    println!(
                        "  floor {floor:.2} threshold {t:.2}: {}",
                        summary(&evaluate(&c, &dev))
                    );
                }
            }
            continue;
        }
        if errors {
            for m in &r.misclassified {
                println!(
                    "  {} -> {} {:.2} [{}] {} || {}",
                    m.expected,
                    m.predicted,
                    m.confidence,
                    m.language.as_str(),
                    m.text,
                    m.reasons.join(" / ")
                );
            }
        }
    }
}
