//! What wbxprov keeps for a SCIM User because the site cannot: attributes a
//! Meetings user has no place for (RFC 7643 §4.1 `name.middleName`,
//! `nickName` …, the enterprise extension of §4.3), and what a client sent
//! for a translated value whose answer would differ (`Europe/Vienna`, written
//! as the Berlin zone). Both are answered back, so an identity provider that
//! compares what it sent with what it reads sees no drift; a sent value is
//! answered only while the site still holds what it was written as.
//! Stored as JSON in the SCIM state (`ids::IdStore::set_kept`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::scim::user::{CORE, ENTERPRISE};

/// The longest kept string (a name, a cost center, a manager's id).
pub const MAX_LEN: usize = 1024;

/// Sub-attributes of `name` a site has no place for.
pub const NAME_PARTS: [&str; 4] = [
    "middleName",
    "formatted",
    "honorificPrefix",
    "honorificSuffix",
];
/// Core attributes a site has no place for.
pub const CORE_KEPT: [&str; 3] = ["nickName", "profileUrl", "userType"];
/// Enterprise attributes (`organization` is the site's `company`).
pub const ENTERPRISE_KEPT: [&str; 5] = [
    "employeeNumber",
    "costCenter",
    "division",
    "department",
    "manager",
];
/// Sub-attributes of the enterprise `manager`.
pub const MANAGER_PARTS: [&str; 3] = ["value", "displayName", "$ref"];

/// A value a client sent and the Webex value it was written as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The value as the client sent it.
    pub value: String,
    /// The Webex value written for it.
    pub webex: String,
}

/// What wbxprov keeps of a user that the Meetings site cannot hold, so that a SCIM client
/// reads back what it wrote (stored as JSON in the id store).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    /// `name`, `nickName` …, and the enterprise URN's object, as a User has them.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Json>,
    /// By SCIM attribute (`timezone`, `phoneNumbers.work` …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sent: BTreeMap<String, Sent>,
}

/// The member of `object` named `name`, case aside (RFC 7643 §2.1).
fn member<'a>(object: &'a Json, name: &str) -> Option<&'a Json> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A kept string: `None` for null or absent, an error past [`MAX_LEN`] or
/// for a value that is not text.
fn kept_text(value: Option<&Json>, path: &str) -> Result<Option<Json>, (String, String)> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.chars().count() <= MAX_LEN => Ok(Some(Json::String(s.clone()))),
        Some(Json::String(_)) => Err((
            path.to_owned(),
            format!("is longer than {MAX_LEN} characters"),
        )),
        Some(other) => Err((path.to_owned(), format!("is {other}, not text"))),
    }
}

/// The kept parts of `parts` in `object`, under their canonical names.
fn kept_parts(
    object: Option<&Json>,
    parts: &[&str],
    prefix: &str,
) -> Result<Map<String, Json>, (String, String)> {
    let mut out = Map::new();
    let Some(object) = object else { return Ok(out) };
    for part in parts {
        if let Some(v) = kept_text(member(object, part), &format!("{prefix}{part}"))? {
            out.insert((*part).to_owned(), v);
        }
    }
    Ok(out)
}

/// The enterprise `manager` as kept, `{"value", "displayName"?, "$ref"?}`.
/// Entra sends the manager's id as a bare string, and its tutorial's
/// "Example 5. Update a user (manager)" a list of one object; manager is
/// single-valued (RFC 7643 §4.3), so any other shape is refused, not dropped.
fn kept_manager(manager: Option<&Json>) -> Result<Option<Json>, (String, String)> {
    let refused = |shown: &Json| {
        let shown: String = shown.to_string().chars().take(64).collect();
        Err((
            "manager".to_owned(),
            format!("is {shown}, not a manager ({{\"value\": id}}) or a manager's id"),
        ))
    };
    match manager {
        None | Some(Json::Null) => Ok(None),
        Some(id @ Json::String(_)) => {
            Ok(kept_text(Some(id), "manager")?.map(|id| serde_json::json!({ "value": id })))
        }
        Some(Json::Array(items)) if items.len() == 1 => kept_manager(items.first()),
        Some(object @ Json::Object(_)) => {
            let parts = kept_parts(Some(object), &MANAGER_PARTS, "manager.")?;
            Ok((!parts.is_empty()).then_some(Json::Object(parts)))
        }
        Some(other) => refused(other),
    }
}

