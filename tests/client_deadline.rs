//! Issue 15 item 9: the client's timeout is an overall deadline per call, all
//! attempts and backoff included, and the error says how long the call took.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::script::*;
use wbxprov::client::transport::Sending;
use wbxprov::client::{Client, ErrorKind, Options, Outgoing, Transport, TransportError};
use wbxprov::ops::{LstsummaryUser, Operation};

fn with_deadline(deadline: Duration) -> Options {
    {
        let mut built = common::fast_retries();
        built.deadline = deadline;
        built
    }
}

/// A host that accepts connections and never answers; the HTTP client's own
/// timeout is far longer than the deadline, so only the deadline can end the call.
#[cfg(feature = "https")]
#[tokio::test]
async fn a_host_that_never_answers_is_given_up_on_at_the_deadline() {
    use tokio::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/WBXService/XMLService",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            held.push(socket);
        }
    });
    let https =
        wbxprov::client::transport::Https::new(Duration::from_secs(5), Duration::from_secs(3600))
            .unwrap();
    let c = Client::builder("example", password_auth())
        .endpoint(url)
        .transport(Arc::new(https))
        .options(with_deadline(Duration::from_millis(300)))
        .build()
        .unwrap();
    let query = LstsummaryUser::default();
    let result = tokio::time::timeout(Duration::from_secs(30), c.list_users(&query))
        .await
        .expect("the call returns at its deadline, not the HTTP client's timeout");
    let err = result.unwrap_err();
    assert!(
        matches!(
            err.kind,
            ErrorKind::Transport(TransportError::Timeout { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("timed out after"), "{err}");
}

/// Every answer is a 503 that takes 20 s: retries stop at the deadline, not
/// after `max_attempts`.
struct Slow503;

impl Transport for Slow503 {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            if request.operation == Operation::AuthenticateUser {
                return ticket(None);
            }
            tokio::time::sleep(Duration::from_secs(20)).await;
            status(503)
        })
    }
}

#[tokio::test(start_paused = true)]
async fn retries_end_at_the_deadline_and_the_error_says_how_long_it_took() {
    let mut options = with_deadline(Duration::from_secs(50));
    options.retry.max_attempts = 10;
    let c = Client::builder("example", password_auth())
        .transport(Arc::new(Slow503))
        .options(options)
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let err = c.get_user("jdoe").await.unwrap_err();
    let took = started.elapsed();
    // On the paused clock, exact: two 20 s answers and a backoff fit, a third does not.
    assert!(took <= Duration::from_secs(50), "{took:?}");
    assert!(err.attempts < 10, "{err:?}");
    assert!(
        matches!(
            &err.kind,
            ErrorKind::Transport(TransportError::Timeout { after, .. }) if *after == took
        ),
        "{err:?} after {took:?}"
    );
}
