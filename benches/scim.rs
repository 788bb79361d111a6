//! Site calls and wall time per SCIM operation, with the simulated site at
//! 50 ms latency per call (issue 21): POST, GET, PUT, PATCH and a list page
//! (`count=10`, whole resources, then projected to what the user list
//! carries), each through the SCIM front's HTTP router, one request at a
//! time. Calls are the simulator's own counts (CreateUser, SetUser, GetUser,
//! DelUser, LstsummaryUser; the client's one AuthenticateUser is left out).
//! At this latency the wall time is about the sequential calls × 50 ms: the
//! GetUsers of a list page run side by side, at the client's concurrency.
//!
//! Prints one line per operation, then `scim_calls_per_patch=<x>` (target
//! ≤ 2: one GetUser, one SetUser).
//!
//! Then a large site (issue 21): 100,000 users loaded into the simulator, the
//! index of the site's users built by a first list (its time printed), then
//! 20 list pages (`count=100`, projected to what the user list carries) and
//! 20 `userName sw` filters, each printed as its p50:
//! `scim_list_page_p50_ms=<x>` and `scim_sw_filter_p50_ms=<x>` (target
//! < 100 ms each).
//!
//! Run: `cargo bench --bench scim` (about a minute). Without `--bench` (as
//! under `cargo test --all-targets`) it runs a quick smoke pass at 1 ms
//! latency, the large site with 300 users.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use wbxprov::Secret;
use wbxprov::client::Client;
use wbxprov::ops::Operation;
use wbxprov::schema::{Attribute, FlatKey, FlatUser, Value};
use wbxprov::scim::Service;
use wbxprov::scim::http::{ScimHandle, serve};
use wbxprov::scim::ids::IdStore;
use wbxprov::scim::user::{CORE, PATCH};
use wbxprov::sim::{self, ServeOptions, SimConfig, SimHandle, Simulator, Store, StoredUser, store};

const TOKEN: &str = "bench-scim-token-0123456789-0123456789";

const COUNTED: [Operation; 5] = [
    Operation::GetUser,
    Operation::CreateUser,
    Operation::SetUser,
    Operation::DelUser,
    Operation::LstsummaryUser,
];

struct Bench {
    site: SimHandle,
    scim: ScimHandle,
    http: reqwest::Client,
}

impl Bench {
    fn site_calls(&self) -> u64 {
        COUNTED
            .iter()
            .map(|op| self.site.simulator.calls(*op))
            .sum()
    }

    async fn call(&self, method: &str, path: &str, body: Option<&Json>) -> Json {
        let mut request = self
            .http
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.scim.url),
            )
            .header("Authorization", format!("Bearer {TOKEN}"));
        if let Some(b) = body {
            request = request
                .header("Content-Type", "application/scim+json")
                .body(b.to_string());
        }
        let response = request.send().await.expect("SCIM request");
        let status = response.status();
        let text = response.text().await.expect("SCIM answer");
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).expect("SCIM JSON")
    }

    /// Runs `requests` one after the other; prints and answers the site
    /// calls per request.
    async fn measure(&self, name: &str, requests: Vec<(&str, String, Option<Json>)>) -> f64 {
        let n = requests.len() as f64;
        let calls_before = self.site_calls();
        let started = Instant::now();
        for (method, path, body) in &requests {
            self.call(method, path, body.as_ref()).await;
        }
        let wall_ms = started.elapsed().as_secs_f64() * 1000.0 / n;
        let calls = (self.site_calls() - calls_before) as f64 / n;
        println!("scim {name:<26} site_calls={calls:.2} wall_ms={wall_ms:.1}");
        calls
    }
}

fn user(n: usize) -> Json {
    json!({
        "schemas": [CORE],
        "userName": format!("scim{n:03}"),
        "externalId": format!("ext-{n}"),
        "name": {"givenName": "Bench", "familyName": format!("User{n}")},
        "emails": [{"value": format!("scim{n:03}@example.com"), "type": "work"}],
        "title": "Engineer",
        "active": true
    })
}

/// A simulator store that starts with `0` generated users (`u000000` …),
/// loaded in one go instead of 100,000 CreateUsers; writes are not kept.
struct Generated(usize);

impl Store for Generated {
    fn load(&self) -> Result<Vec<StoredUser>, store::StoreError> {
        Ok((0..self.0).map(generated_user).collect())
    }
    fn save(&self, _: &StoredUser) -> Result<(), store::StoreError> {
        Ok(())
    }
    fn delete(&self, _: &str) -> Result<(), store::StoreError> {
        Ok(())
    }
}

fn generated_user(n: usize) -> StoredUser {
    let web_ex_id = format!("u{n:06}");
    let mut flat = FlatUser::new();
    let mut put = |a: Attribute, v: String| flat.insert(FlatKey::new(a), Value::Text(v));
    put(Attribute::WebExId, web_ex_id.clone());
    put(Attribute::FirstName, "Large".into());
    put(Attribute::LastName, format!("User{n}"));
    put(Attribute::Email, format!("{web_ex_id}@example.com"));
    put(Attribute::Active, "ACTIVATED".into());
    StoredUser {
        web_ex_id,
        user_id: 200_000_000 + n as i64,
        flat,
    }
}

async fn start(latency: Duration) -> Bench {
    start_with(latency, Box::new(sim::store::Memory)).await
}

