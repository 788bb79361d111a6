//! A Meetings site user as a SCIM 2.0 User, and back: core attributes mapped
//! to their catalogue attributes, every catalogue attribute also under the
//! wbxprov extension schema (generated from the catalogue).

use serde_json::{Map, Value as Json, json};

use crate::schema::{Attribute, FlatKey, FlatUser, Value, ValueError};

/// The core User schema (RFC 7643 §4.1).
pub const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Every Meetings attribute, by its flat catalogue name.
pub const EXTENSION: &str = "urn:ietf:params:scim:schemas:extension:wbxprov:meetings:2.0:User";
/// A list answer (RFC 7644 §3.4.2).
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// An error answer (RFC 7644 §3.12).
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// A PATCH request (RFC 7644 §3.5.2).
pub const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Core multi-valued items and the catalogue attribute each `type` maps to.
/// `email2` stays in the extension: one email `type` per attribute keeps a
/// round trip exact.
pub(crate) const EMAILS: [(&str, Attribute); 1] = [("work", Attribute::Email)];
pub(crate) const PHONES: [(&str, Attribute); 4] = [
    ("work", Attribute::PhonesPhone),
    ("mobile", Attribute::PhonesMobilePhone),
    ("fax", Attribute::PhonesFax),
    ("pager", Attribute::PhonesPager),
];
/// `addresses[type eq "work"]` sub-attributes.
pub(crate) const ADDRESS: [(&str, Attribute); 6] = [
    ("streetAddress", Attribute::AddressAddress1),
    ("locality", Attribute::AddressCity),
    ("region", Attribute::AddressState),
    ("postalCode", Attribute::AddressZipCode),
    ("country", Attribute::AddressCountry),
    ("formatted", Attribute::AddressAddress2),
];
/// Single-valued core attributes (and the enterprise `organization`).
pub(crate) const SCALARS: [(&str, Attribute); 5] = [
    ("title", Attribute::Title),
    ("timezone", Attribute::TimeZone),
    ("locale", Attribute::Locale),
    ("preferredLanguage", Attribute::Language),
    ("organization", Attribute::Company),
];

/// The core (or enterprise) SCIM attribute that carries a catalogue
/// attribute, if one does. Such attributes are read-only in the extension, so
/// each value has exactly one way in.
pub fn core_path(a: Attribute) -> Option<String> {
    let fixed = match a {
        Attribute::WebExId | Attribute::NewWebExId => Some("userName"),
        Attribute::FirstName => Some("name.givenName"),
        Attribute::LastName => Some("name.familyName"),
        Attribute::Active => Some("active"),
        Attribute::Password => Some("password"),
        _ => None,
    };
    if let Some(p) = fixed {
        return Some(p.into());
    }
    let typed = |list: &str, pairs: &[(&str, Attribute)]| {
        pairs
            .iter()
            .find(|(_, x)| *x == a)
            .map(|(kind, _)| format!("{list}[type eq \"{kind}\"].value"))
    };
    typed("emails", &EMAILS)
        .or_else(|| typed("phoneNumbers", &PHONES))
        .or_else(|| {
            ADDRESS
                .iter()
                .find(|(_, x)| *x == a)
                .map(|(sub, _)| format!("addresses[type eq \"work\"].{sub}"))
        })
        .or_else(|| {
            SCALARS.iter().find(|(_, x)| *x == a).map(|(name, _)| {
                if a == Attribute::Company {
                    format!("{ENTERPRISE}:{name}")
                } else {
                    (*name).to_owned()
                }
            })
        })
}

/// Whether a catalogue attribute shows in the extension of a SCIM User:
/// readable, not secret.
pub(crate) fn shown(a: Attribute) -> bool {
    let info = a.info();
    info.ops.get && !info.secret
}

/// `givenName familyName`: the displayName of a user nobody gave one.
pub fn display_name(user: &FlatUser) -> Option<String> {
    let parts: Vec<&str> = [Attribute::FirstName, Attribute::LastName]
        .into_iter()
        .filter_map(|a| user.text(a))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The SCIM User of a site user (secrets never shown; empty values left out).
pub fn to_scim(user: &FlatUser, id: &str, external_id: Option<&str>, location: &str) -> Json {
    let mut out = json!({
        "schemas": [CORE],
        "id": id,
        "userName": user.text(Attribute::WebExId).unwrap_or_default(),
        "active": user.text(Attribute::Active) != Some("DEACTIVATED"),
        "meta": {"resourceType": "User", "location": location},
    });
    if let Some(e) = external_id {
        out["externalId"] = json!(e);
    }
    let mut name = Map::new();
    if let Some(f) = user.text(Attribute::FirstName) {
        name.insert("givenName".into(), json!(f));
    }
    if let Some(l) = user.text(Attribute::LastName) {
        name.insert("familyName".into(), json!(l));
    }
    if let Some(d) = display_name(user) {
        out["displayName"] = json!(d);
    }
    if !name.is_empty() {
        out["name"] = Json::Object(name);
    }
    // No `primary`: a site keeps one value per type and no preference among them.
    let items = |pairs: &[(&str, Attribute)]| -> Vec<Json> {
        pairs
            .iter()
            .filter_map(|(kind, a)| user.text(*a).map(|v| json!({"value": v, "type": kind})))
            .collect()
    };
    let emails = items(&EMAILS);
    if !emails.is_empty() {
        out["emails"] = Json::Array(emails);
    }
    let phones = items(&PHONES);
    if !phones.is_empty() {
        out["phoneNumbers"] = Json::Array(phones);
    }
    let mut address = Map::new();
    for (sub, a) in ADDRESS {
        if let Some(v) = user.text(a) {
            address.insert(sub.into(), json!(v));
        }
    }
    if !address.is_empty() {
        address.insert("type".into(), json!("work"));
        out["addresses"] = json!([address]);
    }
    let mut schemas = vec![json!(CORE)];
    for (scim, a) in SCALARS {
        if let Some(v) = user.text(a) {
            if a == Attribute::Company {
                out[ENTERPRISE] = json!({ scim: v });
                schemas.push(json!(ENTERPRISE));
            } else {
                out[scim] = json!(v);
            }
        }
    }
    let extension: FlatUser = user
        .iter()
        .filter(|(k, v)| shown(k.attribute) && !matches!(v, Value::Text(t) if t.is_empty()))
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    let extension = extension.to_json(false);
    if !extension.is_empty() {
        out[EXTENSION] = Json::Object(extension);
        schemas.push(json!(EXTENSION));
    }
    out["schemas"] = Json::Array(schemas);
    out
}

/// Why a SCIM body does not make a user: the attribute and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadUser {
    /// The body is not a JSON object.
    #[error("a User must be a JSON object")]
    NotAnObject,
    /// Extension attributes whose values are not of their catalogue type.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Values(Vec<ValueError>),
    /// `active` is neither a boolean nor "True"/"False".
    #[error("active: {0} is not a boolean")]
    Active(Json),
}

