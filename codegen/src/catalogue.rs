//! Reads and checks the three tables of `schema/`. Every rule that keeps the
//! catalogue consistent lives here, so a bad row fails generation with its line
//! number instead of producing code that merely compiles.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A problem in one of the schema tables, with the file and line it came from.
#[derive(Debug)]
pub struct SchemaError {
    /// The table, e.g. `user-attributes.tsv`.
    pub file: &'static str,
    /// The 1-based line of the row at fault; 0 when the problem is the whole table's.
    pub line: usize,
    /// What is wrong, and where in the row.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "schema/{}: {}", self.file, self.message),
            line => write!(f, "schema/{}:{line}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for SchemaError {}

pub const ATTRIBUTES_FILE: &str = "user-attributes.tsv";
pub const FEATURES_FILE: &str = "site-features.tsv";
pub const TIME_ZONES_FILE: &str = "time-zones.tsv";
pub const LANGUAGES_FILE: &str = "languages.tsv";

/// One Webex time zone: its name (`timeZone`), the IANA zones that mean it
/// (the first the one SCIM answers), and whether the GMT offset in its name
/// is still the first zone's standard offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneRow {
    pub name: String,
    pub iana: Vec<String>,
    pub label_matches: bool,
}

/// A Webex `language` or `locale` value and the BCP-47 tags that mean it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageRow {
    pub webex: String,
    /// `None` for a locale.
    pub language_id: Option<i64>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    User,
    Common,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub ns: Ns,
    pub name: String,
    /// `Some(max)` when this element repeats (written `name[max]` in the path).
    pub repeat: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntKind {
    Int32,
    Int64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    Email,
    Phone,
    PersonalUrl,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    Bool,
    Int {
        kind: IntKind,
        min: Option<i64>,
        max: Option<i64>,
    },
    Text {
        max_len: Option<u32>,
        format: Option<TextFormat>,
    },
    /// `values` is `None` for the time-zone enumeration, which lives in its own table.
    Enum {
        values: Option<Vec<String>>,
    },
    Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueType {
    Scalar(Scalar),
    List(Scalar),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ops {
    pub create: bool,
    pub set: bool,
    pub get: bool,
}

#[derive(Debug, Clone)]
pub struct AttributeRow {
    pub line: usize,
    pub name: String,
    pub path_text: String,
    pub segments: Vec<Segment>,
    pub value_type: ValueType,
    pub ops: Ops,
    pub gate: Vec<String>,
    pub secret: bool,
    pub required: bool,
    pub identity: bool,
    pub unique: bool,
    /// The site keeps the value in step with other attributes (`coupled`).
    pub coupled: bool,
    pub field_override: Option<String>,
    /// The API that owns it on Control-Hub-managed sites (`controlHub`).
    pub control_hub: String,
    pub description: String,
    pub source: String,
}

impl AttributeRow {
    /// The path without namespace prefixes or repeat counts, as users see it.
    pub fn plain_path(&self) -> String {
        self.segments
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Index of the repeated segment and its maximum, if the attribute sits in a repeated group.
    pub fn repeat(&self) -> Option<(usize, u8)> {
        self.segments
            .iter()
            .enumerate()
            .find_map(|(i, s)| s.repeat.map(|m| (i, m)))
    }

    pub fn is_list(&self) -> bool {
        matches!(self.value_type, ValueType::List(_))
    }
}

#[derive(Debug, Clone)]
pub struct FeatureRow {
    pub name: String,
    pub getsite_path: String,
    pub inferred: bool,
    /// The service type name, for the features that are services.
    pub service: Option<String>,
    pub description: String,
    /// The evidence for the GetSite element and for the attributes it gates.
    pub source: String,
}

/// The four schema tables, parsed and checked against each other: what the generated
/// module is rendered from.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// `user-attributes.tsv`, in row (element) order.
    pub attributes: Vec<AttributeRow>,
    /// `site-features.tsv`, in row order.
    pub features: Vec<FeatureRow>,
    /// `time-zones.tsv`, by `timeZoneID`.
    pub time_zones: Vec<TimeZoneRow>,
    /// The `language` rows of `languages.tsv`.
    pub languages: Vec<LanguageRow>,
    /// The `locale` rows of `languages.tsv`.
    pub locales: Vec<LanguageRow>,
}

/// The data rows of a TSV file: comments (`#`) and blank lines skipped, the header checked.
fn rows<'a>(
    file: &'static str,
    text: &'a str,
    header: &[&str],
) -> Result<Vec<(usize, Vec<&'a str>)>, SchemaError> {
    let mut out = Vec::new();
    let mut seen_header = false;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        if !seen_header {
            if cells != header {
                return Err(SchemaError {
                    file,
                    line: line_no,
                    message: format!("expected the header `{}`", header.join("<TAB>")),
                });
            }
            seen_header = true;
            continue;
        }
        if cells.len() != header.len() {
            return Err(SchemaError {
                file,
                line: line_no,
                message: format!(
                    "expected {} tab-separated cells, found {}",
                    header.len(),
                    cells.len()
                ),
            });
        }
        if let Some(c) = cells.iter().position(|c| c.trim() != *c || c.is_empty()) {
            return Err(SchemaError {
                file,
                line: line_no,
                message: format!(
                    "cell `{}` is empty or has surrounding spaces (write `-` for none)",
                    header[c]
                ),
            });
        }
        out.push((line_no, cells));
    }
    Ok(out)
}

impl Catalogue {
    /// Parses the four tables given as text and checks them: every gate names a feature,
    /// the paths make one element tree.
    ///
    /// # Errors
    ///
    /// The first problem found, with its file and line.
    pub fn parse(
        attributes: &str,
        features: &str,
        time_zones: &str,
        languages: &str,
    ) -> Result<Self, SchemaError> {
        let features = parse_features(features)?;
        let time_zones = parse_time_zones(time_zones)?;
        let (languages, locales) = parse_languages(languages)?;
        let feature_names: BTreeSet<&str> = features.iter().map(|f| f.name.as_str()).collect();
        let attributes = parse_attributes(attributes, &feature_names)?;
        check_structure(&attributes)?;
        Ok(Catalogue {
            attributes,
            features,
            time_zones,
            languages,
            locales,
        })
    }
}

fn parse_features(text: &str) -> Result<Vec<FeatureRow>, SchemaError> {
    let mut out: Vec<FeatureRow> = Vec::new();
    for (line, c) in rows(
        FEATURES_FILE,
        text,
        &[
            "name",
            "getsite_path",
            "basis",
            "service",
            "description",
            "source",
        ],
    )? {
        let err = |message: String| SchemaError {
            file: FEATURES_FILE,
            line,
            message,
        };
        if !is_identifier(c[0]) {
            return Err(err(format!("feature name `{}` is not an identifier", c[0])));
        }
        if out.iter().any(|f| f.name == c[0]) {
            return Err(err(format!("feature `{}` is listed twice", c[0])));
        }
        let inferred = match c[2] {
            "documented" => false,
            "inferred" => true,
            other => {
                return Err(err(format!(
                    "basis must be `documented` or `inferred`, not `{other}`"
                )));
            }
        };
        let service = match c[3] {
            "-" => None,
            s if is_identifier(s) => Some(s.to_owned()),
            other => return Err(err(format!("service `{other}` is not an identifier"))),
        };
        // A gate without evidence is a guess the validator would enforce (issue 16).
        if c[5] == "-" {
            return Err(err(format!("feature `{}` cites no source", c[0])));
        }
        out.push(FeatureRow {
            name: c[0].to_owned(),
            getsite_path: c[1].to_owned(),
            inferred,
            service,
            description: c[4].to_owned(),
            source: c[5].to_owned(),
        });
    }
    Ok(out)
}

fn parse_time_zones(text: &str) -> Result<Vec<TimeZoneRow>, SchemaError> {
    let mut out: Vec<TimeZoneRow> = Vec::new();
    let mut seen = BTreeSet::new();
    let header = ["id", "name", "iana", "label", "source"];
    for (line, c) in rows(TIME_ZONES_FILE, text, &header)? {
        let err = |message: String| SchemaError {
            file: TIME_ZONES_FILE,
            line,
            message,
        };
        if c[0] != out.len().to_string() {
            return Err(err(format!(
                "ids must count up from 0; expected {}",
                out.len()
            )));
        }
        let iana: Vec<String> = c[2].split(' ').map(str::to_owned).collect();
        if let Some(unknown) = iana.iter().find(|z| z.parse::<chrono_tz::Tz>().is_err()) {
            return Err(err(format!(
                "{unknown} is not an IANA zone of the tz database"
            )));
        }
        if let Some(twice) = iana.iter().find(|z| !seen.insert(z.to_ascii_lowercase())) {
            return Err(err(format!("IANA zone {twice} is listed twice")));
        }
        let label_matches = match c[3] {
            "matches" => true,
            "stale" => false,
            other => {
                return Err(err(format!(
                    "label must be `matches` or `stale`, not `{other}`"
                )));
            }
        };
        out.push(TimeZoneRow {
            name: c[1].to_owned(),
            iana,
            label_matches,
        });
    }
    Ok(out)
}

/// The `language` rows and the `locale` rows of `languages.tsv`.
fn parse_languages(text: &str) -> Result<(Vec<LanguageRow>, Vec<LanguageRow>), SchemaError> {
    let (mut languages, mut locales) = (Vec::new(), Vec::new());
    let mut seen = BTreeSet::new();
    let header = ["webex", "kind", "id", "bcp47", "source"];
    for (line, c) in rows(LANGUAGES_FILE, text, &header)? {
        let err = |message: String| SchemaError {
            file: LANGUAGES_FILE,
            line,
            message,
        };
        let tags: Vec<String> = c[3].split(' ').map(str::to_owned).collect();
        if let Some(bad) = tags.iter().find(|t| !is_tag(t)) {
            return Err(err(format!(
                "`{bad}` is not a BCP-47 tag (letters and digits, `-` between subtags)"
            )));
        }
        if let Some(twice) = tags
            .iter()
            .find(|t| !seen.insert((c[1], t.to_ascii_lowercase())))
        {
            return Err(err(format!("tag {twice} is listed twice for a {}", c[1])));
        }
        let language_id = match c[2] {
            "-" => None,
            id => Some(
                id.parse()
                    .map_err(|_| err(format!("id `{id}` is not a number")))?,
            ),
        };
        let row = LanguageRow {
            webex: c[0].to_owned(),
            language_id,
            tags,
        };
        match (c[1], row.language_id) {
            ("language", Some(_)) => languages.push(row),
            ("locale", None) => locales.push(row),
            (kind, _) => {
                return Err(err(format!(
                    "kind `{kind}`: a language has an id, a locale `-`"
                )));
            }
        }
    }
    Ok((languages, locales))
}

fn is_tag(t: &str) -> bool {
    t.split('-')
        .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

const ATTRIBUTE_HEADER: [&str; 9] = [
    "name",
    "path",
    "type",
    "ops",
    "feature",
    "flags",
    "controlHub",
    "description",
    "source",
];

fn parse_attributes(
    text: &str,
    features: &BTreeSet<&str>,
) -> Result<Vec<AttributeRow>, SchemaError> {
    let mut out = Vec::new();
    for (line, c) in rows(ATTRIBUTES_FILE, text, &ATTRIBUTE_HEADER)? {
        let err = |message: String| SchemaError {
            file: ATTRIBUTES_FILE,
            line,
            message,
        };
        let name = c[0];
        if !is_identifier(name) || !name.starts_with(|ch: char| ch.is_ascii_lowercase()) {
            return Err(err(format!(
                "flat name `{name}` must be a lowerCamel identifier"
            )));
        }
        let segments = parse_path(c[1]).map_err(err)?;
        let value_type = parse_type(c[2]).map_err(err)?;
        let ops = parse_ops(c[3]).map_err(err)?;
        let gate: Vec<String> = if c[4] == "-" {
            Vec::new()
        } else {
            c[4].split('+').map(str::to_owned).collect()
        };
        for f in &gate {
            if !features.contains(f.as_str()) {
                return Err(err(format!("feature `{f}` is not in {FEATURES_FILE}")));
            }
        }
        let (mut secret, mut required, mut identity, mut unique, mut coupled) =
            (false, false, false, false, false);
        let mut field_override = None;
        if c[5] != "-" {
            for flag in c[5].split(' ') {
                match flag {
                    "secret" => secret = true,
                    "required" => required = true,
                    "identity" => identity = true,
                    "unique" => unique = true,
                    "coupled" => coupled = true,
                    _ => match flag.strip_prefix("field=") {
                        Some(f) if is_snake(f) => field_override = Some(f.to_owned()),
                        _ => return Err(err(format!("unknown flag `{flag}`"))),
                    },
                }
            }
        }
        if secret && !matches!(value_type, ValueType::Scalar(Scalar::Text { .. })) {
            return Err(err("only string attributes can be secret".into()));
        }
        let control_hub = parse_control_hub(c[6], identity).map_err(err)?;
        out.push(AttributeRow {
            line,
            name: name.to_owned(),
            path_text: c[1].to_owned(),
            segments,
            value_type,
            ops,
            gate,
            secret,
            required,
            identity,
            unique,
            coupled,
            field_override,
            control_hub,
            description: c[7].to_owned(),
            source: c[8].to_owned(),
        });
    }
    Ok(out)
}

/// The values of the `controlHub` column.
pub const CONTROL_HUB_OWNERS: [&str; 6] = [
    "identity",
    "xml",
    "sessionTypes",
    "trackingCodes",
    "preferences",
    "none",
];

/// A `controlHub` cell; the identity owns exactly what its API carries
/// (`identity`) or nothing carries (`none`): the `identity` flag must agree.
fn parse_control_hub(cell: &str, identity: bool) -> Result<String, String> {
    if !CONTROL_HUB_OWNERS.contains(&cell) {
        return Err(format!(
            "controlHub `{cell}` is not one of {}",
            CONTROL_HUB_OWNERS.join(", ")
        ));
    }
    let identity_owned = matches!(cell, "identity" | "none");
    if identity_owned != identity {
        return Err(format!(
            "controlHub `{cell}` disagrees with the identity flag (identity and none are the identity-owned owners)"
        ));
    }
    Ok(cell.to_owned())
}

fn parse_path(text: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    for part in text.split('/') {
        let (ns, rest) = match part.strip_prefix("com:") {
            Some(rest) => (Ns::Common, rest),
            None => (Ns::User, part),
        };
        let (name, repeat) = match rest.strip_suffix(']').and_then(|r| r.split_once('[')) {
            Some((name, max)) => {
                let max: u8 = max
                    .parse()
                    .ok()
                    .filter(|m| *m >= 2)
                    .ok_or_else(|| format!("repeat count in `{part}` must be a number ≥ 2"))?;
                (name, Some(max))
            }
            None => (rest, None),
        };
        if !is_identifier(name) {
            return Err(format!("path segment `{part}` is not an XML element name"));
        }
        out.push(Segment {
            ns,
            name: name.to_owned(),
            repeat,
        });
    }
    if out.iter().filter(|s| s.repeat.is_some()).count() > 1 {
        return Err("at most one repeated element per path".into());
    }
    if out.last().is_some_and(|s| s.repeat.is_some()) {
        return Err("the leaf element cannot repeat; use a list(...) type".into());
    }
    Ok(out)
}

fn parse_ops(text: &str) -> Result<Ops, String> {
    let mut ops = Ops::default();
    for ch in text.chars() {
        let slot = match ch {
            'c' => &mut ops.create,
            's' => &mut ops.set,
            'g' => &mut ops.get,
            _ => {
                return Err(format!(
                    "ops `{text}`: use the letters c (create), s (set), g (get)"
                ));
            }
        };
        if *slot {
            return Err(format!("ops `{text}` repeats `{ch}`"));
        }
        *slot = true;
    }
    Ok(ops)
}

fn parse_type(text: &str) -> Result<ValueType, String> {
    if let Some(inner) = text.strip_prefix("list(").and_then(|t| t.strip_suffix(')')) {
        let scalar = parse_scalar(inner)?;
        if scalar == Scalar::Bool {
            return Err("list(bool) is not supported".into());
        }
        return Ok(ValueType::List(scalar));
    }
    parse_scalar(text).map(ValueType::Scalar)
}

fn parse_scalar(text: &str) -> Result<Scalar, String> {
    let (head, args) = match text.split_once('(') {
        Some((head, rest)) => (
            head,
            Some(
                rest.strip_suffix(')')
                    .ok_or_else(|| format!("type `{text}`: missing `)`"))?,
            ),
        ),
        None => (text, None),
    };
    match (head, args) {
        ("bool", None) => Ok(Scalar::Bool),
        ("date", None) => Ok(Scalar::Date),
        ("int" | "long", args) => {
            let kind = if head == "int" {
                IntKind::Int32
            } else {
                IntKind::Int64
            };
            let (min, max) = match args {
                None => (None, None),
                Some(range) => {
                    let (a, b) = range
                        .split_once("..")
                        .ok_or_else(|| format!("type `{text}`: range must be `min..max`"))?;
                    let num = |s: &str| {
                        s.parse::<i64>()
                            .map_err(|_| format!("type `{text}`: bad bound `{s}`"))
                    };
                    let (a, b) = (num(a)?, num(b)?);
                    if a > b {
                        return Err(format!("type `{text}`: empty range"));
                    }
                    (Some(a), Some(b))
                }
            };
            Ok(Scalar::Int { kind, min, max })
        }
        ("string", None) => Ok(Scalar::Text {
            max_len: None,
            format: None,
        }),
        ("string", Some(args)) => {
            let (len, format) = match args.split_once(',') {
                Some((len, format)) => (len, Some(format)),
                None => (args, None),
            };
            let max_len = if len.is_empty() {
                None
            } else {
                Some(
                    len.parse::<u32>()
                        .map_err(|_| format!("type `{text}`: bad maximum length `{len}`"))?,
                )
            };
            let format = match format {
                None => None,
                Some("email") => Some(TextFormat::Email),
                Some("phone") => Some(TextFormat::Phone),
                Some("personal-url") => Some(TextFormat::PersonalUrl),
                Some(other) => return Err(format!("type `{text}`: unknown format `{other}`")),
            };
            Ok(Scalar::Text { max_len, format })
        }
        ("enum", Some("@time-zones")) => Ok(Scalar::Enum { values: None }),
        ("enum", Some(values)) => {
            let values: Vec<String> = values.split('|').map(str::to_owned).collect();
            let unique: BTreeSet<&String> = values.iter().collect();
            if values.iter().any(String::is_empty) || unique.len() != values.len() {
                return Err(format!(
                    "type `{text}`: enum values must be distinct and non-empty"
                ));
            }
            Ok(Scalar::Enum {
                values: Some(values),
            })
        }
        _ => Err(format!(
            "unknown type `{text}` (bool, int, long, string, enum(..), date, list(..))"
        )),
    }
}

/// Whole-table rules: unique names and paths, contiguous groups (so element order
/// is well defined), repeated groups declared the same way by every member.
fn check_structure(rows: &[AttributeRow]) -> Result<(), SchemaError> {
    let err = |line: usize, message: String| SchemaError {
        file: ATTRIBUTES_FILE,
        line,
        message,
    };
    let mut names = BTreeMap::new();
    let mut paths = BTreeMap::new();
    for r in rows {
        if let Some(prev) = names.insert(r.name.to_ascii_lowercase(), r.line) {
            return Err(err(
                r.line,
                format!(
                    "flat name `{}` repeats line {prev} (names are case-insensitive)",
                    r.name
                ),
            ));
        }
        if let Some(prev) = paths.insert(r.plain_path(), r.line) {
            return Err(err(
                r.line,
                format!("path `{}` repeats line {prev}", r.plain_path()),
            ));
        }
        if r.is_list() && r.segments.len() < 2 {
            return Err(err(
                r.line,
                "a list path names its wrapper and item elements (`wrapper/item`)".into(),
            ));
        }
        if r.required && !(r.ops.create && r.ops.set) {
            return Err(err(
                r.line,
                "a required attribute must be allowed in create and set".into(),
            ));
        }
    }
    // Every group prefix must occupy one contiguous run of rows, and each element
    // name must mean the same namespace/repeat everywhere it appears.
    let mut closed: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut open: Vec<Vec<String>> = Vec::new();
    let mut declared: BTreeMap<Vec<String>, (Ns, Option<u8>, usize)> = BTreeMap::new();
    for r in rows {
        let names: Vec<String> = r.segments.iter().map(|s| s.name.clone()).collect();
        for (depth, seg) in r.segments.iter().enumerate() {
            let prefix = names[..=depth].to_vec();
            match declared.get(&prefix) {
                Some(&(ns, rep, line)) if (ns, rep) != (seg.ns, seg.repeat) => {
                    return Err(err(
                        r.line,
                        format!(
                            "element `{}` is declared differently on line {line}",
                            prefix.join("/")
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    declared.insert(prefix.clone(), (seg.ns, seg.repeat, r.line));
                }
            }
        }
        let groups: Vec<Vec<String>> = (1..names.len()).map(|d| names[..d].to_vec()).collect();
        open.retain(|g| {
            let keep = groups.contains(g);
            if !keep {
                closed.insert(g.clone());
            }
            keep
        });
        for g in groups {
            if closed.contains(&g) {
                return Err(err(
                    r.line,
                    format!(
                        "group `{}` is split: keep its rows together, in element order",
                        g.join("/")
                    ),
                ));
            }
            if !open.contains(&g) {
                open.push(g);
            }
        }
    }
    for r in rows {
        let names: Vec<String> = r.segments.iter().map(|s| s.name.clone()).collect();
        let leaf_len = if r.is_list() {
            names.len() - 1
        } else {
            names.len()
        };
        if rows.iter().any(|o| {
            o.line != r.line
                && o.segments.len() > leaf_len
                && o.segments[..leaf_len]
                    .iter()
                    .map(|s| &s.name)
                    .eq(names[..leaf_len].iter())
        }) {
            return Err(err(
                r.line,
                format!("`{}` is both a leaf and a group", r.plain_path()),
            ));
        }
    }
    Ok(())
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

fn is_snake(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
