//! The typed `User` model and its flat view.

use proptest::prelude::*;
use wbxprov::schema::{
    ATTRIBUTES, AttributeInfo, FlatKey, FlatUser, ScalarType, User, Value, ValueError,
};
use wbxprov::{Attribute, Secret};

fn key(s: &str) -> FlatKey {
    s.parse().unwrap()
}

#[test]
fn flat_keys_parse_and_print_with_one_based_slots() {
    assert_eq!(
        key("tspAccountCustom1"),
        FlatKey::with_slot(Attribute::TspAccountCustom1, 0)
    );
    assert_eq!(
        key("tspAccountCustom1[1]"),
        FlatKey::with_slot(Attribute::TspAccountCustom1, 0)
    );
    assert_eq!(
        key("tspAccountCustom1[3]"),
        FlatKey::with_slot(Attribute::TspAccountCustom1, 2)
    );
    assert_eq!(
        key("tspAccountCustom1[3]").to_string(),
        "tspAccountCustom1[3]"
    );
    assert_eq!(key("tspAccountCustom1[1]").to_string(), "tspAccountCustom1");
    for bad in [
        "tspAccountCustom1[4]",
        "tspAccountCustom1[0]",
        "firstName[2]",
        "firstname",
        "nope",
        "x[1",
    ] {
        assert!(bad.parse::<FlatKey>().is_err(), "{bad} should not parse");
    }
}

#[test]
fn typed_fields_and_flat_keys_address_the_same_values() {
    let mut u = User::default();
    u.set(key("webExId"), Some(Value::Text("jdoe".into())))
        .unwrap();
    u.set(key("privilegeHDvideo"), Some(Value::Bool(true)))
        .unwrap();
    u.set(key("meetingTypes"), Some(Value::IntList(vec![214, 216])))
        .unwrap();
    u.set(key("tspAccountAccountIndex[2]"), Some(Value::Int(2)))
        .unwrap();
    u.set(
        key("personalTeleconfAccountAccountIndex"),
        Some(Value::Int(1)),
    )
    .unwrap();
    u.set(key("password"), Some(Value::Text("S3cret!x".into())))
        .unwrap();
    assert_eq!(u.web_ex_id.as_deref(), Some("jdoe"));
    assert_eq!(u.privilege.hd_video, Some(true));
    assert_eq!(u.meeting_types, Some(vec![214, 216]));
    assert_eq!(u.tsp_account.len(), 2, "slot 2 creates slots 1 and 2");
    assert_eq!(u.tsp_account[1].account_index, Some(2));
    assert_eq!(u.tsp_account[0], Default::default());
    assert_eq!(u.personal_teleconf.account[0].account_index, Some(1));
    assert_eq!(u.password.as_ref().map(Secret::expose), Some("S3cret!x"));
    // Clearing a value.
    u.set(key("privilegeHDvideo"), None).unwrap();
    assert_eq!(u.privilege.hd_video, None);
    // The password never shows in Debug.
    assert!(!format!("{u:?}").contains("S3cret!x"));
}

#[test]
fn wrong_value_types_are_rejected_naming_the_attribute() {
    let mut u = User::default();
    let err = u
        .set(key("privilegeHost"), Some(Value::Text("yes".into())))
        .unwrap_err();
    assert!(matches!(err, ValueError::TypeMismatch { .. }));
    assert_eq!(err.to_string(), "privilegeHost: expected bool, got text");
    let err = u
        .set(key("meetingTypes"), Some(Value::Int(214)))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "meetingTypes: expected list(long), got integer"
    );
}

#[test]
fn flat_view_is_in_wire_order_with_repeated_groups_kept_together() {
    let mut u = User::default();
    for k in [
        "tspAccountCustom1[2]",
        "tspAccountAccountIndex[2]",
        "tspAccountCustom1",
        "tspAccountAccountIndex",
    ] {
        u.set(
            key(k),
            Some(if k.contains("Index") {
                Value::Int(1)
            } else {
                Value::Text("c".into())
            }),
        )
        .unwrap();
    }
    u.set(key("lastName"), Some(Value::Text("Doe".into())))
        .unwrap();
    u.set(key("userId"), Some(Value::Int(7))).unwrap();
    let order: Vec<String> = u.to_flat().iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(
        order,
        [
            "lastName",
            "tspAccountAccountIndex",
            "tspAccountCustom1",
            "tspAccountAccountIndex[2]",
            "tspAccountCustom1[2]",
            "userId"
        ]
    );
}