fn str_of(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A boolean as identity providers send it: `false`, or the string `"False"`.
pub fn bool_of(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Json::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The user a SCIM User body describes (POST/PUT), and its externalId.
/// Read-only attributes and unknown schemas are ignored, as SCIM asks.
pub fn from_scim(body: &Json) -> Result<(FlatUser, Option<String>), BadUser> {
    let obj = body.as_object().ok_or(BadUser::NotAnObject)?;
    let get = |name: &str| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    // The extension first: core attributes below win over it.
    let mut flat = match get(EXTENSION) {
        Some(Json::Object(ext)) => {
            let settable: Map<String, Json> = ext
                .iter()
                .filter(|(k, _)| {
                    k.parse::<FlatKey>().is_ok_and(|k| {
                        let ops = k.attribute.info().ops;
                        (ops.create || ops.set) && core_path(k.attribute).is_none()
                    })
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            FlatUser::from_json(&settable).map_err(BadUser::Values)?
        }
        _ => FlatUser::new(),
    };
    let mut set = |a: Attribute, v: Option<String>| {
        if let Some(v) = v {
            flat.insert(FlatKey::new(a), Value::Text(v));
        }
    };
    let user_name = get("userName").and_then(str_of);
    set(Attribute::WebExId, user_name.clone());
    if let Some(Json::Object(name)) = get("name") {
        set(Attribute::FirstName, name.get("givenName").and_then(str_of));
        set(Attribute::LastName, name.get("familyName").and_then(str_of));
    }
    let typed = |list: Option<&Json>, kind: &str, first: bool| -> Option<String> {
        let items = list?.as_array()?;
        items
            .iter()
            .find(|i| {
                i.get("type")
                    .and_then(Json::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case(kind))
            })
            .or_else(|| {
                if first {
                    items
                        .iter()
                        .find(|i| i.get("primary").and_then(bool_of) == Some(true))
                        .or(items.first())
                } else {
                    None
                }
            })
            .and_then(|i| i.get("value"))
            .and_then(str_of)
    };
    let emails = get("emails");
    for (i, (kind, a)) in EMAILS.iter().enumerate() {
        set(*a, typed(emails, kind, i == 0));
    }
    let phones = get("phoneNumbers");
    for (kind, a) in PHONES {
        set(a, typed(phones, kind, false));
    }
    if let Some(Json::Array(addresses)) = get("addresses") {
        let work = addresses
            .iter()
            .find(|a| a.get("type").and_then(Json::as_str) == Some("work"))
            .or(addresses.first());
        if let Some(work) = work {
            for (sub, a) in ADDRESS {
                set(a, work.get(sub).and_then(str_of));
            }
        }
    }
    // userName is the email on most IdPs: the user's email unless one is given.
    if flat.get(&FlatKey::new(Attribute::Email)).is_none()
        && user_name.as_deref().is_some_and(|u| u.contains('@'))
    {
        flat.insert(
            FlatKey::new(Attribute::Email),
            Value::Text(user_name.clone().unwrap_or_default()),
        );
    }
    let enterprise = get(ENTERPRISE);
    for (scim, a) in SCALARS {
        let v = if a == Attribute::Company {
            enterprise.and_then(|e| e.get(scim))
        } else {
            get(scim)
        };
        if let Some(v) = v.and_then(str_of) {
            flat.insert(FlatKey::new(a), Value::Text(v));
        }
    }
    if let Some(active) = get("active") {
        let on = bool_of(active).ok_or_else(|| BadUser::Active(active.clone()))?;
        flat.insert(
            FlatKey::new(Attribute::Active),
            Value::Text(if on { "ACTIVATED" } else { "DEACTIVATED" }.into()),
        );
    }
    if let Some(password) = get("password").and_then(str_of) {
        flat.insert(
            FlatKey::new(Attribute::Password),
            Value::Secret(password.into()),
        );
    }
    let external_id = get("externalId").and_then(str_of);
    Ok((flat, external_id))
}
