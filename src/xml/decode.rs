//! Response documents: the envelope, the service's verdict, and the decoding of
//! each operation's `bodyContent`. The user payload of GetUser is read through a
//! path tree built from the catalogue, so every catalogue attribute with `get`
//! in its operations is read, and nothing else.

use std::sync::OnceLock;
use std::time::Duration;

use super::encode::XmlNs;
use super::reader::{DecodeError, Limits, Tag, XmlReader};
use crate::schema::{ATTRIBUTES, Attribute, FlatKey, ScalarType, User, Value};
use crate::secret::{MASK, Secret};

/// A decoded response: the service's verdict kept apart from transport and
/// decoding errors (as ldap3 keeps `LdapResult`), plus what the decoder skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<T> {
    /// The body on SUCCESS, the service's error on FAILURE.
    pub result: Result<T, ServiceError>,
    /// `PRIMARY` or `BACKUP`: which data centre answered.
    pub gsb_status: Option<String>,
    /// Elements no decoder knew (newer than the catalogue, or foreign), skipped.
    pub unknown_elements: u32,
    /// Their distinct names, in order of first appearance: local names, or for
    /// GetSite the path below `siteInstance` (`metaData/isEnterprise`).
    pub unknown_names: Vec<String>,
}

impl<T> Response<T> {
    /// The body, or the service's error.
    pub fn success(self) -> Result<T, ServiceError> {
        self.result
    }
}

/// One `subError` of a FAILURE.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubError {
    /// `exceptionID`.
    #[serde(rename = "exceptionID")]
    pub exception_id: Option<String>,
    /// The reason text.
    pub reason: Option<String>,
    /// The value the sub-error concerns, when the service names one.
    pub value: Option<String>,
}

/// What a FAILURE means, for automation. The reason text is "subject to change"
/// (Cisco); the classification keys on `exceptionID` first. Which ID or reason
/// gives which kind, and the evidence for it: [`super::codes`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, strum::AsRefStr, strum::Display, serde::Serialize,
)]
#[strum(serialize_all = "camelCase")]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ServiceErrorKind {
    /// 030001: the user does not exist.
    UserNotFound,
    /// 030002: the caller's Webex ID or password is wrong.
    WrongCredentials,
    /// 030047: the session ticket is expired or revoked; authenticate again.
    InvalidSessionTicket,
    /// 030048: the service refused to issue a ticket (an access token it does not accept).
    AuthenticationFailed,
    /// 030004: the webExId is taken.
    WebExIdExists,
    /// 030005: the email address is taken.
    EmailExists,
    /// 000001: the caller is not a (full) site admin.
    AccessDenied,
    /// 000045: the API rate limit was reached; retry after a minute.
    RateLimited,
    /// 000035: a service behind the API is not responding; retry later.
    ServiceUnavailable,
    /// 010107: the site is suspended.
    SiteSuspended,
    /// `exceededSiteHostLimit`, "User limit exceeded …": no licence left.
    LicenceLimit,
    /// "Attribute X needs to be Y", "Can't set field": the site does not allow the value.
    FeatureNotEnabled,
    /// 000015: a list matched nothing (an empty page for list operations).
    NoRecords,
    /// Anything else; the reason text says what.
    Other,
}

/// The content of a FAILURE answer (service.xsd `responseType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFailure {
    /// What the failure means, from the exception ID first, then the reason text
    /// ([`super::codes`]).
    pub kind: ServiceErrorKind,
    /// Always `FAILURE` today; kept as sent.
    pub result: String,
    /// The reason text, e.g. `Corresponding User not found`. Cisco says its words are subject
    /// to change.
    pub reason: Option<String>,
    /// `exceptionID`, e.g. `030001`: what [`kind`](Self::kind) keys on.
    pub exception_id: Option<String>,
    /// `gsbStatus`, as sent (e.g. `PRIMARY`).
    pub gsb_status: Option<String>,
    /// The `subError`s, each a finer reason.
    pub sub_errors: Vec<SubError>,
    /// `value`, when the service names the offending value.
    pub value: Option<String>,
}

