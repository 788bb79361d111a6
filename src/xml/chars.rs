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

/// The first character of `text` XML 1.0 does not allow.
pub fn first_forbidden(text: &str) -> Option<char> {
    text.chars().find(|c| !is_xml_char(*c))
}

/// `U+0007`: how messages name a character without showing it.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The byte offset and character of the first forbidden character in UTF-8
/// `bytes`. In UTF-8 a byte below 0x20 is always that control itself, and
/// U+FFFE/U+FFFF are `EF BF BE`/`EF BF BF`, so one pass over the bytes finds
/// them without decoding.
pub(crate) fn first_forbidden_byte(bytes: &[u8]) -> Option<(usize, char)> {
    let suspect = |b: &u8| (*b < 0x20 && !matches!(*b, b'\t' | b'\n' | b'\r')) || *b == 0xEF;
    let mut from = 0;
    while let Some(i) = bytes[from..].iter().position(suspect).map(|i| i + from) {
        match bytes[i] {
            0xEF => match bytes.get(i + 1..i + 3) {
                Some([0xBF, 0xBE]) => return Some((i, '\u{FFFE}')),
                Some([0xBF, 0xBF]) => return Some((i, '\u{FFFF}')),
                _ => from = i + 1,
            },
            control => return Some((i, char::from(control))),
        }
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
        for text in [
            "plain",
            "tab\there\r\n",
            "a\u{1}b",
            "ü\u{FFFE}",
            "\u{FFFD}\u{FFFF}",
            "\u{F000}\u{EFFF}x\u{0}",
        ] {
            let by_chars = text.char_indices().find(|(_, c)| !is_xml_char(*c));
            assert_eq!(first_forbidden_byte(text.as_bytes()), by_chars, "{text:?}");
        }
    }
}