/// A value of the attribute's kind (not necessarily valid for its limits: the
/// model stores what it is given; the validator judges).
fn value_for(info: &'static AttributeInfo) -> BoxedStrategy<Value> {
    let text = "[ -~äéß’<>&\"']{0,12}";
    match (info.value_type.is_list(), info.value_type.scalar()) {
        (false, ScalarType::Bool) => any::<bool>().prop_map(Value::Bool).boxed(),
        (false, ScalarType::Int { .. }) => any::<i64>().prop_map(Value::Int).boxed(),
        (false, _) if info.secret => text.prop_map(|s| Value::Secret(Secret::new(s))).boxed(),
        (false, _) => text.prop_map(Value::Text).boxed(),
        (true, ScalarType::Int { .. }) => prop::collection::vec(any::<i64>(), 0..4)
            .prop_map(Value::IntList)
            .boxed(),
        (true, _) => prop::collection::vec(text, 0..4)
            .prop_map(Value::TextList)
            .boxed(),
    }
}

/// Any flat user: each (attribute, slot) present or not.
fn flat_user() -> impl Strategy<Value = FlatUser> {
    let entries: Vec<BoxedStrategy<Option<(FlatKey, Value)>>> = ATTRIBUTES
        .iter()
        .flat_map(|info| {
            let slots = info.repeat.map_or(1, |r| r.max);
            (0..slots).map(move |slot| {
                let key = FlatKey::with_slot(info.attribute, slot);
                prop::option::weighted(0.3, value_for(info).prop_map(move |v| (key, v))).boxed()
            })
        })
        .collect();
    entries.prop_map(|e| e.into_iter().flatten().collect())
}

proptest! {
    #[test]
    fn flat_to_user_to_flat_round_trips(flat in flat_user()) {
        let user = User::from_flat(&flat).unwrap();
        prop_assert_eq!(user.to_flat(), flat.clone());
        prop_assert_eq!(User::from_flat(&user.to_flat()).unwrap(), user);
    }

    #[test]
    fn flat_json_round_trips_and_masks_secrets(flat in flat_user()) {
        let revealed = flat.to_json(true);
        prop_assert_eq!(FlatUser::from_json(&revealed).unwrap(), flat.clone());
        let masked = serde_json::Value::Object(flat.to_json(false));
        for (key, value) in flat.iter() {
            // A set secret is masked; an empty one shows empty (issue 16 item 9).
            if let Value::Secret(secret) = value {
                let shown = if secret.is_empty() { "" } else { "***" };
                prop_assert_eq!(&masked[key.to_string()], shown);
            }
        }
    }
}

#[test]
fn flat_json_accepts_text_forms_and_reports_every_problem() {
    let json = serde_json::json!({
        "privilegeHost": "TRUE",
        "categoryId": "36",
        "addressZipCode": 94105,
        "meetingTypes": 214,
        "firstName": null,
    });
    let flat = FlatUser::from_json(json.as_object().unwrap()).unwrap();
    assert_eq!(flat.get(&key("privilegeHost")), Some(&Value::Bool(true)));
    assert_eq!(flat.get(&key("categoryId")), Some(&Value::Int(36)));
    assert_eq!(
        flat.get(&key("addressZipCode")),
        Some(&Value::Text("94105".into()))
    );
    assert_eq!(
        flat.get(&key("meetingTypes")),
        Some(&Value::IntList(vec![214]))
    );
    assert_eq!(flat.get(&key("firstName")), None);

    let bad = serde_json::json!({"privilegeHost": 1, "nope": true, "tspAccountAccountIndex[4]": 4});
    let errors = FlatUser::from_json(bad.as_object().unwrap()).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m == "privilegeHost: expected bool, got JSON number"),
        "{messages:?}"
    );
}
