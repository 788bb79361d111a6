//! The attribute catalogue at run time.
//!
//! `schema/user-attributes.tsv` is the single source of truth for every user
//! attribute; `generated.rs` is derived from it (see `codegen/`). This module holds
//! the hand-written types the generated code is made of: the metadata
//! ([`AttributeInfo`], [`ValueType`], [`Ops`], [`FeatureInfo`]) and the flat view of
//! a user ([`FlatKey`], [`Value`], [`FlatUser`]).
//!
//! ```
//! use wbxprov::schema::{Attribute, FlatKey, User, Value};
//!
//! let info = Attribute::PrivilegeHQvideo.info();
//! assert_eq!(info.path, "privilege/HQvideo");
//! assert_eq!(info.gate[0].as_ref(), "hqVideo");
//!
//! let mut user = User::default();
//! user.set("privilegeHQvideo".parse().unwrap(), Some(Value::Bool(true))).unwrap();
//! assert_eq!(user.privilege.hq_video, Some(true));
//! assert_eq!(user.get(FlatKey::new(Attribute::PrivilegeHQvideo)), Some(Value::Bool(true)));
//! ```

mod access;
#[rustfmt::skip]
mod generated;
mod json;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub use generated::*;

use crate::secret::Secret;

/// The XML namespace an element belongs to in the namespace-qualified form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ns {
    /// `http://www.webex.com/schemas/2002/06/service/user` (prefix `use:`).
    User,
    /// `http://www.webex.com/schemas/2002/06/common` (prefix `com:`).
    Common,
}

/// One element of an attribute's path under `bodyContent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    /// The namespace the element is in (its prefix in the namespace-qualified form).
    pub ns: Ns,
    /// The element's local name, e.g. `tspAccount`.
    pub name: &'static str,
}

/// Marks an attribute that sits inside a repeated group such as `tspAccount/tspAccount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repeat {
    /// Index in [`AttributeInfo::segments`] of the element that repeats.
    pub depth: usize,
    /// How many times it may appear.
    pub max: u8,
}

/// The width of an integer attribute, from its XSD type: the validator refuses values outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntKind {
    /// `xsd:int` / `xsd:integer`: 32-bit.
    Int32,
    /// `xsd:long`: 64-bit.
    Int64,
}

/// A named text format the validator checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextFormat {
    /// An email address, checked as the `validator` crate checks one (no Webex document gives
    /// the rule: our own reading).
    Email,
    /// `country,area,local` digits, e.g. `1,408,5551212`.
    Phone,
    /// Letters, digits, `_`, `-` and `.` (seed 003).
    PersonalUrl,
}

/// The type of one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// `true`/`false` (XSD `xsd:boolean`).
    Bool,
    /// An integer of the given width, optionally bounded (both bounds come from the catalogue's
    /// `int(min..max)`).
    Int {
        /// 32- or 64-bit, from the XSD type.
        kind: IntKind,
        /// The smallest value allowed, if the catalogue gives a range.
        min: Option<i64>,
        /// The largest value allowed, if the catalogue gives a range.
        max: Option<i64>,
    },
    /// Text, optionally limited in length and checked against a named format.
    Text {
        /// The longest value the site takes, in characters (the catalogue's `string(n)`).
        max_len: Option<u32>,
        /// A format the validator checks beyond the length.
        format: Option<TextFormat>,
    },
    /// One of a fixed set of values (the catalogue's `enum(...)`, or the Webex time-zone names).
    Enum {
        /// The values allowed, spelled as on the wire.
        values: &'static [&'static str],
    },
    /// `MM/DD/YYYY HH:MM:SS`.
    Date,
}

/// The type of an attribute: one value, or a list of values (one element each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// One value: one element on the wire.
    Scalar(ScalarType),
    /// A list of values: a wrapper element with one item element per value.
    List(ScalarType),
}

