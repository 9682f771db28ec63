//! Phrase matching over normalized tokens, shared by the safety rules and moderation.
//!
//! Owns the small pattern language both tables are written in: a phrase is a list of word
//! slots, each slot a `|`-separated list of forms (`coup*` is a prefix, `#num` a number in
//! digits), with up to `gap` other words allowed between two slots. Forms of five letters or
//! more also match with one typo, unless written `=form` (exact: "urgence" must not match
//! "urgences", as in "le numéro pour les urgences"). A table is compiled once into word ids;
//! each token of a message is looked up once, and phrases are only tried where a token
//! matches their first slot, so a message costs one lookup per token, not one string
//! comparison per phrase. No I/O.

use std::collections::HashMap;

use super::features::FastHash;
use super::normalize::Normalized;

/// One phrase of a table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PhraseDef<K: 'static> {
    pub kind: K,
    /// What the phrase is about, shown in reasons ("gas leak", "insult").
    pub topic: &'static str,
    pub slots: &'static [&'static str],
    pub gap: usize,
    /// Words that must not appear within the match or right after it ("pas d'eau chaude" is
    /// no water cut, "le feu pour piétons est brisé" no traffic light out).
    pub excluding: &'static str,
}

pub(crate) const fn phrase<K: Copy>(
    kind: K,
    topic: &'static str,
    slots: &'static [&'static str],
    gap: usize,
) -> PhraseDef<K> {
    PhraseDef {
        kind,
        topic,
        slots,
        gap,
        excluding: "",
    }
}

/// A set of word ids: a bit per word of the table. Slots are sets; a token is a short list
/// of ids (usually none, rarely more than two), so testing a slot is a few bit lookups.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    fn contains(&self, id: u16) -> bool {
        let id = usize::from(id);
        self.0
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }
}

pub(crate) struct Phrase<K> {
    pub kind: K,
    pub topic: &'static str,
    slots: Vec<Bits>,
    gap: usize,
    excluding: Bits,
}

pub(crate) struct PhraseTable<K> {
    /// Whole-word forms: a form written `=form` and the same form written without `=` are
    /// two words, so that only the second one matches with a typo.
    exact: HashMap<&'static str, u16, FastHash>,
    typo_tolerant: HashMap<&'static str, u16, FastHash>,
    /// Prefix forms by first byte.
    prefixes: Vec<Vec<(&'static str, u16)>>,
    /// Forms of five letters or more by (first byte, length), for one-typo matching.
    fuzzy: HashMap<(u8, usize), Vec<(&'static str, u16)>, FastHash>,
    phrases: Vec<Phrase<K>>,
    /// For each word id, the phrases whose first slot holds it: matching starts only where
    /// a phrase can start.
    starting_with: Vec<Vec<u16>>,
    words: u16,
    typos: bool,
    /// Told apart from every other table compiled by this process, for [`Marks`]' memory.
    id: usize,
}

/// The ids of compiled tables; 0 is no table.
static TABLES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// The words of the table each token of a message matches, reused from one message to the
/// next: token `i` matches `ids[starts[i]..starts[i + 1]]`.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    ids: Vec<u16>,
    starts: Vec<u32>,
    positions: Vec<usize>,
    next_start: Vec<usize>,
    /// The words each token seen lately matched, so a token met again costs one lookup
    /// instead of the prefix and one-typo scans: `memo_ids[a..b]` for `memo[token] = (a, b)`.
    /// Valid for the table whose id is `memo_table` only; emptied when it grows past [`MEMO_TOKENS`].
    memo: HashMap<Box<str>, (u32, u32), FastHash>,
    memo_ids: Vec<u16>,
    memo_table: usize,
}

/// Tokens a [`Marks`] remembers before it starts afresh (about a megabyte at most).
const MEMO_TOKENS: usize = 16_384;

impl Marks {
    fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    fn of(&self, i: usize) -> &[u16] {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.ids[a as usize..b as usize],
            _ => &[],
        }
    }

    fn matches(&self, i: usize, slot: &Bits) -> bool {
        self.of(i).iter().any(|&id| slot.contains(id))
    }
}