impl ServiceFailure {
    /// The failure of a row of [`super::codes::CODES`], in its words and with its subErrors.
    pub fn from_code(code: &super::codes::Code) -> Self {
        let mut failure = ServiceFailure::new(code.exception_id, code.reason);
        failure.sub_errors = code
            .sub_errors
            .iter()
            .map(|(id, reason)| SubError {
                exception_id: Some((*id).into()),
                reason: Some((*reason).into()),
                value: Some(String::new()),
            })
            .collect();
        failure
    }

    /// A failure classified from its exceptionID and reason.
    pub fn new(exception_id: &str, reason: &str) -> Self {
        ServiceFailure {
            kind: classify(Some(exception_id), Some(reason)),
            result: "FAILURE".into(),
            reason: Some(reason.into()),
            exception_id: Some(exception_id.into()),
            gsb_status: Some("PRIMARY".into()),
            sub_errors: Vec::new(),
            value: None,
        }
    }
}

/// A FAILURE answer of the service: what it said and what that means.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ServiceError(Box<ServiceFailure>);

/// How long the service asks callers to wait after 000045.
pub const RATE_LIMIT_RETRY_AFTER: Duration = Duration::from_secs(60);

impl From<ServiceFailure> for ServiceError {
    fn from(failure: ServiceFailure) -> Self {
        ServiceError(Box::new(failure))
    }
}

impl ServiceError {
    fn describe(&self) -> String {
        let f = &self.0;
        let mut s = format!(
            "Webex service error {} ({})",
            f.exception_id.as_deref().unwrap_or("without exceptionID"),
            f.kind
        );
        if let Some(r) = &f.reason {
            s.push_str(": ");
            s.push_str(r);
        }
        for sub in &f.sub_errors {
            s.push_str(&format!(
                "; {} {}{}",
                sub.exception_id.as_deref().unwrap_or("-"),
                sub.reason.as_deref().unwrap_or(""),
                sub.value
                    .as_deref()
                    .map(|v| format!(" ({v})"))
                    .unwrap_or_default()
            ));
        }
        s
    }

    /// Everything the service said.
    pub fn failure(&self) -> &ServiceFailure {
        &self.0
    }

    /// What the failure means (see [`ServiceErrorKind`]).
    pub fn kind(&self) -> ServiceErrorKind {
        self.0.kind
    }

    /// The service's `exceptionID`, if it sent one.
    pub fn exception_id(&self) -> Option<&str> {
        self.0.exception_id.as_deref()
    }

    /// The service's reason text, if it sent one.
    pub fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// Whether the same call may succeed later without any change.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind(),
            ServiceErrorKind::RateLimited | ServiceErrorKind::ServiceUnavailable
        )
    }

    /// How long to wait before retrying, when the service says so.
    pub fn retry_after(&self) -> Option<Duration> {
        (self.kind() == ServiceErrorKind::RateLimited).then_some(RATE_LIMIT_RETRY_AFTER)
    }

    /// The attribute a "Attribute X needs to be Y" failure names.
    pub fn attribute(&self) -> Option<&str> {
        let rest = self.reason()?.strip_prefix("Attribute ")?;
        let (name, tail) = rest.split_once(' ')?;
        tail.starts_with("needs to be").then_some(name)
    }
}

/// Classifies a FAILURE: exceptionID first, then the reason texts
/// ([`super::codes`]); anything else is `Other`.
pub fn classify(exception_id: Option<&str>, reason: Option<&str>) -> ServiceErrorKind {
    exception_id
        .and_then(super::codes::code)
        .map(|c| c.kind)
        .or_else(|| reason.and_then(super::codes::reason_kind))
        .unwrap_or(ServiceErrorKind::Other)
}

/// Read access to `bodyContent` for [`Decode`] implementations.
pub struct BodyReader<'a, 'i> {
    pub(crate) r: &'a mut XmlReader<'i>,
}

/// The body of one operation's successful response.
pub trait Decode: Sized {
    /// Reads the children of `bodyContent`.
    fn decode_body(body: &mut BodyReader<'_, '_>) -> Result<Self, DecodeError>;

    /// A FAILURE that is, for this operation, an answer: 000015 on a list is an empty page.
    fn from_failure(_error: &ServiceError) -> Option<Self> {
        None
    }
}

