//! The feature-gated validator: everything wrong with a change, before any call.
//!
//! [`validate`] checks a flat change against the catalogue (types, limits,
//! enumerations, formats, the operations an attribute may appear in), against
//! the site (feature gates, session types, services, password criteria, licence
//! counts) and against itself (cross-field rules of site-features.md). It never
//! stops at the first problem. Each [`Violation`] names the attribute, the rule,
//! what is wrong in the seed's vocabulary, and the fix.

pub mod control_hub;
mod cross;
mod value;

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::schema::{ATTRIBUTES, Attribute, AttributeInfo, FlatKey, FlatUser, Value};
use crate::secret::MASK;
use crate::site::SiteProfile;
use crate::xml::chars::is_xml_char;

/// Which request the change is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumString, strum::AsRefStr)]
#[strum(serialize_all = "lowercase")]
pub enum Operation {
    /// CreateUser: a new user.
    Create,
    /// SetUser: a change to an existing user.
    Update,
}

/// The rule a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::AsRefStr)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum Rule {
    /// The value is not of the attribute's type.
    Type,
    /// A number outside the attribute's range.
    Range,
    /// Text longer than the attribute allows.
    Length,
    /// A value not in the attribute's enumeration.
    Enum,
    /// Text not in the attribute's format (email, phone, personal URL, date).
    Format,
    /// A character XML 1.0 cannot carry (a C0 control other than TAB, LF and CR,
    /// or U+FFFE/U+FFFF): the request would not be well-formed.
    Character,
    /// The attribute cannot appear in this operation (personalUrl on create, read-only fields).
    Operation,
    /// A Control-Hub-managed site: the Webex identity owns this attribute.
    Identity,
    /// A gated attribute with a non-default value while its site feature is off.
    Feature,
    /// HD video without HQ video.
    HdNeedsHq,
    /// A session type the site does not offer.
    SessionType,
    /// A service the site has not enabled.
    Service,
    /// supportedServices must be explicit when meetingTypes are set.
    SupportedServices,
    /// timeZoneID and timeZone name different zones.
    TimeZone,
    /// A repeated group with an occurrence missing before this one, or a duplicate accountIndex.
    RepeatedGroup,
    /// The password breaks the site's account password criteria (or is GetUser's mask).
    Password,
    /// A change that would blank a paired phone.
    Phone,
    /// WebACD settings that contradict each other.
    WebAcd,
    /// A licence count the change would exceed.
    LicenceLimit,
}

/// One thing wrong with a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The attribute (and occurrence) at fault.
    #[serde(serialize_with = "serialize_key")]
    pub attribute: FlatKey,
    /// The rule broken (what kind of check refused the value).
    pub rule: Rule,
    /// What is wrong and the fix, e.g. `privilegeOtherTelephony=true: site feature
    /// otherTeleconferencing is off — remove the mapping or enable the feature on the site`.
    pub message: String,
    /// The fix alone.
    pub fix: Cow<'static, str>,
}

