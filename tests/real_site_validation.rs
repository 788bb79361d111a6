//! Issue 16: a value a real site returns for an attribute is a value the
//! validator accepts for that attribute on that site. Each real GetUser of
//! `fixtures/real/` (see its README for provenance) is decoded with the
//! library's own decoder and its settable values are validated, as an update
//! (what `import` → edit → `sync` sends), against the profile of its own site.
#![cfg(feature = "validate")]

mod common;

use wbxprov::ops::{MeetingTypeList, SiteInstance};
use wbxprov::schema::{FEATURES, FlatUser, User};
use wbxprov::site::SiteProfile;
use wbxprov::validate::{Operation, validate};
use wbxprov::xml::decode;

/// A response of `fixtures/real/responses/`, without the HTTP head of a capture.
fn body(name: &str) -> Vec<u8> {
    common::real_response(name)
}

fn get_user(name: &str) -> User {
    decode::<User>(&body(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .success()
        .unwrap()
}

/// The values SetUser could send back: what an edit of an imported user holds.
fn settable(user: &User) -> FlatUser {
    user.to_flat()
        .iter()
        .filter(|(k, _)| k.attribute.info().ops.set)
        .map(|(k, v)| (*k, v.clone()))
        .collect()
}

fn assert_valid(user: &User, site: &SiteProfile) {
    let change = settable(user);
    assert!(change.len() > 50, "decoded only {} values", change.len());
    let violations = validate(&change, Operation::Update, site);
    assert!(
        violations.is_empty(),
        "the site's own values were refused:\n{}",
        violations
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The Atlas test site: its GetSite and LstMeetingType, captured with the user.
fn atlas_site() -> SiteProfile {
    let site = decode::<SiteInstance>(&body("getSite_atlas_examplesite.xml"))
        .unwrap()
        .success()
        .unwrap();
    let mut profile = SiteProfile::from_site(&site);
    let types = decode::<MeetingTypeList>(&body("lstMeetingType_atlas.xml"))
        .unwrap()
        .success()
        .unwrap();
    profile.add_meeting_types(&types);
    profile
}

#[test]
fn the_atlas_user_is_valid_on_its_own_site() {
    assert_valid(&get_user("getUser_atlas_examplesite.xml"), &atlas_site());
}

/// The erolms capture comes without its site's GetSite (the gem recorded no
/// GetSite), so no gate of that site is known: every feature is on and no
/// session type list is given. What remains checked is every value rule
/// (types, formats, enumerations) and every cross-field rule.
#[test]
fn the_erolms_user_is_valid_on_a_site_with_every_feature() {
    let mut open = SiteProfile::new();
    for f in FEATURES.iter() {
        open.set_feature(f.feature, true);
    }
    assert_valid(&get_user("erolms_user_get_user_response_good.http"), &open);
}
