//! A small scoped pull decoder over quick-xml's `NsReader`, in the manner of
//! aws-smithy-xml: the caller walks children of the current element and either
//! reads an element's text, descends into it, or skips it.
//!
//! Elements are matched by resolved namespace and local name, never by prefix;
//! only a request (read by the simulator) may leave the `serv` and `use`
//! prefixes undeclared, as the real service evidently allows (see
//! [`UNDECLARED_REQUEST_PREFIXES`]). Text is decoded in the document's declared
//! encoding (real answers declare ISO-8859-1); the character check below runs
//! on the raw bytes, which suits UTF-8 and the single-byte encodings.
//! Hostile input is bounded: a size limit, a depth limit, no DTD (so no entity
//! expansion beyond the five predefined entities and character references).
//! Characters XML 1.0 does not allow (see [`super::chars`]) make a document
//! malformed, raw or as character references.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::encoding::Decoder;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::chars::{code_point, first_forbidden, first_forbidden_byte, is_xml_char};
use super::encode::XmlNs;

/// Bounds applied to every response before and while it is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest document accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting accepted (the envelope itself takes 4 levels).
    pub max_depth: usize,
}

impl Default for Limits {
    /// 64 MiB (a 500-user list page is well under 1 MiB) and 48 levels (the
    /// deepest catalogue path is 6 below `bodyContent`).
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 20,
            max_depth: 48,
        }
    }
}

/// Why a document (a response, or a request the simulator reads) could not be
/// read. The service's own FAILURE answers are not decode errors: they are
/// [`ServiceError`](super::decode::ServiceError)s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The document is larger than [`Limits::max_bytes`]; nothing of it was read.
    #[error("document of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The document's size in bytes.
        size: usize,
        /// The limit it exceeds.
        limit: usize,
    },
    /// Elements nest deeper than [`Limits::max_depth`] (a guard against hostile documents).
    #[error("document nests elements deeper than {limit} levels (at byte {position})")]
    TooDeep {
        /// The deepest nesting allowed ([`Limits::max_depth`]).
        limit: usize,
        /// The byte offset where the limit was passed.
        position: u64,
    },
    /// The document has a DOCTYPE: refused outright, so no entity can expand.
    #[error("document carries a DTD, which is never accepted (at byte {position})")]
    Dtd {
        /// The byte offset of the DTD.
        position: u64,
    },
    /// The document is not well-formed XML.
    #[error("document is not well-formed XML at byte {position}: {message}")]
    Syntax {
        /// The byte offset of the error.
        position: u64,
        /// The XML parser's description of it.
        message: String,
    },
    /// The document is well-formed but not the envelope or body wbxprov expects; says what was
    /// wrong.
    #[error("document has an unexpected shape: {0}")]
    Structure(String),
    /// The body is of an operation wbxprov does not speak (getAPIVersion,
    /// createMeeting …): its `xsi:type`, or its first element, as written.
    #[error("{0} is not an operation wbxprov knows")]
    UnknownOperation(String),
    /// A value the catalogue types could not be read, e.g. `yes` for a boolean.
    #[error("value of {attribute} is not a valid {expected}: {value:?}")]
    InvalidValue {
        /// The attribute (flat name) whose value could not be read.
        attribute: String,
        /// The catalogue type the value should have, e.g. `bool`.
        expected: String,
        /// Masked for secret attributes.
        value: String,
    },
}

/// Which namespace a start tag resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagNs {
    /// A prefixed element bound to one of the XML API's namespaces.
    Webex(XmlNs),
    /// An unprefixed element, in no namespace or in an XML API default
    /// namespace: accepted wherever the local name fits, since clients and the
    /// service itself mix qualified and unqualified children.
    Unqualified,
    /// Any other namespace, or a prefix that is not declared.
    Foreign,
}

fn webex_ns(uri: &[u8]) -> Option<XmlNs> {
    [
        XmlNs::Service,
        XmlNs::User,
        XmlNs::Common,
        XmlNs::Site,
        XmlNs::MeetingType,
    ]
    .into_iter()
    .find(|n| n.uri().as_bytes() == uri)
}

/// One piece of element content.
pub(crate) enum Content<'i> {
    Start(Tag<'i>),
    Text(Cow<'i, str>),
    /// The end of the current element, or of the document.
    End,
}

/// A start tag the decoder is now inside of.
pub(crate) struct Tag<'i> {
    start: BytesStart<'i>,
    /// Where the local name starts in the qualified name (after `prefix:`).
    local_at: usize,
    pub(crate) ns: TagNs,
    /// The document's declared encoding, for attribute values.
    decoder: Decoder,
}

