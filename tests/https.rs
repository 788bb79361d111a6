//! The HTTPS transport against a local HTTP server (plain HTTP on 127.0.0.1:
//! the same client code path; no network leaves the machine).
#![cfg(feature = "https")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wbxprov::Secret;
use wbxprov::client::transport::Https;
use wbxprov::client::{AdminAuth, Client, Outgoing, Transport, TransportError};
use wbxprov::identity::transport::HttpsJson;
use wbxprov::identity::{HttpTransport, IdentityClient};
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

/// Counts what arrives at an address nobody should be sent to: each
/// connection is counted, then dropped unanswered.
async fn trap(ip: &str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (address, connections)
}

/// Answers every request with `status` and a `Location`; counts the requests.
async fn redirector(status: u16, location: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counted = counted.clone();
            let location = location.clone();
            tokio::spawn(async move {
                while common::http::read_request(&mut socket).await.is_some() {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let response = format!(
                        "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
                    );
                    if socket.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (base, requests)
}

/// The other loopback addresses a redirect may point to: another host and
/// another port of this one.
async fn traps() -> Vec<(String, Arc<AtomicUsize>)> {
    vec![trap("127.0.0.2").await, trap("127.0.0.1").await]
}

#[tokio::test]
async fn the_xml_api_transport_never_follows_a_redirect_and_does_not_retry_it() {
    for status in [301, 302, 307, 308] {
        for (elsewhere, connections) in traps().await {
            let location = format!("http://{elsewhere}/WBXService/XMLService");
            let (base, requests) = redirector(status, location.clone()).await;
            let client = Client::builder("example", password())
                .endpoint(format!("{base}/WBXService/XMLService"))
                .options(common::fast_retries())
                .build()
                .unwrap();
            let err = client.get_user("jdoe").await.unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(&status.to_string()) && text.contains(&location),
                "{status}: {text}"
            );
            assert!(!err.is_transient(), "{status}: {err:?}");
            assert_eq!(requests.load(Ordering::SeqCst), 1, "{status}: sent once");
            assert_eq!(
                connections.load(Ordering::SeqCst),
                0,
                "{status}: {elsewhere} received nothing"
            );
            assert!(!format!("{err:?}{text}").contains("Adm1n-s3cret"));
        }
    }
}

#[tokio::test]
async fn the_identity_transport_never_follows_a_redirect_and_does_not_retry_it() {
    for status in [301, 302, 307, 308] {
        for (elsewhere, connections) in traps().await {
            let location = format!("http://{elsewhere}/identity/scim/org/v2/Users");
            let (base, requests) = redirector(status, location.clone()).await;
            let https = HttpsJson::new(Duration::from_secs(5), Duration::from_secs(5)).unwrap();
            let identity = IdentityClient::new(
                &format!("{base}/identity/scim"),
                "org",
                Secret::new("1dent1ty-bearer-t0ken"),
                Arc::new(https),
            )
            .retry(common::fast_retries().retry);
            let err = identity.find("jdoe@example.com").await.unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(&status.to_string()) && text.contains(&location),
                "{status}: {text}"
            );
            assert!(!err.is_transient(), "{status}: {err:?}");
            assert_eq!(requests.load(Ordering::SeqCst), 1, "{status}: sent once");
            assert_eq!(
                connections.load(Ordering::SeqCst),
                0,
                "{status}: {elsewhere} received nothing"
            );
        }
    }
}

fn password() -> AdminAuth {
    AdminAuth::Password {
        web_ex_id: "admin".into(),
        password: Secret::new("Adm1n-s3cret"),
    }
}

#[tokio::test]
async fn plain_http_to_another_host_is_refused_before_sending_unless_allowed() {
    // TEST-NET-2 (RFC 5737) and a name that is not this machine.
    for url in [
        "http://198.51.100.7/WBXService/XMLService",
        "http://acme.webex.com/WBXService/XMLService",
    ] {
        let https = Https::new(Duration::from_millis(300), Duration::from_secs(2)).unwrap();
        let err = https.send(&outgoing(url.into())).await.unwrap_err();
        assert!(
            matches!(&err, TransportError::InsecureUrl { url: u } if u == url),
            "{url}: {err:?}"
        );
        assert!(!err.is_transient() && !err.maybe_sent(), "{err:?}");
        assert!(err.to_string().contains("allowInsecureHttp"), "{err}");
        let identity = HttpsJson::new(Duration::from_millis(300), Duration::from_secs(2)).unwrap();
        let request = wbxprov::identity::HttpRequest {
            method: wbxprov::identity::Method::GET,
            url: url.into(),
            body: None,
        };
        let err = identity
            .send(&request, &Secret::new("t0ken"))
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::InsecureUrl { .. }), "{err:?}");
    }
    // Allowed explicitly, it is tried (whatever then answers, or fails to).
    let https = Https::new(Duration::from_millis(300), Duration::from_secs(2))
        .unwrap()
        .allow_insecure_http(true);
    let sent = https.send(&outgoing("http://198.51.100.7/".into())).await;
    assert!(
        !matches!(sent, Err(TransportError::InsecureUrl { .. })),
        "{sent:?}"
    );
}

