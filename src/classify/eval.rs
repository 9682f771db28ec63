//! Evaluation: how well a classifier does on labelled examples.
//!
//! Owns the [`Report`] (precision, recall and F1 per category, macro-F1, the confusion matrix,
//! the same per language, and the misclassified messages with their reasons) and the
//! cross-validation on the training split that every choice of the classifier rests on.
//! Takes examples, returns values: reading files and printing are the caller's business.
//! No I/O.

use std::fmt;

use serde::Serialize;

use crate::domain::{Category, Language};

use super::model::{class_index, CLASSES, N_CLASSES};
use super::{Classification, Classifier, ClassifyError, Concept, Example, Options};

/// Scores of one category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryScores {
    pub category: Category,
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    /// Examples labelled with this category.
    pub support: usize,
}

/// Scores on the examples of one language (as labelled, not as detected).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LanguageScores {
    pub language: Language,
    pub examples: usize,
    pub macro_f1: f32,
    pub urgent_recall: f32,
    pub accuracy: f32,
}

/// A message the classifier got wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Misclassified {
    pub expected: Category,
    pub predicted: Category,
    pub confidence: f32,
    pub language: Language,
    pub text: String,
    pub reasons: Vec<String>,
}

/// How a classifier did on a set of labelled examples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub examples: usize,
    pub accuracy: f32,
    pub macro_f1: f32,
    /// In category order: info, complaint, urgent.
    pub categories: Vec<CategoryScores>,
    /// `confusion[expected][predicted]`, categories in the order info, complaint, urgent.
    pub confusion: [[usize; N_CLASSES]; N_CLASSES],
    /// French, then English.
    pub languages: Vec<LanguageScores>,
    /// Share of examples whose detected language is the labelled one.
    pub language_accuracy: f32,
    /// Confidence against accuracy (reliability), and the expected calibration error.
    pub calibration: Calibration,
    /// How the messages in which each concept of the lexicon was found were classified.
    pub concepts: Vec<ConceptScores>,
    pub misclassified: Vec<Misclassified>,
}

/// One bin of the reliability table: the answers whose confidence fell in `[low, high)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityBin {
    /// Bounds as f64 so that 0.9 prints as 0.9 in JSON.
    pub low: f64,
    pub high: f64,
    pub count: usize,
    pub mean_confidence: f32,
    pub accuracy: f32,
}

/// Whether the confidence means what it says: of the answers given with confidence 0.8,
/// about 80 % should be right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Ten bins of width 0.1 (empty ones included).
    pub bins: Vec<ReliabilityBin>,
    /// Expected calibration error: the gap between confidence and accuracy, averaged over
    /// the bins weighted by their counts (0 is perfect).
    pub ece: f32,
    /// Mean confidence and accuracy over all answers.
    pub mean_confidence: f32,
}

/// How the messages in which a concept was found (armed or not) were classified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConceptScores {
    pub concept: Concept,
    /// Messages in which the concept was found.
    pub messages: usize,
    /// Share of them classified as labelled.
    pub accuracy: f32,
    /// Of those labelled urgent: how many, and the share classified urgent.
    pub urgent: usize,
    pub urgent_recall: f32,
    /// Of those not labelled urgent: how many were classified urgent.
    pub false_urgent: usize,
}

fn calibration(pairs: &[(&Example, Classification)]) -> Calibration {
    const BINS: usize = 10;
    let mut count = [0usize; BINS];
    let mut confidence = [0f32; BINS];
    let mut right = [0usize; BINS];
    for (e, c) in pairs {
        let b = ((c.confidence * BINS as f32) as usize).min(BINS - 1);
        count[b] += 1;
        confidence[b] += c.confidence;
        if c.category == e.label {
            right[b] += 1;
        }
    }
    let n = pairs.len();
    let bins: Vec<ReliabilityBin> = (0..BINS)
        .map(|b| ReliabilityBin {
            low: b as f64 / BINS as f64,
            high: (b + 1) as f64 / BINS as f64,
            count: count[b],
            mean_confidence: if count[b] > 0 {
                confidence[b] / count[b] as f32
            } else {
                0.0
            },
            accuracy: ratio(right[b], count[b]),
        })
        .collect();
    let ece = bins
        .iter()
        .map(|b| ratio(b.count, n) * (b.mean_confidence - b.accuracy).abs())
        .sum();
    Calibration {
        bins,
        ece,
        mean_confidence: if n > 0 {
            pairs.iter().map(|(_, c)| c.confidence).sum::<f32>() / n as f32
        } else {
            0.0
        },
    }
}

