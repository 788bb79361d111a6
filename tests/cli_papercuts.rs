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
        (
            "0001-AuthenticateUser-admin",
            "authenticateuser-password.xml",
        ),
        ("0002-GetUser-jdoe", "getuser-live-2016.xml"),
    ] {
        std::fs::copy(
            fixtures.join(fixture),
            dir.join(format!("{stem}.response.xml")),
        )
        .unwrap();
    }
    let replay = dir.to_str().unwrap();
    let env = [
        ("WBXPROV_SITE_URL", "example"),
        ("WBXPROV_ADMIN_PASSWORD", "x"),
    ];
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
    let path =
        std::env::temp_dir().join(format!("wbxprov-papercuts-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `render` prints the credential as `***`, so it needs none: with none set it
/// renders a masked placeholder, and refuses only to show a secret there is not.
#[test]
fn render_without_a_credential_masks_a_placeholder() {
    let user = temp_file("render-user.json", r#"{"webExId": "jdoe"}"#);
    let env = [
        ("WBXPROV_SITE_URL", "example"),
        ("WBXPROV_ADMIN_ID", "admin"),
    ];
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
    assert!(
        run.stdout.contains("<siteName>acme</siteName>"),
        "{}",
        run.stdout
    );
    let run = offline_cli(&[&args[..], &["--site", "acme"]].concat(), &[], b"");
    assert_ne!(run.code, 0, "{}", run.stdout);
}

/// `sim serve` of a Control Hub profile, killed when dropped: its XML API URL
/// and the identity API URL it prints.
struct Served {
    child: std::process::Child,
    xml_url: String,
    identity_url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_control_hub(profile: &std::path::Path) -> Served {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wbxprov"))
        .args(["sim", "serve", "--site", profile.to_str().unwrap()])
        // Its per-request log lines would print into the test output.
        .env("RUST_LOG", "warn")
        .env_remove("WBXPROV_SIM_ADMIN_ID")
        .env_remove("WBXPROV_SIM_ADMIN_PASSWORD")
        .env_remove("WBXPROV_SIM_IDENTITY_TOKEN")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut xml_url, mut identity_url) = (String::new(), String::new());
    for line in lines.map(Result::unwrap) {
        if let Some(url) = line.strip_prefix("listening on ") {
            xml_url = url.to_owned();
        } else if let Some(rest) = line.strip_prefix("identity API: ") {
            identity_url = rest.split_whitespace().next().unwrap().to_owned();
            break;
        }
    }
    Served {
        child,
        xml_url,
        identity_url,
    }
}

/// `WBXPROV_IDENTITY_URL` takes the identity API URL `sim serve` prints (with
/// the organisation and `/v2`) as well as the base the identity client adds them to.
#[test]
fn identity_url_accepts_the_url_sim_serve_prints() {
    let dir = std::env::temp_dir().join(format!("wbxprov-papercuts-hub-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut profile = wbxprov::sim::default_profile();
    profile.control_hub = Some(wbxprov::site::ControlHub {
        org_id: "org-1".into(),
    });
    // This simulator models no licences: the licence half is off on purpose.
    profile.control_hub_licences = false;
    profile.control_hub_managed = true;
    std::fs::write(dir.join("ch.toml"), profile.to_toml()).unwrap();
    std::fs::write(
        dir.join("people.csv"),
        "email,firstName,lastName\np0@example.com,First,Last\n",
    )
    .unwrap();
    let server = serve_control_hub(&dir.join("ch.toml"));
    assert!(
        server.identity_url.ends_with("/org-1/v2"),
        "{}",
        server.identity_url
    );
    let base = server.identity_url.trim_end_matches("/org-1/v2").to_owned();
    for url in [
        server.identity_url.as_str(),
        &base,
        &format!("{}/", server.identity_url),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wbxprov"))
            .args([
                "sync",
                "--site",
                "ch.toml",
                "--source",
                "people.csv",
                "--dry-run",
            ])
            .current_dir(&dir)
            .env_remove("WBXPROV_CONFIG")
            .env_remove("WBXPROV_ACCESS_TOKEN")
            .env("WBXPROV_SITE_URL", &server.xml_url)
            .env("WBXPROV_ADMIN_ID", "admin")
            .env("WBXPROV_ADMIN_PASSWORD", "wbxprov-sim")
            .env("WBXPROV_IDENTITY_URL", url)
            .env(
                "WBXPROV_IDENTITY_TOKEN",
                wbxprov::sim::DEFAULT_IDENTITY_TOKEN,
            )
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "WBXPROV_IDENTITY_URL={url}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `wbxprov attrs` fits a terminal: 100 columns, or `$COLUMNS`; `--wide` prints
/// every column in full.
#[test]
fn attrs_table_fits_the_terminal_and_wide_prints_everything() {
    for (columns, limit) in [("", 100), ("80", 80), ("140", 140)] {
        let run = offline_cli(&["attrs"], &[("COLUMNS", columns)], b"");
        assert_eq!(run.code, 0, "{}", run.stderr);
        let widest = run.stdout.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(
            widest <= limit,
            "COLUMNS={columns}: {widest} wide\n{}",
            run.stdout
        );
        let header: Vec<&str> = run
            .stdout
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(
            header[..4],
            ["NAME", "TYPE", "OPS", "FEATURE"],
            "{header:?}"
        );
        // A name too long for its column has a line of its own, its cells on the next.
        let lines: Vec<&str> = run.stdout.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.split_whitespace().next() == Some("privilegeHDvideo"))
            .unwrap();
        let row = format!("{} {}", lines[at], lines[at + 1]);
        assert!(row.contains("hdVideo+hqVideo"), "{row}");
    }
    let run = offline_cli(&["attrs", "--wide"], &[("COLUMNS", "80")], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let header: Vec<&str> = run
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "PATH", "TYPE", "OPS", "FEATURE", "DESCRIPTION"]
    );
    assert!(run.stdout.contains("privilege/HDvideo"), "{}", run.stdout);
}

/// The entries of a `--help` text (subcommands, arguments, options) that have
/// no description, and the subcommands it lists.
fn help_entries(help: &str) -> (Vec<String>, Vec<String>) {
    let (mut empty, mut commands) = (Vec::new(), Vec::new());
    let lines: Vec<&str> = help.lines().collect();
    let mut section = "";
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with(' ') {
            section = line.trim_end_matches(':');
            continue;
        }
        let entry = line.trim();
        if line.starts_with("   ") && !line.trim_start().starts_with('-') || entry.is_empty() {
            continue; // a description's continuation, or a blank line
        }
        if section == "Commands" && entry.split_whitespace().next() != Some("help") {
            commands.push(entry.split_whitespace().next().unwrap().to_owned());
        }
        // clap writes a long description on the next, deeper-indented line.
        let next_indented = lines.get(i + 1).is_some_and(|n| {
            let indent = |s: &str| s.len() - s.trim_start().len();
            !n.trim().is_empty() && indent(n) > indent(line) + 4
        });
        if !entry.contains("  ") && !next_indented {
            empty.push(entry.to_owned());
        }
    }
    (empty, commands)
}

/// Every subcommand, argument and option of every level has a one-line help.
#[test]
fn every_help_entry_has_a_description() {
    let mut pending = vec![Vec::<String>::new()];
    let mut missing = Vec::new();
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let run = offline_cli(&args, &[], b"");
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let (empty, commands) = help_entries(&run.stdout);
        seen += 1;
        for entry in empty {
            missing.push(format!("wbxprov {}: {entry}", path.join(" ")));
        }
        for c in commands {
            let mut sub = path.clone();
            sub.push(c);
            pending.push(sub);
        }
    }
    assert!(seen > 15, "walked only {seen} help texts");
    assert!(
        missing.is_empty(),
        "without a description:\n{}",
        missing.join("\n")
    );
}
