//! The rules of a Control-Hub-managed site in Control Hub mode (a profile
//! with `[controlHub]`): which attributes go to the Webex identity API and
//! which to SetUser, and every violation of a desired user, both halves.

use super::{Operation, Rule, Violation, validate, validate_update, violation};
use crate::schema::{Attribute, ControlHubApi, FlatKey, FlatUser, Value};
use crate::site::SiteProfile;

/// Which API owns `a` on a Control-Hub-managed site: the catalogue's
/// `controlHub` column, whose `source` cites the evidence.
pub fn owner(a: Attribute) -> ControlHubApi {
    a.info().control_hub
}

/// The slot of a tracking code the catalogue routes to the tracking-codes
/// API: `N` of its XML path `…trackingCodeN` (1 to 10, XSD common.xsd
/// trackingType). Which site-level code a slot is, is our own reading: the
/// site's code whose `id` is `N` (the reference's examples number them "1",
/// "2" …; no document maps the XML API's slots to the REST names).
pub fn tracking_code_slot(a: Attribute) -> Option<u32> {
    if owner(a) != ControlHubApi::TrackingCodes {
        return None;
    }
    let path = a.info().path;
    let digits = path.trim_start_matches(|c: char| !c.is_ascii_digit());
    digits.parse().ok()
}

/// The attribute of tracking-code slot `n` ([`tracking_code_slot`]).
pub fn tracking_code_attribute(n: u32) -> Option<Attribute> {
    crate::schema::ATTRIBUTES
        .iter()
        .map(|info| info.attribute)
        .find(|a| tracking_code_slot(*a) == Some(n))
}

/// The REST APIs that own some Meetings settings, as the sync routes them
/// (`wbxprov::sync::SyncBuilder::meeting_settings`): each with its words and
/// endpoint, for people to read.
pub const REST_OWNERS: [(ControlHubApi, &str); 2] = [
    (
        ControlHubApi::SessionTypes,
        "session types API (PUT /v1/admin/meeting/userconfig/sessionTypes)",
    ),
    (
        ControlHubApi::TrackingCodes,
        "tracking codes API (PUT /v1/admin/meeting/userconfig/trackingCodes)",
    ),
];

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

/// What the XML API does differently on a Control-Hub-managed site (XML API
/// 41.11 "forward compatibility", help.webex.com article nvuo92z; the
/// CreateUser reference), refused before the call with the reason rather
/// than sent to be silently ignored: CreateUser ignores `password` (the user
/// gets an activation email) and `active` (the person's Control Hub status
/// decides), and its webExId must be the email (else the service uses the
/// email). SetUser's identity-owned attributes, the password among them, are
/// the catalogue's `identity` rule already.
pub fn xml_rules(change: &FlatUser, operation: Operation, profile: &SiteProfile) -> Vec<Violation> {
    if !profile.control_hub_managed || operation != Operation::Create {
        return Vec::new();
    }
    let mut out = Vec::new();
    let ignored = |a: Attribute, why: &'static str, fix: &'static str| {
        let key = FlatKey::new(a);
        change
            .get(&key)
            .map(|value| violation(key, Some(value), Rule::Identity, why, fix))
    };
    out.extend(ignored(
        Attribute::Password,
        "CreateUser ignores it on a Control-Hub-managed site (XML API 41.11): the user sets one from the activation email",
        "leave the password out",
    ));
    out.extend(ignored(
        Attribute::Active,
        "CreateUser ignores it on a Control-Hub-managed site (XML API 41.11): the person's Control Hub status decides",
        "leave active out; (de)activate the person in Control Hub or through the identity API",
    ));
    out.extend(web_ex_id_is_email(change));
    out
}

/// On a Control-Hub-managed site the webExId of a CreateUser is the email.
fn web_ex_id_is_email(change: &FlatUser) -> Option<Violation> {
    let key = FlatKey::new(Attribute::WebExId);
    let id = change.text(Attribute::WebExId)?;
    let same = change
        .text(Attribute::Email)
        .is_some_and(|email| email.eq_ignore_ascii_case(id));
    let why = match change.text(Attribute::Email) {
        Some(_) => {
            "differs from the email; on a Control-Hub-managed site CreateUser takes the email as the webExId (XML API 41.11)"
        }
        None => {
            "on a Control-Hub-managed site CreateUser needs the email, which becomes the webExId (XML API 41.11)"
        }
    };
    (!same).then(|| {
        violation(
            key,
            change.get(&key),
            Rule::Identity,
            why,
            "set webExId and email to the person's email address",
        )
    })
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

#[cfg(test)]
mod xml_on_control_hub {
    use super::*;
    use crate::secret::Secret;

    fn user(pairs: &[(Attribute, Value)]) -> FlatUser {
        pairs
            .iter()
            .map(|(a, v)| (FlatKey::new(*a), v.clone()))
            .collect()
    }

    fn managed() -> SiteProfile {
        let mut p = SiteProfile::new();
        p.control_hub_managed = true;
        p
    }

    #[test]
    fn create_user_refuses_what_the_service_would_ignore_naming_why() {
        let change = user(&[
            (Attribute::WebExId, Value::Text("jdoe".into())),
            (Attribute::Email, Value::Text("jdoe@example.com".into())),
            (
                Attribute::Password,
                Value::Secret(Secret::new("PLANTED-pw")),
            ),
            (Attribute::Active, Value::Text("ACTIVATED".into())),
        ]);
        let found = xml_rules(&change, Operation::Create, &managed());
        let names: Vec<Attribute> = found.iter().map(|v| v.attribute.attribute).collect();
        assert_eq!(
            names,
            [Attribute::Password, Attribute::Active, Attribute::WebExId]
        );
        assert!(found.iter().all(|v| v.message.contains("41.11")));
        assert!(found.iter().all(|v| !v.message.contains("PLANTED")));
    }

    #[test]
    fn the_email_as_webexid_passes_and_other_sites_and_updates_are_untouched() {
        let change = user(&[
            (Attribute::WebExId, Value::Text("JDoe@example.com".into())),
            (Attribute::Email, Value::Text("jdoe@example.com".into())),
        ]);
        assert_eq!(xml_rules(&change, Operation::Create, &managed()), []);
        let bad = user(&[(Attribute::WebExId, Value::Text("jdoe".into()))]);
        assert_eq!(xml_rules(&bad, Operation::Create, &managed()).len(), 1);
        assert_eq!(xml_rules(&bad, Operation::Create, &SiteProfile::new()), []);
        assert_eq!(xml_rules(&bad, Operation::Update, &managed()), []);
    }
}
