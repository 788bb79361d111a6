//! Which fields the source has, so that a mapping that reads a field the
//! source does not have at all stops the run before the site is touched
//! (issue 17 follow-up: such a field used to drop its attribute for everyone,
//! silently). A field is in the source when any record has it: a CSV record
//! has every header column (an empty cell as null), a JSON record its keys.
//! A field some records lack is the mapping's business per record (unset,
//! or the row invalid where the value is needed: key, match key, template).

use std::collections::{BTreeSet, HashSet};

use super::SyncError;
use super::mapping::{FieldUse, Mapping};
use super::source::Record;

/// At most this many of the source's field names are kept for the message:
/// a JSON Lines source may name any number of fields.
const MAX_LISTED: usize = 100;

/// The fields seen so far, as records stream by.
pub(super) struct SourceFields {
    uses: Vec<FieldUse>,
    /// The fields the mapping reads that some record had.
    found: HashSet<String>,
    /// The source's field names, up to [`MAX_LISTED`].
    names: BTreeSet<String>,
    /// Names seen beyond [`MAX_LISTED`] (a name may count more than once).
    unlisted: usize,
    records: usize,
}

impl SourceFields {
    /// `keyed`: whether the run reads the mapping's `key` (Control Hub
    /// mode does not, so a source without it is no mistake there).
    pub fn new(mapping: &Mapping, keyed: bool) -> SourceFields {
        let mut uses = mapping.fields_read();
        uses.retain(|u| keyed || u.entry != "key");
        SourceFields {
            uses,
            found: HashSet::new(),
            names: BTreeSet::new(),
            unlisted: 0,
            records: 0,
        }
    }

    pub fn observe(&mut self, record: &Record) {
        self.records += 1;
        for name in record.fields.keys() {
            if self.uses.iter().any(|u| &u.field == name) {
                self.found.insert(name.clone());
            }
            if self.names.len() < MAX_LISTED {
                self.names.insert(name.clone());
            } else if !self.names.contains(name) {
                self.unlisted += 1;
            }
        }
    }

    /// Refuses a mapping that reads a field no record had. A source without
    /// records has no fields to judge (the empty-source rule speaks for it).
    pub fn check(self) -> Result<(), SyncError> {
        if self.records == 0 {
            return Ok(());
        }
        let missing: Vec<FieldUse> = self
            .uses
            .into_iter()
            .filter(|u| !self.found.contains(&u.field))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(SyncError::MissingFields {
            missing,
            fields: self.names.into_iter().collect(),
            unlisted: self.unlisted,
        })
    }
}

/// `attributes.lastName.field reads "last", key reads "emp"`.
pub(super) fn describe(missing: &[FieldUse]) -> String {
    missing
        .iter()
        .map(|u| format!("{} reads {:?}", u.entry, u.field))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `first, mail, username` (and how many more).
pub(super) fn listing(fields: &[String], unlisted: usize) -> String {
    let mut text = fields.join(", ");
    if unlisted > 0 {
        text.push_str(&format!(" and {unlisted} more"));
    }
    text
}