fn serialize_key<S: serde::Serializer>(key: &FlatKey, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(key)
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Every violation of `change` for `operation` on the site `profile` describes,
/// in wire order of the attributes. Empty when the change is valid.
///
/// For an update of a user whose current values are known, use
/// [`validate_update`]: this one sees the change alone, so its cross-field
/// rules can only judge what the change itself says.
pub fn validate(change: &FlatUser, operation: Operation, profile: &SiteProfile) -> Vec<Violation> {
    let mut out = attribute_rules(change, operation, profile);
    let indexed = Change::new(change);
    let mut cross = Vec::new();
    let whole = operation == Operation::Create;
    cross::user_rules(&indexed, whole, profile, &mut cross);
    cross::change_rules(&indexed, operation, profile, &mut cross);
    merge(&mut out, cross);
    out
}

/// Every violation of an update `change` to a user the site holds as `current`
/// (its GetUser values). The rules of one attribute judge what is sent; the
/// cross-field rules judge the user as it will be, `current` with `change`
/// applied (issue 16 item 7: HD video without HQ is refused on update as on
/// create; supportedServices the change leaves out are the current user's). A
/// cross-field violation the current user already has is not the change's:
/// the site's own data stays editable.
pub fn validate_update(
    change: &FlatUser,
    current: &FlatUser,
    profile: &SiteProfile,
) -> Vec<Violation> {
    let mut out = attribute_rules(change, Operation::Update, profile);
    let mut cross = Vec::new();
    cross::change_rules(&Change::new(change), Operation::Update, profile, &mut cross);
    let mut after = current.clone();
    for (key, value) in change.iter() {
        after.insert(*key, value.clone());
    }
    let already = user_violations(current, profile);
    cross.extend(
        user_violations(&after, profile)
            .into_iter()
            .filter(|v| !already.contains(v)),
    );
    merge(&mut out, cross);
    out
}

/// Completes an update that sets meetingTypes with the supportedServices it
/// leaves out, taken from `current`, for the services the site offers: the
/// SetUser then states them explicitly, as seed 003 advises and as
/// [`validate`] requires of a change seen alone (issue 16 item 6).
pub fn complete_supported_services(
    change: &mut FlatUser,
    current: &FlatUser,
    profile: &SiteProfile,
) {
    if change.get(&FlatKey::new(Attribute::MeetingTypes)).is_none() {
        return;
    }
    for key in cross::offered_services(profile).map(FlatKey::new) {
        if change.get(&key).is_none()
            && let Some(value) = current.get(&key)
        {
            change.insert(key, value.clone());
        }
    }
}

/// The cross-field violations of a whole user.
fn user_violations(user: &FlatUser, profile: &SiteProfile) -> Vec<Violation> {
    let mut out = Vec::new();
    cross::user_rules(&Change::new(user), true, profile, &mut out);
    out
}

/// The rules of each attribute alone, in wire order.
fn attribute_rules(
    change: &FlatUser,
    operation: Operation,
    profile: &SiteProfile,
) -> Vec<Violation> {
    let mut out = Vec::with_capacity(change.len() / 8);
    for (key, value) in change.iter() {
        let info = key.attribute.info();
        if let Some(v) = value::operation_rule(*key, info, value, operation, profile) {
            out.push(v);
            // The rest would only repeat the point: this attribute cannot be sent.
            continue;
        }
        if let Some(v) = value::value_rule(*key, info, value) {
            out.push(v);
        }
        if let Some(v) = value::gate_rule(*key, info, value, profile) {
            out.push(v);
        }
    }
    out
}

/// Merges the few cross-field violations into `out`, which is in wire order.
fn merge(out: &mut Vec<Violation>, cross: Vec<Violation>) {
    for v in cross {
        let at = out.partition_point(|o| o.attribute <= v.attribute);
        out.insert(at, v);
    }
}

/// A change with its first occurrences indexed by attribute: the cross-field
/// rules look values up often, and a `FlatUser` lookup compares keys.
pub(crate) struct Change<'a> {
    pub(crate) flat: &'a FlatUser,
    first: Vec<Option<&'a Value>>,
    /// Values of later occurrences of repeated groups, in wire order.
    later: Vec<(FlatKey, &'a Value)>,
    /// Each repeated group present, with its occupied occurrences as bits.
    pub(crate) groups: Vec<(Attribute, u32)>,
}

impl<'a> Change<'a> {
    pub(crate) fn new(flat: &'a FlatUser) -> Self {
        let mut first = vec![None; ATTRIBUTES.len()];
        let mut later = Vec::with_capacity(32);
        let mut groups: Vec<(Attribute, u32)> = Vec::with_capacity(4);
        for (key, value) in flat.iter() {
            if key.slot == 0 {
                first[key.attribute as usize] = Some(value);
            } else {
                later.push((*key, value));
            }
            // Which occurrences of each repeated group hold a value, as bits.
            if let Some(group) = key.attribute.repeated_group() {
                match groups.iter_mut().find(|(g, _)| *g == group) {
                    Some((_, used)) => *used |= 1 << key.slot,
                    None => groups.push((group, 1 << key.slot)),
                }
            }
        }
        Change {
            flat,
            first,
            later,
            groups,
        }
    }

    /// The value of `attribute` (its first occurrence in repeated groups).
    pub(crate) fn get(&self, attribute: Attribute) -> Option<&'a Value> {
        self.first[attribute as usize]
    }

    /// The value under `key`, any occurrence.
    pub(crate) fn get_key(&self, key: FlatKey) -> Option<&'a Value> {
        if key.slot == 0 {
            return self.get(key.attribute);
        }
        self.later.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// A change the validator refused: every violation, and the user they belong to.
/// The client returns this (before any call) when validation is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
#[non_exhaustive]
pub struct Invalid {
    /// The user's webExId, when the change names it.
    pub web_ex_id: Option<String>,
    /// The operation the change was for.
    pub operation: Operation,
    /// Everything wrong with the change, in wire order.
    pub violations: Vec<Violation>,
}

impl Invalid {
    fn describe(&self) -> String {
        let who = self
            .web_ex_id
            .as_deref()
            .unwrap_or("(user without webExId)");
        format!("{who}: {}", self.violations_text())
    }

    /// `2 violation(s), nothing sent (update)` and one indented line per violation.
    pub fn violations_text(&self) -> String {
        let mut s = format!(
            "{} violation(s), nothing sent ({})",
            self.violations.len(),
            self.operation.as_ref()
        );
        for v in &self.violations {
            s.push_str("\n  ");
            s.push_str(&v.message);
        }
        s
    }
}

/// [`validate`] as a gate: `Ok` when the change may be sent, else every violation.
pub fn check(
    change: &FlatUser,
    operation: Operation,
    profile: &SiteProfile,
) -> Result<(), Invalid> {
    let mut violations = validate(change, operation, profile);
    // What the XML API would ignore on a Control-Hub-managed site: refused
    // here, at the gate before a call, not in `validate`, which also serves
    // the simulator (the service ignores these; it does not refuse them).
    merge(
        &mut violations,
        control_hub::xml_rules(change, operation, profile),
    );
    refuse(change, operation, violations)
}

/// [`validate_update`] as a gate.
pub fn check_update(
    change: &FlatUser,
    current: &FlatUser,
    profile: &SiteProfile,
) -> Result<(), Invalid> {
    let violations = validate_update(change, current, profile);
    let named = if change.web_ex_id().is_some() {
        change
    } else {
        current
    };
    refuse(named, Operation::Update, violations)
}

fn refuse(
    user: &FlatUser,
    operation: Operation,
    violations: Vec<Violation>,
) -> Result<(), Invalid> {
    if violations.is_empty() {
        return Ok(());
    }
    Err(Invalid {
        web_ex_id: user.web_ex_id().map(str::to_owned),
        operation,
        violations,
    })
}

/// `name=value` as messages show it: secrets masked, long text cut.
pub(crate) fn shown(key: FlatKey, info: &AttributeInfo, value: &Value) -> String {
    use fmt::Write;
    /// Quoted; escaped only when it needs to be (quotes, backslashes, controls).
    fn quoted(out: &mut String, t: &str) {
        const MAX: usize = 40;
        let (head, more) = match t.char_indices().nth(MAX) {
            Some((i, _)) => (&t[..i], true),
            None => (t, false),
        };
        if head
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control() || !is_xml_char(c))
        {
            let _ = write!(out, "{head:?}");
        } else {
            out.push('"');
            out.push_str(head);
            out.push('"');
        }
        if more {
            out.push('…');
        }
    }
    let mut out = String::with_capacity(160);
    out.push_str(key.attribute.name());
    if key.slot > 0 {
        let _ = write!(out, "[{}]", u16::from(key.slot) + 1);
    }
    out.push('=');
    match value {
        _ if info.secret => out.push_str(MASK),
        Value::Secret(_) => out.push_str(MASK),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Text(t) => quoted(&mut out, t),
        Value::IntList(items) => {
            let _ = write!(out, "{items:?}");
        }
        Value::TextList(items) => {
            out.push('[');
            for (i, t) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                quoted(&mut out, t);
            }
            out.push(']');
        }
    }
    out
}

pub(crate) fn violation(
    key: FlatKey,
    value: Option<&Value>,
    rule: Rule,
    why: impl fmt::Display,
    fix: impl Into<Cow<'static, str>>,
) -> Violation {
    use fmt::Write;
    let info = key.attribute.info();
    let mut message = match value {
        Some(v) => shown(key, info, v),
        None => key.to_string(),
    };
    let fix = fix.into();
    let _ = write!(message, ": {why}");
    message.push_str(" — ");
    message.push_str(&fix);
    Violation {
        attribute: key,
        rule,
        message,
        fix,
    }
}
