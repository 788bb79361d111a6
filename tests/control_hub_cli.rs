//! `wbxprov sync` in Control Hub mode against `wbxprov sim serve
//! --control-hub-licences`: the CLI builds the licences client beside the
//! identity API with the identity token; a run aborted right after a person's
//! licence half (the crash hook `WBXPROV_FAULT_ABORT_AFTER`) is finished by
//! the next run without a second person or a second licence.
#![cfg(all(feature = "sync", feature = "sim", feature = "https"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::SimServer as Server;

fn serve(site: &Path) -> Server {
    Server::spawn([
        Path::new("--control-hub-licences"),
        Path::new("--site"),
        site,
    ])
}

/// A simulated Control Hub site without the licence model: its `/v1`
/// answers 404, as a wrong base URL would.
fn serve_without_licences(site: &Path) -> Server {
    Server::spawn([Path::new("--site"), site])
}

/// The simulator's Control Hub profile: site `example`, organisation `org-1`.
fn ch_profile() -> wbxprov::site::SiteProfile {
    let mut profile = wbxprov::sim::default_profile();
    profile.site_name = Some("example".into());
    profile.control_hub = Some(wbxprov::site::ControlHub {
        org_id: "org-1".into(),
    });
    profile.control_hub_managed = true;
    profile
}

/// `people.csv` with one person, a@example.com.
fn one_person(d: &Path) {
    std::fs::write(
        d.join("people.csv"),
        "email,firstName,lastName\na@example.com,A,Aa\n",
    )
    .unwrap();
}

fn dir(name: &str) -> PathBuf {
    common::fresh_dir("ch-cli", name)
}

