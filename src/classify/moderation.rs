//! Moderation: swearing, insults and threats, and the masked copy of a message.
//!
//! Owns the lexicons (Quebec sacres, English swearing, insults, slurs, threats of violence)
//! and the context rules that tell them apart. In Quebec French swearing is mostly an
//! intensifier ("c'est ostie de long"): it is masked and nothing more. It becomes an insult
//! when it lands on a person ("esti de cave", "vous autres mes crisses", "fuck you"), and
//! words such as "cave" (also a basement) or "voleurs" (also real thieves) are insults only
//! when aimed at someone ("gang de caves", "vous êtes des voleurs"). Threats of violence need
//! a first-person intent ("je vais", "m'as", "I'll") before the violent act. No I/O.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::features::{word_set, FastHash, WordSet};
use super::normalize::{Normalized, Segmented};
use super::phrase::{phrase, Marks, PhraseDef, PhraseTable};

/// How serious a message's language is, from least to most.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing to mask.
    #[default]
    Clean,
    /// Swearing used as an intensifier: masked, no sanction.
    Profanity,
    /// Insults, harassment, discriminatory or defamatory words aimed at people: masked,
    /// the sender is warned and gets a strike.
    Insult,
    /// Threats of violence: flagged to the coordinator at once.
    Threat,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Profanity => "profanity",
            Verdict::Insult => "insult",
            Verdict::Threat => "threat",
        }
    }
}

/// The moderation of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moderation {
    pub verdict: Verdict,
    /// The original text with each flagged word replaced by its first character followed by
    /// `*`s: same number of characters, so positions in the text still line up.
    pub masked: String,
    /// The flagged words as the citizen wrote them, in order of appearance.
    pub terms: Vec<String>,
}

/// Is this normalized token a swear word? The model ignores these: swearing tells how
/// upset the citizen is, not what the request is about.
pub(crate) fn is_profanity(t: &str) -> bool {
    word_class(t) == Some(WordClass::Profanity)
}

/// What a single word is, for moderation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordClass {
    Profanity,
    Insult,
    AimedNoun,
    AimedAdjective,
}

/// One lookup for all the word lists (they do not overlap; a test checks it).
fn word_class(t: &str) -> Option<WordClass> {
    static MAP: OnceLock<HashMap<&'static str, WordClass, FastHash>> = OnceLock::new();
    MAP.get_or_init(|| {
        [
            (PROFANITY, WordClass::Profanity),
            (INSULTS, WordClass::Insult),
            (AIMED_NOUNS, WordClass::AimedNoun),
            (AIMED_ADJECTIVES, WordClass::AimedAdjective),
        ]
        .iter()
        .flat_map(|&(words, class)| words.iter().map(move |&w| (w, class)))
        .collect()
    })
    .get(t)
    .copied()
}

const PROFANITY: &[&str] = &[
    "ostie",
    "osti",
    "hostie",
    "hostia",
    "ostia",
    "ostid",
    "estie",
    "esti",
    "estid",
    "sti",
    "stie",
    "astie",
    "asti",
    "tabarnak",
    "tabarnac",
    "tabarnaque",
    "tabarnack",
    "tabernak",
    "tabarnaks",
    "taboire",
    "calisse",
    "caliss",
    "calice",
    "kalisse",
    "caliboire",
    "calisser",
    "decalisser",
    "crisse",
    "criss",
    "crisser",
    "crissement",
    "crissant",
    "crissante",
    "christ",
    "sacrament",
    "sacrement",
    "sacramant",
    "ciboire",
    "cibouere",
    "viarge",
    "calvaire",
    "calvince",
    "torrieux",
    "torrieu",
    "batinse",
    "ostiement",
    "estiment",
    "merde",
    "marde",
    "putain",
    "bordel",
    "chier",
    "fuck",
    "fucking",
    "fuckin",
    "fucked",
    "fck",
    "fuk",
    "fking",
    "fcking",
    "wtf",
    "shit",
    "shitty",
    "bullshit",
    "damn",
    "damned",
    "goddamn",
    "dammit",
    "crap",
    "crappy",
    "piss",
    "pissed",
];

