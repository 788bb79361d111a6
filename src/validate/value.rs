//! Rules of one attribute alone, all read from its catalogue row: the operations
//! it may appear in, its type and limits, and the site features gating it.

use validator::ValidateEmail;

use super::{Operation, Rule, Violation, violation};
use crate::schema::{AttributeInfo, FlatKey, IntKind, ScalarType, TextFormat, Value};
use crate::site::SiteProfile;
use crate::xml::chars::{code_point, first_forbidden};

pub(super) fn operation_rule(
    key: FlatKey,
    info: &AttributeInfo,
    value: &Value,
    operation: Operation,
    profile: &SiteProfile,
) -> Option<Violation> {
    let allowed = match operation {
        Operation::Create => info.ops.create,
        Operation::Update => info.ops.set,
    };
    if !allowed {
        let (why, fix) = if !info.ops.create && !info.ops.set {
            (
                "read-only: the service sets it".to_owned(),
                "remove the mapping".to_owned(),
            )
        } else if info.ops.set {
            (
                "update-only: CreateUser does not take it".to_owned(),
                "set it in an update once the user exists".to_owned(),
            )
        } else {
            (
                "create-only: SetUser does not take it".to_owned(),
                "send it only when creating the user".to_owned(),
            )
        };
        return Some(violation(key, Some(value), Rule::Operation, why, fix));
    }
    // webExId names the user a SetUser is about: a key, not a change.
    if operation == Operation::Update
        && profile.control_hub_managed
        && info.identity
        && key.attribute != crate::schema::Attribute::WebExId
    {
        return Some(violation(
            key,
            Some(value),
            Rule::Identity,
            "the site is managed in Control Hub, where the Webex identity owns this attribute",
            "change it in Control Hub (or through SCIM), not on the Meetings site",
        ));
    }
    None
}

/// The first way the value breaks its catalogue type, if any.
pub(super) fn value_rule(key: FlatKey, info: &AttributeInfo, value: &Value) -> Option<Violation> {
    let scalar = info.value_type.scalar();
    let problem = match (info.value_type.is_list(), value) {
        (false, Value::Bool(_)) if matches!(scalar, ScalarType::Bool) => None,
        (false, Value::Int(i)) if matches!(scalar, ScalarType::Int { .. }) => int_rule(scalar, *i),
        (false, Value::Text(t)) => text_rule(scalar, t),
        (false, Value::Secret(s)) => text_rule(scalar, s.expose()),
        (true, Value::IntList(items)) if matches!(scalar, ScalarType::Int { .. }) => {
            items.iter().find_map(|i| int_rule(scalar, *i))
        }
        (true, Value::TextList(items)) => items.iter().find_map(|t| text_rule(scalar, t)),
        (_, other) => Some((
            Rule::Type,
            format!("expected {}, got {}", info.value_type, other.kind_name()),
            "map a value of the right type".to_owned(),
        )),
    }?;
    let (rule, why, fix) = problem;
    Some(violation(key, Some(value), rule, why, fix))
}

type Problem = (Rule, String, String);

fn int_rule(scalar: &ScalarType, i: i64) -> Option<Problem> {
    let ScalarType::Int { kind, min, max } = *scalar else {
        return Some((
            Rule::Type,
            format!("expected {scalar}, got an integer"),
            "map a value of the right type".into(),
        ));
    };
    let (lo, hi) = match kind {
        IntKind::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
        IntKind::Int64 => (i64::MIN, i64::MAX),
    };
    let lo = min.unwrap_or(lo);
    let hi = max.unwrap_or(hi);
    (i < lo || i > hi).then(|| {
        (
            Rule::Range,
            format!("must be between {lo} and {hi}"),
            format!("map a number from {lo} to {hi}"),
        )
    })
}

fn text_rule(scalar: &ScalarType, t: &str) -> Option<Problem> {
    // First: no other rule matters for text the request could not even carry.
    if let Some(c) = first_forbidden(t) {
        return Some((
            Rule::Character,
            format!("holds {}, a character XML 1.0 does not allow", code_point(c)),
            "remove it (of the control characters, only tab, line feed and carriage return may be sent)".to_owned(),
        ));
    }
    match *scalar {
        ScalarType::Text { max_len, format } => {
            if let Some(max) = max_len {
                // Cheap bound first: a string of at most `max` bytes has at most `max` characters.
                if t.len() > max as usize && t.chars().count() > max as usize {
                    return Some((
                        Rule::Length,
                        format!("longer than {max} characters"),
                        format!("shorten it to {max} characters"),
                    ));
                }
            }
            match format {
                Some(f) if !t.is_empty() && !format_ok(f, t) => Some(format_problem(f)),
                _ => None,
            }
        }
        ScalarType::Enum { values } => (!values.contains(&t)).then(|| {
            let listed = if values.len() > 8 {
                format!(
                    "one of the {} catalogue values (see `wbxprov attrs`)",
                    values.len()
                )
            } else {
                values.join(" | ")
            };
            (
                Rule::Enum,
                format!("not an allowed value; expected {listed}"),
                "map one of the allowed values".to_owned(),
            )
        }),
        ScalarType::Date => (!date_ok(t)).then(|| {
            (
                Rule::Format,
                "not a date in the form MM/DD/YYYY HH:MM:SS (or `none`)".to_owned(),
                "write it as e.g. 12/31/2030 23:59:59".to_owned(),
            )
        }),
        ScalarType::Bool | ScalarType::Int { .. } => Some((
            Rule::Type,
            format!("expected {scalar}, got text"),
            "map a value of the right type".to_owned(),
        )),
    }
}

