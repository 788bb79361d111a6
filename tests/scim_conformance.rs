//! SCIM 2.0 conformance suites from PyPI against `wbxprov scim serve
//! --simulator`: scim2-tester (the harness `tests/scim/run_scim2_tester.py`
//! runs its checks, this test judges them) and scim-sanity's strict probe.
//!
//! Needs a Python with both (`.ci/run` installs them in a venv and names its
//! Python in `WBXPROV_SCIM2_TESTER_PYTHON`); without them the tests say so and
//! skip, unless `WBXPROV_REQUIRE_SCIM2_TESTER=1` (CI), where that is a failure.
#![cfg(feature = "cli")]

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use serde_json::{Map, Value as Json};
use wbxprov::schema::{ATTRIBUTES, FlatKey, FlatUser, ScalarType};
use wbxprov::scim::user::{EXTENSION, core_path};
use wbxprov::validate::validate_update;

mod common;
#[path = "scim/serve.rs"]
mod serve;

use serve::{ScimProcess, TOKEN};

/// Checks that fail for a reason of the Meetings site, each with the server's
/// answer that explains it: a Meetings user always has a language, a time zone
/// and an account state, so removing them is refused (400 mutability).
const EXPLAINED: [(&str, &str, &str); 3] = [
    (
        "check_remove_attribute",
        "preferredLanguage",
        "cannot be removed",
    ),
    ("check_remove_attribute", "timezone", "cannot be removed"),
    ("check_remove_attribute", "active", "cannot be removed"),
];

/// scim-sanity checks that fail for a reason of this front: its Group probe
/// adds the member `fake-member-id`, which is no User here; wbxprov refuses
/// it (400 invalidValue naming the id: a member gets Meetings entitlements,
/// and there is no site user to give them to). `tests/scim_groups.rs`
/// asserts that answer and its reason.
const SANITY_EXPLAINED: [&str; 1] = ["PATCH /Groups/{id} add member"];

fn python() -> Option<String> {
    let python = std::env::var("WBXPROV_SCIM2_TESTER_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import scim2_tester, scim2_client.engines.httpx2"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(python)
}

#[derive(Debug)]
struct Check {
    title: String,
    status: String,
    reason: String,
    urn: Option<String>,
    value: String,
}

fn run(python: &str, url: &str, mode: &str) -> Vec<Check> {
    let harness = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scim/run_scim2_tester.py"
    );
    let out = Command::new(python)
        .args([harness, url, TOKEN, mode])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "scim2-tester ({mode}) did not run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|line| {
            let j: Json = serde_json::from_str(line).unwrap();
            let s = |k: &str| j[k].as_str().unwrap_or_default().to_owned();
            Check {
                title: s("title"),
                status: s("status"),
                reason: s("reason"),
                urn: j["urn"].as_str().map(str::to_owned),
                value: s("value"),
            }
        })
        .collect()
}

/// The value scim2-tester sent (Python's `str()` of it), as catalogue JSON.
fn sent_value(name: &str, printed: &str) -> Json {
    let info = name.parse::<FlatKey>().unwrap().attribute.info();
    let list = info.value_type.is_list();
    match info.value_type.scalar() {
        ScalarType::Bool => Json::Bool(printed == "True"),
        _ if list => serde_json::from_str(&printed.replace('\'', "\"")).unwrap_or(Json::Null),
        ScalarType::Int { .. } => printed.parse::<i64>().map(Json::from).unwrap_or(Json::Null),
        _ => Json::String(printed.to_owned()),
    }
}

/// Whether wbxprov's validator, asked directly, refuses `name = printed` as a
/// PATCH on the simulator's default site. Updates are judged as the user they
/// make (issue 16 item 7), and the user scim2-tester patches holds its own
/// random settings, which the test does not see: the validator is asked about
/// a user whose every boolean setting is off, so that a setting needing another
/// one on ("X needs Y") is refused as the server may refuse it.
fn validator_refuses(name: &str, printed: &str) -> bool {
    let mut change = Map::new();
    change.insert(name.to_owned(), sent_value(name, printed));
    match FlatUser::from_json(&change) {
        Err(_) => true,
        Ok(user) => !validate_update(
            &user,
            &every_setting_off(),
            &wbxprov::sim::default_profile(),
        )
        .is_empty(),
    }
}

/// A user whose every settable boolean is false.
fn every_setting_off() -> FlatUser {
    ATTRIBUTES
        .iter()
        .filter(|a| matches!(a.value_type.scalar(), ScalarType::Bool) && a.ops.set)
        .map(|a| (FlatKey::new(a.attribute), wbxprov::Value::Bool(false)))
        .collect()
}

