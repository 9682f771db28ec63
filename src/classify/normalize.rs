//! Text normalisation: from what a citizen typed to lowercase ASCII words.
//!
//! Owns the two passes every other part of the classifier reads from:
//! [`segment`] cuts the original text into words (keeping their byte spans, so moderation
//! can mask them in place) and folds each one to lowercase ASCII; [`normalize_words`] then
//! maps Quebec and SMS spellings to standard ones and splits elisions typed without their
//! apostrophe ("lavis" to "l avis"). [`normalize`] joins the result with
//! single spaces; the FAQ matcher relies on that exact shape. No I/O.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use super::features::FastHash;

/// One word of the original text.
#[derive(Debug, Clone)]
pub(crate) struct Word {
    /// Byte span in the original text (for masking).
    pub span: Range<usize>,
    /// Span of the folded form in [`Segmented::folded`].
    pub folded: Range<usize>,
    /// Sentences end at `.`, `!`, `?`, `;` and line breaks; rules read context per sentence.
    pub sentence: u32,
    /// Clauses also end at `,` and `:`; moderation only links words of one clause.
    pub clause: u32,
    /// The word's sentence ends with a question mark.
    pub question: bool,
}

/// The original text cut into words, plus the few typographic signals the model reads.
#[derive(Debug, Default)]
pub(crate) struct Segmented {
    /// Folded words back to back; each [`Word`] knows its range.
    pub folded: String,
    pub words: Vec<Word>,
    /// Letters that carried a diacritic (é, à, ç...): a strong hint of French.
    pub accented: u32,
    pub questions: u32,
    pub exclamations: u32,
    /// Angry faces (😡 🤬 😠 😤) and alarm signs (🚨 ⚠ 🆘 🔥 💧): emojis carry intent.
    pub angry_emojis: u32,
    pub alarm_emojis: u32,
}

impl Segmented {
    pub fn clear(&mut self) {
        self.folded.clear();
        self.words.clear();
        self.accented = 0;
        self.questions = 0;
        self.exclamations = 0;
        self.angry_emojis = 0;
        self.alarm_emojis = 0;
    }

    pub fn word(&self, i: usize) -> &str {
        &self.folded[self.words[i].folded.clone()]
    }
}

/// A normalized token; `word` is the index of the original word it came from.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub range: Range<usize>,
    pub word: usize,
}

/// Normalized tokens, stored space-separated in `text` (which is [`normalize`]'s output).
#[derive(Debug, Default)]
pub(crate) struct Normalized {
    pub text: String,
    pub tokens: Vec<Token>,
}

