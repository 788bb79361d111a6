//! `wbxprov attrs`, run as a user runs it.
#![cfg(feature = "cli")]

mod common;

use std::process::Command;

use wbxprov::schema::ATTRIBUTES;

fn wbxprov(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wbxprov"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn attrs_json_lists_the_whole_catalogue_with_the_documented_keys() {
    let (code, stdout, _) = wbxprov(&["attrs", "--json"]);
    assert_eq!(code, 0);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = ATTRIBUTES.iter().map(|a| a.name).collect();
    assert_eq!(names, expected);
    for row in &rows {
        for key in ["name", "path", "type", "ops", "feature", "description"] {
            assert!(row.get(key).is_some(), "{} lacks `{key}`", row["name"]);
        }
        assert!(!row["ops"].as_array().unwrap().is_empty());
    }
    let hd = rows
        .iter()
        .find(|r| r["name"] == "privilegeHDvideo")
        .unwrap();
    assert_eq!(hd["path"], "privilege/HDvideo");
    assert_eq!(hd["type"], "bool");
    assert_eq!(hd["feature"], "hdVideo");
    assert_eq!(hd["requires"], serde_json::json!(["hdVideo", "hqVideo"]));
    let url = rows.iter().find(|r| r["name"] == "personalUrl").unwrap();
    assert_eq!(url["ops"], serde_json::json!(["set", "get"]));
    assert_eq!(url["type"], "string(64,personal-url)");
    let active = rows.iter().find(|r| r["name"] == "active").unwrap();
    assert_eq!(
        active["values"],
        serde_json::json!(["ACTIVATED", "REQUEST_TO_ACTIVATE", "DEACTIVATED"])
    );

    // Every name of the spec's attribute list is in the JSON.
    if let Some(tsv) = common::read_shared("spec/meetings-user-attributes.tsv") {
        for name in tsv
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| l.split('\t').next().unwrap())
        {
            assert!(
                names.contains(&name),
                "{name} missing from `wbxprov attrs --json`"
            );
        }
    }
}

#[test]
fn attrs_prints_a_readable_table() {
    let (code, stdout, _) = wbxprov(&["attrs", "--wide"]);
    assert_eq!(code, 0);
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "PATH", "TYPE", "OPS", "FEATURE", "DESCRIPTION"]
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("privilegeHDvideo "))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cells[..5],
        [
            "privilegeHDvideo",
            "privilege/HDvideo",
            "bool",
            "create,set,get",
            "hdVideo+hqVideo"
        ]
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("tspAccountAccountIndex[1-3] "))
    );
    assert!(stdout.contains(&format!("{} attributes.", ATTRIBUTES.len())));
}

#[test]
fn usage_errors_exit_with_could_not_run() {
    let (code, _, stderr) = wbxprov(&["attrs", "--bogus"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--bogus"));
}