impl ValueType {
    /// The type of each value, whether the attribute holds one value or a list.
    pub fn scalar(&self) -> &ScalarType {
        match self {
            ValueType::Scalar(s) | ValueType::List(s) => s,
        }
    }

    /// Whether the attribute holds a list of values (one element each on the wire).
    pub fn is_list(&self) -> bool {
        matches!(self, ValueType::List(_))
    }
}

impl fmt::Display for ScalarType {
    /// The catalogue's spelling, without enum values: `string(64,phone)`, `int(1..3)`, `enum`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScalarType::Bool => f.write_str("bool"),
            ScalarType::Date => f.write_str("date"),
            ScalarType::Enum { .. } => f.write_str("enum"),
            ScalarType::Int { kind, min, max } => {
                f.write_str(match kind {
                    IntKind::Int32 => "int",
                    IntKind::Int64 => "long",
                })?;
                match (min, max) {
                    (Some(a), Some(b)) => write!(f, "({a}..{b})"),
                    _ => Ok(()),
                }
            }
            ScalarType::Text { max_len, format } => {
                f.write_str("string")?;
                let format = format.map(|fm| match fm {
                    TextFormat::Email => "email",
                    TextFormat::Phone => "phone",
                    TextFormat::PersonalUrl => "personal-url",
                });
                match (max_len, format) {
                    (None, None) => Ok(()),
                    (Some(n), None) => write!(f, "({n})"),
                    (None, Some(fm)) => write!(f, "(,{fm})"),
                    (Some(n), Some(fm)) => write!(f, "({n},{fm})"),
                }
            }
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::Scalar(s) => s.fmt(f),
            ValueType::List(s) => write!(f, "list({s})"),
        }
    }
}

/// The operations an attribute may appear in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ops {
    /// CreateUser.
    pub create: bool,
    /// SetUser (update).
    pub set: bool,
    /// GetUser (read): false for write-only attributes such as `password`.
    pub get: bool,
}

impl Ops {
    /// `["create", "set", "get"]`, the allowed ones only.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.create, "create"),
            (self.set, "set"),
            (self.get, "get"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// Everything the catalogue says about one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttributeInfo {
    /// The attribute this entry describes (its index in [`ATTRIBUTES`]).
    pub attribute: Attribute,
    /// The flat name (seed 003's spelling where it has one).
    pub name: &'static str,
    /// The XML path under `bodyContent`, e.g. `tspAccount/tspAccount/accountIndex`.
    pub path: &'static str,
    /// The path's elements with their namespaces, for the namespace-qualified request form.
    pub segments: &'static [Segment],
    /// Set when the attribute sits inside a repeated group (which segment repeats, how often).
    pub repeat: Option<Repeat>,
    /// The value's type, as the catalogue's `type` column spells it.
    pub value_type: ValueType,
    /// The operations (CreateUser, SetUser, GetUser) the attribute may appear in.
    pub ops: Ops,
    /// The site features that must all be on for a non-default value.
    pub gate: &'static [Feature],
    /// Never shown: masked in `Debug`, reports and messages.
    pub secret: bool,
    /// Needed in every request that names a user (`webExId`).
    pub required: bool,
    /// Owned by the Webex identity on Control-Hub-managed sites: the XML API cannot change it there.
    pub identity: bool,
    /// No two users of a site may share the value (case aside): the service refuses
    /// a second one (030004 for webExId, 030005 for email).
    pub unique: bool,
    /// The site keeps the value in step with other attributes (a time zone's
    /// ID, name and DST name; a language and its ID): after a SetUser of one,
    /// only a GetUser tells the others.
    pub coupled: bool,
    /// The API that owns it on Control-Hub-managed sites (the catalogue's
    /// `controlHub` column; its `source` cites the evidence).
    pub control_hub: ControlHubApi,
    /// One line saying what the attribute means (the catalogue's `description` column).
    pub description: &'static str,
    /// Where the row's decisions came from.
    pub source: &'static str,
}

/// Which API owns an attribute on a Control-Hub-managed site.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, strum::Display, strum::EnumString, serde::Serialize,
)]
#[strum(serialize_all = "camelCase")]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ControlHubApi {
    /// The Webex identity (SCIM 2 Users).
    Identity,
    /// The XML API's SetUser (the user service, exempt from its end of life).
    Xml,
    /// `PUT /v1/admin/meeting/userconfig/sessionTypes`.
    SessionTypes,
    /// `PUT /v1/admin/meeting/userconfig/trackingCodes`.
    TrackingCodes,
    /// `/v1/meetingPreferences/*`.
    Preferences,
    /// Owned by the identity and carried by no API wbxprov speaks.
    None,
}

