//! Peak memory of `wbxprov import` and `wbxprov user list` over a 100,000-user
//! simulated site (issue 21: memory flat in the number of users).
//!
//! Three processes, so that each figure is the measured command's alone:
//! - this one prepares the site: 100,000 users written into a simulator state
//!   file (`tests/common/site_state.rs`: SQLite, one transaction, each user's
//!   attributes as the simulator's store writes them);
//! - `wbxprov sim serve --state FILE` serves them;
//! - this binary again, re-run as the command (`WBXPROV_BENCH_CHILD=1`, its
//!   arguments those of `wbxprov`: `import --out FILE.jsonl`, `user list`),
//!   which runs the command line (src/cli, included here by path) and then reports its own peak resident
//!   set (`VmHWM` of /proc/self/status).
//!
//! Prints wall time and users/s of each, then `import_100k_peak_rss_mb=<x>`
//! (target under 100) and `user_list_100k_peak_rss_mb=<x>`.
//!
//! Run: `cargo bench --bench import` (Linux; about a minute, most of it the
//! 100,000 GetUsers). Without `--bench` (as under `cargo test --all-targets`)
//! it runs the same on 1,200 users.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Instant;

#[path = "../tests/common/site_state.rs"]
mod site_state;

/// The `wbxprov` command line (the binary's, not library API): run in this
/// process so that its peak resident set is measured alone.
#[allow(unused_imports)]
#[path = "../src/cli/mod.rs"]
mod cli;

const CHILD: &str = "WBXPROV_BENCH_CHILD";
const ADMIN_ID: &str = "admin";
const ADMIN_PASSWORD: &str = "wbxprov-sim";

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(state: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wbxprov"))
        .args(["sim", "serve", "--state"])
        .arg(state)
        .env("RUST_LOG", "warn")
        .env("WBXPROV_SIM_ADMIN_ID", ADMIN_ID)
        .env("WBXPROV_SIM_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start wbxprov sim serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a first line").expect("readable");
    let url = first
        .strip_prefix("listening on ")
        .expect("listening on URL")
        .to_owned();
    Server(child, url)
}

/// Runs `wbxprov ARGS` as this binary's child mode; its peak RSS in MB and wall seconds.
fn measure(server: &Server, dir: &Path, args: &[&str]) -> (f64, f64) {
    let started = Instant::now();
    let out = Command::new(std::env::current_exe().expect("this binary"))
        .args(args)
        .current_dir(dir)
        .env(CHILD, "1")
        .env("RUST_LOG", "warn")
        .env_remove("WBXPROV_CONFIG")
        .env_remove("WBXPROV_ACCESS_TOKEN")
        .env("WBXPROV_SITE_URL", &server.1)
        .env("WBXPROV_ADMIN_ID", ADMIN_ID)
        .env("WBXPROV_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run the command");
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "wbxprov {args:?} failed: {stderr}");
    let kb: f64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kb="))
        .and_then(|v| v.parse().ok())
        .expect("the child reports its peak RSS");
    (kb / 1024.0, wall)
}

fn lines_in(path: &Path) -> usize {
    BufReader::new(std::fs::File::open(path).expect("output"))
        .lines()
        .count()
}

/// Import and list a site of `users` users; their peak RSS in MB.
fn site_figures(users: usize) -> (usize, f64, f64) {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "wbxprov-bench-import-{}-{users}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("bench directory");
    let state = dir.join("site.sqlite");
    let started = Instant::now();
    site_state::write_state(&state, users);
    println!(
        "site of {users} users written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let server = serve(&state);
    let (import_mb, import_s) = measure(&server, &dir, &["import", "--out", "all.jsonl"]);
    assert_eq!(
        lines_in(&dir.join("all.jsonl")),
        users,
        "every user exported"
    );
    println!(
        "import of {users} users: {import_s:.1} s ({:.0} users/s), peak RSS {import_mb:.1} MB",
        users as f64 / import_s
    );
    let (list_mb, list_s) = measure(&server, &dir, &["user", "list"]);
    println!("user list of {users} users: {list_s:.1} s, peak RSS {list_mb:.1} MB");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    (users, import_mb, list_mb)
}

fn main() -> ExitCode {
    if std::env::var_os(CHILD).is_some() {
        let code = cli::main();
        eprintln!("peak_rss_kb={}", peak_rss_kb().unwrap_or(0));
        return code;
    }
    let bench = std::env::args().any(|a| a == "--bench");
    // A tenth of the site too: memory flat in the number of users shows as
    // the same figure at both sizes.
    let sizes = if bench {
        [10_000, 100_000]
    } else {
        [120, 1_200]
    };
    let figures: Vec<(usize, f64, f64)> = sizes.iter().map(|&n| site_figures(n)).collect();
    for (users, import_mb, list_mb) in figures {
        let k = users as f64 / 1000.0;
        println!("import_{k}k_peak_rss_mb={import_mb:.1}");
        println!("user_list_{k}k_peak_rss_mb={list_mb:.1}");
    }
    ExitCode::SUCCESS
}
