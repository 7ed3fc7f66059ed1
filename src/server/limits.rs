//! Throttles: failed logins per user name and per client address, and a request rate
//! per authenticated user (token bucket).
//!
//! Both answer **503 with `Retry-After`**, never 429: DAVx5 treats 429 as a hard error
//! with a notification but backs off politely on 503 + Retry-After, and Thunderbird and
//! Apple treat both alike (reference/clients.md §0.9, §3.5).
//!
//! Failed logins are counted in fixed windows. When an address has failed
//! `max_failed_logins` times in the window, every login attempt from it is refused until
//! the window ends; when a user name has, attempts that would need an Argon2 check are
//! refused, but credentials already verified (cached) still pass, so an attacker
//! hammering a name cannot lock its owner's running clients out. IPv6 clients are
//! counted per /64, the block one subscriber usually gets.
//!
//! Maps are pruned of expired entries when they grow, so memory stays bounded under
//! spraying with random names or addresses.

use dashmap::DashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Entries kept before a prune pass runs.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

/// Failed-login counters.
#[derive(Debug)]
pub struct FailedLogins {
    max: u32,
    window: Duration,
    by_user: DashMap<String, Window>,
    by_addr: DashMap<IpAddr, Window>,
}

/// The address key: IPv4 as is, IPv6 truncated to its /64 (IPv4-mapped as IPv4).
pub fn addr_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl FailedLogins {
    /// `max == 0` disables the throttle.
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            by_user: DashMap::new(),
            by_addr: DashMap::new(),
        }
    }

    fn blocked_in<K: std::hash::Hash + Eq>(
        &self,
        map: &DashMap<K, Window>,
        key: &K,
        now: Instant,
    ) -> Option<Duration> {
        let w = *map.get(key)?;
        let end = w.start + self.window;
        (self.max > 0 && w.count >= self.max && now < end).then(|| end - now)
    }

    /// How long this address must wait, if it is blocked.
    pub fn addr_blocked(&self, addr: IpAddr, now: Instant) -> Option<Duration> {
        self.blocked_in(&self.by_addr, &addr_key(addr), now)
    }

    /// How long uncached logins for this (canonical) user name must wait, if blocked.
    pub fn user_blocked(&self, user: &str, now: Instant) -> Option<Duration> {
        self.blocked_in(&self.by_user, &user.to_owned(), now)
    }

    fn bump<K: std::hash::Hash + Eq + Clone>(
        &self,
        map: &DashMap<K, Window>,
        key: K,
        now: Instant,
    ) {
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, w| now < w.start + self.window);
        }
        let mut entry = map.entry(key).or_insert(Window {
            start: now,
            count: 0,
        });
        if now >= entry.start + self.window {
            *entry = Window {
                start: now,
                count: 0,
            };
        }
        entry.count = entry.count.saturating_add(1);
    }

    /// Count one failed login.
    pub fn record_failure(&self, user: &str, addr: IpAddr, now: Instant) {
        if self.max == 0 {
            return;
        }
        self.bump(&self.by_user, user.to_owned(), now);
        self.bump(&self.by_addr, addr_key(addr), now);
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Per-user token bucket: `burst` requests at once, refilled at `rate` per second.
#[derive(Debug)]
pub struct RequestRate {
    rate: f64,
    burst: f64,
    buckets: DashMap<String, Bucket>,
}

impl RequestRate {
    /// `rate <= 0` disables the limit.
    pub fn new(rate: f64, burst: u32) -> Self {
        Self {
            rate,
            burst: f64::from(burst.max(1)),
            buckets: DashMap::new(),
        }
    }

    /// Take one token for `user`; `Err(wait)` when the bucket is empty.
    pub fn check(&self, user: &str, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 || !self.rate.is_finite() {
            return Ok(());
        }
        if self.buckets.len() > PRUNE_ABOVE {
            let full_after = Duration::from_secs_f64(self.burst / self.rate);
            self.buckets
                .retain(|_, b| now.saturating_duration_since(b.last) < full_after);
        }
        let mut b = self.buckets.entry(user.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.rate))
        }
    }
}

/// `Retry-After` seconds for a wait (at least 1, rounded up).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_logins_block_per_user_and_address_until_the_window_ends() {
        let f = FailedLogins::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..2 {
            f.record_failure("alice", a, t0);
        }
        assert!(f.user_blocked("alice", t0).is_none());
        f.record_failure("alice", a, t0);
        assert_eq!(f.user_blocked("alice", t0), Some(Duration::from_secs(60)));
        assert!(f.addr_blocked(a, t0 + Duration::from_secs(10)).is_some());
        assert!(f.addr_blocked(b, t0).is_none());
        assert!(f.user_blocked("bob", t0).is_none());
        let later = t0 + Duration::from_secs(61);
        assert!(f.user_blocked("alice", later).is_none());
        assert!(f.addr_blocked(a, later).is_none());
        // A new window starts counting from zero.
        f.record_failure("alice", a, later);
        assert!(f.user_blocked("alice", later).is_none());
    }

    #[test]
    fn ipv6_counted_per_64() {
        let f = FailedLogins::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        f.record_failure("x", "2001:db8:1:2::1".parse().unwrap(), t0);
        f.record_failure("y", "2001:db8:1:2::ffff".parse().unwrap(), t0);
        assert!(
            f.addr_blocked("2001:db8:1:2:abcd::9".parse().unwrap(), t0)
                .is_some()
        );
        assert!(
            f.addr_blocked("2001:db8:1:3::1".parse().unwrap(), t0)
                .is_none()
        );
    }

    #[test]
    fn disabled_when_zero() {
        let f = FailedLogins::new(0, Duration::from_secs(60));
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..100 {
            f.record_failure("u", a, t0);
        }
        assert!(f.addr_blocked(a, t0).is_none());
        let r = RequestRate::new(0.0, 1);
        for _ in 0..100 {
            assert!(r.check("u", t0).is_ok());
        }
    }

    #[test]
    fn token_bucket_allows_burst_then_refills() {
        let r = RequestRate::new(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(r.check("u", t0).is_ok());
        }
        let wait = r.check("u", t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert!(r.check("other", t0).is_ok());
        assert!(r.check("u", t0 + Duration::from_millis(500)).is_ok());
        assert!(r.check("u", t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2100)), 3);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