fn required() -> bool {
    std::env::var("WBXPROV_REQUIRE_SCIM2_TESTER").as_deref() == Ok("1")
}

/// `wbxprov scim serve --simulator` on a free port, and its URL.
fn scim_serve() -> (ScimProcess, String) {
    let server = ScimProcess::start("127.0.0.1:0", TOKEN);
    let url = server.url.clone();
    (server, url)
}

#[test]
fn scim_sanity_strict_probe_passes() {
    // Installed beside the Python that has scim2-tester, or on the PATH.
    let beside = std::env::var("WBXPROV_SCIM2_TESTER_PYTHON")
        .ok()
        .and_then(|p| Some(std::path::Path::new(&p).parent()?.join("scim-sanity")))
        .filter(|p| p.is_file());
    let program = beside.map_or_else(|| "scim-sanity".into(), |p| p.display().to_string());
    if Command::new(&program).arg("--version").output().is_err() {
        assert!(
            !required(),
            "WBXPROV_REQUIRE_SCIM2_TESTER=1 but scim-sanity was not found"
        );
        common::announce_skip(format_args!(
            "scim-sanity not found (pip install scim-sanity); .ci/run installs it"
        ));
        return;
    }
    let (_server, url) = scim_serve();
    let out = Command::new(&program)
        .args(["probe", &url, "--token", TOKEN, "--strict", "--json-output"])
        .arg("--i-accept-side-effects")
        .output()
        .unwrap();
    let report: Json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "scim-sanity: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let summary = &report["summary"];
    let failed: Vec<&Json> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !matches!(r["status"].as_str(), Some("pass" | "skip")))
        .filter(|r| !SANITY_EXPLAINED.contains(&r["name"].as_str().unwrap_or_default()))
        .collect();
    assert!(failed.is_empty(), "scim-sanity: {failed:#?}");
    let explained = SANITY_EXPLAINED.len();
    assert_eq!(summary["failed"], explained, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    assert!(summary["passed"].as_u64().unwrap() >= 18, "{summary}");
    // Skipped: Agent and AgenticApplication lifecycles (a site has none).
    for skipped in report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "skip")
    {
        let name = skipped["name"].as_str().unwrap_or_default();
        assert!(
            ["Agent", "AgenticApplication"]
                .iter()
                .any(|t| name.contains(t)),
            "unexpected skip: {skipped}"
        );
    }
}

