//! The client over a scripted in-process transport, on tokio's paused clock:
//! retries and their waits, session tickets, the unknown-outcome CreateUser,
//! validation before any call, record and replay. (Secrets in logs and
//! recordings: `tests/secrets_never_shown.rs`.)

mod common;

use std::sync::Arc;
use std::time::Duration;

use wbxprov::Secret;
use wbxprov::client::{
    AdminAuth, Client, ErrorKind, Recorder, Replay, TransportError, count_attempts,
};
use wbxprov::ops::Operation;
use wbxprov::schema::User;

use common::script::*;

#[tokio::test(start_paused = true)]
async fn rate_limit_waits_sixty_seconds_then_succeeds() {
    use Operation::*;
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (GetUser, failure("000045", "API Rate Limit Reached")),
        (GetUser, user_reply("jdoe", 7)),
    ]);
    let c = client(script.clone(), password_auth());
    let user = c.get_user("jdoe").await.unwrap();
    assert_eq!(user.user_id, Some(7));
    let t = script.times();
    assert!(t[2] - t[1] >= Duration::from_secs(60), "{:?}", t[2] - t[1]);
    assert!(t[2] - t[1] < Duration::from_secs(61));
}

#[tokio::test(start_paused = true)]
async fn server_errors_back_off_exponentially_and_permanent_errors_are_not_retried() {
    use Operation::*;
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (GetUser, status(503)),
        (GetUser, status(429)),
        (
            GetUser,
            Err(TransportError::Connection {
                message: "reset".into(),
                sent: true,
            }),
        ),
        (GetUser, user_reply("jdoe", 7)),
        (GetUser, failure("030001", "Corresponding User not found")),
    ]);
    let c = client(script.clone(), password_auth());
    c.get_user("jdoe").await.unwrap();
    let t = script.times();
    // Backoff: between half and all of 0.5 s, 1 s, 2 s.
    let waits: Vec<Duration> = t.windows(2).skip(1).map(|w| w[1] - w[0]).collect();
    for (wait, ceiling) in waits.iter().zip([500u64, 1000, 2000]) {
        let ceiling = Duration::from_millis(ceiling);
        assert!(*wait >= ceiling / 2 && *wait <= ceiling, "{waits:?}");
    }
    let err = c.get_user("jdoe").await.unwrap_err();
    assert!(err.is_not_found() && !err.is_transient());
    assert_eq!(err.attempts, 1);
    assert_eq!(script.sent().len(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_response_is_lost_is_not_sent_twice() {
    use Operation::*;
    let lost = || {
        Err(TransportError::Timeout {
            after: Duration::from_secs(60),
            sent: true,
        })
    };
    // The user exists after all: the answer comes from GetUser.
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (CreateUser, lost()),
        (GetUser, user_reply("jdoe", 42)),
    ]);
    let c = client(script.clone(), password_auth());
    let made = c.create_user(new_user()).await.unwrap();
    assert_eq!(made.user_id, 42);
    assert_eq!(script.sent(), [AuthenticateUser, CreateUser, GetUser]);
    // It does not: then, and only then, CreateUser is sent again.
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (CreateUser, lost()),
        (GetUser, failure("030001", "Corresponding User not found")),
        (CreateUser, created(43)),
    ]);
    let c = client(script.clone(), password_auth());
    assert_eq!(c.create_user(new_user()).await.unwrap().user_id, 43);
    assert_eq!(
        script.sent(),
        [AuthenticateUser, CreateUser, GetUser, CreateUser]
    );
}

#[tokio::test(start_paused = true)]
async fn session_tickets_are_reused_renewed_before_expiry_and_after_refusal() {
    use Operation::*;
    let script = Script::new(vec![
        (AuthenticateUser, ticket(Some(100))),
        (GetUser, user_reply("a", 1)),
        (GetUser, user_reply("b", 2)),
        // 90 s later: past 80% of the 100 s lifetime.
        (AuthenticateUser, ticket(Some(100))),
        (GetUser, user_reply("c", 3)),
        // The service refuses the ticket: authenticate again, once, and retry.
        (GetUser, failure("030047", "Not a valid session ticket")),
        (AuthenticateUser, ticket(Some(100))),
        (GetUser, user_reply("d", 4)),
    ]);
    let c = client(script.clone(), password_auth());
    c.get_user("a").await.unwrap();
    c.get_user("b").await.unwrap();
    tokio::time::sleep(Duration::from_secs(90)).await;
    c.get_user("c").await.unwrap();
    c.get_user("d").await.unwrap();
    assert!(script.replies.lock().unwrap().is_empty());
    // Calls after authentication carry the ticket, never the password.
    let bodies = script.bodies();
    assert!(bodies[0].contains(&format!("<password>{PASSWORD}</password>")));
    assert!(bodies[1].contains(&format!("<sessionTicket>{TICKET}</sessionTicket>")));
    assert!(!bodies[1].contains(PASSWORD));
}