/// Decodes a whole response with the default [`Limits`]. The service's FAILURE is not
/// an error here: it is in the [`Response`] ([`Response::success`] gives it).
///
/// # Errors
///
/// A [`DecodeError`] when the bytes are not a response of the XML API this crate can read
/// (too large or deep, a DTD, not well-formed, another shape, a value of the wrong type).
pub fn decode<T: Decode>(bytes: &[u8]) -> Result<Response<T>, DecodeError> {
    decode_with(bytes, Limits::default())
}

/// Decodes a whole response with the given limits.
pub fn decode_with<T: Decode>(bytes: &[u8], limits: Limits) -> Result<Response<T>, DecodeError> {
    let mut r = XmlReader::new(bytes, limits)?;
    let root = r
        .next_child()?
        .ok_or_else(|| DecodeError::Structure("empty document".into()))?;
    if !root.is(XmlNs::Service, "message") {
        return Err(DecodeError::Structure(format!(
            "root element is <{}>, not serv:message",
            root.local_str()
        )));
    }
    let mut verdict: Option<Verdict> = None;
    let mut body: Option<T> = None;
    while let Some(tag) = r.next_child()? {
        if tag.is(XmlNs::Service, "header") {
            while let Some(tag) = r.next_child()? {
                if tag.is(XmlNs::Service, "response") && verdict.is_none() {
                    verdict = Some(read_verdict(&mut r)?);
                } else {
                    r.unknown(&tag)?;
                }
            }
        } else if tag.is(XmlNs::Service, "body") {
            let verdict = verdict.as_ref().ok_or_else(|| {
                DecodeError::Structure("body comes before the header's response".into())
            })?;
            while let Some(tag) = r.next_child()? {
                if tag.is(XmlNs::Service, "bodyContent")
                    && verdict.failure.is_none()
                    && body.is_none()
                {
                    body = Some(T::decode_body(&mut BodyReader { r: &mut r })?);
                } else if tag.is(XmlNs::Service, "bodyContent") {
                    // A FAILURE's bodyContent is empty; a second one is ignored.
                    r.skip()?;
                } else {
                    r.unknown(&tag)?;
                }
            }
        } else {
            r.unknown(&tag)?;
        }
    }
    r.finish()?;
    let verdict =
        verdict.ok_or_else(|| DecodeError::Structure("no serv:header/serv:response".into()))?;
    let result = match verdict.failure {
        None => {
            Ok(body.ok_or_else(|| DecodeError::Structure("SUCCESS without bodyContent".into()))?)
        }
        Some(failure) => {
            let error = ServiceError::from(failure);
            match T::from_failure(&error) {
                Some(answer) => Ok(answer),
                None => Err(error),
            }
        }
    };
    Ok(Response {
        result,
        gsb_status: verdict.gsb_status,
        unknown_elements: r.unknown,
        unknown_names: std::mem::take(&mut r.unknown_names),
    })
}

/// What `serv:response` said. A SUCCESS keeps only its gsbStatus: building the
/// failure (and copying gsbStatus into it) is left to FAILURE answers, so a
/// successful decode allocates nothing the result does not keep (issue 21).
struct Verdict {
    gsb_status: Option<String>,
    /// `None` on SUCCESS.
    failure: Option<ServiceFailure>,
}

/// The text of `serv:response`'s children, as read.
#[derive(Default)]
struct VerdictFields {
    success: Option<bool>,
    reason: Option<String>,
    gsb_status: Option<String>,
    exception_id: Option<String>,
    value: Option<String>,
    sub_errors: Vec<SubError>,
}