impl Kept {
    /// What a User body carries that wbxprov keeps; `Err((attribute, reason))`
    /// for a value it will not keep.
    pub fn from_body(body: &Json) -> Result<Kept, (String, String)> {
        let mut attributes = Map::new();
        let name = kept_parts(member(body, "name"), &NAME_PARTS, "name.")?;
        if !name.is_empty() {
            attributes.insert("name".into(), Json::Object(name));
        }
        // Core attributes may also come URN-qualified (`urn:…:core:2.0:User:nickName`).
        for part in CORE_KEPT {
            let value = member(body, part).or_else(|| member(body, &format!("{CORE}:{part}")));
            if let Some(v) = kept_text(value, part)? {
                attributes.insert(part.to_owned(), v);
            }
        }
        if let Some(enterprise) = member(body, ENTERPRISE) {
            let mut out = kept_parts(Some(enterprise), &ENTERPRISE_KEPT[..4], "")?;
            if let Some(manager) = kept_manager(member(enterprise, "manager"))? {
                out.insert("manager".into(), manager);
            }
            if !out.is_empty() {
                attributes.insert(ENTERPRISE.into(), Json::Object(out));
            }
        }
        Ok(Kept {
            attributes,
            sent: BTreeMap::new(),
        })
    }

    /// Remembers that `value` was sent for `attribute` and written as `webex`.
    pub fn remember(&mut self, attribute: &str, value: &str, webex: &str) {
        self.sent.insert(
            attribute.to_owned(),
            Sent {
                value: value.to_owned(),
                webex: webex.to_owned(),
            },
        );
    }

    /// What was sent for `attribute`, while the site holds what it was written as.
    pub fn answer(&self, attribute: &str, site: &str) -> Option<&str> {
        self.sent
            .get(attribute)
            .filter(|s| s.webex == site)
            .map(|s| s.value.as_str())
    }

    /// `self` (a PUT's body) in place of what was kept before: a PUT
    /// replaces the resource (RFC 7644 §3.5.1), so a kept attribute it
    /// leaves out or sends as `null` is cleared, down to the parts of `name`
    /// and of the enterprise extension. What was sent for a translated
    /// value stays (README: PUT leaves the site's settings it does not
    /// name, and it is answered only while the site keeps that value).
    pub fn replacing(mut self, before: &Kept) -> Kept {
        for (name, sent) in &before.sent {
            self.sent
                .entry(name.clone())
                .or_insert_with(|| sent.clone());
        }
        self
    }

