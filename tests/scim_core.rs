//! The SCIM mapping, filters and PATCH shapes, in the forms Okta and Entra send
//! (identity-providers.md §1c, §2a, §2b). The HTTP server comes next.
#![cfg(feature = "scim")]

use serde_json::json;
use wbxprov::schema::{ATTRIBUTES, FlatKey, Value};
use wbxprov::scim::extension_schema;
use wbxprov::scim::filter::FilterError;
use wbxprov::scim::user::{CORE, EXTENSION};
use wbxprov::scim::{Filter, ScimType, from_scim, patch, to_scim};

#[path = "scim/hostile.rs"]
mod hostile;

fn get(flat: &wbxprov::FlatUser, k: &str) -> Option<Value> {
    flat.get(&k.parse::<FlatKey>().unwrap()).cloned()
}

fn text(s: &str) -> Option<Value> {
    Some(Value::Text(s.into()))
}

#[test]
fn an_okta_create_body_maps_to_catalogue_attributes() {
    let body = json!({
        "schemas": [CORE],
        "userName": "jdoe@example.com",
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"primary": true, "value": "jdoe@example.com", "type": "work"}],
        "displayName": "Jane Doe",
        "locale": "en-US",
        "externalId": "00u1",
        "groups": [],
        "password": "S3cret-Pa55",
        "active": true
    });
    let (user, external) = from_scim(&body).unwrap();
    assert_eq!(external.as_deref(), Some("00u1"));
    assert_eq!(get(&user, "webExId"), text("jdoe@example.com"));
    assert_eq!(get(&user, "email"), text("jdoe@example.com"));
    assert_eq!(get(&user, "firstName"), text("Jane"));
    assert_eq!(get(&user, "lastName"), text("Doe"));
    assert_eq!(get(&user, "active"), text("ACTIVATED"));
    assert!(
        matches!(get(&user, "password"), Some(Value::Secret(s)) if s.expose() == "S3cret-Pa55")
    );
    // And back: the SCIM view never shows the password.
    let scim = to_scim(&user, "id-1", external.as_deref(), "/scim/v2/Users/id-1");
    assert_eq!(scim["userName"], "jdoe@example.com");
    assert_eq!(scim["name"]["familyName"], "Doe");
    assert_eq!(scim["emails"][0]["value"], "jdoe@example.com");
    assert_eq!(scim["active"], true);
    assert!(
        scim[EXTENSION].get("password").is_none(),
        "secrets are not in the extension: {scim}"
    );
    assert!(!scim.to_string().contains("S3cret-Pa55"));
}

#[test]
fn extension_attributes_and_string_booleans_are_taken() {
    let body = json!({
        "userName": "jdoe",
        "active": "False",
        (EXTENSION): {"privilegeHQvideo": "True", "meetingTypes": [214, 216], "userId": 5}
    });
    let (user, _) = from_scim(&body).unwrap();
    assert_eq!(get(&user, "active"), text("DEACTIVATED"));
    assert_eq!(get(&user, "privilegeHQvideo"), Some(Value::Bool(true)));
    assert_eq!(
        get(&user, "meetingTypes"),
        Some(Value::IntList(vec![214, 216]))
    );
    assert_eq!(
        get(&user, "userId"),
        None,
        "read-only attributes are ignored on input"
    );
    let err = from_scim(&json!({"userName": "x", (EXTENSION): {"privilegeHost": 3}})).unwrap_err();
    assert!(
        matches!(&err, wbxprov::scim::user::BadUser::Values(errors) if errors.len() == 1),
        "{err:?}"
    );
    assert!(err.to_string().contains("privilegeHost"), "{err}");
}