fn read_verdict(r: &mut XmlReader<'_>) -> Result<Verdict, DecodeError> {
    let mut fields = VerdictFields::default();
    while let Some(tag) = r.next_child()? {
        let s = XmlNs::Service;
        if tag.is(s, "result") {
            fields.success = Some(read_result(r)?);
        } else if tag.is(s, "reason") {
            fields.reason = Some(r.text()?.into_owned());
        } else if tag.is(s, "gsbStatus") {
            fields.gsb_status = Some(r.text()?.trim().to_owned());
        } else if tag.is(s, "exceptionID") {
            fields.exception_id = Some(r.text()?.trim().to_owned());
        } else if tag.is(s, "value") {
            fields.value = Some(r.text()?.into_owned());
        } else if tag.is(s, "subErrors") {
            read_sub_errors(r, &mut fields.sub_errors)?;
        } else {
            r.unknown(&tag)?;
        }
    }
    let success = fields
        .success
        .ok_or_else(|| DecodeError::Structure("response without result".into()))?;
    if success {
        return Ok(Verdict {
            gsb_status: fields.gsb_status,
            failure: None,
        });
    }
    let kind = classify(fields.exception_id.as_deref(), fields.reason.as_deref());
    Ok(Verdict {
        gsb_status: fields.gsb_status.clone(),
        failure: Some(ServiceFailure {
            kind,
            result: "FAILURE".into(),
            reason: fields.reason,
            exception_id: fields.exception_id,
            gsb_status: fields.gsb_status,
            sub_errors: fields.sub_errors,
            value: fields.value,
        }),
    })
}

/// `SUCCESS` is true, `FAILURE` false (service.xsd's two values), read without copying.
fn read_result(r: &mut XmlReader<'_>) -> Result<bool, DecodeError> {
    let text = r.text()?;
    match text.trim() {
        "SUCCESS" => Ok(true),
        "FAILURE" => Ok(false),
        other => Err(DecodeError::Structure(format!(
            "result is {other:?}, not SUCCESS or FAILURE"
        ))),
    }
}

fn read_sub_errors(r: &mut XmlReader<'_>, out: &mut Vec<SubError>) -> Result<(), DecodeError> {
    let s = XmlNs::Service;
    while let Some(tag) = r.next_child()? {
        if !tag.is(s, "subError") {
            r.unknown(&tag)?;
            continue;
        }
        let mut sub = SubError::default();
        while let Some(tag) = r.next_child()? {
            if tag.is(s, "exceptionID") {
                sub.exception_id = Some(r.text()?.trim().to_owned());
            } else if tag.is(s, "reason") {
                sub.reason = Some(r.text()?.into_owned());
            } else if tag.is(s, "value") {
                sub.value = Some(r.text()?.into_owned());
            } else {
                r.unknown(&tag)?;
            }
        }
        out.push(sub);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Typed leaf values.

impl<'i> BodyReader<'_, 'i> {
    /// The next child of the current element, or `None` at its end.
    pub(crate) fn next(&mut self) -> Result<Option<Tag<'i>>, DecodeError> {
        self.r.next_child()
    }

    pub(crate) fn text(&mut self) -> Result<String, DecodeError> {
        Ok(self.r.text()?.into_owned())
    }

    /// An integer leaf; `what` names it in the error.
    pub(crate) fn int(&mut self, what: &str) -> Result<i64, DecodeError> {
        let text = self.r.text()?;
        text.trim().parse().map_err(|_| DecodeError::InvalidValue {
            attribute: what.to_owned(),
            expected: "integer".into(),
            value: text.into_owned(),
        })
    }

    pub(crate) fn skip_unknown(&mut self, tag: &Tag<'_>) -> Result<(), DecodeError> {
        self.r.unknown(tag)
    }

    /// Counts an element read into a raw tree that no typed field took.
    pub(crate) fn note_unknown(&mut self, name: &str) {
        self.r.note_unknown(name);
    }

    /// Everything below the current element as a raw tree.
    pub(crate) fn tree_children(&mut self) -> Result<Vec<super::tree::Element>, DecodeError> {
        super::tree::read_children(self.r)
    }
}

/// `true`/`false` as the service writes them; also `1`/`0` (xsd:boolean).
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        t if t.eq_ignore_ascii_case("true") || t == "1" => Some(true),
        t if t.eq_ignore_ascii_case("false") || t == "0" => Some(false),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// GetUser: the catalogue's path tree.

/// One element of the catalogue's path tree below `bodyContent`.
struct Node {
    ns: XmlNs,
    name: &'static str,
    kind: NodeKind,
    children: Vec<usize>,
}

