//! Throttling of failed authentication, per client address: after
//! [`MAX_FAILURES`] failures within [`WINDOW`], an address is refused (429)
//! until the window ends, its token not even compared, so guessing the
//! token gains nothing. Successful requests are never counted; other
//! addresses are not affected.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed authentications an address may have within one window.
pub const MAX_FAILURES: u32 = 10;
/// How long failures count, from an address's first failure.
pub const WINDOW: Duration = Duration::from_secs(60);
/// The most addresses tracked at once: memory stays bounded however many
/// addresses fail.
pub const MAX_CLIENTS: usize = 4096;

/// One client: its IPv4 address, or the /64 of its IPv6 address (a host
/// usually holds a whole /64, and could otherwise fail from each address).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::from(segments)
            }
        },
    }
}

struct Failures {
    since: Instant,
    count: u32,
}

impl Failures {
    fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.since) >= WINDOW
    }
}

/// Failed authentications by client, within the current window.
#[derive(Default)]
pub struct AuthThrottle {
    clients: Mutex<HashMap<IpAddr, Failures>>,
}

impl std::fmt::Debug for AuthThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthThrottle").finish_non_exhaustive()
    }
}

impl AuthThrottle {
    fn clients(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        // A count is always whole: a panic elsewhere cannot leave it half-written.
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long `ip` must wait before it is heard again, when it failed too
    /// often lately; `None` when it may try.
    pub fn refused(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let clients = self.clients();
        let failures = clients.get(&client_key(ip))?;
        let waited = now.saturating_duration_since(failures.since);
        (failures.count >= MAX_FAILURES && waited < WINDOW).then(|| WINDOW - waited)
    }

    /// Counts one failed authentication of `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut clients = self.clients();
        let key = client_key(ip);
        if !clients.contains_key(&key) && clients.len() >= MAX_CLIENTS {
            make_room(&mut clients, now);
        }
        let failures = clients.entry(key).or_insert(Failures {
            since: now,
            count: 0,
        });
        if failures.expired(now) {
            *failures = Failures {
                since: now,
                count: 0,
            };
        }
        failures.count = failures.count.saturating_add(1);
    }

    /// How many addresses are tracked now.
    pub fn tracked(&self) -> usize {
        self.clients().len()
    }
}

/// Drops expired windows; when every window is live, the oldest.
fn make_room(clients: &mut HashMap<IpAddr, Failures>, now: Instant) {
    clients.retain(|_, f| !f.expired(now));
    if clients.len() >= MAX_CLIENTS
        && let Some(oldest) = clients.iter().min_by_key(|(_, f)| f.since).map(|(k, _)| *k)
    {
        clients.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let (throttle, start) = (AuthThrottle::default(), Instant::now());
        let attacker = ip("192.0.2.7");
        for n in 0..MAX_FAILURES {
            assert_eq!(
                throttle.refused(attacker, start),
                None,
                "after {n} failures"
            );
            throttle.failed(attacker, start + SECOND);
        }
        // The window began at the first failure, a second ago.
        assert_eq!(
            throttle.refused(attacker, start + 2 * SECOND),
            Some(WINDOW - SECOND)
        );
        assert_eq!(
            throttle.refused(ip("192.0.2.8"), start),
            None,
            "others are heard"
        );
        // When the window is over, the address is heard and counts afresh.
        let later = start + SECOND + WINDOW;
        assert_eq!(throttle.refused(attacker, later), None);
        throttle.failed(attacker, later);
        assert_eq!(throttle.refused(attacker, later), None);
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let (throttle, now) = (AuthThrottle::default(), Instant::now());
        for n in 0..MAX_FAILURES {
            throttle.failed(ip(&format!("2001:db8:1:2::{n:x}")), now);
        }
        assert!(throttle.refused(ip("2001:db8:1:2:ffff::1"), now).is_some());
        assert_eq!(throttle.refused(ip("2001:db8:1:3::1"), now), None);
        for _ in 0..MAX_FAILURES {
            throttle.failed(ip("::ffff:192.0.2.9"), now);
        }
        assert!(
            throttle.refused(ip("192.0.2.9"), now).is_some(),
            "v4-mapped is v4"
        );
    }

    #[test]
    fn memory_stays_bounded_however_many_addresses_fail() {
        let (throttle, now) = (AuthThrottle::default(), Instant::now());
        for n in 0..(MAX_CLIENTS as u32 + 100) {
            throttle.failed(IpAddr::from(n.to_be_bytes()), now);
        }
        assert_eq!(throttle.tracked(), MAX_CLIENTS);
        // Expired windows make room first.
        throttle.failed(ip("198.51.100.1"), now + WINDOW);
        assert_eq!(throttle.tracked(), 1);
    }
}