#[tokio::test(start_paused = true)]
async fn wrong_admin_credentials_fail_once_without_retrying() {
    let script = Script::new(vec![(
        Operation::AuthenticateUser,
        failure("030002", "Incorrect user or password"),
    )]);
    let c = client(script.clone(), password_auth());
    let err = c.get_user("jdoe").await.unwrap_err();
    assert_eq!(err.operation, Operation::AuthenticateUser);
    assert!(matches!(&err.kind, ErrorKind::Service(e) if e.exception_id() == Some("030002")));
    assert_eq!(script.sent().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_access_token_is_exchanged_for_a_ticket() {
    use Operation::*;
    let script = Script::new(vec![
        (AuthenticateUser, ticket(Some(5400))),
        (
            GetSite,
            ok(String::from_utf8(
                std::fs::read(common::repo_root().join("fixtures/responses/getsite.xml")).unwrap(),
            )
            .unwrap()),
        ),
    ]);
    let auth = AdminAuth::AccessToken {
        web_ex_id: Some("admin".into()),
        token: Secret::new(TOKEN),
    };
    let c = client(script.clone(), auth);
    let site = c.get_site().await.unwrap();
    assert_eq!(site.site_name.as_deref(), Some("example"));
    let bodies = script.bodies();
    // As Cisco's samples (fixtures/real/requests/AuthenticateUser_accessToken_*):
    // webExID and siteName in securityContext, the token once, in the body.
    for sample in [
        "AuthenticateUser_accessToken_cisco_docs.xml",
        "AuthenticateUser_accessToken_atlas_template.xml",
        "AuthenticateUser_accessToken_cisco_python_samples_postman.xml",
    ] {
        let real = std::fs::read_to_string(
            common::repo_root()
                .join("fixtures/real/requests")
                .join(sample),
        )
        .unwrap();
        assert_eq!(
            security_children(&bodies[0]),
            security_children(&real),
            "{sample}"
        );
        assert!(real.contains("<accessToken>"), "{sample}");
    }
    assert_eq!(bodies[0].matches(TOKEN).count(), 1, "{}", bodies[0]);
    assert!(bodies[0].contains(&format!("<accessToken>{TOKEN}</accessToken>")));
    assert!(bodies[1].contains(&format!("<sessionTicket>{TICKET}</sessionTicket>")));
}

/// The element names inside `securityContext`, sorted (real clients order them freely).
fn security_children(request: &str) -> Vec<String> {
    let start =
        request.find("<securityContext>").expect("securityContext") + "<securityContext>".len();
    let end = request
        .find("</securityContext>")
        .expect("end of securityContext");
    let mut names: Vec<String> = request[start..end]
        .split('<')
        .skip(1)
        .filter(|t| !t.starts_with('/'))
        .filter_map(|t| t.split(['>', ' ']).next().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[cfg(feature = "validate")]
#[tokio::test(start_paused = true)]
async fn an_invalid_change_is_refused_before_any_call() {
    use wbxprov::schema::{FlatUser, Value};
    let script = Script::new(vec![]);
    let mut profile = wbxprov::site::SiteProfile::new();
    profile.set_feature(wbxprov::Feature::HqVideo, false);
    let c = Client::builder("example", password_auth())
        .transport(script.clone())
        .validate_with(profile)
        .build()
        .unwrap();
    let mut change = FlatUser::new();
    change.insert(key("privilegeHQvideo"), Value::Bool(true));
    let err = c.set_user("jdoe", change).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Invalid(_)));
    assert!(err.to_string().contains("jdoe"), "{err}");
    assert!(
        err.to_string().contains("site feature hqVideo is off"),
        "{err}"
    );
    assert!(script.sent().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_recording_replays_without_the_network_and_unmatched_requests_say_why() {
    use Operation::*;
    let dir = std::env::temp_dir().join(format!("wbxprov-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let script = Script::new(vec![
        (AuthenticateUser, ticket(Some(5400))),
        (GetUser, user_reply("jdoe", 7)),
        (CreateUser, created(8)),
    ]);
    let c = client(
        Arc::new(Recorder::new(script, &dir).unwrap()),
        password_auth(),
    );
    c.get_user("jdoe").await.unwrap();
    c.create_user(new_user()).await.unwrap();

    let replay = Arc::new(Replay::from_dir(&dir).unwrap());
    let c = client(replay, password_auth());
    let user: User = c.get_user("jdoe").await.unwrap();
    assert_eq!(user.user_id, Some(7));
    assert_eq!(c.create_user(new_user()).await.unwrap().user_id, 8);
    let err = c.get_user("nobody").await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no recorded exchange for GetUser nobody"),
        "{text}"
    );
    assert!(text.contains("GetUser jdoe (used)"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(start_paused = true)]
async fn the_client_side_rate_limit_spaces_requests() {
    use Operation::*;
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (GetUser, user_reply("a", 1)),
        (GetUser, user_reply("b", 2)),
        (GetUser, user_reply("c", 3)),
    ]);
    let c = Client::builder("example", password_auth())
        .transport(script.clone())
        .options({
            let mut built = wbxprov::client::Options::default();
            built.requests_per_minute = Some(30);
            built
        })
        .build()
        .unwrap();
    for id in ["a", "b", "c"] {
        c.get_user(id).await.unwrap();
    }
    let t = script.times();
    for pair in t.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_secs(2), "{t:?}");
    }
}

/// Issue 15 item 6: an HTTP 5xx or 429 leaves a CreateUser's outcome unknown,
/// like a lost connection: GetUser says whether it landed before any resend.
#[tokio::test(start_paused = true)]
async fn a_create_answered_5xx_or_429_is_checked_before_any_resend() {
    use Operation::*;
    for code in [500, 503, 429] {
        let script = Script::new(vec![
            (AuthenticateUser, ticket(None)),
            (CreateUser, status(code)),
            (GetUser, user_reply("jdoe", 42)),
        ]);
        let c = client(script.clone(), password_auth());
        let made = c.create_user(new_user()).await;
        assert_eq!(made.unwrap().user_id, 42, "HTTP {code}");
        assert_eq!(script.sent(), [AuthenticateUser, CreateUser, GetUser]);
    }
}

/// Issue 15 item 6: "webExId exists" on a resend whose first attempt may have
/// landed is checked: the user we were creating (same email) is created, not a
/// conflict; someone else's is a conflict.
#[tokio::test(start_paused = true)]
async fn a_conflict_on_a_resend_is_verified_not_reported_blindly() {
    use Operation::*;
    let after_unknown = |conflict: Reply, found: Reply| {
        Script::new(vec![
            (AuthenticateUser, ticket(None)),
            (CreateUser, status(500)),
            // Not visible yet (or the check itself failed): resent.
            (GetUser, failure("030001", "Corresponding User not found")),
            (CreateUser, conflict),
            (GetUser, found),
        ])
    };
    let script = after_unknown(
        failure("030004", "User name already exists"),
        user_reply("jdoe", 42),
    );
    let c = client(script.clone(), password_auth());
    assert_eq!(c.create_user(new_user()).await.unwrap().user_id, 42);
    assert_eq!(script.sent().len(), 5);

    let script = after_unknown(
        failure("030005", "E-mail address already exists"),
        user_with_email("jdoe", 42, "someone.else@example.com"),
    );
    let c = client(script.clone(), password_auth());
    let err = c.create_user(new_user()).await.unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Service(e) if e.exception_id() == Some("030005")),
        "{err}"
    );

    // A conflict on the first attempt is the site's answer: no GetUser.
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (CreateUser, failure("030004", "User name already exists")),
    ]);
    let c = client(script.clone(), password_auth());
    let err = c.create_user(new_user()).await.unwrap_err();
    assert_eq!(err.service().unwrap().exception_id(), Some("030004"));
    assert_eq!(script.sent(), [AuthenticateUser, CreateUser]);
}

