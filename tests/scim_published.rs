//! Issue 18: the requests Okta and Microsoft publish, replayed against the
//! SCIM front over an in-process simulated site, each answer compared with
//! what the identity provider expects.
//!
//! The fixtures are `fixtures/scim/published/<source>.json` (their provenance:
//! `fixtures/scim/published/README.md`). Each source is replayed in order on
//! a fresh site. A step that fails must be named in [`NOT_HONOURED`] (a
//! Meetings site cannot do it, or it is not SCIM) or [`NOT_YET`] (work that
//! will fix it; empty since issue 18 was finished); a listed step that passes
//! fails the test too, so the lists only shrink. A step that needs an id an
//! earlier step did not give is "blocked" and inherits that step's listing
//! (it is not listed itself). README.md's SCIM section carries
//! [`NOT_HONOURED`] word for word. The front runs as an admin deploying it
//! for these identity providers configures it ([`deployed_translations`]).
#![cfg(all(feature = "scim", feature = "sim"))]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value as Json;
use wbxprov::Secret;
use wbxprov::client::Client;
use wbxprov::scim::Service;
use wbxprov::scim::http::{ScimHandle, serve};
use wbxprov::scim::ids::IdStore;
use wbxprov::scim::translate::TranslateConfig;
use wbxprov::sim::{self, SimHandle, default_profile};

/// At least 32 bytes, as the server requires.
const TOKEN: &str = "s3cret-scim-token-for-the-published-requests";

/// The fixture files, one per published document, replayed in this order.
const SOURCES: &[&str] = &[
    "okta-scim-2.0-reference",
    "okta-spec-test",
    "entra-scim-tutorial",
    "entra-scim-compatibility",
    "entra-reference-postman",
];

/// Published requests a Meetings site cannot honour (or that are not SCIM), and why. README.md's
/// SCIM section lists exactly these (checked by `the_readme_lists_what_is_not_honoured`).
const NOT_HONOURED: &[(&str, &str)] = &[
    (
        "entra-reference-postman/000-get-token",
        "asks the reference server's own development-token endpoint (`/Token`), which is no \
         SCIM endpoint: wbxprov takes the bearer token it is configured with",
    ),
    (
        "entra-reference-postman/004-get-serviceproviderconfig",
        "asks `/serviceConfiguration`, which is no SCIM endpoint: RFC 7644 §4 names \
         `/ServiceProviderConfig`, which wbxprov serves (the collection's own unmerged fix, \
         commit 16b6694, asks for that)",
    ),
    (
        "entra-reference-postman/020-create-user-4-for-group-2",
        "its work email is UserName333's: a site holds each email address once (exception \
         030005; evidence: the catalogue's `email` row)",
    ),
    (
        "entra-reference-postman/025-validate-group-3",
        "looks for the member 024's PUT sets, and 024 also names 020's user, whom a site cannot \
         hold (030005): 024 is not sent",
    ),
    (
        "entra-reference-postman/029-get-group-by-id",
        "looks for `new User`, the display 026 and 028 send with 020's user, whom a site cannot \
         hold (030005); a member's display is no Group attribute either (RFC 7643 §8.7.1), so the \
         front answers none",
    ),
    (
        "entra-reference-postman/037-create-user1",
        "its work email `emailName357` is no address, and a Meetings user's email is the \
         address Webex mails (the catalogue types it an email; wbxprov refuses it before any call)",
    ),
    (
        "entra-reference-postman/039-get-user-attributes",
        "looks for the email of 037's user, which a site cannot hold",
    ),
    (
        "entra-reference-postman/040-get-user-via-attributes-filter",
        "looks for the email of 037's user, which a site cannot hold",
    ),
    (
        "entra-reference-postman/046-post-emp2",
        "its work email is emp1's (044): a site holds each email address once (030005)",
    ),
    (
        "entra-reference-postman/047-post-emp3",
        "its work email is emp1's (044): a site holds each email address once (030005)",
    ),
    (
        "entra-reference-postman/054-post-enterprise-user",
        "its work email is emp1's (044): a site holds each email address once (030005)",
    ),
    (
        "entra-reference-postman/059-paginate",
        "counts five users, three of whom (046, 047, 054) share emp1's email, which a site refuses",
    ),
    (
        "entra-reference-postman/060-get-user-attributes",
        "counts five users, three of whom (046, 047, 054) share emp1's email, which a site refuses",
    ),
    (
        "entra-reference-postman/062-filter-eq-and-val-or-val",
        "counts four users, three of whom (046, 047, 054) share emp1's email, which a site refuses",
    ),
    (
        "entra-reference-postman/064-filter-greater-than",
        "counts five users, three of whom (046, 047, 054) share emp1's email, which a site refuses",
    ),
    (
        "entra-reference-postman/066-group-patch-add-member",
        "adds the bare string `string id 1` as a member: no `{\"value\": id}` (RFC 7643 §4.2) and \
         no user; the front answers 400 rather than keep a member who is no site user, whose \
         entitlements it could neither grant nor validate",
    ),
    (
        "entra-reference-postman/067-group-patch-add-member2",
        "adds the bare string `string id 2` as a member: no `{\"value\": id}` (RFC 7643 §4.2) and \
         no user; the front answers 400 rather than keep a member who is no site user, whose \
         entitlements it could neither grant nor validate",
    ),
];

