//! Language detection: French or English, from normalized tokens.
//!
//! Owns the stopword lists and the spelling patterns that tell the two apart. It has to work
//! on texts typed without accents, in SMS spelling, and on three-word messages, so it counts
//! words that exist in only one of the languages, adds weaker spelling cues for the other
//! words and the accents the citizen did type. Ties go to French: the city is francophone.
//! No I/O.

use std::sync::OnceLock;

use crate::domain::Language;

use super::features::{word_set, WordSet};
use super::normalize::Normalized;

/// How the language was decided, for the reasons shown to agents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LanguageGuess {
    pub language: Language,
    pub french: f32,
    pub english: f32,
}

impl LanguageGuess {
    pub fn reason(&self) -> String {
        if self.french == 0.0 && self.english == 0.0 {
            format!("language: {} (no cue, default)", self.language)
        } else if self.french == self.english {
            format!(
                "language: {} (tie {:.1}/{:.1}, default)",
                self.language, self.french, self.english
            )
        } else {
            format!(
                "language: {} (stopwords and spelling, fr {:.1} / en {:.1})",
                self.language, self.french, self.english
            )
        }
    }
}

/// Weight of a word that exists in one language only; spelling cues weigh less.
const STOPWORD: f32 = 1.0;
const SPELLING: f32 = 0.3;
const ACCENT: f32 = 0.5;
/// A long message full of accents should not outvote its words.
const MAX_ACCENT_SCORE: f32 = 2.0;

pub(crate) fn detect(tokens: &Normalized, accented_letters: u32) -> LanguageGuess {
    let mut french = (accented_letters as f32 * ACCENT).min(MAX_ACCENT_SCORE);
    let mut english = 0.0f32;
    for i in 0..tokens.len() {
        let t = tokens.token(i);
        if is_french_word(t) {
            french += STOPWORD;
        } else if is_english_word(t) {
            english += STOPWORD;
        } else {
            let (f, e) = spelling_cues(t);
            french += f * SPELLING;
            english += e * SPELLING;
        }
    }
    let language = if english > french {
        Language::En
    } else {
        Language::Fr
    };
    LanguageGuess {
        language,
        french,
        english,
    }
}

/// Frequent words that exist only in French (or whose English homograph is rare in a
/// message to a city). Ambiguous ones ("a", "on", "en", "me", "d", "s", "t", "m") are left out.
fn is_french_word(t: &str) -> bool {
    static SET: OnceLock<WordSet> = OnceLock::new();
    SET.get_or_init(|| word_set(FRENCH_WORDS)).contains(t)
}

const FRENCH_WORDS: &[&str] = &[
    "le",
    "la",
    "les",
    "de",
    "des",
    "du",
    "un",
    "une",
    "et",
    "est",
    "sont",
    "pas",
    "je",
    "j",
    "tu",
    "il",
    "elle",
    "nous",
    "vous",
    "ils",
    "elles",
    "que",
    "qu",
    "qui",
    "quoi",
    "pour",
    "dans",
    "sur",
    "avec",
    "ce",
    "c",
    "ca",
    "cette",
    "ces",
    "mon",
    "ma",
    "mes",
    "ton",
    "ta",
    "notre",
    "votre",
    "vos",
    "nos",
    "leur",
    "au",
    "aux",
    "y",
    "ne",
    "n",
    "l",
    "se",
    "mais",
    "donc",
    "car",
    "depuis",
    "chez",
    "rue",
    "eau",
    "merci",
    "bonjour",
    "bonsoir",
    "allo",
    "salut",
    "pourquoi",
    "quand",
    "comment",
    "ai",
    "avez",
    "avons",
    "ont",
    "fait",
    "faire",
    "plus",
    "tres",
    "rien",
    "encore",
    "toujours",
    "deja",
    "aussi",
    "ici",
    "oui",
    "non",
    "parce",
    "puis",
    "etre",
    "etait",
    "ete",
    "peux",
    "peut",
    "pouvez",
    "veux",
    "voudrais",
    "bien",
    "mal",
    "quel",
    "quelle",
    "quelles",
    "quels",
    "ou",
    "tout",
    "toute",
    "tous",
    "toutes",
    "ville",
    "jour",
    "jours",
    "semaine",
    "heures",
    "maison",
    "aujourdhui",
    "hier",
    "demain",
    "moi",
    "toi",
    "lui",
    "suis",
    "es",
    "avoir",
    "beaucoup",
    "maintenant",
    "courant",
    "odeur",
    "ordures",
    "poubelle",
    "bac",
    "deneigement",
    "trottoir",
    "quartier",
];