fn concept_scores(pairs: &[(&Example, Classification)]) -> Vec<ConceptScores> {
    Concept::ALL
        .iter()
        .map(|&concept| {
            let with: Vec<&(&Example, Classification)> = pairs
                .iter()
                .filter(|(_, c)| c.concepts.contains(&concept))
                .collect();
            let right = with.iter().filter(|(e, c)| e.label == c.category).count();
            let urgent = with
                .iter()
                .filter(|(e, _)| e.label == Category::Urgent)
                .count();
            let found = with
                .iter()
                .filter(|(e, c)| e.label == Category::Urgent && c.category == Category::Urgent)
                .count();
            let false_urgent = with
                .iter()
                .filter(|(e, c)| e.label != Category::Urgent && c.category == Category::Urgent)
                .count();
            ConceptScores {
                concept,
                messages: with.len(),
                accuracy: ratio(right, with.len()),
                urgent,
                urgent_recall: ratio(found, urgent),
                false_urgent,
            }
        })
        .collect()
}

impl Report {
    /// The scores of one language.
    pub fn language(&self, language: Language) -> Option<&LanguageScores> {
        self.languages.iter().find(|l| l.language == language)
    }

    /// The scores of one category.
    pub fn category(&self, category: Category) -> Option<&CategoryScores> {
        self.categories.iter().find(|c| c.category == category)
    }

    pub(crate) fn from_predictions(pairs: &[(&Example, Classification)]) -> Report {
        let matrix = confusion(pairs.iter().map(|(e, c)| (e.label, c.category)));
        let categories = scores(&matrix);
        let languages = Language::ALL
            .iter()
            .map(|&language| {
                let m = confusion(
                    pairs
                        .iter()
                        .filter(|(e, _)| e.lang == language)
                        .map(|(e, c)| (e.label, c.category)),
                );
                let s = scores(&m);
                LanguageScores {
                    language,
                    examples: total(&m),
                    macro_f1: macro_f1(&s),
                    urgent_recall: s[class_index(Category::Urgent)].recall,
                    accuracy: accuracy(&m),
                }
            })
            .collect();
        let detected = pairs.iter().filter(|(e, c)| e.lang == c.language).count();
        Report {
            examples: pairs.len(),
            accuracy: accuracy(&matrix),
            macro_f1: macro_f1(&categories),
            categories,
            confusion: matrix,
            languages,
            language_accuracy: ratio(detected, pairs.len()),
            calibration: calibration(pairs),
            concepts: concept_scores(pairs),
            misclassified: pairs
                .iter()
                .filter(|(e, c)| e.label != c.category)
                .map(|(e, c)| Misclassified {
                    expected: e.label,
                    predicted: c.category,
                    confidence: c.confidence,
                    language: e.lang,
                    text: e.text.clone(),
                    reasons: c.reasons.clone(),
                })
                .collect(),
        }
    }
}

/// Classifies every example and scores the answers.
pub fn evaluate(classifier: &Classifier, examples: &[Example]) -> Report {
    let pairs: Vec<(&Example, Classification)> = examples
        .iter()
        .map(|e| (e, classifier.classify(&e.text)))
        .collect();
    Report::from_predictions(&pairs)
}

/// Stratified k-fold cross-validation: each example is classified by a classifier trained
/// on the other folds, and the report scores all those out-of-fold answers together. This is
/// how to judge a change to the classifier without looking at the test split.
///
/// Folds are drawn per (category, language) group in file order (every k-th example), so
/// each fold has the same mix and the result does not depend on a random seed.
///
/// # Errors
///
/// [`ClassifyError::MissingCategory`] when a category has fewer examples than needed for
/// every training fold to have one.
pub fn cross_validate(examples: &[Example], folds: usize) -> Result<Report, ClassifyError> {
    cross_validate_with(examples, folds, Options::default())
}

