//! The flat JSON shape of a user: one key per flat attribute name (`name[2]` for
//! later occurrences of repeated groups), typed values. This is what platforms
//! send and what `wbxprov decode --json` prints.

use serde_json::{Map, Value as Json};

use super::{FlatKey, FlatUser, ScalarType, Value, ValueError};
use crate::secret::Secret;

impl FlatUser {
    /// Reads a flat JSON object. Booleans and integers may also be given as
    /// strings (`"true"`, `"42"`), since many sources carry only text; a list
    /// attribute takes an array or a single value; `null` means "not given".
    /// Every problem is reported, not just the first.
    pub fn from_json(object: &Map<String, Json>) -> Result<FlatUser, Vec<ValueError>> {
        let mut user = FlatUser::new();
        let mut errors = Vec::new();
        for (name, json) in object {
            if json.is_null() {
                continue;
            }
            let key = match name.parse::<FlatKey>() {
                Ok(k) => k,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            match value_from_json(key, json) {
                Ok(v) => {
                    user.insert(key, v);
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(user)
        } else {
            Err(errors)
        }
    }

    /// Writes the flat JSON object, secrets masked unless `reveal` (an empty
    /// secret shows empty: it is not set).
    pub fn to_json(&self, reveal: bool) -> Map<String, Json> {
        self.iter()
            .map(|(key, value)| (key.to_string(), value.to_json(reveal)))
            .collect()
    }
}

impl Value {
    /// The value as [`FlatUser::to_json`] writes it, secrets masked unless `reveal`.
    pub fn to_json(&self, reveal: bool) -> Json {
        match self {
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Text(t) => Json::String(t.clone()),
            Value::Secret(s) if reveal => Json::String(s.expose().to_owned()),
            Value::Secret(s) => Json::String(s.masked().to_owned()),
            Value::IntList(v) => Json::from(v.clone()),
            Value::TextList(v) => Json::from(v.clone()),
        }
    }
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "JSON null",
        Json::Bool(_) => "JSON boolean",
        Json::Number(_) => "JSON number",
        Json::String(_) => "JSON string",
        Json::Array(_) => "JSON array",
        Json::Object(_) => "JSON object",
    }
}

fn value_from_json(key: FlatKey, json: &Json) -> Result<Value, ValueError> {
    let info = key.attribute.info();
    let mismatch = |found: &Json| ValueError::TypeMismatch {
        key,
        expected: info.value_type.to_string(),
        found: json_kind(found),
    };
    let scalar = *info.value_type.scalar();
    if info.value_type.is_list() {
        let items: Vec<&Json> = match json {
            Json::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        return if matches!(scalar, ScalarType::Int { .. }) {
            items
                .into_iter()
                .map(|j| int_from_json(j).ok_or_else(|| mismatch(j)))
                .collect::<Result<_, _>>()
                .map(Value::IntList)
        } else {
            items
                .into_iter()
                .map(|j| text_from_json(j).ok_or_else(|| mismatch(j)))
                .collect::<Result<_, _>>()
                .map(Value::TextList)
        };
    }
    match scalar {
        ScalarType::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            other => Err(mismatch(other)),
        },
        ScalarType::Int { .. } => int_from_json(json)
            .map(Value::Int)
            .ok_or_else(|| mismatch(json)),
        ScalarType::Text { .. } | ScalarType::Enum { .. } | ScalarType::Date => {
            let text = text_from_json(json).ok_or_else(|| mismatch(json))?;
            Ok(if info.secret {
                Value::Secret(Secret::from(text))
            } else {
                Value::Text(text)
            })
        }
    }
}

fn int_from_json(json: &Json) -> Option<i64> {
    match json {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Text, or a number written as text (a zip code given as `94105`).
fn text_from_json(json: &Json) -> Option<String> {
    match json {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
