//! schema/time-zones.tsv against the tz database (chrono-tz): every IANA zone
//! a Webex zone lists, and every zone the generator mapped by rules, keeps the
//! same UTC offsets as the Webex zone's first IANA zone at instants across a
//! year (DST switches included), and the GMT offset in a Webex zone's name is
//! that zone's standard offset unless the table marks the label stale.

use chrono::{Offset, TimeZone, Utc};
use chrono_tz::Tz;
use wbxprov::schema::{IANA_TIME_ZONES, TIME_ZONE_IANA, TIME_ZONES};

/// Every third hour of 2026: a zone switching DST on another day or hour, or
/// keeping another offset, differs at one of them.
fn offsets(name: &str) -> Vec<i32> {
    let tz: Tz = name
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not an IANA zone"));
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 30, 0).unwrap();
    (0..365 * 8)
        .map(|step| {
            let at = start + chrono::Duration::hours(3 * step);
            tz.offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc()
        })
        .collect()
}

/// `GMT-03:30, Newfoundland (Newfoundland)` → -12600.
fn label_offset(name: &str) -> i32 {
    let hhmm = &name[3..9];
    let sign = if hhmm.starts_with('-') { -1 } else { 1 };
    let (h, m) = hhmm[1..].split_once(':').unwrap();
    sign * (h.parse::<i32>().unwrap() * 3600 + m.parse::<i32>().unwrap() * 60)
}

fn stale_label(id: usize) -> bool {
    let table = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/time-zones.tsv"),
    )
    .unwrap();
    table
        .lines()
        .find(|l| l.split('\t').next() == Some(&id.to_string()))
        .is_some_and(|l| l.split('\t').nth(3) == Some("stale"))
}

#[test]
fn every_webex_zone_has_iana_zones_of_one_rule() {
    assert_eq!(TIME_ZONE_IANA.len(), TIME_ZONES.len());
    for (id, zones) in TIME_ZONE_IANA.iter().enumerate() {
        let first = offsets(zones[0]);
        for alias in &zones[1..] {
            assert_eq!(
                offsets(alias),
                first,
                "zone {id} ({}): {alias} keeps other offsets than {}",
                TIME_ZONES[id],
                zones[0]
            );
        }
    }
}

#[test]
fn the_offset_in_a_webex_name_is_its_zones_standard_offset() {
    let mut stale = Vec::new();
    for (id, zones) in TIME_ZONE_IANA.iter().enumerate() {
        // The standard offset: the smaller of the year's offsets (DST adds).
        let standard = *offsets(zones[0]).iter().min().unwrap();
        let label = label_offset(TIME_ZONES[id]);
        if stale_label(id) {
            assert_ne!(standard, label, "zone {id} is marked stale but matches");
            stale.push(id);
        } else {
            assert_eq!(
                standard, label,
                "zone {id} ({}) vs {}",
                TIME_ZONES[id], zones[0]
            );
        }
    }
    assert_eq!(
        stale,
        [35, 38, 42, 43, 51],
        "Tehran, Kabul, Colombo, Almaty, Yakutsk"
    );
}

#[test]
fn zones_mapped_by_rules_keep_the_rules_of_their_webex_zone() {
    let mut by_rules = 0;
    for (name, id, named) in IANA_TIME_ZONES {
        let webex = TIME_ZONE_IANA[usize::from(*id)];
        assert_eq!(*named, webex.contains(name), "{name}");
        assert_eq!(offsets(name), offsets(webex[0]), "{name} → zone {id}");
        by_rules += usize::from(!named);
    }
    assert!(by_rules > 100, "only {by_rules} zones mapped by rules");
    // Sorted by lowercased name, for binary search.
    let keys: Vec<String> = IANA_TIME_ZONES
        .iter()
        .map(|(n, ..)| n.to_lowercase())
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    for (name, id) in [("Europe/Rome", 22), ("America/Vancouver", 4), ("UTC", 20)] {
        assert!(
            IANA_TIME_ZONES.contains(&(name, id, name != "Europe/Rome")),
            "{name}"
        );
    }
    // Zones whose rules no Webex zone keeps are absent (SCIM answers 400 for them).
    for name in [
        "Asia/Kathmandu",
        "Pacific/Apia",
        "Africa/Casablanca",
        "Australia/Eucla",
    ] {
        assert!(IANA_TIME_ZONES.iter().all(|(n, ..)| *n != name), "{name}");
    }
}