/// Words that insult whoever they name, whatever the context (including slurs).
const INSULTS: &[&str] = &[
    "incompetent",
    "incompetents",
    "incompetente",
    "incompetentes",
    "incompetant",
    "incompetants",
    "imbecile",
    "imbeciles",
    "idiot",
    "idiots",
    "idiote",
    "idiotes",
    "cretin",
    "cretins",
    "cretine",
    "debile",
    "debiles",
    "niaiseux",
    "niaiseuse",
    "niaiseuses",
    "nono",
    "nonos",
    "tarla",
    "tarlas",
    "twit",
    "twits",
    "mongol",
    "mongole",
    "mongols",
    "mongoles",
    "mongolien",
    "mongoliens",
    "abruti",
    "abrutis",
    "abrutie",
    "connard",
    "connards",
    "connasse",
    "conne",
    "connes",
    "salaud",
    "salauds",
    "salope",
    "salopes",
    "enfoire",
    "enfoires",
    "crosseur",
    "crosseurs",
    "crosseuse",
    "moron",
    "morons",
    "imbecil",
    "dumbass",
    "jackass",
    "asshole",
    "assholes",
    "bastard",
    "bastards",
    "bitch",
    "bitches",
    "scumbag",
    "scumbags",
    "fucker",
    "fuckers",
    "motherfucker",
    "motherfuckers",
    "retarded",
    "cunt",
    "dickhead",
    "douchebag",
    "douche",
    "losers",
    "loser",
    "nigger",
    "niggers",
    "nigga",
    "negre",
    "negres",
    "negro",
    "fag",
    "fags",
    "faggot",
    "faggots",
    "tapette",
    "tapettes",
    "fif",
    "fifs",
    "pd",
    "pede",
    "pedes",
    "tranny",
    "dyke",
    "gouine",
    "chink",
    "spic",
    "kike",
    "raghead",
    "bougnoule",
    "bicot",
];

/// Nouns that insult only when aimed at someone: "cave" is also a basement, "voleurs"
/// also real thieves, "sauvages" also wild animals.
const AIMED_NOUNS: &[&str] = &[
    "cave",
    "caves",
    "con",
    "cons",
    "voleur",
    "voleurs",
    "fraudeur",
    "fraudeurs",
    "corrompu",
    "corrompus",
    "pourri",
    "pourris",
    "paresseux",
    "incapable",
    "incapables",
    "clown",
    "clowns",
    "lache",
    "laches",
    "vendu",
    "vendus",
    "innocent",
    "innocents",
    "bouffon",
    "bouffons",
    "guignol",
    "guignols",
    "cochon",
    "cochons",
    "sauvage",
    "sauvages",
    "epais",
    "crooks",
    "crook",
    "thieves",
    "pigs",
    "scum",
    "fools",
    "fool",
];

/// Is the aimed noun at token `i` aimed at someone? Directly after a pronoun or a
/// demonstrative ("vous voleurs", "you clowns", "ces clowns", "maudit cave"), or after an
/// article that follows a copula, a group word or a swear word ("vous êtes des voleurs",
/// "gang de caves", "esti de cave", "t'es un cave", "bunch of crooks").
fn noun_is_aimed(norm: &Normalized, i: usize) -> bool {
    let before = |k: usize| if i >= k { norm.token(i - k) } else { "" };
    let t = norm.token(i);
    let direct = matches!(
        before(1),
        "vous"
            | "you"
            | "your"
            | "ces"
            | "those"
            | "these"
            | "such"
            | "toi"
            | "maudit"
            | "maudits"
            | "maudite"
            | "maudites"
            | "gros"
            | "grosse"
            | "are"
            | "re"
    ) || (matches!(t, "cave" | "caves" | "innocent" | "innocents")
        && matches!(before(1), "un" | "mon" | "mes"));
    let after_article = matches!(before(1), "des" | "un" | "une" | "de" | "d" | "of" | "a")
        && (is_profanity(before(2))
            || matches!(
                before(2),
                "etes"
                    | "es"
                    | "sont"
                    | "t"
                    | "gang"
                    | "bande"
                    | "espece"
                    | "band"
                    | "bunch"
                    | "are"
                    | "re"
                    | "tas"
                    | "pack"
            ));
    direct || after_article
}

