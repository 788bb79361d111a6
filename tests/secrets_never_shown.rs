//! Secrets (admin password, access token, session ticket, a user's password,
//! the Control Hub identity token) appear in no log line at any level, no recording, and no `Debug` or
//! `Display` output of the client and its errors. Alone in its test binary:
//! tracing's callsite cache is process-wide, and other tests running in
//! parallel threads without a subscriber could hide events from this one.

mod common;

use std::sync::{Arc, Mutex};

use common::script::*;
use wbxprov::Secret;
use wbxprov::client::{AdminAuth, Recorder};
use wbxprov::ops::Operation;

/// Everything the tracing subscriber writes, at TRACE.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn secrets_appear_in_no_log_recording_or_debug_output() {
    use Operation::*;
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = std::env::temp_dir().join(format!("wbxprov-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let user_password = "Us3r-Pa55word!";
    let mut debug = String::new();
    for auth in [
        password_auth(),
        AdminAuth::AccessToken {
            web_ex_id: Some("admin".into()),
            token: Secret::new(TOKEN),
        },
    ] {
        let script = Script::new(vec![
            (AuthenticateUser, ticket(Some(5400))),
            // Refused by the service (not carried out): resent without a GetUser.
            (CreateUser, failure("000045", "API Rate Limit Reached")),
            (CreateUser, failure("030004", "User name already exists")),
        ]);
        let recorder = Arc::new(Recorder::new(script.clone(), &dir).unwrap());
        let c = client(recorder, auth);
        let err = c.create_user(new_user()).await.unwrap_err();
        debug.push_str(&format!("{c:?}\n{err:?}\n{err}\n"));
        // The secrets did go on the wire.
        assert!(script.bodies()[1].contains(user_password));
    }
    // The Control Hub identity client: its bearer token, through a 429 retry,
    // a conflict and a refusal.
    let identity_token = "1dent1ty-bearer-t0ken";
    let replay = Arc::new(
        wbxprov::identity::JsonReplay::from_file(
            &common::repo_root().join("fixtures/identity/seed-attributes.json"),
        )
        .unwrap(),
    );
    let identity = wbxprov::identity::IdentityClient::new(
        wbxprov::identity::DEFAULT_BASE_URL,
        "org",
        Secret::new(identity_token),
        replay,
    );
    let person = wbxprov::identity::Person {
        id: None,
        attributes: [(
            wbxprov::FlatKey::new(wbxprov::Attribute::WebExId),
            wbxprov::Value::Text("jdoe@example.com".into()),
        )]
        .into_iter()
        .collect(),
        display_name: None,
        external_id: None,
    };
    let _ = identity.find("jdoe@example.com").await;
    let _ = identity.create(&person).await;
    let title: wbxprov::FlatUser = [(
        wbxprov::FlatKey::new(wbxprov::Attribute::Title),
        wbxprov::Value::Text("Manager".into()),
    )]
    .into_iter()
    .collect();
    let id = "3a1f7b52-2c7e-4e0b-9d6a-5c2f0e9d8b11";
    let _ = identity
        .update(
            id,
            "jdoe@example.com",
            &wbxprov::identity::patch_ops(&title),
        )
        .await;
    let _ = identity.set_active(id, "jdoe@example.com", false).await;
    let _ = identity.find("jdoe@example.com").await;
    let conflict = identity.create(&person).await.unwrap_err();
    let refused = identity.find("jdoe@example.com").await.unwrap_err();
    debug.push_str(&format!(
        "{identity:?}\n{conflict:?}\n{conflict}\n{refused:?}\n{refused}\n"
    ));

    let mut recorded = String::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        recorded.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("rate limited by the site (000045): waiting"),
        "tracing was captured: {logs}"
    );
    assert!(
        recorded.contains("CreateUser")
            || recorded.contains("createUser")
            || recorded.contains("bodyContent")
    );
    assert!(
        logs.contains("rate limited (HTTP 429): waiting"),
        "the identity client's events were captured: {logs}"
    );
    for secret in [PASSWORD, TOKEN, TICKET, user_password, identity_token] {
        assert!(!logs.contains(secret), "{secret} in logs");
        assert!(!recorded.contains(secret), "{secret} in the recording");
        assert!(!debug.contains(secret), "{secret} in Debug output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