impl Attribute {
    /// The catalogue entry of this attribute.
    pub fn info(self) -> &'static AttributeInfo {
        &ATTRIBUTES[self as usize]
    }

    /// The flat name, e.g. `privilegeHQvideo`.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Whether a feature comes from documented behaviour or from a reading of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeatureBasis {
    /// Cisco's own admin UI reads this GetSite flag for this purpose.
    Documented,
    /// A best reading of the site settings; a site profile may override it by hand.
    Inferred,
}

/// A site feature: its name, where GetSite reports it, and how sure we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeatureInfo {
    /// The feature this entry describes (its index in [`FEATURES`]).
    pub feature: Feature,
    /// The feature's name as site profiles and messages spell it, e.g. `hqVideo`.
    pub name: &'static str,
    /// Relative to `siteInstance` in a GetSite response.
    pub getsite_path: &'static str,
    /// Whether Cisco documents the GetSite flag for this purpose or it is our own reading.
    pub basis: FeatureBasis,
    /// For the five services (Meeting Center …): the service type name used by
    /// `sessionOptionsDefaultServiceType` and LstMeetingType, e.g. `MeetingCenter`.
    pub service: Option<&'static str>,
    /// One line saying what the feature is (the catalogue's `description` column).
    pub description: &'static str,
    /// The evidence for the GetSite element and for what it gates.
    pub source: &'static str,
}

impl Feature {
    /// The catalogue entry of this feature (schema/site-features.tsv).
    pub fn info(self) -> &'static FeatureInfo {
        &FEATURES[self as usize]
    }

    /// The attributes this feature gates, in catalogue order.
    pub fn gated_attributes(self) -> impl Iterator<Item = &'static AttributeInfo> {
        ATTRIBUTES.iter().filter(move |a| a.gate.contains(&self))
    }
}

/// Addresses one value of a user: an attribute and, inside a repeated group
/// (`tspAccount`, `personalTeleconf/account`, `thirdPartyTeleconf/account`), which
/// occurrence. Written `tspAccountTollCallInNumber` for the first occurrence and
/// `tspAccountTollCallInNumber[2]` for the second.
///
/// The slot is the position in the list on the wire, not the `accountIndex`
/// element, which is an attribute of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlatKey {
    /// The attribute the value belongs to.
    pub attribute: Attribute,
    /// Zero-based occurrence; always 0 outside repeated groups.
    pub slot: u8,
}

impl FlatKey {
    /// The key of a non-repeated attribute, or of the first occurrence of a repeated one.
    pub fn new(attribute: Attribute) -> Self {
        FlatKey { attribute, slot: 0 }
    }

    /// The key of occurrence `slot` (zero-based) of an attribute in a repeated group. The slot is
    /// not checked here: [`User::set`] and [`FlatKey::from_str`](std::str::FromStr) refuse one
    /// past the group's maximum.
    pub fn with_slot(attribute: Attribute, slot: u8) -> Self {
        FlatKey { attribute, slot }
    }
}

