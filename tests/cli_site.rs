//! `wbxprov site`, `wbxprov validate` and `wbxprov attrs --site`, run as an admin runs them.
#![cfg(feature = "cli")]

mod common;

use std::process::Command;

use serde_json::Value as Json;
use wbxprov::schema::{ATTRIBUTES, FEATURES};

fn wbxprov(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wbxprov"))
        .args(args)
        .current_dir(common::repo_root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const GETSITE: &str = "fixtures/responses/getsite.xml";

fn temp(name: &str, contents: &str) -> String {
    let path = std::env::temp_dir().join(format!("wbxprov-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn site_inspect_json_has_every_feature_services_and_session_types() {
    let (code, stdout, stderr) = wbxprov(&["site", "inspect", GETSITE, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let json: Json = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["siteName"], "example");
    let features = json["features"].as_object().unwrap();
    let names: Vec<&str> = features.keys().map(String::as_str).collect();
    let expected: Vec<&str> = FEATURES.iter().map(|f| f.name).collect();
    assert_eq!(names, expected);
    assert!(features.values().all(Json::is_boolean));
    assert_eq!(json["features"]["trackingCodes"], false);
    assert_eq!(json["services"]["MeetingCenter"], true);
    assert_eq!(json["services"]["SalesCenter"], false);
    assert_eq!(json["meetingTypes"][0]["id"], 214);
    assert_eq!(json["meetingTypes"][1]["name"], "ONS");
    assert_eq!(json["passwordCriteria"]["minLength"], 8);
}

#[test]
fn site_export_writes_toml_that_inspects_the_same() {
    let (code, toml, _) = wbxprov(&["site", "export", GETSITE]);
    assert_eq!(code, 0);
    let file = temp("profile.toml", &toml);
    let (_, from_toml, stderr) = wbxprov(&["site", "inspect", &file, "--json"]);
    let (_, from_xml, _) = wbxprov(&["site", "inspect", GETSITE, "--json"]);
    assert_eq!(from_toml, from_xml, "{stderr}");
    // An edited TOML overrides what GetSite said.
    let edited = temp(
        "edited.toml",
        &toml.replace("trackingCodes = false", "trackingCodes = true"),
    );
    let (_, json, _) = wbxprov(&["site", "inspect", &edited, "--json"]);
    let json: Json = serde_json::from_str(&json).unwrap();
    assert_eq!(json["features"]["trackingCodes"], true);
    let broken = temp("broken.toml", "[features]\nnoSuchFeature = true\n");
    let (code, _, stderr) = wbxprov(&["site", "inspect", &broken]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("unknown feature(s) noSuchFeature"),
        "{stderr}"
    );
}

#[test]
fn validate_lists_every_violation_and_exits_4() {
    let user = temp(
        "user.json",
        r#"{"webExId": "jdoe", "email": "nope", "privilegeOtherTelephony": true,
            "personalUrl": "jdoe", "password": "short"}"#,
    );
    let (code, stdout, stderr) =
        wbxprov(&["validate", "--site", GETSITE, "--user", &user, "--json"]);
    assert_eq!(code, 4, "{stderr}");
    let v: Vec<Json> = serde_json::from_str(&stdout).unwrap();
    let found: Vec<(&str, &str)> = v
        .iter()
        .map(|v| {
            (
                v["attribute"].as_str().unwrap(),
                v["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("email", "format"),
            ("password", "password"),
            ("personalUrl", "operation"),
            ("privilegeOtherTelephony", "feature"),
        ]
    );
    assert!(!stdout.contains("short"), "the password is never shown");
    assert_eq!(
        v[3]["message"],
        "privilegeOtherTelephony=true: site feature otherTeleconferencing is off — remove the mapping or enable the feature on the site"
    );
    // As an update the personalUrl is fine.
    let (code, stdout, _) = wbxprov(&[
        "validate", "--site", GETSITE, "--user", &user, "--op", "update",
    ]);
    assert_eq!(code, 4);
    assert!(stdout.contains("3 violation(s)"), "{stdout}");
    let good = temp(
        "good.json",
        r#"{"webExId": "jdoe", "privilegeHQvideo": true}"#,
    );
    let (code, stdout, _) = wbxprov(&["validate", "--site", GETSITE, "--user", &good]);
    assert_eq!((code, stdout.trim()), (0, "valid: 2 attribute(s) checked"));
}

#[test]
fn attrs_on_a_site_marks_what_it_allows() {
    let (code, stdout, _) = wbxprov(&["attrs", "--json", "--site", GETSITE]);
    assert_eq!(code, 0);
    let rows: Vec<Json> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows.len(), ATTRIBUTES.len());
    let row = |name: &str| rows.iter().find(|r| r["name"] == name).unwrap();
    assert_eq!(row("privilegeHQvideo")["allowed"], true);
    assert_eq!(row("privilegeOtherTelephony")["allowed"], false);
    assert_eq!(
        row("privilegeOtherTelephony")["featuresOff"],
        serde_json::json!(["otherTeleconferencing"])
    );
    assert_eq!(row("firstName")["allowed"], true);
}

/// On a Control-Hub-managed site a CreateUser's password and active would be
/// ignored and its webExId must be the email (XML API 41.11): `validate` says
/// so before any call, never showing the password.
#[test]
fn validate_on_a_control_hub_site_refuses_what_create_user_would_ignore() {
    let site = temp("ch-site.toml", "controlHubManaged = true\n");
    let user = temp(
        "ch-user.json",
        r#"{"webExId": "jdoe", "email": "jdoe@example.com", "password": "PLANTED-pw-1",
            "active": "ACTIVATED"}"#,
    );
    let (code, stdout, stderr) = wbxprov(&[
        "validate", "--site", &site, "--user", &user, "--op", "create", "--json",
    ]);
    assert_eq!(code, 4, "{stdout}{stderr}");
    let v: Vec<Json> = serde_json::from_str(&stdout).unwrap();
    let found: Vec<(&str, &str)> = v
        .iter()
        .map(|v| {
            (
                v["attribute"].as_str().unwrap(),
                v["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("webExId", "identity"),
            ("password", "identity"),
            ("active", "identity"),
        ]
    );
    assert!(
        stdout.contains("41.11") && !stdout.contains("PLANTED"),
        "{stdout}"
    );
}