    /// Adds the kept attributes to a User resource.
    pub fn add_to(&self, resource: &mut Json) {
        let Some(map) = resource.as_object_mut() else {
            return;
        };
        for (name, value) in &self.attributes {
            match (map.get_mut(name), value) {
                // `name` and the enterprise object: merged with what the site gives.
                (Some(Json::Object(have)), Json::Object(add)) => {
                    have.extend(add.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                _ => {
                    map.insert(name.clone(), value.clone());
                }
            }
        }
        if self.attributes.contains_key(ENTERPRISE)
            && let Some(Json::Array(schemas)) = map.get_mut("schemas")
            && !schemas.iter().any(|s| s == ENTERPRISE)
        {
            schemas.push(Json::String(ENTERPRISE.into()));
        }
    }

    /// The stored form: `None` when nothing is kept.
    pub fn to_text(&self) -> Option<String> {
        (!self.attributes.is_empty() || !self.sent.is_empty())
            .then(|| serde_json::to_string(self).expect("JSON values serialize"))
    }

    /// From the stored form; a row that does not parse keeps nothing (and says so).
    pub fn from_text(text: Option<&str>) -> Kept {
        let Some(text) = text else {
            return Kept::default();
        };
        serde_json::from_str(text).unwrap_or_else(|e| {
            tracing::warn!("a kept SCIM attribute row does not parse ({e}); it is ignored");
            Kept::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_what_a_site_has_no_place_for_and_gives_it_back() {
        let body = json!({
            "userName": "ann",
            "name": {"givenName": "Ann", "MiddleName": "Q", "formatted": "Ann Q Lee"},
            "nickName": "Annie",
            "title": "CTO",
            ENTERPRISE: {"employeeNumber": "701984", "costCenter": "4130", "organization": "Acme",
                         "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John"}},
        });
        let kept = Kept::from_body(&body).unwrap();
        let stored = Kept::from_text(kept.to_text().as_deref());
        assert_eq!(stored, kept);
        let mut resource = json!({"schemas": [CORE], "name": {"givenName": "Ann"}, "title": "CTO"});
        stored.add_to(&mut resource);
        assert_eq!(
            resource["name"],
            json!({"givenName": "Ann", "middleName": "Q", "formatted": "Ann Q Lee"})
        );
        assert_eq!(resource["nickName"], "Annie");
        assert_eq!(resource[ENTERPRISE]["costCenter"], "4130");
        assert_eq!(resource[ENTERPRISE]["manager"]["displayName"], "John");
        assert!(
            resource[ENTERPRISE].get("organization").is_none(),
            "the site's company, not kept"
        );
        assert_eq!(resource["schemas"], json!([CORE, ENTERPRISE]));
    }

    #[test]
    fn entra_sends_the_manager_as_a_string() {
        let kept = Kept::from_body(&json!({ENTERPRISE: {"manager": "m-1"}})).unwrap();
        assert_eq!(
            kept.attributes[ENTERPRISE]["manager"],
            json!({"value": "m-1"})
        );
    }

    /// Entra's tutorial, "Example 5. Update a user (manager)": the manager
    /// as a list of one `{"$ref", "value"}` (manager is single-valued,
    /// RFC 7643 §4.3); anything else that is no manager is refused, not dropped.
    #[test]
    fn a_manager_in_a_list_of_one_is_kept_and_other_shapes_are_refused() {
        let one =
            json!({ENTERPRISE: {"manager": [{"$ref": "http://h/Users/m-1", "value": "m-1"}]}});
        assert_eq!(
            Kept::from_body(&one).unwrap().attributes[ENTERPRISE]["manager"],
            json!({"value": "m-1", "$ref": "http://h/Users/m-1"})
        );
        for bad in [json!([{"value": "a"}, {"value": "b"}]), json!(7), json!([])] {
            let refused = Kept::from_body(&json!({ENTERPRISE: {"manager": bad}})).unwrap_err();
            assert_eq!(refused.0, "manager", "{bad}");
        }
    }

    /// A PUT replaces what is kept (RFC 7644 §3.5.1), down to the parts of
    /// `name` and of the enterprise extension: a PUT naming a department
    /// clears the manager it leaves out.
    #[test]
    fn a_put_replaces_the_parts_of_name_and_enterprise() {
        let before = Kept::from_body(&json!({
            "name": {"middleName": "Q", "honorificPrefix": "Dr."},
            "nickName": "Q",
            ENTERPRISE: {"manager": "m-1", "department": "R&D"},
        }))
        .unwrap();
        let put = Kept::from_body(&json!({
            "name": {"middleName": "R"},
            ENTERPRISE: {"department": "Sales", "manager": null},
        }))
        .unwrap()
        .replacing(&before);
        assert_eq!(put.attributes["name"], json!({"middleName": "R"}));
        assert_eq!(put.attributes[ENTERPRISE], json!({"department": "Sales"}));
        assert!(!put.attributes.contains_key("nickName"));
    }

    #[test]
    fn refuses_what_it_will_not_keep() {
        let long = "x".repeat(MAX_LEN + 1);
        assert_eq!(
            Kept::from_body(&json!({"nickName": long})).unwrap_err().0,
            "nickName"
        );
        assert_eq!(
            Kept::from_body(&json!({"name": {"middleName": 7}})).unwrap_err(),
            ("name.middleName".to_owned(), "is 7, not text".to_owned())
        );
        assert_eq!(
            Kept::from_body(&json!({"nickName": null})).unwrap(),
            Kept::default()
        );
        assert_eq!(Kept::default().to_text(), None);
    }

    #[test]
    fn a_sent_value_is_answered_while_the_site_keeps_its_translation() {
        let mut kept = Kept::default();
        kept.remember("timezone", "Europe/Vienna", "GMT+01:00, Europe (Berlin)");
        assert_eq!(
            kept.answer("timezone", "GMT+01:00, Europe (Berlin)"),
            Some("Europe/Vienna")
        );
        assert_eq!(kept.answer("timezone", "GMT+01:00, Europe (Paris)"), None);
        let put = Kept::from_body(&json!({"nickName": "A"}))
            .unwrap()
            .replacing(&kept);
        assert_eq!(
            put.answer("timezone", "GMT+01:00, Europe (Berlin)"),
            Some("Europe/Vienna")
        );
        assert_eq!(put.attributes["nickName"], "A");
    }
}
