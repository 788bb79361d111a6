//! A bare HTTP/1.1 request reader for the tests' local servers.

use tokio::io::AsyncReadExt;

/// One whole request (head and body, by Content-Length) from a connection;
/// `None` when the peer closes first.
pub async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&data).to_string();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if data.len() >= head_end + 4 + length {
                return Some(text[..head_end + 4 + length].to_owned());
            }
        }
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
}

/// The body of a request `read_request` returned.
pub fn body_of(request: &str) -> &str {
    request.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A SCIM request with bearer `token` (and `body` as application/scim+json):
/// the status and the JSON answer (`Null` when the answer is not JSON).
pub async fn scim_call(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    method: &str,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = http
        .request(method.parse().unwrap(), url)
        .header("Authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        request = request
            .header("Content-Type", "application/scim+json")
            .body(b.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}