async fn start_with(latency: Duration, store: Box<dyn Store>) -> Bench {
    let profile = sim::default_profile();
    let simulator = Simulator::new(SimConfig::new(profile.clone()), store).expect("sim");
    let site = sim::serve(simulator, {
        let mut built = ServeOptions::default();
        built.latency = latency;
        built
    })
    .await
    .expect("serve the simulator");
    let auth = sim::default_admin();
    let client = Arc::new(
        Client::builder("sim", auth)
            .endpoint(&site.url)
            .validate_with(profile)
            .build()
            .expect("client"),
    );
    let ids = IdStore::open(None).expect("id store");
    let scim = serve(
        "127.0.0.1:0".parse().expect("addr"),
        Secret::new(TOKEN),
        move |url| Service::new(client, ids, url),
    )
    .await
    .expect("serve SCIM");
    Bench {
        site,
        scim,
        http: reqwest::Client::new(),
    }
}

fn p50_ms(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

impl Bench {
    /// Wall time of each request, one after the other, in ms.
    async fn timed(&self, paths: &[String]) -> Vec<f64> {
        let mut samples = Vec::with_capacity(paths.len());
        for path in paths {
            let started = Instant::now();
            self.call("GET", path, None).await;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        samples
    }
}

/// Lists and `userName sw` filters of a site of `users`, from the index.
async fn large_site(latency: Duration, users: usize) {
    let bench = start_with(latency, Box::new(Generated(users))).await;
    let listed = "attributes=userName,name,emails,active";
    let started = Instant::now();
    let first = bench
        .call("GET", &format!("/Users?count=1&{listed}"), None)
        .await;
    assert_eq!(first["totalResults"], users, "every user is listed");
    println!(
        "scim large site: {users} users, index built in {:.1} s ({} LstsummaryUser)",
        started.elapsed().as_secs_f64(),
        bench.site.simulator.calls(Operation::LstsummaryUser)
    );
    let calls_before = bench.site_calls();
    let pages: Vec<String> = (0..20)
        .map(|n| {
            format!(
                "/Users?count=100&startIndex={}&{listed}",
                1 + n * (users / 20)
            )
        })
        .collect();
    let list_p50 = p50_ms(bench.timed(&pages).await);
    // `u0037` …: 100 users of 100,000 each (`u003700`–`u003799`; the smoke pass: fewer).
    let filters: Vec<String> = (0..20)
        .map(|n| {
            format!(
                "/Users?filter=userName%20sw%20%22u{:04}%22&{listed}",
                n * 37
            )
        })
        .collect();
    let sw_p50 = p50_ms(bench.timed(&filters).await);
    // Names and emails, counted and paged in SQLite too (issue 21): a
    // familyName prefix is a search of its index, an email `co` a LIKE.
    let family: Vec<String> = (0..20)
        .map(|n| {
            format!(
                "/Users?count=100&filter=name.familyName%20sw%20%22user{}%22&{listed}",
                n * 37
            )
        })
        .collect();
    let family_p50 = p50_ms(bench.timed(&family).await);
    let emails: Vec<String> = (0..20)
        .map(|n| {
            format!(
                "/Users?count=100&filter=emails%20co%20%22{:04}%22&{listed}",
                n * 37
            )
        })
        .collect();
    let email_p50 = p50_ms(bench.timed(&emails).await);
    let calls = bench.site_calls() - calls_before;
    println!("scim large site: {calls} site calls for the 80 requests after the index");
    println!("scim_list_page_p50_ms={list_p50:.1}");
    println!("scim_sw_filter_p50_ms={sw_p50:.1}");
    println!("scim_family_name_sw_p50_ms={family_p50:.1}");
    println!("scim_email_co_p50_ms={email_p50:.1}");
    bench.scim.stop().await;
    bench.site.stop().await;
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (latency, users, large) = if bench {
        (Duration::from_millis(50), 20, 100_000)
    } else {
        (Duration::from_millis(1), 12, 300)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let bench = start(latency).await;
        println!(
            "SCIM front over the simulator at {} ms latency per call",
            latency.as_millis()
        );
        // The session ticket first, outside every figure.
        bench
            .call("GET", "/Users?count=1&attributes=userName", None)
            .await;
        let posts = (0..users)
            .map(|n| ("POST", "/Users".to_owned(), Some(user(n))))
            .collect();
        bench.measure("POST /Users", posts).await;
        let listed = bench
            .call(
                "GET",
                &format!("/Users?count={users}&attributes=userName"),
                None,
            )
            .await;
        let ids: Vec<String> = listed["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_owned())
            .collect();
        assert_eq!(ids.len(), users, "every POSTed user is listed");
        let gets = ids
            .iter()
            .map(|id| ("GET", format!("/Users/{id}"), None))
            .collect();
        bench.measure("GET /Users/{id}", gets).await;
        let puts = ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                let mut body = user(n);
                body["title"] = json!("Director");
                ("PUT", format!("/Users/{id}"), Some(body))
            })
            .collect();
        bench.measure("PUT /Users/{id}", puts).await;
        let patch = json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": "title", "value": "Manager"}
        ]});
        let patches = ids
            .iter()
            .map(|id| ("PATCH", format!("/Users/{id}"), Some(patch.clone())))
            .collect();
        let per_patch = bench.measure("PATCH /Users/{id}", patches).await;
        let pages = (0..5)
            .map(|_| ("GET", "/Users?count=10".to_owned(), None))
            .collect();
        bench.measure("list page count=10", pages).await;
        let summary_pages = (0..5)
            .map(|_| {
                let path = "/Users?count=10&attributes=userName,name,emails,active";
                ("GET", path.to_owned(), None)
            })
            .collect();
        bench
            .measure("list page (listed attrs)", summary_pages)
            .await;
        println!("scim_calls_per_patch={per_patch:.2}");
        bench.scim.stop().await;
        bench.site.stop().await;
        large_site(latency, large).await;
    });
}
