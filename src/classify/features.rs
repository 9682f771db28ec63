//! Feature extraction: normalized tokens to hashed feature indices.
//!
//! Owns what the model sees: word stems (Snowball, French and English) and stem bigrams,
//! concept classes and a bilingual glossary shared by both languages, typographic signals
//! (question mark, exclamations, emojis, length), the contexts the safety rules saw (past,
//! chronic, ongoing, planned, billing, figurative) and the concepts of the lexicon. Function
//! words are damped and repeated features count sublinearly, as in TF-IDF; the inverse
//! document frequency is the model's. Character 4-grams of each word ("|eau", "brul", "ule|")
//! are on: they carry typos, SMS spellings and inflections the stems miss (+0.02 macro-F1 on
//! the development set, where cross-validation on the corpus saw nothing).
//! Features are hashed into a fixed-size table, so no n-gram is ever built as a `String`:
//! extraction allocates nothing once its buffers have grown. No I/O.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

use crate::domain::Language;

use super::normalize::{Normalized, Segmented};

/// Which stems feed the unigram and bigram features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Stemming {
    /// The words as normalized.
    None,
    /// The stemmer of the detected language (measured by cross-validation, not used).
    #[cfg_attr(not(test), allow(dead_code))]
    Detected,
    /// Both stemmers (two features when the stems differ): robust to a wrong language guess
    /// and to mixed messages.
    Both,
}

/// The shape of the feature space; chosen by cross-validation (see `eval`). Each kind of
/// feature has a weight (0 turns it off): with unit-length vectors, a kind that produces
/// many features (character n-grams) would otherwise drown the others.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub(crate) struct FeatureConfig {
    /// log2 of the hashed table size.
    pub bits: u32,
    pub stemming: Stemming,
    /// Stem bigrams.
    pub bigrams: f32,
    /// Character n-grams within word boundaries ("|eau|"), sizes `char_min..=char_max`.
    pub chars: f32,
    pub char_min: usize,
    pub char_max: usize,
    /// Question mark, exclamations, emojis, message length.
    pub signals: f32,
    /// Concept classes shared by French and English words ("danger", "now", "chronic",
    /// "how-to"...): a word unseen in training still counts through its class.
    pub concepts: f32,
    /// One shared feature for a French word and its English counterpart ("eau" and
    /// "water"): what is learned from one language serves the other.
    pub glossary: f32,
    /// What the safety rules saw around a message: past, chronic, ongoing or planned
    /// contexts.
    pub context_cues: f32,
    /// Whether the safety rules found a hazard phrase (armed or disarmed).
    pub hazard_cues: f32,
    /// The concepts of the lexicon (person at risk, utility billing...), found armed or not.
    pub concept_cues: f32,
    /// Weight of the word and character features of function words ("je", "ai", "nous",
    /// "our", "the"): they carry the style of whoever wrote the training messages, not what
    /// a message is about.
    pub function_words: f32,
    /// Repeated features count `1 + ln(count)` times, not `count` times (sublinear tf).
    pub sublinear: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            bits: 18,
            stemming: Stemming::Both,
            bigrams: 1.5,
            chars: 0.5,
            char_min: 4,
            char_max: 4,
            signals: 1.0,
            concepts: 1.0,
            glossary: 1.0,
            context_cues: 1.0,
            hazard_cues: 0.0,
            concept_cues: 2.0,
            function_words: 0.75,
            sublinear: true,
        }
    }
}

/// Feature indices of one message; `token[i]` is the token that produced `index[i]`
/// ([`GLOBAL`] for message-level signals), so the model can say which words decided.
#[derive(Debug, Default, Clone)]
pub(crate) struct Features {
    pub index: Vec<u32>,
    pub token: Vec<u32>,
    pub value: Vec<f32>,
    /// Scratch for merging repeated indices.
    pub(super) merge: Vec<(u32, u32, f32)>,
}