/// The id of `#num`.
const NUMBER: u16 = 0;

impl<K: Copy> PhraseTable<K> {
    /// Compiles a table; with `typos` false, no form matches with a typo.
    pub fn compile(defs: &[PhraseDef<K>], typos: bool) -> PhraseTable<K> {
        let mut table = PhraseTable {
            exact: HashMap::default(),
            typo_tolerant: HashMap::default(),
            prefixes: vec![Vec::new(); 256],
            fuzzy: HashMap::default(),
            phrases: Vec::with_capacity(defs.len()),
            starting_with: Vec::new(),
            words: 1,
            typos,
            id: TABLES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        };
        // Intern every form first so that all sets have their final size.
        let mut ids: Vec<(Vec<Vec<u16>>, Vec<u16>)> = Vec::with_capacity(defs.len());
        for d in defs {
            let slots = d.slots.iter().map(|s| table.intern_all(s)).collect();
            let excluding = table.intern_all(d.excluding);
            ids.push((slots, excluding));
        }
        table.starting_with = vec![Vec::new(); usize::from(table.words)];
        for (index, (d, (slots, excluding))) in defs.iter().zip(ids).enumerate() {
            if let Some(first) = slots.first() {
                for &id in first {
                    table.starting_with[usize::from(id)].push(index as u16);
                }
            }
            let slots = slots.iter().map(|s| table.set(s)).collect();
            let excluding = table.set(&excluding);
            table.phrases.push(Phrase {
                kind: d.kind,
                topic: d.topic,
                slots,
                gap: d.gap,
                excluding,
            });
        }
        table
    }

    fn intern_all(&mut self, forms: &'static str) -> Vec<u16> {
        let mut ids: Vec<u16> = forms
            .split('|')
            .filter(|f| !f.is_empty())
            .map(|f| self.intern(f))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn set(&self, ids: &[u16]) -> Bits {
        let mut bits = vec![0u64; usize::from(self.words).div_ceil(64)];
        for &id in ids {
            let id = usize::from(id);
            bits[id / 64] |= 1 << (id % 64);
        }
        Bits(bits)
    }

    fn intern(&mut self, form: &'static str) -> u16 {
        if form == "#num" {
            return NUMBER;
        }
        let (form, fuzzy) = match form.strip_prefix('=') {
            Some(exact) => (exact, false),
            None => (form, true),
        };
        if let Some(prefix) = form.strip_suffix('*') {
            let first = usize::from(prefix.as_bytes().first().copied().unwrap_or(0));
            if let Some(&(_, id)) = self.prefixes[first].iter().find(|(p, _)| *p == prefix) {
                return id;
            }
            let id = self.new_id();
            self.prefixes[first].push((prefix, id));
            return id;
        }
        let forms = if fuzzy {
            &mut self.typo_tolerant
        } else {
            &mut self.exact
        };
        if let Some(&id) = forms.get(form) {
            return id;
        }
        let id = self.words;
        forms.insert(form, id);
        self.words += 1;
        if fuzzy && self.typos && form.len() >= 5 {
            let key = (form.as_bytes()[0], form.len());
            self.fuzzy.entry(key).or_default().push((form, id));
        }
        id
    }

    fn new_id(&mut self) -> u16 {
        self.words += 1;
        self.words - 1
    }

    /// The most tokens a match can span: a match starting at `i` ends by `i + max_span()`.
    pub fn max_span(&self) -> usize {
        self.phrases
            .iter()
            .map(|p| p.slots.len().saturating_sub(1) * (p.gap + 1))
            .max()
            .unwrap_or(0)
    }

    /// Marks each token of `norm` with the words of the table it matches.
    /// Returns false when no token matches anything (the common case: nothing to look for).
    pub fn mark(&self, norm: &Normalized, marks: &mut Marks) -> bool {
        marks.ids.clear();
        marks.starts.clear();
        marks.starts.push(0);
        if marks.memo_table != self.id || marks.memo.len() >= MEMO_TOKENS {
            marks.memo.clear();
            marks.memo_ids.clear();
            marks.memo_table = self.id;
        }
        for i in 0..norm.len() {
            let token = norm.token(i);
            if let Some(&(a, b)) = marks.memo.get(token) {
                marks
                    .ids
                    .extend_from_slice(&marks.memo_ids[a as usize..b as usize]);
            } else {
                let from = marks.ids.len();
                self.token_ids(token, &mut marks.ids);
                let a = marks.memo_ids.len() as u32;
                marks.memo_ids.extend_from_slice(&marks.ids[from..]);
                marks
                    .memo
                    .insert(token.into(), (a, marks.memo_ids.len() as u32));
            }
            marks.starts.push(marks.ids.len() as u32);
        }
        !marks.ids.is_empty()
    }

    fn token_ids(&self, token: &str, out: &mut Vec<u16>) {
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push(NUMBER);
            return;
        }
        let Some(&first) = token.as_bytes().first() else {
            return;
        };
        let exact = self.exact.get(token).copied();
        let tolerant = self.typo_tolerant.get(token).copied();
        out.extend(exact);
        out.extend(tolerant);
        for &(prefix, id) in &self.prefixes[usize::from(first)] {
            if token.starts_with(prefix) {
                out.push(id);
            }
        }
        if exact.is_none() && tolerant.is_none() && token.len() >= 5 {
            for len in token.len() - 1..=token.len() + 1 {
                if let Some(candidates) = self.fuzzy.get(&(first, len)) {
                    for &(form, id) in candidates {
                        if within_one_edit(token.as_bytes(), form.as_bytes()) {
                            out.push(id);
                        }
                    }
                }
            }
        }
    }

