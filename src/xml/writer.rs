//! A minimal XML writer: elements, escaped text, nothing else. Requests are
//! small and flat, so a `String` and a stack of open names is all it takes.

use quick_xml::escape::partial_escape;

#[derive(Debug, Default)]
pub(crate) struct XmlWriter {
    out: String,
    open: Vec<String>,
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
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
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

    pub(crate) fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out.push('\n');
        self.out
    }
}
