//! `wbxprov decode` and `wbxprov render`, run as an admin runs them.
#![cfg(feature = "cli")]

mod common;

use common::Run;

use serde_json::Value as Json;

fn wbxprov(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    common::offline_cli(args, env, stdin.unwrap_or_default())
}

fn decode_json(fixture: &str, extra: &[&str]) -> (i32, Json) {
    let path = format!("fixtures/responses/{fixture}");
    let mut args = vec!["decode", "--json", path.as_str()];
    args.extend_from_slice(extra);
    let run = wbxprov(&args, &[], None);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{fixture}: {e}\n{}{}", run.stdout, run.stderr));
    (run.code, json)
}

#[test]
fn decode_get_user_prints_typed_flat_attributes() {
    let (code, json) = decode_json("getuser-live-2016.xml", &[]);
    assert_eq!(code, 0);
    assert_eq!(json["operation"], "GetUser");
    let user = &json["user"];
    assert_eq!(user["webExId"], "jdoe");
    assert_eq!(user["privilegeHQvideo"], true);
    assert_eq!(user["userId"], 962_225_390);
    assert_eq!(user["meetingTypes"], serde_json::json!([214, 216]));
    // Secrets are masked; the write-only password never appears.
    assert_eq!(user["personalMeetingRoomHostPIN"], "***");
    assert!(user.get("password").is_none());
    // Every key is a catalogue flat name.
    for key in user.as_object().unwrap().keys() {
        assert!(key.parse::<wbxprov::FlatKey>().is_ok(), "{key}");
    }
}

#[test]
fn decode_names_each_operation_by_what_its_body_holds() {
    let cases = [
        ("createuser-success.xml", "CreateUser", "created"),
        ("setuser-success.xml", "SetUser", "updated"),
        ("deluser-success.xml", "DelUser", "deleted"),
        ("lstsummaryuser-page.xml", "LstsummaryUser", "page"),
        (
            "authenticateuser-password.xml",
            "AuthenticateUser",
            "session",
        ),
        ("getsite.xml", "GetSite", "site"),
        ("lstmeetingtype.xml", "LstMeetingType", "meetingTypeList"),
        ("getuser-unprefixed.xml", "GetUser", "user"),
    ];
    for (fixture, operation, key) in cases {
        let (code, json) = decode_json(fixture, &[]);
        assert_eq!(
            (code, json["operation"].as_str()),
            (0, Some(operation)),
            "{fixture}"
        );
        assert!(json.get(key).is_some(), "{fixture}: no `{key}` in {json}");
    }
    let (_, created) = decode_json("createuser-success.xml", &[]);
    assert_eq!(created["created"]["userId"], 962_225_391);
    let (_, session) = decode_json("authenticateuser-password.xml", &[]);
    assert_eq!(session["session"]["sessionTicket"], "***");
    let (_, site) = decode_json("getsite.xml", &[]);
    assert_eq!(site["site"]["features"]["hqVideo"], true);
}

#[test]
fn decode_failure_prints_the_error_and_exits_3() {
    let (code, json) = decode_json(
        "failure-030001-user-not-found.xml",
        &["--operation", "getuser"],
    );
    assert_eq!(code, 3);
    assert_eq!(json["operation"], "GetUser");
    assert_eq!(json["error"]["exceptionID"], "030001");
    assert_eq!(json["error"]["kind"], "userNotFound");
    assert_eq!(json["error"]["reason"], "Corresponding User not found");
    let (code, json) = decode_json("failure-000045-rate-limit.xml", &[]);
    assert_eq!((code, json["operation"].clone()), (3, Json::Null));
    assert_eq!(json["error"]["retryAfterSeconds"], 60);
    // 000015 is an empty page when the operation is a list.
    let (code, json) = decode_json(
        "lstsummaryuser-empty-000015.xml",
        &["--operation", "LstsummaryUser"],
    );
    assert_eq!(code, 0);
    assert_eq!(json["page"]["users"], serde_json::json!([]));
}

#[test]
fn decode_reads_stdin_and_refuses_what_is_not_a_response() {
    let bytes =
        std::fs::read(common::repo_root().join("fixtures/responses/deluser-success.xml")).unwrap();
    let run = wbxprov(&["decode", "-"], &[], Some(&bytes));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("deleted.users[2].status: FAILURE"),
        "{}",
        run.stdout
    );
    let run = wbxprov(&["decode", "-"], &[], Some(b"<html>502 Bad Gateway</html>"));
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("not serv:message"), "{}", run.stderr);
    let run = wbxprov(&["decode", "no/such/file.xml"], &[], None);
    assert_eq!(run.code, 1);
}

