//! SCIM PATCH (RFC 7644 §3.5.2) on a User resource, in the shapes identity
//! providers really send: `op` in any case (Entra: "Replace"), booleans as
//! strings ("False"), `replace` without a path whose value map has dotted or
//! URN-qualified keys, value-filtered paths (`emails[type eq "work"].value`).

use serde_json::{Map, Value as Json};

use super::error::ScimType;
use super::filter::{Filter, FilterError};
use super::schemas::enterprise_schema;
use super::user::{CORE, ENTERPRISE, EXTENSION};

/// The most dot-separated parts a path may have after its schema URN. RFC
/// 7644 §3.10 allows one sub-attribute; a few more are tolerated, but not so
/// many that a path builds an object deep enough to exhaust the stack.
pub const MAX_PATH_PARTS: usize = 8;

/// Why a PatchOp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// A malformed operation or path: `invalidPath`.
    #[error("{0}")]
    Path(String),
    /// The filter of a value path (`emails[…]`): `invalidFilter`.
    #[error("the filter in path {path:?}: {error}")]
    Filter {
        /// The operation's path.
        path: String,
        /// What is wrong with its filter.
        error: FilterError,
    },
    /// An operation with no target: `remove` without a path (RFC 7644
    /// §3.5.2.2 names `noTarget` for it).
    #[error("{0}")]
    NoTarget(String),
}

impl PatchError {
    /// The SCIM error type of the 400 answer (RFC 7644 §3.12).
    pub fn scim_type(&self) -> ScimType {
        match self {
            PatchError::Path(_) => ScimType::InvalidPath,
            PatchError::Filter { .. } => ScimType::InvalidFilter,
            PatchError::NoTarget(_) => ScimType::NoTarget,
        }
    }
}

impl From<&str> for PatchError {
    fn from(detail: &str) -> Self {
        PatchError::Path(detail.to_owned())
    }
}

impl From<String> for PatchError {
    fn from(detail: String) -> Self {
        PatchError::Path(detail)
    }
}

/// For answers that carry only a detail (the simulated identity API).
impl From<PatchError> for String {
    fn from(e: PatchError) -> Self {
        e.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Applies a PatchOp body to `resource` (a SCIM User as JSON).
pub fn apply(resource: &mut Json, body: &Json) -> Result<(), PatchError> {
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Json::as_array)
        .ok_or("a PatchOp needs Operations")?;
    for operation in ops {
        let op = match operation
            .get("op")
            .and_then(Json::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("add") => Op::Add,
            Some("replace") => Op::Replace,
            Some("remove") => Op::Remove,
            other => return Err(format!("unknown op {other:?}").into()),
        };
        let value = operation.get("value").cloned().unwrap_or(Json::Null);
        match operation.get("path").and_then(Json::as_str) {
            Some(path) => at_path(resource, path, op, value)?,
            None if op == Op::Remove => {
                return Err(PatchError::NoTarget("remove needs a path".into()));
            }
            None => {
                let Json::Object(map) = value else {
                    return Err("an operation without a path needs an object value".into());
                };
                for (key, v) in map {
                    at_path(resource, &key, op, v)?;
                }
            }
        }
    }
    Ok(())
}

/// Splits `urn:…:User:attr.sub` into the schema's container key and the rest.
fn split_schema(path: &str) -> (Option<&'static str>, &str) {
    for urn in [EXTENSION, ENTERPRISE, CORE] {
        // `get`: the byte where the URN would end may be inside a character.
        if path
            .get(..urn.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(urn))
            && path.as_bytes().get(urn.len()) == Some(&b':')
        {
            let rest = &path[urn.len() + 1..];
            return ((urn != CORE).then_some(urn), rest);
        }
    }
    // Entra's tutorial (Example 5) names the enterprise `manager` without
    // its URN; no core attribute shares an enterprise attribute's name
    // (RFC 7643 §4.1, §4.3), so such a path can only mean the enterprise one.
    let name = path.split(['.', '[']).next().unwrap_or_default();
    if is_enterprise_attribute(name) {
        return (Some(ENTERPRISE), path);
    }
    (None, path)
}

/// `name` is an attribute of the enterprise extension, as its published
/// schema lists them (`/Schemas`).
fn is_enterprise_attribute(name: &str) -> bool {
    static NAMES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        enterprise_schema()["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["name"].as_str().map(str::to_owned))
            .collect()
    });
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

fn field<'a>(map: &'a mut Map<String, Json>, name: &str) -> &'a mut Json {
    let key = map
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_owned());
    map.entry(key).or_insert(Json::Null)
}

