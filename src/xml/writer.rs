//! A minimal XML writer: elements, escaped text, nothing else. Requests are
//! small and flat, so a `String` and a stack of open names is all it takes.

use std::borrow::Cow;

use quick_xml::escape::partial_escape;

use super::chars::{first_forbidden, is_xml_char};

#[derive(Debug, Default)]
pub(crate) struct XmlWriter {
    out: String,
    open: Vec<String>,
    refused: Option<Refused>,
}

/// The first text that held a character XML 1.0 does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    /// The element's local name (no prefix).
    pub(crate) element: String,
    pub(crate) character: char,
}

impl XmlWriter {
    pub(crate) fn new() -> Self {
        let mut w = Self::default();
        w.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        w
    }

    /// `<name attr="value" …>`; attribute values must already be safe (namespace URIs, type names).
    pub(crate) fn open_with(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(v);
            self.out.push('"');
        }
        self.out.push('>');
        self.open.push(name.to_owned());
    }

    pub(crate) fn open(&mut self, name: &str) {
        self.open_with(name, &[]);
    }

    pub(crate) fn close(&mut self) {
        let name = self.open.pop().expect("close without open");
        self.out.push_str("</");
        self.out.push_str(&name);
        self.out.push('>');
    }

    /// `<name>text</name>` with the text escaped. A carriage return becomes a
    /// character reference, since parsers turn a literal one into a line feed.
    /// A character XML 1.0 does not allow is never written: the first is
    /// recorded (see [`Self::refused`]) and each is replaced by U+FFFD.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        let text = match first_forbidden(text) {
            None => Cow::Borrowed(text),
            Some(character) => {
                let element = name.rsplit(':').next().unwrap_or(name).to_owned();
                self.refused.get_or_insert(Refused { element, character });
                Cow::Owned(
                    text.chars()
                        .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
                        .collect(),
                )
            }
        };
        let escaped = partial_escape(text);
        if escaped.contains('\r') {
            self.out.push_str(&escaped.replace('\r', "&#xD;"));
        } else {
            self.out.push_str(&escaped);
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// The first text refused so far, if any: a request holding one must not be sent.
    pub(crate) fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }

    pub(crate) fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out.push('\n');
        self.out
    }
}
