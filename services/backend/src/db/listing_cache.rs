//! Rendered task listings kept in memory until the user's tasks change.
//!
//! A user's tasks are listed far more often than they change, and rendering a listing (the
//! query, then its JSON) is most of what a listing request costs. So the JSON of each
//! (user, filter, sort) listing is kept, bounded in bytes, together with the version of the
//! user's tasks it was read at, and it is served only while that version is still current.
//!
//! Where the version comes from is the database's business:
//! - on SQLite, one backend owns the file ([`SqliteOwner`] enforces it) and makes every write,
//!   so the version is a count in this process ([`ListingCache::local_version`]) that every
//!   committed write moves ([`ListingCache::count_write`]): a hit costs no query at all;
//! - on PostgreSQL, replicas share the database, so the version is a row that a trigger on
//!   `tasks` moves in the same transaction as each write, read by one small query per listing:
//!   a write through any replica is seen by the next listing through every other.
//!
//! The version is read before the listing, so a listing is never kept under a version newer
//! than what it shows: a write that commits in between moves the version past it, and the
//! next request reads the new version and misses.

use std::{
    hash::{BuildHasher, RandomState},
    path::Path,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use bytes::Bytes;
use quick_cache::{Equivalent, Weighter, sync::Cache};

use super::{
    file_lock::{LockError, lock_beside},
    tasks::ListOptions,
};

/// The in-process versions are kept per stripe of users, not per user, so their memory stays
/// fixed (8 KiB); a write moves the version of every user in its stripe, whose next listing is
/// then read again.
const STRIPES: usize = 1024;

/// Bytes an entry costs beyond its JSON and user id: the key, the handle, the cache's slot.
const ENTRY_OVERHEAD: u64 = 96;

/// The JSON of listings by user and options, with the version each was read at; bounded in
/// bytes.
pub struct ListingCache {
    listings: Cache<Key, Kept, EntryBytes>,
    local_versions: Box<[AtomicU64]>,
    stripes: RandomState,
    /// Held for as long as the cache lives: no other backend writes the SQLite file meanwhile.
    _owner: Option<SqliteOwner>,
}

/// A listing and the version of the user's tasks it was read at.
#[derive(Debug, Clone)]
struct Kept {
    version: u64,
    listing: Bytes,
}

impl ListingCache {
    /// A cache of at most `capacity_bytes`; `owner` is the SQLite file's lock (none for an
    /// in-memory database, which no other process can open, or for PostgreSQL).
    pub fn new(capacity_bytes: u64, owner: Option<SqliteOwner>) -> Self {
        let typical_entry = 8 * 1024;
        Self {
            listings: Cache::with_weighter(
                usize::try_from(capacity_bytes / typical_entry)
                    .unwrap_or(usize::MAX)
                    .max(16),
                capacity_bytes,
                EntryBytes,
            ),
            local_versions: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            stripes: RandomState::new(),
            _owner: owner,
        }
    }

    /// The listing kept at `version`, if any.
    pub fn get(&self, user_id: &str, options: ListOptions, version: u64) -> Option<Bytes> {
        let found = self
            .listings
            .get(&KeyRef { user_id, options })
            .filter(|kept| kept.version == version)
            .map(|kept| kept.listing);
        let result = if found.is_some() { "hit" } else { "miss" };
        metrics::counter!("todo_listing_cache_lookups_total", "result" => result).increment(1);
        found
    }

    /// Keeps a listing read after `version` was read.
    pub fn keep(&self, user_id: &str, options: ListOptions, version: u64, listing: Bytes) {
        let key = KeyRef { user_id, options }.to_owned_key();
        self.listings.insert(key, Kept { version, listing });
    }

    /// The user's version in this process (SQLite): read it before the listing.
    pub fn local_version(&self, user_id: &str) -> u64 {
        self.local_versions[self.stripe(user_id)].load(Ordering::SeqCst)
    }

    /// Moves the user's version in this process (SQLite): call after a write of the user's
    /// tasks has committed, before answering it.
    pub fn count_write(&self, user_id: &str) {
        self.local_versions[self.stripe(user_id)].fetch_add(1, Ordering::SeqCst);
    }

    /// `(entries, bytes)` held now.
    pub fn usage(&self) -> (usize, u64) {
        (self.listings.len(), self.listings.weight())
    }

    fn stripe(&self, user_id: &str) -> usize {
        // The remainder is below STRIPES, so it fits a usize on every target.
        (self.stripes.hash_one(user_id) % STRIPES as u64) as usize
    }
}

impl std::fmt::Debug for ListingCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (entries, bytes) = self.usage();
        f.debug_struct("ListingCache")
            .field("entries", &entries)
            .field("bytes", &bytes)
            .field("capacity", &self.listings.capacity())
            .finish_non_exhaustive()
    }
}

/// The cache's key. [`KeyRef`] must hash the same way: both derive `Hash` over the same fields
/// in the same order, and `Box<str>` hashes as `str` does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    user_id: Box<str>,
    options: ListOptions,
}

