//! The feature-gated validator: everything wrong with a change, before any call.
//!
//! [`validate`] checks a flat change against the catalogue (types, limits,
//! enumerations, formats, the operations an attribute may appear in), against
//! the site (feature gates, session types, services, password criteria, licence
//! counts) and against itself (cross-field rules of site-features.md). It never
//! stops at the first problem. Each [`Violation`] names the attribute, the rule,
//! what is wrong in the seed's vocabulary, and the fix.

mod cross;
mod value;

use std::fmt;

use serde::Serialize;

use crate::schema::{AttributeInfo, FlatKey, FlatUser, Value};
use crate::secret::MASK;
use crate::site::SiteProfile;

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
    pub rule: Rule,
    /// What is wrong and the fix, e.g. `privilegeOtherTelephony=true: site feature
    /// otherTeleconferencing is off — remove the mapping or enable the feature on the site`.
    pub message: String,
    /// The fix alone.
    pub fix: String,
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
pub fn validate(change: &FlatUser, operation: Operation, profile: &SiteProfile) -> Vec<Violation> {
    let mut out = Vec::new();
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
    cross::rules(change, operation, profile, &mut out);
    out.sort_by_key(|v| v.attribute);
    out
}

/// `name=value` as messages show it: secrets masked, long text cut.
pub(crate) fn shown(key: FlatKey, info: &AttributeInfo, value: &Value) -> String {
    fn cut(t: &str) -> String {
        const MAX: usize = 40;
        if t.chars().count() > MAX {
            let head: String = t.chars().take(MAX).collect();
            format!("{head:?}…")
        } else {
            format!("{t:?}")
        }
    }
    let v = match value {
        _ if info.secret => MASK.to_owned(),
        Value::Secret(_) => MASK.to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Text(t) => cut(t),
        Value::IntList(items) => format!("{items:?}"),
        Value::TextList(items) => {
            let items: Vec<String> = items.iter().map(|t| cut(t)).collect();
            format!("[{}]", items.join(", "))
        }
    };
    format!("{key}={v}")
}

pub(crate) fn violation(
    key: FlatKey,
    value: Option<&Value>,
    rule: Rule,
    why: impl fmt::Display,
    fix: impl Into<String>,
) -> Violation {
    let info = key.attribute.info();
    let subject = match value {
        Some(v) => shown(key, info, v),
        None => key.to_string(),
    };
    let fix = fix.into();
    Violation {
        attribute: key,
        rule,
        message: format!("{subject}: {why} — {fix}"),
        fix,
    }
}
