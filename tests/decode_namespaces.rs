//! Elements are matched by namespace, never by prefix, however the document
//! rebinds its prefixes (issue 21: the reader remembers what recent prefixes
//! resolved to; a declaration opening or closing must make it forget).

use wbxprov::xml::decode;
use wbxprov::{FlatKey, User, Value};

const USER_NS: &str = "http://www.webex.com/schemas/2002/06/service/user";

fn get_user(body: &str) -> (User, Vec<String>) {
    let doc = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><serv:message xmlns:serv="http://www.webex.com/schemas/2002/06/service" xmlns:use="{USER_NS}"><serv:header><serv:response><serv:result>SUCCESS</serv:result></serv:response></serv:header><serv:body><serv:bodyContent>{body}</serv:bodyContent></serv:body></serv:message>"#
    );
    let response = decode::<User>(doc.as_bytes()).expect("decodes");
    let names = response.unknown_names.clone();
    (response.result.expect("SUCCESS"), names)
}

fn text(user: &User, name: &str) -> Option<String> {
    match user.get(name.parse::<FlatKey>().unwrap()) {
        Some(Value::Text(t)) => Some(t),
        _ => None,
    }
}

#[test]
fn a_prefix_rebound_on_one_element_means_its_old_namespace_after_it() {
    let (user, unknown) = get_user(concat!(
        "<use:firstName>Ann</use:firstName>",
        r#"<use:lastName xmlns:use="urn:example:other">Foreign</use:lastName>"#,
        "<use:email>ann@example.com</use:email>",
    ));
    assert_eq!(text(&user, "firstName").as_deref(), Some("Ann"));
    assert_eq!(
        text(&user, "lastName"),
        None,
        "lastName is in another namespace"
    );
    assert_eq!(text(&user, "email").as_deref(), Some("ann@example.com"));
    assert_eq!(unknown, ["lastName"]);
}

#[test]
fn a_prefix_declared_on_one_element_is_undeclared_on_its_sibling() {
    let (user, unknown) = get_user(&format!(
        r#"<x:title xmlns:x="{USER_NS}">Dr</x:title><x:company>Foreign</x:company>"#
    ));
    assert_eq!(text(&user, "title").as_deref(), Some("Dr"));
    assert_eq!(text(&user, "company"), None, "x is not declared on company");
    assert_eq!(unknown, ["company"]);
}

#[test]
fn a_declaration_inside_a_group_ends_with_the_group() {
    let (user, unknown) = get_user(&format!(
        concat!(
            r#"<use:address xmlns:use="urn:example:other"><use:city>Foreign</use:city></use:address>"#,
            r#"<use:address><com:city xmlns:com="http://www.webex.com/schemas/2002/06/common">Lyon</com:city></use:address>"#,
            "<use:webExId>ann</use:webExId>",
            r#"<y:email xmlns:y="{}">ann@example.com</y:email>"#,
        ),
        USER_NS
    ));
    assert_eq!(text(&user, "addressCity").as_deref(), Some("Lyon"));
    assert_eq!(text(&user, "webExId").as_deref(), Some("ann"));
    assert_eq!(text(&user, "email").as_deref(), Some("ann@example.com"));
    assert_eq!(unknown, ["address"]);
}
