//! IANA zones the time-zone table does not name, mapped to the Webex zone
//! whose first IANA zone keeps the same UTC offsets through the reference
//! year (the tz database of the `chrono-tz` crate in Cargo.lock).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Offset, TimeZone, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

use crate::catalogue::TimeZoneRow;

/// The year whose rules decide "the same current rules": fixed, so that the
/// generated file depends on the tz database only, not on the day it is made.
pub const REFERENCE_YEAR: i32 = 2026;

/// A zone's UTC offset (seconds) at every hour of the reference year: two
/// zones with the same offsets keep the same rules that year, DST switches
/// at the same hour included (Beirut switches at local midnight, the EU at
/// 01:00 UTC).
pub fn offsets(tz: Tz) -> Vec<i32> {
    let start = Utc
        .with_ymd_and_hms(REFERENCE_YEAR, 1, 1, 0, 30, 0)
        .single()
        .expect("a valid date");
    (0..365 * 24)
        .map(|hour| {
            let at = start + chrono::Duration::hours(hour);
            tz.offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc()
        })
        .collect()
}

/// Every IANA zone (lowercased name → (name, Webex zone id, named in the table)).
pub fn iana_index(
    zones: &[TimeZoneRow],
) -> Result<BTreeMap<String, (String, usize, bool)>, String> {
    let mut out = BTreeMap::new();
    let mut primaries = Vec::new();
    for (id, row) in zones.iter().enumerate() {
        for name in &row.iana {
            let tz: Tz = name
                .parse()
                .map_err(|_| format!("zone {id}: {name} is not an IANA zone of the tz database"))?;
            if primaries.len() == id {
                primaries.push(offsets(tz));
            }
            out.insert(name.to_ascii_lowercase(), (name.clone(), id, true));
        }
    }
    let named: BTreeSet<String> = out.keys().cloned().collect();
    for tz in TZ_VARIANTS {
        let name = tz.name();
        if named.contains(&name.to_ascii_lowercase()) {
            continue;
        }
        let rules = offsets(tz);
        // The first Webex zone with these rules: zones of the same rules
        // (Amsterdam, Paris, Prague, Berlin) are interchangeable.
        if let Some(id) = primaries.iter().position(|p| *p == rules) {
            out.insert(name.to_ascii_lowercase(), (name.to_owned(), id, false));
        }
    }
    Ok(out)
}