/// Adjectives that insult a person they describe ("your lazy staff", "you're useless")
/// but not a thing ("a useless app"): they need a person within reach.
const AIMED_ADJECTIVES: &[&str] = &[
    "stupid",
    "stupide",
    "stupides",
    "dumb",
    "useless",
    "lazy",
    "pathetic",
    "pathetique",
    "pathetiques",
    "nuls",
    "nulles",
    "minables",
    "minable",
    "ignorant",
    "ignorants",
    "arrogant",
    "arrogants",
];

/// Words that name a person the message can be aimed at.
fn is_person(t: &str) -> bool {
    static SET: OnceLock<WordSet> = OnceLock::new();
    SET.get_or_init(|| word_set(PERSONS)).contains(t)
}

const PERSONS: &[&str] = &[
    "vous",
    "toi",
    "te",
    "tu",
    "you",
    "your",
    "employe",
    "employes",
    "employee",
    "employees",
    "staff",
    "maire",
    "mairesse",
    "mayor",
    "conseiller",
    "conseillers",
    "conseillere",
    "conseilleres",
    "councillor",
    "councillors",
    "councilor",
    "council",
    "fonctionnaire",
    "fonctionnaires",
    "worker",
    "workers",
    "agent",
    "agents",
    "agente",
    "preposee",
    "prepose",
    "preposes",
    "gens",
    "people",
    "guys",
    "gars",
    "boss",
    "directeur",
    "directrice",
    "personnel",
    "politiciens",
    "politicians",
    "cols",
    "autres",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Insult,
    /// First-person intent ("je vais", "m'as", "I'll"): arms the violent acts that follow.
    Intent,
    /// A violent act; a threat when an intent comes just before it.
    Violence,
    /// A threat on its own ("t'es mort", "I know where you live").
    Threat,
}