impl Tag<'_> {
    pub(crate) fn local(&self) -> &[u8] {
        &self.start.name().into_inner()[self.local_at..]
    }

    /// Local name `local` in namespace `ns` (or unqualified).
    pub(crate) fn is(&self, ns: XmlNs, local: &str) -> bool {
        same_name(self.local(), local.as_bytes())
            && match self.ns {
                TagNs::Webex(n) => n == ns,
                TagNs::Unqualified => true,
                TagNs::Foreign => false,
            }
    }

    /// The value of the attribute with local name `local` (any prefix, e.g. `xsi:type`).
    pub(crate) fn attr(&self, local: &str) -> Option<String> {
        self.start
            .attributes()
            .with_checks(false)
            .flatten()
            .find(|a| a.key.local_name().as_ref() == local.as_bytes())
            .and_then(|a| {
                a.decode_and_unescape_value(self.decoder)
                    .ok()
                    .map(|v| v.into_owned())
            })
    }

    /// The name as written, prefix included (`ep:getAPIVersionResponse`).
    pub(crate) fn qualified(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.start.name().into_inner())
    }

    /// The local name for messages and raw trees.
    pub(crate) fn local_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.local())
    }
}

/// `a == b` for element names: a few bytes each, compared inline rather than
/// through a `memcmp` call, which the live GetUser's profile showed for every
/// element matched.
fn same_name(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

pub(crate) struct XmlReader<'i> {
    inner: NsReader<&'i [u8]>,
    depth: usize,
    max_depth: usize,
    /// Elements skipped because no decoder knows them.
    pub(crate) unknown: u32,
    /// Their distinct names, in order of first appearance (at most
    /// [`MAX_UNKNOWN_NAMES`], so a hostile document cannot grow the list).
    pub(crate) unknown_names: Vec<String>,
    /// Reading a request: undeclared Webex prefixes mean their namespaces.
    request: bool,
    /// What the prefixes of recent start tags resolved to.
    prefixes: PrefixCache,
}

/// How many distinct unknown element names are kept.
pub(crate) const MAX_UNKNOWN_NAMES: usize = 1024;

/// The prefixes a request may use without declaring them, and what they mean.
/// Evidence (`fixtures/real/requests/`): Cisco's own samples open
/// `<serv:message>` without declaring `serv` (AuthenticateUser, LstsummaryUser
/// on developer.cisco.com; the admin portal's templates), and the admin portal
/// sends SetUser children as `use:meetingTypes` with `use` undeclared; the
/// service answers them. No evidence covers other prefixes.
const UNDECLARED_REQUEST_PREFIXES: [(&[u8], XmlNs); 2] =
    [(b"serv", XmlNs::Service), (b"use", XmlNs::User)];

impl<'i> XmlReader<'i> {
    /// A reader of a request, as the service reads one: see
    /// [`UNDECLARED_REQUEST_PREFIXES`]. Responses stay namespace-strict.
    pub(crate) fn for_request(bytes: &'i [u8], limits: Limits) -> Result<Self, DecodeError> {
        let mut r = Self::new(bytes, limits)?;
        r.request = true;
        Ok(r)
    }

    pub(crate) fn new(bytes: &'i [u8], limits: Limits) -> Result<Self, DecodeError> {
        if bytes.len() > limits.max_bytes {
            return Err(DecodeError::TooLarge {
                size: bytes.len(),
                limit: limits.max_bytes,
            });
        }
        // A UTF-8 byte-order mark is legal before the declaration.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        // quick-xml does not check characters; one pass over the bytes covers
        // text, names, attributes, comments and everything a decoder skips.
        if let Some((at, c)) = first_forbidden_byte(bytes) {
            return Err(forbidden(at as u64, c));
        }
        let mut inner = NsReader::from_reader(bytes);
        let config = inner.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        Ok(XmlReader {
            inner,
            depth: 0,
            max_depth: limits.max_depth,
            unknown: 0,
            unknown_names: Vec::new(),
            request: false,
            prefixes: PrefixCache::default(),
        })
    }

