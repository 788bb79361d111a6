//! The characters XML 1.0 can carry: its `Char` production is
//! `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`.
//! A Rust `char` is never a surrogate, so what is left out is the C0 controls
//! other than TAB, LF and CR, and the noncharacters U+FFFE and U+FFFF. Neither
//! raw nor as a character reference (`&#1;`) may they appear in a document.

/// Whether XML 1.0 allows `c` in a document.
pub fn is_xml_char(c: char) -> bool {
    !matches!(
        c,
        '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}'
    )
}

/// The first character of `text` XML 1.0 does not allow. Scans bytes, not
/// characters: the validator runs it over every text value.
pub fn first_forbidden(text: &str) -> Option<char> {
    first_forbidden_byte(text.as_bytes()).map(|(_, c)| c)
}

/// `U+0007`: how messages name a character without showing it.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The byte offset and character of the first forbidden character in UTF-8
/// `bytes`. In UTF-8 a byte below 0x20 is always that control itself, and
/// U+FFFE/U+FFFF are `EF BF BE`/`EF BF BF`, so one pass over the bytes finds
/// them without decoding. Every response goes through it before parsing, so it
/// tests 64 bytes at a time without branching (which the compiler vectorizes)
/// and looks closer only at a chunk holding a suspect byte.
pub(crate) fn first_forbidden_byte(bytes: &[u8]) -> Option<(usize, char)> {
    const CHUNK: usize = 64;
    let suspect = |b: u8| (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r') | (b == 0xEF);
    let mut offset = 0;
    for chunk in bytes.chunks(CHUNK) {
        if chunk.iter().fold(0u8, |any, &b| any | u8::from(suspect(b))) != 0 {
            for (i, &b) in chunk.iter().enumerate().filter(|(_, b)| suspect(**b)) {
                let at = offset + i;
                match b {
                    // The two bytes after may lie in the next chunk.
                    0xEF => match bytes.get(at + 1..at + 3) {
                        Some([0xBF, 0xBE]) => return Some((at, '\u{FFFE}')),
                        Some([0xBF, 0xBF]) => return Some((at, '\u{FFFF}')),
                        _ => {}
                    },
                    control => return Some((at, char::from(control))),
                }
            }
        }
        offset += chunk.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_char_production_of_xml_1_0() {
        let refused: Vec<char> = (0u32..0x20)
            .chain([0xFFFE, 0xFFFF])
            .filter_map(char::from_u32)
            .filter(|c| !is_xml_char(*c))
            .collect();
        assert_eq!(refused.len(), 29 + 2, "{refused:?}");
        for ok in [
            '\t',
            '\n',
            '\r',
            ' ',
            '\u{7F}',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{10000}',
            '\u{10FFFF}',
        ] {
            assert!(is_xml_char(ok), "{ok:?}");
        }
    }

    #[test]
    fn the_byte_scan_agrees_with_the_char_scan() {
        let mut texts: Vec<String> = [
            "plain",
            "tab\there\r\n",
            "a\u{1}b",
            "ü\u{FFFE}",
            "\u{FFFD}\u{FFFF}",
            "\u{F000}\u{EFFF}x\u{0}",
        ]
        .map(str::to_owned)
        .into();
        // Every offset around the chunk boundaries, so that a U+FFFE (EF BF BE)
        // also starts in one chunk and ends in the next.
        for pad in 0..140 {
            for tail in ["\u{FFFE}", "\u{FFFF}", "\u{FFFD}", "\u{F000}", "\u{1B}"] {
                texts.push(format!("{}{tail}", "x".repeat(pad)));
            }
        }
        for text in &texts {
            let by_chars = text.char_indices().find(|(_, c)| !is_xml_char(*c));
            assert_eq!(first_forbidden_byte(text.as_bytes()), by_chars, "{text:?}");
        }
    }
}