const DEFS: &[PhraseDef<Kind>] = &[
    // Insulting phrases.
    phrase(Kind::Insult, "insult", &["trou", "de|d", "cul|cu"], 0),
    phrase(
        Kind::Insult,
        "insult",
        &["mange|mangez", "marde|merde|shit"],
        2,
    ),
    phrase(Kind::Insult, "insult", &["va|allez|aller", "chier"], 0),
    phrase(
        Kind::Insult,
        "insult",
        &["sans", "dessein|desseins|cervelle"],
        0,
    ),
    phrase(
        Kind::Insult,
        "insult",
        &["enfant|enfants", "de|d", "chienne|chiennes|nanane"],
        0,
    ),
    phrase(
        Kind::Insult,
        "insult",
        &["ta|ferme|farme|fermez|farmez", "gueule|yeule|boite"],
        1,
    ),
    phrase(Kind::Insult, "insult", &["shut", "up"], 0),
    phrase(
        Kind::Insult,
        "insult",
        &["fuck|screw|piss", "off|you|u|yourself|yourselves"],
        0,
    ),
    phrase(Kind::Insult, "insult", &["go", "to", "hell"], 0),
    phrase(Kind::Insult, "insult", &["kiss", "my"], 0),
    phrase(Kind::Insult, "insult", &["son|sons", "of", "a|bitches"], 0),
    // First-person intent.
    phrase(
        Kind::Intent,
        "intent",
        &["je|j|on|nous", "vais|vas|va|allons|veux|voudrais"],
        1,
    ),
    phrase(Kind::Intent, "intent", &["m", "as"], 0),
    phrase(Kind::Intent, "intent", &["je|j", "te|t|vous"], 0),
    phrase(
        Kind::Intent,
        "intent",
        &["i|we", "ll|will|m|am|re|are|wanna|gonna|want|swear|shall"],
        0,
    ),
    // Violent acts, in the form they take after an intent. Verbs with harmless uses
    // ("abattre un arbre", "frapper à la porte", "shoot a video") need a person as object.
    phrase(
        Kind::Violence,
        "violence",
        &["tuer|tue|tuerai|tuerais|buter|egorger|etrangler|poignarder|assassiner"],
        0,
    ),
    phrase(
        Kind::Violence,
        "violence",
        &[
            "te|t|vous|toi",
            "frapper|battre|fesser|planter|descendre|abattre|tirer|frappe|tire",
        ],
        1,
    ),
    phrase(
        Kind::Violence,
        "violence",
        &[
            "casser|peter|defoncer|arracher|fendre|crisser|sacrer|calisser|donner|pogner|sacrer",
            "gueule|yeule|face|dents|jambes|bras|cou|volee|claque|claques|raclee|beigne|poing",
        ],
        3,
    ),
    phrase(
        Kind::Violence,
        "violence",
        &[
            "bruler|incendier|sauter|burn|torch",
            "hotel|mairie|bureau|bureaux|building|buildings|hall|office|offices|down|maison|house",
        ],
        4,
    ),
    phrase(
        Kind::Violence,
        "violence",
        &["mettre|mets|met|set", "feu|fire"],
        3,
    ),
    phrase(Kind::Violence, "violence", &["tirer", "dessus|sur"], 1),
    phrase(
        Kind::Violence,
        "violence",
        &[
            "shoot|hurt",
            "you|u|someone|somebody|everyone|everybody|them|him|her|people|staff|up",
        ],
        1,
    ),
    phrase(
        Kind::Violence,
        "violence",
        &[
            "break|smash|bash",
            "face|neck|legs|arms|jaw|nose|teeth|skull|head",
        ],
        2,
    ),
    phrase(
        Kind::Violence,
        "violence",
        &["beat", "up|you|u|him|her|them|shit|crap"],
        2,
    ),
    phrase(Kind::Violence, "violence", &["kick", "ass|butt"], 2),
    phrase(Kind::Violence, "violence", &["blow", "up"], 2),
    phrase(
        Kind::Violence,
        "violence",
        &["kill|murder|stab|strangle|punch|bomb|slap|choke"],
        0,
    ),
    // Threats on their own.
    phrase(
        Kind::Threat,
        "threat",
        &["t|tu|vous", "es|etes", "mort|morts|mortes"],
        0,
    ),
    phrase(Kind::Threat, "threat", &["you|ur", "re|are|r", "dead"], 0),
    phrase(Kind::Threat, "threat", &["know", "where", "you", "live"], 0),
    phrase(
        Kind::Threat,
        "threat",
        &[
            "sais|sait|connais",
            "ou",
            "tu|vous",
            "restes|reste|habites|habitez|restez|demeures|demeurez|vis|vivez",
        ],
        0,
    ),
    phrase(Kind::Threat, "threat", &["watch", "your|ur", "back"], 0),
    phrase(
        Kind::Threat,
        "threat",
        &["surveille|surveillez", "tes|vos", "arrieres"],
        0,
    ),
    phrase(
        Kind::Threat,
        "threat",
        &["va|vont", "y", "avoir", "du", "sang"],
        0,
    ),
    phrase(Kind::Threat, "threat", &["there", "will", "be", "blood"], 0),
];

/// The word of an insulting phrase that carries the insult, the one to mask: the last one
/// ("trou de c**", "ta g*****") unless it is a pronoun or a particle ("f*** you", "s*** up").
fn key_word(norm: &Normalized, at: &[usize]) -> usize {
    let plain = |t: &str| {
        matches!(
            t,
            "you" | "u" | "yourself" | "yourselves" | "off" | "up" | "my" | "a" | "of"
        )
    };
    let last = at[at.len() - 1];
    if plain(norm.token(last)) {
        at[0]
    } else {
        last
    }
}

fn table() -> &'static PhraseTable<Kind> {
    static TABLE: OnceLock<PhraseTable<Kind>> = OnceLock::new();
    // Exact words only: a typo in "tuer" is not worth a false threat.
    TABLE.get_or_init(|| PhraseTable::compile(DEFS, false))
}

