//! The feature-gated validator: every gate of the catalogue, every rule, all
#![cfg(feature = "validate")]
//! violations at once; and site profiles from GetSite and TOML.

mod common;

use wbxprov::schema::{ATTRIBUTES, FEATURES, Feature, FlatKey, FlatUser, Value};
use wbxprov::site::{LicenceLimits, ProfileError, SessionType, SessionTypeLimit, SiteProfile};
use wbxprov::validate::{Operation, Rule, Violation, check_update, validate, validate_update};
use wbxprov::xml::decode;
use wbxprov::{Secret, ops};

fn key(s: &str) -> FlatKey {
    s.parse().unwrap()
}

fn flat(pairs: &[(&str, Value)]) -> FlatUser {
    pairs.iter().map(|(k, v)| (key(k), v.clone())).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// Every feature on, the fixture site's session types.
fn open_site() -> SiteProfile {
    let mut p = SiteProfile::new();
    for f in FEATURES.iter() {
        p.set_feature(f.feature, true);
    }
    p.meeting_types = vec![
        SessionType {
            id: 214,
            name: Some("PRO".into()),
            service: Some("MeetingCenter".into()),
        },
        SessionType {
            id: 216,
            name: Some("ONS".into()),
            service: Some("EventCenter".into()),
        },
    ];
    p
}

fn rules(violations: &[Violation]) -> Vec<(String, Rule)> {
    violations
        .iter()
        .map(|v| (v.attribute.to_string(), v.rule))
        .collect()
}

fn only(change: &FlatUser, op: Operation, site: &SiteProfile) -> Violation {
    let mut all = validate(change, op, site);
    assert_eq!(all.len(), 1, "expected one violation, got {all:#?}");
    all.remove(0)
}

#[test]
fn every_gate_rejects_when_its_feature_is_off_and_accepts_when_on() {
    let mut checked = 0;
    for feature in FEATURES.iter() {
        // Read-only gated attributes (personalMeetingRoomURL …) are refused for what they are.
        for info in feature
            .feature
            .gated_attributes()
            .filter(|a| a.ops.create || a.ops.set)
        {
            let op = if info.ops.create {
                Operation::Create
            } else {
                Operation::Update
            };
            let change: FlatUser = [(FlatKey::new(info.attribute), common::sample_value(info, 0))]
                .into_iter()
                .collect();
            // The sample is set ("non-default"), or the gate has nothing to say.
            let mut site = open_site();
            let on = validate(&change, op, &site);
            assert!(
                on.iter().all(|v| v.rule != Rule::Feature),
                "{} with every feature on: {on:#?}",
                info.name
            );
            site.set_feature(feature.feature, false);
            let off = validate(&change, op, &site);
            let gate: Vec<&Violation> = off.iter().filter(|v| v.rule == Rule::Feature).collect();
            assert_eq!(
                gate.len(),
                1,
                "{} with {} off: {off:#?}",
                info.name,
                feature.name
            );
            assert_eq!(gate[0].attribute, FlatKey::new(info.attribute));
            assert!(
                gate[0]
                    .message
                    .contains(&format!("site feature {} is off", feature.name)),
                "{}",
                gate[0].message
            );
            // The default value is always allowed.
            let default: FlatUser = [(
                FlatKey::new(info.attribute),
                match common::sample_value(info, 0) {
                    Value::Bool(_) => Value::Bool(false),
                    Value::Int(_) => Value::Int(0),
                    Value::IntList(_) => Value::IntList(vec![]),
                    Value::TextList(_) => Value::TextList(vec![]),
                    Value::Secret(_) => Value::Secret(Secret::new("")),
                    Value::Text(_) => text(""),
                },
            )]
            .into_iter()
            .collect();
            assert!(
                validate(&default, op, &site)
                    .iter()
                    .all(|v| v.rule != Rule::Feature),
                "{} default",
                info.name
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} gated attributes");
}

#[test]
fn the_message_says_what_the_admin_must_do() {
    let mut site = open_site();
    site.set_feature(Feature::OtherTeleconferencing, false);
    let v = only(
        &flat(&[("privilegeOtherTelephony", Value::Bool(true))]),
        Operation::Update,
        &site,
    );
    assert_eq!(
        v.message,
        "privilegeOtherTelephony=true: site feature otherTeleconferencing is off — remove the mapping or enable the feature on the site"
    );
    site.set_feature(Feature::HqVideo, false);
    site.set_feature(Feature::HdVideo, false);
    let v = only(
        &flat(&[("privilegeHDvideo", Value::Bool(true))]),
        Operation::Update,
        &site,
    );
    assert!(
        v.message
            .contains("site features hdVideo and hqVideo are off"),
        "{}",
        v.message
    );
}

#[test]
fn five_distinct_faults_give_exactly_five_violations() {
    let mut site = open_site();
    site.set_feature(Feature::Voip, false);
    let change = flat(&[
        ("webExId", text("jdoe")),
        ("email", text("not-an-email")),                  // format
        ("privilegeVoiceOverIp", Value::Bool(true)),      // feature off
        ("personalUrl", text("jdoe")),                    // update-only
        ("meetingTypes", Value::IntList(vec![214, 999])), // not a site session type
        ("supportedServicesMeetingCenter", Value::Bool(true)),
        ("supportedServicesEventCenter", Value::Bool(false)),
        ("supportedServicesTrainingCenter", Value::Bool(false)),
        ("supportedServicesSupportCenter", Value::Bool(false)),
        ("supportedServicesSalesCenter", Value::Bool(false)),
        ("tspAccountAccountIndex", Value::Int(4)), // range
    ]);
    let v = validate(&change, Operation::Create, &site);
    assert_eq!(
        rules(&v),
        [
            ("email".to_owned(), Rule::Format),
            ("personalUrl".to_owned(), Rule::Operation),
            ("meetingTypes".to_owned(), Rule::SessionType),
            ("privilegeVoiceOverIp".to_owned(), Rule::Feature),
            ("tspAccountAccountIndex".to_owned(), Rule::Range),
        ]
    );
}

#[test]
fn catalogue_rules_type_range_length_enum_format_date() {
    let site = open_site();
    let cases: [(&str, Value, Rule); 10] = [
        ("privilegeHost", text("yes"), Rule::Type),
        (
            "categoryId",
            Value::Int(i64::from(i32::MAX) + 1),
            Rule::Range,
        ),
        ("timeZoneID", Value::Int(62), Rule::Range),
        ("webExId", text(&"x".repeat(65)), Rule::Length),
        ("active", text("ENABLED"), Rule::Enum),
        ("timeZone", text("Mars/Olympus"), Rule::Enum),
        ("phonesPhone", text("+1 408 555 1212"), Rule::Format),
        ("email", text("jdoe@"), Rule::Format),
        ("expirationDate", text("2030-12-31"), Rule::Format),
        ("tspAccountNbrDialOut", text("LOCAL"), Rule::Enum),
    ];
    for (name, value, rule) in cases {
        let v = only(&flat(&[(name, value)]), Operation::Update, &site);
        assert_eq!((v.attribute, v.rule), (key(name), rule), "{}", v.message);
    }
    let ok = flat(&[
        ("phonesPhone", text("1,408,5551212")),
        ("email", text("jdoe@example.com")),
        ("expirationDate", text("12/31/2030 23:59:59")),
        ("personalUrl", text("jane.doe_1-x")),
        ("webExId", text(&"é".repeat(64))),
    ]);
    assert_eq!(validate(&ok, Operation::Update, &site), []);
    let v = only(
        &flat(&[("personalUrl", text("jane doe!"))]),
        Operation::Update,
        &site,
    );
    assert_eq!(v.rule, Rule::Format);
}

#[test]
fn operation_rules_update_only_read_only_create_only_identity() {
    let mut site = open_site();
    let v = only(
        &flat(&[("personalUrl", text("jdoe"))]),
        Operation::Create,
        &site,
    );
    assert!(v.message.contains("update-only"), "{}", v.message);
    let v = only(
        &flat(&[("userId", Value::Int(1))]),
        Operation::Update,
        &site,
    );
    assert!(v.message.contains("read-only"), "{}", v.message);
    let v = only(
        &flat(&[("sendWelcome", Value::Bool(true))]),
        Operation::Update,
        &site,
    );
    assert!(v.message.contains("create-only"), "{}", v.message);
    // On a Control-Hub-managed site the identity attributes cannot be updated here.
    site.control_hub_managed = true;
    let v = only(
        &flat(&[("lastName", text("Doe"))]),
        Operation::Update,
        &site,
    );
    assert_eq!(v.rule, Rule::Identity);
    assert_eq!(
        validate(
            &flat(&[("lastName", text("Doe"))]),
            Operation::Create,
            &site
        ),
        []
    );
}

#[test]
fn cross_field_rules() {
    let site = open_site();
    let check = |pairs: &[(&str, Value)], op: Operation, want: (&str, Rule)| {
        let v = only(&flat(pairs), op, &site);
        assert_eq!(
            (v.attribute, v.rule),
            (key(want.0), want.1),
            "{}",
            v.message
        );
        v
    };
    // HD needs HQ.
    check(
        &[("privilegeHDvideo", Value::Bool(true))],
        Operation::Create,
        ("privilegeHDvideo", Rule::HdNeedsHq),
    );
    check(
        &[
            ("privilegeHDvideo", Value::Bool(true)),
            ("privilegeHQvideo", Value::Bool(false)),
        ],
        Operation::Update,
        ("privilegeHDvideo", Rule::HdNeedsHq),
    );
    assert_eq!(
        validate(
            &flat(&[("privilegeHDvideo", Value::Bool(true))]),
            Operation::Update,
            &site
        ),
        []
    );
    // Session types.
    check(
        &[("sessionOptionsDefaultSessionType", Value::Int(999))],
        Operation::Update,
        ("sessionOptionsDefaultSessionType", Rule::SessionType),
    );
    let services = [
        ("supportedServicesMeetingCenter", Value::Bool(true)),
        ("supportedServicesEventCenter", Value::Bool(false)),
        ("supportedServicesTrainingCenter", Value::Bool(false)),
        ("supportedServicesSupportCenter", Value::Bool(false)),
        ("supportedServicesSalesCenter", Value::Bool(false)),
    ];
    let mut pairs = services.to_vec();
    pairs.push(("meetingTypes", Value::IntList(vec![214])));
    pairs.push(("sessionOptionsDefaultSessionType", Value::Int(216)));
    check(
        &pairs,
        Operation::Update,
        ("sessionOptionsDefaultSessionType", Rule::SessionType),
    );
    // supportedServices explicit when meetingTypes are set: one violation per missing service.
    let v = validate(
        &flat(&[
            ("meetingTypes", Value::IntList(vec![214])),
            ("supportedServicesMeetingCenter", Value::Bool(true)),
        ]),
        Operation::Update,
        &site,
    );
    assert_eq!(v.len(), 4, "{v:#?}");
    assert!(v.iter().all(|v| v.rule == Rule::SupportedServices));
    // The default service must be enabled.
    let mut no_sales = open_site();
    no_sales.set_feature(Feature::SalesCenter, false);
    let v = only(
        &flat(&[("sessionOptionsDefaultServiceType", text("SalesCenter"))]),
        Operation::Update,
        &no_sales,
    );
    assert_eq!(v.rule, Rule::Service);
    // Time zone pair.
    check(
        &[
            ("timeZoneID", Value::Int(4)),
            ("timeZone", text(wbxprov::schema::TIME_ZONES[5])),
        ],
        Operation::Update,
        ("timeZone", Rule::TimeZone),
    );
    assert_eq!(
        validate(
            &flat(&[
                ("timeZoneID", Value::Int(4)),
                ("timeZone", text(wbxprov::schema::TIME_ZONES[4]))
            ]),
            Operation::Update,
            &site
        ),
        []
    );
    // Repeated groups: no gaps, no duplicate accountIndex.
    check(
        &[("tspAccountAccountIndex[2]", Value::Int(2))],
        Operation::Update,
        ("tspAccountAccountIndex[2]", Rule::RepeatedGroup),
    );
    check(
        &[
            ("tspAccountAccountIndex", Value::Int(2)),
            ("tspAccountAccountIndex[2]", Value::Int(2)),
        ],
        Operation::Update,
        ("tspAccountAccountIndex[2]", Rule::RepeatedGroup),
    );
    // Paired phones.
    check(
        &[
            ("phonesPhone", text("1,408,5551212")),
            ("phonesMobilePhone", text("")),
        ],
        Operation::Update,
        ("phonesMobilePhone", Rule::Phone),
    );
    // WebACD coherence.
    check(
        &[
            ("webACDPrefsIsAgent", Value::Bool(false)),
            ("webACDPrefsNumAgentSessions", Value::Int(2)),
        ],
        Operation::Update,
        ("webACDPrefsNumAgentSessions", Rule::WebAcd),
    );
    check(
        &[
            ("webACDPrefsIsMgr", Value::Bool(false)),
            ("webACDPrefsMonitorAllRSAgents", Value::Bool(true)),
        ],
        Operation::Update,
        ("webACDPrefsMonitorAllRSAgents", Rule::WebAcd),
    );
}

#[test]
fn passwords_meet_the_site_criteria_and_are_never_shown() {
    let bytes = std::fs::read(common::repo_root().join("fixtures/responses/getsite.xml")).unwrap();
    let site = SiteProfile::from_site(
        &decode::<ops::SiteInstance>(&bytes)
            .unwrap()
            .success()
            .unwrap(),
    );
    let secret = "aaab1";
    let change = flat(&[
        ("webExId", text("jdoe")),
        ("password", Value::Secret(Secret::new(secret))),
    ]);
    let v = only(&change, Operation::Create, &site);
    assert_eq!(v.rule, Rule::Password);
    for broken in [
        "at least 8 characters",
        "at least 1 special",
        "upper- and lower-case",
        "three times in a row",
    ] {
        assert!(v.message.contains(broken), "{broken}: {}", v.message);
    }
    assert!(
        !v.message.contains(secret) && v.message.starts_with("password=***"),
        "{}",
        v.message
    );
    let listed = flat(&[("password", Value::Secret(Secret::new("WebEx")))]);
    assert!(
        only(&listed, Operation::Update, &site)
            .message
            .contains("disallowed passwords")
    );
    let own_name = flat(&[
        ("webExId", text("jdoe")),
        ("password", Value::Secret(Secret::new("Xjdoe-2024!a"))),
    ]);
    assert!(
        only(&own_name, Operation::Create, &site)
            .message
            .contains("Webex ID, name or email")
    );
    let good = flat(&[
        ("webExId", text("jdoe")),
        ("password", Value::Secret(Secret::new("Tr0ub4dor&3x"))),
    ]);
    assert_eq!(validate(&good, Operation::Create, &site), []);
    // GetUser's `******` is never a password to push back.
    let masked = flat(&[("password", Value::Secret(Secret::new("******")))]);
    assert!(
        only(&masked, Operation::Update, &open_site())
            .message
            .contains("mask GetUser returns")
    );
}

#[test]
fn licence_limits_are_a_function_of_the_counts() {
    let mut site = open_site();
    site.limits = Some(LicenceLimits {
        site_hosts: Some(10),
        current_site_hosts: Some(10),
        session_types: vec![SessionTypeLimit {
            id: 214,
            hosts: 5,
            current_hosts: Some(5),
        }],
    });
    let mut pairs = vec![
        ("webExId", text("jdoe")),
        ("meetingTypes", Value::IntList(vec![214])),
        ("supportedServicesMeetingCenter", Value::Bool(true)),
        ("supportedServicesEventCenter", Value::Bool(false)),
        ("supportedServicesTrainingCenter", Value::Bool(false)),
        ("supportedServicesSupportCenter", Value::Bool(false)),
        ("supportedServicesSalesCenter", Value::Bool(false)),
    ];
    let v = validate(&flat(&pairs), Operation::Create, &site);
    assert_eq!(
        rules(&v),
        [
            ("meetingTypes".to_owned(), Rule::LicenceLimit),
            ("active".to_owned(), Rule::LicenceLimit)
        ]
    );
    assert!(
        v[0].message
            .contains("User limit exceeded for Session Type 214"),
        "{}",
        v[0].message
    );
    // A deactivated user takes no host licence; one free licence is enough.
    pairs.push(("active", text("DEACTIVATED")));
    let v = validate(&flat(&pairs), Operation::Create, &site);
    assert_eq!(rules(&v), [("meetingTypes".to_owned(), Rule::LicenceLimit)]);
    let limits = site.limits.as_mut().unwrap();
    limits.current_site_hosts = Some(9);
    limits.session_types[0].current_hosts = Some(4);
    pairs.pop();
    assert_eq!(validate(&flat(&pairs), Operation::Create, &site), []);
    // Reactivation counts against the site limit.
    site.limits.as_mut().unwrap().current_site_hosts = Some(10);
    let v = only(
        &flat(&[("active", text("ACTIVATED"))]),
        Operation::Update,
        &site,
    );
    assert!(v.message.contains("exceededSiteHostLimit"), "{}", v.message);
}

#[test]
fn every_readable_fixture_user_is_valid_on_its_own_site() {
    // The live-2016 GetUser and the GetSite fixture describe one consistent site.
    let read = |name: &str| {
        std::fs::read(common::repo_root().join("fixtures/responses").join(name)).unwrap()
    };
    let site = SiteProfile::from_site(
        &decode::<ops::SiteInstance>(&read("getsite.xml"))
            .unwrap()
            .success()
            .unwrap(),
    );
    let user = decode::<wbxprov::User>(&read("getuser-live-2016.xml"))
        .unwrap()
        .success()
        .unwrap();
    let change: FlatUser = user
        .to_flat()
        .into_iter()
        .filter(|(k, _)| k.attribute.info().ops.set)
        .collect();
    let v = validate(&change, Operation::Update, &site);
    assert_eq!(v, [], "{v:#?}");
}

#[test]
fn profiles_round_trip_through_toml() {
    let read = |name: &str| {
        std::fs::read(common::repo_root().join("fixtures/responses").join(name)).unwrap()
    };
    let site = decode::<ops::SiteInstance>(&read("getsite.xml"))
        .unwrap()
        .success()
        .unwrap();
    let mut profile = SiteProfile::from_site(&site);
    let types = decode::<ops::MeetingTypeList>(&read("lstmeetingtype.xml"))
        .unwrap()
        .success()
        .unwrap();
    profile.add_meeting_types(&types);
    assert_eq!(
        profile.session_type(216).unwrap().service.as_deref(),
        Some("EventCenter")
    );
    profile.limits = Some(LicenceLimits {
        site_hosts: Some(100),
        current_site_hosts: Some(42),
        session_types: vec![SessionTypeLimit {
            id: 214,
            hosts: 50,
            current_hosts: None,
        }],
    });
    let toml = profile.to_toml();
    let back = SiteProfile::from_toml(&toml, std::path::Path::new(".")).unwrap();
    assert_eq!(back, profile);
    // Every feature is written out, for a person to edit.
    for f in FEATURES.iter() {
        assert!(toml.contains(&format!("\n{} = ", f.name)), "{}", f.name);
    }
}

#[test]
fn a_toml_profile_overrides_a_saved_getsite_and_refuses_unknown_features() {
    let dir = common::repo_root().join("fixtures/responses");
    let toml = "getSite = \"getsite.xml\"\n[features]\ntrackingCodes = true\nhdVideo = false\n";
    let p = SiteProfile::from_toml(toml, &dir).unwrap();
    assert!(p.feature(Feature::TrackingCodes));
    assert!(!p.feature(Feature::HdVideo));
    assert!(p.feature(Feature::HqVideo), "the rest comes from GetSite");
    assert_eq!(p.site_name.as_deref(), Some("example"));
    let err = SiteProfile::from_toml("[features]\nhdvideo = true\n", &dir).unwrap_err();
    assert!(
        matches!(&err, ProfileError::UnknownFeatures { unknown, known }
            if unknown == &["hdvideo"] && known.contains(&"hdVideo")),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("unknown feature(s) hdvideo"),
        "{err}"
    );
    let err = SiteProfile::from_toml("siteNmae = \"x\"\n", &dir).unwrap_err();
    assert!(matches!(err, ProfileError::Syntax(_)), "{err:?}");
    assert!(err.to_string().contains("siteNmae"), "{err}");
}

#[test]
fn no_attribute_escapes_the_catalogue_rules() {
    // A value of the wrong kind for every attribute is caught, whatever its type.
    let site = open_site();
    for info in ATTRIBUTES.iter().filter(|a| a.ops.set) {
        let wrong = match common::sample_value(info, 0) {
            Value::Bool(_) => text("x"),
            _ => Value::Bool(true),
        };
        let change: FlatUser = [(FlatKey::new(info.attribute), wrong)]
            .into_iter()
            .collect();
        let v = validate(&change, Operation::Update, &site);
        assert!(
            v.iter().any(|v| v.rule == Rule::Type),
            "{}: {v:#?}",
            info.name
        );
    }
}

#[test]
fn check_names_the_user_and_lists_every_violation() {
    let mut site = open_site();
    site.set_feature(Feature::HqVideo, false);
    let change = flat(&[
        ("webExId", text("jdoe")),
        ("privilegeHQvideo", Value::Bool(true)),
        ("email", text("x")),
    ]);
    let err = wbxprov::validate::check(&change, Operation::Update, &site).unwrap_err();
    assert_eq!(err.violations.len(), 2);
    let shown = err.to_string();
    assert!(
        shown.starts_with("jdoe: 2 violation(s), nothing sent (update)"),
        "{shown}"
    );
    assert!(
        shown.contains("privilegeHQvideo=true: site feature hqVideo is off"),
        "{shown}"
    );
    assert!(
        wbxprov::validate::check(
            &flat(&[("webExId", text("jdoe"))]),
            Operation::Update,
            &site
        )
        .is_ok()
    );
}

/// Issue 16 item 4: what live sites return is accepted — a phone holding only
/// the country code among seven fields, an expirationDate `none` (the erolms
/// GetUser capture of fixtures/real) — and what is no phone or date still is not.
#[test]
fn live_phone_and_date_shapes_are_accepted() {
    let site = open_site();
    for ok in [
        "49,,,,,,",
        "1,408,5551212,,,,",
        "1,,5551212",
        "1,408,5551212",
    ] {
        let change = flat(&[("phonesPager", text(ok)), ("expirationDate", text("none"))]);
        assert_eq!(validate(&change, Operation::Update, &site), [], "{ok}");
    }
    for bad in [
        ",408,5551212",
        "49",
        "1,408",
        "1,2,3,4,5,6,7,8",
        "1,408,555-1212",
    ] {
        let v = only(
            &flat(&[("phonesPager", text(bad))]),
            Operation::Update,
            &site,
        );
        assert_eq!(v.rule, Rule::Format, "{bad}");
    }
    for bad in ["None", "never", ""] {
        let change = flat(&[("expirationDate", text(bad))]);
        let v = only(&change, Operation::Update, &site);
        assert_eq!(v.rule, Rule::Format, "{bad:?}");
    }
}

/// A site offering Meeting Center and Event Center only (every other feature on).
fn two_services_site() -> SiteProfile {
    let mut site = open_site();
    for f in [
        Feature::TrainingCenter,
        Feature::SupportCenter,
        Feature::SalesCenter,
    ] {
        site.set_feature(f, false);
    }
    site
}

/// Issue 16 item 6: supportedServices must be explicit only for the services
/// the site offers; a service it does not have cannot be asked for.
#[test]
fn supported_services_are_required_only_for_the_site_services() {
    let site = two_services_site();
    let change = flat(&[
        ("meetingTypes", Value::IntList(vec![214])),
        ("supportedServicesMeetingCenter", Value::Bool(true)),
        ("supportedServicesEventCenter", Value::Bool(false)),
    ]);
    assert_eq!(validate(&change, Operation::Create, &site), []);
    let v = only(
        &flat(&[
            ("meetingTypes", Value::IntList(vec![214])),
            ("supportedServicesMeetingCenter", Value::Bool(true)),
        ]),
        Operation::Update,
        &site,
    );
    assert_eq!(
        (v.attribute, v.rule),
        (key("supportedServicesEventCenter"), Rule::SupportedServices)
    );
}

/// A user as GetUser shows it: every service explicit, HQ video off.
fn current_user() -> FlatUser {
    flat(&[
        ("webExId", text("jdoe")),
        ("meetingTypes", Value::IntList(vec![214])),
        ("supportedServicesMeetingCenter", Value::Bool(true)),
        ("supportedServicesEventCenter", Value::Bool(false)),
        ("supportedServicesTrainingCenter", Value::Bool(false)),
        ("supportedServicesSupportCenter", Value::Bool(false)),
        ("supportedServicesSalesCenter", Value::Bool(false)),
        ("privilegeHQvideo", Value::Bool(false)),
        ("privilegeHDvideo", Value::Bool(false)),
    ])
}

/// Issue 16 item 6: on an update the services the change leaves out are the
/// current user's.
#[test]
fn an_update_takes_unmapped_services_from_the_current_user() {
    let change = flat(&[("meetingTypes", Value::IntList(vec![214, 216]))]);
    assert_eq!(
        validate_update(&change, &current_user(), &two_services_site()),
        []
    );
    // Without the current user, the offered services must be in the change.
    assert_eq!(
        validate(&change, Operation::Update, &two_services_site()).len(),
        2
    );
}

/// Issue 16 item 7: cross-field rules judge the user as it will be. HD video
/// on a user whose HQ video is off is refused on update as on create.
#[test]
fn cross_field_rules_judge_current_plus_change() {
    let site = open_site();
    let hd = flat(&[("privilegeHDvideo", Value::Bool(true))]);
    let v = validate_update(&hd, &current_user(), &site);
    assert_eq!(rules(&v), [("privilegeHDvideo".into(), Rule::HdNeedsHq)]);
    let invalid = check_update(&hd, &current_user(), &site).unwrap_err();
    assert_eq!(invalid.operation, Operation::Update);
    assert_eq!(invalid.violations, v);
    // Switching HQ off under a user's HD video breaks it too, blamed on HD.
    let mut hd_user = current_user();
    hd_user.insert(key("privilegeHQvideo"), Value::Bool(true));
    hd_user.insert(key("privilegeHDvideo"), Value::Bool(true));
    let hq_off = flat(&[("privilegeHQvideo", Value::Bool(false))]);
    let v = validate_update(&hq_off, &hd_user, &site);
    assert_eq!(rules(&v), [("privilegeHDvideo".into(), Rule::HdNeedsHq)]);
    // With HQ on (in the change or already), HD is fine.
    let both = flat(&[
        ("privilegeHQvideo", Value::Bool(true)),
        ("privilegeHDvideo", Value::Bool(true)),
    ]);
    assert_eq!(validate_update(&both, &current_user(), &site), []);
    assert_eq!(validate_update(&hd, &hd_user, &site), []);
}

/// Issue 16 item 7: what the site already holds, and the change leaves alone,
/// is not the change's fault (the site's own data must stay editable).
#[test]
fn an_update_is_not_blamed_for_what_the_site_already_holds() {
    let site = open_site();
    let mut odd = current_user();
    odd.insert(key("privilegeHDvideo"), Value::Bool(true));
    let change = flat(&[("firstName", text("Jane"))]);
    assert_eq!(validate_update(&change, &odd, &site), []);
    // Single-attribute rules still judge what is sent.
    let bad = flat(&[("timeZoneID", Value::Int(99))]);
    assert_eq!(
        rules(&validate_update(&bad, &current_user(), &site)),
        [("timeZoneID".into(), Rule::Range)]
    );
}

/// Issue 16 item 7 in Control Hub mode: the Meetings half of a person the site
/// holds is judged as the user it makes.
#[test]
fn control_hub_meetings_half_is_judged_with_the_site_user() {
    use wbxprov::validate::control_hub::{validate_split, validate_split_over};
    let mut site = open_site();
    site.control_hub_managed = true;
    let user = flat(&[
        ("email", text("jdoe@example.com")),
        ("privilegeHDvideo", Value::Bool(true)),
    ]);
    assert_eq!(validate_split(&user, &site), []);
    let v = validate_split_over(&user, &current_user(), &site);
    assert_eq!(rules(&v), [("privilegeHDvideo".into(), Rule::HdNeedsHq)]);
}