#[test]
fn scim2_tester_passes_against_scim_serve_on_the_simulator() {
    let Some(python) = python() else {
        assert!(
            !required(),
            "WBXPROV_REQUIRE_SCIM2_TESTER=1 but no Python with scim2-tester was found"
        );
        common::announce_skip(format_args!(
            "no Python with scim2-tester (pip install scim2-tester 'scim2-client[httpx2]', \
             or set WBXPROV_SCIM2_TESTER_PYTHON); .ci/run installs it"
        ));
        return;
    };
    let (_server, url) = scim_serve();

    // Core mode: every check, the Meetings extension out of the tester's view.
    let core = run(&python, &url, "core");
    let mut explained_seen = BTreeSet::new();
    for c in &core {
        match c.status.as_str() {
            "SUCCESS" => {}
            "ERROR" => {
                let known = EXPLAINED
                    .iter()
                    .find(|(title, urn, _)| c.title == *title && c.urn.as_deref() == Some(urn));
                match known {
                    Some((_, urn, because)) if c.reason.contains(because) => {
                        explained_seen.insert(*urn);
                    }
                    _ => panic!("scim2-tester: {} {:?} failed: {}", c.title, c.urn, c.reason),
                }
            }
            other => panic!(
                "scim2-tester: {} {:?} is {other}: {}",
                c.title, c.urn, c.reason
            ),
        }
    }
    assert_eq!(
        explained_seen.len(),
        EXPLAINED.len(),
        "an explained failure no longer happens: shorten EXPLAINED"
    );
    let passed: BTreeSet<&str> = core
        .iter()
        .filter(|c| c.status == "SUCCESS")
        .map(|c| c.title.as_str())
        .collect();
    for title in [
        "service_provider_config_endpoint",
        "service_provider_config_endpoint_methods",
        "query_all_resource_types",
        "query_resource_type_by_id",
        "resource_types_schema_validation",
        "access_invalid_resource_type",
        "resource_types_endpoint_methods",
        "query_all_schemas",
        "access_schema_by_id",
        "access_invalid_schema",
        "schemas_endpoint_methods",
        "random_url",
        "object_creation",
        "object_query",
        "object_query_without_id",
        "object_query_with_attributes",
        "object_list_with_attributes",
        "search_with_attributes",
        "object_replacement",
        "object_deletion",
        "check_add_attribute",
        "check_remove_attribute",
        "check_replace_attribute",
    ] {
        assert!(passed.contains(title), "{title} did not pass: {passed:?}");
    }

    // Groups are checked too: their lifecycle, and PATCH on members.
    let group_passed = |title: &str, mentions: &str| {
        core.iter().any(|c| {
            c.status == "SUCCESS"
                && c.title == title
                && (c.reason.contains(mentions) || c.urn.as_deref() == Some(mentions))
        })
    };
    for (title, mentions) in [
        ("object_creation", "Group object"),
        ("object_query", "Group object"),
        ("object_replacement", "Group object"),
        ("object_deletion", "Group object"),
        ("object_list_with_attributes", "for Group"),
        ("search_with_attributes", "for Group"),
        ("check_add_attribute", "members"),
        ("check_remove_attribute", "members"),
        ("check_replace_attribute", "members"),
    ] {
        assert!(
            group_passed(title, mentions),
            "{title} on Groups did not pass"
        );
    }

    // Extension mode: PATCH add and replace on every Meetings attribute, with
    // the tester's random values. A refusal is right only where wbxprov's
    // validator, asked directly, refuses the same value.
    let extension = run(&python, &url, "extension");
    let prefix = format!("{EXTENSION}:");
    let mut refused = BTreeSet::new();
    let mut container_refusals = Vec::new();
    let mut succeeded = BTreeSet::new();
    for c in &extension {
        let urn = c.urn.clone().unwrap_or_default();
        match c.status.as_str() {
            "SUCCESS" => {
                succeeded.insert((c.title.clone(), urn));
            }
            "SKIPPED" if c.reason.contains("tag filtering") => {}
            "ERROR" if c.reason.contains("violation(s), nothing sent") && urn == EXTENSION => {
                container_refusals.push(c.reason.clone());
            }
            "ERROR" if c.reason.contains("violation(s), nothing sent") => {
                let name = urn
                    .strip_prefix(&prefix)
                    .unwrap_or_else(|| panic!("{} {urn} refused: {}", c.title, c.reason));
                assert!(
                    validator_refuses(name, &c.value),
                    "{} {name}={}: the server refused a value the validator accepts: {}",
                    c.title,
                    c.value,
                    c.reason
                );
                refused.insert(name.to_owned());
            }
            other => panic!("scim2-tester: {} {urn} is {other}: {}", c.title, c.reason),
        }
    }
    // The whole extension at once (every attribute random): refused by the
    // validator, each line naming a catalogue attribute; value refusals are
    // checked one by one above, the rest are combinations ("X needs Y").
    for reason in container_refusals {
        for line in reason.lines().skip(1) {
            let name = line.trim().split(['=', ':']).next().unwrap_or_default();
            assert!(
                name.parse::<FlatKey>().is_ok(),
                "not a catalogue attribute in: {line}"
            );
        }
    }
    // Every plain boolean setting that stands on its own (not "X needs Y")
    // round-trips through PATCH add and replace.
    for info in ATTRIBUTES.iter().filter(|a| {
        matches!(a.value_type.scalar(), ScalarType::Bool)
            && a.ops.set
            && a.ops.get
            && !a.secret
            && core_path(a.attribute).is_none()
            && !validator_refuses(a.name, "True")
    }) {
        for check in ["check_add_attribute", "check_replace_attribute"] {
            assert!(
                succeeded.contains(&(check.to_owned(), format!("{prefix}{}", info.name))),
                "{check} on {} did not pass",
                info.name
            );
        }
    }
    eprintln!(
        "scim2-tester: core {} checks ({} explained), extension {} passed, {} refused as the validator would",
        core.len(),
        EXPLAINED.len(),
        succeeded.len(),
        refused.len()
    );
}

/// Without their tools, both suites skip visibly: `cargo test` shows the
/// skip, not a bare `ok` (libtest swallows the `eprintln!` of a passing test).
/// Runs this test binary again, on a PATH and Python where neither tool is.
#[test]
fn a_missing_tool_is_announced_not_hidden() {
    if std::env::var_os("WBXPROV_SKIP_PROBE").is_some() {
        return; // the inner run
    }
    for name in [
        "scim_sanity_strict_probe_passes",
        "scim2_tester_passes_against_scim_serve_on_the_simulator",
    ] {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name])
            .env("WBXPROV_SKIP_PROBE", "1")
            .env("PATH", "/nonexistent")
            .env("WBXPROV_SCIM2_TESTER_PYTHON", "/nonexistent/python3")
            .env_remove("WBXPROV_REQUIRE_SCIM2_TESTER")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("skipped {name}:")),
            "{name}: no visible skip in {stderr:?}"
        );
    }
}