/// Published requests the front does not yet answer as the identity provider
/// expects, and the work that will fix each. Empty since issue 18 was
/// finished: kept so that a regression can be named while it is fixed.
const NOT_YET: &[(&str, &str)] = &[];

/// One published document's requests.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    /// The document: title, repository, path and commit.
    source: String,
    /// Values the document's tool substitutes (Runscope variables …).
    #[serde(default)]
    variables: BTreeMap<String, String>,
    steps: Vec<Step>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Step {
    name: String,
    /// Where in the document the request is (for the failure message).
    section: String,
    /// Not a published request: what the document presupposes (a user that
    /// exists before the run …), said in `section`.
    #[serde(default)]
    setup: bool,
    method: String,
    /// Relative to the SCIM base URL (`…/scim/v2`), as published.
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// A JSON body, sent as it stands here.
    #[serde(default)]
    body: Option<Json>,
    /// A body that is not JSON (a published malformed request), sent verbatim.
    #[serde(default)]
    raw_body: Option<String>,
    expect: Expect,
    /// Placeholder name → JSON pointer into this step's answer.
    #[serde(default)]
    save: BTreeMap<String, String>,
}

/// What the identity provider expects of the answer.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Expect {
    /// Any of these statuses (a document allowing 200 or 204 lists both).
    status: Vec<u16>,
    /// JSON pointer → value, compared exactly (checked when there is a body).
    #[serde(default)]
    json: BTreeMap<String, Json>,
    /// Pointers that must hold a non-empty value.
    #[serde(default)]
    present: Vec<String>,
    /// Pointers that must be missing or null.
    #[serde(default)]
    absent: Vec<String>,
    /// Text the answer's body must contain.
    #[serde(default)]
    contains: Vec<String>,
    /// Text the answer's body must not contain.
    #[serde(default)]
    not_contains: Vec<String>,
    /// The start of the `Content-Type` header.
    #[serde(default)]
    content_type: Option<String>,
}

struct Answer {
    status: u16,
    content_type: String,
    text: String,
    json: Json,
}

/// How one step went.
enum Outcome {
    Passed,
    /// What differed from the expectation.
    Failed(String),
    /// A placeholder the step needs was not given; the step that should have given it.
    Blocked {
        placeholder: String,
        by: String,
    },
}

/// One source's site and front, and the values its answers gave.
struct Replay {
    _site: SimHandle,
    scim: ScimHandle,
    http: reqwest::Client,
    values: HashMap<String, String>,
    /// Placeholder → the last step run whose answer should have given it.
    givers: HashMap<String, String>,
    guids: u32,
}

