//! Deflate with a preset dictionary, for guichet's own messages: an acknowledgment is mostly
//! the sentences of its template, which deflate alone cannot find in a few hundred bytes but
//! finds at once in a dictionary that holds them (about 320 bytes become 120).
//!
//! The dictionary is primed by deflating it and flushing (which aligns the output on a
//! byte), then the value is deflated after it, with the dictionary in its window; only what
//! follows the flush is stored. To read it back, the dictionary is put before it as a stored
//! (uncompressed) block, and what it inflates to after the dictionary is the value.
//!
//! `dictionary.txt` must never change: values written with it are read with it. Another
//! dictionary would take another tag.

use std::io::Read as _;

use flate2::{Compress, Compression, FlushCompress, Status};

/// The first byte of a value deflated after the dictionary.
pub(super) const TAG: u8 = 0x02;

/// The sentences of the acknowledgments guichet ships (French and English), then the start
/// of an acknowledgment's JSON: the most frequent last, nearest the value.
const DICTIONARY: &[u8] = include_bytes!("dictionary.txt");

/// `json` deflated after the dictionary, behind [`TAG`].
pub(super) fn deflate(json: &[u8]) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static DEFLATER: std::cell::RefCell<Compress> =
            std::cell::RefCell::new(Compress::new(Compression::fast(), false));
    }
    // One deflater per thread, reset for each value (making one costs more than using it).
    DEFLATER.with_borrow_mut(|deflater| {
        deflater.reset();
        deflate_with(deflater, json)
    })
}

fn deflate_with(deflater: &mut Compress, json: &[u8]) -> std::io::Result<Vec<u8>> {
    let fail = |what: &str| std::io::Error::other(format!("deflate: {what}"));
    let mut primed = Vec::with_capacity(DICTIONARY.len() + 1024);
    deflater
        .compress_vec(DICTIONARY, &mut primed, FlushCompress::Sync)
        .map_err(|e| fail(&e.to_string()))?;
    if deflater.total_in() != DICTIONARY.len() as u64 {
        return Err(fail("the dictionary did not fit"));
    }
    let mut out = Vec::with_capacity(json.len() + 128);
    out.push(TAG);
    let status = deflater
        .compress_vec(json, &mut out, FlushCompress::Finish)
        .map_err(|e| fail(&e.to_string()))?;
    if status != Status::StreamEnd {
        return Err(fail("the value did not fit"));
    }
    Ok(out)
}

/// What [`deflate`] stored (without its tag), inflated.
pub(super) fn inflate(stored: &[u8]) -> std::io::Result<Vec<u8>> {
    let len = DICTIONARY.len() as u16;
    // A stored block, not the last: BFINAL 0, BTYPE 00, then LEN and its complement.
    let mut header = vec![0u8];
    header.extend_from_slice(&len.to_le_bytes());
    header.extend_from_slice(&(!len).to_le_bytes());
    let stream = header.as_slice().chain(DICTIONARY).chain(stored);
    let mut out = Vec::with_capacity(DICTIONARY.len() + stored.len() * 4);
    flate2::read::DeflateDecoder::new(stream).read_to_end(&mut out)?;
    if !out.starts_with(DICTIONARY) {
        return Err(std::io::Error::other(
            "inflate: the dictionary did not come first",
        ));
    }
    Ok(out.split_off(DICTIONARY.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_whole_and_an_acknowledgment_takes_a_fraction_of_its_length() {
        let ack = concat!(
            r#"{"kind":"acknowledgment","author":"guichet","at":"2026-11-30T21:21:07.123456789Z","#,
            r#""text":"Bonjour,\n\nMerci de votre message. Votre numéro de référence est G-1234.\n\n"#,
            r#"Un membre de notre équipe vous répondra d’ici le 2 décembre 2026 à 17 h.\n\nSi "#,
            r#"votre demande nécessite un suivi plus rapide, communiquez directement avec le "#,
            r#"service à la clientèle au 311 en mentionnant votre numéro de référence.\n\n"#,
            r#"Message automatique — Ville"}"#
        );
        let stored = deflate(ack.as_bytes()).unwrap();
        assert_eq!(stored[0], TAG);
        assert!(
            stored.len() * 5 < ack.len() * 2,
            "{} bytes of {}",
            stored.len(),
            ack.len()
        );
        assert_eq!(inflate(&stored[1..]).unwrap(), ack.as_bytes());
        for value in [&b""[..], b"x", &[0xffu8; 70_000]] {
            assert_eq!(inflate(&deflate(value).unwrap()[1..]).unwrap(), value);
        }
        assert!(inflate(&[0xff, 0x00]).is_err());
    }

    /// Bytes written by this dictionary when it was introduced: they must read the same for
    /// as long as stores hold them (the dictionary never changes).
    #[test]
    fn what_was_written_with_the_dictionary_still_reads() {
        let value = br#"{"kind":"acknowledgment","author":"guichet","at":"2026-11-30T21:00:00Z","text":"Merci de votre message."}"#;
        let stored = deflate(value).unwrap();
        let frozen: &[u8] = &GOLDEN;
        assert_eq!(inflate(&frozen[1..]).unwrap(), value);
        assert_eq!(inflate(&stored[1..]).unwrap(), value);
    }

    const GOLDEN: [u8; 55] = [
        2, 157, 142, 161, 10, 0, 32, 12, 5, 255, 197, 62, 217, 155, 96, 240, 31, 108, 38, 187, 209,
        102, 16, 196, 127, 119, 98, 178, 14, 174, 222, 113, 203, 224, 72, 36, 128, 2, 23, 65, 98,
        86, 170, 246, 70, 155, 183, 152, 255, 237, 254, 86, 189, 219, 7,
    ];
}