/// Flat keys sort in wire order: catalogue order, except that the attributes of a
/// repeated group sort by occurrence first, so each occurrence stays together.
impl Ord for FlatKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl FlatKey {
    /// (first attribute of the repeated group or the attribute itself, slot,
    /// attribute): groups are contiguous in the catalogue, so this is wire order.
    /// Cheap, because `FlatUser` lookups compare keys many times.
    fn sort_key(&self) -> (u16, u8, u16) {
        (
            group_start(self.attribute),
            self.slot,
            self.attribute as u16,
        )
    }
}

impl Attribute {
    /// For an attribute inside a repeated group, the group's first attribute:
    /// the same for every attribute of the group.
    pub fn repeated_group(self) -> Option<Attribute> {
        self.info()
            .repeat
            .map(|_| ATTRIBUTES[usize::from(group_start(self))].attribute)
    }
}

/// The first attribute of `attribute`'s repeated group (itself outside groups).
fn group_start(attribute: Attribute) -> u16 {
    static STARTS: std::sync::OnceLock<Vec<u16>> = std::sync::OnceLock::new();
    let starts = STARTS.get_or_init(|| {
        let group = |a: &AttributeInfo| a.repeat.map(|r| &a.segments[..=r.depth]);
        ATTRIBUTES
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let start = match group(a) {
                    None => i,
                    Some(g) => ATTRIBUTES
                        .iter()
                        .position(|b| group(b) == Some(g))
                        .expect("an attribute is in its own group"),
                };
                u16::try_from(start).expect("fewer than 65536 attributes")
            })
            .collect()
    });
    starts[attribute as usize]
}

impl PartialOrd for FlatKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for FlatKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.attribute.name())?;
        if self.slot > 0 {
            write!(f, "[{}]", u16::from(self.slot) + 1)?;
        }
        Ok(())
    }
}

impl FromStr for FlatKey {
    type Err = ValueError;

    /// `name` or `name[n]` with n counted from 1.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || ValueError::UnknownAttribute(s.to_owned());
        let (name, slot) = match s.strip_suffix(']').and_then(|r| r.split_once('[')) {
            Some((name, n)) => {
                let n: u8 = n.parse().map_err(|_| unknown())?;
                (name, n.checked_sub(1).ok_or_else(unknown)?)
            }
            None => (s, 0),
        };
        let attribute = Attribute::from_str(name).map_err(|_| unknown())?;
        let key = FlatKey { attribute, slot };
        check_slot(key)?;
        Ok(key)
    }
}

fn check_slot(key: FlatKey) -> Result<(), ValueError> {
    match key.attribute.info().repeat {
        Some(r) if key.slot >= r.max => Err(ValueError::SlotOutOfRange { key, max: r.max }),
        None if key.slot > 0 => Err(ValueError::SlotOutOfRange { key, max: 1 }),
        _ => Ok(()),
    }
}

/// One typed value of an attribute. Enumerations and dates are [`Value::Text`];
/// the catalogue type says which values are valid.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An `xsd:boolean`.
    Bool(bool),
    /// An integer (`xsd:int` or `xsd:long`; the catalogue type gives the range).
    Int(i64),
    /// Text, an enumeration value or a date (`MM/DD/YYYY HH:MM:SS`).
    Text(String),
    /// A text value of a secret attribute (`password`, PINs, access codes).
    Secret(Secret),
    /// The values of a list attribute of integers, in wire order.
    IntList(Vec<i64>),
    /// The values of a list attribute of text, in wire order.
    TextList(Vec<String>),
}

impl Value {
    /// What kind of value this is, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "bool",
            Value::Int(_) => "integer",
            Value::Text(_) => "text",
            Value::Secret(_) => "secret text",
            Value::IntList(_) => "list of integers",
            Value::TextList(_) => "list of text",
        }
    }
}

