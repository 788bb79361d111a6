//! `wbxprov scim serve --simulator` as a real process, for the tests that need
//! what only a process shows: a stack overflow kills it, stderr warns.
//! Included with `#[path]` by the SCIM test files (not a test of its own).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A bearer token long enough for the server (at least 32 bytes).
pub const TOKEN: &str = "wbxprov-test-token-0123456789abcdef";

/// A running server; killed when dropped.
pub struct ScimProcess {
    child: Child,
    /// `http://ADDR/scim/v2`
    pub url: String,
    /// What it writes on stderr (a log line per request), drained as it comes:
    /// a pipe nobody reads fills up and stops the server mid-write.
    stderr: Option<std::thread::JoinHandle<String>>,
    /// The rest of stdout after the first line (a few start-up lines).
    stdout: BufReader<ChildStdout>,
}

impl ScimProcess {
    /// Serves at `addr` with `token`; panics unless it starts listening.
    pub fn start(addr: &str, token: &str) -> Self {
        Self::try_start(addr, token)
            .unwrap_or_else(|(code, stderr)| panic!("exited {code}: {stderr}"))
    }

    /// Serves at `addr` with `token`, or answers the exit code and stderr of
    /// a server that did not start.
    pub fn try_start(addr: &str, token: &str) -> Result<Self, (i32, String)> {
        Self::try_spawn(command(addr, token))
    }

    /// Runs `cmd` (a [`command`], perhaps with more settings), or answers the
    /// exit code and stderr of a server that did not start.
    pub fn try_spawn(mut cmd: Command) -> Result<Self, (i32, String)> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        match first.trim().strip_prefix("listening on ") {
            Some(url) => {
                let mut pipe = child.stderr.take().unwrap();
                let stderr = std::thread::spawn(move || {
                    let mut text = String::new();
                    let _ = pipe.read_to_string(&mut text);
                    text
                });
                Ok(ScimProcess {
                    child,
                    url: url.to_owned(),
                    stderr: Some(stderr),
                    stdout,
                })
            }
            None => {
                let stderr = stderr_of(&mut child);
                let code = child.wait().unwrap().code().unwrap_or(-1);
                Err((code, format!("{first}{stderr}")))
            }
        }
    }

    /// The next line of stdout after the first (start-up lines: the state,
    /// the public URL, the simulated site), without its newline.
    pub fn next_line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim_end().to_owned()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Sends SIGTERM (as a service manager stops it), waits until it exits,
    /// and answers its exit code (`None`: killed by the signal) and stderr.
    #[cfg(unix)]
    pub fn terminate(mut self) -> (Option<i32>, String) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
        let code = self.child.wait().unwrap().code();
        let stderr = self
            .stderr
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default();
        (code, stderr)
    }

    /// Stops the server and answers what it wrote on stderr.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Drop for ScimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `wbxprov scim serve --simulator --addr ADDR` with `token`, not yet spawned.
pub fn command(addr: &str, token: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wbxprov"));
    cmd.args(["scim", "serve", "--simulator", "--addr", addr])
        // Warnings only: a request log line per request would be drained for nothing.
        .env("RUST_LOG", "warn")
        .env("WBXPROV_SCIM_TOKEN", token)
        .env_remove("WBXPROV_CONFIG")
        .env_remove("WBXPROV_SIM_ADMIN_ID")
        .env_remove("WBXPROV_SIM_ADMIN_PASSWORD")
        // Never the user's own state folder, never one shared between tests.
        .env("XDG_STATE_HOME", state_home())
        .current_dir(std::env::temp_dir());
    cmd
}

/// `wbxprov scim serve --addr ADDR` for the site at `site_url` (a `sim
/// serve` process, as its default admin), not yet spawned.
pub fn site_command(addr: &str, token: &str, site_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wbxprov"));
    cmd.args(["scim", "serve", "--addr", addr])
        .env("RUST_LOG", "warn")
        .env("WBXPROV_SCIM_TOKEN", token)
        .env("WBXPROV_SITE_URL", site_url)
        .env("WBXPROV_ADMIN_ID", "admin")
        .env("WBXPROV_ADMIN_PASSWORD", "wbxprov-sim")
        .env_remove("WBXPROV_CONFIG")
        .env_remove("WBXPROV_ACCESS_TOKEN")
        .env("XDG_STATE_HOME", state_home())
        .current_dir(std::env::temp_dir());
    cmd
}

/// A fresh folder for one server's default state (`XDG_STATE_HOME`).
pub fn state_home() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("wbxprov-scim-state-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr_of(child: &mut Child) -> String {
    let _ = child.wait();
    let mut text = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut text);
    }
    text
}
