//! From source fields to catalogue attributes.
//!
//! ```toml
//! key = "employee_id"                   # the source's immutable column (optional)
//! match = "email"                       # or "webExId" (the default)
//! externalId = { field = "employee_id" } # Control Hub mode: the person's externalId
//! attendee = { field = "role", in = ["guest"] } # Control Hub: attendees, not hosts
//! licenceOnDeprovision = "remove"      # Control Hub: or "keep" the site's licence
//!
//! [scope]                               # only these records are in scope
//! field = "status"
//! in = ["active", "leave"]
//!
//! [attributes]
//! webExId = { field = "username", transform = ["trim", "lowercase"] }
//! firstName = { field = "first" }
//! lastName = { field = "last", transform = ["trim", "truncate"] }
//! email = { template = "{first}.{last}@example.com", transform = ["lowercase"] }
//! privilegeHost = { constant = true }
//! meetingTypes = { field = "department", lookup = { Sales = [214], Support = [214, 216] } }
//! ```
//!
//! Without a mapping, source fields named exactly like catalogue attributes
//! (`wbxprov attrs`) map to them, and other fields are ignored.
//!
//! `key` names the column that identifies a person for good (employee number,
//! IdP object id): the journal ties it to the site user, so a person whose
//! webExId or email changes keeps their account. Without it the match key's
//! value is the key, as before. Without a mapping there is no source key:
//! a name-mapped source holds catalogue attributes only, and guessing that
//! some other column (`key`, `id` …) is immutable could tie people to the
//! wrong accounts; a two-line mapping says it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::source::Record;
use crate::schema::{FlatKey, FlatUser, ScalarType, ValueError};

/// What identifies a source person on the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum MatchKey {
    /// The source's `webExId` is the site user's Webex ID (the default).
    #[default]
    #[serde(rename = "webExId")]
    WebExId,
    /// The source's `email` finds the site user.
    #[serde(rename = "email")]
    Email,
}

/// A text change applied in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transform {
    /// Leading and trailing whitespace removed.
    Trim,
    /// Lower-cased.
    Lowercase,
    /// Upper-cased.
    Uppercase,
    /// Cut to the attribute's maximum length (catalogue).
    Truncate,
}

/// How one attribute gets its value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A source field.
    #[serde(default)]
    pub field: Option<String>,
    /// A fixed value.
    #[serde(default)]
    pub constant: Option<Json>,
    /// Text with `{field}` placeholders.
    #[serde(default)]
    pub template: Option<String>,
    /// Text changes applied to the value, in order.
    #[serde(default)]
    pub transform: Vec<Transform>,
    /// Source value → attribute value, e.g. department → meetingTypes.
    #[serde(default)]
    pub lookup: Option<BTreeMap<String, Json>>,
}

/// Which records are in scope.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// The source field compared.
    pub field: String,
    /// The values that put a record in scope.
    #[serde(rename = "in")]
    pub values: Vec<String>,
}

impl Scope {
    /// Whether the record's `field` is one of the values.
    fn holds(&self, record: &Record) -> bool {
        record
            .fields
            .get(&self.field)
            .and_then(text_of)
            .is_some_and(|v| self.values.iter().any(|s| s == &v))
    }
}

/// A mapping file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The source column that identifies a person for good (see the module doc).
    #[serde(default)]
    pub key: Option<String>,
    /// How a source person is found on the site (`match`: `webExId` or `email`).
    #[serde(default, rename = "match")]
    pub match_key: MatchKey,
    /// Only the records whose field holds one of the values (`[scope]`); `None`: every record.
    #[serde(default)]
    pub scope: Option<Scope>,
    /// Flat attribute name → rule. Empty: fields map by name.
    #[serde(default)]
    pub attributes: BTreeMap<String, Rule>,
    /// Control Hub mode: the person's externalId in the Webex identity
    /// (without a mapping: a source field named `externalId`).
    #[serde(default, rename = "externalId")]
    pub external_id: Option<Rule>,
    /// Control Hub mode with licences: the records whose person attends the
    /// site (`siteUrls` `accountType: attendee`) rather than hosting it (the
    /// site's Meetings licence). Same shape as `[scope]`.
    #[serde(default)]
    pub attendee: Option<Scope>,
    /// Control Hub mode with licences: deprovisioning removes the site's
    /// licence of people who leave (`"remove"`, the default) or keeps it
    /// (`"keep"`); either way the person is deactivated.
    #[serde(default, rename = "licenceOnDeprovision")]
    pub licence_on_deprovision: super::LicenceOnDeprovision,
}