const ADMIN_PASSWORD: &str = "Adm1n-s3cret";
const USER_PASSWORD: &str = "Us3r-s3cret";

fn render(args: &[&str], user_json: &str) -> Run {
    // Tests run in parallel: one file per call.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!("wbxprov-render-{}-{n}.json", std::process::id()));
    std::fs::write(&file, user_json).unwrap();
    let mut all = vec!["render"];
    all.extend_from_slice(args);
    let file_arg = file.to_str().unwrap().to_owned();
    all.extend([
        "--user",
        file_arg.as_str(),
        "--site-name",
        "example",
        "--admin",
        "admin",
    ]);
    let run = wbxprov(
        &all,
        &[
            ("WBXPROV_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("NEW_USER_PASSWORD", USER_PASSWORD),
        ],
        None,
    );
    let _ = std::fs::remove_file(&file);
    run
}

#[test]
fn render_masks_secrets_from_the_environment_unless_asked() {
    let user = r#"{"webExId": "jdoe", "lastName": "O'Doe & <Sons>", "password": {"env": "NEW_USER_PASSWORD"},
                   "meetingTypes": [214, 216], "privilegeHost": true}"#;
    let masked = render(&["CreateUser"], user);
    assert_eq!(masked.code, 0, "{}", masked.stderr);
    assert!(!masked.stdout.contains(ADMIN_PASSWORD) && !masked.stdout.contains(USER_PASSWORD));
    assert!(masked.stdout.contains("<password>***</password>"));
    assert!(
        masked
            .stdout
            .contains("<lastName>O'Doe &amp; &lt;Sons&gt;</lastName>")
    );
    assert!(masked.stdout.contains(
        "<meetingTypes><meetingType>214</meetingType><meetingType>216</meetingType></meetingTypes>"
    ));
    let shown = render(&["createuser", "--show-secrets"], user);
    assert!(
        shown
            .stdout
            .contains(&format!("<password>{USER_PASSWORD}</password>"))
    );
    assert!(
        shown
            .stdout
            .contains(&format!("<password>{ADMIN_PASSWORD}</password>"))
    );
}