fn format_ok(format: TextFormat, t: &str) -> bool {
    match format {
        TextFormat::Email => plain_email(t) || t.validate_email(),
        TextFormat::Phone => phone_ok(t),
        TextFormat::PersonalUrl => t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')),
    }
}

fn format_problem(format: TextFormat) -> Problem {
    let (why, fix) = match format {
        TextFormat::Email => ("not an email address", "map a valid address"),
        TextFormat::Phone => (
            "not a phone number in the form country,area,local (3 to 7 comma-separated fields of digits, the country code first)",
            "write it as digits separated by commas, e.g. 1,408,5551212",
        ),
        TextFormat::PersonalUrl => (
            "may hold only letters, digits, `_`, `-` and `.`",
            "remove the other characters",
        ),
    };
    (Rule::Format, why.to_owned(), fix.to_owned())
}

/// The common case of the validator crate's (WHATWG) email grammar without its
/// regex engine, which costs a microsecond per address: an ASCII local part of
/// the allowed characters and an ASCII host name. Anything else (IDN, address
/// literals, errors) goes to `validate_email`, so the answer is the crate's.
fn plain_email(t: &str) -> bool {
    let Some((user, domain)) = t.rsplit_once('@') else {
        return false;
    };
    let user_ok = !user.is_empty()
        && user.len() <= 64
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&b));
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    user_ok && domain.len() <= 255 && domain.split('.').all(label_ok)
}

/// Fields of the longest phone a live site returned: `49,,,,,,` (the erolms
/// GetUser capture, fixtures/real).
const PHONE_MAX_FIELDS: usize = 7;

/// `country,area,local` (Cisco's getuser page, seed 003), and what live sites
/// return: the country code first, then up to six more comma-separated fields of
/// digits, any of them empty (`49,,,,,,` in the erolms capture).
fn phone_ok(t: &str) -> bool {
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let mut parts = 0;
    for part in t.split(',') {
        parts += 1;
        if !digits(part) || (parts == 1 && part.is_empty()) {
            return false;
        }
    }
    (3..=PHONE_MAX_FIELDS).contains(&parts)
}

/// What a live GetUser returns for a date that is not set: `expirationDate`
/// `none` in the erolms capture (fixtures/real), a user who never expires.
const NO_DATE: &str = "none";

/// `MM/DD/YYYY HH:MM:SS` with each field in range, or the service's [`NO_DATE`].
fn date_ok(t: &str) -> bool {
    if t == NO_DATE {
        return true;
    }
    let b = t.as_bytes();
    if b.len() != 19
        || b[2] != b'/'
        || b[5] != b'/'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let (Some(month), Some(day), Some(_year), Some(h), Some(m), Some(s)) = (
        num(0..2),
        num(3..5),
        num(6..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    (1..=12).contains(&month) && (1..=31).contains(&day) && h < 24 && m < 60 && s < 60
}

/// Whether a value would switch something on: `true`, non-zero, non-empty.
pub(super) fn is_set(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Text(t) => !t.is_empty(),
        Value::Secret(s) => !s.is_empty(),
        Value::IntList(v) => !v.is_empty(),
        Value::TextList(v) => !v.is_empty(),
    }
}

pub(super) fn gate_rule(
    key: FlatKey,
    info: &AttributeInfo,
    value: &Value,
    profile: &SiteProfile,
) -> Option<Violation> {
    if info.gate.is_empty() || !is_set(value) || info.gate.iter().all(|f| profile.feature(*f)) {
        return None;
    }
    let fix = "remove the mapping or enable the feature on the site";
    if let [one] = info.gate {
        let why = format_args!("site feature {} is off", one.info().name);
        return Some(violation(key, Some(value), Rule::Feature, why, fix));
    }
    let off: Vec<&str> = info
        .gate
        .iter()
        .filter(|f| !profile.feature(**f))
        .map(|f| f.info().name)
        .collect();
    let (why, fix) = match off.as_slice() {
        [one] => (format!("site feature {one} is off"), fix),
        many => (
            format!("site features {} are off", many.join(" and ")),
            "remove the mapping or enable the features on the site",
        ),
    };
    Some(violation(key, Some(value), Rule::Feature, why, fix))
}