/// Issue 15 item 12: every send counts, on success too, in the scope that
/// asked and in the client's totals.
#[tokio::test(start_paused = true)]
async fn attempts_and_retries_are_counted() {
    use Operation::*;
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (GetUser, status(503)),
        (GetUser, failure("000045", "API Rate Limit Reached")),
        (GetUser, lost()),
        (GetUser, user_reply("jdoe", 7)),
        (GetUser, user_reply("ann", 8)),
    ]);
    let c = client(script.clone(), password_auth());
    let (user, attempts) = count_attempts(c.get_user("jdoe")).await;
    assert_eq!(user.unwrap().user_id, Some(7));
    // Authentication is the session's, not this user's.
    assert_eq!(attempts, 4);
    let (_, attempts) = count_attempts(c.get_user("ann")).await;
    assert_eq!(attempts, 1);
    let stats = c.stats();
    assert_eq!(
        (
            stats.calls,
            stats.sends,
            stats.retries,
            stats.rate_limit_waits
        ),
        (2, 6, 3, 1)
    );
    assert_eq!(stats.rate_limit_waited, Duration::from_secs(60));
    assert_eq!(stats.reauthentications, 0);
}

/// The GetUser that checks an unknown outcome is not an attempt at the create.
#[tokio::test(start_paused = true)]
async fn the_check_of_an_unknown_outcome_is_not_counted_as_an_attempt() {
    use Operation::*;
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (CreateUser, status(500)),
        (GetUser, failure("030001", "Corresponding User not found")),
        (CreateUser, created(43)),
    ]);
    let c = client(script.clone(), password_auth());
    let (made, attempts) = count_attempts(c.create_user(new_user())).await;
    assert_eq!(made.unwrap().user_id, 43);
    assert_eq!(attempts, 2);
    let stats = c.stats();
    assert_eq!((stats.retries, stats.outcome_checks), (1, 1));
}