/// Token attribution of message-level features.
pub(crate) const GLOBAL: u32 = u32::MAX;

impl Features {
    pub fn clear(&mut self) {
        self.index.clear();
        self.token.clear();
        self.value.clear();
    }

    /// A copy of the features without the scratch buffer, to keep for training.
    pub fn to_owned_features(&self) -> Features {
        Features {
            index: self.index.clone(),
            token: self.token.clone(),
            value: self.value.clone(),
            merge: Vec::new(),
        }
    }

    /// Merges repeated indices: `n` occurrences of value `v` become one of `v (1 + ln n)`,
    /// attributed to the first token that produced it.
    fn sublinear(&mut self) {
        let n = self.index.len();
        if n < 2 {
            return;
        }
        let merge = &mut self.merge;
        merge.clear();
        merge.extend((0..n).map(|i| (self.index[i], self.token[i], self.value[i])));
        merge.sort_unstable_by_key(|&(f, t, _)| (f, t));
        self.index.clear();
        self.token.clear();
        self.value.clear();
        let mut k = 0;
        while k < n {
            let (f, t, _) = merge[k];
            let (mut sum, mut count) = (0.0f32, 0u32);
            while k < n && merge[k].0 == f {
                sum += merge[k].2;
                count += 1;
                k += 1;
            }
            self.index.push(f);
            self.token.push(t);
            self.value
                .push(sum / count as f32 * (1.0 + (count as f32).ln()));
        }
    }

    fn push(&mut self, hash: u64, mask: u64, token: u32, value: f32) {
        if value != 0.0 {
            self.index.push((hash & mask) as u32);
            self.token.push(token);
            self.value.push(value);
        }
    }
}

pub(crate) struct Extractor {
    pub config: FeatureConfig,
    french: Stemmer,
    english: Stemmer,
    /// Hashed (French, English) stems of the training vocabulary: Snowball is the costliest
    /// step of extraction, and most words of a new message were seen in training.
    stem_cache: HashMap<Box<str>, [u64; 2], FastHash>,
}

impl std::fmt::Debug for Extractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extractor")
            .field("config", &self.config)
            .finish()
    }
}

// Seeds keep the feature kinds apart in the shared table.
const SEED_WORD: u64 = 0x9e37_79b9_7f4a_7c15;
const SEED_BIGRAM: u64 = 0xc2b2_ae3d_27d4_eb4f;
const SEED_CHAR: u64 = 0x1656_67b1_9e37_79f9;
const SEED_SIGNAL: u64 = 0x27d4_eb2f_1656_67c5;
const SEED_CONCEPT: u64 = 0x85eb_ca77_c2b2_ae63;
const SEED_GLOSS: u64 = 0xd6e8_feb8_6659_fd93;

impl Extractor {
    pub fn new(config: FeatureConfig) -> Extractor {
        Extractor {
            config,
            french: Stemmer::create(Algorithm::French),
            english: Stemmer::create(Algorithm::English),
            stem_cache: HashMap::default(),
        }
    }

