//! A scripted in-process transport for client tests: each request gets the
//! next scripted reply; what was sent, and when, is remembered.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use wbxprov::Secret;
use wbxprov::client::{AdminAuth, Client, Incoming, Outgoing, Transport, TransportError};
use wbxprov::ops::Operation;
use wbxprov::schema::{FlatKey, FlatUser, Value};
use wbxprov::xml::encode::{UserOperation, XmlNs, encode_failure, encode_response};
use wbxprov::xml::{Secrets, ServiceError, ServiceFailure};

/// A transport error as lost after sending.
pub fn lost() -> Reply {
    Err(TransportError::Timeout {
        after: Duration::from_secs(60),
        sent: true,
    })
}

pub type Reply = Result<Incoming, TransportError>;

/// Answers each request with the next scripted reply, checking its operation,
/// and remembers what was sent and when.
pub struct Script {
    pub replies: Mutex<VecDeque<(Operation, Reply)>>,
    pub sent: Mutex<Vec<(Operation, String, Instant)>>,
}

impl Script {
    pub fn new(replies: Vec<(Operation, Reply)>) -> Arc<Self> {
        Arc::new(Script {
            replies: Mutex::new(replies.into()),
            sent: Mutex::new(Vec::new()),
        })
    }

    pub fn sent(&self) -> Vec<Operation> {
        self.sent.lock().unwrap().iter().map(|s| s.0).collect()
    }

    pub fn times(&self) -> Vec<Instant> {
        self.sent.lock().unwrap().iter().map(|s| s.2).collect()
    }

    pub fn bodies(&self) -> Vec<String> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.1.clone())
            .collect()
    }
}

impl Transport for Script {
    fn send<'a>(&'a self, request: &'a Outgoing) -> wbxprov::client::transport::Sending<'a> {
        Box::pin(async move {
            self.sent.lock().unwrap().push((
                request.operation,
                request.body.clone(),
                Instant::now(),
            ));
            let (expected, reply) = self
                .replies
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| panic!("unscripted {:?}", request.operation));
            assert_eq!(request.operation, expected, "request order");
            reply
        })
    }
}

pub fn ok(xml: String) -> Reply {
    Ok(Incoming {
        status: 200,
        body: xml.into_bytes(),
    })
}

pub fn status(code: u16) -> Reply {
    Ok(Incoming {
        status: code,
        body: b"<html>busy</html>".to_vec(),
    })
}

pub fn failure(id: &str, reason: &str) -> Reply {
    ok(encode_failure(&ServiceError::from(ServiceFailure::new(
        id, reason,
    ))))
}

pub const TICKET: &str = "TICKET-0123456789";
pub const PASSWORD: &str = "Adm1n-Pa55word!";
pub const TOKEN: &str = "OAUTH-TOKEN-abcdef";

pub fn ticket(ttl: Option<i64>) -> Reply {
    ok(encode_response(
        (XmlNs::User, "authenticateUserResponse"),
        Secrets::Reveal,
        |b| {
            b.text(XmlNs::User, "sessionTicket", TICKET);
            if let Some(ttl) = ttl {
                b.text(XmlNs::User, "createTime", "1700000000000");
                b.text(XmlNs::User, "timeToLive", &ttl.to_string());
            }
            Ok(())
        },
    )
    .unwrap())
}

/// A GetUser answer: `id`, its userId and the email `{id}@example.com`.
pub fn user_reply(id: &str, user_id: i64) -> Reply {
    user_with_email(id, user_id, &format!("{id}@example.com"))
}

pub fn user_with_email(id: &str, user_id: i64, email: &str) -> Reply {
    let flat: FlatUser = [
        (key("webExId"), Value::Text(id.into())),
        (key("email"), Value::Text(email.into())),
        (key("userId"), Value::Int(user_id)),
    ]
    .into_iter()
    .collect();
    ok(
        encode_response((XmlNs::User, "getUserResponse"), Secrets::Reveal, |b| {
            b.user(&flat, UserOperation::Get)
        })
        .unwrap(),
    )
}

pub fn created(user_id: i64) -> Reply {
    ok(
        encode_response((XmlNs::User, "createUserResponse"), Secrets::Reveal, |b| {
            b.text(XmlNs::User, "userId", &user_id.to_string());
            Ok(())
        })
        .unwrap(),
    )
}

pub fn key(s: &str) -> FlatKey {
    s.parse().unwrap()
}

pub fn password_auth() -> AdminAuth {
    AdminAuth::Password {
        web_ex_id: "admin".into(),
        password: Secret::new(PASSWORD),
    }
}

pub fn client(transport: Arc<dyn Transport>, auth: AdminAuth) -> Client {
    Client::builder("example", auth)
        .transport(transport)
        .build()
        .unwrap()
}

pub fn new_user() -> FlatUser {
    [
        (key("webExId"), Value::Text("jdoe".into())),
        (key("email"), Value::Text("jdoe@example.com".into())),
        (
            key("password"),
            Value::Secret(Secret::new("Us3r-Pa55word!")),
        ),
    ]
    .into_iter()
    .collect()
}
