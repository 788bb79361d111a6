//! Characters XML 1.0 does not allow (issue 15 item 4): C0 controls other than
//! TAB, LF and CR, and U+FFFE/U+FFFF. They are refused by the validator (a
//! violation naming the attribute and the code point), by the encoder (never a
//! document that is not well-formed, even with the validator bypassed), by the
//! decoder (raw or as a character reference), and so by the simulator and the
//! SCIM front.
#![cfg(all(feature = "validate", feature = "sim", feature = "scim"))]

mod common;

use std::sync::Arc;

use serde_json::json;
use wbxprov::client::Client;
use wbxprov::ops::{CreateUser, Operation as Op};
use wbxprov::schema::{FlatKey, FlatUser, Value};
use wbxprov::scim::Service;
use wbxprov::scim::http::serve;
use wbxprov::scim::ids::IdStore;
use wbxprov::sim::{self, DEFAULT_ADMIN_ID, DEFAULT_ADMIN_PASSWORD, SimConfig, Simulator, store};
use wbxprov::validate::{Operation, Rule, validate};
use wbxprov::xml::encode::{Credentials, SecurityContext, SiteRef, encode};
use wbxprov::xml::{DecodeError, EncodeError, Form, Secrets, decode};
use wbxprov::{Secret, User};

/// Long enough for any token rule of the SCIM front.
const TOKEN: &str = "control-chars-test-token-0123456789abcdef";

fn key(s: &str) -> FlatKey {
    s.parse().unwrap()
}

fn flat(pairs: &[(&str, &str)]) -> FlatUser {
    pairs
        .iter()
        .map(|(k, v)| (key(k), Value::Text((*v).into())))
        .collect()
}

fn security() -> SecurityContext {
    SecurityContext {
        site: SiteRef::Name("sim".into()),
        credentials: Credentials::Password {
            web_ex_id: DEFAULT_ADMIN_ID.into(),
            password: Secret::new(DEFAULT_ADMIN_PASSWORD),
        },
    }
}

/// Every refused character, and the three controls XML 1.0 allows.
const REFUSED: [char; 6] = ['\u{0}', '\u{1}', '\u{7}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'];

#[test]
fn the_validator_names_each_attribute_and_code_point_with_the_other_violations() {
    let change = flat(&[
        ("webExId", "nul\u{0}x"),
        ("firstName", "bell\u{7}"),
        ("lastName", "tab\there\nline\rend"),
        ("email", "not-an-address"),
    ]);
    let violations = validate(&change, Operation::Create, &sim::default_profile());
    let found: Vec<(String, Rule)> = violations
        .iter()
        .map(|v| (v.attribute.to_string(), v.rule))
        .collect();
    assert!(
        found.contains(&("webExId".into(), Rule::Character)),
        "{violations:#?}"
    );
    assert!(
        found.contains(&("firstName".into(), Rule::Character)),
        "{violations:#?}"
    );
    assert!(
        found.contains(&("email".into(), Rule::Format)),
        "the others are listed too: {violations:#?}"
    );
    assert!(
        !found.iter().any(|(a, _)| a == "lastName"),
        "TAB, LF and CR are allowed: {violations:#?}"
    );
    let message = |a: &str| {
        violations
            .iter()
            .find(|v| v.attribute.to_string() == a)
            .unwrap()
            .message
            .clone()
    };
    assert!(
        message("webExId").contains("U+0000"),
        "{}",
        message("webExId")
    );
    assert!(
        message("firstName").contains("U+0007"),
        "{}",
        message("firstName")
    );
    for c in REFUSED {
        let change = flat(&[("webExId", "jdoe"), ("firstName", &format!("a{c}b"))]);
        let v = validate(&change, Operation::Update, &sim::default_profile());
        assert_eq!(v.len(), 1, "{c:?}: {v:#?}");
        assert_eq!(v[0].rule, Rule::Character);
        let code = format!("U+{:04X}", u32::from(c));
        assert!(v[0].message.contains(&code), "{}", v[0].message);
    }
}