/// Why a value could not be stored under a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The name is not in the catalogue (or its `[n]` suffix is malformed); holds the name as
    /// given.
    #[error("`{0}` is not a catalogue attribute (see `wbxprov attrs`)")]
    UnknownAttribute(String),
    /// The value's kind does not match the attribute's catalogue type.
    #[error("{key}: expected {expected}, got {found}")]
    TypeMismatch {
        /// The attribute (and slot) the value was meant for.
        key: FlatKey,
        /// The catalogue type the attribute wants, e.g. `bool`.
        expected: String,
        /// The kind of value given ([`Value::kind_name`]).
        found: &'static str,
    },
    /// The slot is past the number of occurrences the repeated group allows.
    #[error("{key}: at most {max} occurrence(s) allowed")]
    SlotOutOfRange {
        /// The attribute and the slot asked for.
        key: FlatKey,
        /// How many occurrences the group allows (1 outside repeated groups).
        max: u8,
    },
}

impl User {
    /// The value under `key`, if set.
    pub fn get(&self, key: FlatKey) -> Option<Value> {
        check_slot(key).ok()?;
        self.get_field(key)
    }

    /// Stores a value under `key`, or clears it with `None`.
    pub fn set(&mut self, key: FlatKey, value: Option<Value>) -> Result<(), ValueError> {
        check_slot(key)?;
        self.set_field(key, value)
    }

    /// Every value that is set, keyed by flat key, in wire order.
    pub fn to_flat(&self) -> FlatUser {
        let mut flat = FlatUser::default();
        for info in ATTRIBUTES.iter() {
            let slots = info.repeat.map_or(1, |r| r.max);
            for slot in 0..slots {
                let key = FlatKey::with_slot(info.attribute, slot);
                if let Some(v) = self.get_field(key) {
                    flat.0.insert(key, v);
                }
            }
        }
        flat
    }

    /// Builds a user from flat values; fails on the first value of the wrong type.
    pub fn from_flat(flat: &FlatUser) -> Result<User, ValueError> {
        let mut user = User::default();
        for (key, value) in flat.iter() {
            user.set(*key, Some(value.clone()))?;
        }
        Ok(user)
    }
}

/// A user as a flat map from [`FlatKey`] to [`Value`], ordered as on the wire.
/// This is the shape provisioning platforms and sources speak (one column or
/// JSON key per attribute).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlatUser(BTreeMap<FlatKey, Value>);

impl FlatUser {
    /// An empty user.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value` under `key` (replacing and returning any old value). Types are not
    /// checked here:
    /// [`User::from_flat`] checks them against the catalogue.
    pub fn insert(&mut self, key: FlatKey, value: Value) -> Option<Value> {
        self.0.insert(key, value)
    }

    /// The value under `key`, if set.
    pub fn get(&self, key: &FlatKey) -> Option<&Value> {
        self.0.get(key)
    }

    /// Removes and returns the value under `key`.
    pub fn remove(&mut self, key: &FlatKey) -> Option<Value> {
        self.0.remove(key)
    }

    /// Every value, in wire order (see [`FlatKey`]'s ordering).
    pub fn iter(&self) -> impl Iterator<Item = (&FlatKey, &Value)> {
        self.0.iter()
    }

    /// How many values are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no value is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The non-empty text of attribute `a` (first occurrence).
    pub fn text(&self, a: Attribute) -> Option<&str> {
        match self.get(&FlatKey::new(a)) {
            Some(Value::Text(t)) if !t.is_empty() => Some(t),
            _ => None,
        }
    }

    /// The `webExId` value, which names the user in every request.
    pub fn web_ex_id(&self) -> Option<&str> {
        match self.get(&FlatKey::new(Attribute::WebExId)) {
            Some(Value::Text(id)) => Some(id),
            _ => None,
        }
    }
}

impl FromIterator<(FlatKey, Value)> for FlatUser {
    fn from_iter<I: IntoIterator<Item = (FlatKey, Value)>>(iter: I) -> Self {
        FlatUser(iter.into_iter().collect())
    }
}

impl IntoIterator for FlatUser {
    type Item = (FlatKey, Value);
    type IntoIter = std::collections::btree_map::IntoIter<FlatKey, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