/// Frequent words that exist only in English.
fn is_english_word(t: &str) -> bool {
    static SET: OnceLock<WordSet> = OnceLock::new();
    SET.get_or_init(|| word_set(ENGLISH_WORDS)).contains(t)
}

const ENGLISH_WORDS: &[&str] = &[
    "the",
    "and",
    "is",
    "are",
    "was",
    "were",
    "i",
    "you",
    "he",
    "she",
    "it",
    "we",
    "they",
    "my",
    "your",
    "our",
    "their",
    "his",
    "her",
    "to",
    "of",
    "in",
    "at",
    "for",
    "with",
    "this",
    "that",
    "these",
    "there",
    "what",
    "when",
    "where",
    "why",
    "how",
    "who",
    "not",
    "no",
    "do",
    "does",
    "did",
    "don",
    "have",
    "has",
    "had",
    "be",
    "been",
    "can",
    "could",
    "will",
    "would",
    "should",
    "please",
    "thanks",
    "thank",
    "hello",
    "hi",
    "hey",
    "street",
    "water",
    "from",
    "just",
    "since",
    "still",
    "again",
    "any",
    "some",
    "about",
    "ll",
    "ve",
    "re",
    "am",
    "an",
    "if",
    "or",
    "but",
    "so",
    "all",
    "get",
    "got",
    "out",
    "up",
    "now",
    "here",
    "yes",
    "city",
    "house",
    "home",
    "days",
    "week",
    "weeks",
    "yesterday",
    "today",
    "tomorrow",
    "power",
    "smell",
    "smells",
    "like",
    "going",
    "coming",
    "garbage",
    "snow",
    "sidewalk",
    "neighbourhood",
    "neighborhood",
    "which",
    "into",
    "than",
    "then",
    "them",
];

/// Spelling cues for a word that is in neither list: (French, English) counts.
fn spelling_cues(t: &str) -> (f32, f32) {
    let b = t.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_alphabetic() {
        return (0.0, 0.0);
    }
    let mut fr = 0.0;
    let mut en = 0.0;
    if t.ends_with("ing") && b.len() > 4 {
        en += 1.0;
    }
    if t.contains("th") || t.starts_with("wh") || t.contains("ght") || t.contains("ould") {
        en += 1.0;
    }
    // "w" and "k" are rare in French words (outside loans and SMS).
    if t.contains('w') {
        en += 1.0;
    }
    if t.ends_with("eau")
        || t.ends_with("eaux")
        || t.ends_with("aux")
        || t.ends_with("eux")
        || t.ends_with("euse")
        || t.ends_with("ez")
        || t.ends_with("ait")
        || t.ends_with("aient")
        || t.ends_with("ais")
        || t.ends_with("ique")
        || t.ends_with("ee")
        || t.ends_with("ees")
        || t.ends_with("oir")
    {
        fr += 1.0;
    }
    if t.contains("qu") && !t.starts_with("squ") {
        fr += 0.5;
    }
    (fr, en)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::{normalize_words, segment, Segmented};

    fn language(text: &str) -> Language {
        let mut seg = Segmented::default();
        let mut norm = Normalized::default();
        segment(text, &mut seg);
        normalize_words(&seg, &mut norm);
        detect(&norm, seg.accented).language
    }

    #[test]
    fn french_is_detected_with_or_without_accents() {
        assert_eq!(language("Il n'y a plus d'eau sur ma rue"), Language::Fr);
        assert_eq!(language("ya pu deau su ma rue"), Language::Fr);
        assert_eq!(language("Électricité coupée"), Language::Fr);
        assert_eq!(
            language("chu tanné, pk le bac est pas ramassé"),
            Language::Fr
        );
    }

    #[test]
    fn english_is_detected_in_short_and_informal_messages() {
        assert_eq!(language("no water on my street"), Language::En);
        assert_eq!(language("smells like gas"), Language::En);
        assert_eq!(language("when is garbage pickup?"), Language::En);
        assert_eq!(language("pls fix the pothole"), Language::En);
    }

    #[test]
    fn ties_and_empty_texts_default_to_french() {
        assert_eq!(language(""), Language::Fr);
        assert_eq!(language("!!!"), Language::Fr);
        assert_eq!(language("1234"), Language::Fr);
    }
}