#[test]
fn a_secret_with_a_control_character_is_refused_without_showing_it() {
    let mut change = flat(&[("webExId", "jdoe")]);
    change.insert(
        key("password"),
        Value::Secret(Secret::new("Pa55\u{1}word-Secret")),
    );
    let violations = validate(&change, Operation::Create, &sim::default_profile());
    let v = violations
        .iter()
        .find(|v| v.rule == Rule::Character)
        .unwrap_or_else(|| panic!("{violations:#?}"));
    assert_eq!(v.attribute.to_string(), "password");
    assert!(v.message.contains("U+0001"), "{}", v.message);
    assert!(!v.message.contains("word-Secret"), "{}", v.message);
}

#[test]
fn the_encoder_refuses_what_xml_cannot_carry_even_without_the_validator() {
    for c in REFUSED {
        let user = flat(&[("webExId", "jdoe"), ("firstName", &format!("a{c}b"))]);
        let err = encode(
            &CreateUser { user },
            &security(),
            Form::Plain,
            Secrets::Reveal,
        )
        .unwrap_err();
        let code = format!("U+{:04X}", u32::from(c));
        assert!(
            matches!(&err, EncodeError::Character { element, code_point, .. }
                if element == "firstName" && *code_point == u32::from(c)),
            "{c:?}: {err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("CreateUser") && text.contains("firstName") && text.contains(&code),
            "{text}"
        );
    }
    // In the security context too, and a secret is never shown.
    let mut bad = security();
    bad.credentials = Credentials::Password {
        web_ex_id: "admin".into(),
        password: Secret::new("Pa55\u{8}Secret"),
    };
    let err = encode(
        &CreateUser {
            user: flat(&[("webExId", "jdoe")]),
        },
        &bad,
        Form::Qualified,
        Secrets::Reveal,
    )
    .unwrap_err();
    assert!(err.to_string().contains("U+0008"), "{err}");
    assert!(!err.to_string().contains("Secret"), "{err}");
    // TAB, LF and CR still go through (CR as a reference).
    let ok = flat(&[("webExId", "jdoe"), ("firstName", "a\tb\nc\rd")]);
    let xml = encode(
        &CreateUser { user: ok },
        &security(),
        Form::Plain,
        Secrets::Reveal,
    )
    .unwrap();
    assert!(xml.contains("a\tb\nc&#xD;d"), "{xml}");
}

/// A GetUser SUCCESS whose firstName is `first` (already escaped as wanted).
fn getuser_with(first: &str) -> Vec<u8> {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<serv:message xmlns:serv="http://www.webex.com/schemas/2002/06/service" "#,
            r#"xmlns:use="http://www.webex.com/schemas/2002/06/service/user">"#,
            "<serv:header><serv:response><serv:result>SUCCESS</serv:result></serv:response></serv:header>",
            "<serv:body><serv:bodyContent>",
            "<use:webExId>jdoe</use:webExId><use:firstName>{}</use:firstName>",
            "</serv:bodyContent></serv:body></serv:message>"
        ),
        first
    )
    .into_bytes()
}

fn first_name(doc: &[u8]) -> Result<Option<Value>, DecodeError> {
    let user: User = decode::<User>(doc)?.success().unwrap();
    Ok(user.get(key("firstName")))
}

