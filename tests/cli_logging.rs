//! Legible long runs (issue 17): the CLI's logs on stderr (`-v`, `-q`,
//! `RUST_LOG`, `--log-format json`), every wait announced as it happens,
//! and `sim serve` / `scim serve` logging each request without a secret.
#![cfg(feature = "cli")]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A password no log line may show.
const PLANTED_PASSWORD: &str = "Planted-Pass-9417";

/// A `wbxprov … serve` process whose stderr goes to a file, killed when dropped.
struct Server {
    child: std::process::Child,
    url: String,
    log: PathBuf,
}

impl Server {
    /// Everything the server logged so far (after it is stopped: all of it).
    fn stop_and_read_log(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Server {
    let log = dir.join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wbxprov"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("WBXPROV_CONFIG")
        .env("WBXPROV_SIM_ADMIN_ID", "admin")
        .env("WBXPROV_SIM_ADMIN_PASSWORD", PLANTED_PASSWORD)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("listening on ").unwrap().to_owned();
    Server { child, url, log }
}

fn sim(extra: &[&str], dir: &Path) -> Server {
    let mut args = vec!["sim", "serve"];
    args.extend_from_slice(extra);
    start(&args, &[], dir)
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wbxprov-cli-logging-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn wbxprov(server: &Server, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wbxprov"))
        .args(args)
        .current_dir(cwd)
        .env_remove("WBXPROV_CONFIG")
        .env_remove("WBXPROV_ACCESS_TOKEN")
        .env_remove("RUST_LOG")
        .env("WBXPROV_SITE_URL", &server.url)
        .env("WBXPROV_ADMIN_ID", "admin")
        .env("WBXPROV_ADMIN_PASSWORD", PLANTED_PASSWORD)
        // The service asks for 60 s after 000045; a test waits 5 ms.
        .env("WBXPROV_RATE_LIMIT_WAIT_MS", "5")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn source(path: &Path, n: usize) {
    let mut csv = String::from("webExId,firstName,lastName,email\n");
    for i in 0..n {
        csv.push_str(&format!("u{i:03},First{i},Last{i},u{i:03}@example.com\n"));
    }
    std::fs::write(path, csv).unwrap();
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const WAIT_LINE: &str = "rate limited by the site (000045): waiting 5 ms, attempt ";

/// A sync against a site that rate-limits one request in five, as `args` run it:
/// its stderr and the report's `rateLimitWaits`.
fn sync_under_rate_limits(name: &str, args: &[&str], env: &[(&str, &str)]) -> (String, u64) {
    let site = RateLimited {
        faults: "ratelimit=0.2",
        seed: "7",
        users: 30,
    };
    site.sync(name, args, env)
}

/// A simulated site that answers a share of requests 000045, and how many
/// users a sync against it creates.
struct RateLimited {
    faults: &'static str,
    seed: &'static str,
    users: usize,
}

impl RateLimited {
    /// A sync as `args` run it: its stderr and the report's `rateLimitWaits`.
    fn sync(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> (String, u64) {
        let d = dir(name);
        let server = sim(&["--faults", self.faults, "--seed", self.seed], &d);
        source(&d.join("people.csv"), self.users);
        let mut all = args.to_vec();
        all.extend_from_slice(&["sync", "--source", "people.csv", "--report", "report.json"]);
        let out = wbxprov(&server, &d, &all, env);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("report.json")).unwrap()).unwrap();
        let waits = report["summary"]["rateLimitWaits"].as_u64().unwrap();
        (stderr(&out), waits)
    }
}

#[test]
fn every_rate_limit_wait_is_announced_on_stderr_once() {
    let (stderr, waits) = sync_under_rate_limits("waits", &[], &[]);
    assert!(waits > 0, "the faults caused no wait: {stderr}");
    let announced = stderr.lines().filter(|l| l.contains(WAIT_LINE)).count();
    assert_eq!(announced as u64, waits, "{stderr}");
    assert!(stderr.contains(" of 5"), "{stderr}");
    // A wait names its own call (within a CreateUser, the GetUser that checks
    // it), never the calls other tasks had in flight.
    for line in stderr.lines().filter(|l| l.contains(WAIT_LINE)) {
        assert!(line.matches("wbxprov.call{").count() <= 2, "{line}");
    }
    assert!(!stderr.contains(PLANTED_PASSWORD), "{stderr}");
}

/// Issue 17: "A run against a simulator with `--faults ratelimit=0.02` shows
/// every wait on stderr as it happens." 120 users make a few hundred requests;
/// with seed 3, the draws rate-limit some of them.
#[test]
fn every_wait_is_announced_at_the_issues_two_percent_rate_limit() {
    let site = RateLimited {
        faults: "ratelimit=0.02",
        seed: "3",
        users: 120,
    };
    let (stderr, waits) = site.sync("two-percent", &[], &[]);
    assert!(waits >= 1, "seed 3 caused no wait: {stderr}");
    let announced = stderr.lines().filter(|l| l.contains(WAIT_LINE)).count();
    assert_eq!(announced as u64, waits, "{stderr}");
}

#[test]
fn log_format_json_writes_each_wait_as_one_json_object() {
    let (stderr, waits) = sync_under_rate_limits("json", &["--log-format", "json"], &[]);
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let wait_events = events
        .iter()
        .filter(|e| {
            e["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(WAIT_LINE))
        })
        .inspect(|e| assert_eq!(e["fields"]["wait_ms"], 5, "{e}"))
        .count();
    assert_eq!(wait_events as u64, waits, "{stderr}");
    assert!(!stderr.contains(PLANTED_PASSWORD), "{stderr}");
}

#[test]
fn rust_log_and_quiet_silence_the_announcements() {
    let (stderr, waits) = sync_under_rate_limits("rust-log", &["-v"], &[("RUST_LOG", "error")]);
    assert!(waits > 0);
    assert!(
        !stderr.contains(WAIT_LINE),
        "RUST_LOG wins over -v: {stderr}"
    );
    let (stderr, _) = sync_under_rate_limits("quiet", &["-q"], &[]);
    assert!(!stderr.contains(WAIT_LINE), "{stderr}");
}

#[test]
fn very_verbose_logs_stay_off_stdout_and_show_no_secret() {
    let d = dir("vv");
    let server = sim(&[], &d);
    source(&d.join("people.csv"), 3);
    let out = wbxprov(
        &server,
        &d,
        &[
            "-vv",
            "sync",
            "--source",
            "people.csv",
            "--dry-run",
            "--json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not the JSON plan alone ({e})"));
    assert!(plan.is_object());
    let err = stderr(&out);
    assert!(err.contains("DEBUG"), "-vv shows debug lines: {err}");
    assert!(!err.contains(PLANTED_PASSWORD), "{err}");
    // Every library's trace too (hyper, reqwest), through a whole run.
    for args in [&["-vv"][..], &[]] {
        let mut all = args.to_vec();
        all.extend_from_slice(&["sync", "--source", "people.csv"]);
        let out = wbxprov(&server, &d, &all, &[("RUST_LOG", "trace")]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("TRACE"), "{err}");
        assert!(!err.contains(PLANTED_PASSWORD), "{err}");
    }
}

#[test]
fn sim_serve_logs_each_request_without_the_password() {
    let d = dir("sim-serve");
    let server = sim(&[], &d);
    let out = wbxprov(&server, &d, &["user", "get", "nobody.here"], &[]);
    assert_ne!(out.status.code(), Some(0));
    let log = server.stop_and_read_log();
    assert!(
        log.lines().any(|l| l.contains("INFO")
            && l.contains("POST /WBXService/XMLService GetUser FAILURE 030001: 200 in ")),
        "{log}"
    );
    assert!(
        log.contains("AuthenticateUser SUCCESS: 200"),
        "the admin's sign-in is logged: {log}"
    );
    assert!(!log.contains(PLANTED_PASSWORD), "{log}");
}

#[test]
fn scim_serve_logs_each_request_without_token_or_filter() {
    let d = dir("scim-serve");
    let token = "scim-token-planted-0123456789abcdef-0123456789abcdef";
    let server = start(
        &["scim", "serve", "--simulator"],
        &[("WBXPROV_SCIM_TOKEN", token)],
        &d,
    );
    let authority = server
        .url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let target = "/scim/v2/Users?filter=userName%20eq%20%22secret.person%40example.com%22";
    let mut stream = std::net::TcpStream::connect(&authority).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let log = server.stop_and_read_log();
    assert!(
        log.lines()
            .any(|l| l.contains("INFO") && l.contains("GET /scim/v2/Users: 200 in ")),
        "{log}"
    );
    for secret in [token, "secret.person", "filter="] {
        assert!(!log.contains(secret), "{secret} in {log}");
    }
}

#[test]
fn sync_shows_progress_of_reading_and_writing_with_counts_and_rate() {
    let d = dir("progress");
    let server = sim(&[], &d);
    source(&d.join("people.csv"), 30);
    let out = wbxprov(&server, &d, &["sync", "--source", "people.csv"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let line_of = |needle: &str| {
        err.lines()
            .position(|l| l.contains(needle) && l.contains("/s)"))
            .unwrap_or_else(|| panic!("no {needle:?} line with a rate: {err}"))
    };
    let read = line_of("read the site: ");
    // The listing and the reading, by operation.
    let reading = err.lines().nth(read).unwrap();
    assert!(reading.contains(" LstsummaryUser"), "{reading}");
    let written = line_of("writing: 30/30 users (");
    assert!(read < written, "{err}");
    assert!(
        line_of("writing: 3/30 users (") < written,
        "a line per tenth: {err}"
    );
    let quiet = wbxprov(&server, &d, &["-q", "sync", "--source", "people.csv"], &[]);
    assert!(
        !stderr(&quiet).contains("read the site"),
        "{}",
        stderr(&quiet)
    );
}
