//! Small typed conversions the generated [`User::get_field`](super::User) and
//! `set_field` arms call, so that each arm stays one line.

use super::{FlatKey, Value, ValueError};
use crate::secret::Secret;

fn mismatch(key: FlatKey, found: &Value) -> ValueError {
    ValueError::TypeMismatch {
        key,
        expected: key.attribute.info().value_type.to_string(),
        found: found.kind_name(),
    }
}

pub(super) fn take_bool(key: FlatKey, value: Option<Value>) -> Result<Option<bool>, ValueError> {
    match value {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(other) => Err(mismatch(key, &other)),
    }
}

pub(super) fn take_int(key: FlatKey, value: Option<Value>) -> Result<Option<i64>, ValueError> {
    match value {
        None => Ok(None),
        Some(Value::Int(i)) => Ok(Some(i)),
        Some(other) => Err(mismatch(key, &other)),
    }
}

pub(super) fn take_text(key: FlatKey, value: Option<Value>) -> Result<Option<String>, ValueError> {
    match value {
        None => Ok(None),
        Some(Value::Text(s)) => Ok(Some(s)),
        Some(other) => Err(mismatch(key, &other)),
    }
}

/// Plain text is accepted for a secret attribute and wrapped at once.
pub(super) fn take_secret(
    key: FlatKey,
    value: Option<Value>,
) -> Result<Option<Secret>, ValueError> {
    match value {
        None => Ok(None),
        Some(Value::Secret(s)) => Ok(Some(s)),
        Some(Value::Text(s)) => Ok(Some(Secret::from(s))),
        Some(other) => Err(mismatch(key, &other)),
    }
}

pub(super) fn take_int_list(
    key: FlatKey,
    value: Option<Value>,
) -> Result<Option<Vec<i64>>, ValueError> {
    match value {
        None => Ok(None),
        Some(Value::IntList(v)) => Ok(Some(v)),
        Some(other) => Err(mismatch(key, &other)),
    }
}

pub(super) fn take_text_list(
    key: FlatKey,
    value: Option<Value>,
) -> Result<Option<Vec<String>>, ValueError> {
    match value {
        None => Ok(None),
        Some(Value::TextList(v)) => Ok(Some(v)),
        Some(other) => Err(mismatch(key, &other)),
    }
}

/// The item for `key.slot` in a repeated group, created (with the slots before it)
/// only when a value is about to be stored in it.
pub(super) fn slot_mut<T: Default>(
    items: &mut Vec<T>,
    key: FlatKey,
    max: u8,
    grow: bool,
) -> Result<Option<&mut T>, ValueError> {
    if key.slot >= max {
        return Err(ValueError::SlotOutOfRange { key, max });
    }
    let slot = usize::from(key.slot);
    if slot >= items.len() {
        if !grow {
            return Ok(None);
        }
        items.resize_with(slot + 1, T::default);
    }
    Ok(items.get_mut(slot))
}