/// How far after an intent the violent act may come ("je vais aller vous tuer").
const INTENT_REACH: usize = 5;
/// How close a person must be for swearing or an aimed adjective to become an insult.
const PERSON_REACH: usize = 2;
const ADJECTIVE_REACH: usize = 3;
/// Moderation lines in the reasons, at most.
const MAX_REASONS: usize = 6;

/// Buffers reused from one message to the next.
#[derive(Debug, Default)]
pub(crate) struct ModerationScratch {
    marks: Marks,
    /// (word index, verdict) of each flagged word.
    flagged: Vec<(usize, Verdict)>,
    intents: Vec<(usize, usize)>,
    violence: Vec<(usize, usize)>,
}

/// Moderates a message. `reasons` receives one line per decision that raised the verdict.
pub(crate) fn moderate(
    text: &str,
    seg: &Segmented,
    norm: &Normalized,
    scratch: &mut ModerationScratch,
    reasons: &mut Vec<String>,
) -> Moderation {
    scratch.flagged.clear();
    let n = norm.len();
    let clause = |i: usize| seg.words[norm.tokens[i].word].clause;
    let same_clause_within = |i: usize, reach: usize, test: &dyn Fn(&str) -> bool| {
        let lo = i.saturating_sub(reach);
        let hi = (i + reach).min(n.saturating_sub(1));
        (lo..=hi).any(|j| j != i && clause(j) == clause(i) && test(norm.token(j)))
    };

    for i in 0..n {
        let t = norm.token(i);
        let word = norm.tokens[i].word;
        let aimed_at_people = match word_class(t) {
            None => false,
            Some(WordClass::Profanity) => {
                if same_clause_within(i, PERSON_REACH, &is_person) {
                    scratch.flagged.push((word, Verdict::Insult));
                    reasons.push(format!("moderation: swearing aimed at a person (\"{t}\")"));
                } else {
                    scratch.flagged.push((word, Verdict::Profanity));
                }
                false
            }
            Some(WordClass::Insult) => {
                scratch.flagged.push((word, Verdict::Insult));
                reasons.push(format!("moderation: insult (\"{t}\")"));
                false
            }
            Some(WordClass::AimedNoun) => noun_is_aimed(norm, i),
            Some(WordClass::AimedAdjective) => same_clause_within(i, ADJECTIVE_REACH, &is_person),
        };
        if aimed_at_people {
            scratch.flagged.push((word, Verdict::Insult));
            reasons.push(format!("moderation: insult aimed at people (\"{t}\")"));
        }
    }

    let table = table();
    if table.mark(norm, &mut scratch.marks) {
        scratch.intents.clear();
        scratch.violence.clear();
        let flagged = &mut scratch.flagged;
        let intents = &mut scratch.intents;
        let violence = &mut scratch.violence;
        table.find(&mut scratch.marks, |p, at| {
            let (start, end) = (at[0], at[at.len() - 1]);
            match p.kind {
                Kind::Insult => {
                    let key = key_word(norm, at);
                    flagged.push((norm.tokens[key].word, Verdict::Insult));
                    reasons.push(format!(
                        "moderation: insult (\"{}\")",
                        super::phrase::join(norm, start, end)
                    ));
                }
                Kind::Intent => intents.push((start, end)),
                Kind::Violence => violence.push((start, end)),
                Kind::Threat => {
                    flagged.push((norm.tokens[end].word, Verdict::Threat));
                    reasons.push(format!(
                        "moderation: threat (\"{}\")",
                        super::phrase::join(norm, start, end)
                    ));
                }
            }
        });
        // Intents come in text order: the candidates for a violent act are the few that end
        // just before it, found by binary search (a long text must not cost quadratic time).
        intents.sort_unstable_by_key(|&(_, ie)| ie);
        for &(vs, ve) in violence.iter() {
            let before = intents.partition_point(|&(_, ie)| ie < vs);
            let armed = intents[..before]
                .iter()
                .rev()
                .take_while(|&&(_, ie)| vs - ie <= INTENT_REACH)
                .find(|&&(is, _)| clause(is) == clause(vs));
            if let Some(&(is, _)) = armed {
                flagged.push((norm.tokens[vs].word, Verdict::Threat));
                reasons.push(format!(
                    "moderation: threat of violence (\"{}\")",
                    super::phrase::join(norm, is, ve)
                ));
            }
        }
    }

    let verdict = scratch
        .flagged
        .iter()
        .map(|&(_, v)| v)
        .max()
        .unwrap_or(Verdict::Clean);
    if verdict == Verdict::Profanity {
        reasons.push("moderation: swearing used as an intensifier (masked)".to_string());
    }
    // A long rant repeats itself: say each thing once, and only the first few.
    let mut seen = std::collections::HashSet::new();
    reasons.retain(|r| seen.insert(r.clone()));
    if reasons.len() > MAX_REASONS {
        let more = reasons.len() - MAX_REASONS;
        reasons.truncate(MAX_REASONS);
        reasons.push(format!("moderation: {more} more flagged phrase(s)"));
    }
    scratch.flagged.sort_unstable_by_key(|&(w, _)| w);
    scratch.flagged.dedup_by_key(|&mut (w, _)| w);
    let terms = scratch
        .flagged
        .iter()
        .filter_map(|&(w, _)| text.get(seg.words[w].span.clone()))
        .map(str::to_string)
        .collect();
    Moderation {
        verdict,
        masked: mask(text, seg, &scratch.flagged),
        terms,
    }
}

