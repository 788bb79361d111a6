//! Issue 21: `import` and `user list` stream page by page. Over a site of
//! three LstsummaryUser pages (500, 500, 201 users), an import writes exactly
//! the documents it always wrote (CSV, JSON, JSON Lines: header or brackets,
//! one record per user in list order), and `user list` every user once, in
//! order. Memory itself is measured by `cargo bench --bench import`.

#[path = "common/site_state.rs"]
mod site_state;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const USERS: usize = 1_201;
const ATTRS: &str = "webExId,firstName,lastName,email,privilegeHost,meetingTypes";

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wbxprov-streaming-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `wbxprov sim serve` over a state file of `USERS` users.
fn serve(d: &Path) -> Server {
    serve_users(d, USERS)
}

fn serve_users(d: &Path, users: usize) -> Server {
    let state = d.join("site.sqlite");
    site_state::write_state(&state, users);
    let mut child = Command::new(env!("CARGO_BIN_EXE_wbxprov"))
        .args(["sim", "serve", "--state"])
        .arg(&state)
        .env("RUST_LOG", "warn")
        .env_remove("WBXPROV_SIM_ADMIN_ID")
        .env_remove("WBXPROV_SIM_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("listening on ").unwrap().to_owned();
    Server(child, url)
}

fn wbxprov(server: &Server, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wbxprov"))
        .args(args)
        .current_dir(cwd)
        .env("RUST_LOG", "warn")
        .env_remove("WBXPROV_CONFIG")
        .env_remove("WBXPROV_ACCESS_TOKEN")
        .env("WBXPROV_SITE_URL", &server.1)
        .env("WBXPROV_ADMIN_ID", "admin")
        .env("WBXPROV_ADMIN_PASSWORD", "wbxprov-sim")
        .output()
        .unwrap()
}

fn last_name(i: usize) -> String {
    if i % 250 == 7 {
        format!("Last{i}, Jr.")
    } else {
        format!("Last{i}")
    }
}

/// User `i` as one JSON object with `ATTRS`' keys in that order.
fn json_record(i: usize) -> String {
    format!(
        r#"{{"webExId":"user{i:06}","firstName":"First{i}","lastName":"{}","email":"user{i:06}@example.com","privilegeHost":{},"meetingTypes":[214,216]}}"#,
        last_name(i),
        !i.is_multiple_of(3)
    )
}

fn csv_record(i: usize) -> String {
    let last = last_name(i);
    let last = if last.contains(',') {
        format!("\"{last}\"")
    } else {
        last
    };
    format!(
        "user{i:06},First{i},{last},user{i:06}@example.com,{},214;216\n",
        !i.is_multiple_of(3)
    )
}

/// The documents `import` wrote before it streamed: CSV with a header row,
/// a JSON array one object a line, JSON Lines.
fn expected(format: &str) -> String {
    match format {
        "csv" => format!("{ATTRS}\n") + &(0..USERS).map(csv_record).collect::<String>(),
        "json" => {
            let records: Vec<String> = (0..USERS).map(json_record).collect();
            format!("[\n{}\n]\n", records.join(",\n"))
        }
        "jsonl" => (0..USERS).map(|i| json_record(i) + "\n").collect(),
        other => panic!("no format {other}"),
    }
}

#[test]
fn a_streamed_import_writes_the_documents_import_always_wrote() {
    let d = dir("import");
    let server = serve(&d);
    for format in ["csv", "json", "jsonl"] {
        let file = format!("all.{format}");
        let out = wbxprov(
            &server,
            &d,
            &[
                "import",
                "--out",
                &file,
                "--attrs",
                ATTRS,
                "--concurrency",
                "7",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("exported {USERS} user(s) to {file}")
        );
        let written = std::fs::read_to_string(d.join(&file)).unwrap();
        let want = expected(format);
        if written != want {
            let at = written
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(written.lines().count().min(want.lines().count()));
            panic!(
                "{file} differs at line {}: {:?} (expected {:?}); {} lines, expected {}",
                at + 1,
                written.lines().nth(at),
                want.lines().nth(at),
                written.lines().count(),
                want.lines().count()
            );
        }
    }
}

#[test]
fn user_list_streams_every_page_in_order() {
    let d = dir("list");
    let server = serve(&d);
    let out = wbxprov(&server, &d, &["user", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["operation"], "LstsummaryUser");
    assert_eq!(doc["total"], USERS);
    let ids: Vec<&str> = doc["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["webExId"].as_str().unwrap())
        .collect();
    let want: Vec<String> = (0..USERS).map(|i| format!("user{i:06}")).collect();
    assert_eq!(ids, want);
    assert_eq!(doc["users"][7]["lastName"], "Last7, Jr.");

    let out = wbxprov(&server, &d, &["user", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), USERS + 1);
    assert_eq!(
        lines[1],
        "user000001  ACTIVATED   First1 Last1 <user000001@example.com>"
    );
    assert_eq!(lines[USERS], format!("{USERS} user(s)"));
}

/// The JSON of a small list is byte for byte what `user list --json` printed
/// when it read the whole list first (`serde_json::to_writer_pretty` of the
/// document), but for `total`, which now follows `users`; with no user too.
#[test]
fn user_list_json_is_pretty_printed_as_before() {
    for users in [2, 0] {
        let d = dir(&format!("list-json-{users}"));
        let server = serve_users(&d, users);
        let out = wbxprov(&server, &d, &["user", "list", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = String::from_utf8(out.stdout).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(doc["users"].as_array().unwrap().len(), users);
        let mut old = serde_json::Map::new();
        old.insert("operation".into(), "LstsummaryUser".into());
        old.insert("users".into(), doc["users"].clone());
        old.insert("total".into(), users.into());
        let want = serde_json::to_string_pretty(&old).unwrap() + "\n";
        assert_eq!(printed, want);
    }
}