/// What an admin deploying the front for these identity providers configures
/// (README, "Translations"): `scimDefaultRegion = "US"` and `scimSiteLanguage
/// = "en-US"`. The documents' users are American (the Postman collection's
/// national numbers are Chicago's 312, its addresses US states) and a site
/// set up for them speaks US English; without it a national number or a
/// language no Webex language is would be refused, as the README says.
fn deployed_translations() -> TranslateConfig {
    {
        let mut built = TranslateConfig::default();
        built.default_region = Some("US".into());
        built.site_language = Some("en-US".into());
        built
    }
}

async fn replay_for(fixture: &Fixture) -> Replay {
    let profile = default_profile();
    let site = sim::start(profile.clone()).await.unwrap();
    let client = Client::builder("sim", wbxprov::sim::default_admin())
        .endpoint(&site.url)
        .options(common::fast_retries())
        .validate_with(profile)
        .build()
        .unwrap();
    let client = Arc::new(client);
    let ids = IdStore::open(None).unwrap();
    let scim = serve(
        "127.0.0.1:0".parse().unwrap(),
        Secret::new(TOKEN),
        move |url| Service::new(client, ids, url).translations(deployed_translations()),
    )
    .await
    .unwrap();
    Replay {
        _site: site,
        scim,
        http: reqwest::Client::new(),
        values: fixture.variables.clone().into_iter().collect(),
        givers: HashMap::new(),
        guids: 0,
    }
}

