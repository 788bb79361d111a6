//! The service's side of the wire (what the simulator reads): every request
//! wbxprov writes decodes back to what was written, in both forms.

mod common;

use wbxprov::Secret;
use wbxprov::ops::*;

use wbxprov::xml::encode::{Credentials, Request, SecurityContext, SiteRef, encode};
use wbxprov::xml::request::{IncomingBody, decode_request};
use wbxprov::xml::{Form, Secrets};

fn security() -> SecurityContext {
    SecurityContext {
        site: SiteRef::Name("example".into()),
        credentials: Credentials::Password {
            web_ex_id: "admin".into(),
            password: Secret::new("pw&<1>"),
        },
    }
}

fn both<R: Request>(request: &R) -> Vec<wbxprov::xml::request::IncomingRequest> {
    [Form::Plain, Form::Qualified]
        .into_iter()
        .map(|form| {
            let xml = encode(request, &security(), form, Secrets::Reveal).unwrap();
            decode_request(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{xml}"))
        })
        .collect()
}

#[test]
fn create_and_set_payloads_round_trip_over_every_writable_attribute() {
    let user = common::all_attributes(|a| a.ops.create);
    for incoming in both(&CreateUser { user: user.clone() }) {
        assert_eq!(incoming.operation, Operation::CreateUser);
        assert_eq!(incoming.body, IncomingBody::CreateUser(user.clone()));
        assert_eq!(incoming.security.web_ex_id.as_deref(), Some("admin"));
        assert_eq!(
            incoming.security.password.as_ref().map(Secret::expose),
            Some("pw&<1>")
        );
        assert_eq!(incoming.security.site_name.as_deref(), Some("example"));
    }
    let change = common::all_attributes(|a| a.ops.set && a.name != "webExId");
    let request = SetUser::new("jdoe", change);
    for incoming in both(&request) {
        assert_eq!(incoming.body, IncomingBody::SetUser(request.change.clone()));
    }
}

#[test]
fn other_requests_decode_to_what_they_ask() {
    for incoming in both(&GetUser {
        web_ex_id: "jdoe".into(),
    }) {
        assert_eq!(
            incoming.body,
            IncomingBody::GetUser {
                web_ex_id: "jdoe".into()
            }
        );
    }
    let ids = vec!["a".to_owned(), "b".to_owned()];
    for incoming in both(&DelUser {
        web_ex_ids: ids.clone(),
        sync_web_office: None,
    }) {
        assert_eq!(
            incoming.body,
            IncomingBody::DelUser {
                web_ex_ids: ids.clone()
            }
        );
    }
    let list = LstsummaryUser {
        email: Some("x@example.com".into()),
        active: Some("ACTIVATED".into()),
        start_from: Some(11),
        maximum_num: Some(10),
        order: vec![(OrderBy::Email, Direction::Desc)],
        ..Default::default()
    };
    for incoming in both(&list) {
        let IncomingBody::LstsummaryUser(q) = incoming.body else {
            panic!()
        };
        assert_eq!(
            (q.email.as_deref(), q.active.as_deref()),
            (Some("x@example.com"), Some("ACTIVATED"))
        );
        assert_eq!((q.start_from, q.maximum_num), (Some(11), Some(10)));
        assert_eq!(q.order, [(OrderBy::Email, Direction::Desc)]);
    }
    for incoming in both(&AuthenticateUser::AccessToken(Secret::new("tok"))) {
        let IncomingBody::AuthenticateUser { access_token } = incoming.body else {
            panic!()
        };
        assert_eq!(access_token.as_ref().map(Secret::expose), Some("tok"));
    }
    for incoming in both(&GetSite) {
        assert_eq!(incoming.body, IncomingBody::GetSite);
    }
    for incoming in both(&LstMeetingType::default()) {
        assert_eq!(incoming.operation, Operation::LstMeetingType);
    }
}

#[test]
fn every_request_golden_decodes() {
    let dir = common::repo_root().join("fixtures/requests");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let incoming = decode_request(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            name.starts_with(&incoming.operation.as_ref().to_ascii_lowercase()),
            "{name}: {:?}",
            incoming.operation
        );
    }
}
