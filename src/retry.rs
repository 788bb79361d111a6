//! One retry and pacing implementation for every client wbxprov has: the XML
//! API client ([`crate::client`]) and the REST client of webexapis.com
//! ([`crate::rest`], under the identity, licence and meeting-settings APIs).
//!
//! A client describes one attempt as an `Attempts` policy: it sends, then
//! says what the answer means (`Verdict`): done, retry after a backoff or
//! after the wait the service asked for, or try again at once (a renewed
//! session ticket). `run` owns the loop: the attempt count, the overall
//! `Deadline`, the waits and their announcement. `Pacer` owns the slot a
//! request is sent in: client-side rate, concurrency, the deadline's timeout.
//! The Webex-specific rules (000045's minute, the unknown-outcome CreateUser
//! check, ticket renewal, Retry-After) live in each client's policy, never
//! in a loop of its own.
//!
//! Only [`RetryPolicy`] is public (a field of the clients' options); the loop
//! and its parts named above are crate-internal.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

/// When to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First backoff after a transient failure; doubles each time, with jitter.
    pub base_delay: Duration,
    /// The longest backoff: doubling stops here.
    pub max_delay: Duration,
    /// Wait after a rate limit that does not say how long (000045 "API Rate
    /// Limit Reached" asks for 60 s; a 429 without Retry-After).
    pub rate_limit_wait: Duration,
}

impl RetryPolicy {
    /// Exponential backoff with jitter: a random wait between half and all of
    /// base·2^(n-1), capped. `attempt` counts from 1.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let fraction = (crate::client::random_u64() % 1000) as u32;
        // At least half the ceiling, so waits still grow.
        ceiling / 2 + ceiling / 2 * fraction / 1000
    }

    /// How long to wait before attempt `attempt + 1`; `None` when the
    /// attempts are spent or a backoff would outlast the deadline. A wait the
    /// service asks for does not count against the deadline.
    pub(crate) fn next_wait(
        &self,
        wait: &Wait,
        attempt: u32,
        deadline: &mut Deadline,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts.max(1) {
            return None;
        }
        match wait {
            Wait::Backoff => {
                let length = self.backoff(attempt);
                (length < deadline.remaining()).then_some(length)
            }
            Wait::Asked { length, .. } => {
                deadline.excuse(*length);
                Some(*length)
            }
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            rate_limit_wait: crate::xml::decode::RATE_LIMIT_RETRY_AFTER,
        }
    }
}

/// How long to wait before the next attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Exponential backoff by attempt number, with jitter.
    Backoff,
    /// What the service asked for: 000045's minute, a `Retry-After`
    /// (`source` says which, for the announcement).
    Asked {
        length: Duration,
        source: Option<&'static str>,
    },
}

/// What one attempt came to.
pub(crate) enum Verdict<T, E> {
    Done(Result<T, E>),
    /// Worth another attempt after `Wait`; `E` is the call's error if there
    /// is none.
    Retry(Wait, E),
    /// Try again at once, neither waiting nor counting a retry (the policy
    /// fixed the cause, e.g. renewed a refused session ticket, and decides
    /// itself how often it may).
    Again,
}

/// When a call gives up. Queueing and the waits the service asks for move
/// it later.
#[derive(Debug)]
pub(crate) struct Deadline {
    started: Instant,
    at: Instant,
}

impl Deadline {
    pub(crate) fn new(length: Duration) -> Self {
        let started = Instant::now();
        Deadline {
            started,
            at: started + length,
        }
    }

    pub(crate) fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// `length` spent waiting does not count.
    pub(crate) fn excuse(&mut self, length: Duration) {
        self.at += length;
    }

    /// How long the call has taken so far.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// The future of one attempt.
pub(crate) type Attempt<'a, T, E> =
    std::pin::Pin<Box<dyn Future<Output = Verdict<T, E>> + Send + 'a>>;

/// One client's rules for one call: what an attempt does and what its answer
/// means; [`run`] does the rest.
pub(crate) trait Attempts {
    type Output;
    type Error;

    /// Sends once and judges the answer. Boxed: the XML client's CreateUser
    /// policy runs a GetUser call inside its attempt, a future that would
    /// otherwise contain its own type.
    fn attempt<'a>(
        &'a mut self,
        deadline: &'a mut Deadline,
    ) -> Attempt<'a, Self::Output, Self::Error>;

    /// Tells the admin of a wait, as it starts (in the client's own module,
    /// so that its log target selects it).
    fn announce(&self, error: &Self::Error, notice: WaitNotice);

    /// A retry is due after `wait` (counters).
    fn retrying(&self, _wait: &Wait, _length: Duration) {}
}

/// A wait about to start, for [`Attempts::announce`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct WaitNotice {
    pub(crate) length: Duration,
    pub(crate) source: Option<&'static str>,
    pub(crate) next_attempt: u32,
    pub(crate) max_attempts: u32,
}

/// Runs `call` until it is done, its attempts are spent or its deadline is
/// near; returns its result and the attempts made.
pub(crate) async fn run<A: Attempts>(
    call: &mut A,
    policy: &RetryPolicy,
    deadline: &mut Deadline,
) -> (Result<A::Output, A::Error>, u32) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call.attempt(deadline).await {
            Verdict::Done(result) => return (result, attempt),
            Verdict::Again => {}
            Verdict::Retry(wait, error) => {
                let Some(length) = policy.next_wait(&wait, attempt, deadline) else {
                    return (Err(error), attempt);
                };
                call.retrying(&wait, length);
                let source = match &wait {
                    Wait::Asked { source, .. } => *source,
                    Wait::Backoff => None,
                };
                call.announce(
                    &error,
                    WaitNotice {
                        length,
                        source,
                        next_attempt: attempt + 1,
                        max_attempts: policy.max_attempts,
                    },
                );
                tokio::time::sleep(length).await;
            }
        }
    }
}