    /// Remembers the stems of these words (the training vocabulary).
    pub fn cache_stems<'a>(&mut self, words: impl IntoIterator<Item = &'a str>) {
        for word in words {
            if word.len() > 3 && !self.stem_cache.contains_key(word) {
                let stems = self.compute_stems(word);
                self.stem_cache.insert(word.into(), stems);
            }
        }
    }

    fn compute_stems(&self, token: &str) -> [u64; 2] {
        [
            hash_bytes(SEED_WORD, self.french.stem(token).as_bytes()),
            hash_bytes(SEED_WORD, self.english.stem(token).as_bytes()),
        ]
    }

    /// The unigram hashes of a token: the stem in the message's language first, then the
    /// other language's stem when it differs (see [`Stemming`]).
    fn stem_hashes(&self, token: &str, language: Language) -> (u64, Option<u64>) {
        // Snowball leaves short words alone anyway; skipping it saves time.
        if token.len() <= 3 || self.config.stemming == Stemming::None {
            return (hash_bytes(SEED_WORD, token.as_bytes()), None);
        }
        let [fr, en] = match self.stem_cache.get(token) {
            Some(&stems) => stems,
            None => self.compute_stems(token),
        };
        let (first, second) = match language {
            Language::Fr => (fr, en),
            Language::En => (en, fr),
        };
        match self.config.stemming {
            Stemming::Both if second != first => (first, Some(second)),
            _ => (first, None),
        }
    }

    pub fn dim(&self) -> usize {
        1usize << self.config.bits
    }

    /// Appends the features of a message to `out` (cleared first). Tokens for which `skip`
    /// is true (profanity) produce nothing: swearing says how upset a citizen is, not what
    /// the request is about. `cues` are message-level facts from the safety rules.
    pub fn extract(
        &self,
        seg: &Segmented,
        norm: &Normalized,
        language: Language,
        skip: impl Fn(&str) -> bool,
        cues: &[&'static str],
        out: &mut Features,
    ) {
        out.clear();
        let c = &self.config;
        let mask = (1u64 << c.bits) - 1;
        let mut prev: Option<u64> = None;
        let mut kept = 0usize;
        for i in 0..norm.len() {
            let token = norm.token(i);
            if skip(token) {
                continue;
            }
            kept += 1;
            let at = i as u32;
            if token.bytes().all(|b| b.is_ascii_digit()) {
                // House numbers and phone numbers: their presence matters, not their value.
                let h = hash_bytes(SEED_WORD, b"#number");
                out.push(h, mask, at, 1.0);
                if let Some(p) = prev {
                    out.push(combine(SEED_BIGRAM, p, h), mask, at, c.bigrams);
                }
                prev = Some(h);
                continue;
            }
            let (h, other) = self.stem_hashes(token, language);
            let weight = if is_function_word(token) {
                c.function_words
            } else {
                1.0
            };
            out.push(h, mask, at, weight);
            if let Some(other) = other {
                out.push(other, mask, at, weight);
            }
            if let Some(p) = prev {
                out.push(combine(SEED_BIGRAM, p, h), mask, at, c.bigrams);
            }
            prev = Some(h);
            if c.chars != 0.0 {
                self.char_ngrams(token, mask, at, c.chars * weight, out);
            }
            if let Some(name) = concept(token) {
                out.push(
                    hash_bytes(SEED_CONCEPT, name.as_bytes()),
                    mask,
                    at,
                    c.concepts,
                );
            }
            if let Some(name) = gloss(token) {
                out.push(
                    hash_bytes(SEED_GLOSS, name.as_bytes()),
                    mask,
                    at,
                    c.glossary,
                );
            }
        }
        for cue in cues {
            let weight = if cue.starts_with("hazard:") {
                c.hazard_cues
            } else if cue.starts_with("concept:") {
                c.concept_cues
            } else {
                c.context_cues
            };
            out.push(
                hash_bytes(SEED_SIGNAL, cue.as_bytes()),
                mask,
                GLOBAL,
                weight,
            );
        }
        if c.signals != 0.0 {
            let weight = c.signals;
            let mut signal =
                |name: &[u8]| out.push(hash_bytes(SEED_SIGNAL, name), mask, GLOBAL, weight);
            if seg.questions > 0 {
                signal(b"question");
            }
            if seg.exclamations > 0 {
                signal(b"exclamation");
            }
            if seg.exclamations > 1 {
                signal(b"exclamations");
            }
            if seg.angry_emojis > 0 {
                signal(b"angry");
            }
            if seg.alarm_emojis > 0 {
                signal(b"alarm");
            }
            signal(match kept {
                0..=3 => b"length:short",
                4..=12 => b"length:medium",
                _ => b"length:long",
            });
        }
        if c.sublinear {
            out.sublinear();
        }
    }

    /// Character n-grams of "<token>", hashed with a rolling start so nothing is allocated.
    fn char_ngrams(&self, token: &str, mask: u64, at: u32, weight: f32, out: &mut Features) {
        let (min, max) = (self.config.char_min, self.config.char_max);
        if min == 0 || min > max {
            return;
        }
        let bytes = token.as_bytes();
        let padded_len = bytes.len() + 2;
        let byte_at = |i: usize| -> u8 {
            if i == 0 || i == padded_len - 1 {
                b'|'
            } else {
                bytes[i - 1]
            }
        };
        for start in 0..padded_len {
            let mut h = SEED_CHAR;
            for len in 1..=max.min(padded_len - start) {
                h = fnv_step(h, byte_at(start + len - 1));
                if len >= min {
                    out.push(mix(h ^ len as u64), mask, at, weight);
                }
            }
        }
    }
}

