//! The HTTPS transport against a local HTTP server (plain HTTP on 127.0.0.1:
//! the same client code path; no network leaves the machine).
#![cfg(feature = "https")]

mod common;

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wbxprov::client::transport::Https;
use wbxprov::client::{Outgoing, Transport, TransportError};
use wbxprov::ops::Operation;

/// Serves one request with `status` and `body`; returns what it received.
async fn serve_once(status: u16, body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/WBXService/XMLService",
        listener.local_addr().unwrap()
    );
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let received = common::http::read_request(&mut socket)
            .await
            .unwrap_or_default();
        let response = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(response.as_bytes()).await.unwrap();
        received
    });
    (url, handle)
}

fn outgoing(url: String) -> Outgoing {
    Outgoing {
        url,
        operation: Operation::GetSite,
        key: None,
        body: "<serv:message>secret-body</serv:message>".into(),
        masked_body: "<serv:message>***</serv:message>".into(),
    }
}

#[tokio::test]
async fn posts_the_document_with_a_user_agent_and_returns_status_and_body() {
    let (url, server) = serve_once(200, "<ok/>").await;
    let https = Https::new(Duration::from_secs(5), Duration::from_secs(5)).unwrap();
    let incoming = https.send(&outgoing(url)).await.unwrap();
    assert_eq!(
        (incoming.status, incoming.body.as_slice()),
        (200, b"<ok/>".as_slice())
    );
    let request = server.await.unwrap();
    assert!(
        request.starts_with("POST /WBXService/XMLService HTTP/1.1"),
        "{request}"
    );
    let lower = request.to_ascii_lowercase();
    assert!(
        lower.contains(&format!(
            "user-agent: wbxprov/{}",
            env!("CARGO_PKG_VERSION")
        )),
        "{request}"
    );
    assert!(
        request.ends_with("<serv:message>secret-body</serv:message>"),
        "{request}"
    );
}

#[tokio::test]
async fn server_errors_come_back_as_statuses_and_refused_connections_as_transient_errors() {
    let (url, server) = serve_once(503, "busy").await;
    let https = Https::new(Duration::from_secs(5), Duration::from_secs(5)).unwrap();
    assert_eq!(https.send(&outgoing(url)).await.unwrap().status, 503);
    server.await.unwrap();
    // Nothing listens on this port any more.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let err = https.send(&outgoing(url)).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(
        !err.maybe_sent(),
        "a refused connection sent nothing: {err:?}"
    );
    assert!(matches!(err, TransportError::Connection { .. }));
    assert!(!format!("{err:?}{err}").contains("secret-body"));
}
