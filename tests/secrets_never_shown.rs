//! Secrets (admin password, access token, session ticket, a user's password)
//! appear in no log line at any level, no recording, and no `Debug` or
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
            (CreateUser, status(503)),
            (CreateUser, failure("030004", "User name already exists")),
        ]);
        let recorder = Arc::new(Recorder::new(script.clone(), &dir).unwrap());
        let c = client(recorder, auth);
        let err = c.create_user(new_user()).await.unwrap_err();
        debug.push_str(&format!("{c:?}\n{err:?}\n{err}\n"));
        // The secrets did go on the wire.
        assert!(script.bodies()[1].contains(user_password));
    }
    let mut recorded = String::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        recorded.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "tracing was captured: {logs}");
    assert!(
        recorded.contains("CreateUser")
            || recorded.contains("createUser")
            || recorded.contains("bodyContent")
    );
    for secret in [PASSWORD, TOKEN, TICKET, user_password] {
        assert!(!logs.contains(secret), "{secret} in logs");
        assert!(!recorded.contains(secret), "{secret} in the recording");
        assert!(!debug.contains(secret), "{secret} in Debug output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
