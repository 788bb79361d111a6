//! The identity API's waits are announced as they start, at info (issue 17,
//! legible long runs): "… rate limited (HTTP 429): waiting 0 ms
//! (Retry-After), attempt 2 of 5". Alone in its test binary: tracing's
//! callsite cache is process-wide.
#![cfg(all(feature = "sim", feature = "https"))]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wbxprov::Secret;
use wbxprov::identity::IdentityClient;
use wbxprov::identity::transport::HttpsJson;
use wbxprov::sim::{self, DEFAULT_IDENTITY_TOKEN, SimConfig, Simulator, default_profile};
use wbxprov::site::ControlHub;

/// Everything the subscriber writes.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_429_of_the_identity_api_is_announced_with_its_retry_after() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let org = "a35bfbc6-ccbd-4a17-a488-72gf46c5420c";
    let mut profile = default_profile();
    profile.control_hub = Some(ControlHub { org_id: org.into() });
    profile.control_hub_managed = true;
    let mut config = SimConfig::new(profile);
    config.identity_429_every = Some(2);
    config.identity_retry_after = 0;
    let sim = Simulator::new(config, Box::new(sim::store::Memory)).unwrap();
    let site = sim::serve(sim, sim::ServeOptions::default()).await.unwrap();
    let https = HttpsJson::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap();
    let identity = IdentityClient::new(
        &site.identity_url,
        org,
        Secret::new(DEFAULT_IDENTITY_TOKEN),
        Arc::new(https),
    )
    .retry(common::fast_retries().retry);
    for _ in 0..3 {
        assert_eq!(identity.find("jdoe@example.com").await.unwrap(), None);
    }

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let waits: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains("rate limited (HTTP 429): waiting 0 ms (Retry-After), attempt 2 of 5")
        })
        .collect();
    assert!(!waits.is_empty(), "{text}");
    assert!(waits.iter().all(|l| l.contains(" INFO ")), "{text}");
    // Its own target, so that RUST_LOG=wbxprov::identity=… selects it.
    assert!(
        waits.iter().all(|l| l.contains("wbxprov::identity")),
        "{text}"
    );
    assert!(!text.contains(DEFAULT_IDENTITY_TOKEN), "{text}");
    site.stop().await;
}
