//! A raw element tree, for responses read as a whole (GetSite) and for callers
//! that need an element no typed field covers.

use super::encode::XmlNs;
use super::reader::{Content, DecodeError, TagNs, XmlReader};

/// One element: its namespace (when one of the XML API's), local name, text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// `None` for unqualified or foreign elements.
    pub ns: Option<XmlNs>,
    /// The local name, without prefix.
    pub name: String,
    /// The element's own text, whitespace between children left out.
    pub text: String,
    /// The child elements, in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at a `/`-separated path of local names, e.g. `video/HQvideo`.
    pub fn at(&self, path: &str) -> Option<&Element> {
        path.split('/')
            .try_fold(self, |element, name| element.child(name))
    }

    /// The trimmed text at `path`.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        self.at(path).map(|e| e.text.trim())
    }
}

/// Parses a whole document (within the default [`Limits`](super::Limits)) into
/// its root element, e.g. to inspect a request or an unusual response.
pub fn parse(bytes: &[u8]) -> Result<Element, DecodeError> {
    let mut r = XmlReader::new(bytes, super::Limits::default())?;
    let mut roots = read_children(&mut r)?;
    match roots.len() {
        1 => Ok(roots.remove(0)),
        0 => Err(DecodeError::Structure("empty document".into())),
        _ => Err(DecodeError::Structure("more than one root element".into())),
    }
}

/// Reads the children of the element the reader is inside of, up to its end.
pub(crate) fn read_children(r: &mut XmlReader<'_>) -> Result<Vec<Element>, DecodeError> {
    Ok(read_content(r)?.children)
}

/// Reads the content of the element the reader is inside of. Iterative, so
/// that depth costs heap, not stack (the reader bounds it anyway).
fn read_content(r: &mut XmlReader<'_>) -> Result<Element, DecodeError> {
    let mut stack = vec![Element::default()];
    loop {
        match r.next_content()? {
            Content::Start(tag) => stack.push(Element {
                ns: match tag.ns {
                    TagNs::Webex(n) => Some(n),
                    TagNs::Unqualified | TagNs::Foreign => None,
                },
                name: tag.local_str().into_owned(),
                ..Element::default()
            }),
            Content::Text(t) => {
                let top = stack.last_mut().expect("stack holds the root");
                top.text.push_str(&t);
            }
            Content::End => {
                let mut done = stack.pop().expect("stack holds the root");
                if done.children.iter().len() > 0 && done.text.trim().is_empty() {
                    done.text.clear();
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
        }
    }
}