#[test]
fn the_decoder_refuses_them_raw_and_as_character_references() {
    let mut refused: Vec<String> = REFUSED.iter().map(|c| format!("a{c}b")).collect();
    refused.extend(
        ["&#0;", "&#1;", "&#x7;", "&#x1f;", "&#xFFFE;", "&#65535;"]
            .iter()
            .map(|r| format!("a{r}b")),
    );
    // Also where no decoder looks: an unknown element, a comment, an attribute.
    refused.extend([
        "a<use:unknownThing>x\u{1}y</use:unknownThing>".to_owned(),
        "a<use:unknownThing>x&#2;y</use:unknownThing>".to_owned(),
        "a<!-- \u{3} -->".to_owned(),
        "a<use:unknownThing note=\"&#4;\"/>".to_owned(),
        "a<use:unknownThing note=\"\u{5}\"/>".to_owned(),
    ]);
    for text in &refused {
        let doc = getuser_with(text);
        let err = first_name(&doc).expect_err(text);
        // quick-xml itself refuses `&#0;`, in its own words; the rest name the code point.
        assert!(
            matches!(&err, DecodeError::Syntax { message, .. }
                if message.contains("U+") || message.contains("0x0 character")),
            "{text:?}: {err:?}"
        );
    }
    for (text, expect) in [
        ("a&#9;b", "a\tb"),
        ("a&#xA;b", "a\nb"),
        ("a&#xD;b", "a\rb"),
        ("a\tb", "a\tb"),
        ("a&#xFFFD;b", "a\u{FFFD}b"),
    ] {
        assert_eq!(
            first_name(&getuser_with(text)).unwrap(),
            Some(Value::Text(expect.into())),
            "{text:?}"
        );
    }
    // Operation detection reads the same way.
    assert!(Op::detect(&getuser_with("a&#1;b")).is_err());
}

#[test]
fn the_simulator_answers_failure_and_stores_nothing() {
    let sim = Simulator::new(
        SimConfig::new(sim::default_profile()),
        Box::new(store::Memory),
    )
    .unwrap();
    let before = sim.user_count();
    let template = encode(
        &CreateUser {
            user: flat(&[
                ("webExId", "ctl"),
                ("firstName", "PLACEHOLDER"),
                ("lastName", "Doe"),
                ("email", "ctl@example.com"),
                ("password", "Pa55word!x"),
            ]),
        },
        &security(),
        Form::Plain,
        Secrets::Reveal,
    )
    .unwrap();
    for bad in ["nul\u{0}x", "bell\u{7}", "ref&#1;", "ref&#x1F;", "\u{FFFF}"] {
        let body = template.replace("PLACEHOLDER", bad);
        let (status, answer) = sim.handle(body.as_bytes());
        assert_eq!(status, 200, "the service answers FAILURE in a 200");
        assert!(answer.contains("FAILURE"), "{bad:?}: {answer}");
        assert!(!answer.contains("SUCCESS"), "{bad:?}: {answer}");
        assert!(
            !answer.chars().any(|c| REFUSED.contains(&c)),
            "the answer is well-formed itself: {answer:?}"
        );
    }
    assert_eq!(sim.user_count(), before, "no user was created");
}

async fn scim_post(validate: bool, user_name: &str) -> (u16, String) {
    let site = sim::start(sim::default_profile()).await.unwrap();
    let mut builder = Client::builder("sim", wbxprov::sim::default_admin())
        .endpoint(&site.url)
        .options(common::fast_retries());
    if validate {
        builder = builder.validate_with(sim::default_profile());
    }
    let client = Arc::new(builder.build().unwrap());
    let ids = IdStore::open(None).unwrap();
    let scim = serve(
        "127.0.0.1:0".parse().unwrap(),
        Secret::new(TOKEN),
        move |url| Service::new(client, ids, url),
    )
    .await
    .unwrap();
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Nul", "familyName": "Char"},
        "emails": [{"primary": true, "value": "nul@example.com"}],
        "active": true
    });
    let answer = reqwest::Client::new()
        .post(format!("{}/Users", scim.url))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scim_front_answers_400_for_a_nul_in_user_name() {
    for validate in [true, false] {
        let (status, body) = scim_post(validate, "nul\u{0}x").await;
        assert_eq!(status, 400, "validate={validate}: {body}");
        assert!(body.contains("invalidValue"), "{body}");
    }
    let (status, body) = scim_post(true, "plain").await;
    assert_eq!(status, 201, "a plain userName is still created: {body}");
}
