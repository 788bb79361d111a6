//! What differs between a desired user and the site user, and what a rerun
//! may skip: the changed attributes with their old values, the digest of a
//! desired user, and what the site's listing (LstsummaryUser) already tells.

use crate::ops::UserSummary;
use crate::schema::{Attribute, FlatKey, FlatUser, Value};

/// The attributes of `desired` whose values differ on the site (`current`).
/// The webExId is the address, never a change (a rename is `newWebExId`).
/// Write-only attributes (the password) cannot be compared: sent only when
/// asked.
pub(super) fn diff(desired: &FlatUser, current: &FlatUser, push_passwords: bool) -> FlatUser {
    desired
        .iter()
        .filter(|(k, v)| {
            if k.attribute == Attribute::WebExId {
                return false;
            }
            if !k.attribute.info().ops.get {
                return push_passwords && k.attribute == Attribute::Password;
            }
            current.get(k) != Some(*v)
        })
        .map(|(k, v)| (*k, v.clone()))
        .collect()
}

/// The site's values of the attributes a change sets (the "old" of old → new).
pub(super) fn before(change: &FlatUser, current: &FlatUser) -> FlatUser {
    change
        .iter()
        .filter_map(|(k, _)| {
            let key = if k.attribute == Attribute::NewWebExId {
                FlatKey::new(Attribute::WebExId)
            } else {
                *k
            };
            current.get(&key).map(|v| (*k, v.clone()))
        })
        .collect()
}

/// A stable digest of a desired user (and its externalId): FNV-1a, 64 bits,
/// over the flat JSON in catalogue order, so that it is the same in every
/// process (no random-seeded hasher). Secrets are masked before hashing: a
/// journal never holds anything derived from a password.
pub(super) fn digest(user: &FlatUser, external_id: Option<&str>) -> String {
    let text =
        serde_json::to_string(&(user.to_json(false), external_id)).expect("a flat user serializes");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The attributes a LstsummaryUser entry carries (`UserSummary`, decoded in
/// `ops/responses.rs`): a desired user of only these needs no GetUser.
const LISTED: [Attribute; 6] = [
    Attribute::WebExId,
    Attribute::FirstName,
    Attribute::LastName,
    Attribute::Email,
    Attribute::Active,
    Attribute::TimeZoneID,
];

/// A listing entry as a flat user.
pub(super) fn listed_user(summary: &UserSummary) -> FlatUser {
    let text = |a, v: &Option<String>| v.clone().map(|t| (FlatKey::new(a), Value::Text(t)));
    [
        text(Attribute::WebExId, &Some(summary.web_ex_id.clone())),
        text(Attribute::FirstName, &summary.first_name),
        text(Attribute::LastName, &summary.last_name),
        text(Attribute::Email, &summary.email),
        text(Attribute::Active, &summary.active),
        summary
            .time_zone_id
            .map(|t| (FlatKey::new(Attribute::TimeZoneID), Value::Int(t))),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Whether the listing alone tells everything the desired user sets.
pub(super) fn listing_suffices(desired: &FlatUser) -> bool {
    desired
        .iter()
        .all(|(k, _)| k.slot == 0 && LISTED.contains(&k.attribute))
}

/// Whether the site user's listing entry agrees with the desired user on
/// what it shows (webExId, email, names, state): with an unchanged source
/// row, nothing was changed behind the sync's back that the listing shows.
pub(super) fn listing_agrees(desired: &FlatUser, summary: &UserSummary) -> bool {
    let listed = listed_user(summary);
    let wants_active = desired.text(Attribute::Active) != Some("DEACTIVATED");
    let is_active = summary.active.as_deref() != Some("DEACTIVATED");
    wants_active == is_active
        && desired
            .iter()
            .filter(|(k, _)| LISTED.contains(&k.attribute) && k.attribute != Attribute::Active)
            .all(|(k, v)| match (k.attribute, v, listed.get(k)) {
                (Attribute::WebExId, Value::Text(a), Some(Value::Text(b))) => {
                    a.eq_ignore_ascii_case(b)
                }
                (_, v, Some(b)) => v == b,
                (_, _, None) => false,
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(pairs: &[(&str, Value)]) -> FlatUser {
        pairs
            .iter()
            .map(|(k, v)| (k.parse::<FlatKey>().unwrap(), v.clone()))
            .collect()
    }

    #[test]
    fn the_digest_is_stable_and_follows_every_value_but_secrets() {
        let a = user(&[("webExId", Value::Text("klee".into()))]);
        // A fixed value: the same in every process and version of Rust.
        assert_eq!(digest(&a, None), digest(&a.clone(), None));
        assert_eq!(digest(&a, None).len(), 16);
        let b = user(&[("webExId", Value::Text("klee2".into()))]);
        assert_ne!(digest(&a, None), digest(&b, None));
        assert_ne!(digest(&a, None), digest(&a, Some("E17")));
        let secret = |s: &str| {
            user(&[
                ("webExId", Value::Text("klee".into())),
                ("password", Value::Secret(crate::Secret::new(s))),
            ])
        };
        assert_eq!(digest(&secret("one"), None), digest(&secret("two"), None));
    }

    #[test]
    fn the_listing_agrees_only_when_every_listed_value_does() {
        let summary = UserSummary {
            web_ex_id: "Klee".into(),
            email: Some("paul.klee@example.com".into()),
            last_name: Some("Klee".into()),
            active: Some("ACTIVATED".into()),
            ..UserSummary::default()
        };
        let desired = user(&[
            ("webExId", Value::Text("klee".into())),
            ("email", Value::Text("paul.klee@example.com".into())),
            ("lastName", Value::Text("Klee".into())),
            ("privilegeHost", Value::Bool(true)),
        ]);
        assert!(listing_agrees(&desired, &summary));
        assert!(!listing_suffices(&desired));
        let mut renamed = summary.clone();
        renamed.last_name = Some("Smithson".into());
        assert!(!listing_agrees(&desired, &renamed));
        let mut gone = summary.clone();
        gone.active = Some("DEACTIVATED".into());
        assert!(!listing_agrees(&desired, &gone));
        let mut no_email = summary;
        no_email.email = None;
        assert!(!listing_agrees(&desired, &no_email));
    }
}
