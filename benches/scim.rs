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
//! Run: `cargo bench --bench scim` (about 10 s). Without `--bench` (as under
//! `cargo test --all-targets`) it runs a quick smoke pass at 1 ms latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use wbxprov::Secret;
use wbxprov::client::{AdminAuth, Client};
use wbxprov::ops::Operation;
use wbxprov::scim::Service;
use wbxprov::scim::http::{ScimHandle, serve};
use wbxprov::scim::ids::IdStore;
use wbxprov::scim::user::{CORE, PATCH};
use wbxprov::sim::{
    self, DEFAULT_ADMIN_ID, DEFAULT_ADMIN_PASSWORD, ServeOptions, SimConfig, SimHandle, Simulator,
};

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

async fn start(latency: Duration) -> Bench {
    let profile = sim::default_profile();
    let simulator = Simulator::new(
        SimConfig::new(profile.clone()),
        Box::new(sim::store::Memory),
    )
    .expect("sim");
    let site = sim::serve(
        simulator,
        ServeOptions {
            latency,
            ..ServeOptions::default()
        },
    )
    .await
    .expect("serve the simulator");
    let auth = AdminAuth::Password {
        web_ex_id: DEFAULT_ADMIN_ID.into(),
        password: Secret::new(DEFAULT_ADMIN_PASSWORD),
    };
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

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (latency, users) = if bench {
        (Duration::from_millis(50), 20)
    } else {
        (Duration::from_millis(1), 12)
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
    });
}
