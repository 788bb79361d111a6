//! Time zones: IANA names ↔ the 62 Webex zones, from schema/time-zones.tsv
//! (each Webex zone's IANA zones, with sources) and the zones codegen mapped
//! by their rules (`IANA_TIME_ZONES`).

use crate::schema::{IANA_TIME_ZONES, TIME_ZONE_IANA, TIME_ZONES};

/// The Webex zone (`timeZone` name) an IANA name or a Webex name means.
pub fn to_webex(value: &str) -> Option<&'static str> {
    let value = value.trim();
    if let Some(webex) = TIME_ZONES.iter().find(|z| z.eq_ignore_ascii_case(value)) {
        return Some(webex);
    }
    let key = value.to_ascii_lowercase();
    IANA_TIME_ZONES
        .binary_search_by(|(name, ..)| name.to_ascii_lowercase().cmp(&key))
        .ok()
        .map(|i| TIME_ZONES[usize::from(IANA_TIME_ZONES[i].1)])
}

/// The IANA name SCIM answers for a Webex zone: the first of its row.
pub fn to_iana(webex: &str) -> Option<&'static str> {
    let id = TIME_ZONES.iter().position(|z| *z == webex)?;
    TIME_ZONE_IANA
        .get(id)
        .and_then(|zones| zones.first().copied())
}

/// What `timezone` accepts, for an error.
pub const ACCEPTED: &str = "an IANA time zone whose rules one of the 62 Webex zones keeps (e.g. America/Los_Angeles, Europe/Berlin, UTC), or a Webex zone name";

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Every IANA zone the table or the rules map reaches its Webex
        /// zone in any case, and that zone reads back as a zone mapping to it.
        #[test]
        fn every_mapped_iana_zone_round_trips(i in 0..IANA_TIME_ZONES.len(), upper: bool) {
            let (name, id, _) = IANA_TIME_ZONES[i];
            let sent = if upper { name.to_uppercase() } else { name.to_owned() };
            let webex = to_webex(&sent);
            prop_assert_eq!(webex, Some(TIME_ZONES[usize::from(id)]));
            prop_assert_eq!(to_webex(to_iana(webex.unwrap()).unwrap()), webex);
        }
    }

    #[test]
    fn iana_names_map_to_webex_zones_and_back() {
        assert_eq!(
            to_webex("America/Los_Angeles"),
            Some("GMT-08:00, Pacific (San Jose)")
        );
        assert_eq!(
            to_webex("america/los_angeles"),
            to_webex("America/Los_Angeles")
        );
        // Not in the table: the zone of the same rules (Rome keeps Amsterdam's).
        assert_eq!(
            to_webex("Europe/Rome"),
            Some("GMT+01:00, Europe (Amsterdam)")
        );
        assert_eq!(to_webex("UTC"), Some("GMT+00:00, Greenwich (Casablanca)"));
        // The Webex name itself, as older mappings send it.
        assert_eq!(
            to_webex("GMT+01:00, Europe (Berlin)"),
            Some("GMT+01:00, Europe (Berlin)")
        );
        // Rules no Webex zone keeps (+05:45), and no zone at all.
        assert_eq!(to_webex("Asia/Kathmandu"), None);
        assert_eq!(to_webex("Mars/Olympus_Mons"), None);
        assert_eq!(to_iana("GMT+01:00, Europe (Berlin)"), Some("Europe/Berlin"));
        assert_eq!(
            to_iana("GMT-08:00, Pacific (San Jose)"),
            Some("America/Los_Angeles")
        );
        assert_eq!(to_iana("nowhere"), None);
    }

    /// Every Webex zone reads back as an IANA name that maps to it again.
    #[test]
    fn every_webex_zone_round_trips() {
        for webex in TIME_ZONES {
            let iana = to_iana(webex).unwrap_or_else(|| panic!("{webex}"));
            assert_eq!(to_webex(iana), Some(*webex), "{iana}");
        }
    }
}
