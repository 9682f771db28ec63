//! The store's values are compressed with a dictionary: a thread's record, its audit events
//! and guichet's own messages are mostly field names, timestamps and the sentences of the
//! acknowledgments, which a compressor cannot find in a few hundred bytes but finds at once
//! in a dictionary that holds them.
//!
//! Values are compressed by zstd with [`ZSTD_DICTIONARY`], prepared once ([`compress`]).
//! Older stores also hold acknowledgments deflated after [`DICTIONARY`] (tag [`TAG`]): the
//! dictionary was primed by deflating it and flushing, then the value was deflated after it,
//! and only what followed the flush was stored. They are read by putting the dictionary
//! before them as a stored (uncompressed) block ([`inflate`]).
//!
//! Neither dictionary may ever change: values written with one are read with it. Another
//! dictionary would take another tag.

use std::io::Read as _;

/// The first byte of a value deflated after [`DICTIONARY`] by an older guichet.
pub(super) const TAG: u8 = 0x02;

/// The sentences of the acknowledgments guichet ships (French and English), then the start
/// of an acknowledgment's JSON: the most frequent last, nearest the value.
const DICTIONARY: &[u8] = include_bytes!("dictionary.txt");

/// What an older guichet deflated after [`DICTIONARY`] (without its tag), inflated.
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

/// The first byte of a value compressed by zstd with the dictionary ([`compress`]).
pub(super) const ZSTD_TAG: u8 = 0x03;

/// The dictionary of [`compress`]: the shapes of a thread's record and of its first audit
/// events, the start of a citizen's message, then [`DICTIONARY`]. Like it, it must never
/// change: another dictionary would take another tag.
const ZSTD_DICTIONARY: &[u8] = include_bytes!("dictionary-zstd.txt");

/// The largest value [`decompress`] accepts: far above any record guichet writes, low enough
/// that a corrupt length cannot make it allocate without bound.
const ZSTD_MAX: u64 = 64 * 1024 * 1024;

/// The dictionary prepared once for zstd, which compresses every stored value with it: the
/// acknowledgments' sentences, the start of their JSON and the field names it shares with
/// the other records.
fn zstd_dictionaries() -> &'static (
    zstd::dict::EncoderDictionary<'static>,
    zstd::dict::DecoderDictionary<'static>,
) {
    static PREPARED: std::sync::OnceLock<(
        zstd::dict::EncoderDictionary<'static>,
        zstd::dict::DecoderDictionary<'static>,
    )> = std::sync::OnceLock::new();
    PREPARED.get_or_init(|| {
        (
            zstd::dict::EncoderDictionary::copy(ZSTD_DICTIONARY, 3),
            zstd::dict::DecoderDictionary::copy(ZSTD_DICTIONARY),
        )
    })
}

/// `json` compressed by zstd with the dictionary, behind [`ZSTD_TAG`]: a frame without
/// checksum (sled checks its log) nor dictionary id (there is one), with its content size.
pub(super) fn compress(json: &[u8]) -> std::io::Result<Vec<u8>> {
    use zstd::zstd_safe::CParameter;
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR.with_borrow_mut(|slot| {
        let compressor = match slot {
            Some(c) => c,
            None => {
                let mut c =
                    zstd::bulk::Compressor::with_prepared_dictionary(&zstd_dictionaries().0)?;
                c.set_parameter(CParameter::ChecksumFlag(false))?;
                c.set_parameter(CParameter::DictIdFlag(false))?;
                c.set_parameter(CParameter::ContentSizeFlag(true))?;
                slot.insert(c)
            }
        };
        let frame = compressor.compress(json)?;
        let mut out = Vec::with_capacity(1 + frame.len());
        out.push(ZSTD_TAG);
        out.extend_from_slice(&frame);
        Ok(out)
    })
}

/// What [`compress`] stored (without its tag), decompressed.
pub(super) fn decompress(stored: &[u8]) -> std::io::Result<Vec<u8>> {
    let size = match zstd::zstd_safe::get_frame_content_size(stored) {
        Ok(Some(size)) if size <= ZSTD_MAX => size as usize,
        _ => return Err(std::io::Error::other("zstd: no valid frame size")),
    };
    thread_local! {
        static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    DECOMPRESSOR.with_borrow_mut(|slot| {
        let decompressor = match slot {
            Some(d) => d,
            None => slot.insert(zstd::bulk::Decompressor::with_prepared_dictionary(
                &zstd_dictionaries().1,
            )?),
        };
        let out = decompressor.decompress(stored, size)?;
        if out.len() != size {
            return Err(std::io::Error::other("zstd: the value is cut short"));
        }
        Ok(out)
    })
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
        let stored = compress(ack.as_bytes()).unwrap();
        assert_eq!(stored[0], ZSTD_TAG);
        assert!(
            stored.len() * 3 < ack.len(),
            "{} bytes of {}",
            stored.len(),
            ack.len()
        );
        assert_eq!(decompress(&stored[1..]).unwrap(), ack.as_bytes());
        for value in [&b""[..], b"x", &[0xffu8; 70_000]] {
            assert_eq!(decompress(&compress(value).unwrap()[1..]).unwrap(), value);
        }
        assert!(decompress(&[0xff, 0x00]).is_err());
        assert!(inflate(&[0xff, 0x00]).is_err());
    }

    /// Bytes written with each dictionary: they must read the same for as long as stores
    /// hold them (the dictionaries never change).
    #[test]
    fn what_was_written_with_the_dictionaries_still_reads() {
        let value = br#"{"kind":"acknowledgment","author":"guichet","at":"2026-11-30T21:00:00Z","text":"Merci de votre message."}"#;
        assert_eq!(inflate(&GOLDEN[1..]).unwrap(), value);
        assert_eq!(decompress(&ZSTD_GOLDEN[1..]).unwrap(), value);
    }

    /// Written by zstd 1.5.7 (its output may change with the library; reading it may not).
    const ZSTD_GOLDEN: [u8; 42] = [
        3, 40, 181, 47, 253, 32, 105, 5, 1, 0, 48, 50, 49, 58, 48, 34, 125, 7, 0, 145, 230, 10,
        252, 135, 14, 56, 217, 121, 196, 72, 71, 131, 171, 6, 136, 202, 129, 240, 127, 13, 2, 1,
    ];

    const GOLDEN: [u8; 55] = [
        2, 157, 142, 161, 10, 0, 32, 12, 5, 255, 197, 62, 217, 155, 96, 240, 31, 108, 38, 187, 209,
        102, 16, 196, 127, 119, 98, 178, 14, 174, 222, 113, 203, 224, 72, 36, 128, 2, 23, 65, 98,
        86, 170, 246, 70, 155, 183, 152, 255, 237, 254, 86, 189, 219, 7,
    ];
}
