//! A sync of 10,000 users against the simulated site with 50 ms latency per
//! call and 32 calls in flight, with the SQLite journal in the path as the CLI
//! has it, compared in the same run with the latency bound: (reading + writing
//! calls) × latency ÷ concurrency, the wall time no client could beat. Also the
//! process's peak resident memory (the in-process simulator's users included).
//!
//! Then, untimed, an unchanged rerun in incremental mode over the same journal:
//! `calls_per_unchanged_user` (AuthenticateUser and the listing's pages over
//! the users).
//!
//! Run: `cargo bench --bench sync` (about 40 s). Without `--bench` (as under
//! `cargo test --all-targets`) it runs a quick smoke pass.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wbxprov::client::{Client, Options};
use wbxprov::sim::{self, ServeOptions, SimConfig, Simulator};
use wbxprov::sync::{self, SyncOptions};

/// Peak resident set size of this process (Linux `VmHWM`), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (users, latency) = if bench {
        (10_000, Duration::from_millis(50))
    } else {
        (200, Duration::from_millis(5))
    };
    let concurrency = 32;
    let source =
        std::env::temp_dir().join(format!("wbxprov-bench-sync-{}.jsonl", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&source).expect("source file"));
        for i in 0..users {
            writeln!(
                f,
                r#"{{"webExId":"b{i:05}","firstName":"First{i}","lastName":"Last{i}","email":"b{i:05}@example.com","privilegeHost":true}}"#
            )
            .expect("write source");
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let profile = sim::default_profile();
        let simulator = Simulator::new(SimConfig::new(profile.clone()), Box::new(sim::store::Memory)).expect("sim");
        let site = sim::serve(simulator, {
let mut built = ServeOptions::default();
built.latency = latency;
built
})
            .await
            .expect("serve");
        let new_client = || {
            Arc::new(
                Client::builder("sim", sim::default_admin())
                .endpoint(&site.url)
                .options({
let mut built = Options::default();
built.max_concurrency = concurrency;
built
})
                .build()
                .expect("client"),
            )
        };
        let journal = source.with_extension("journal.sqlite");
        let _ = std::fs::remove_file(&journal);
        let open_journal = || Arc::new(sync::Journal::open(&journal).expect("journal"));
        let engine = sync::Sync::builder(new_client(), profile.clone())
            .journal(open_journal())
            .options({
let mut built = SyncOptions::default();
built.concurrency = concurrency;
built
})
            .build();
        let started = Instant::now();
        let records = sync::source::open(&source).expect("source");
        let plan = engine.plan(records).await.expect("plan");
        let reads = plan.reads + 1; // and AuthenticateUser
        let report = plan.apply(&engine, |_| {}).await.expect("apply");
        let wall = started.elapsed().as_secs_f64();
        assert_eq!(report.summary.created, users, "{:?}", report.summary);
        let writes = site.simulator.writes() as usize;
        let bound = (reads + writes) as f64 * latency.as_secs_f64() / concurrency as f64;
        println!("sync of {users} users: {reads} reading + {writes} writing calls, {} ms latency, concurrency {concurrency}", latency.as_millis());
        println!("sync_wall_s={wall:.2}");
        println!("latency_bound_s={bound:.2}");
        println!("sync_vs_bound_ratio={:.3}", wall / bound);
        if let Some(mb) = peak_rss_mb() {
            println!("peak_rss_mb={mb:.1}");
        }
        // The journal's lock goes with the engine.
        drop(engine);
        // Not timed: an unchanged rerun in incremental mode. The journal holds
        // each person's digest from the run above, so only the listing is read.
        let engine = sync::Sync::builder(new_client(), profile.clone())
            .journal(open_journal())
            .options({
let mut built = SyncOptions::default();
built.concurrency = concurrency;
built
})
            .build();
        let plan = engine.plan(sync::source::open(&source).expect("source")).await.expect("plan");
        let report = plan.apply(&engine, |_| {}).await.expect("apply");
        assert_eq!(report.summary.unchanged, users, "{:?}", report.summary);
        let calls = engine.client().stats().calls;
        println!("calls_per_unchanged_user={:.4}", calls as f64 / users as f64);
        let _ = std::fs::remove_file(&journal);
        site.stop().await;
    });
    let _ = std::fs::remove_file(&source);
}
