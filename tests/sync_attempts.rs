//! Issue 15 item 12: a sync report counts each user's real attempts, and the
//! run's retries and rate-limit waits. The site is the simulator in-process,
//! behind a transport that fails chosen requests first.
#![cfg(all(feature = "sim", feature = "sync"))]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value as Json, json};
use wbxprov::client::transport::Sending;
use wbxprov::client::{Client, Incoming, Outgoing, Transport, TransportError};
use wbxprov::ops::Operation;
use wbxprov::sim::{SimConfig, Simulator, default_profile, store};
use wbxprov::sync::{self, Record};
use wbxprov::xml::encode::encode_failure;
use wbxprov::xml::{ServiceError, ServiceFailure};

/// How a request about a user fails before the site sees it.
#[derive(Clone, Copy)]
enum Fault {
    /// The connection could not be made (nothing sent).
    Refused,
    /// 000045 "API Rate Limit Reached".
    RateLimited,
}

/// The simulator, in-process; the first requests of `operation` about a key
/// fail as scripted.
struct Flaky {
    site: Simulator,
    operation: Operation,
    faults: Mutex<HashMap<String, Vec<Fault>>>,
}

impl Transport for Flaky {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let fault = match (&request.key, request.operation == self.operation) {
                (Some(key), true) => self
                    .faults
                    .lock()
                    .unwrap()
                    .get_mut(key)
                    .and_then(|f| (!f.is_empty()).then(|| f.remove(0))),
                _ => None,
            };
            match fault {
                Some(Fault::Refused) => Err(TransportError::Connection {
                    message: "connection refused".into(),
                    sent: false,
                }),
                Some(Fault::RateLimited) => Ok(Incoming {
                    status: 200,
                    body: encode_failure(&ServiceError::from(ServiceFailure::new(
                        "000045",
                        "API Rate Limit Reached",
                    )))
                    .into_bytes(),
                }),
                None => {
                    let (status, body) = self.site.handle(request.body.as_bytes());
                    Ok(Incoming {
                        status,
                        body: body.into_bytes(),
                    })
                }
            }
        })
    }
}

fn records(ids: &[&str]) -> sync::Records {
    let records: Vec<Result<Record, sync::RecordError>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let fields: Map<String, Json> = [
                ("webExId".to_owned(), json!(id)),
                ("email".to_owned(), json!(format!("{id}@example.com"))),
                ("lastName".to_owned(), json!("Last")),
            ]
            .into_iter()
            .collect();
            Ok(Record { row: i + 2, fields })
        })
        .collect();
    Box::new(records.into_iter())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_counts_real_attempts_retries_and_rate_limit_waits() {
    use Fault::*;
    let site = Simulator::new(SimConfig::new(default_profile()), Box::new(store::Memory)).unwrap();
    let transport = Arc::new(Flaky {
        site,
        operation: Operation::CreateUser,
        faults: Mutex::new(HashMap::from([
            ("flaky".to_owned(), vec![Refused, Refused, Refused]),
            ("waited".to_owned(), vec![RateLimited]),
        ])),
    });
    let client = Arc::new(
        Client::builder("sim", wbxprov::sim::default_admin())
            .transport(transport)
            .options(common::fast_retries())
            .build()
            .unwrap(),
    );
    let engine = sync::Sync::builder(client.clone(), default_profile()).build();
    let plan = engine
        .plan(records(&["flaky", "waited", "smooth"]))
        .await
        .unwrap();
    let report = plan.apply(&engine, |_| {}).await.unwrap();
    assert!(report.all_ok(), "{report:#?}");
    let attempts: HashMap<&str, u32> = report
        .users
        .iter()
        .map(|u| (u.web_ex_id.as_str(), u.attempts))
        .collect();
    assert_eq!(
        attempts,
        HashMap::from([("flaky", 4), ("waited", 2), ("smooth", 1)])
    );
    let s = &report.summary;
    assert_eq!((s.retries, s.rate_limit_waits), (4, 1), "{s:?}");
    // fast_retries waits 10 ms for a rate limit.
    assert_eq!(s.rate_limit_wait_ms, 10);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["summary"]["retries"], json!(4));
    assert_eq!(json["summary"]["rateLimitWaits"], json!(1));
    assert_eq!(
        report.summary.retry_line(),
        "4 retries, 1 rate-limit wait (10 ms)"
    );
}