/// French and English function words: pronouns, articles, auxiliaries, prepositions. Not
/// negations ("pas", "no", "not"), nor question words: those decide triage.
fn is_function_word(token: &str) -> bool {
    static SET: OnceLock<WordSet> = OnceLock::new();
    SET.get_or_init(|| word_set(FUNCTION_WORDS)).contains(token)
}

const FUNCTION_WORDS: &[&str] = &[
    // French
    "je", "j", "tu", "il", "ils", "elle", "elles", "on", "nous", "vous", "me", "m", "te", "t", "se",
    "s", "le", "la", "les", "l", "un", "une", "des", "de", "d", "du", "au", "aux", "et", "ou",
    "mais", "donc", "car", "que", "qu", "qui", "ce", "c", "ca", "cet", "cette", "ces", "mon", "ma",
    "mes", "ton", "ta", "tes", "son", "sa", "ses", "notre", "nos", "votre", "vos", "leur", "leurs",
    "y", "en", "ne", "n", "ai", "as", "a", "avons", "avez", "ont", "est", "suis", "es", "sont",
    "sommes", "etes", "etait", "avait", "dans", "sur", "pour", "par", "avec", "chez", "moi", "toi",
    "lui", "eux", "fait", "faire", "bien", "aussi", "tout", "tous", "toute", "toutes", "puis",
    "bonjour", "merci", "allo", "salut", // English
    "i", "my", "we", "our", "us", "you", "your", "he", "she", "they", "them", "their", "his",
    "her", "it", "its", "an", "the", "am", "is", "are", "was", "were", "be", "been", "to", "of",
    "in", "at", "for", "with", "and", "or", "but", "so", "that", "this", "these", "those", "there",
    "here", "do", "does", "did", "have", "has", "had", "re", "ve", "ll", "by", "from", "just",
    "hi", "hello", "hey", "thanks", "thank", "please",
];

/// The shared name of a city-service word and its translation.
fn gloss(token: &str) -> Option<&'static str> {
    static MAP: OnceLock<WordMap> = OnceLock::new();
    MAP.get_or_init(|| word_map(GLOSSARY)).get(token).copied()
}

