//! Labelled examples: parsing the TSV and JSONL files the classifier learns and is scored on.
//!
//! Owns the two line formats, `label<TAB>lang<TAB>text` and
//! `{"label": ..., "lang": ..., "text": ...}`, detected line by line so a file may mix them.
//! Takes text, returns values: reading the file is the caller's business. No I/O.

use serde::Deserialize;

use crate::domain::{Category, Language};

use super::{ClassifyError, Example};

#[derive(Deserialize)]
struct JsonLine {
    label: String,
    lang: String,
    text: String,
}

/// Parses labelled examples, one a line: TSV `label<TAB>lang<TAB>text` or a JSON object
/// with `label`, `lang` and `text`. Blank lines and lines starting with `#` are skipped.
///
/// # Errors
///
/// [`ClassifyError::Parse`] on the first bad line, naming its number and the problem.
pub fn parse_labelled(input: &str) -> Result<Vec<Example>, ClassifyError> {
    let mut examples = Vec::new();
    for (i, line) in input.lines().enumerate() {
        if let Some(parsed) = parse_line(line) {
            examples.push(parsed.map_err(|problem| ClassifyError::Parse {
                line: i + 1,
                problem,
            })?);
        }
    }
    Ok(examples)
}

/// The training split, compiled into the binary.
pub(crate) const TRAIN: &str = include_str!("../../data/corpus/train.jsonl");

/// Training-only messages written after the split (see `data/corpus/README.md`): hard cases
/// such as French typed without apostrophes and questions about an ongoing outage.
pub(crate) const SUPPLEMENT: &str = include_str!("../../data/corpus/supplement.jsonl");

/// Training-only messages on the boundary between info and complaint, mostly in French,
/// where cross-validation showed the model weakest.
pub(crate) const SUPPLEMENT_2: &str = include_str!("../../data/corpus/supplement2.jsonl");

/// Training-only messages written to read like real ones (short, run-on, SMS spelling,
/// distress without the city's words, billing questions that say "urgent"), in Quebec French
/// and in English.
pub(crate) const REALISTIC_FR: &str = include_str!("../../data/corpus/realistic_fr.jsonl");
pub(crate) const REALISTIC_EN: &str = include_str!("../../data/corpus/realistic_en.jsonl");

/// Training-only hard cases written with the concept lexicons: billing and tax questions
/// that say "urgent" or "help", figures of speech, and dangers to persons told without
/// hazard words, in both languages.
pub(crate) const HARD_CASES: &str = include_str!("../../data/corpus/hard_cases.jsonl");

/// Every file the built-in classifier learns from.
/// Training-only messages written for what the model read wrongly on the development set,
/// as patterns (see `data/corpus/README.md`): complaints about standing hazards that name
/// children or the elderly, complaints phrased as questions, questions about past events,
/// and dangers to persons told in the words of whoever is there.
pub(crate) const REALISTIC_2: &str = include_str!("../../data/corpus/realistic2.jsonl");

/// Training-only messages for what the model still read wrongly on the two development sets
/// in cross-validation: complaints phrased as questions, neutral questions about past or
/// planned events, standing hazards, dangers to persons told in plain words.
pub(crate) const REALISTIC_3: &str = include_str!("../../data/corpus/realistic3.jsonl");

/// Training-only messages for the patterns the fourth fresh set showed: complaints phrased as
/// questions in English, dangers to persons without hazard words, past emergencies told as
/// grievances, burnt-out lamps, billing that says "urgent", outages told as a situation.
pub(crate) const REALISTIC_4: &str = include_str!("../../data/corpus/realistic4.jsonl");

/// Training-only messages for thanks and praise (info, even about a past storm), the
/// aftermath of an event that is over, dangers to persons told without hazard words
/// (a medical device running out of battery, a family outside after an evacuation), and
/// hazard words used figuratively or hypothetically.
pub(crate) const REALISTIC_5: &str = include_str!("../../data/corpus/realistic5.jsonl");

/// The second to eleventh fresh sets, written independently of the other files: scored
/// once each on the model frozen before them, then read, and now trained on (see
/// `data/corpus/README.md`). They stay last, so cross-validation can report them apart.
pub(crate) const FRESH_2: &str = include_str!("../../data/corpus/fresh2.jsonl");
pub(crate) const FRESH_3: &str = include_str!("../../data/corpus/fresh3.jsonl");
pub(crate) const FRESH_4: &str = include_str!("../../data/corpus/fresh4.jsonl");
pub(crate) const FRESH_5: &str = include_str!("../../data/corpus/fresh5.jsonl");
pub(crate) const FRESH_6: &str = include_str!("../../data/corpus/fresh6.jsonl");
pub(crate) const FRESH_7: &str = include_str!("../../data/corpus/fresh7.jsonl");
pub(crate) const FRESH_8: &str = include_str!("../../data/corpus/fresh8.jsonl");
pub(crate) const FRESH_9: &str = include_str!("../../data/corpus/fresh9.jsonl");
pub(crate) const FRESH_10: &str = include_str!("../../data/corpus/fresh10.jsonl");
pub(crate) const FRESH_11: &str = include_str!("../../data/corpus/fresh11.jsonl");