pub(crate) fn cross_validate_with(
    examples: &[Example],
    folds: usize,
    options: Options,
) -> Result<Report, ClassifyError> {
    let folds = folds.max(2);
    let fold_of = fold_of(examples, folds);
    let mut predictions: Vec<Option<Classification>> = vec![None; examples.len()];
    for fold in 0..folds {
        let train: Vec<Example> = examples
            .iter()
            .zip(&fold_of)
            .filter(|(_, &f)| f != fold)
            .map(|(e, _)| e.clone())
            .collect();
        let classifier = Classifier::train_options(&train, options)?;
        for (i, e) in examples.iter().enumerate() {
            if fold_of[i] == fold {
                predictions[i] = Some(classifier.classify(&e.text));
            }
        }
    }
    let pairs: Vec<(&Example, Classification)> = examples
        .iter()
        .zip(predictions)
        .filter_map(|(e, p)| p.map(|p| (e, p)))
        .collect();
    Ok(Report::from_predictions(&pairs))
}

/// Each example's fold: every `folds`-th example of each (category, language) group, in
/// order, so each fold has the same mix and no seed is needed.
pub(crate) fn fold_of(examples: &[Example], folds: usize) -> Vec<usize> {
    let mut seen = std::collections::HashMap::new();
    examples
        .iter()
        .map(|e| {
            let n = seen.entry((e.label, e.lang)).or_insert(0usize);
            let fold = *n % folds;
            *n += 1;
            fold
        })
        .collect()
}

fn confusion(pairs: impl Iterator<Item = (Category, Category)>) -> [[usize; N_CLASSES]; N_CLASSES] {
    let mut m = [[0; N_CLASSES]; N_CLASSES];
    for (expected, predicted) in pairs {
        m[class_index(expected)][class_index(predicted)] += 1;
    }
    m
}

