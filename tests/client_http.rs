//! The whole client stack over real HTTP to a local server: authentication,
//! a 503 retried, a rate limit retried, a CreateUser whose connection drops
//! after the request was sent (not sent twice), and an access token.
//! Waits are shortened through `RetryPolicy`; the exact waits are tested on
//! tokio's paused clock in `tests/client.rs` (a paused clock would also fire
//! the HTTP client's own timeouts while it waits on a real socket).
#![cfg(feature = "https")]

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wbxprov::Secret;
use wbxprov::client::{AdminAuth, Client, Options, RetryPolicy};
use wbxprov::schema::{FlatKey, FlatUser, Value};
use wbxprov::xml::encode::{UserOperation, XmlNs, encode_failure, encode_response};
use wbxprov::xml::{Secrets, ServiceError, ServiceFailure};

enum Answer {
    Reply(u16, String),
    /// Read the request, then close the connection without answering.
    Drop,
}

/// Answers requests in order from a script; records the bodies it received.
async fn server(script: Vec<Answer>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/WBXService/XMLService",
        listener.local_addr().unwrap()
    );
    let received = Arc::new(Mutex::new(Vec::new()));
    let seen = received.clone();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            let script = script.clone();
            tokio::spawn(async move {
                loop {
                    let Some(request) = common::http::read_request(&mut socket).await else {
                        return;
                    };
                    seen.lock()
                        .unwrap()
                        .push(common::http::body_of(&request).to_owned());
                    let answer = script.lock().unwrap().pop_front();
                    match answer {
                        Some(Answer::Reply(status, body)) => {
                            let response = format!(
                                "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if socket.write_all(response.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        Some(Answer::Drop) | None => return,
                    }
                }
            });
        }
    });
    (url, received)
}

fn ticket() -> String {
    encode_response(
        (XmlNs::User, "authenticateUserResponse"),
        Secrets::Reveal,
        |b| {
            b.text(XmlNs::User, "sessionTicket", "TICKET-42");
            Ok(())
        },
    )
    .unwrap()
}

fn user(id: &str, user_id: i64) -> String {
    let flat: FlatUser = [
        (
            "webExId".parse::<FlatKey>().unwrap(),
            Value::Text(id.into()),
        ),
        ("userId".parse().unwrap(), Value::Int(user_id)),
    ]
    .into_iter()
    .collect();
    encode_response((XmlNs::User, "getUserResponse"), Secrets::Reveal, |b| {
        b.user(&flat, UserOperation::Get)
    })
    .unwrap()
}

fn failure(id: &str, reason: &str) -> String {
    encode_failure(&ServiceError::from(ServiceFailure::new(id, reason)))
}

fn fast_retries() -> Options {
    {
        let mut built = Options::default();
        built.retry = {
            let mut built = RetryPolicy::default();
            built.base_delay = Duration::from_millis(5);
            built.max_delay = Duration::from_millis(20);
            built.rate_limit_wait = Duration::from_millis(30);
            built
        };
        built
    }
}

fn client(url: &str, auth: AdminAuth) -> Client {
    Client::builder("example", auth)
        .endpoint(url)
        .options(fast_retries())
        .build()
        .unwrap()
}

fn password() -> AdminAuth {
    AdminAuth::Password {
        web_ex_id: "admin".into(),
        password: Secret::new("Adm1n-s3cret"),
    }
}

#[tokio::test]
async fn retries_over_http_and_reuses_the_ticket() {
    let (url, received) = server(vec![
        Answer::Reply(200, ticket()),
        Answer::Reply(503, "busy".into()),
        Answer::Reply(200, failure("000045", "API Rate Limit Reached")),
        Answer::Reply(200, user("jdoe", 7)),
    ])
    .await;
    let c = client(&url, password());
    let started = std::time::Instant::now();
    let got = c.get_user("jdoe").await.unwrap();
    assert_eq!(got.user_id, Some(7));
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "waited for the rate limit"
    );
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 4);
    assert!(bodies[0].contains("<password>Adm1n-s3cret</password>"));
    assert!(
        bodies[1..]
            .iter()
            .all(|b| b.contains("<sessionTicket>TICKET-42</sessionTicket>"))
    );
}

#[tokio::test]
async fn a_create_cut_off_after_sending_is_checked_not_resent() {
    let (url, received) = server(vec![
        Answer::Reply(200, ticket()),
        Answer::Drop,
        Answer::Reply(200, user("jdoe", 99)),
    ])
    .await;
    let c = client(&url, password());
    let new_user: FlatUser = [(
        "webExId".parse::<FlatKey>().unwrap(),
        Value::Text("jdoe".into()),
    )]
    .into_iter()
    .collect();
    let created = c.create_user(new_user).await.unwrap();
    assert_eq!(created.user_id, 99);
    let bodies = received.lock().unwrap().clone();
    let creates = bodies
        .iter()
        .filter(|b| b.contains("user.CreateUser"))
        .count();
    let gets = bodies.iter().filter(|b| b.contains("user.GetUser")).count();
    assert_eq!((creates, gets), (1, 1), "{bodies:#?}");
}

#[tokio::test]
async fn an_access_token_authenticates_over_http() {
    let (url, received) = server(vec![
        Answer::Reply(200, ticket()),
        Answer::Reply(200, user("jdoe", 7)),
    ])
    .await;
    let auth = AdminAuth::AccessToken {
        web_ex_id: None,
        token: Secret::new("TOKEN-xyz"),
    };
    client(&url, auth).get_user("jdoe").await.unwrap();
    let bodies = received.lock().unwrap().clone();
    assert!(bodies[0].contains("<accessToken>TOKEN-xyz</accessToken>"));
    assert!(bodies[1].contains("<sessionTicket>TICKET-42</sessionTicket>"));
}
