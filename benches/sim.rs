//! Requests per second of the simulated site for GetUser, on this machine.
//!
//! Measured: 16 concurrent GetUser calls through wbxprov's client (HTTP/1.1 over
//! loopback, keep-alive) against an in-process simulator holding 1,000 users,
//! for a fixed number of calls. Baseline, in the same run: the simulator's own
//! request handling without HTTP (`Simulator::handle` on the same request
//! bytes), which bounds what the server can do; the ratio says how much of it
//! survives HTTP and the client.
//!
//! Run: `cargo bench --bench sim`. Without `--bench` (as under `cargo test
//! --all-targets`) it runs a quick smoke pass.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use wbxprov::Secret;
use wbxprov::client::{Client, Options};
use wbxprov::ops::GetUser;
use wbxprov::schema::{FlatKey, FlatUser, Value};
use wbxprov::sim::{self, DEFAULT_ADMIN_ID, DEFAULT_ADMIN_PASSWORD, default_profile};
use wbxprov::xml::encode::{Credentials, SecurityContext, SiteRef, encode};
use wbxprov::xml::{Form, Secrets};

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (users, calls) = if bench { (1_000, 40_000) } else { (20, 200) };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let site = sim::start(default_profile())
            .await
            .expect("simulator starts");
        let options = {
            let mut built = Options::default();
            built.max_concurrency = 16;
            built
        };
        let auth = sim::default_admin();
        let client = Arc::new(
            Client::builder("sim", auth)
                .endpoint(&site.url)
                .options(options)
                .build()
                .expect("client"),
        );
        for i in 0..users {
            let user: FlatUser = [
                ("webExId", Value::Text(format!("u{i:05}"))),
                ("email", Value::Text(format!("u{i:05}@example.com"))),
                ("firstName", Value::Text("Bench".into())),
                ("privilegeHost", Value::Bool(true)),
            ]
            .into_iter()
            .map(|(k, v)| (k.parse::<FlatKey>().expect("catalogue key"), v))
            .collect();
            client.create_user(user).await.expect("create");
        }

        // Over HTTP, 16 in flight.
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..16 {
            let client = client.clone();
            tasks.spawn(async move {
                for n in (worker..calls).step_by(16) {
                    let id = format!("u{:05}", n % users);
                    black_box(client.get_user(&id).await.expect("get"));
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("worker");
        }
        let http_rps = calls as f64 / started.elapsed().as_secs_f64();

        // The same requests straight into the simulator.
        let security = SecurityContext {
            site: SiteRef::Name("sim".into()),
            credentials: Credentials::Password {
                web_ex_id: DEFAULT_ADMIN_ID.into(),
                password: Secret::new(DEFAULT_ADMIN_PASSWORD),
            },
        };
        let requests: Vec<String> = (0..users)
            .map(|i| {
                encode(
                    &GetUser {
                        web_ex_id: format!("u{i:05}"),
                    },
                    &security,
                    Form::Plain,
                    Secrets::Reveal,
                )
                .expect("encode")
            })
            .collect();
        let started = Instant::now();
        for n in 0..calls {
            black_box(site.simulator.handle(requests[n % users].as_bytes()));
        }
        let core_rps = calls as f64 / started.elapsed().as_secs_f64();
        println!("sim_getuser_http: {http_rps:.0} requests/s (16 concurrent, {users} users)");
        println!("sim_getuser_core: {core_rps:.0} requests/s (Simulator::handle, no HTTP)");
        println!("http_vs_core_ratio={:.2}", http_rps / core_rps);
        println!("sim_getuser_requests_per_second={http_rps:.0}");
        site.stop().await;
    });
}