pub(crate) const BUILTIN: [&str; 20] = [
    TRAIN,
    SUPPLEMENT,
    SUPPLEMENT_2,
    REALISTIC_FR,
    REALISTIC_EN,
    HARD_CASES,
    REALISTIC_2,
    REALISTIC_3,
    REALISTIC_4,
    REALISTIC_5,
    FRESH_2,
    FRESH_3,
    FRESH_4,
    FRESH_5,
    FRESH_6,
    FRESH_7,
    FRESH_8,
    FRESH_9,
    FRESH_10,
    FRESH_11,
];

/// What the built-in classifier learns from: the training split, the supplements and the
/// realistic messages and the fresh sets already scored. Never the test split, the first
/// fresh set, the fresh set scored last, the development sets nor the billing evaluation set.
pub(crate) fn builtin_examples() -> Vec<Example> {
    BUILTIN.into_iter().flat_map(parse_lenient).collect()
}

/// Like [`parse_labelled`], but skips bad lines: for the corpus compiled into the binary,
/// where a bad line must cost one example, not the start-up. Tests check it has none.
pub(crate) fn parse_lenient(input: &str) -> Vec<Example> {
    input
        .lines()
        .filter_map(parse_line)
        .filter_map(Result::ok)
        .collect()
}

/// `None` for a line to skip, else the example or what is wrong with the line.
fn parse_line(line: &str) -> Option<Result<Example, String>> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let (label, lang, text) = if trimmed.starts_with('{') {
        match serde_json::from_str::<JsonLine>(trimmed) {
            Ok(j) => (j.label, j.lang, j.text),
            Err(e) => return Some(Err(format!("invalid JSON object: {e}"))),
        }
    } else {
        let fields: Vec<&str> = line.splitn(3, '\t').collect();
        match fields[..] {
            [label, lang, text] => (label.to_string(), lang.to_string(), text.to_string()),
            _ => {
                return Some(Err(format!(
                    "expected `label<TAB>lang<TAB>text` or a JSON object, found {} tab-separated field{}",
                    fields.len(),
                    if fields.len() == 1 { "" } else { "s" }
                )))
            }
        }
    };
    Some(build(&label, &lang, text))
}

fn build(label: &str, lang: &str, text: String) -> Result<Example, String> {
    let label: Category = label.parse()?;
    let lang: Language = lang.parse()?;
    if text.trim().is_empty() {
        return Err("the text is empty".to_string());
    }
    Ok(Example { label, lang, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_and_jsonl_lines_can_be_mixed() {
        let input = "# a comment\n\
                     urgent\tfr\tÇa sent le gaz\n\
                     \n\
                     {\"label\":\"info\",\"lang\":\"en\",\"text\":\"When is pickup?\\tThanks\"}\n\
                     complaint\ten\tThe plow\tbroke my fence\r\n";
        let examples = parse_labelled(input).expect("valid input");
        assert_eq!(examples.len(), 3);
        assert_eq!(examples[0].label, Category::Urgent);
        assert_eq!(examples[0].lang, Language::Fr);
        assert_eq!(examples[1].text, "When is pickup?\tThanks");
        assert_eq!(examples[2].text, "The plow\tbroke my fence");
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number() {
        let err = parse_labelled("info\tfr\tallo\nurgent fr no tabs\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: expected `label<TAB>lang<TAB>text` or a JSON object, found 1 tab-separated field"
        );
        let err = parse_labelled("spam\tfr\tallo").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: unknown category \"spam\" (expected urgent, info or complaint)"
        );
        let err = parse_labelled("info\tde\tHallo").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("line 1: unknown language \"de\""));
        let err = parse_labelled("\n{\"label\":\"info\",\"text\":\"x\"}").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("line 2: invalid JSON object: missing field `lang`"));
        let err = parse_labelled("info\tfr\t   ").unwrap_err();
        assert_eq!(err.to_string(), "line 1: the text is empty");
    }

    #[test]
    fn the_lenient_parser_skips_bad_lines() {
        let examples = parse_lenient("info\tfr\tallo\nnonsense\nurgent\ten\tgas smell");
        assert_eq!(examples.len(), 2);
    }
}