impl Replay {
    /// `text` with every `{{name}}` replaced; `{{guid}}` is a fresh GUID each
    /// time (Postman's `{{$guid}}`, JMeter's `${__UUID}`). Err: the first
    /// placeholder without a value.
    fn fill(&mut self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let end = rest[start..]
                .find("}}")
                .map(|e| start + e)
                .ok_or_else(|| format!("unclosed placeholder in {text}"))?;
            out.push_str(&rest[..start]);
            let name = &rest[start + 2..end];
            if name == "guid" {
                self.guids += 1;
                out.push_str(&format!("7e57c0de-0000-4000-8000-{:012}", self.guids));
            } else {
                out.push_str(self.values.get(name).ok_or_else(|| name.to_owned())?);
            }
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Every string inside `value`, filled.
    fn fill_json(&mut self, value: &Json) -> Result<Json, String> {
        Ok(match value {
            Json::String(s) => Json::String(self.fill(s)?),
            Json::Array(items) => Json::Array(
                items
                    .iter()
                    .map(|v| self.fill_json(v))
                    .collect::<Result<_, _>>()?,
            ),
            Json::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| Ok((self.fill(k)?, self.fill_json(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    async fn run(&mut self, step: &Step) -> Outcome {
        let outcome = match self.exchange(step).await {
            Err(placeholder) => {
                let by = self.givers.get(&placeholder).cloned().unwrap_or_default();
                self.keep(step, &Json::Null);
                return Outcome::Blocked { placeholder, by };
            }
            Ok(answer) => {
                self.keep(step, &answer.json);
                self.judge(&step.expect, &answer)
            }
        };
        match outcome {
            Ok(()) => Outcome::Passed,
            Err(why) => Outcome::Failed(why),
        }
    }

    /// Sends the step's request, its placeholders filled. Err: a placeholder
    /// without a value.
    async fn exchange(&mut self, step: &Step) -> Result<Answer, String> {
        self.expectation_filled(&step.expect)?;
        let path = self.fill(&step.path)?;
        // Parsed as any HTTP client would: spaces and quotes in a published
        // query are percent-encoded, everything else goes as written.
        let url = reqwest::Url::parse(&format!("{}{path}", self.scim.url)).unwrap();
        let body = match (&step.body, &step.raw_body) {
            (Some(json), _) => Some(self.fill_json(json)?.to_string()),
            (None, Some(raw)) => Some(self.fill(raw)?),
            (None, None) => None,
        };
        let mut request = self.http.request(step.method.parse().unwrap(), url);
        for (name, value) in self.headers(step, body.is_some())? {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Json::Null);
        Ok(Answer {
            status,
            content_type,
            text,
            json,
        })
    }

    /// The token, and a SCIM content type for a body, unless the step
    /// publishes its own (header names compare case-insensitively).
    fn headers(
        &mut self,
        step: &Step,
        with_body: bool,
    ) -> Result<BTreeMap<String, String>, String> {
        let mut headers = BTreeMap::from([("authorization".to_owned(), format!("Bearer {TOKEN}"))]);
        if with_body {
            headers.insert("content-type".into(), "application/scim+json".into());
        }
        for (name, value) in &step.headers {
            headers.insert(name.to_ascii_lowercase(), self.fill(value)?);
        }
        Ok(headers)
    }

    /// Err: a placeholder of the expectation without a value (an id an
    /// earlier step did not give), which blocks the step as the request's would.
    fn expectation_filled(&mut self, expect: &Expect) -> Result<(), String> {
        for value in expect.json.values() {
            self.fill_json(value)?;
        }
        for text in expect.contains.iter().chain(&expect.not_contains) {
            self.fill(text)?;
        }
        Ok(())
    }

    /// Remembers the values later steps need from `answer`, whether or not
    /// this step passed, and that this step is the one that should give them.
    fn keep(&mut self, step: &Step, answer: &Json) {
        for (name, pointer) in &step.save {
            self.givers.insert(name.clone(), step.name.clone());
            match answer.pointer(pointer) {
                Some(Json::String(value)) => self.values.insert(name.clone(), value.clone()),
                // A value an earlier step gave under the same name is stale:
                // steps that need this one's are blocked, not sent with it.
                _ => self.values.remove(name),
            };
        }
    }

    /// Every way `answer` differs from `expect`, or Ok.
    fn judge(&mut self, expect: &Expect, answer: &Answer) -> Result<(), String> {
        let mut wrong = Vec::new();
        if !expect.status.contains(&answer.status) {
            wrong.push(format!(
                "status {} (expected {:?})",
                answer.status, expect.status
            ));
        }
        if let Some(prefix) = &expect.content_type
            && !answer.content_type.starts_with(prefix.as_str())
        {
            wrong.push(format!("Content-Type {:?}", answer.content_type));
        }
        // A 204 the document allows carries nothing to compare.
        if answer.status != 204 {
            self.judge_body(expect, answer, &mut wrong);
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}; body: {}",
                wrong.join("; "),
                clip(&answer.text)
            ))
        }
    }

    fn judge_body(&mut self, expect: &Expect, answer: &Answer, wrong: &mut Vec<String>) {
        for (pointer, value) in &expect.json {
            let value = self.fill_json(value).unwrap_or_else(Json::String);
            let got = answer.json.pointer(pointer);
            if got != Some(&value) {
                wrong.push(format!("{pointer} = {got:?} (expected {value})"));
            }
        }
        for pointer in &expect.present {
            match answer.json.pointer(pointer) {
                None | Some(Json::Null) => wrong.push(format!("{pointer} missing")),
                Some(Json::String(s)) if s.is_empty() => wrong.push(format!("{pointer} empty")),
                _ => {}
            }
        }
        for pointer in &expect.absent {
            if answer.json.pointer(pointer).is_some_and(|v| !v.is_null()) {
                wrong.push(format!("{pointer} present"));
            }
        }
        for text in &expect.contains {
            let text = self.fill(text).unwrap_or_else(|p| p);
            if !answer.text.contains(&text) {
                wrong.push(format!("body lacks {text:?}"));
            }
        }
        for text in &expect.not_contains {
            let text = self.fill(text).unwrap_or_else(|p| p);
            if answer.text.contains(&text) {
                wrong.push(format!("body contains {text:?}"));
            }
        }
    }
}

fn clip(text: &str) -> String {
    const MAX: usize = 400;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn load(source: &str) -> Fixture {
    let path = common::repo_root()
        .join("fixtures/scim/published")
        .join(format!("{source}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn listed(key: &str) -> Option<&'static str> {
    NOT_HONOURED
        .iter()
        .chain(NOT_YET)
        .find(|(k, _)| *k == key)
        .map(|(_, why)| *why)
}

/// How the replay went, step by step: the problems (a step failing unlisted,
/// a listed step passing) and the counts.
#[derive(Default)]
struct Tally {
    /// A blocked step → the failing step that blocked it, through any chain of blocked steps.
    roots: HashMap<String, String>,
    problems: Vec<String>,
    report: Vec<String>,
    passed: usize,
    total: usize,
    /// Published requests failing or blocked under [`NOT_HONOURED`].
    not_honoured: usize,
}

impl Tally {
    /// A setup step (not a published request) is judged like the others
    /// but left out of the pass rate.
    fn record(&mut self, key: &str, step: &Step, outcome: Outcome) {
        let section = &step.section;
        self.total += usize::from(!step.setup);
        let exception = listed(key);
        match outcome {
            Outcome::Passed => {
                self.passed += usize::from(!step.setup);
                if exception.is_some() {
                    self.problems.push(format!(
                        "{key} is listed as an exception but is now answered as expected: \
                         take it off the list"
                    ));
                }
            }
            Outcome::Failed(why) => {
                self.count_not_honoured(key, step);
                self.report
                    .push(format!("  {key}: {}", exception.unwrap_or("UNLISTED")));
                if exception.is_none() {
                    self.problems.push(format!(
                        "{key} ({section}) is not answered as expected: {why}"
                    ));
                }
            }
            Outcome::Blocked { placeholder, by } => {
                let source = key.split('/').next().unwrap_or_default();
                let blocker = format!("{source}/{by}");
                let root = self.roots.get(&blocker).cloned().unwrap_or(blocker);
                self.report.push(format!("  {key}: blocked by {root}"));
                if by.is_empty() {
                    self.problems.push(format!(
                        "{key}: no step before it gives {{{{{placeholder}}}}}"
                    ));
                } else if listed(&root).is_none() {
                    self.problems.push(format!(
                        "{key} ({section}) has no {{{{{placeholder}}}}}: {root} did not give it"
                    ));
                }
                self.count_not_honoured(&root, step);
                self.roots.insert(key.to_owned(), root);
            }
        }
    }

    /// Counts a published step that failed because of `cause`, when `cause`
    /// is a request a Meetings site cannot honour.
    fn count_not_honoured(&mut self, cause: &str, step: &Step) {
        if !step.setup && NOT_HONOURED.iter().any(|(k, _)| *k == cause) {
            self.not_honoured += 1;
        }
    }
}

/// Every published request, replayed in order per source; prints the pass rate.
#[tokio::test]
async fn published_requests_are_answered_as_the_identity_providers_expect() {
    let mut tally = Tally::default();
    for source in SOURCES {
        let fixture = load(source);
        let mut replay = replay_for(&fixture).await;
        let (passed, total) = (tally.passed, tally.total);
        for step in &fixture.steps {
            let outcome = replay.run(step).await;
            tally.record(&format!("{source}/{}", step.name), step, outcome);
        }
        println!(
            "{source}: {} of {} published requests answered as the identity provider expects",
            tally.passed - passed,
            tally.total - total
        );
    }
    let honourable = tally.total - tally.not_honoured;
    println!(
        "published requests: {} of {} ({:.0} %) answered as expected; {} of the {} a Meetings \
         site can honour ({:.0} %); the others:\n{}",
        tally.passed,
        tally.total,
        100.0 * tally.passed as f64 / tally.total as f64,
        tally.passed,
        honourable,
        100.0 * tally.passed as f64 / honourable as f64,
        tally.report.join("\n")
    );
    assert!(tally.problems.is_empty(), "{}", tally.problems.join("\n"));
}

/// Every fixture names its document and its steps uniquely; every name on
/// the two lists is a step of a fixture, once, with a reason.
#[test]
fn the_fixtures_and_the_lists_agree() {
    let mut steps = Vec::new();
    for source in SOURCES {
        let fixture = load(source);
        assert!(
            fixture.source.contains("commit"),
            "{source}: which document, at which commit?"
        );
        steps.extend(fixture.steps.iter().map(|s| format!("{source}/{}", s.name)));
    }
    let mut seen = std::collections::HashSet::new();
    for (key, why) in NOT_HONOURED.iter().chain(NOT_YET) {
        assert!(steps.contains(&key.to_string()), "{key} is no fixture step");
        assert!(seen.insert(*key), "{key} is listed twice");
        assert!(!why.trim().is_empty(), "{key} has no reason");
    }
    let unique: std::collections::HashSet<_> = steps.iter().collect();
    assert_eq!(
        unique.len(),
        steps.len(),
        "step names are unique per source"
    );
}

/// README.md's SCIM section lists exactly [`NOT_HONOURED`], between its markers.
#[test]
fn the_readme_lists_what_is_not_honoured() {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let (start, end) = ("<!-- not-honoured:start -->\n", "<!-- not-honoured:end -->");
    let block = readme
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(block, _)| block)
        .expect("README.md has no not-honoured markers");
    let expected: String = NOT_HONOURED
        .iter()
        .map(|(key, why)| format!("- `{key}`: {why}\n"))
        .collect();
    assert_eq!(
        block, expected,
        "README.md's list differs from NOT_HONOURED; between the markers it should read:\n{expected}"
    );
}

/// The verdicts themselves: an unlisted failure, a listed pass and a step
/// blocked by an unlisted one are problems; a listed failure and a step
/// blocked by a listed one are not.
#[test]
fn the_lists_decide_what_may_fail() {
    let step: Step = serde_json::from_value(serde_json::json!({
        "name": "n", "section": "s", "method": "GET", "path": "/", "expect": {"status": [200]}
    }))
    .unwrap();
    let problems = |key: &str, outcome: Outcome| {
        let mut tally = Tally::default();
        tally.record(key, &step, outcome);
        tally.problems.len()
    };
    let (listed_key, unlisted_key) = (
        "entra-reference-postman/020-create-user-4-for-group-2",
        "entra-reference-postman/019-create-user-for-group-2",
    );
    assert!(listed(listed_key).is_some() && listed(unlisted_key).is_none());
    let failed = || Outcome::Failed("status 400".into());
    let blocked_by = |by: &str| Outcome::Blocked {
        placeholder: "id".into(),
        by: by.split_once('/').unwrap().1.into(),
    };
    assert_eq!(problems(unlisted_key, failed()), 1);
    assert_eq!(problems(listed_key, Outcome::Passed), 1);
    assert_eq!(problems(unlisted_key, blocked_by(unlisted_key)), 1);
    assert_eq!(problems(unlisted_key, Outcome::Passed), 0);
    assert_eq!(problems(listed_key, failed()), 0);
    assert_eq!(problems(unlisted_key, blocked_by(listed_key)), 0);
    // What fails under NOT_HONOURED, itself or through a blocker, counts as such.
    let mut tally = Tally::default();
    tally.record(listed_key, &step, failed());
    tally.record(unlisted_key, &step, blocked_by(listed_key));
    tally.record(unlisted_key, &step, failed());
    assert_eq!(tally.not_honoured, 2);
    // Through a chain: blocked by a step that was itself blocked by a listed one.
    let (first, second) = (
        "entra-reference-postman/024-put-replace-group3",
        "entra-reference-postman/026-patch-add-user4-to-group1",
    );
    let mut tally = Tally::default();
    tally.record(first, &step, blocked_by(listed_key));
    tally.record(second, &step, blocked_by(first));
    assert!(tally.problems.is_empty(), "{:?}", tally.problems);
    tally.record(second, &step, blocked_by(unlisted_key));
    assert_eq!(tally.problems.len(), 1);
}