const GLOSSARY: &[(&str, &[&str])] = &[
    ("water", &["eau", "water"]),
    ("tap", &["robinet", "robinets", "tap", "taps"]),
    ("power", &["courant", "electricite", "power", "electricity"]),
    ("gas", &["gaz", "gas"]),
    ("smell", &["odeur", "senteur", "smell", "odor", "odour"]),
    ("leak", &["fuite", "fuit", "leak", "leaking"]),
    ("sewer", &["egout", "egouts", "sewer", "sewers", "sewage"]),
    ("basement", &["sous", "basement"]),
    (
        "flood",
        &[
            "inonde",
            "inondee",
            "inondation",
            "flood",
            "flooded",
            "flooding",
        ],
    ),
    (
        "street",
        &["rue", "rues", "street", "streets", "road", "chemin"],
    ),
    (
        "sidewalk",
        &["trottoir", "trottoirs", "sidewalk", "sidewalks"],
    ),
    ("tree", &["arbre", "arbres", "tree", "trees"]),
    ("branch", &["branche", "branches", "branch", "limb"]),
    ("wire", &["fil", "fils", "wire", "wires", "cable", "cables"]),
    ("pole", &["poteau", "pole"]),
    ("lights", &["feux", "lumieres", "lights", "signals"]),
    ("streetlight", &["lampadaire", "streetlight"]),
    ("hole", &["trou", "trous", "hole", "holes"]),
    ("pothole", &["nid", "pothole", "potholes"]),
    ("ice", &["glace", "verglas", "ice", "icy"]),
    ("snow", &["neige", "snow"]),
    (
        "plow",
        &[
            "deneigement",
            "charrue",
            "souffleuse",
            "plow",
            "plowing",
            "snowplow",
        ],
    ),
    ("bin", &["bac", "bacs", "bin", "bins"]),
    (
        "garbage",
        &["vidanges", "ordures", "poubelles", "garbage", "trash"],
    ),
    ("recycling", &["recyclage", "recycling"]),
    ("compost", &["compost"]),
    ("pickup", &["collecte", "pickup", "collection"]),
    ("truck", &["camion", "truck"]),
    ("permit", &["permis", "permit", "permits"]),
    ("pool", &["piscine", "pool"]),
    ("library", &["bibliotheque", "library"]),
    ("park", &["parc", "park"]),
    ("tax", &["taxes", "tax"]),
    ("bill", &["facture", "bill"]),
    ("account", &["compte", "account"]),
    (
        "neighbour",
        &[
            "voisin",
            "voisins",
            "neighbour",
            "neighbours",
            "neighbor",
            "neighbors",
        ],
    ),
    ("noise", &["bruit", "noise", "loud"]),
    ("dog", &["chien", "chiens", "dog", "dogs"]),
    (
        "child",
        &["enfants", "enfant", "kids", "kid", "children", "child"],
    ),
    ("school", &["ecole", "school"]),
    ("hours", &["heures", "horaire", "hours", "schedule"]),
    ("open", &["ouvert", "ouverte", "open"]),
    ("closed", &["ferme", "fermee", "closed"]),
    (
        "register",
        &["inscription", "inscrire", "register", "registration"],
    ),
    ("pay", &["payer", "paye", "pay", "paid", "paying"]),
    ("notice", &["avis", "notice", "advisory"]),
    ("boil", &["bouillir", "boil", "ebullition"]),
    ("drink", &["boire", "drink", "potable", "drinkable"]),
    ("outage", &["panne", "outage", "blackout"]),
    ("cut", &["coupe", "coupee", "coupure", "cut", "shutoff"]),
    (
        "fallen",
        &["tombe", "tombee", "tombes", "fell", "fallen", "down"],
    ),
    (
        "broken",
        &["brise", "brisee", "casse", "cassee", "broken", "broke"],
    ),
    ("danger", &["dangereux", "danger", "dangerous"]),
    ("now", &["maintenant", "now"]),
    ("since", &["depuis", "since"]),
    ("still", &["encore", "still", "again"]),
    ("week", &["semaine", "week"]),
    ("yesterday", &["hier", "yesterday"]),
    ("morning", &["matin", "morning"]),
    ("night", &["soir", "evening", "night", "nuit"]),
    (
        "collected",
        &[
            "ramasse",
            "ramassee",
            "ramassees",
            "ramasser",
            "collected",
            "picked",
        ],
    ),
    ("staff", &["employe", "employes", "employee", "staff"]),
    ("complaint", &["plainte", "complaint"]),
    ("fix", &["reparer", "repare", "fix", "fixed", "repair"]),
    ("parking", &["stationnement", "parking"]),
    ("fine", &["amende", "ticket", "constat", "fine"]),
    ("stop", &["arret", "stop"]),
    ("bus", &["autobus", "bus"]),
    ("bike", &["velo", "bike"]),
    (
        "works",
        &["chantier", "construction", "travaux", "roadwork"],
    ),
    ("dust", &["poussiere", "dust"]),
    ("rats", &["rats", "rat"]),
    ("dead", &["mort", "dead"]),
];

