//! `--record DIR` keeps no secret: a user with every secret attribute of the
//! catalogue set to a planted value is created, read and given a new password
//! against the simulator while recording; no written file holds a planted
//! value, every file is owner-only, and the recording still replays.
#![cfg(all(feature = "cli", unix))]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Map, Value as Json};
use wbxprov::schema::ATTRIBUTES;

struct Sim(Child, String);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sim() -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wbxprov"))
        .args(["sim", "serve"])
        // Its per-request log lines would print into the test output.
        .env("RUST_LOG", "warn")
        .env_remove("WBXPROV_SIM_ADMIN_ID")
        .env_remove("WBXPROV_SIM_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("listening on ").unwrap().to_owned();
    Sim(child, url)
}

fn wbxprov(sim: &Sim, args: &[&str], env: &[(&str, &str)]) -> common::Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wbxprov"));
    cmd.args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("WBXPROV_CONFIG")
        .env_remove("WBXPROV_ACCESS_TOKEN")
        .env("WBXPROV_SITE_URL", &sim.1)
        .env("WBXPROV_ADMIN_ID", wbxprov::sim::DEFAULT_ADMIN_ID)
        .env(
            "WBXPROV_ADMIN_PASSWORD",
            wbxprov::sim::DEFAULT_ADMIN_PASSWORD,
        )
        .envs(env.iter().copied());
    common::run(cmd, b"")
}

/// A user with every secret attribute, in every occurrence of its group, set
/// to a value found nowhere else (letters and digits: written as is in XML).
fn user_with_every_secret() -> (Json, Vec<String>) {
    let mut user = Map::new();
    for (key, value) in [
        ("webExId", "jdoe"),
        ("firstName", "Jane"),
        ("lastName", "Doe"),
        ("email", "jdoe@example.com"),
    ] {
        user.insert(key.into(), value.into());
    }
    let mut planted = Vec::new();
    for (i, info) in ATTRIBUTES.iter().filter(|a| a.secret).enumerate() {
        for slot in 0..info.repeat.map_or(1, |r| r.max) {
            let value = format!("Pl4nted{i}s{slot}Qz");
            let key = match slot {
                0 => info.name.to_owned(),
                n => format!("{}[{}]", info.name, n + 1),
            };
            user.insert(key, value.clone().into());
            planted.push(value);
        }
    }
    (Json::Object(user), planted)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn recordings_hold_no_secret_and_are_owner_only() {
    let sim = sim();
    let root = std::env::temp_dir().join(format!("wbxprov-record-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let (user, mut planted) = user_with_every_secret();
    let user_file = root.join("user.json");
    std::fs::write(&user_file, user.to_string()).unwrap();
    let new_password = "N3wPl4ntedPassw0rd";
    planted.push(new_password.into());

    let dir = |name: &str| root.join("recorded").join(name);
    let runs = [
        (
            dir("create"),
            vec!["user", "create", "--user", user_file.to_str().unwrap()],
        ),
        (dir("get"), vec!["user", "get", "jdoe", "--json"]),
        (
            dir("password"),
            vec!["user", "set-password", "jdoe", "--password-env", "NEW_PW"],
        ),
    ];
    for (recorded, args) in &runs {
        let mut args = args.clone();
        args.extend(["--record", recorded.to_str().unwrap()]);
        let run = wbxprov(&sim, &args, &[("NEW_PW", new_password)]);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
    }

    let files = files_under(&root.join("recorded"));
    assert!(files.len() >= 6, "{files:?}");
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        for value in &planted {
            assert!(
                !text.contains(value.as_str()),
                "{value} in {}:\n{text}",
                file.display()
            );
        }
    }
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    for (recorded, _) in &runs {
        assert_eq!(mode(recorded), 0o700, "{}", recorded.display());
    }

    // The secrets did come back from the site, masked: every readable secret
    // element is in the recorded GetUser answer, with the mask as its text.
    let get = files
        .iter()
        .find(|f| f.to_str().unwrap().ends_with("GetUser-jdoe.response.xml"))
        .expect("a recorded GetUser answer");
    let answer = std::fs::read_to_string(get).unwrap();
    for info in ATTRIBUTES.iter().filter(|a| a.secret && a.ops.get) {
        let element = info.segments.last().unwrap().name;
        assert!(
            answer.contains(&format!("{element}>***</")),
            "{} masked in:\n{answer}",
            info.name
        );
    }

    // And the masked recording replays.
    let replay = dir("get");
    let replayed = wbxprov(
        &sim,
        &[
            "user",
            "get",
            "jdoe",
            "--json",
            "--replay",
            replay.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(replayed.code, 0, "{}", replayed.stderr);
    let json: Json = serde_json::from_str(&replayed.stdout).unwrap();
    assert_eq!(json["user"]["webExId"], "jdoe");
    assert_eq!(json["user"]["personalMeetingRoomHostPIN"], "***");
    let _ = std::fs::remove_dir_all(&root);
}
