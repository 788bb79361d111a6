//! `wbxprov demo` and `wbxprov sim serve`, run as an admin runs them.
#![cfg(feature = "cli")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn wbxprov() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wbxprov"));
    for var in [
        "WBXPROV_SITE_URL",
        "WBXPROV_ADMIN_ID",
        "WBXPROV_ADMIN_PASSWORD",
        "WBXPROV_ACCESS_TOKEN",
        "WBXPROV_CONFIG",
        "WBXPROV_SIM_ADMIN_ID",
        "WBXPROV_SIM_ADMIN_PASSWORD",
    ] {
        cmd.env_remove(var);
    }
    cmd.current_dir(std::env::temp_dir());
    cmd
}

#[test]
fn the_demo_provisions_the_csv_and_reports() {
    let out = wbxprov().arg("demo").output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("created  asmith"), "{stdout}");
    assert!(
        stdout.contains("site feature trackingCodes is off"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "report: 10 created, 3 updated, 1 refused before any call, 0 failed at the service"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("irossi     DEACTIVATED"), "{stdout}");
}

/// Kills the server when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sim_serve_prints_its_url_first_and_serves_user_commands() {
    let dir = std::env::temp_dir().join(format!("wbxprov-cli-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.sqlite");
    let _ = std::fs::remove_file(&state);
    let start = || {
        let mut child = wbxprov()
            .args(["sim", "serve", "--state"])
            .arg(&state)
            // Its per-request log lines would print into the test output.
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first
            .strip_prefix("listening on ")
            .expect(&first)
            .to_owned();
        let admin = lines.next().unwrap().unwrap();
        assert!(
            admin.contains("admin: admin / password: wbxprov-sim"),
            "{admin}"
        );
        (Server(child), url)
    };
    let (server, url) = start();
    let user = dir.join("u.json");
    std::fs::write(
        &user,
        r#"{"webExId": "cli1", "email": "cli1@example.com", "privilegeHost": true}"#,
    )
    .unwrap();
    let run = |args: &[&str], url: &str| {
        let out = wbxprov()
            .args(args)
            .env("WBXPROV_SITE_URL", url)
            .env("WBXPROV_ADMIN_ID", "admin")
            .env("WBXPROV_ADMIN_PASSWORD", "wbxprov-sim")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, stdout, stderr) = run(&["user", "create", "--user", user.to_str().unwrap()], &url);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("created cli1 (userId "), "{stdout}");
    drop(server);
    // Restarted on the same state file, the user is still there.
    let (_server, url) = start();
    let (code, stdout, stderr) = run(&["user", "get", "cli1", "--json"], &url);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["user"]["privilegeHost"], true);
    assert_eq!(json["user"]["email"], "cli1@example.com");
}

#[test]
fn sim_serve_refuses_a_bad_fault_spec() {
    let out = wbxprov()
        .args(["sim", "serve", "--faults", "boom=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown fault"));
}

/// `sim serve --control-hub-licences` prints the licences API and serves the
/// site's licence with `totalUnits` from the profile's `[limits] siteHosts`;
/// without the flag the licences API is not modelled.
#[test]
fn sim_serve_models_the_site_licence_only_when_asked() {
    let dir = std::env::temp_dir().join(format!("wbxprov-cli-sim-ch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let site = dir.join("site.toml");
    std::fs::write(
        &site,
        "siteName = \"example\"\n[controlHub]\norgId = \"org-1\"\n[limits]\nsiteHosts = 3\n",
    )
    .unwrap();
    let serve = |extra: &[&str]| {
        let mut child = wbxprov()
            .args(["sim", "serve", "--addr", "127.0.0.1:0", "--site"])
            .arg(&site)
            .args(extra)
            .env("RUST_LOG", "warn")
            .env_remove("WBXPROV_SIM_IDENTITY_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut xml, mut licences) = (String::new(), None);
        for line in lines.map(Result::unwrap) {
            if let Some(url) = line.strip_prefix("listening on ") {
                xml = url.to_owned();
            } else if let Some(rest) = line.strip_prefix("licences API: ") {
                licences = rest.split_whitespace().next().map(str::to_owned);
            } else if line.starts_with("users: ") {
                break;
            }
        }
        (Server(child), xml, licences)
    };
    let get = |url: &str| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let answer = reqwest::Client::new()
                .get(url)
                .bearer_auth(wbxprov::sim::DEFAULT_IDENTITY_TOKEN)
                .send()
                .await
                .unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        })
    };

    let (_server, _, licences) = serve(&["--control-hub-licences"]);
    let url = licences.expect("the licences API line");
    let (status, body) = get(&format!("{url}/licenses"));
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let site_licence = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["siteUrl"] == "example.webex.com")
        .expect(&body);
    assert_eq!(site_licence["totalUnits"], 3);

    let (_plain, xml, none) = serve(&[]);
    assert_eq!(none, None);
    let base = xml.trim_end_matches("/WBXService/XMLService");
    assert_eq!(get(&format!("{base}/v1/licenses")).0, 404);
}

/// A service manager stops `sim serve` with SIGTERM: it drains and exits 0
/// (with no handler, the signal would kill it and there would be no code).
#[cfg(unix)]
#[test]
fn sim_serve_exits_0_on_sigterm() {
    let mut child = wbxprov()
        .args(["sim", "serve", "--shutdown-timeout", "5"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("listening on "), "{first}");
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut server = Server(child);
    assert_eq!(server.0.wait().unwrap().code(), Some(0));
}
