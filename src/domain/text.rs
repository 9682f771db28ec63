//! What a citizen's text may carry into guichet, and what staff may see of it.
//!
//! [`sanitize`] strips what a terminal or a page would act on instead of showing (escape
//! sequences, control and bidirectional-override characters) and keeps everything a person
//! writes: accents, emojis, newlines, tabs. [`redact`] hides, in a sentence about a message
//! (a classifier's reason, an audit detail), the words that moderation masked in it, so that
//! staff never read an insult in clear. Pure functions, no I/O.

/// The text with terminal escape sequences, control characters (except newline and tab) and
/// bidirectional overrides removed; `\r\n` and a lone `\r` become `\n`.
pub fn sanitize(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\u{1b}' => skip_escape(&mut chars),
            // CSI in its one-character C1 form.
            '\u{9b}' => skip_csi(&mut chars),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// True when `text` holds anything [`sanitize`] would remove or change.
pub fn needs_sanitizing(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c))
}

/// Embedding and override marks that reorder what a reader sees ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// After an ESC: a CSI (`ESC [`), an OSC or other string command (`ESC ]`, `P`, `X`, `^`,
/// `_`, ended by BEL or `ESC \`), or a two-character sequence.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' || c == '\u{9c}' {
                    break;
                }
                if c == '\u{1b}' {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    break;
                }
            }
        }
        _ => {}
    }
}

/// Parameters and intermediates up to the final byte (`@` to `~`).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// The words of `original` that moderation masked in `masked` (the masked copy keeps the
/// text's length and first letters, character for character), lowercased.
pub fn masked_words(original: &str, masked: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut hidden = false;
    let mut flush = |word: &mut String, hidden: &mut bool| {
        if *hidden && !word.is_empty() {
            words.push(word.to_lowercase());
        }
        word.clear();
        *hidden = false;
    };
    let mut masked_chars = masked.chars();
    for o in original.chars() {
        let m = masked_chars.next();
        if o.is_alphanumeric() {
            word.push(o);
            hidden |= m.is_some_and(|m| m != o);
        } else {
            flush(&mut word, &mut hidden);
        }
    }
    flush(&mut word, &mut hidden);
    words
}

/// `sentence` with every word that is one of `hidden`, or a stem of one (three letters or
/// more, compared without accents), shown masked: first letter kept, the rest starred.
pub fn redact(sentence: &str, hidden: &[String]) -> String {
    if hidden.is_empty() {
        return sentence.to_owned();
    }
    let hidden: Vec<String> = hidden.iter().map(|w| fold(w)).collect();
    let mut out = String::with_capacity(sentence.len());
    let mut word = String::new();
    let push_word = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            let folded = fold(word);
            let secret = folded.chars().count() >= 3
                && hidden
                    .iter()
                    .any(|h| h.starts_with(&folded) || folded.starts_with(h.as_str()));
            if secret {
                let mut letters = word.chars();
                out.extend(letters.next());
                out.extend(letters.map(|_| '*'));
            } else {
                out.push_str(word);
            }
            word.clear();
        }
    };
    for c in sentence.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            push_word(&mut word, &mut out);
            out.push(c);
        }
    }
    push_word(&mut word, &mut out);
    out
}

/// Lowercase, accents removed: the way the classifier's features spell words.
fn fold(word: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    word.nfd()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_removes_escape_sequences_whole() {
        assert_eq!(sanitize("a\u{1b}[2J\u{1b}[Hb"), "ab");
        assert_eq!(sanitize("x\u{1b}]0;title\u{7}y"), "xy");
        assert_eq!(
            sanitize("x\u{1b}]8;;http://e\u{1b}\\link\u{1b}]8;;\u{1b}\\y"),
            "xlinky"
        );
        assert_eq!(sanitize("\u{9b}31mred"), "red");
    }

    #[test]
    fn sanitize_keeps_what_people_write() {
        let text = "Allô! L’eau est brune 😡\nrue Saint-Édouard\tà Québec 👨‍👩‍👧";
        assert_eq!(sanitize(text), text);
        assert!(!needs_sanitizing(text));
    }

    #[test]
    fn sanitize_drops_controls_and_bidi_overrides_and_normalises_line_ends() {
        assert_eq!(sanitize("a\u{0}b\u{7}c\u{7f}d\u{85}e"), "abcde");
        assert_eq!(sanitize("abc\u{202e}fed"), "abcfed");
        assert_eq!(sanitize("one\r\ntwo\rthree"), "one\ntwo\nthree");
        assert!(needs_sanitizing("a\u{1b}b"));
    }

    #[test]
    fn masked_words_are_those_moderation_starred() {
        let words = masked_words("t'es un cave pis un crisse", "t'es un c*** pis un c*****");
        assert_eq!(words, vec!["cave", "crisse"]);
    }

    #[test]
    fn redact_hides_masked_words_and_their_stems_in_reasons() {
        let hidden = vec!["cave".to_owned(), "câlisse".to_owned()];
        assert_eq!(
            redact("moderation: insult aimed at people (\"cave\")", &hidden),
            "moderation: insult aimed at people (\"c***\")"
        );
        assert_eq!(
            redact(
                "model: complaint 0.61 (top features: calis, rue, est)",
                &hidden
            ),
            "model: complaint 0.61 (top features: c****, rue, est)"
        );
        assert_eq!(redact("nothing to hide", &[]), "nothing to hide");
    }
}