#[tokio::test]
async fn plain_http_to_this_machine_stays_allowed() {
    for (bind, host) in [
        ("127.0.0.1:0", "127.0.0.1"),
        ("127.0.0.1:0", "localhost"),
        ("[::1]:0", "[::1]"),
    ] {
        let listener = TcpListener::bind(bind).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            common::http::read_request(&mut socket).await.unwrap();
            let response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n<ok/>";
            socket.write_all(response.as_bytes()).await.unwrap();
        });
        let https = Https::new(Duration::from_secs(5), Duration::from_secs(5)).unwrap();
        let url = format!("http://{host}:{port}/WBXService/XMLService");
        let incoming = https.send(&outgoing(url.clone())).await;
        assert_eq!(incoming.map(|i| i.status), Ok(200), "{url}");
        server.await.unwrap();
    }
}

/// Answers one request with `head` (status line and headers), then `body_len`
/// zero bytes; then closes the connection, or with `hold`, keeps it open until
/// the client leaves.
async fn serve_zeros(head: &'static str, body_len: usize, hold: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        common::http::read_request(&mut socket).await;
        let _ = socket.write_all(head.as_bytes()).await;
        let zeros = vec![0u8; 1 << 20];
        let mut left = body_len;
        while left > 0 {
            let n = left.min(zeros.len());
            if socket.write_all(&zeros[..n]).await.is_err() {
                return;
            }
            left -= n;
        }
        if hold {
            let mut rest = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut rest).await;
        }
    });
    url
}

const NO_LENGTH: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n";
const HUGE_LENGTH: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 2147483648\r\n\r\n";

/// Asserts the answer was refused as too large (without printing a body).
fn too_large<T>(result: Result<T, TransportError>, limit: usize, declared: Option<u64>) {
    match result {
        Err(TransportError::TooLarge {
            limit: l,
            declared: d,
        }) => assert_eq!((l, d), (limit, declared)),
        Err(other) => panic!("expected TooLarge, got {other:?}"),
        Ok(_) => panic!("expected TooLarge, got the whole answer"),
    }
}

#[tokio::test]
async fn the_xml_api_transport_stops_reading_at_the_decoders_limit() {
    let limit = wbxprov::xml::Limits::default().max_bytes;
    let https = Https::new(Duration::from_secs(5), Duration::from_secs(60)).unwrap();
    let url = serve_zeros(NO_LENGTH, limit + (1 << 20), false).await;
    too_large(https.send(&outgoing(url)).await, limit, None);
    // A Content-Length over the limit is refused before reading: the server
    // closes right after its headers, so reading would end in a broken body.
    let url = serve_zeros(HUGE_LENGTH, 0, false).await;
    too_large(https.send(&outgoing(url)).await, limit, Some(1 << 31));
}

#[tokio::test]
async fn the_identity_transport_stops_reading_at_its_limit() {
    let limit = wbxprov::identity::transport::MAX_ANSWER_BYTES;
    let https = HttpsJson::new(Duration::from_secs(5), Duration::from_secs(60)).unwrap();
    let token = Secret::new("t0ken");
    let get = |url: String| wbxprov::identity::HttpRequest {
        method: wbxprov::identity::Method::GET,
        url,
        body: None,
    };
    let url = serve_zeros(NO_LENGTH, limit + (1 << 20), false).await;
    too_large(https.send(&get(url), &token).await, limit, None);
    let url = serve_zeros(HUGE_LENGTH, 0, false).await;
    too_large(https.send(&get(url), &token).await, limit, Some(1 << 31));
}

#[tokio::test]
async fn the_timeout_covers_reading_the_body() {
    // Headers at once, then a body that never ends.
    let url = serve_zeros(NO_LENGTH, 1, true).await;
    let https = Https::new(Duration::from_secs(5), Duration::from_millis(500)).unwrap();
    let err = https.send(&outgoing(url)).await.unwrap_err();
    assert!(
        matches!(err, TransportError::Timeout { sent: true, .. }),
        "{err:?}"
    );
}
