//! The small CLI problems of issue 17 ("Smaller, each seen in the same trial"),
//! each pinned by the behaviour a new user saw.
#![cfg(feature = "cli")]

mod common;

use common::offline_cli;

/// The closing report counts the change step 3 shows refused before any call.
#[test]
fn demo_report_counts_the_refusal_of_step_3() {
    let run = offline_cli(&["demo"], &[], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("nothing sent"), "{}", run.stdout);
    let report = run.stdout.lines().last().unwrap();
    assert!(
        report.contains("1 refused before any call"),
        "{report}\n{}",
        run.stdout
    );
}

/// On a Control Hub site a password is judged once: the Meetings half and the
/// "owned by the identity" check both held it, and each reported it.
#[test]
fn validate_reports_each_violation_once_in_control_hub_mode() {
    let dir = std::env::temp_dir().join(format!("wbxprov-papercuts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let getsite = common::repo_root().join("fixtures/responses/getsite.xml");
    let site = dir.join("hub.toml");
    std::fs::write(
        &site,
        format!(
            "getSite = {:?}\n[controlHub]\norgId = \"a35bfbc6-ccbd-4a17-a488-72gf46c5420c\"\n",
            getsite.to_str().unwrap()
        ),
    )
    .unwrap();
    let user = dir.join("weak-password.json");
    std::fs::write(
        &user,
        r#"{"webExId": "jdoe", "firstName": "J", "lastName": "D", "email": "j@example.com", "password": "abc"}"#,
    )
    .unwrap();
    let args = [
        "validate",
        "--site",
        site.to_str().unwrap(),
        "--user",
        user.to_str().unwrap(),
    ];
    let run = offline_cli(&args, &[], b"");
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    let mut lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("password "))
        .collect();
    assert!(!lines.is_empty(), "{}", run.stdout);
    let all = lines.len();
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines.len(), all, "{}", run.stdout);
}

/// A replay whose recording authenticates as an admin, run without
/// `WBXPROV_ADMIN_ID`, says what is missing instead of failing on an
/// AuthenticateUser exchange the recording never held.
#[test]
fn replay_without_the_admin_id_says_what_is_missing() {
    let dir = std::env::temp_dir().join(format!("wbxprov-papercuts-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = common::repo_root().join("fixtures/responses");
    for (stem, fixture) in [
        ("0001-AuthenticateUser-admin", "authenticateuser-password.xml"),
        ("0002-GetUser-jdoe", "getuser-live-2016.xml"),
    ] {
        std::fs::copy(fixtures.join(fixture), dir.join(format!("{stem}.response.xml"))).unwrap();
    }
    let replay = dir.to_str().unwrap();
    let env = [("WBXPROV_SITE_URL", "example"), ("WBXPROV_ADMIN_PASSWORD", "x")];
    let run = offline_cli(&["user", "get", "jdoe", "--replay", replay], &env, b"");
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("WBXPROV_ADMIN_ID") && run.stderr.contains("`admin`"),
        "{}",
        run.stderr
    );
    let with_id = [("WBXPROV_ADMIN_ID", "admin"), env[0], env[1]];
    let run = offline_cli(&["user", "get", "jdoe", "--replay", replay], &with_id, b"");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// A file in the temporary directory, unique to this test process.
fn temp_file(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("wbxprov-papercuts-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `render` prints the credential as `***`, so it needs none: with none set it
/// renders a masked placeholder, and refuses only to show a secret there is not.
#[test]
fn render_without_a_credential_masks_a_placeholder() {
    let user = temp_file("render-user.json", r#"{"webExId": "jdoe"}"#);
    let env = [("WBXPROV_SITE_URL", "example"), ("WBXPROV_ADMIN_ID", "admin")];
    let run = offline_cli(&["render", "GetUser", "--user", &user], &env, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("<webExID>admin</webExID>") && run.stdout.contains("***"),
        "{}",
        run.stdout
    );
    let run = offline_cli(
        &["render", "GetUser", "--user", &user, "--show-secrets"],
        &env,
        b"",
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("no credential to show"),
        "{}",
        run.stderr
    );
}

/// `--site` takes a profile file everywhere else; render's site name is `--site-name`.
#[test]
fn render_takes_the_site_name_as_site_name() {
    let user = temp_file("render-site-name.json", r#"{"webExId": "jdoe"}"#);
    let args = ["render", "GetUser", "--user", &user, "--admin", "a"];
    let run = offline_cli(&[&args[..], &["--site-name", "acme"]].concat(), &[], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("<siteName>acme</siteName>"), "{}", run.stdout);
    let run = offline_cli(&[&args[..], &["--site", "acme"]].concat(), &[], b"");
    assert_ne!(run.code, 0, "{}", run.stdout);
}
