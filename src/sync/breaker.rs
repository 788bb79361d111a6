//! The circuit breaker: when the site (or the organisation's identity API)
//! stops answering, every remaining user would fail in turn, each after its
//! retries (about 1.4 users a second, hours for a large source). After
//! `limit` calls in a row got no answer, the breaker trips: no further call
//! starts, and the run stops with the journal unfinished, so that the next run
//! resumes it.

use std::sync::Mutex;

use crate::client::{Error as ClientError, ErrorKind};
use crate::identity::{IdentityError, IdentityErrorKind};

/// Calls in a row without an answer before a run stops, unless the options
/// say otherwise.
pub const DEFAULT_LIMIT: usize = 20;

/// A failed call, as the breaker sees it.
pub(super) trait Unanswered: std::fmt::Display {
    /// Whether the call got no answer from the service at all (the connection
    /// failed or timed out, or HTTP said something other than an API answer),
    /// after its retries. A service FAILURE is an answer: the site is there.
    fn unanswered(&self) -> bool;
}

impl Unanswered for ClientError {
    fn unanswered(&self) -> bool {
        matches!(self.kind, ErrorKind::Transport(_) | ErrorKind::Http(_))
    }
}

impl Unanswered for IdentityError {
    fn unanswered(&self) -> bool {
        matches!(
            self.kind,
            IdentityErrorKind::Transport(_) | IdentityErrorKind::Http(..)
        )
    }
}

/// Counts calls without an answer in a row.
#[derive(Debug)]
pub(super) struct Breaker {
    /// 0: never trips.
    limit: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    in_a_row: usize,
    /// The last unanswered call, once tripped.
    tripped: Option<String>,
}

impl Breaker {
    pub fn new(limit: usize) -> Breaker {
        Breaker {
            limit,
            state: Mutex::new(State::default()),
        }
    }

    /// Notes how one call ended.
    pub fn record<T, E: Unanswered>(&self, outcome: &Result<T, E>) {
        let mut state = self.state.lock().expect("breaker lock");
        match outcome {
            Err(e) if e.unanswered() => {
                state.in_a_row += 1;
                if self.limit > 0 && state.in_a_row >= self.limit && state.tripped.is_none() {
                    state.tripped = Some(e.to_string());
                }
            }
            _ => state.in_a_row = 0,
        }
    }

    pub fn tripped(&self) -> bool {
        self.state.lock().expect("breaker lock").tripped.is_some()
    }

    /// Why the run must stop, once tripped.
    pub fn check(&self) -> Result<(), super::SyncError> {
        match &self.state.lock().expect("breaker lock").tripped {
            None => Ok(()),
            Some(last) => Err(super::SyncError::SiteUnreachable {
                failures: self.limit,
                last: last.clone(),
                done: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::TransportError;
    use crate::ops::Operation;

    fn failure(kind: ErrorKind) -> Result<(), ClientError> {
        Err(ClientError {
            operation: Operation::GetUser,
            key: Some("u1".into()),
            kind,
            attempts: 1,
        })
    }

    fn unreachable() -> Result<(), ClientError> {
        failure(ErrorKind::Transport(TransportError::Connection {
            message: "refused".into(),
            sent: false,
        }))
    }

    #[test]
    fn trips_after_the_limit_in_a_row_and_an_answer_resets_the_count() {
        let breaker = Breaker::new(3);
        breaker.record(&unreachable());
        breaker.record(&unreachable());
        // The site answered (even a FAILURE): it is there.
        breaker.record(&failure(ErrorKind::Service(
            crate::xml::ServiceFailure::new("030001", "not found").into(),
        )));
        breaker.record(&unreachable());
        breaker.record(&Ok::<(), ClientError>(()));
        breaker.record(&unreachable());
        breaker.record(&failure(ErrorKind::Http(503)));
        assert!(!breaker.tripped());
        breaker.record(&unreachable());
        assert!(breaker.tripped());
        let stop = breaker.check().unwrap_err().to_string();
        assert!(stop.contains("3 calls in a row"), "{stop}");
        assert!(
            stop.contains("GetUser u1: connection failed: refused"),
            "{stop}"
        );
        assert!(Breaker::new(0).check().is_ok());
    }
}