fn scores(m: &[[usize; N_CLASSES]; N_CLASSES]) -> Vec<CategoryScores> {
    CLASSES
        .iter()
        .enumerate()
        .map(|(c, &category)| {
            let tp = m[c][c];
            let predicted: usize = (0..N_CLASSES).map(|r| m[r][c]).sum();
            let support: usize = m[c].iter().sum();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            CategoryScores {
                category,
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect()
}

fn macro_f1(scores: &[CategoryScores]) -> f32 {
    scores.iter().map(|s| s.f1).sum::<f32>() / scores.len().max(1) as f32
}

fn total(m: &[[usize; N_CLASSES]; N_CLASSES]) -> usize {
    m.iter().flatten().sum()
}

fn accuracy(m: &[[usize; N_CLASSES]; N_CLASSES]) -> f32 {
    ratio((0..N_CLASSES).map(|c| m[c][c]).sum(), total(m))
}

/// `a / b`, and 0 for an empty denominator (no example, nothing predicted).
fn ratio(a: usize, b: usize) -> f32 {
    if b == 0 {
        0.0
    } else {
        a as f32 / b as f32
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} examples, accuracy {:.3}, macro-F1 {:.3}, language detection {:.3}",
            self.examples, self.accuracy, self.macro_f1, self.language_accuracy
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<10} {:>9} {:>7} {:>7} {:>8}",
            "category", "precision", "recall", "F1", "support"
        )?;
        for s in &self.categories {
            writeln!(
                f,
                "{:<10} {:>9.3} {:>7.3} {:>7.3} {:>8}",
                s.category.as_str(),
                s.precision,
                s.recall,
                s.f1,
                s.support
            )?;
        }
        writeln!(f)?;
        writeln!(f, "confusion (rows: expected, columns: predicted)")?;
        write!(f, "{:<10}", "")?;
        for c in CLASSES {
            write!(f, " {:>9}", c.as_str())?;
        }
        writeln!(f)?;
        for (r, row) in self.confusion.iter().enumerate() {
            write!(f, "{:<10}", CLASSES[r].as_str())?;
            for n in row {
                write!(f, " {n:>9}")?;
            }
            writeln!(f)?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<10} {:>8} {:>8} {:>8} {:>13}",
            "language", "examples", "accuracy", "macro-F1", "urgent recall"
        )?;
        for l in &self.languages {
            writeln!(
                f,
                "{:<10} {:>8} {:>8.3} {:>8.3} {:>13.3}",
                l.language.as_str(),
                l.examples,
                l.accuracy,
                l.macro_f1,
                l.urgent_recall
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<26} {:>8} {:>8} {:>7} {:>13} {:>12}",
            "concept found", "messages", "accuracy", "urgent", "urgent recall", "false urgent"
        )?;
        for c in &self.concepts {
            let recall = if c.urgent > 0 {
                format!("{:.3}", c.urgent_recall)
            } else {
                "-".to_string()
            };
            writeln!(
                f,
                "{:<26} {:>8} {:>8.3} {:>7} {:>13} {:>12}",
                c.concept.as_str(),
                c.messages,
                c.accuracy,
                c.urgent,
                recall,
                c.false_urgent
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "calibration: ECE {:.3}, mean confidence {:.3} against accuracy {:.3}",
            self.calibration.ece, self.calibration.mean_confidence, self.accuracy
        )?;
        writeln!(
            f,
            "{:<11} {:>8} {:>15} {:>8}",
            "confidence", "answers", "mean confidence", "accuracy"
        )?;
        for b in self.calibration.bins.iter().filter(|b| b.count > 0) {
            writeln!(
                f,
                "{:<11} {:>8} {:>15.3} {:>8.3}",
                format!("{:.1}-{:.1}", b.low, b.high),
                b.count,
                b.mean_confidence,
                b.accuracy
            )?;
        }
        if !self.misclassified.is_empty() {
            writeln!(f)?;
            writeln!(f, "misclassified ({}):", self.misclassified.len())?;
            for m in &self.misclassified {
                writeln!(
                    f,
                    "  expected {:<9} got {:<9} {:.2}  [{}] {}",
                    m.expected.as_str(),
                    m.predicted.as_str(),
                    m.confidence,
                    m.language.as_str(),
                    m.text
                )?;
                for r in &m.reasons {
                    writeln!(f, "      - {r}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(label: Category, lang: Language, text: &str) -> Example {
        Example {
            label,
            lang,
            text: text.to_string(),
        }
    }

    #[test]
    fn scores_follow_the_confusion_matrix() {
        // 2 urgent (1 found), 2 info (both found, plus the missed urgent), 1 complaint.
        let m = [[2, 0, 0], [0, 1, 0], [1, 0, 1]];
        let s = scores(&m);
        let urgent = &s[class_index(Category::Urgent)];
        assert_eq!(urgent.recall, 0.5);
        assert_eq!(urgent.precision, 1.0);
        let info = &s[class_index(Category::Info)];
        assert!((info.precision - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(accuracy(&m), 0.8);
    }

    #[test]
    fn an_empty_set_scores_zero_without_dividing_by_zero() {
        let r = Report::from_predictions(&[]);
        assert_eq!(r.examples, 0);
        assert_eq!(r.macro_f1, 0.0);
        assert!(r.to_string().contains("0 examples"));
    }

    #[test]
    fn the_report_counts_concepts_and_bins_every_answer_by_confidence() {
        let examples = vec![
            example(
                Category::Urgent,
                Language::Fr,
                "ya quelqu un de coince dans lascenseur du metro",
            ),
            example(
                Category::Info,
                Language::Fr,
                "urgent: cest quand la date limite pour payer ma facture deau?",
            ),
            example(Category::Info, Language::En, "when is garbage day"),
        ];
        let report = evaluate(Classifier::builtin(), &examples);
        let person = &report.concepts[0];
        assert_eq!(person.concept, Concept::PersonAtRisk);
        assert_eq!((person.messages, person.urgent), (1, 1));
        assert_eq!(person.urgent_recall, 1.0);
        let billing = report
            .concepts
            .iter()
            .find(|c| c.concept == Concept::UtilityBilling)
            .expect("every concept has a row");
        assert_eq!(
            (billing.messages, billing.urgent, billing.false_urgent),
            (1, 0, 0)
        );
        let binned: usize = report.calibration.bins.iter().map(|b| b.count).sum();
        assert_eq!(binned, 3);
        assert!((0.0..=1.0).contains(&report.calibration.ece));
        let text = report.to_string();
        assert!(text.contains("person at risk"), "{text}");
        assert!(text.contains("calibration: ECE"), "{text}");
    }

    #[test]
    fn the_report_is_readable_and_serializable() {
        let examples = vec![
            example(Category::Urgent, Language::Fr, "ça sent le gaz dans la rue"),
            example(Category::Urgent, Language::En, "no power on my street"),
            example(
                Category::Info,
                Language::Fr,
                "quelles sont les heures de la piscine",
            ),
            example(Category::Info, Language::En, "when is garbage day"),
            example(
                Category::Complaint,
                Language::Fr,
                "mon bac n'a pas été ramassé encore",
            ),
            example(
                Category::Complaint,
                Language::En,
                "the plow broke my mailbox again",
            ),
        ];
        let classifier = Classifier::train(&examples).expect("every category has examples");
        let report = evaluate(&classifier, &examples);
        let text = report.to_string();
        assert!(text.contains("macro-F1"));
        assert!(text.contains("urgent recall"));
        assert!(text.contains("confusion"));
        let json = serde_json::to_value(&report).expect("serializable");
        assert_eq!(json["examples"], 6);
        assert_eq!(json["languages"][0]["language"], "fr");
        assert_eq!(report.language(Language::En).map(|l| l.examples), Some(3));
    }
}

/// The cross-validation behind the classifier's choices, on what the built-in classifier
/// learns from (the training split and its supplement), never the test split.
/// Run with `cargo test --release -- --ignored cross_validation --nocapture`.
#[cfg(test)]
mod cross_validation {
    use super::*;
    use crate::classify::corpus::builtin_examples;

    pub(super) fn line(name: &str, r: &Report) -> String {
        let fr = r.language(Language::Fr);
        let en = r.language(Language::En);
        let u = r.category(Category::Urgent);
        format!(
            "{name:<44} macro-F1 {:.3} | fr {:.3} urgent-R {:.3} | en {:.3} urgent-R {:.3} | urgent P {:.3}",
            r.macro_f1,
            fr.map_or(0.0, |l| l.macro_f1),
            fr.map_or(0.0, |l| l.urgent_recall),
            en.map_or(0.0, |l| l.macro_f1),
            en.map_or(0.0, |l| l.urgent_recall),
            u.map_or(0.0, |c| c.precision),
        )
    }

    #[test]
    #[ignore = "prints the cross-validated figures; slow in debug builds"]
    fn cross_validation() {
        use crate::classify::features::Stemming;
        use crate::classify::model::ModelKind;
        let examples = builtin_examples();
        let base = Options::default();
        let mut grid: Vec<(String, Options)> = vec![("default".into(), base)];
        let mut add = |name: &str, f: &dyn Fn(&mut Options)| {
            let mut o = base;
            f(&mut o);
            grid.push((name.to_string(), o));
        };
        add("context cues 2", &|o| o.features.context_cues = 2.0);
        add("context cues 0.5", &|o| o.features.context_cues = 0.5);
        add("epochs 20", &|o| o.model.epochs = 20);
        add("lr 5", &|o| o.model.learning_rate = 5.0);
        add("function words 0.7", &|o| o.features.function_words = 0.7);
        add("no stemming", &|o| o.features.stemming = Stemming::None);
        add("stem detected language", &|o| {
            o.features.stemming = Stemming::Detected
        });
        add("complement NB", &|o| {
            o.model.kind = ModelKind::ComplementNaiveBayes
        });
        for (name, options) in &grid {
            let r = cross_validate_with(&examples, 5, *options).expect("train has every category");
            println!("{}", line(name, &r));
        }
    }
}

/// The supplement (`data/corpus/supplement.jsonl`, written after the split and never compared
/// with the test split) scored by a classifier trained on `train.jsonl` alone: a held-out
/// check of the normalisation and the hazard phrases, which cross-validation on the split
/// they were written from cannot give. Run with
/// `cargo test --release -- --ignored supplement_held_out --nocapture`.
#[cfg(test)]
mod supplement_held_out {
    use super::*;
    use crate::classify::corpus::{parse_lenient, SUPPLEMENT, TRAIN};

    #[test]
    #[ignore = "prints how a classifier trained on train.jsonl alone does on the supplement"]
    fn supplement_held_out() {
        let train = parse_lenient(TRAIN);
        let supplement = parse_lenient(SUPPLEMENT);
        for (name, options) in [
            ("default", Options::default()),
            (
                "no rules",
                Options {
                    rules: false,
                    ..Options::default()
                },
            ),
        ] {
            let classifier = Classifier::train_options(&train, options).expect("every category");
            let r = evaluate(&classifier, &supplement);
            println!("{}", cross_validation::line(name, &r));
            if name == "default" {
                for m in &r.misclassified {
                    let hazard = m.reasons.iter().find(|r| r.starts_with("hazard phrase:"));
                    if m.expected == Category::Urgent {
                        println!("  missed urgent [{}] {}", m.language.as_str(), m.text);
                    } else if let Some(hazard) = hazard {
                        println!("  false rule {} | {} | {hazard}", m.expected, m.text);
                    }
                }
            }
        }
    }
}

/// How the hazard phrases do on the training data (split and supplement): which messages they miss, which they
/// wrongly fire on, which they rightly disarm. Run with
/// `cargo test --release -- --ignored rule_audit --nocapture`.
#[cfg(test)]
mod rule_audit {
    use crate::classify::corpus::builtin_examples;
    use crate::classify::normalize::{normalize_words, segment, Normalized, Segmented};
    use crate::classify::rules::{hazards, RuleScratch};
    use crate::domain::Category;

    #[test]
    #[ignore = "prints how the hazard rules do on the training data"]
    fn rule_audit() {
        let examples = builtin_examples();
        let (mut seg, mut norm) = (Segmented::default(), Normalized::default());
        let mut scratch = RuleScratch::default();
        let mut out = Vec::new();
        let (mut fired, mut right, mut urgent, mut caught) = (0, 0, 0, 0);
        for e in &examples {
            segment(&e.text, &mut seg);
            normalize_words(&seg, &mut norm);
            hazards(&seg, &norm, &mut scratch, &mut out);
            let armed = out.iter().any(|h| h.disarmed_by.is_none());
            if e.label == Category::Urgent {
                urgent += 1;
            }
            if armed {
                fired += 1;
                if e.label == Category::Urgent {
                    right += 1;
                    caught += 1;
                } else {
                    println!("FALSE {} | {} | {:?}", e.label, e.text, out);
                }
            } else if e.label == Category::Urgent {
                println!("MISSED | {} | {:?}", e.text, out);
            } else if !out.is_empty() {
                println!("DISARMED-OK {} | {} | {:?}", e.label, e.text, out);
            }
        }
        println!(
            "rules fired {fired}, precision {:.3}, urgent caught {caught}/{urgent}",
            right as f32 / fired as f32
        );
    }
}

/// The cross-validated report of the default classifier, with its misclassified messages.
/// Run with `cargo test --release -- --ignored model_errors --nocapture`.
#[cfg(test)]
mod model_errors {
    use super::*;
    use crate::classify::corpus::builtin_examples;

    #[test]
    #[ignore = "prints the cross-validated errors of the default classifier"]
    fn model_errors() {
        let examples = builtin_examples();
        let r = cross_validate_with(&examples, 5, Options::default())
            .expect("train has every category");
        println!("{r}");
    }
}

/// The calibration of the model and the choice of the urgent threshold, on out-of-fold
/// answers (5-fold cross-validation of what the built-in classifier learns from; never the
/// test split nor a fresh set): the temperature that minimises the negative log-likelihood
/// of the model's probabilities, then the precision/recall curve of the final urgent
/// decision (the model past the threshold, or an armed hazard phrase) as the threshold moves.
/// Run with `cargo test --release -- --ignored calibration_and_threshold --nocapture`;
/// `sweep::pooled` draws the same curve on the pooled corpus, with the development sets
/// reported apart: the constants `TEMPERATURE` and `URGENT_THRESHOLD` come from it.
#[cfg(test)]
mod calibration_and_threshold {
    use super::*;
    use crate::classify::corpus::builtin_examples;
    use crate::classify::model::softmax;

    #[test]
    #[ignore = "prints the fitted temperature and the urgent precision/recall curve"]
    fn calibration_and_threshold() {
        let examples = builtin_examples();
        let folds = 5;
        let fold_of = fold_of(&examples, folds);
        let options = Options {
            temperature: 1.0,
            ..Options::default()
        };
        // (logits, armed hazard, label, language, armed danger to a person)
        let mut oof: Vec<([f32; N_CLASSES], bool, usize, Language, bool)> = Vec::new();
        for fold in 0..folds {
            let train: Vec<Example> = examples
                .iter()
                .zip(&fold_of)
                .filter(|(_, &f)| f != fold)
                .map(|(e, _)| e.clone())
                .collect();
            let classifier = Classifier::train_options(&train, options).expect("categories");
            for (e, _) in examples.iter().zip(&fold_of).filter(|(_, &f)| f == fold) {
                let z = classifier.model_logits(&e.text);
                let (_, armed, person) = classifier.model_probabilities(&e.text);
                oof.push((z, armed, class_index(e.label), e.lang, person));
            }
        }
        let logits: Vec<([f32; N_CLASSES], usize)> =
            oof.iter().map(|(z, _, y, _, _)| (*z, *y)).collect();
        let at_one = logits
            .iter()
            .map(|(z, y)| -softmax(*z)[*y].max(1e-9).ln())
            .sum::<f32>()
            / logits.len() as f32;
        let (t, best_nll) = crate::classify::sweep::fit_temperature(&logits);
        println!(
            "temperature: NLL {at_one:.4} at T=1, best T={t:.2} (NLL {best_nll:.4}), {} out-of-fold answers",
            oof.len()
        );
        let armed: Vec<_> = oof.iter().filter(|o| o.1).collect();
        let right = armed
            .iter()
            .filter(|o| o.2 == class_index(Category::Urgent))
            .count();
        println!(
            "hazard phrases: fire on {}, labelled urgent {} (precision {:.3})",
            armed.len(),
            right,
            right as f32 / armed.len().max(1) as f32
        );
        let urgent = class_index(Category::Urgent);
        for floor in [0.0f32, 0.02, 0.05, 0.1] {
            println!("rule floor {floor:.2}");
            println!("threshold  urgent-P  urgent-R  fr-R   en-R   macro-F1");
            for threshold in [
                0.05f32, 0.08, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.17, 0.2, 0.25, 0.3, 0.4, 0.5,
            ] {
                let pairs: Vec<(Category, Category, Language)> = oof
                    .iter()
                    .map(|(z, armed, y, lang, person)| {
                        let p = softmax(z.map(|x| x / t));
                        let raised = *person || (*armed && p[urgent] >= floor);
                        let predicted = if raised || p[urgent] >= threshold {
                            Category::Urgent
                        } else {
                            let best = (0..N_CLASSES)
                                .max_by(|&a, &b| p[a].total_cmp(&p[b]))
                                .unwrap_or(0);
                            CLASSES[best]
                        };
                        (CLASSES[*y], predicted, *lang)
                    })
                    .collect();
                let m = confusion(pairs.iter().map(|&(e, p, _)| (e, p)));
                let s = scores(&m);
                let recall_of = |lang: Language| {
                    let m = confusion(
                        pairs
                            .iter()
                            .filter(|p| p.2 == lang)
                            .map(|&(e, p, _)| (e, p)),
                    );
                    scores(&m)[urgent].recall
                };
                println!(
                    "{threshold:>9.2}  {:>8.3}  {:>8.3}  {:.3}  {:.3}  {:.3}",
                    s[urgent].precision,
                    s[urgent].recall,
                    recall_of(Language::Fr),
                    recall_of(Language::En),
                    macro_f1(&s)
                );
            }
        }
    }
}

/// Where the time goes: training on the built-in corpus, and classifying with each costly
/// option turned off in turn. Run with
/// `cargo test --release -- --ignored speed_probe --nocapture`.
#[cfg(test)]
mod speed_probe {
    use super::*;
    use crate::classify::corpus::builtin_examples;

    #[test]
    #[ignore = "prints timings"]
    fn speed_probe() {
        let examples = builtin_examples();
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let base = Options::default();
        let mut variants: Vec<(&str, Options)> = vec![("default", base)];
        let mut o = base;
        o.features.sublinear = false;
        variants.push(("no sublinear", o));
        let mut o = base;
        o.rules = false;
        variants.push(("no rules", o));
        let mut o = base;
        o.features.chars = 0.0;
        variants.push(("no chars", o));
        let mut o = base;
        o.model.epochs = 10;
        variants.push(("10 epochs", o));
        for (name, options) in variants {
            let start = std::time::Instant::now();
            let classifier = Classifier::train_options(&examples, options).expect("categories");
            let train = start.elapsed();
            let start = std::time::Instant::now();
            for t in &texts {
                std::hint::black_box(classifier.classify(t));
            }
            let per_second = texts.len() as f64 / start.elapsed().as_secs_f64();
            println!("{name:<14} train {train:>10.1?}  classify {per_second:>8.0} msgs/s");
        }
    }
}