/// A replay directory: (exchange stem, response body) in call order.
fn replay_dir(name: &str, exchanges: &[(&str, Vec<u8>)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wbxprov-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (stem, body)) in exchanges.iter().enumerate() {
        std::fs::write(dir.join(format!("{:04}-{stem}.response.xml", i + 1)), body).unwrap();
    }
    dir
}

#[tokio::test(start_paused = true)]
async fn a_dead_ticket_030047_authenticates_once_more_and_the_user_is_read() {
    let ticket =
        std::fs::read(common::repo_root().join("fixtures/responses/authenticateuser-password.xml"))
            .unwrap();
    // The real service's answers: a dead ticket, then the user.
    let dir = replay_dir(
        "dead-ticket",
        &[
            ("AuthenticateUser-admin", ticket.clone()),
            (
                "GetUser-123456",
                common::real_response("erolms_user_get_user_response_bad.http"),
            ),
            ("AuthenticateUser-admin", ticket),
            (
                "GetUser-123456",
                common::real_response("erolms_user_get_user_response_good.http"),
            ),
        ],
    );
    let c = client(Arc::new(Replay::from_dir(&dir).unwrap()), password_auth());
    let user = c.get_user("123456").await.unwrap();
    assert_eq!(
        user.get("webExId".parse().unwrap()),
        Some(wbxprov::schema::Value::Text("123456".into()))
    );
    assert_eq!(c.stats().reauthentications, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(start_paused = true)]
async fn a_ticket_refused_twice_fails_after_one_reauthentication() {
    use Operation::*;
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (GetUser, failure("030047", "Not a valid session ticket")),
        (AuthenticateUser, ticket(None)),
        (GetUser, failure("030047", "Not a valid session ticket")),
    ]);
    let c = client(script.clone(), password_auth());
    let err = c.get_user("jdoe").await.unwrap_err();
    assert!(matches!(&err.kind, ErrorKind::Service(e) if e.exception_id() == Some("030047")));
    assert!(script.replies.lock().unwrap().is_empty());
    assert_eq!(c.stats().reauthentications, 1);
}

#[tokio::test(start_paused = true)]
async fn wrong_credentials_030002_on_a_ticket_call_do_not_reauthenticate() {
    // No document shows the service answering 030002 to a ticket: it is the
    // password's answer (fixtures/real/responses/failure_030002_*).
    use Operation::*;
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (GetUser, failure("030002", "Incorrect user or password")),
    ]);
    let c = client(script.clone(), password_auth());
    let err = c.get_user("jdoe").await.unwrap_err();
    assert!(matches!(&err.kind, ErrorKind::Service(e) if e.exception_id() == Some("030002")));
    assert_eq!(script.sent(), [AuthenticateUser, GetUser]);
    assert_eq!(c.stats().reauthentications, 0);
}

#[tokio::test(start_paused = true)]
async fn service_unavailable_000035_is_retried_with_backoff() {
    use Operation::*;
    let busy = || {
        ok(String::from_utf8(common::real_response(
            "failure_000035_ASService_not_responding_atlas.xml",
        ))
        .unwrap())
    };
    let script = Script::new(vec![
        (AuthenticateUser, ticket(None)),
        (GetUser, busy()),
        (GetUser, busy()),
        (GetUser, user_reply("jdoe", 7)),
    ]);
    let c = client(script.clone(), password_auth());
    assert_eq!(c.get_user("jdoe").await.unwrap().user_id, Some(7));
    let t = script.times();
    // Backoff: between half and all of 0.5 s, then of 1 s.
    let waits: Vec<Duration> = t.windows(2).skip(1).map(|w| w[1] - w[0]).collect();
    for (wait, ceiling) in waits.iter().zip([500u64, 1000]) {
        let ceiling = Duration::from_millis(ceiling);
        assert!(*wait >= ceiling / 2 && *wait <= ceiling, "{waits:?}");
    }
    assert_eq!(c.stats().reauthentications, 0);
}
