//! The rules of a Control-Hub-managed site in Control Hub mode (a profile
//! with `[controlHub]`): which attributes go to the Webex identity API and
//! which to SetUser, and every violation of a desired user, both halves.

use super::{Operation, Violation, validate, validate_update};
use crate::schema::{Attribute, ControlHubApi, FlatKey, FlatUser, Value};
use crate::site::SiteProfile;

/// Which API owns `a` on a Control-Hub-managed site: the catalogue's
/// `controlHub` column, whose `source` cites the evidence.
pub fn owner(a: Attribute) -> ControlHubApi {
    a.info().control_hub
}

/// Whether Control Hub mode sends `a` to the identity API (the catalogue
/// says the identity owns it and its SCIM core User carries it).
pub fn routed_to_identity(a: Attribute) -> bool {
    owner(a) == ControlHubApi::Identity
}

/// Whether the identity owns `a` and no API wbxprov speaks carries it
/// (password, PIN, secondary phones): refused with the reason.
pub fn unroutable(a: Attribute) -> bool {
    owner(a) == ControlHubApi::None
}

/// The person's half (identity API) and the Meetings half (SetUser) of a
/// desired user; `active` is in neither (it is the person's state). The
/// attributes owned by a REST settings API ([`owner`]: session types,
/// tracking codes, preferences) are in the Meetings half for now: SetUser
/// takes them too, and the sync has no REST halves yet.
pub fn split(user: &FlatUser) -> (FlatUser, FlatUser) {
    let (mut person, mut meetings) = (FlatUser::new(), FlatUser::new());
    for (k, v) in user.iter() {
        if k.attribute == Attribute::Active {
            continue;
        }
        if routed_to_identity(k.attribute) {
            person.insert(*k, v.clone());
        } else if k.attribute.info().ops.set {
            meetings.insert(*k, v.clone());
        }
    }
    // On these sites the Webex ID is the email.
    if let Some(email) = person.text(Attribute::Email).map(str::to_owned) {
        person.insert(FlatKey::new(Attribute::WebExId), Value::Text(email));
    }
    (person, meetings)
}

/// Every violation of a desired user on a site in Control Hub mode: the
/// Meetings half as a SetUser, the person's values for their own sake, and
/// what the identity owns but its API does not take (password, PIN).
pub fn validate_split(user: &FlatUser, profile: &SiteProfile) -> Vec<Violation> {
    split_rules(user, None, profile)
}

/// [`validate_split`] for a person the site already holds as `current` (its
/// GetUser): the Meetings half is judged as the user it makes.
pub fn validate_split_over(
    user: &FlatUser,
    current: &FlatUser,
    profile: &SiteProfile,
) -> Vec<Violation> {
    split_rules(user, Some(current), profile)
}

fn split_rules(
    user: &FlatUser,
    current: Option<&FlatUser>,
    profile: &SiteProfile,
) -> Vec<Violation> {
    let (person, meetings) = split(user);
    let mut identity_rules = profile.clone();
    identity_rules.control_hub_managed = false;
    let mut out = match current {
        Some(current) => validate_update(&meetings, current, profile),
        None => validate(&meetings, Operation::Update, profile),
    };
    out.extend(validate(&person, Operation::Update, &identity_rules));
    // What the Meetings half holds was judged with it (the identity rule included);
    // judging it again here reported each of its violations twice.
    let unroutable: FlatUser = user
        .iter()
        .filter(|(k, _)| {
            let a = k.attribute;
            unroutable(a) && a != Attribute::NewWebExId && meetings.get(k).is_none()
        })
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    out.extend(validate(&unroutable, Operation::Update, profile));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::user::core_path;

    /// The column agrees with what the identity API can carry: every
    /// attribute routed there has a SCIM core path, and the identity-owned
    /// rest has none the client would send (password and newWebExId are
    /// mapped by the SCIM front but refused here, with their reasons).
    #[test]
    fn the_identity_owner_is_what_the_scim_core_user_carries() {
        for info in crate::schema::ATTRIBUTES {
            let a = info.attribute;
            if routed_to_identity(a) {
                assert!(core_path(a).is_some(), "{}", info.name);
            }
            if unroutable(a) && !matches!(a, Attribute::Password | Attribute::NewWebExId) {
                assert!(core_path(a).is_none(), "{}", info.name);
            }
        }
    }

    #[test]
    fn the_rest_owned_settings_are_the_catalogues() {
        let owned = |api| {
            crate::schema::ATTRIBUTES
                .iter()
                .filter(|i| i.control_hub == api)
                .map(|i| i.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(owned(ControlHubApi::SessionTypes), ["meetingTypes"]);
        assert_eq!(owned(ControlHubApi::TrackingCodes).len(), 10);
        assert!(owned(ControlHubApi::Preferences).contains(&"personalMeetingRoomHostPIN"));
    }
}