#[test]
fn render_set_user_and_the_qualified_form() {
    let run = render(
        &["SetUser", "--qualified"],
        r#"{"webExId": "jdoe", "newWebExId": "jane", "privilegeHost": false}"#,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body = run.stdout.split("bodyContent").nth(1).unwrap();
    assert!(body.contains("xsi:type=\"use:setUser\""));
    let id = body.find("<use:webExId>jdoe").unwrap();
    let host = body.find("<use:host>false").unwrap();
    let new_id = body.find("<use:newWebExId>jane").unwrap();
    assert!(id < host && host < new_id, "{body}");
}

#[test]
fn render_lists_every_problem_and_needs_a_credential() {
    let run = render(
        &["CreateUser"],
        r#"{"webExId": "j", "privilegeHost": "yes", "nope": 1, "personalUrl": "x"}"#,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("privilegeHost: expected bool"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`nope` is not a catalogue attribute"),
        "{}",
        run.stderr
    );
    // Well-typed but not allowed in CreateUser: named with where it is allowed.
    let run = render(
        &["CreateUser"],
        r#"{"webExId": "j", "personalUrl": "x", "userId": 3}"#,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("personalUrl (allowed in: set, get); userId (allowed in: get)"),
        "{}",
        run.stderr
    );
    let run = wbxprov(
        &[
            "render",
            "GetSite",
            "--site-name",
            "example",
            "--admin",
            "a",
            "--show-secrets",
        ],
        &[],
        None,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no credential to show"),
        "{}",
        run.stderr
    );
    let run = render(&["GetUser"], r#"{"firstName": "x"}"#);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("needs `webExId`"), "{}", run.stderr);
}

/// `decode --json --operation OP` of a real document (an `.http` capture
/// without its HTTP head, written to a temporary file).
fn decode_real(name: &str, operation: &str) -> (i32, Json) {
    let path = std::env::temp_dir().join(format!("wbxprov-{}-{name}.xml", std::process::id()));
    std::fs::write(&path, common::real_response(name)).unwrap();
    let run = wbxprov(
        &[
            "decode",
            "--json",
            "--operation",
            operation,
            path.to_str().unwrap(),
        ],
        &[],
        None,
    );
    let _ = std::fs::remove_file(&path);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{name}: {e}\n{}{}", run.stdout, run.stderr));
    (run.code, json)
}

#[test]
fn decode_names_the_real_services_failures_by_kind() {
    let cases = [
        (
            "erolms_user_get_user_response_bad.http",
            "GetUser",
            "030047",
            "invalidSessionTicket",
            "PRIMARY",
        ),
        (
            "failure_030048_AS0001_subErrors_communities_cisco_86845.xml",
            "AuthenticateUser",
            "030048",
            "authenticationFailed",
            "BACKUP",
        ),
        (
            "failure_000035_ASService_not_responding_atlas.xml",
            "GetUser",
            "000035",
            "serviceUnavailable",
            "PRIMARY",
        ),
    ];
    for (name, operation, id, kind, gsb) in cases {
        let (code, json) = decode_real(name, operation);
        assert_eq!(code, 3, "{name}");
        assert_eq!(json["operation"], operation, "{name}");
        assert_eq!(json["error"]["exceptionID"], id, "{name}");
        assert_eq!(json["error"]["kind"], kind, "{name}");
        assert_eq!(json["error"]["gsbStatus"], gsb, "{json}");
    }
    let (_, json) = decode_real(
        "failure_030048_AS0001_subErrors_communities_cisco_86845.xml",
        "AuthenticateUser",
    );
    assert_eq!(
        json["error"]["subErrors"][0]["exceptionID"], "AS0001",
        "{json}"
    );
}

#[test]
fn decode_of_a_response_wbxprov_does_not_know_fails_naming_its_body() {
    for (file, element) in [
        (
            "fixtures/real/responses/getAPIVersion_atlas_siteList_order400.xml",
            "ep:getAPIVersionResponse",
        ),
        (
            "fixtures/real/responses/getSiteAdminNavUrl_atlas_emptybody_ISO-8859-1.xml",
            "ns1:getSiteAdminNavUrlResponse",
        ),
        (
            "fixtures/real/responses/createMeetingResponse_gsbBACKUP_respTime_caseID_go_test.xml",
            "meet:createMeetingResponse",
        ),
    ] {
        let run = wbxprov(&["decode", "--json", file], &[], None);
        assert_eq!(run.code, 1, "{file}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{file}: {}", run.stdout);
        assert!(run.stderr.contains(element), "{file}: {}", run.stderr);
    }
    // Named as a GetUser, it is still no user.
    let file = "fixtures/real/responses/getAPIVersion_atlas_siteList_order400.xml";
    let run = wbxprov(&["decode", "--operation", "GetUser", file], &[], None);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("ep:getAPIVersionResponse"),
        "{}",
        run.stderr
    );
    // Malformed as published (`<serv:bodyContentxsi:type=…>`): reported so.
    let file = "fixtures/real/responses/getAPIVersion_atlas_EP1.xml";
    let run = wbxprov(&["decode", file], &[], None);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("not well-formed"), "{}", run.stderr);
}

#[test]
fn decode_unknown_lists_the_elements_no_decoder_read() {
    let file = "fixtures/real/responses/getSite_atlas_someSite_qa.xml";
    let run = wbxprov(&["decode", "--json", "--unknown", file], &[], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Json = serde_json::from_str(&run.stdout).unwrap();
    let names = json["unknownNames"].as_array().unwrap();
    assert!(json["unknownElements"].as_u64().unwrap() >= names.len() as u64);
    assert!(
        names.iter().any(|n| n == "metaData/isEnterprise"),
        "{names:?}"
    );
    // Without --unknown, only the count.
    let (_, plain) = decode_json("lstmeetingtype.xml", &[]);
    assert_eq!(plain["unknownElements"], 6);
    assert!(plain.get("unknownNames").is_none());
    let run = wbxprov(
        &[
            "decode",
            "--unknown",
            "fixtures/responses/lstmeetingtype.xml",
        ],
        &[],
        None,
    );
    assert!(
        run.stdout
            .contains(r#"unknownNames: ["limits","options","phoneNumbers"]"#),
        "{}",
        run.stdout
    );
}