    /// Calls `found(phrase, positions)` for each match, where `positions` are the tokens
    /// that matched the phrase's slots. Matches of one phrase do not overlap.
    pub fn find(&self, marks: &mut Marks, mut found: impl FnMut(&Phrase<K>, &[usize])) {
        let n = marks.len();
        let mut positions = std::mem::take(&mut marks.positions);
        let mut next_start = std::mem::take(&mut marks.next_start);
        next_start.clear();
        next_start.resize(self.phrases.len(), 0);
        for i in 0..n {
            for &id in marks.of(i) {
                let Some(starting) = self.starting_with.get(usize::from(id)) else {
                    continue;
                };
                for &p in starting {
                    let p = usize::from(p);
                    if i < next_start[p] {
                        continue;
                    }
                    let phrase = &self.phrases[p];
                    if !phrase.match_at(marks, i, &mut positions) {
                        continue;
                    }
                    let end = positions.last().copied().unwrap_or(i);
                    next_start[p] = end + 1;
                    let excluded =
                        (i..=(end + 1).min(n - 1)).any(|j| marks.matches(j, &phrase.excluding));
                    if !excluded {
                        found(phrase, &positions);
                    }
                }
            }
        }
        marks.positions = positions;
        marks.next_start = next_start;
    }
}

impl<K> Phrase<K> {
    fn match_at(&self, marks: &Marks, start: usize, positions: &mut Vec<usize>) -> bool {
        positions.clear();
        positions.push(start);
        let mut at = start;
        for slot in &self.slots[1..] {
            let last = (at + 1 + self.gap).min(marks.len().saturating_sub(1));
            match (at + 1..=last).find(|&j| marks.matches(j, slot)) {
                Some(j) => {
                    positions.push(j);
                    at = j;
                }
                None => return false,
            }
        }
        true
    }
}

/// True when `a` and `b` differ by at most one insertion, deletion, substitution or
/// transposition of two neighbours.
pub(crate) fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let i = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if i == short.len() {
        return true;
    }
    if short.len() == long.len() {
        short[i + 1..] == long[i + 1..]
            || (i + 1 < short.len()
                && short[i] == long[i + 1]
                && short[i + 1] == long[i]
                && short[i + 2..] == long[i + 2..])
    } else {
        short[i..] == long[i + 1..]
    }
}