fn at_path(resource: &mut Json, path: &str, op: Op, value: Json) -> Result<(), PatchError> {
    // A whole extension (`urn:…:enterprise:2.0:User`) is a complex attribute of the root.
    if let Some(urn) = [EXTENSION, ENTERPRISE]
        .into_iter()
        .find(|u| u.eq_ignore_ascii_case(path))
    {
        let root = resource
            .as_object_mut()
            .ok_or("the resource is not an object")?;
        return complex(root, urn, op, value);
    }
    let (schema, rest) = split_schema(path);
    let root = resource
        .as_object_mut()
        .ok_or("the resource is not an object")?;
    let mut target: &mut Map<String, Json> = root;
    if let Some(urn) = schema {
        let container = field(target, urn);
        if !container.is_object() {
            *container = Json::Object(Map::new());
        }
        target = container.as_object_mut().expect("just made an object");
    }
    // `attr[filter].sub`
    if let Some(open) = rest.find('[') {
        let close = rest
            .rfind(']')
            .filter(|&close| close > open)
            .ok_or("unclosed [ in path")?;
        let attribute = &rest[..open];
        let filter: Filter = rest[open + 1..close]
            .parse()
            .map_err(|error| PatchError::Filter {
                path: path.chars().take(100).collect(),
                error,
            })?;
        let sub = rest[close + 1..].strip_prefix('.');
        let list = field(target, attribute);
        if !list.is_array() {
            *list = Json::Array(Vec::new());
        }
        let items = list.as_array_mut().expect("just made an array");
        let mut matched = false;
        for item in items.iter_mut().filter(|i| filter.matches(i)) {
            matched = true;
            match (op, sub) {
                (Op::Remove, None) => *item = Json::Null,
                (Op::Remove, Some(s)) => {
                    if let Some(m) = item.as_object_mut() {
                        m.retain(|k, _| !k.eq_ignore_ascii_case(s));
                    }
                }
                (_, Some(s)) => {
                    if let Some(m) = item.as_object_mut() {
                        *field(m, s) = value.clone();
                    }
                }
                (_, None) => *item = value.clone(),
            }
        }
        items.retain(|i| !i.is_null());
        // `add`/`replace` on a filter matching nothing creates the item (Entra does this).
        if !matched && op != Op::Remove {
            let mut item = Map::new();
            if let Filter::Compare { path, value: v, .. } = &filter {
                item.insert(path.clone(), v.clone());
            }
            match sub {
                Some(s) => {
                    item.insert(s.to_owned(), value);
                }
                None => {
                    if let Json::Object(m) = value {
                        item.extend(m);
                    }
                }
            }
            items.push(Json::Object(item));
        }
        return Ok(());
    }
    // `a.b.c`
    let parts: Vec<&str> = rest.splitn(MAX_PATH_PARTS + 1, '.').collect();
    if parts.len() > MAX_PATH_PARTS {
        return Err(format!("path {rest:.100}… has more than {MAX_PATH_PARTS} parts").into());
    }
    let (last, parents) = parts.split_last().ok_or("empty path")?;
    for p in parents {
        let next = field(target, p);
        if !next.is_object() {
            *next = Json::Object(Map::new());
        }
        target = next.as_object_mut().expect("just made an object");
    }
    complex(target, last, op, value)
}

/// `op` on attribute `name` of `target`. On a complex attribute, add and
/// replace both set the sub-attributes given and leave the others
/// (RFC 7644 §3.5.2.1, §3.5.2.3).
fn complex(
    target: &mut Map<String, Json>,
    name: &str,
    op: Op,
    value: Json,
) -> Result<(), PatchError> {
    let last = name;
    match op {
        Op::Remove => {
            target.retain(|k, _| !k.eq_ignore_ascii_case(last));
        }
        Op::Replace if !matches!(value, Json::Object(_)) => *field(target, last) = value,
        Op::Add | Op::Replace => {
            let slot = field(target, last);
            match (slot, value) {
                (Json::Array(items), Json::Array(more)) => {
                    // `type` is unique within a multi-valued attribute: a new
                    // item of a type already present takes its place.
                    let type_of = |i: &Json| {
                        i.get("type")
                            .and_then(Json::as_str)
                            .map(str::to_ascii_lowercase)
                    };
                    for item in more {
                        if let Some(t) = type_of(&item) {
                            items.retain(|i| type_of(i).as_deref() != Some(t.as_str()));
                        }
                        items.push(item);
                    }
                }
                (Json::Object(m), Json::Object(more)) => m.extend(more),
                (slot, v) => *slot = v,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replace(path: &str) -> Result<(), PatchError> {
        let mut user = json!({"userName": "ann", "emails": [{"type": "work", "value": "a@b.c"}]});
        apply(
            &mut user,
            &json!({"Operations": [{"op": "replace", "path": path, "value": "x"}]}),
        )
    }

    /// Paths a client controls once made slicing panic: a `]` before the `[`,
    /// a multi-byte character where a schema URN would end.
    /// RFC 7644 §3.5.2.2: "If \"path\" is unspecified, the operation fails
    /// with HTTP status code 400 and a \"scimType\" error code of \"noTarget\"."
    #[test]
    fn remove_without_a_path_is_no_target() {
        let mut user = json!({"userName": "ann"});
        let refused = apply(&mut user, &json!({"Operations": [{"op": "Remove"}]})).unwrap_err();
        assert_eq!(refused.scim_type(), ScimType::NoTarget);
    }

    /// Entra's tutorial, "Example 5. Update a user (manager)", names the
    /// enterprise `manager` without its schema URN; no core attribute has an
    /// enterprise attribute's name, so the path can only mean that one.
    #[test]
    fn an_enterprise_attribute_named_without_its_urn_is_the_enterprise_one() {
        let mut user = json!({"userName": "ann", ENTERPRISE: {"costCenter": "4130"}});
        let manager = json!([{"$ref": "http://h/Users/m-1", "value": "m-1"}]);
        apply(
            &mut user,
            &json!({"Operations": [
                {"op": "Add", "path": "manager", "value": manager},
                {"op": "replace", "value": {"Department": "Sales"}},
            ]}),
        )
        .unwrap();
        assert_eq!(
            user,
            json!({"userName": "ann", ENTERPRISE: {"costCenter": "4130", "manager": manager, "Department": "Sales"}})
        );
    }

    #[test]
    fn malformed_paths_are_refused_not_panicking() {
        assert_eq!(
            replace("a]b[c").unwrap_err().scim_type(),
            ScimType::InvalidPath
        );
        for urn in [CORE, ENTERPRISE, EXTENSION] {
            let straddling = format!("{}é{}", "x".repeat(urn.len() - 1), "y");
            assert!(replace(&straddling).is_ok(), "an unknown attribute is set");
        }
    }
}
