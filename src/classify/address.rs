//! A message that is nothing but an address or an intersection ("45 Oakridge dr", "coin
//! Cartier et René-Lévesque", "Rue des Bouleaux, numéro 47"). The labelling guidelines make
//! it info: the agent asks what it is about. The model, which has seen addresses mostly in
//! reports of hazards, would otherwise read the street's name as evidence.
//!
//! Conservative by design: every word must be a number, a street word, a linking word, or a
//! name, and a name is a word written with a capital, or one that follows a number or a
//! French street word ("rue Bégin") or precedes an English one ("Oakridge dr"). So "nid de
//! poule rue Bégin" is not a lone address: "nid" and "poule" are none of these. No I/O.

use super::normalize::{Normalized, Segmented};

/// Street words written before the name (French usage, and "coin"/"corner" of an
/// intersection).
const BEFORE_NAME: &[&str] = &[
    "rue",
    "boul",
    "boulevard",
    "bd",
    "blvd",
    "avenue",
    "av",
    "ave",
    "chemin",
    "ch",
    "rang",
    "route",
    "rte",
    "place",
    "pl",
    "cote",
    "montee",
    "promenade",
    "croissant",
    "terrasse",
    "impasse",
    "allee",
    "carre",
    "autoroute",
    "coin",
    "corner",
    "intersection",
    "st",
    "ste",
    "saint",
    "sainte",
    "mont",
    "numero",
    "no",
];

/// Street words written after the name (English usage).
const AFTER_NAME: &[&str] = &[
    "street",
    "st",
    "road",
    "rd",
    "drive",
    "dr",
    "avenue",
    "ave",
    "av",
    "boulevard",
    "blvd",
    "crescent",
    "cres",
    "lane",
    "ln",
    "court",
    "ct",
    "way",
    "place",
    "pl",
    "circle",
    "cir",
    "terrace",
    "highway",
    "hwy",
    "parkway",
    "pkwy",
];

/// Words that join the parts of an address.
const LINKING: &[&str] = &[
    "et",
    "pis",
    "puis",
    "and",
    "de",
    "des",
    "du",
    "la",
    "le",
    "l",
    "d",
    "of",
    "at",
    "the",
    "au",
    "aux",
    "near",
    "pres",
    "app",
    "apt",
    "unit",
    "appartement",
];

/// Whether the message is an address or an intersection and nothing else.
pub(crate) fn is_lone_address(text: &str, seg: &Segmented, norm: &Normalized) -> bool {
    let n = norm.len();
    if !(2..=8).contains(&n) {
        return false;
    }
    let is_number = |t: &str| t.starts_with(|c: char| c.is_ascii_digit());
    let mut street = false;
    for i in 0..n {
        let token = norm.token(i);
        let before = BEFORE_NAME.contains(&token);
        let after = AFTER_NAME.contains(&token);
        street |= before || after;
        if before || after || is_number(token) || LINKING.contains(&token) {
            continue;
        }
        let capitalised = seg
            .words
            .get(norm.tokens[i].word)
            .and_then(|w| text.get(w.span.clone()))
            .and_then(|w| w.chars().next())
            .is_some_and(char::is_uppercase);
        let follows = i > 0 && {
            let previous = norm.token(i - 1);
            is_number(previous) || BEFORE_NAME.contains(&previous)
        };
        let precedes = i + 1 < n && AFTER_NAME.contains(&norm.token(i + 1));
        if !(capitalised || follows || precedes) {
            return false;
        }
    }
    street
}

#[cfg(test)]
mod tests {
    use super::super::normalize::{normalize_words, segment};
    use super::*;

    fn lone(text: &str) -> bool {
        let mut seg = Segmented::default();
        let mut norm = Normalized::default();
        segment(text, &mut seg);
        normalize_words(&seg, &mut norm);
        is_lone_address(text, &seg, &norm)
    }

    #[test]
    fn addresses_and_intersections_alone_are_recognised() {
        assert!(lone("45 Oakridge dr"));
        assert!(lone("45 oakridge dr"));
        assert!(lone("2187 boul. Valcartier"));
        assert!(lone("Rue des Bouleaux, numéro 47"));
        assert!(lone("coin St-Joseph et de la Couronne"));
        assert!(lone("corner of Sources and Hymus"));
        assert!(lone("1234 rue Principale"));
        assert!(lone("coin Maufils pis Seigneuriale"));
    }

    #[test]
    fn a_report_with_its_address_is_not_a_lone_address() {
        assert!(!lone("nid de poule rue Bégin"));
        assert!(!lone("fuite d'eau au 45 rue Bégin"));
        assert!(!lone("arbre tombé coin Cartier et René-Lévesque"));
        assert!(!lone("streetlight out 22 Heather Cres"));
        assert!(!lone("Bonjour"));
        assert!(!lone("Oakridge"));
    }
}