/// The slot a request is sent in: at most `max_concurrency` in flight, no
/// more than `requests_per_minute`, and never past the call's deadline.
#[derive(Debug)]
pub(crate) struct Pacer {
    in_flight: Semaphore,
    next_slot: Mutex<Instant>,
    requests_per_minute: Option<u32>,
}

/// How [`Pacer::send`] ended.
pub(crate) enum Slot<T> {
    Sent(T),
    /// The deadline passed; `sent` says whether the request was out (the
    /// service may have it).
    OutOfTime {
        sent: bool,
    },
}

impl Pacer {
    pub(crate) fn new(max_concurrency: usize, requests_per_minute: Option<u32>) -> Self {
        Pacer {
            in_flight: Semaphore::new(max_concurrency.max(1)),
            next_slot: Mutex::new(Instant::now()),
            requests_per_minute,
        }
    }

    /// Waits for a slot (the wait excused from `deadline`), then runs `send`
    /// within what is left of it. `send` is not polled before it has its slot.
    pub(crate) async fn send<F: Future>(
        &self,
        deadline: &mut Deadline,
        send: F,
    ) -> Slot<F::Output> {
        let queued = Instant::now();
        self.pace().await;
        let _permit = self.in_flight.acquire().await.expect("semaphore open");
        deadline.excuse(queued.elapsed());
        if deadline.remaining().is_zero() {
            return Slot::OutOfTime { sent: false };
        }
        match tokio::time::timeout(deadline.remaining(), send).await {
            Ok(output) => Slot::Sent(output),
            Err(_elapsed) => Slot::OutOfTime { sent: true },
        }
    }

    /// Waits for this request's slot under the client-side rate limit.
    async fn pace(&self) {
        let Some(rpm) = self.requests_per_minute.filter(|r| *r > 0) else {
            return;
        };
        let gap = Duration::from_secs(60) / rpm;
        let at = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers from a script, counting what `run` asked of it.
    struct Scripted {
        verdicts: Vec<Verdict<u32, &'static str>>,
    }

    impl Attempts for Scripted {
        type Output = u32;
        type Error = &'static str;
        fn attempt<'a>(
            &'a mut self,
            _deadline: &'a mut Deadline,
        ) -> Attempt<'a, u32, &'static str> {
            let next = self.verdicts.remove(0);
            Box::pin(async move { next })
        }
        fn announce(&self, _error: &&'static str, _notice: WaitNotice) {}
        fn retrying(&self, _wait: &Wait, _length: Duration) {}
    }

    fn policy(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            rate_limit_wait: Duration::from_millis(1),
        }
    }

    fn asked() -> Wait {
        Wait::Asked {
            length: Duration::from_millis(1),
            source: Some("Retry-After"),
        }
    }

    #[tokio::test]
    async fn retries_until_done_and_counts_every_attempt() {
        let mut call = Scripted {
            verdicts: vec![
                Verdict::Retry(Wait::Backoff, "503"),
                Verdict::Again,
                Verdict::Retry(asked(), "429"),
                Verdict::Done(Ok(7)),
            ],
        };
        let mut deadline = Deadline::new(Duration::from_secs(60));
        let (result, attempts) = run(&mut call, &policy(5), &mut deadline).await;
        assert_eq!(result, Ok(7));
        assert_eq!(attempts, 4);
        assert!(call.verdicts.is_empty());
    }

    #[tokio::test]
    async fn the_last_attempts_error_is_the_calls_when_attempts_are_spent() {
        let mut call = Scripted {
            verdicts: vec![
                Verdict::Retry(asked(), "429 first"),
                Verdict::Retry(asked(), "429 second"),
                Verdict::Done(Ok(1)),
            ],
        };
        let mut deadline = Deadline::new(Duration::from_secs(60));
        let (result, attempts) = run(&mut call, &policy(2), &mut deadline).await;
        assert_eq!((result, attempts), (Err("429 second"), 2));
    }

    #[tokio::test]
    async fn a_backoff_that_would_outlast_the_deadline_is_not_waited() {
        let mut call = Scripted {
            verdicts: vec![Verdict::Retry(Wait::Backoff, "503"), Verdict::Done(Ok(1))],
        };
        let mut deadline = Deadline::new(Duration::ZERO);
        let (result, attempts) = run(&mut call, &policy(5), &mut deadline).await;
        assert_eq!((result, attempts), (Err("503"), 1));
    }

    #[tokio::test]
    async fn a_wait_the_service_asks_for_moves_the_deadline() {
        let mut deadline = Deadline::new(Duration::from_millis(10));
        let before = deadline.remaining();
        let wait = Wait::Asked {
            length: Duration::from_secs(60),
            source: None,
        };
        assert_eq!(
            policy(5).next_wait(&wait, 1, &mut deadline),
            Some(Duration::from_secs(60))
        );
        assert!(deadline.remaining() > before + Duration::from_secs(59));
    }
}
