//! Golden files for every request type, in both forms, and the 2011 XSDs as an
//! external oracle for the namespace-qualified form.
//!
//! Goldens live in `fixtures/requests/`. After an intended change of the wire
//! output, rewrite them with `WBXPROV_BLESS=1 cargo test --test wire_golden` and
//! review the diff.

mod common;

use std::process::Command;

use std::collections::BTreeSet;
use wbxprov::Secret;
use wbxprov::ops::*;

use wbxprov::schema::{ATTRIBUTES, FlatKey, FlatUser, User, Value};
use wbxprov::xml::encode::{Credentials, Request, SecurityContext, SiteRef, encode};
use wbxprov::xml::{EncodeError, Form, Secrets};

fn admin() -> SecurityContext {
    SecurityContext {
        site: SiteRef::Name("example".into()),
        credentials: Credentials::Password {
            web_ex_id: "admin".into(),
            password: Secret::new("Adm1n&<pass>"),
        },
    }
}

fn ticket() -> SecurityContext {
    SecurityContext {
        site: SiteRef::Id {
            site_id: 243585,
            partner_id: Some("g0webx!".into()),
        },
        credentials: Credentials::SessionTicket {
            web_ex_id: "admin".into(),
            ticket: Secret::new("AAABkTICKET"),
        },
    }
}

/// As Cisco's samples authenticate with a token: webExID and siteName
/// (fixtures/real/requests/AuthenticateUser_accessToken_*).
fn token() -> SecurityContext {
    SecurityContext {
        site: SiteRef::Name("example".into()),
        credentials: Credentials::AccessToken {
            web_ex_id: Some("admin".into()),
            token: Secret::new("ZDI3MGEyYzQtNmFlNS00NDNhLWFlNzAtZGVjNjE0MGU1OGZmZWNmZDEwN2ItYTU3"),
        },
    }
}