/// The normalized text from token `start` to token `end`, inclusive.
pub(crate) fn join(norm: &Normalized, start: usize, end: usize) -> String {
    let (a, b) = (norm.tokens[start].range.start, norm.tokens[end].range.end);
    norm.text.get(a..b).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::{normalize_words, segment, Segmented};

    const DEFS: &[PhraseDef<u8>] = &[
        phrase(1, "gas", &["odeur", "gaz"], 2),
        phrase(2, "no water", &["pas|plus", "eau"], 1),
        PhraseDef {
            kind: 3,
            topic: "fire",
            slots: &["incend*"],
            gap: 0,
            excluding: "prevention",
        },
        phrase(4, "ago", &["#num", "days"], 0),
    ];

    fn topics(text: &str) -> Vec<&'static str> {
        topics_in(&PhraseTable::compile(DEFS, true), text)
    }

    fn topics_in(table: &PhraseTable<u8>, text: &str) -> Vec<&'static str> {
        let mut seg = Segmented::default();
        let mut norm = Normalized::default();
        segment(text, &mut seg);
        normalize_words(&seg, &mut norm);
        let mut marks = Marks::default();
        table.mark(&norm, &mut marks);
        let mut out = Vec::new();
        table.find(&mut marks, |p, _| out.push(p.topic));
        out
    }

    #[test]
    fn slots_match_with_gaps_prefixes_numbers_and_one_typo() {
        assert_eq!(topics("une odeur forte de gaz"), ["gas"]);
        assert_eq!(topics("une odeur de de de de gaz"), Vec::<&str>::new());
        assert_eq!(topics("pas d'eau"), ["no water"]);
        assert_eq!(topics("incendies"), ["fire"]);
        assert_eq!(topics("incendie prevention"), Vec::<&str>::new());
        assert_eq!(topics("3 days"), ["ago"]);
        assert_eq!(topics("oduer de gaz"), ["gas"]);
    }

    #[test]
    fn an_exact_form_stays_exact_when_the_same_word_is_also_typo_tolerant() {
        const TRAPPED: &[PhraseDef<u8>] = &[
            phrase(1, "stuck", &["someone", "trapped"], 1),
            phrase(2, "trapped", &["=trapped"], 0),
        ];
        let table = PhraseTable::compile(TRAPPED, true);
        let found = |text: &str| topics_in(&table, text);
        assert_eq!(found("the breaker tripped"), Vec::<&str>::new());
        assert_eq!(found("someone tripped"), ["stuck"]);
        assert_eq!(found("someone trapped"), ["stuck", "trapped"]);
    }

    #[test]
    fn marks_kept_from_message_to_message_answer_for_the_table_at_hand() {
        const NO_TYPOS: &[PhraseDef<u8>] = &[phrase(1, "smell", &["odeur"], 0)];
        let (typos, exact) = (
            PhraseTable::compile(DEFS, true),
            PhraseTable::compile(NO_TYPOS, false),
        );
        let mut marks = Marks::default();
        let mut found = |table: &PhraseTable<u8>, text: &str| {
            let mut seg = Segmented::default();
            let mut norm = Normalized::default();
            segment(text, &mut seg);
            normalize_words(&seg, &mut norm);
            table.mark(&norm, &mut marks);
            let mut out = Vec::new();
            table.find(&mut marks, |p, _| out.push(p.topic));
            out
        };
        // The same words, remembered by one table, then looked up in another, then again.
        assert_eq!(found(&typos, "oduer de gaz"), ["gas"]);
        assert_eq!(found(&exact, "oduer de gaz"), Vec::<&str>::new());
        assert_eq!(found(&exact, "odeur de gaz"), ["smell"]);
        assert_eq!(found(&exact, "pas d'eau"), Vec::<&str>::new());
        assert_eq!(
            found(&typos, "pas d'eau, oduer de gaz"),
            ["no water", "gas"]
        );
        assert_eq!(found(&typos, "pas d'eau"), ["no water"]);
    }

    #[test]
    fn one_typo_is_tolerated_but_not_two() {
        assert!(within_one_edit(b"electricite", b"electricte"));
        assert!(within_one_edit(b"inondation", b"inondaiton"));
        assert!(within_one_edit(b"courant", b"courrant"));
        assert!(!within_one_edit(b"courant", b"coran"));
        assert!(!within_one_edit(b"abcde", b"badce"));
    }
}