/// The concept class of a normalized word, in either language.
fn concept(token: &str) -> Option<&'static str> {
    static MAP: OnceLock<WordMap> = OnceLock::new();
    MAP.get_or_init(|| word_map(CONCEPTS)).get(token).copied()
}

const CONCEPTS: &[(&str, &[&str])] = &[
    (
        "danger",
        &[
            "danger",
            "dangereux",
            "dangereuse",
            "dangerous",
            "risque",
            "blesser",
            "blesse",
            "hurt",
            "injured",
            "killed",
            "accident",
            "accrochage",
            "chaos",
            "panique",
            "panic",
            "evacuer",
            "evacuate",
            "evacuating",
            "pompiers",
            "firefighters",
            "ambulance",
            "police",
            "911",
            "urgent",
            "urgence",
            "emergency",
            "secours",
            "help",
            "aide",
            "aidez",
            "vite",
            "asap",
            "presse",
        ],
    ),
    (
        "now",
        &[
            "maintenant",
            "now",
            "moment",
            "presentement",
            "actuellement",
            "currently",
            "tantot",
            "just",
            "vient",
            "minute",
            "minutes",
            "heure",
            "heures",
            "hour",
            "hours",
            "matin",
            "morning",
            "tonight",
            "midi",
            "noon",
        ],
    ),
    (
        "chronic",
        &[
            "semaines",
            "mois",
            "weeks",
            "months",
            "years",
            "always",
            "jamais",
            "never",
            "chaque",
            "every",
            "souvent",
            "often",
            "longtemps",
            "encore",
            "toujours",
        ],
    ),
    (
        "vulnerable",
        &[
            "enfants", "enfant", "kids", "kid", "children", "child", "bebe", "baby", "ecole",
            "school", "garderie", "daycare", "agees", "seniors", "elderly", "aines", "toddlers",
            "eleves", "students",
        ],
    ),
    (
        "how-to",
        &[
            "comment",
            "how",
            "quand",
            "when",
            "where",
            "quel",
            "quelle",
            "quels",
            "quelles",
            "what",
            "which",
            "peut",
            "peux",
            "can",
            "could",
            "faut",
            "need",
            "permis",
            "permit",
            "horaire",
            "schedule",
            "inscription",
            "inscrire",
            "register",
            "registration",
            "savoir",
            "know",
            "wondering",
            "info",
            "infos",
            "information",
            "question",
            "ouvert",
            "ouverte",
            "open",
            "combien",
            "cost",
            "prix",
        ],
    ),
    (
        "grievance",
        &[
            "inacceptable",
            "unacceptable",
            "ridicule",
            "ridiculous",
            "tanne",
            "sick",
            "fed",
            "bete",
            "rude",
            "terrible",
            "awful",
            "joke",
            "injuste",
            "unfair",
            "abusif",
            "abusifs",
            "abusive",
            "honte",
            "shame",
            "personne",
            "nobody",
            "rien",
            "nothing",
            "normal",
            "serieux",
            "serious",
            "fair",
            "juste",
            "disrespectfully",
            "impossible",
            "trop",
            "too",
            "still",
            "again",
            "fois",
            "time",
            "paie",
            "pays",
            "payer",
            "paying",
            "taxes",
            "compensation",
            "dedommage",
            "dedommagee",
            "rembourse",
            "refund",
            "attends",
            "waiting",
            "waited",
            "oubli",
            "forgot",
            "skipped",
            "saute",
            "missed",
            "manque",
        ],
    ),
    (
        "damage",
        &[
            "brise",
            "brisee",
            "brises",
            "casse",
            "cassee",
            "abime",
            "abimee",
            "endommage",
            "endommagee",
            "scratched",
            "scratch",
            "damaged",
            "broke",
            "broken",
            "destroyed",
            "tore",
            "ripped",
            "smashed",
            "cracked",
            "detruit",
            "egratigne",
            "fissure",
            "defonce",
        ],
    ),
    (
        "fix",
        &[
            "reparer",
            "repair",
            "fix",
            "boucher",
            "fill",
            "filled",
            "ramasser",
            "pick",
            "vider",
            "empty",
            "repasser",
            "remplacer",
            "replace",
            "nettoyer",
            "clean",
            "enlever",
            "remove",
            "deneiger",
            "plow",
            "plowed",
            "souffler",
            "elaguer",
            "ramasse",
            "ramassee",
            "ramassees",
            "vide",
            "collected",
            "emptied",
        ],
    ),
    ("thanks", &["merci", "thanks", "thank"]),
    (
        "greeting",
        &["bonjour", "allo", "hello", "hi", "hey", "salut", "bonsoir"],
    ),
];