enum NodeKind {
    Group,
    /// A group that may occur up to `max` times; each occurrence is a slot.
    Repeated {
        max: u8,
    },
    Leaf(Attribute),
}

/// Every path of an attribute readable by GetUser, as a tree. Node 0 is `bodyContent`.
struct UserTree {
    nodes: Vec<Node>,
}

/// Which attributes a user payload may carry: a GetUser answer, or a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payload {
    /// GetUser responses: attributes with `get`.
    Answer,
    /// CreateUser/SetUser requests (read by the simulator): `create` or `set`.
    Request,
}

fn user_tree(payload: Payload) -> &'static UserTree {
    static ANSWER: OnceLock<UserTree> = OnceLock::new();
    static REQUEST: OnceLock<UserTree> = OnceLock::new();
    let (cell, keep): (_, fn(&crate::schema::AttributeInfo) -> bool) = match payload {
        Payload::Answer => (&ANSWER, |a| a.ops.get),
        Payload::Request => (&REQUEST, |a| a.ops.create || a.ops.set),
    };
    cell.get_or_init(|| {
        let mut nodes = vec![Node {
            ns: XmlNs::Service,
            name: "bodyContent",
            kind: NodeKind::Group,
            children: Vec::new(),
        }];
        for info in ATTRIBUTES.iter().filter(|a| keep(a)) {
            let mut at = 0;
            let last = info.segments.len() - 1;
            for (depth, seg) in info.segments.iter().enumerate() {
                let found = nodes[at]
                    .children
                    .iter()
                    .copied()
                    .find(|&c| nodes[c].name == seg.name);
                at = match found {
                    Some(c) => c,
                    None => {
                        let kind = if depth == last {
                            NodeKind::Leaf(info.attribute)
                        } else {
                            match info.repeat {
                                Some(r) if r.depth == depth => NodeKind::Repeated { max: r.max },
                                _ => NodeKind::Group,
                            }
                        };
                        nodes.push(Node {
                            ns: seg.ns.into(),
                            name: seg.name,
                            kind,
                            children: Vec::new(),
                        });
                        let c = nodes.len() - 1;
                        nodes[at].children.push(c);
                        c
                    }
                };
            }
        }
        UserTree { nodes }
    })
}

impl Decode for User {
    fn decode_body(body: &mut BodyReader<'_, '_>) -> Result<Self, DecodeError> {
        read_user(body.r, Payload::Answer)
    }
}

/// Reads the rest of the current element as a user payload.
pub(crate) fn read_user(r: &mut XmlReader<'_>, payload: Payload) -> Result<User, DecodeError> {
    let mut user = User::default();
    decode_group(r, user_tree(payload), 0, 0, &mut user)?;
    Ok(user)
}

/// The items of a list attribute read so far (`meetingTypes/meetingType` …):
/// a list's elements are siblings, so they are gathered here and stored once
/// the run of them ends, without a side table per document.
struct PendingList {
    key: FlatKey,
    items: Value,
}

fn decode_group(
    r: &mut XmlReader<'_>,
    tree: &UserTree,
    node: usize,
    slot: u8,
    user: &mut User,
) -> Result<(), DecodeError> {
    let children = &tree.nodes[node].children;
    // Responses come in catalogue order, so the next match is usually the last
    // one (a list) or the one after it.
    let mut hint = 0;
    // How often each repeated child occurred (allocated only in groups that
    // hold one: tspAccount, the teleconference accounts).
    let mut occurrences: Vec<(usize, u8)> = Vec::new();
    let mut pending: Option<PendingList> = None;
    while let Some(tag) = r.next_child()? {
        let Some(i) = find_child(tree, children, hint, &tag) else {
            r.unknown(&tag)?;
            continue;
        };
        hint = i;
        let child = children[i];
        match tree.nodes[child].kind {
            NodeKind::Leaf(attribute) => {
                let text = r.text()?;
                store(attribute, slot, &text, user, &mut pending)?;
            }
            NodeKind::Group => decode_group(r, tree, child, slot, user)?,
            NodeKind::Repeated { max } => {
                let this = count_occurrence(&mut occurrences, child);
                if this < max {
                    decode_group(r, tree, child, this, user)?;
                } else {
                    r.unknown(&tag)?;
                }
            }
        }
    }
    flush_list(pending.take(), user)
}

