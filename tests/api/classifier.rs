//! The built-in classifier's targets, through the library's public API (as `guichet eval`
//! scores a file): on the held-out test split and on the fresh evaluation set written after
//! the model was frozen (`data/corpus/fresh16.jsonl`, scored once on the model frozen at
//! `6e5bf6f`), macro-F1 at least 0.95 and urgent recall at least 0.99 in each language.
//! Figures and error analysis in BENCHMARKS.md.

use std::path::Path;

use guichet::classify::{eval, parse_labelled, Classifier};
use guichet::domain::Language;

const MACRO_F1_TARGET: f32 = 0.95;
const URGENT_RECALL_TARGET: f32 = 0.99;

/// The scores of `file` that miss a target, one line each.
fn missed_targets(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("the evaluation file is readable");
    let examples = parse_labelled(&text).expect("the evaluation file is valid");
    let report = eval::evaluate(Classifier::builtin(), &examples);
    let mut missed = Vec::new();
    for language in Language::ALL {
        let scores = report
            .language(language)
            .expect("both languages are in the file");
        if scores.macro_f1 < MACRO_F1_TARGET {
            missed.push(format!(
                "{} {language}: macro-F1 {:.4} < {MACRO_F1_TARGET}",
                file.display(),
                scores.macro_f1
            ));
        }
        if scores.urgent_recall < URGENT_RECALL_TARGET {
            missed.push(format!(
                "{} {language}: urgent recall {:.4} < {URGENT_RECALL_TARGET}",
                file.display(),
                scores.urgent_recall
            ));
        }
    }
    missed
}

fn corpus(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/corpus")
        .join(name)
}

#[test]
fn no_urgent_message_of_the_test_split_is_missed_in_either_language() {
    let missed: Vec<String> = missed_targets(&corpus("test.jsonl"))
        .into_iter()
        .filter(|m| m.contains("urgent recall"))
        .collect();
    assert!(missed.is_empty(), "{missed:#?}");
}

#[test]
fn the_classifier_meets_its_targets_on_the_test_split() {
    let missed = missed_targets(&corpus("test.jsonl"));
    assert!(missed.is_empty(), "{missed:#?}");
}

#[test]
fn the_classifier_meets_its_targets_on_the_fresh_set() {
    let missed = missed_targets(&corpus("fresh16.jsonl"));
    assert!(missed.is_empty(), "{missed:#?}");
}