/// A multiply-rotate hash over 8-byte words with a final mix (in the spirit of FxHash):
/// the keys of the classifier's tables are short words, for which the standard library's
/// DoS-resistant hasher is several times slower. The tables are built from compiled-in word
/// lists and the training vocabulary, not from citizens' input, so flooding is no concern.
#[derive(Default)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(word) ^ rest.len() as u64).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        mix(self.0)
    }
}

pub(crate) type FastHash = BuildHasherDefault<FastHasher>;

/// A word list as a set: one hash instead of a comparison per word of the list.
pub(crate) type WordSet = HashSet<&'static str, FastHash>;

pub(crate) fn word_set(words: &[&'static str]) -> WordSet {
    words.iter().copied().collect()
}

/// A word-to-class table.
pub(crate) type WordMap = HashMap<&'static str, &'static str, FastHash>;

fn word_map(classes: &[(&'static str, &[&'static str])]) -> WordMap {
    classes
        .iter()
        .flat_map(|&(class, words)| words.iter().map(move |&w| (w, class)))
        .collect()
}

fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
}

/// Finaliser (from splitmix64): FNV alone leaves the low bits poorly mixed.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    mix(bytes.iter().fold(seed, |h, &b| fnv_step(h, b)))
}

fn combine(seed: u64, a: u64, b: u64) -> u64 {
    mix(seed ^ a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b.rotate_left(17))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::{normalize_words, segment};

    fn features(text: &str, config: FeatureConfig) -> Features {
        let mut seg = Segmented::default();
        let mut norm = Normalized::default();
        segment(text, &mut seg);
        normalize_words(&seg, &mut norm);
        let mut out = Features::default();
        Extractor::new(config).extract(&seg, &norm, Language::Fr, |_| false, &[], &mut out);
        out
    }

    #[test]
    fn every_index_fits_the_table() {
        let config = FeatureConfig {
            bits: 10,
            ..FeatureConfig::default()
        };
        let f = features(
            "Il n'y a plus d'eau au 1234 rue Principale depuis ce matin!",
            config,
        );
        assert!(!f.index.is_empty());
        assert!(f.index.iter().all(|&i| i < 1024));
    }

    #[test]
    fn accents_and_case_do_not_change_the_features() {
        let config = FeatureConfig::default();
        let a = features("Électricité coupée", config);
        let b = features("electricite COUPEE", config);
        assert_eq!(a.index, b.index);
    }

    #[test]
    fn skipped_tokens_produce_no_feature() {
        let mut seg = Segmented::default();
        let mut norm = Normalized::default();
        segment("ostie", &mut seg);
        normalize_words(&seg, &mut norm);
        let mut out = Features::default();
        let config = FeatureConfig {
            signals: 0.0,
            ..FeatureConfig::default()
        };
        Extractor::new(config).extract(&seg, &norm, Language::Fr, |t| t == "ostie", &[], &mut out);
        assert!(out.index.is_empty());
    }
}
