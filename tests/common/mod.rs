//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod http;
pub mod script;

use std::path::{Path, PathBuf};

use wbxprov::Secret;
use wbxprov::schema::{AttributeInfo, ScalarType, TextFormat, Value};

/// The project's reference material (`../shared` beside the checkout, or
/// `$WBXPROV_SHARED_DIR`). CI always has it; a user's clone may not, and then the
/// tests that read it skip themselves, saying so.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WBXPROV_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.join("spec").is_dir() {
        Some(dir)
    } else {
        announce_skip(format_args!(
            "{} not found (set WBXPROV_SHARED_DIR to run it)",
            dir.display()
        ));
        None
    }
}

/// Says that the running test skips itself, and why, where `cargo test` shows it.
pub fn announce_skip(reason: std::fmt::Arguments<'_>) {
    // Straight to the stderr handle: libtest captures `eprintln!` of passing tests,
    // and a skip must be visible.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped {}: {reason}",
        std::thread::current().name().unwrap_or("test"),
    );
}

/// Reads a file below the shared directory, or `None` (the test then skips).
pub fn read_shared(relative: &str) -> Option<String> {
    let path = shared_dir()?.join(relative);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Root of this repository.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A plausible, valid and non-default value for one attribute, derived from its
/// catalogue type alone.
pub fn sample_value(info: &AttributeInfo, slot: u8) -> Value {
    let scalar = |info: &AttributeInfo| -> Value {
        match *info.value_type.scalar() {
            ScalarType::Bool => Value::Bool(true),
            ScalarType::Int { min, max, .. } => {
                let v = min.unwrap_or(1).max(i64::from(slot) + 1);
                Value::Int(max.map_or(v, |m| v.min(m)))
            }
            ScalarType::Enum { values } => {
                Value::Text(values[usize::from(slot) % values.len()].to_owned())
            }
            ScalarType::Date => Value::Text("12/31/2030 23:59:59".into()),
            ScalarType::Text { max_len, format } => {
                let text = match format {
                    Some(TextFormat::Email) => "jdoe@example.com".to_owned(),
                    Some(TextFormat::Phone) => "1,408,5551212".to_owned(),
                    Some(TextFormat::PersonalUrl) => "jdoe".to_owned(),
                    None => format!("{} & <{}>", info.name, slot + 1),
                };
                let limit = max_len.map_or(usize::MAX, |n| n as usize);
                let text: String = text.chars().take(limit).collect();
                if info.secret {
                    Value::Secret(Secret::new(text))
                } else {
                    Value::Text(text)
                }
            }
        }
    };
    match (info.value_type.is_list(), scalar(info)) {
        (false, v) => v,
        // A list of an enumeration lists every value (orderTabs takes exactly its four tabs).
        (true, _) if matches!(info.value_type.scalar(), ScalarType::Enum { .. }) => {
            let ScalarType::Enum { values } = *info.value_type.scalar() else {
                unreachable!()
            };
            Value::TextList(values.iter().map(|v| (*v).to_owned()).collect())
        }
        (true, Value::Int(_)) => Value::IntList(vec![214, 216]),
        (true, Value::Text(t)) => Value::TextList(vec![t]),
        (true, other) => panic!("{}: no list sample for {other:?}", info.name),
    }
}

/// Every attribute `keep` selects, repeated groups in every occurrence.
pub fn all_attributes(keep: impl Fn(&AttributeInfo) -> bool) -> wbxprov::schema::FlatUser {
    let mut user = wbxprov::schema::FlatUser::new();
    for info in wbxprov::schema::ATTRIBUTES.iter().filter(|a| keep(a)) {
        for slot in 0..info.repeat.map_or(1, |r| r.max) {
            user.insert(
                wbxprov::schema::FlatKey::with_slot(info.attribute, slot),
                sample_value(info, slot),
            );
        }
    }
    user
}

/// Client options whose waits are milliseconds: retries happen, tests stay fast.
pub fn fast_retries() -> wbxprov::client::Options {
    use std::time::Duration;
    let mut options = wbxprov::client::Options::default();
    options.retry.base_delay = Duration::from_millis(2);
    options.retry.max_delay = Duration::from_millis(10);
    options.retry.rate_limit_wait = Duration::from_millis(10);
    options
}

/// A client of the simulated `site` as its default admin.
#[cfg(feature = "sim")]
pub fn sim_client(site: &wbxprov::sim::SimHandle) -> std::sync::Arc<wbxprov::client::Client> {
    let client = wbxprov::client::Client::builder("sim", wbxprov::sim::default_admin())
        .endpoint(&site.url)
        .build()
        .unwrap();
    std::sync::Arc::new(client)
}

/// `name` in this test binary's own temporary folder (`area` tells the
/// binaries apart), with no file left there by an earlier run.
pub fn scratch(area: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wbxprov-{area}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// A `wbxprov sim serve ARGS` process as the default admin, its request
/// logs off (they would print into the test output), killed when dropped.
pub struct SimServer {
    child: std::process::Child,
    /// The URL its first line names (`…/WBXService/XMLService`).
    pub url: String,
}

impl SimServer {
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> SimServer {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wbxprov"))
            .args(["sim", "serve"])
            .args(args)
            .env("RUST_LOG", "warn")
            .env_remove("WBXPROV_SIM_ADMIN_ID")
            .env_remove("WBXPROV_SIM_ADMIN_PASSWORD")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let first = stdout.lines().next().unwrap().unwrap();
        let url = first.strip_prefix("listening on ").unwrap().to_owned();
        SimServer { child, url }
    }
}

impl SimServer {
    /// `wbxprov` run in `cwd` against this server as its default admin, with
    /// no config file or access token of the caller's environment.
    pub fn cli(&self, cwd: &Path) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wbxprov"));
        command
            .current_dir(cwd)
            .env_remove("WBXPROV_CONFIG")
            .env_remove("WBXPROV_ACCESS_TOKEN")
            .env("WBXPROV_SITE_URL", &self.url)
            .env("WBXPROV_ADMIN_ID", "admin")
            .env("WBXPROV_ADMIN_PASSWORD", "wbxprov-sim");
        command
    }
}

/// A finished command's stdout then stderr, for assertion messages.
pub fn printed(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

impl Drop for SimServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An empty folder for one test (`area` tells the binaries apart).
pub fn fresh_dir(area: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wbxprov-{area}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What a `wbxprov` run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `wbxprov ARGS` from the repository root with no site, credential or
/// configuration from this environment, only `env`; `stdin` fed in.
pub fn offline_cli(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_wbxprov"));
    cmd.args(args).current_dir(repo_root());
    for var in [
        "WBXPROV_SITE_URL",
        "WBXPROV_ADMIN_ID",
        "WBXPROV_ADMIN_PASSWORD",
        "WBXPROV_SESSION_TICKET",
        "WBXPROV_ACCESS_TOKEN",
        "WBXPROV_CONFIG",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    run(cmd, stdin)
}

/// Runs `cmd` with `stdin` fed in, capturing its output.
pub fn run(mut cmd: std::process::Command, stdin: &[u8]) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // A program that stops reading at its input limit closes the pipe early.
    match child.stdin.take().unwrap().write_all(stdin) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("stdin: {e}"),
        _ => {}
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A response of `fixtures/real/responses/` (see [`real_document`]).
pub fn real_response(name: &str) -> Vec<u8> {
    real_document(&format!("responses/{name}"))
}

/// A document of `fixtures/real/` by its path there. An HTTP capture
/// (`*.http`: status line, CRLF headers, blank line, body) gives only its
/// body, byte for byte.
pub fn real_document(relative: &str) -> Vec<u8> {
    let path = repo_root().join("fixtures/real").join(relative);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if !relative.ends_with(".http") {
        return bytes;
    }
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("{relative}: no end of the HTTP head"));
    bytes[end + 4..].to_vec()
}