    fn enter(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(DecodeError::TooDeep {
                limit: self.max_depth,
                position: self.position(),
            });
        }
        Ok(())
    }

    fn position(&self) -> u64 {
        self.inner.buffer_position()
    }

    fn syntax(&self, e: impl std::fmt::Display) -> DecodeError {
        DecodeError::Syntax {
            position: self.position(),
            message: e.to_string(),
        }
    }

    /// The character a reference like `&#x41;` stands for (`None` for a named
    /// entity); one XML 1.0 does not allow is an error.
    fn char_ref(&self, r: &BytesRef<'_>) -> Result<Option<char>, DecodeError> {
        match r.resolve_char_ref().map_err(|e| self.syntax(e))? {
            Some(c) if !is_xml_char(c) => Err(forbidden(self.position(), c)),
            other => Ok(other),
        }
    }

    /// Character references in attribute values (raw characters were checked
    /// up front). Only tags holding `&#` are unescaped, which is rare.
    fn check_attributes(&self, start: &BytesStart<'_>) -> Result<(), DecodeError> {
        if !start.attributes_raw().windows(2).any(|w| w == b"&#") {
            return Ok(());
        }
        for attribute in start.attributes().with_checks(false).flatten() {
            let value = attribute
                .decode_and_unescape_value(self.inner.decoder())
                .map_err(|e| self.syntax(e))?;
            if let Some(c) = first_forbidden(&value) {
                return Err(forbidden(self.position(), c));
            }
        }
        Ok(())
    }

    /// The next piece of content: a start tag (entered), text, or the end of
    /// the current element (left).
    pub(crate) fn next_content(&mut self) -> Result<Content<'i>, DecodeError> {
        loop {
            let event = self.read()?;
            if let Some(content) = self.content(event)? {
                return Ok(content);
            }
        }
    }

    /// The next event. Only a start tag's namespace is resolved: resolving end
    /// tags too (as `read_resolved_event` does) and matching text's against the
    /// XML API's URIs cost a prefix lookup per event (issue 21's profile).
    #[inline]
    fn read(&mut self) -> Result<Event<'i>, DecodeError> {
        self.inner.read_event().map_err(|e| self.syntax(e))
    }

    /// What `event` is as content; `None` for what decoders never see
    /// (comments, declarations, processing instructions, whitespace outside the root).
    fn content(&mut self, event: Event<'i>) -> Result<Option<Content<'i>>, DecodeError> {
        let content = match event {
            Event::Start(start) => Content::Start(self.open(start)?),
            Event::End(_) => {
                self.close()?;
                Content::End
            }
            Event::Eof => {
                if self.depth != 0 {
                    return Err(self.syntax("document ends inside an element"));
                }
                Content::End
            }
            Event::DocType(_) => {
                return Err(DecodeError::Dtd {
                    position: self.position(),
                });
            }
            Event::Text(t) => {
                if self.depth == 0 {
                    if !t.iter().all(u8::is_ascii_whitespace) {
                        return Err(self.syntax("text outside the root element"));
                    }
                    return Ok(None);
                }
                // XML 1.0 line-end handling only: XML 1.1's would turn U+2028 and U+0085 into \n.
                Content::Text(t.xml10_content().map_err(|e| self.syntax(e))?)
            }
            Event::CData(c) => {
                if self.depth == 0 {
                    return Err(self.syntax("CDATA outside the root element"));
                }
                Content::Text(c.decode().map_err(|e| self.syntax(e))?)
            }
            Event::GeneralRef(r) => {
                if self.depth == 0 {
                    return Err(self.syntax("reference outside the root element"));
                }
                Content::Text(self.reference(&r)?)
            }
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => return Ok(None),
        };
        Ok(Some(content))
    }

    /// Enters a start tag: depth and character checks, its namespace.
    // `read`, `open` and `close` are inlined into `next_child` and `text`: a
    // call per event showed in issue 21's profile (live_getuser_vs_raw_ratio
    // 0.87 -> 0.91 with them inlined, same period, medians of 3).
    #[inline]
    fn open(&mut self, start: BytesStart<'i>) -> Result<Tag<'i>, DecodeError> {
        self.enter()?;
        self.check_attributes(&start)?;
        self.prefixes.opened(self.depth, &start);
        // The name is split once; matching reads the local part often.
        let prefix = start.name().prefix().map(|p| p.into_inner().len());
        let ns = match self.resolve(&start, prefix.unwrap_or(0)) {
            Resolved::Webex(n) if prefix.is_some() => TagNs::Webex(n),
            Resolved::Webex(_) | Resolved::Unbound => TagNs::Unqualified,
            Resolved::Foreign => TagNs::Foreign,
        };
        Ok(Tag {
            start,
            local_at: prefix.map_or(0, |len| len + 1),
            ns,
            decoder: self.inner.decoder(),
        })
    }

    /// Leaves the current element at its end tag.
    #[inline]
    fn close(&mut self) -> Result<(), DecodeError> {
        if self.depth == 0 {
            return Err(self.syntax("unexpected end tag"));
        }
        self.prefixes.closed(self.depth);
        self.depth -= 1;
        Ok(())
    }

    /// The text a reference stands for: a character reference or one of the
    /// five predefined entities.
    fn reference(&self, r: &BytesRef<'i>) -> Result<Cow<'i, str>, DecodeError> {
        if let Some(c) = self.char_ref(r)? {
            return Ok(Cow::Owned(c.to_string()));
        }
        let name = r.decode().map_err(|e| self.syntax(e))?;
        match quick_xml::escape::resolve_predefined_entity(&name) {
            Some(s) => Ok(Cow::Borrowed(s)),
            None => Err(self.syntax(format!("undeclared entity &{name};"))),
        }
    }

    /// What a start tag's prefix means, from the cache when the same prefix
    /// was resolved under the same declarations.
    fn resolve(&mut self, start: &BytesStart<'_>, prefix_len: usize) -> Resolved {
        let prefix = &start.name().into_inner()[..prefix_len];
        if let Some(known) = self.prefixes.get(prefix) {
            return known;
        }
        let resolved = classify(&self.inner.resolve_element(start.name()).0, self.request);
        self.prefixes.put(prefix, resolved);
        resolved
    }

    /// The next start tag at the current level, entering it; `None` once the
    /// current element (or, at the top, the document) ends. Text between
    /// elements is ignored.
    pub(crate) fn next_child(&mut self) -> Result<Option<Tag<'i>>, DecodeError> {
        loop {
            // Start and end tags first, without going through `Content`: one
            // dispatch on the event's kind instead of two (issue 21's profile).
            match self.read()? {
                Event::Start(start) => return self.open(start).map(Some),
                Event::End(_) => return self.close().map(|()| None),
                other => match self.content(other)? {
                    Some(Content::Start(tag)) => return Ok(Some(tag)),
                    Some(Content::End) => return Ok(None),
                    Some(Content::Text(_)) | None => {}
                },
            }
        }
    }

    /// The text of the element just entered, up to its end tag. Nested elements
    /// are skipped and counted as unknown.
    pub(crate) fn text(&mut self) -> Result<Cow<'i, str>, DecodeError> {
        let mut out: Option<Cow<'i, str>> = None;
        loop {
            // A leaf's usual content, one text event then its end tag, is taken
            // without going through `Content` (as in `next_child`). The element
            // is open, so text here is inside the root.
            let piece = match self.read()? {
                Event::Text(t) => t.xml10_content().map_err(|e| self.syntax(e))?,
                Event::End(_) => {
                    self.close()?;
                    return Ok(out.unwrap_or(Cow::Borrowed("")));
                }
                other => match self.content(other)? {
                    Some(Content::Text(piece)) => piece,
                    Some(Content::Start(tag)) => {
                        self.unknown(&tag)?;
                        continue;
                    }
                    Some(Content::End) => return Ok(out.unwrap_or(Cow::Borrowed(""))),
                    None => continue,
                },
            };
            match &mut out {
                None => out = Some(piece),
                Some(acc) => acc.to_mut().push_str(&piece),
            }
        }
    }

    /// Skips the rest of the element just entered.
    pub(crate) fn skip(&mut self) -> Result<(), DecodeError> {
        let target = self.depth - 1;
        while self.depth > target {
            let event = match self.inner.read_event() {
                Ok(e) => e,
                Err(e) => return Err(self.syntax(e)),
            };
            match event {
                Event::Start(start) => {
                    self.enter()?;
                    self.check_attributes(&start)?;
                    self.prefixes.opened(self.depth, &start);
                }
                Event::GeneralRef(r) => {
                    self.char_ref(&r)?;
                }
                Event::End(_) => {
                    self.prefixes.closed(self.depth);
                    self.depth -= 1;
                }
                Event::Eof => return Err(self.syntax("document ends inside an element")),
                Event::DocType(_) => {
                    return Err(DecodeError::Dtd {
                        position: self.position(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Skips an element no decoder knows, counting it.
    pub(crate) fn unknown(&mut self, tag: &Tag<'_>) -> Result<(), DecodeError> {
        self.note_unknown(&tag.local_str());
        self.skip()
    }

    /// Counts an element no decoder read, by name (a raw tree's decoder
    /// passes a path).
    pub(crate) fn note_unknown(&mut self, name: &str) {
        self.unknown = self.unknown.saturating_add(1);
        tracing::debug!(element = %name, "skipping unknown element");
        if self.unknown_names.len() < MAX_UNKNOWN_NAMES
            && !self.unknown_names.iter().any(|n| n == name)
        {
            self.unknown_names.push(name.to_owned());
        }
    }

    /// Reads to the end of the document, so that trailing garbage is an error too.
    pub(crate) fn finish(&mut self) -> Result<(), DecodeError> {
        while let Some(tag) = self.next_child()? {
            if self.depth == 1 {
                return Err(DecodeError::Structure(format!(
                    "a second root element <{}>",
                    tag.local_str()
                )));
            }
        }
        Ok(())
    }
}

fn forbidden(position: u64, c: char) -> DecodeError {
    DecodeError::Syntax {
        position,
        message: format!("{} is not a character XML 1.0 allows", code_point(c)),
    }
}

/// The namespaces of a few prefixes, so that a start tag's prefix is not
/// resolved and its URI compared with the XML API's for every element (issue
/// 21: a visible share of decoding a GetUser). An entry holds while no
/// element that declares namespaces opens or closes: any start tag with an
/// `xmlns` in its attributes empties the cache, and so does its end tag.
#[derive(Default)]
struct PrefixCache {
    entries: [Option<(PrefixKey, Resolved)>; 4],
    /// Bit `d` set: the open element at depth `d` declares namespaces.
    declaring: u64,
}

/// A prefix of up to 15 bytes packed with its length, so that looking one up
/// is one comparison per entry (longer prefixes are not cached).
#[derive(Clone, Copy, PartialEq, Eq)]
struct PrefixKey(u128);

impl PrefixKey {
    fn new(prefix: &[u8]) -> Option<Self> {
        if prefix.len() > 15 {
            return None;
        }
        // Byte by byte: prefixes are a few bytes, a copy would be a call.
        let packed = prefix
            .iter()
            .fold(prefix.len() as u128, |key, &b| (key << 8) | u128::from(b));
        Some(PrefixKey(packed))
    }
}

impl PrefixCache {
    fn get(&self, prefix: &[u8]) -> Option<Resolved> {
        let key = PrefixKey::new(prefix)?;
        self.entries
            .iter()
            .flatten()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| *r)
    }

    fn put(&mut self, prefix: &[u8], resolved: Resolved) {
        let Some(key) = PrefixKey::new(prefix) else {
            return;
        };
        // Oldest out: the XML API's documents use two or three prefixes.
        self.entries.rotate_right(1);
        self.entries[0] = Some((key, resolved));
    }

    /// An element at `depth` opened (after the reader took in its declarations).
    fn opened(&mut self, depth: usize, start: &BytesStart<'_>) {
        if declares_namespaces(start.attributes_raw()) {
            self.entries = Default::default();
            if depth < DEEPEST_TRACKED {
                self.declaring |= 1 << depth;
            }
        }
    }

    /// The element at `depth` closed; its declarations go out of scope. Past
    /// the depths tracked, every end tag empties the cache.
    fn closed(&mut self, depth: usize) {
        if depth >= DEEPEST_TRACKED {
            self.entries = Default::default();
        } else if self.declaring & (1 << depth) != 0 {
            self.entries = Default::default();
            self.declaring &= !(1 << depth);
        }
    }
}

/// Depths below this have a bit in [`PrefixCache::declaring`].
const DEEPEST_TRACKED: usize = 64;

/// Whether a tag's attributes may declare a namespace (`xmlns=`, `xmlns:p=`);
/// an `xmlns` inside a value only empties the cache once more than needed.
fn declares_namespaces(attributes: &[u8]) -> bool {
    attributes.windows(5).any(|w| w == b"xmlns")
}

/// A resolved namespace, reduced to what matching needs.
#[derive(Clone, Copy)]
enum Resolved {
    Webex(XmlNs),
    /// No prefix and no default namespace in scope.
    Unbound,
    /// A namespace other than the XML API's, or an undeclared prefix.
    Foreign,
}

fn classify(r: &ResolveResult<'_>, request: bool) -> Resolved {
    match r {
        ResolveResult::Bound(n) => {
            webex_ns(n.into_inner()).map_or(Resolved::Foreign, Resolved::Webex)
        }
        ResolveResult::Unbound => Resolved::Unbound,
        ResolveResult::Unknown(prefix) if request => UNDECLARED_REQUEST_PREFIXES
            .iter()
            .find(|(p, _)| *p == prefix.as_slice())
            .map_or(Resolved::Foreign, |(_, ns)| Resolved::Webex(*ns)),
        ResolveResult::Unknown(_) => Resolved::Foreign,
    }
}
