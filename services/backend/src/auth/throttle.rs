//! Throttling of failed sign-ins, per email and per client address, kept in memory.
//!
//! Each key may fail a few times within a window; after that, sign-in attempts for it are
//! refused with 429 until the window ends. The map is bounded: when full, expired entries go
//! first, then the oldest.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Limits of one kind of key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max_failures: u32,
    pub window: Duration,
}

/// Failed attempts per email and per client address.
#[derive(Debug)]
pub struct SignInThrottle {
    per_email: Limit,
    per_address: Limit,
    capacity: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    window_start: Instant,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self::new(
            Limit {
                max_failures: 5,
                window: Duration::from_secs(15 * 60),
            },
            Limit {
                max_failures: 30,
                window: Duration::from_secs(15 * 60),
            },
            10_000,
        )
    }
}

impl SignInThrottle {
    pub fn new(per_email: Limit, per_address: Limit, capacity: usize) -> Self {
        Self {
            per_email,
            per_address,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(wait)` when this email or address has failed too often and must wait.
    pub fn check(&self, email: &str, address: &str) -> Option<Duration> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let blocked = |key: String, limit: Limit| {
            entries.get(&key).and_then(|entry| {
                let elapsed = entry.window_start.elapsed();
                (elapsed < limit.window && entry.failures >= limit.max_failures)
                    .then(|| limit.window - elapsed)
            })
        };
        let by_email = blocked(email_key(email), self.per_email);
        let by_address = blocked(address_key(address), self.per_address);
        by_email.max(by_address)
    }

    /// Records a failed attempt for both keys.
    pub fn record_failure(&self, email: &str, address: &str) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (key, limit) in [
            (email_key(email), self.per_email),
            (address_key(address), self.per_address),
        ] {
            if !entries.contains_key(&key) && entries.len() >= self.capacity {
                evict(
                    &mut entries,
                    self.per_email.window.max(self.per_address.window),
                    self.capacity,
                );
            }
            let entry = entries.entry(key).or_insert(Entry {
                failures: 0,
                window_start: Instant::now(),
            });
            if entry.window_start.elapsed() >= limit.window {
                *entry = Entry {
                    failures: 0,
                    window_start: Instant::now(),
                };
            }
            entry.failures += 1;
        }
    }

    /// Forgets the email's failures after a successful sign-in.
    pub fn record_success(&self, email: &str) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.remove(&email_key(email));
    }
}

fn email_key(email: &str) -> String {
    format!("email:{email}")
}

fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

/// Makes room for one entry: drops expired entries, then the oldest if still full.
fn evict(entries: &mut HashMap<String, Entry>, longest_window: Duration, capacity: usize) {
    entries.retain(|_, entry| entry.window_start.elapsed() < longest_window);
    while entries.len() >= capacity {
        let Some(oldest) = entries
            .iter()
            .min_by_key(|(_, entry)| entry.window_start)
            .map(|(key, _)| key.clone())
        else {
            break;
        };
        entries.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(capacity: usize) -> SignInThrottle {
        let limit = Limit {
            max_failures: 3,
            window: Duration::from_secs(60),
        };
        SignInThrottle::new(
            limit,
            Limit {
                max_failures: 5,
                ..limit
            },
            capacity,
        )
    }

    #[test]
    fn an_email_is_blocked_after_its_failures_and_freed_by_a_success() {
        let throttle = throttle(100);
        for _ in 0..3 {
            assert_eq!(throttle.check("a@x.io", "1.2.3.4"), None);
            throttle.record_failure("a@x.io", "1.2.3.4");
        }
        let wait = throttle
            .check("a@x.io", "5.6.7.8")
            .expect("the email is blocked from anywhere");
        assert!(wait <= Duration::from_secs(60));
        assert_eq!(
            throttle.check("b@x.io", "5.6.7.8"),
            None,
            "other emails are not"
        );
        throttle.record_success("a@x.io");
        assert_eq!(throttle.check("a@x.io", "5.6.7.8"), None);
    }

    #[test]
    fn an_address_is_blocked_across_emails() {
        let throttle = throttle(100);
        for n in 0..5 {
            throttle.record_failure(&format!("user{n}@x.io"), "9.9.9.9");
        }
        assert!(throttle.check("fresh@x.io", "9.9.9.9").is_some());
    }

    #[test]
    fn the_map_never_grows_past_its_capacity() {
        let throttle = throttle(10);
        for n in 0..100 {
            throttle.record_failure(&format!("user{n}@x.io"), &format!("10.0.0.{n}"));
        }
        assert!(
            throttle
                .entries
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len()
                <= 10
        );
    }
}