fn wbxprov(server: &Server, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let identity_url = server
        .url
        .replace("/WBXService/XMLService", "/identity/scim");
    server
        .cli(cwd)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("WBXPROV_IDENTITY_URL", identity_url)
        .env(
            "WBXPROV_IDENTITY_TOKEN",
            wbxprov::sim::DEFAULT_IDENTITY_TOKEN,
        )
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

use common::printed as text;

#[test]
fn the_cli_licenses_people_and_finishes_a_run_aborted_after_the_licence_half() {
    let d = dir("abort");
    let mut profile = ch_profile();
    if let Some(limits) = &mut profile.limits {
        limits.site_hosts = Some(3);
    }
    std::fs::write(d.join("ch.toml"), profile.to_toml()).unwrap();
    let server = serve(&d.join("ch.toml"));
    std::fs::write(
        d.join("people.csv"),
        "email,firstName,lastName,privilegeHQvideo\na@example.com,A,Aa,true\n",
    )
    .unwrap();
    let sync = [
        "sync",
        "--site",
        "ch.toml",
        "--source",
        "people.csv",
        "--concurrency",
        "1",
    ];
    let mut dry = sync.to_vec();
    dry.push("--dry-run");
    let out = wbxprov(&server, &d, &dry, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("| licence assign | meetings: privilegeHQvideo"),
        "{}",
        text(&out)
    );

    // Two writes answered: the person, then the licence; then the process dies.
    let out = wbxprov(&server, &d, &sync, &[("WBXPROV_FAULT_ABORT_AFTER", "2")]);
    assert!(!out.status.success(), "aborted: {}", text(&out));

    let mut rerun = sync.to_vec();
    rerun.extend(["--report", "report.json"]);
    let out = wbxprov(&server, &d, &rerun, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("report.json")).unwrap()).unwrap();
    let a = &report["users"][0];
    assert_eq!(a["identity"]["operation"], "link", "{report:#}");
    assert_eq!(
        a["licence"]["operation"], "unchanged",
        "licensed once: {report:#}"
    );
    assert_eq!(a["meetings"]["status"], "ok", "{report:#}");
    assert_eq!(a["meetings"]["attributes"]["privilegeHQvideo"], true);

    // One site user, holding the licence (listed), with the settings.
    let out = wbxprov(&server, &d, &["user", "list", "--site", "ch.toml"], &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\n1 user(s)"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_cli_refuses_a_plan_past_the_free_licences_before_any_write() {
    let d = dir("short");
    let mut profile = ch_profile();
    if let Some(limits) = &mut profile.limits {
        limits.site_hosts = Some(1);
    }
    std::fs::write(d.join("ch.toml"), profile.to_toml()).unwrap();
    let server = serve(&d.join("ch.toml"));
    std::fs::write(
        d.join("people.csv"),
        "email,firstName,lastName\na@example.com,A,Aa\nb@example.com,B,Bb\n",
    )
    .unwrap();
    let out = wbxprov(
        &server,
        &d,
        &["sync", "--site", "ch.toml", "--source", "people.csv"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("needs 2 units of the site's Meetings licence and 1 is free"),
        "{}",
        text(&out)
    );
    // Nothing was written: with one person, a is created (not linked).
    std::fs::write(
        d.join("people.csv"),
        "email,firstName,lastName\na@example.com,A,Aa\n",
    )
    .unwrap();
    let out = wbxprov(
        &server,
        &d,
        &[
            "sync",
            "--site",
            "ch.toml",
            "--source",
            "people.csv",
            "--json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["users"][0]["identity"]["operation"], "create",
        "{report:#}"
    );
    assert_eq!(report["users"][0]["licence"]["status"], "ok", "{report:#}");
}

#[test]
fn a_site_the_organisation_has_no_licence_of_stops_the_run_before_any_write() {
    let d = dir("elsewhere");
    let mut profile = ch_profile();
    std::fs::write(d.join("ch.toml"), profile.to_toml()).unwrap();
    let server = serve(&d.join("ch.toml"));
    // The command's profile names another site than the organisation's licence.
    profile.site_name = Some("elsewhere".into());
    std::fs::write(d.join("other.toml"), profile.to_toml()).unwrap();
    std::fs::write(
        d.join("people.csv"),
        "email,firstName,lastName\na@example.com,A,Aa\n",
    )
    .unwrap();
    let sync = [
        "sync",
        "--site",
        "other.toml",
        "--source",
        "people.csv",
        "--json",
    ];
    let out = wbxprov(&server, &d, &sync, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("the organisation lists no licence of site elsewhere.webex.com"),
        "{}",
        text(&out)
    );
    // Nothing was written: with the right site, a is created.
    let sync = [
        "sync",
        "--site",
        "ch.toml",
        "--source",
        "people.csv",
        "--json",
    ];
    let out = wbxprov(&server, &d, &sync, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["users"][0]["identity"]["operation"], "create",
        "{report:#}"
    );
}

/// Licensing is never skipped silently: a licences API that answers 404
/// stops the run before any write, naming the URL and the switch; with
/// `[controlHub] licences = false` the same run creates the person, licensed
/// by nobody, on purpose.
#[test]
fn a_licences_api_answering_404_stops_the_run_unless_the_profile_switches_licences_off() {
    let d = dir("no-licences");
    let profile = ch_profile();
    std::fs::write(d.join("ch.toml"), profile.to_toml()).unwrap();
    let server = serve_without_licences(&d.join("ch.toml"));
    one_person(&d);
    let sync = [
        "sync",
        "--site",
        "ch.toml",
        "--source",
        "people.csv",
        "--json",
    ];
    let out = wbxprov(&server, &d, &sync, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("/v1/licenses"), "names the URL: {said}");
    assert!(
        said.contains("`licences = false` under [controlHub]"),
        "names the switch: {said}"
    );
    assert!(said.contains("nothing was written"), "{said}");

    let mut off = profile.clone();
    off.control_hub_licences = false;
    let toml = off.to_toml();
    assert!(toml.contains("licences = false"), "{toml}");
    std::fs::write(d.join("ch.toml"), toml).unwrap();
    let out = wbxprov(&server, &d, &sync, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &report["users"][0];
    // Created now: the refused run wrote nothing.
    assert_eq!(a["identity"]["operation"], "create", "{report:#}");
    assert!(a.get("licence").is_none_or(|l| l.is_null()), "{report:#}");
}

/// A profile that does not say `controlHubManaged` takes the site type from
/// the site licence's `siteType`: a linked site stops Control Hub mode before
/// any write; a Control Hub managed one runs.
#[test]
fn the_site_type_comes_from_the_licences_api_when_the_profile_does_not_say() {
    let d = dir("site-type");
    let mut linked = ch_profile();
    linked.control_hub_managed = false;
    linked.control_hub_managed_said = true;
    let toml = linked.to_toml();
    assert!(toml.contains("controlHubManaged = false"), "{toml}");
    std::fs::write(d.join("linked.toml"), toml).unwrap();
    let server = serve(&d.join("linked.toml"));
    // The command's profile does not say: the run asks the licences API.
    let unsaid = ch_profile().to_toml();
    assert!(!unsaid.contains("controlHubManaged"), "{unsaid}");
    std::fs::write(d.join("ch.toml"), &unsaid).unwrap();
    one_person(&d);
    let sync = [
        "sync",
        "--site",
        "ch.toml",
        "--source",
        "people.csv",
        "--json",
    ];
    let out = wbxprov(&server, &d, &sync, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("site example.webex.com is a \"Linked site\""),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("nothing was written"), "{}", text(&out));
    // A profile that says so itself is refused the same way, without asking.
    let sync_linked = ["sync", "--site", "linked.toml", "--source", "people.csv"];
    let out = wbxprov(&server, &d, &sync_linked, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("controlHubManaged = false"),
        "{}",
        text(&out)
    );
    drop(server);

    let server = serve(&d.join("ch.toml"));
    let out = wbxprov(&server, &d, &sync, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["users"][0]["licence"]["status"], "ok", "{report:#}");
}

/// `wbxprov sync` routes Meetings settings by the catalogue: a meetingTypes
/// change goes to the session-types API (the report's meetings half names
/// the APIs it took), and the site holds the new set.
#[test]
fn the_cli_sends_session_types_through_their_rest_api() {
    let d = dir("routing");
    std::fs::write(d.join("ch.toml"), ch_profile().to_toml()).unwrap();
    let server = serve(&d.join("ch.toml"));
    std::fs::write(
        d.join("map.toml"),
        "match = \"email\"\n[attributes]\nemail = { field = \"email\" }\nfirstName = { field = \"first\" }\nlastName = { field = \"last\" }\nmeetingTypes = { field = \"types\" }\nsupportedServicesMeetingCenter = { constant = true }\nsupportedServicesTrainingCenter = { constant = false }\nsupportedServicesSupportCenter = { constant = false }\nsupportedServicesEventCenter = { constant = true }\nsupportedServicesSalesCenter = { constant = false }\n",
    )
    .unwrap();
    let sync = [
        "sync",
        "--site",
        "ch.toml",
        "--source",
        "people.csv",
        "--map",
        "map.toml",
        "--json",
    ];
    for types in ["214", "214;216"] {
        std::fs::write(
            d.join("people.csv"),
            format!("email,first,last,types\na@example.com,A,Aa,{types}\n"),
        )
        .unwrap();
        let out = wbxprov(&server, &d, &sync, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let out = wbxprov(&server, &d, &sync, &[]);
    let rerun: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rerun["users"][0]["meetings"]["status"], "skipped",
        "{rerun:#}"
    );
    std::fs::write(
        d.join("people.csv"),
        "email,first,last,types\na@example.com,A,Aa,216\n",
    )
    .unwrap();
    let out = wbxprov(&server, &d, &sync, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let meetings = &report["users"][0]["meetings"];
    assert_eq!(
        meetings["apis"],
        serde_json::json!(["sessionTypes"]),
        "{report:#}"
    );
    assert_eq!(
        meetings["attributes"]["meetingTypes"],
        serde_json::json!([216])
    );
    let out = wbxprov(
        &server,
        &d,
        &[
            "user",
            "get",
            "a@example.com",
            "--site",
            "ch.toml",
            "--json",
        ],
        &[],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("216"),
        "{}",
        text(&out)
    );
}

/// `wbxprov validate` shows where each attribute goes: the REST owners of
/// meetingTypes and tracking codes beside SetUser; with `licences = false`
/// (no `/v1` halves) SetUser takes them all.
#[test]
fn validate_shows_the_rest_owners_of_meetings_settings() {
    let d = dir("validate");
    std::fs::write(d.join("ch.toml"), ch_profile().to_toml()).unwrap();
    let mut off = ch_profile();
    off.control_hub_licences = false;
    std::fs::write(d.join("off.toml"), off.to_toml()).unwrap();
    std::fs::write(
        d.join("u.json"),
        r#"{"email": "a@example.com", "privilegeHQvideo": true, "meetingTypes": [214],
            "supportedServicesMeetingCenter": true, "trackingTrackingCode2": "Ops"}"#,
    )
    .unwrap();
    let run = |site: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_wbxprov"))
            .args(["validate", "--site", site, "--user", "u.json"])
            .current_dir(&d)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let routed = run("ch.toml");
    assert!(
        routed.contains(
            "to the Meetings site (SetUser): privilegeHQvideo, supportedServicesMeetingCenter\n"
        ),
        "{routed}"
    );
    assert!(
        routed.contains(
            "to the session types API (PUT /v1/admin/meeting/userconfig/sessionTypes): meetingTypes"
        ),
        "{routed}"
    );
    assert!(
        routed.contains("to the tracking codes API (PUT /v1/admin/meeting/userconfig/trackingCodes): trackingTrackingCode2"),
        "{routed}"
    );
    let all_xml = run("off.toml");
    assert!(!all_xml.contains("session types API"), "{all_xml}");
    assert!(all_xml.contains("meetingTypes"), "{all_xml}");
}