/// A source field the mapping reads, and the mapping entry that reads it
/// (`attributes.lastName.field`, `attributes.email.template`, `key`,
/// `scope.field`, `externalId.field` …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldUse {
    /// The mapping entry that reads the field, e.g. `attributes.email.template`.
    pub entry: String,
    /// The source field's name.
    pub field: String,
}

/// Why a record did not become a user: the attribute (when one is at fault) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// The attribute at fault, when one is.
    pub attribute: Option<String>,
    /// What is wrong, for people.
    pub reason: String,
}

/// Why a mapping file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MappingFileError {
    /// TOML that does not parse, or a key no mapping has.
    #[error("{0}")]
    Syntax(#[source] toml::de::Error),
    /// `[attributes]` names attributes the catalogue does not have.
    #[error("not catalogue attributes: {} (see `wbxprov attrs`)", .names.join(", "))]
    UnknownAttributes {
        /// The names as written.
        names: Vec<String>,
    },
    /// An attribute's rule is not usable: a template that does not parse, or
    /// not exactly one of field, constant, template.
    #[error("{attribute}: {reason}")]
    Rule {
        /// The attribute whose rule it is.
        attribute: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Mapping {
    /// A mapping from its TOML text (the format above), every attribute
    /// checked against the catalogue and every rule for being usable.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingFileError> {
        let mapping: Mapping = toml::from_str(text).map_err(MappingFileError::Syntax)?;
        let unknown: Vec<&str> = mapping
            .attributes
            .keys()
            .filter(|k| k.parse::<FlatKey>().is_err())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(MappingFileError::UnknownAttributes {
                names: unknown.into_iter().map(str::to_owned).collect(),
            });
        }
        for (name, rule) in &mapping.attributes {
            let refused = |reason: String| MappingFileError::Rule {
                attribute: name.clone(),
                reason,
            };
            if let Some(template) = &rule.template {
                placeholders(template).map_err(refused)?;
            }
            let sources = [
                rule.field.is_some(),
                rule.constant.is_some(),
                rule.template.is_some(),
            ];
            if sources.iter().filter(|s| **s).count() != 1 {
                return Err(refused(
                    "give exactly one of field, constant, template".into(),
                ));
            }
        }
        Ok(mapping)
    }

    /// Every source field the mapping reads, with the entry that reads it.
    /// (A lookup reads its rule's field or template.)
    pub fn fields_read(&self) -> Vec<FieldUse> {
        let mut uses = Vec::new();
        let mut read = |entry: String, field: &str| {
            uses.push(FieldUse {
                entry,
                field: field.to_owned(),
            })
        };
        if let Some(key) = &self.key {
            read("key".into(), key);
        }
        if let Some(scope) = &self.scope {
            read("scope.field".into(), &scope.field);
        }
        if let Some(attendee) = &self.attendee {
            read("attendee.field".into(), &attendee.field);
        }
        let rules = self
            .external_id
            .iter()
            .map(|r| ("externalId".to_owned(), r))
            .chain(
                self.attributes
                    .iter()
                    .map(|(n, r)| (format!("attributes.{n}"), r)),
            );
        for (entry, rule) in rules {
            if let Some(field) = &rule.field {
                read(format!("{entry}.field"), field);
            }
            let template = rule.template.as_deref().unwrap_or_default();
            for field in placeholders(template).unwrap_or_default() {
                read(format!("{entry}.template"), field);
            }
        }
        uses
    }

    /// The record's source key, when the mapping names a key column: its
    /// text, trimmed; a record without it is refused (it could not be
    /// recognised on a later run).
    pub fn source_key(&self, record: &Record) -> Result<Option<String>, MappingError> {
        let Some(column) = &self.key else {
            return Ok(None);
        };
        match record.fields.get(column).and_then(text_of) {
            Some(k) if !k.trim().is_empty() => Ok(Some(k.trim().to_owned())),
            _ => Err(MappingError {
                attribute: None,
                reason: format!("the source key {column:?} is missing"),
            }),
        }
    }

    /// The externalId of a record's person, if the mapping gives one.
    pub fn external_id(&self, record: &Record) -> Result<Option<String>, MappingError> {
        let value = match &self.external_id {
            Some(rule) => self.value("externalId", rule, record),
            None if self.attributes.is_empty() => Ok(record.fields.get("externalId").cloned()),
            None => Ok(None),
        };
        value
            .map(|v| v.as_ref().and_then(text_of))
            .map_err(|reason| MappingError {
                attribute: Some("externalId".into()),
                reason,
            })
    }

    /// Whether the record is in scope.
    pub fn in_scope(&self, record: &Record) -> bool {
        self.scope.as_ref().is_none_or(|scope| scope.holds(record))
    }

    /// Whether the mapping's `attendee` takes the record's person for an
    /// attendee of the site (Control Hub mode with licences).
    pub fn attends(&self, record: &Record) -> bool {
        self.attendee.as_ref().is_some_and(|a| a.holds(record))
    }

    /// The user a record maps to, or every problem with it.
    pub fn apply(&self, record: &Record) -> Result<FlatUser, Vec<MappingError>> {
        let mut object = Map::new();
        let mut errors = Vec::new();
        if self.attributes.is_empty() {
            for (name, value) in &record.fields {
                if name.parse::<FlatKey>().is_ok() {
                    object.insert(name.clone(), listed(name, value.clone()));
                }
            }
        } else {
            for (name, rule) in &self.attributes {
                match self.value(name, rule, record) {
                    Ok(Some(v)) => {
                        object.insert(name.clone(), v);
                    }
                    Ok(None) => {}
                    Err(reason) => errors.push(MappingError {
                        attribute: Some(name.clone()),
                        reason,
                    }),
                }
            }
        }
        let user = FlatUser::from_json(&object).map_err(|es| {
            es.into_iter()
                .map(|e| MappingError {
                    attribute: match &e {
                        ValueError::TypeMismatch { key, .. }
                        | ValueError::SlotOutOfRange { key, .. } => Some(key.to_string()),
                        ValueError::UnknownAttribute(name) => Some(name.clone()),
                    },
                    reason: e.to_string(),
                })
                .collect::<Vec<_>>()
        });
        match user {
            Ok(u) if errors.is_empty() => Ok(u),
            Ok(_) => Err(errors),
            Err(mut more) => {
                errors.append(&mut more);
                Err(errors)
            }
        }
    }

    fn value(&self, name: &str, rule: &Rule, record: &Record) -> Result<Option<Json>, String> {
        let raw = if let Some(field) = &rule.field {
            match record.fields.get(field) {
                Some(v) if !v.is_null() => v.clone(),
                _ => return Ok(None),
            }
        } else if let Some(c) = &rule.constant {
            c.clone()
        } else if let Some(template) = &rule.template {
            Json::String(fill(template, record)?)
        } else {
            return Ok(None);
        };
        let mut value = raw;
        for t in &rule.transform {
            value = transform(name, *t, value);
        }
        if let Some(table) = &rule.lookup {
            let key = text_of(&value).unwrap_or_default();
            value = match table.get(&key) {
                Some(v) => v.clone(),
                None => {
                    return Err(format!(
                        "no lookup entry for {key:?} (known: {})",
                        table.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            };
        }
        Ok(Some(listed(name, value)))
    }
}

/// A list attribute given as text `214;216` becomes an array.
fn listed(name: &str, value: Json) -> Json {
    let is_list = name
        .parse::<FlatKey>()
        .is_ok_and(|k| k.attribute.info().value_type.is_list());
    match value {
        Json::String(s) if is_list => Json::Array(
            s.split(';')
                .map(|p| Json::String(p.trim().to_owned()))
                .filter(|p| p.as_str() != Some(""))
                .collect(),
        ),
        other => other,
    }
}

fn text_of(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A template cut at its placeholders: literal text and `{field}` names, in order.
enum Piece<'a> {
    Text(&'a str),
    Field(&'a str),
}

fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push(Piece::Text(&rest[..open]));
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("template {template:?}: unclosed {{"))?;
        out.push(Piece::Field(&rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// The fields a template's placeholders name.
fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    Ok(pieces(template)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Field(f) => Some(f),
            Piece::Text(_) => None,
        })
        .collect())
}

/// `{first}.{last}@example.com` with the record's fields.
fn fill(template: &str, record: &Record) -> Result<String, String> {
    let mut out = String::new();
    for piece in pieces(template)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(field) => out.push_str(
                &record
                    .fields
                    .get(field)
                    .and_then(text_of)
                    .ok_or_else(|| format!("template field {field:?} is missing"))?,
            ),
        }
    }
    Ok(out)
}

fn transform(name: &str, t: Transform, value: Json) -> Json {
    let Json::String(s) = value else {
        return value;
    };
    Json::String(match t {
        Transform::Trim => s.trim().to_owned(),
        Transform::Lowercase => s.to_lowercase(),
        Transform::Uppercase => s.to_uppercase(),
        Transform::Truncate => {
            let max = name.parse::<FlatKey>().ok().and_then(|k| {
                match *k.attribute.info().value_type.scalar() {
                    ScalarType::Text { max_len, .. } => max_len,
                    _ => None,
                }
            });
            match max {
                Some(n) => s.chars().take(n as usize).collect(),
                None => s,
            }
        }
    })
}