#[test]
fn filters_idps_send() {
    let user = json!({
        "userName": "JDoe@Example.com", "externalId": "00u1", "active": true,
        "emails": [{"value": "jdoe@example.com", "type": "work"}, {"value": "x@y.z", "type": "other"}],
        "name": {"givenName": "Jane"}
    });
    for (filter, expected) in [
        (r#"userName eq "jdoe@example.com""#, true),
        (r#"userName eq "other""#, false),
        (r#"externalId eq "00u1" and active eq true"#, true),
        (r#"userName sw "jdoe" or externalId eq "nope""#, true),
        (r#"emails.value co "example""#, true),
        (
            r#"emails[type eq "work"].value eq "jdoe@example.com""#,
            true,
        ),
        (
            r#"emails[type eq "other"].value eq "jdoe@example.com""#,
            false,
        ),
        (r#"name.givenName pr"#, true),
        (r#"name.familyName pr"#, false),
        (r#"not (active eq false)"#, true),
        (
            r#"(userName eq "a" or userName eq "jdoe@example.com") and active eq "True""#,
            true,
        ),
    ] {
        let f: Filter = filter.parse().unwrap_or_else(|e| panic!("{filter}: {e}"));
        assert_eq!(f.matches(&user), expected, "{filter}");
    }
    for bad in [
        r#"userName zz "x""#,
        r#"userName eq "x"#,
        "(userName eq 1",
        "userName eq",
    ] {
        assert!(bad.parse::<Filter>().is_err(), "{bad}");
    }
}

#[test]
fn patch_shapes_of_okta_and_entra() {
    let mut user = json!({
        "schemas": [CORE, EXTENSION], "userName": "jdoe", "active": true,
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"value": "jdoe@example.com", "type": "work", "primary": true}]
    });
    // Okta deactivation: no path, lowercase op.
    patch::apply(
        &mut user,
        &json!({"Operations": [{"op": "replace", "value": {"active": false}}]}),
    )
    .unwrap();
    assert_eq!(user["active"], false);
    // Entra legacy: capitalised op, the string "False"/"True".
    patch::apply(
        &mut user,
        &json!({"Operations": [{"op": "Replace", "path": "active", "value": "True"}]}),
    )
    .unwrap();
    let (flat, _) = from_scim(&user).unwrap();
    assert_eq!(get(&flat, "active"), text("ACTIVATED"));
    // Entra: value-filtered path, dotted path.
    patch::apply(
        &mut user,
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "jane@example.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Smith"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "1,408,5550101"}
        ]}),
    )
    .unwrap();
    let (flat, _) = from_scim(&user).unwrap();
    assert_eq!(get(&flat, "email"), text("jane@example.com"));
    assert_eq!(get(&flat, "lastName"), text("Smith"));
    assert_eq!(get(&flat, "phonesMobilePhone"), text("1,408,5550101"));
    // Entra with the 2020 flag: replace without a path, dotted and URN-qualified keys.
    patch::apply(
        &mut user,
        &json!({"Operations": [{"op": "replace", "value": {
            "name.givenName": "Janet",
            (format!("{EXTENSION}:privilegeHost")): true,
            "title": "Engineer"
        }}]}),
    )
    .unwrap();
    let (flat, _) = from_scim(&user).unwrap();
    assert_eq!(get(&flat, "firstName"), text("Janet"));
    assert_eq!(get(&flat, "privilegeHost"), Some(Value::Bool(true)));
    assert_eq!(get(&flat, "title"), text("Engineer"));
    // Remove.
    patch::apply(
        &mut user,
        &json!({"Operations": [{"op": "Remove", "path": "title"}]}),
    )
    .unwrap();
    assert!(user.get("title").is_none());
    assert!(
        patch::apply(
            &mut user,
            &json!({"Operations": [{"op": "move", "path": "x"}]})
        )
        .is_err()
    );
}

#[test]
fn the_extension_schema_lists_every_catalogue_attribute() {
    let schema = extension_schema();
    let attrs = schema["attributes"].as_array().unwrap();
    assert_eq!(attrs.len(), ATTRIBUTES.len());
    let by = |n: &str| attrs.iter().find(|a| a["name"] == n).unwrap();
    assert_eq!(by("privilegeHQvideo")["type"], "boolean");
    assert_eq!(by("userId")["mutability"], "readOnly");
    // The password goes in through the core `password`: one way in.
    assert_eq!(by("password")["mutability"], "readOnly");
    assert_eq!(by("password")["returned"], "never");
    assert!(
        by("email")["description"]
            .as_str()
            .unwrap()
            .contains("emails[type eq \"work\"].value")
    );
    assert_eq!(by("phonesPIN")["mutability"], "writeOnly");
    assert_eq!(by("phonesPIN")["returned"], "never");
    assert_eq!(by("privilegeHQvideo")["mutability"], "readWrite");
    assert!(
        attrs.iter().all(|a| a["required"] == false),
        "userName carries the one required value"
    );
    assert_eq!(by("meetingTypes")["multiValued"], true);
    assert!(
        by("active")["canonicalValues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "DEACTIVATED")
    );
}

#[test]
fn patch_on_complex_attributes_and_whole_extensions() {
    let mut user = json!({
        "userName": "jdoe",
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"value": "old@example.com", "type": "work"}]
    });
    // replace on a complex attribute sets the sub-attributes given, keeps the others.
    patch::apply(
        &mut user,
        &json!({"Operations": [{"op": "replace", "path": "name", "value": {"familyName": "Roe"}}]}),
    )
    .unwrap();
    assert_eq!(
        user["name"],
        json!({"givenName": "Jane", "familyName": "Roe"})
    );
    // add to a multi-valued attribute: an item of a type already there takes its place.
    patch::apply(
        &mut user,
        &json!({"Operations": [{"op": "add", "path": "emails", "value": [{"value": "new@example.com", "type": "work"}]}]}),
    )
    .unwrap();
    assert_eq!(
        user["emails"],
        json!([{"value": "new@example.com", "type": "work"}])
    );
    // A whole extension as the path.
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    patch::apply(
        &mut user,
        &json!({"Operations": [{"op": "add", "path": enterprise, "value": {"organization": "Acme"}}]}),
    )
    .unwrap();
    let (flat, _) = from_scim(&user).unwrap();
    assert_eq!(get(&flat, "company"), text("Acme"));
    patch::apply(
        &mut user,
        &json!({"Operations": [{"op": "remove", "path": enterprise}]}),
    )
    .unwrap();
    assert!(user.get(enterprise).is_none());
}

#[test]
fn attributes_a_core_attribute_carries_come_in_only_that_way() {
    // The extension's email and webExId are read-only: userName and emails win.
    let body = json!({
        "userName": "jdoe",
        "emails": [{"value": "core@example.com", "type": "work"}],
        (EXTENSION): {"email": "ext@example.com", "webExId": "other", "newWebExId": "x", "title": "CTO"}
    });
    let (flat, _) = from_scim(&body).unwrap();
    assert_eq!(get(&flat, "email"), text("core@example.com"));
    assert_eq!(get(&flat, "webExId"), text("jdoe"));
    assert_eq!(get(&flat, "newWebExId"), None);
    assert_eq!(
        get(&flat, "title"),
        None,
        "title is the core `title`, not the extension's"
    );
}

/// Filters built to exhaust the stack (issue 15 item 1): each is refused, none
/// overflows the parser, the matcher or the drop of a deep tree. They run on
/// a thread with a 2 MiB stack, a tokio worker's, where today's recursion dies.
fn on_a_server_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn hostile_filters_are_refused_without_overflowing() {
    for (shape, filter) in hostile::filters() {
        let refused = on_a_server_stack(move || filter.parse::<Filter>().err());
        let refused = refused.unwrap_or_else(|| panic!("{shape}: parsed"));
        assert!(
            [ScimType::InvalidFilter, ScimType::TooMany].contains(&refused.scim_type()),
            "{shape}: {refused}"
        );
    }
    // The 4 KB filter is within the length bound: its depth is what is refused.
    let four_kb = &hostile::filters()[0].1;
    assert!(four_kb.len() < wbxprov::scim::filter::MAX_LEN);
    assert_eq!(four_kb.parse::<Filter>(), Err(FilterError::TooDeep));
}

#[test]
fn hostile_patch_paths_are_refused_without_overflowing() {
    for (shape, path) in hostile::patch_paths() {
        let refused = on_a_server_stack(move || {
            let mut user =
                json!({"userName": "jdoe", "emails": [{"type": "work", "value": "a@b.c"}]});
            let body = json!({"Operations": [{"op": "replace", "path": path, "value": "x"}]});
            patch::apply(&mut user, &body).err()
        });
        let refused = refused.unwrap_or_else(|| panic!("{shape}: applied"));
        assert!(
            [ScimType::InvalidFilter, ScimType::InvalidPath].contains(&refused.scim_type()),
            "{shape}: {refused}"
        );
    }
}