fn flat(pairs: &[(&str, Value)]) -> FlatUser {
    pairs
        .iter()
        .map(|(k, v)| (k.parse::<FlatKey>().unwrap(), v.clone()))
        .collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// Compares with (or, blessing, writes) `fixtures/requests/{name}`.
fn golden(name: &str, actual: &str) {
    let path = common::repo_root().join("fixtures/requests").join(name);
    if std::env::var_os("WBXPROV_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with WBXPROV_BLESS=1)", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

/// Validates a qualified request against user.xsd with xmllint (libxml2-utils).
fn xsd_valid(name: &str, xml: &str) {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let schema = shared.join("reference/xsd/service/user/user.xsd");
    let file = std::env::temp_dir().join(format!("wbxprov-{}-{name}", std::process::id()));
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("xmllint (Debian package libxml2-utils) is needed for the XSD oracle");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{name} does not validate against the 2011 XSD:\n{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn both_forms<R: Request>(name: &str, request: &R, security: &SecurityContext, in_2011_xsd: bool) {
    let plain = encode(request, security, Form::Plain, Secrets::Mask).unwrap();
    golden(&format!("{name}.xml"), &plain);
    let qualified = encode(request, security, Form::Qualified, Secrets::Mask).unwrap();
    golden(&format!("{name}.qualified.xml"), &qualified);
    if in_2011_xsd {
        xsd_valid(name, &qualified);
    }
}

#[test]
fn create_user_golden() {
    let user = flat(&[
        ("webExId", text("jdoe")),
        ("firstName", text("Jane")),
        ("lastName", text("O'Doe & <Sons>")),
        ("email", text("jdoe@example.com")),
        ("password", Value::Secret(Secret::new("S3cret!pw"))),
        ("addressCity", text("Zürich")),
        ("meetingTypes", Value::IntList(vec![214, 216])),
        ("privilegeHost", Value::Bool(true)),
        ("privilegeTeleConfCallIn", Value::Bool(false)),
        ("tspAccountAccountIndex", Value::Int(1)),
        ("tspAccountTollCallInNumber", text("1,408,5551212")),
        ("tspAccountAccountIndex[2]", Value::Int(2)),
        ("tspAccountNbrDialOut[2]", text("TOLL")),
        ("supportedServicesMeetingCenter", Value::Bool(true)),
        ("active", text("ACTIVATED")),
        ("trackingTrackingCode1", text("Sales")),
        ("sendWelcome", Value::Bool(true)),
    ]);
    both_forms("createuser", &CreateUser { user }, &admin(), true);
}

#[test]
fn set_user_golden_writes_only_the_change_and_new_web_ex_id_last() {
    let change = flat(&[
        ("newWebExId", text("jane.doe")),
        ("privilegeHDvideo", Value::Bool(true)),
        ("personalUrl", text("jane.doe")),
        ("active", text("DEACTIVATED")),
    ]);
    let request = SetUser::new("jdoe", change);
    // HDvideo is newer than the 2011 XSD: validate a change of 2011 elements instead.
    both_forms("setuser", &request, &ticket(), false);
    let change_2011 = flat(&[
        ("newWebExId", text("jane.doe")),
        ("privilegeHost", Value::Bool(false)),
        ("personalUrl", text("jane.doe")),
    ]);
    let qualified = encode(
        &SetUser::new("jdoe", change_2011),
        &ticket(),
        Form::Qualified,
        Secrets::Mask,
    )
    .unwrap();
    xsd_valid("setuser-2011", &qualified);
    let xml = encode(&request, &ticket(), Form::Plain, Secrets::Mask).unwrap();
    let body = xml.split("<bodyContent").nth(1).unwrap();
    let order: Vec<usize> = [
        "<webExId>",
        "<personalUrl>",
        "<privilege>",
        "<active>",
        "<newWebExId>",
    ]
    .iter()
    .map(|t| body.find(t).unwrap_or_else(|| panic!("{t} missing")))
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "element order {order:?}"
    );
}

/// The catalogue's paths present in a request document.
fn paths_in(xml: &str) -> BTreeSet<(String, u8)> {
    let doc = wbxprov::xml::tree::parse(xml.as_bytes()).unwrap();
    let body = doc.at("body/bodyContent").expect("bodyContent");
    let mut found = BTreeSet::new();
    for info in ATTRIBUTES.iter() {
        let occurrences = info.repeat.map_or(1, |r| r.max);
        for slot in 0..occurrences {
            let mut at = vec![body];
            for (depth, seg) in info.segments.iter().enumerate() {
                let index = match info.repeat {
                    Some(r) if r.depth == depth => usize::from(slot),
                    _ => 0,
                };
                at = at
                    .iter()
                    .filter_map(|e| e.children_named(seg.name).nth(index))
                    .collect();
            }
            if !at.is_empty() {
                found.insert((info.name.to_owned(), slot));
            }
        }
    }
    found
}

#[test]
fn every_writable_attribute_is_in_an_all_attributes_golden() {
    let create = CreateUser {
        user: common::all_attributes(|a| a.ops.create),
    };
    let set = SetUser::new(
        "jdoe",
        common::all_attributes(|a| a.ops.set && a.name != "webExId"),
    );
    both_forms("createuser-all-attributes", &create, &admin(), false);
    both_forms("setuser-all-attributes", &set, &ticket(), false);
    let mut on_the_wire = paths_in(&encode(&create, &admin(), Form::Plain, Secrets::Mask).unwrap());
    on_the_wire.extend(paths_in(
        &encode(&set, &ticket(), Form::Plain, Secrets::Mask).unwrap(),
    ));
    for info in ATTRIBUTES.iter() {
        let writable = info.ops.create || info.ops.set;
        for slot in 0..info.repeat.map_or(1, |r| r.max) {
            assert_eq!(
                on_the_wire.contains(&(info.name.to_owned(), slot)),
                writable,
                "{}[{}]: writable={writable}",
                info.name,
                slot + 1
            );
        }
    }
    // Read-only attributes are covered by fixtures/responses/getuser-all-attributes.xml
    // (tests/wire_decode.rs): no request may carry them.
}

#[test]
fn every_2011_attribute_in_one_create_user_validates_against_the_xsd() {
    // `source` says where each row comes from; rows from the 2011 XSD start with `XSD`.
    let user = common::all_attributes(|a| a.ops.create && a.source.starts_with("XSD"));
    assert!(user.len() > 150, "only {} values", user.len());
    let qualified = encode(
        &CreateUser { user },
        &admin(),
        Form::Qualified,
        Secrets::Mask,
    )
    .unwrap();
    xsd_valid("createuser-2011-all", &qualified);
    let change =
        common::all_attributes(|a| a.ops.set && a.name != "webExId" && a.source.starts_with("XSD"));
    let qualified = encode(
        &SetUser::new("jdoe", change),
        &ticket(),
        Form::Qualified,
        Secrets::Mask,
    )
    .unwrap();
    xsd_valid("setuser-2011-all", &qualified);
}

#[test]
fn other_requests_golden() {
    both_forms(
        "getuser",
        &GetUser {
            web_ex_id: "jdoe".into(),
        },
        &admin(),
        true,
    );
    let del = DelUser {
        web_ex_ids: vec!["a".into(), "b".into()],
        sync_web_office: Some(false),
    };
    both_forms("deluser", &del, &admin(), true);
    let list = LstsummaryUser {
        email: Some("jdoe@example.com".into()),
        active: Some("ACTIVATED".into()),
        start_from: Some(1),
        maximum_num: Some(500),
        list_method: Some("AND"),
        order: vec![
            (OrderBy::WebExId, Direction::Asc),
            (OrderBy::RegDate, Direction::Desc),
        ],
        ..Default::default()
    };
    both_forms("lstsummaryuser", &list, &admin(), true);
    both_forms(
        "authenticateuser-password",
        &AuthenticateUser::Password,
        &admin(),
        false,
    );
    both_forms(
        "authenticateuser-token",
        &AuthenticateUser::AccessToken(Secret::new("tok")),
        &token(),
        false,
    );
    both_forms(
        "authenticateuser-saml",
        &AuthenticateUser::Saml(Secret::new("PHNhbWw+")),
        &admin(),
        true,
    );
    both_forms("getsite", &GetSite, &ticket(), false);
    both_forms(
        "lstmeetingtype",
        &LstMeetingType {
            start_from: Some(1),
            maximum_num: Some(100),
        },
        &ticket(),
        false,
    );
}

#[test]
fn secrets_are_masked_unless_revealed() {
    let req = CreateUser {
        user: flat(&[
            ("webExId", text("jdoe")),
            ("password", Value::Secret(Secret::new("S3cret!pw"))),
        ]),
    };
    let masked = encode(&req, &admin(), Form::Plain, Secrets::Mask).unwrap();
    assert!(!masked.contains("S3cret!pw") && !masked.contains("Adm1n"));
    let revealed = encode(&req, &admin(), Form::Plain, Secrets::Reveal).unwrap();
    assert!(revealed.contains("<password>S3cret!pw</password>"));
    assert!(revealed.contains("<password>Adm1n&amp;&lt;pass&gt;</password>"));
}

#[test]
fn attributes_an_operation_cannot_carry_are_all_named() {
    let req = CreateUser {
        user: flat(&[
            ("webExId", text("jdoe")),
            ("personalUrl", text("x")),
            ("userId", Value::Int(1)),
        ]),
    };
    let err = encode(&req, &admin(), Form::Plain, Secrets::Mask).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CreateUser cannot carry personalUrl (allowed in: set, get); userId (allowed in: get)"
    );
    let err = encode(
        &CreateUser::new(&User::default()),
        &admin(),
        Form::Plain,
        Secrets::Mask,
    )
    .unwrap_err();
    assert_eq!(
        err,
        EncodeError::Missing {
            attribute: "webExId",
            operation: "CreateUser"
        }
    );
}