/// The index in `children` of the node `tag` is: tried first the one after
/// `hint` (the last match; responses come in catalogue order) and `hint`
/// itself (a list repeats its element), then the rest.
fn find_child(tree: &UserTree, children: &[usize], hint: usize, tag: &Tag<'_>) -> Option<usize> {
    let is = |&i: &usize| {
        let c = &tree.nodes[children[i]];
        tag.is(c.ns, c.name)
    };
    let n = children.len();
    let likely = [hint + 1, hint].into_iter().filter(|&i| i < n);
    let rest = (hint + 2..n).chain(0..hint.min(n));
    likely.chain(rest).find(is)
}

/// This occurrence's zero-based number of repeated child `child`, counting it.
fn count_occurrence(occurrences: &mut Vec<(usize, u8)>, child: usize) -> u8 {
    let seen = match occurrences.iter_mut().find(|(c, _)| *c == child) {
        Some((_, n)) => n,
        None => {
            occurrences.push((child, 0));
            &mut occurrences.last_mut().expect("just pushed").1
        }
    };
    let this = *seen;
    *seen = seen.saturating_add(1);
    this
}

/// Stores a gathered list in the user; items of the same list met earlier in
/// the group (its elements were not all siblings in a row) come first.
fn flush_list(pending: Option<PendingList>, user: &mut User) -> Result<(), DecodeError> {
    let Some(PendingList { key, mut items }) = pending else {
        return Ok(());
    };
    match (user.get(key), &mut items) {
        (Some(Value::IntList(mut before)), Value::IntList(after)) => {
            before.append(after);
            items = Value::IntList(before);
        }
        (Some(Value::TextList(mut before)), Value::TextList(after)) => {
            before.append(after);
            items = Value::TextList(before);
        }
        _ => {}
    }
    user.set(key, Some(items))
        .map_err(|e| DecodeError::InvalidValue {
            attribute: key.to_string(),
            expected: key.attribute.info().value_type.to_string(),
            value: e.to_string(),
        })
}

fn store(
    attribute: Attribute,
    slot: u8,
    text: &str,
    user: &mut User,
    pending: &mut Option<PendingList>,
) -> Result<(), DecodeError> {
    let info = attribute.info();
    let key = FlatKey::with_slot(attribute, slot);
    let invalid = || DecodeError::InvalidValue {
        attribute: key.to_string(),
        expected: info.value_type.to_string(),
        value: if info.secret {
            MASK.to_owned()
        } else {
            text.to_owned()
        },
    };
    let scalar = info.value_type.scalar();
    // Booleans and integers are read without the whitespace around them
    // (trimmed once here); an empty one is no value.
    let trimmed = text.trim();
    let value = match scalar {
        ScalarType::Bool | ScalarType::Int { .. } if trimmed.is_empty() => return Ok(()),
        ScalarType::Bool => Value::Bool(parse_bool(trimmed).ok_or_else(invalid)?),
        ScalarType::Int { .. } => Value::Int(trimmed.parse().map_err(|_| invalid())?),
        ScalarType::Text { .. } | ScalarType::Enum { .. } | ScalarType::Date => {
            if info.secret {
                Value::Secret(Secret::new(text))
            } else {
                Value::Text(text.to_owned())
            }
        }
    };
    if !info.value_type.is_list() {
        return user.set(key, Some(value)).map_err(|_| invalid());
    }
    if pending.as_ref().is_some_and(|p| p.key != key) {
        flush_list(pending.take(), user)?;
    }
    let list = &mut pending
        .get_or_insert_with(|| PendingList {
            key,
            items: match value {
                Value::Int(_) => Value::IntList(Vec::new()),
                _ => Value::TextList(Vec::new()),
            },
        })
        .items;
    match (list, value) {
        (Value::IntList(items), Value::Int(i)) => items.push(i),
        (Value::TextList(items), Value::Text(t)) => items.push(t),
        (Value::TextList(items), Value::Secret(s)) => items.push(s.expose().to_owned()),
        _ => return Err(invalid()),
    }
    Ok(())
}