/// The text with each flagged word (sorted by position) replaced by its first character and
/// one `*` per remaining character.
fn mask(text: &str, seg: &Segmented, flagged: &[(usize, Verdict)]) -> String {
    if flagged.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(w, _) in flagged {
        let span = &seg.words[w].span;
        if span.start < at {
            continue;
        }
        out.push_str(&text[at..span.start]);
        let mut chars = text[span.clone()].chars();
        if let Some(first) = chars.next() {
            out.push(first);
        }
        out.extend(chars.map(|_| '*'));
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::{normalize_words, segment};

    fn moderation(text: &str) -> Moderation {
        let mut seg = Segmented::default();
        let mut norm = Normalized::default();
        segment(text, &mut seg);
        normalize_words(&seg, &mut norm);
        let mut reasons = Vec::new();
        moderate(
            text,
            &seg,
            &norm,
            &mut ModerationScratch::default(),
            &mut reasons,
        )
    }

    fn verdict(text: &str) -> Verdict {
        moderation(text).verdict
    }

    #[test]
    fn the_word_lists_do_not_overlap() {
        let lists = [PROFANITY, INSULTS, AIMED_NOUNS, AIMED_ADJECTIVES];
        let total: usize = lists.iter().map(|l| l.len()).sum();
        let distinct: std::collections::HashSet<&str> =
            lists.iter().flat_map(|l| l.iter().copied()).collect();
        assert_eq!(distinct.len(), total);
    }

    #[test]
    fn an_intensifier_is_masked_without_being_an_insult() {
        let m = moderation("Ça fait 3 semaines, c'est tabarnak de long pour un nid-de-poule");
        assert_eq!(m.verdict, Verdict::Profanity);
        assert_eq!(m.terms, ["tabarnak"]);
        assert!(m.masked.contains("c'est t******* de long"));
        assert_eq!(
            verdict("Ostie, ça fait deux fois que j'appelle"),
            Verdict::Profanity
        );
        assert_eq!(verdict("câlisse que c'est long"), Verdict::Profanity);
        assert_eq!(
            verdict("the damn pothole is still there"),
            Verdict::Profanity
        );
        assert_eq!(
            verdict("this shit has been going on for weeks"),
            Verdict::Profanity
        );
        assert_eq!(
            verdict("What the fuck, my street was skipped again"),
            Verdict::Profanity
        );
    }

    #[test]
    fn an_insult_to_an_employee_is_an_insult() {
        assert_eq!(verdict("vous êtes des incompétents"), Verdict::Insult);
        assert_eq!(
            verdict("l'employé au comptoir, c't'un esti de cave"),
            Verdict::Insult
        );
        assert_eq!(verdict("gang de caves à l'hôtel de ville"), Verdict::Insult);
        assert_eq!(verdict("le maire est un mongol"), Verdict::Insult);
        assert_eq!(verdict("criss de maire"), Verdict::Insult);
        assert_eq!(verdict("vous êtes des voleurs"), Verdict::Insult);
        assert_eq!(verdict("you idiots can't plow a street"), Verdict::Insult);
        assert_eq!(verdict("your lazy staff never answers"), Verdict::Insult);
        assert_eq!(
            verdict("fuck you and your parking tickets"),
            Verdict::Insult
        );
    }

    #[test]
    fn words_that_are_insults_only_when_aimed_are_left_alone_otherwise() {
        assert_eq!(verdict("ma cave est inondée"), Verdict::Clean);
        assert_eq!(verdict("des voleurs ont volé mon vélo"), Verdict::Clean);
        assert_eq!(verdict("un animal sauvage dans ma cour"), Verdict::Clean);
        assert_eq!(verdict("the app is useless"), Verdict::Clean);
        assert_eq!(verdict("les pros and cons of the new bins"), Verdict::Clean);
        assert_eq!(
            verdict("je suis en retard pour payer mes taxes"),
            Verdict::Clean
        );
        assert_eq!(verdict("estimation des taxes"), Verdict::Clean);
    }

    #[test]
    fn a_threat_of_violence_is_a_threat() {
        assert_eq!(verdict("je vais vous tuer"), Verdict::Threat);
        assert_eq!(verdict("m'as aller te casser la gueule"), Verdict::Threat);
        assert_eq!(verdict("I'll burn city hall down"), Verdict::Threat);
        assert_eq!(
            verdict("I'm going to kill the next inspector who shows up"),
            Verdict::Threat
        );
        assert_eq!(verdict("je sais où tu restes"), Verdict::Threat);
        assert_eq!(verdict("you're dead"), Verdict::Threat);
    }

    #[test]
    fn violent_words_without_intent_are_not_threats() {
        assert_eq!(verdict("ce nid-de-poule va tuer quelqu'un"), Verdict::Clean);
        assert_eq!(verdict("the potholes are killing my car"), Verdict::Clean);
        assert_eq!(
            verdict("je vais brûler mes feuilles, faut-il un permis?"),
            Verdict::Clean
        );
        assert_eq!(verdict("il m'a frappé avec son auto"), Verdict::Clean);
        assert_eq!(verdict("I was almost hit by a plow"), Verdict::Clean);
    }

    #[test]
    fn masked_text_keeps_length_and_first_letters() {
        for text in [
            "esti de câlisse de cave",
            "fuck you",
            "Tabarnak!!! vous êtes des incompétents 😡",
            "ca\u{302}lisse",
        ] {
            let m = moderation(text);
            assert_eq!(m.masked.chars().count(), text.chars().count(), "{text}");
            for (o, k) in text.chars().zip(m.masked.chars()) {
                assert!(o == k || k == '*', "{text} -> {}", m.masked);
            }
            assert!(!m.terms.is_empty());
            for term in &m.terms {
                assert!(
                    !m.masked.contains(term.as_str()),
                    "{term} left in {}",
                    m.masked
                );
            }
        }
        assert_eq!(moderation("fuck you").masked, "f*** you");
        assert_eq!(moderation("je vais vous tuer").masked, "je vais vous t***");
        assert_eq!(moderation("câlisse").masked, "c******");
    }

    #[test]
    fn clean_text_is_returned_unchanged() {
        let m = moderation("Bonjour, quand passe la collecte?");
        assert_eq!(m.verdict, Verdict::Clean);
        assert_eq!(m.masked, "Bonjour, quand passe la collecte?");
        assert!(m.terms.is_empty());
    }
}
