//! A string that must never be shown: passwords, PINs, access codes, tokens,
//! session tickets.
//!
//! `Debug` prints `***`, there is no `Display`, serde serialization writes `***`,
//! and the memory is zeroed on drop. The only way to the text is
//! [`Secret::expose`], which makes every use greppable.

use std::fmt;

use zeroize::Zeroize;

/// A secret string. See the module documentation.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

/// What a masked secret looks like wherever wbxprov prints one.
pub const MASK: &str = "***";

impl Secret {
    /// Wraps a secret value; from here on it is masked in `Debug` and zeroed when dropped.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret text. Call only to put it on the wire or to compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string (an empty `<PIN></PIN>` is no PIN).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How the secret is shown: [`MASK`] when set, empty when empty (an empty
    /// `<PIN></PIN>` is no PIN, and saying so reveals nothing).
    pub fn masked(&self) -> &'static str {
        if self.is_empty() { "" } else { MASK }
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_serde_never_show_the_value() {
        let s = Secret::new("hunter2-Pa55");
        assert_eq!(format!("{s:?}"), MASK);
        assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "hunter2-Pa55");
    }

    #[test]
    fn an_empty_secret_is_shown_empty_a_set_one_masked() {
        assert_eq!(serde_json::to_string(&Secret::default()).unwrap(), "\"\"");
        assert_eq!(serde_json::to_string(&Secret::new("1")).unwrap(), "\"***\"");
    }
}