impl Normalized {
    pub fn clear(&mut self) {
        self.text.clear();
        self.tokens.clear();
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn token(&self, i: usize) -> &str {
        &self.text[self.tokens[i].range.clone()]
    }

    fn push(&mut self, token: &str, word: usize) {
        if token.is_empty() {
            return;
        }
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        let start = self.text.len();
        self.text.push_str(token);
        self.tokens.push(Token {
            range: start..self.text.len(),
            word,
        });
    }

    fn pop(&mut self) {
        if let Some(t) = self.tokens.pop() {
            // Also drop the separating space, if any.
            self.text.truncate(t.range.start.saturating_sub(1));
        }
    }

    fn last(&self) -> Option<&str> {
        self.tokens.last().map(|t| &self.text[t.range.clone()])
    }

    fn nth_last(&self, n: usize) -> Option<&str> {
        let len = self.tokens.len();
        if n < len {
            Some(&self.text[self.tokens[len - 1 - n].range.clone()])
        } else {
            None
        }
    }
}

/// Lowercase, accents stripped, elisions split, punctuation to spaces, Quebec and SMS
/// spellings mapped, whitespace collapsed: lowercase ASCII words separated by single spaces.
/// For example "Y'a PU d'eau à l'hôtel de ville!!" becomes "y a plus d eau a l hotel de ville".
pub fn normalize(text: &str) -> String {
    let mut seg = Segmented::default();
    let mut norm = Normalized::default();
    segment(text, &mut seg);
    normalize_words(&seg, &mut norm);
    norm.text
}

/// Cuts `text` into words and folds each to lowercase ASCII.
///
/// Word characters are letters, digits and combining marks (a decomposed "e\u{301}" stays
/// one word). Everything else separates words, which is what splits elisions: "l'eau"
/// gives "l" and "eau". Letters with no ASCII form (Arabic, Hebrew, CJK) belong to a word
/// but fold to nothing; a word that folds to nothing is dropped.
pub(crate) fn segment(text: &str, out: &mut Segmented) {
    out.clear();
    let mut sentence = 0u32;
    let mut clause = 0u32;
    let mut word_start: Option<usize> = None;
    let mut folded_start = 0usize;
    // Runs of three or more identical letters ("urgentttt", "svppp", "nooon") are emphasis:
    // French and English spell at most two, so the run folds to a single letter.
    let mut run_char = '\0';
    let mut run_len = 0u32;

    for (at, c) in text.char_indices() {
        let is_word_char = if c.is_ascii() {
            c.is_ascii_alphanumeric()
        } else {
            c.is_alphanumeric() || is_combining_mark(c)
        };
        if is_word_char {
            if word_start.is_none() {
                word_start = Some(at);
                folded_start = out.folded.len();
                run_char = '\0';
                run_len = 0;
            }
            let mut push = |f: char, out: &mut Segmented| {
                if f.is_ascii_alphabetic() && f == run_char {
                    run_len += 1;
                } else {
                    run_char = f;
                    run_len = 1;
                }
                match run_len {
                    1 | 2 => out.folded.push(f),
                    // The third in a row: the run was emphasis, take back the second.
                    3 => {
                        out.folded.pop();
                    }
                    _ => {}
                }
            };
            if c.is_ascii() {
                push(c.to_ascii_lowercase(), out);
            } else {
                fold_non_ascii(c, &mut |f, accented| {
                    if accented {
                        out.accented += 1;
                    }
                    push(f, out);
                });
            }
        } else {
            if let Some(start) = word_start.take() {
                close_word(out, start, at, folded_start, sentence, clause);
            }
            if c == '?' {
                for w in out.words.iter_mut().rev() {
                    if w.sentence != sentence || w.question {
                        break;
                    }
                    w.question = true;
                }
            }
            match c {
                '.' | '!' | '?' | ';' | '\n' | '…' | '¿' | '¡' => {
                    sentence += 1;
                    clause += 1;
                }
                ',' | ':' => clause += 1,
                _ => {}
            }
            match c {
                '?' | '¿' => out.questions += 1,
                '!' | '¡' => out.exclamations += 1,
                '😡' | '🤬' | '😠' | '😤' | '👎' | '🖕' => out.angry_emojis += 1,
                '🚨' | '⚠' | '🆘' | '🔥' | '💧' | '⚡' | '🌊' => out.alarm_emojis += 1,
                _ => {}
            }
        }
    }
    if let Some(start) = word_start {
        close_word(out, start, text.len(), folded_start, sentence, clause);
    }
}

fn close_word(
    out: &mut Segmented,
    start: usize,
    end: usize,
    folded_start: usize,
    sentence: u32,
    clause: u32,
) {
    if out.folded.len() > folded_start {
        out.words.push(Word {
            span: start..end,
            folded: folded_start..out.folded.len(),
            sentence,
            clause,
            question: false,
        });
    }
}

/// Folds one non-ASCII character: lowercase, compatibility decomposition (which also turns
/// ligatures and full-width letters into plain ones), combining marks dropped.
/// `emit(c, accented)` receives each ASCII character; `accented` is true when a diacritic
/// was dropped from it.
fn fold_non_ascii(c: char, emit: &mut impl FnMut(char, bool)) {
    for lower in c.to_lowercase() {
        match lower {
            'œ' => {
                emit('o', true);
                emit('e', false);
            }
            'æ' => {
                emit('a', true);
                emit('e', false);
            }
            'ß' => {
                emit('s', false);
                emit('s', false);
            }
            'ø' => emit('o', true),
            'đ' | 'ð' => emit('d', true),
            'ł' => emit('l', true),
            'ı' => emit('i', true),
            'þ' => {
                emit('t', false);
                emit('h', false);
            }
            _ => {
                let mut base: Option<char> = None;
                let mut marks = false;
                decompose_compatible(lower, |d| {
                    if d.is_ascii_alphanumeric() {
                        if let Some(b) = base.replace(d.to_ascii_lowercase()) {
                            emit(b, false);
                        }
                    } else if is_combining_mark(d) {
                        marks = true;
                    }
                });
                if let Some(b) = base {
                    emit(b, marks);
                }
            }
        }
    }
}

/// Maps the folded words to normalized tokens: Quebec and SMS spellings to standard ones,
/// "aujourd hui" rejoined, "pu" read as "plus" unless it is the participle of "pouvoir".
pub(crate) fn normalize_words(seg: &Segmented, out: &mut Normalized) {
    out.clear();
    let n = seg.words.len();
    for i in 0..n {
        let w = seg.word(i);
        let next = if i + 1 < n { seg.word(i + 1) } else { "" };
        match w {
            "hui" if out.last() == Some("aujourd") => {
                out.pop();
                out.push("aujourdhui", i);
            }
            "pu" => {
                let word = if pu_means_plus(out, next) {
                    "plus"
                } else {
                    "pu"
                };
                out.push(word, i);
            }
            // "c pas normal" is SMS for "c'est pas normal"; "c'est" itself arrives as "c est".
            "c" if !matches!(
                next,
                "est" | "etait" | "a" | "ete" | "etaient" | "sera" | "serait" | "e"
            ) =>
            {
                out.push("c", i);
                out.push("est", i);
            }
            // SMS "sa" for "ça" ("sa fait 3 jours"); the possessive comes before a noun.
            "sa" if matches!(
                next,
                "fait"
                    | "va"
                    | "sent"
                    | "marche"
                    | "coule"
                    | "monte"
                    | "pue"
                    | "presse"
                    | "prend"
                    | "donne"
                    | "a"
                    | "m"
                    | "me"
                    | "te"
                    | "nous"
                    | "vous"
                    | "se"
                    | "pas"
                    | "coute"
                    | "depend"
                    | "arrive"
                    | "change"
                    | "commence"
            ) =>
            {
                out.push("ca", i);
            }
            _ => match spelling(w) {
                Some(expansion) => {
                    for part in expansion.split(' ') {
                        out.push(part, i);
                    }
                }
                None => match elision(w) {
                    Some(cut) => {
                        out.push(&w[..cut], i);
                        out.push(&w[cut..], i);
                    }
                    None => out.push(w, i),
                },
            },
        }
    }
}

/// In Quebec French "pu" is mostly "plus" ("y a pu d'eau"), but after "avoir" it is the
/// participle of "pouvoir" ("j'ai pu venir"). Negation-like followers settle it first.
fn pu_means_plus(out: &Normalized, next: &str) -> bool {
    if matches!(
        next,
        "d" | "de" | "du" | "des" | "rien" | "personne" | "jamais" | "capable"
    ) {
        return true;
    }
    let prev = out.last().unwrap_or("");
    let prev2 = out.nth_last(1).unwrap_or("");
    let after_avoir = matches!(
        prev,
        "ai" | "as"
            | "a"
            | "avons"
            | "avez"
            | "ont"
            | "avait"
            | "avais"
            | "avaient"
            | "aurait"
            | "aurais"
            | "aurai"
            | "auraient"
            | "aurions"
            | "auriez"
            | "avoir"
            | "ayant"
    );
    // "y a pu", "y en a pu": "il y a" is existential, so "pu" is "plus".
    !after_avoir || matches!(prev2, "y" | "en")
}

/// Words that take an elided article or pronoun ("l'eau", "d'aqueduc"): nouns and
/// adjectives of the city's services and of daily life, each starting with a vowel or a mute
/// "h", as French elision requires.
const ELIDED_NOUNS: &str = "eau eaux avis ebullition aqueduc aqueducs electricite egout egouts \
    arbre arbres incendie inondation inondations hydro hiver hotel huile essence odeur alarme \
    avertisseur asphalte autobus arret arrets ete annee annees autre autres aide accident \
    eclairage entree escalier etage herbe ile intersection immeuble edifice appartement avenue \
    argent urgence urgences ouverture abord accord ailleurs apres habitude ici un une enfant \
    enfants ecole eglise emploi emplois evenement evenements election elections arena arenas \
    ordures information informations installation entretien epicerie espace equipe horaire \
    horaires hopital agent agents etat ecocentre etang erable erables endroit environnement \
    inspecteur inspection incident assurance assurances adresse affiche evaluation interieur \
    exterieur amende amendes animal animaux habitation hydrant hydrants outil usine universite \
    ambulance autoroute abri abris ampoule ampoules ecureuil ecureuils oiseau oiseaux ascenseur \
    ascenseurs alarme alarmes oxygene";

/// What each elided form ("j'", "qu'"...) is followed by, beyond [`ELIDED_NOUNS`] for "l'"
/// and "d'": the pronouns and verbs it is written before.
const ELISIONS: &[(&str, &str)] = &[
    (
        "j",
        "ai avais avait en y habite aime aimerais aimerai appelle appelais arrive attends \
        attendais ecris entends essaie essaye etais espere irai imagine avoue ignore",
    ),
    (
        "m",
        "ai en appelle occupe inquiete avez avait ont envoie explique",
    ),
    ("t", "as es en etais avais inquiete"),
    (
        "s",
        "il ils est en etait occupe inquiete appelle arrete allume eteint agit agissait",
    ),
    (
        "n",
        "ai est etait ont avons avez avait importe en aime habite existe",
    ),
    ("c", "est etait etaient en"),
    ("qu", "il ils elle elles on un une est en au avec"),
    ("l", "ai as avait avons avez ont"),
    ("d", "ou"),
];

/// Words that look like an elision typed without its apostrophe but are words of their own
/// in French or English ("lune", "mai", "tes", "nest", "ten"): never split. Found by checking
/// every form the two tables above can make against French and English word lists; the
/// rare words whose elided reading is far likelier in a message to the city ("lavis",
/// "sil", "jetais") were left out of this list on purpose.
const NOT_ELIDED: &str = "davis degout degouts devaluation laide las lavait lavez lavons lune \
    mai men mont nest ny quelle quelles tas tes ten";

/// Where to cut a word that is an elision typed without its apostrophe ("lavis" at 1,
/// "quil" at 2), if it is one.
fn elision(word: &str) -> Option<usize> {
    static CUTS: OnceLock<HashMap<String, usize, FastHash>> = OnceLock::new();
    let cuts = CUTS.get_or_init(|| {
        let not_elided: Vec<&str> = NOT_ELIDED.split_whitespace().collect();
        let nouns = ELIDED_NOUNS.split_whitespace();
        let mut cuts = HashMap::default();
        let pairs = ELISIONS
            .iter()
            .flat_map(|&(p, rests)| rests.split_whitespace().map(move |r| (p, r)))
            .chain(
                ["l", "d"]
                    .into_iter()
                    .flat_map(|p| nouns.clone().map(move |r| (p, r))),
            );
        for (prefix, rest) in pairs {
            let word = format!("{prefix}{rest}");
            if !not_elided.contains(&word.as_str()) {
                cuts.entry(word).or_insert(prefix.len());
            }
        }
        cuts
    });
    // Most words cannot be one: skip the lookup unless a vowel or "h" follows the elided form.
    let b = word.as_bytes();
    let after = if b.starts_with(b"qu") { 2 } else { 1 };
    match b.get(after) {
        Some(b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'h') if b.len() > after + 1 => {
            cuts.get(word).copied()
        }
        _ => None,
    }
}

/// Standard spelling of a Quebec, SMS or contracted word, if it has one.
///
/// Only unambiguous forms are mapped: "dont" (French "of which") and "ill" (English "sick")
/// are left alone.
fn spelling(word: &str) -> Option<&'static str> {
    Some(match word {
        "pk" | "pq" | "pkoi" | "pourkoi" | "porquoi" | "pourqoi" => "pourquoi",
        "pcq" | "pck" | "pcque" | "parske" | "parceque" | "parcque" | "pasque" | "passque" => {
            "parce que"
        }
        "svp" | "svpl" | "slvp" | "silvousplait" | "sivouplait" => "s il vous plait",
        "stp" | "stpl" | "siteplait" => "s il te plait",
        "tjrs" | "tjr" | "tjs" | "tjours" | "touj" => "toujours",
        "ya" => "y a",
        "yen" => "y en",
        "ye" => "il est",
        "ds" => "dans",
        "bcp" | "bcq" => "beaucoup",
        "qqch" | "qqc" | "qqchose" | "qqchoz" => "quelque chose",
        "qqn" | "qqun" => "quelqu un",
        "qques" | "qqes" => "quelques",
        "qd" | "kan" | "qand" => "quand",
        "koi" | "quoa" => "quoi",
        "ki" => "qui",
        "ke" => "que",
        "ske" => "ce que",
        "keske" | "kesk" | "keskon" => "qu est ce que",
        "kosse" | "kesse" => "qu est ce",
        "kel" => "quel",
        "kelle" => "quelle",
        "cmt" | "cmnt" | "koman" | "comman" => "comment",
        "pr" => "pour",
        "dla" => "de la",
        "ben" => "bien",
        "pis" => "puis",
        "bjr" => "bonjour",
        "bsr" => "bonsoir",
        "slt" => "salut",
        "mrc" | "mci" => "merci",
        "dsl" => "desole",
        "ns" => "nous",
        "chu" | "chus" | "chui" | "chuis" | "jsuis" | "jsui" | "jsus" => "je suis",
        "jai" | "g" => "j ai",
        "jsais" | "jsai" | "chais" | "che" => "je sais",
        "jpeux" | "jpeu" => "je peux",
        "jveux" | "jveu" => "je veux",
        "jvais" | "jvai" | "jva" => "je vais",
        "tse" | "tsais" => "tu sais",
        "icitte" => "ici",
        "asteure" | "astheure" | "asteur" | "mnt" | "mtn" => "maintenant",
        "moe" => "moi",
        "toe" => "toi",
        "pantoute" => "pas du tout",
        "faque" | "fak" => "fait que",
        "auj" | "ajd" | "ajrd" | "aujd" => "aujourdhui",
        "msg" => "message",
        "rdv" => "rendez vous",
        "nn" => "non",
        "plu" => "plus",
        // Elisions typed without the apostrophe.
        "deau" => "d eau",
        "leau" => "l eau",
        "delectricite" => "d electricite",
        "lelectricite" => "l electricite",
        "cest" => "c est",
        "quil" => "qu il",
        "quon" => "qu on",
        "jaimerais" => "j aimerais",
        "jvoulais" => "je voulais",
        "jvoudrais" => "je voudrais",
        "jsp" => "je sais pas",
        "dun" => "d un",
        "dune" => "d une",
        // English SMS and contractions typed without the apostrophe.
        "u" => "you",
        "ur" => "your",
        "pls" | "plz" | "pleas" => "please",
        "thx" | "thks" | "tnx" | "thanx" => "thanks",
        "cuz" | "coz" | "bc" => "because",
        "idk" => "i don t know",
        "im" => "i m",
        "cant" => "can t",
        "wont" => "won t",
        "isnt" => "isn t",
        "doesnt" => "doesn t",
        "didnt" => "didn t",
        "havent" => "haven t",
        "hasnt" => "hasn t",
        "wasnt" => "wasn t",
        "arent" => "aren t",
        "couldnt" => "couldn t",
        "wouldnt" => "wouldn t",
        "shouldnt" => "shouldn t",
        "werent" => "weren t",
        "hadnt" => "hadn t",
        "youre" => "you re",
        "theyre" => "they re",
        "weve" => "we ve",
        "youve" => "you ve",
        "theyve" => "they ve",
        "ive" => "i ve",
        "theres" => "there s",
        "thats" => "that s",
        "whats" => "what s",
        "tmrw" | "tmr" | "2moro" | "2morrow" => "tomorrow",
        "2day" => "today",
        "b4" => "before",
        "ppl" => "people",
        "govt" => "government",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_lowercases_and_strips_accents() {
        assert_eq!(normalize("Électricité À Québec"), "electricite a quebec");
        assert_eq!(normalize("ÇA FAIT DÉJÀ 3 JOURS"), "ca fait deja 3 jours");
        assert_eq!(normalize("cœur naïve straße"), "coeur naive strasse");
    }

    #[test]
    fn normalize_handles_decomposed_accents() {
        assert_eq!(normalize("e\u{301}lectricite\u{301}"), "electricite");
    }

    #[test]
    fn normalize_splits_elisions() {
        assert_eq!(normalize("l'eau"), "l eau");
        assert_eq!(normalize("j'ai"), "j ai");
        assert_eq!(normalize("qu'il"), "qu il");
        assert_eq!(normalize("d’eau"), "d eau");
        assert_eq!(normalize("aujourd'hui"), "aujourdhui");
    }

    #[test]
    fn normalize_splits_elisions_typed_without_the_apostrophe() {
        assert_eq!(
            normalize("lavis debullition c tjrs en vigueur?"),
            "l avis d ebullition c est toujours en vigueur"
        );
        assert_eq!(
            normalize("bris daqueduc sil vous plait"),
            "bris d aqueduc s il vous plait"
        );
        assert_eq!(
            normalize("jhabite ici, quelle rue"),
            "j habite ici quelle rue"
        );
        // Words of their own stay whole, in French and in English.
        assert_eq!(
            normalize("la lune en mai, tes amis"),
            "la lune en mai tes amis"
        );
        assert_eq!(normalize("a wasp nest, ten men"), "a wasp nest ten men");
        assert_eq!(normalize("la rue est laide"), "la rue est laide");
    }

    #[test]
    fn normalize_turns_punctuation_into_single_spaces() {
        assert_eq!(
            normalize("  Allo?!  Bonjour...\n\tmerci!!! "),
            "allo bonjour merci"
        );
        assert_eq!(normalize("sous-sol; 514-555-1234"), "sous sol 514 555 1234");
        assert_eq!(normalize("!!!"), "");
        assert_eq!(normalize("   "), "");
        assert_eq!(normalize("🚨💧"), "");
    }

    #[test]
    fn normalize_maps_quebec_and_sms_spellings() {
        assert_eq!(normalize("pk"), "pourquoi");
        assert_eq!(normalize("pcq"), "parce que");
        assert_eq!(normalize("svp"), "s il vous plait");
        assert_eq!(normalize("tjrs"), "toujours");
        assert_eq!(normalize("ya"), "y a");
        assert_eq!(normalize("chu tanné"), "je suis tanne");
        assert_eq!(normalize("c pas normal"), "c est pas normal");
        assert_eq!(normalize("c'est pas normal"), "c est pas normal");
        assert_eq!(normalize("pls fix it, u guys"), "please fix it you guys");
        assert_eq!(
            normalize("sa fait 3 jours pour sa maison"),
            "ca fait 3 jours pour sa maison"
        );
        assert_eq!(
            normalize("pas deau, jsp quoi faire"),
            "pas d eau je sais pas quoi faire"
        );
    }

    #[test]
    fn normalize_reads_pu_as_plus_except_after_avoir() {
        assert_eq!(normalize("ya pu d'eau"), "y a plus d eau");
        assert_eq!(normalize("on a pu de courant"), "on a plus de courant");
        assert_eq!(normalize("c'est pu possible"), "c est plus possible");
        assert_eq!(normalize("j'ai pu venir"), "j ai pu venir");
        assert_eq!(normalize("ils ont pu réparer"), "ils ont pu reparer");
    }

    #[test]
    fn normalize_collapses_emphasis_but_keeps_double_letters() {
        assert_eq!(normalize("urgenttttt svppppp"), "urgent s il vous plait");
        assert_eq!(normalize("allooooo"), "allo");
        assert_eq!(normalize("1000 rue"), "1000 rue");
    }

    #[test]
    fn normalize_drops_letters_with_no_ascii_form() {
        assert_eq!(normalize("مرحبا water שלום"), "water");
        assert_eq!(normalize("ｆｕｌｌ ﬁn"), "full fin");
    }

    #[test]
    fn segment_keeps_the_original_spans_and_sentences() {
        let text = "Ça sent l'gaz! Venez.";
        let mut seg = Segmented::default();
        segment(text, &mut seg);
        let spans: Vec<&str> = seg.words.iter().map(|w| &text[w.span.clone()]).collect();
        assert_eq!(spans, ["Ça", "sent", "l", "gaz", "Venez"]);
        assert_eq!(seg.words[3].sentence, 0);
        assert_eq!(seg.words[4].sentence, 1);
        assert!(seg.words.iter().all(|w| !w.question));
        assert_eq!(seg.accented, 1);
        assert_eq!(seg.exclamations, 1);
    }

    #[test]
    fn segment_knows_which_sentences_are_questions() {
        let mut seg = Segmented::default();
        segment("Le courant est revenu? Non.", &mut seg);
        let questions: Vec<bool> = seg.words.iter().map(|w| w.question).collect();
        assert_eq!(questions, [true, true, true, true, false]);
    }
}