/// A key to look up without allocating the user id.
#[derive(Debug, Clone, Copy, Hash)]
struct KeyRef<'a> {
    user_id: &'a str,
    options: ListOptions,
}

impl KeyRef<'_> {
    fn to_owned_key(self) -> Key {
        Key {
            user_id: self.user_id.into(),
            options: self.options,
        }
    }
}

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.options == key.options && *self.user_id == *key.user_id
    }
}

/// An entry weighs the bytes it holds.
#[derive(Debug, Clone, Copy)]
struct EntryBytes;

impl Weighter<Key, Kept> for EntryBytes {
    fn weight(&self, key: &Key, kept: &Kept) -> u64 {
        (kept.listing.len() + key.user_id.len()) as u64 + ENTRY_OVERHEAD
    }
}

/// The one backend serving a SQLite file: an exclusive lock on `<file>.lock`, released when
/// this is dropped or the process ends, however it ends.
#[derive(Debug)]
pub struct SqliteOwner {
    _lock: std::fs::File,
}

impl SqliteOwner {
    /// Takes the lock of `database`'s file, waiting up to `wait` for another backend to let go
    /// of it (during a pod's replacement the old one may still be draining).
    pub async fn acquire(database: &Path, wait: Duration) -> anyhow::Result<Self> {
        let waiting = |lock: &Path| {
            tracing::warn!(
                lock = %lock.display(),
                "another backend serves this SQLite file; waiting for it to stop"
            );
        };
        match lock_beside(database, ".lock", wait, waiting).await {
            Ok(lock) => Ok(Self { _lock: lock }),
            Err(LockError::Held { path, waited }) => anyhow::bail!(
                "another backend process still serves {} (it holds {}) after {} s; SQLite is \
                 served by one backend: stop the other one, or use PostgreSQL \
                 (DATABASE_URL=postgres://…) to run several",
                database.display(),
                path.display(),
                waited.as_secs()
            ),
            Err(error) => Err(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::db::tasks::{SortKey, SortOrder, StatusFilter};

    fn by_title() -> ListOptions {
        ListOptions {
            status: StatusFilter::Pending,
            sort: SortKey::Title,
            order: SortOrder::Desc,
        }
    }

    #[test]
    fn a_kept_listing_is_found_under_its_user_options_and_version_only() {
        let cache = ListingCache::new(1 << 20, None);
        cache.keep("ann", by_title(), 7, Bytes::from_static(b"[1]"));
        assert_eq!(cache.get("ann", by_title(), 7).unwrap(), "[1]");
        assert!(cache.get("ann", by_title(), 8).is_none(), "a newer version");
        assert!(cache.get("ann", ListOptions::default(), 7).is_none());
        assert!(cache.get("bob", by_title(), 7).is_none());
    }

    #[test]
    fn a_counted_write_retires_the_users_listings_and_not_every_users() {
        let cache = ListingCache::new(1 << 20, None);
        let users: Vec<String> = (0..200).map(|n| format!("user-{n}")).collect();
        for user in &users {
            cache.keep(
                user,
                by_title(),
                cache.local_version(user),
                Bytes::from_static(b"[]"),
            );
        }
        cache.count_write("user-0");
        assert!(
            cache
                .get("user-0", by_title(), cache.local_version("user-0"))
                .is_none()
        );
        let still_kept = users
            .iter()
            .filter(|user| {
                cache
                    .get(user, by_title(), cache.local_version(user))
                    .is_some()
            })
            .count();
        assert!(
            still_kept >= 190,
            "only the writer's stripe is read again: {still_kept} of 199 kept"
        );
    }

    #[test]
    fn a_listing_read_across_a_write_is_not_served() {
        let cache = ListingCache::new(1 << 20, None);
        let version = cache.local_version("ann");
        cache.count_write("ann"); // the write commits while the listing is being read
        cache.keep("ann", by_title(), version, Bytes::from_static(b"[\"old\"]"));
        assert!(
            cache
                .get("ann", by_title(), cache.local_version("ann"))
                .is_none()
        );
    }

    #[test]
    fn the_cache_stays_within_its_bytes() {
        let cache = ListingCache::new(64 * 1024, None);
        let listing = Bytes::from(vec![b' '; 4000]);
        for n in 0..100 {
            cache.keep(&format!("user-{n}"), by_title(), 0, listing.clone());
        }
        let (entries, bytes) = cache.usage();
        assert!(bytes <= 64 * 1024, "{bytes} bytes held");
        assert!((1..100).contains(&entries), "{entries} entries");
    }

    #[tokio::test]
    async fn a_second_owner_of_a_sqlite_file_waits_then_says_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("todo.db");
        let first = SqliteOwner::acquire(&database, Duration::ZERO)
            .await
            .unwrap();
        let error = SqliteOwner::acquire(&database, Duration::from_millis(250))
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("todo.db.lock"), "{error}");
        assert!(error.contains("PostgreSQL"), "{error}");
        drop(first);
        SqliteOwner::acquire(&database, Duration::ZERO)
            .await
            .unwrap();
    }
}
