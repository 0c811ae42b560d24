//! The answer cache: the rendered bodies of repeated questions, so a team reloading the same
//! verdict page costs one lookup instead of a database read and a render.
//!
//! Invariants:
//! - Never stale: an entry belongs to one [`Version`] of the database (the epoch of the
//!   connection that reads `PRAGMA data_version`, and that number); a lookup under another
//!   version misses, and the first insert under a new version drops every older entry.
//!   The version is read before the answer is computed, so an entry holds data at least as
//!   new as its version.
//! - The key is the normalised request (route, parsed parameters in a fixed order, the
//!   representation, and the resolved as-of date where the answer depends on today), never
//!   the raw URL, so spellings of one question share an entry.
//! - Bounded: at most `max_entries` entries and `max_bytes` of keys and bodies (least recently
//!   used first out); a body larger than the whole bound is not kept.
//! - Only successful answers are kept; errors are computed every time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::http::HeaderMap;
use hashlink::LruCache;

/// How many answers are kept at most.
pub const MAX_ENTRIES: usize = 256;
/// How many bytes of keys and bodies are kept at most (a 5,000-company verdict's JSON is
/// 4.6 MB; the seed report's pages are 20–120 kB).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// One state of the database as one connection sees it: `data` is that connection's
/// `PRAGMA data_version`, `epoch` counts how often that connection was (re)opened, since
/// numbers from two connections mean nothing to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub epoch: u64,
    pub data: i64,
}

/// A rendered answer: its headers (content type, `Vary`) and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub headers: HeaderMap,
    pub body: Bytes,
}

struct Inner {
    version: Option<Version>,
    entries: LruCache<String, Answer>,
    bytes: usize,
}

pub struct AnswerCache {
    inner: Mutex<Inner>,
    max_entries: usize,
    max_bytes: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

fn size(key: &str, answer: &Answer) -> usize {
    key.len() + answer.body.len()
}

impl AnswerCache {
    pub fn new(max_entries: usize, max_bytes: usize) -> AnswerCache {
        AnswerCache {
            inner: Mutex::new(Inner { version: None, entries: LruCache::new_unbounded(), bytes: 0 }),
            max_entries,
            max_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The answer kept for `key` under `version`, if any.
    pub fn get(&self, version: Version, key: &str) -> Option<Answer> {
        let mut inner = self.lock();
        let found = if inner.version == Some(version) { inner.entries.get(key).cloned() } else { None };
        drop(inner);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        super::metrics::record_cache(found.is_some());
        found
    }

    /// Keeps `answer` for `key` under `version`; a new version drops all older entries.
    pub fn insert(&self, version: Version, key: String, answer: Answer) {
        let bytes = size(&key, &answer);
        if bytes > self.max_bytes || self.max_entries == 0 {
            return;
        }
        let mut inner = self.lock();
        if inner.version != Some(version) {
            inner.entries.clear();
            inner.bytes = 0;
            inner.version = Some(version);
        }
        let key_len = key.len();
        if let Some(old) = inner.entries.insert(key, answer) {
            inner.bytes -= key_len + old.body.len();
        }
        inner.bytes += bytes;
        while inner.entries.len() > self.max_entries || inner.bytes > self.max_bytes {
            let Some((key, old)) = inner.entries.remove_lru() else { break };
            inner.bytes -= size(&key, &old);
        }
    }

    /// Lookups answered from the cache, and lookups that missed, since the start.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// How many answers and bytes are kept now.
    #[cfg(test)]
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.entries.len(), inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &'static str) -> Answer {
        Answer { headers: HeaderMap::new(), body: Bytes::from_static(text.as_bytes()) }
    }

    const V1: Version = Version { epoch: 1, data: 1 };
    const V2: Version = Version { epoch: 1, data: 2 };

    #[test]
    fn an_answer_is_found_only_under_its_own_version() {
        let cache = AnswerCache::new(8, 1024);
        cache.insert(V1, "a".to_string(), answer("one"));
        assert_eq!(cache.get(V1, "a").unwrap().body, "one");
        assert!(cache.get(V2, "a").is_none());
        // The same number from a reopened connection is another version.
        assert!(cache.get(Version { epoch: 2, data: 1 }, "a").is_none());
        assert_eq!(cache.counts(), (1, 2));
        // The first insert under V2 drops V1's entries: one entry of 1 + 3 bytes is left.
        cache.insert(V2, "b".to_string(), answer("two"));
        assert_eq!(cache.usage(), (1, 4));
        assert!(cache.get(V2, "a").is_none());
    }

    #[test]
    fn the_bounds_evict_the_least_recently_used() {
        // Three entries of 1 + 9 = 10 bytes each under a bound of 2 entries: the oldest goes.
        let cache = AnswerCache::new(2, 1000);
        for key in ["a", "b", "c"] {
            cache.insert(V1, key.to_string(), answer("123456789"));
        }
        assert_eq!(cache.usage(), (2, 20));
        assert!(cache.get(V1, "a").is_none());
        // Touching b makes c the least recently used; d pushes c out.
        assert!(cache.get(V1, "b").is_some());
        cache.insert(V1, "d".to_string(), answer("123456789"));
        assert!(cache.get(V1, "c").is_none());
        assert!(cache.get(V1, "b").is_some() && cache.get(V1, "d").is_some());

        // A byte bound of 25 holds two 10-byte entries, not three; a 30-byte body is never kept.
        let cache = AnswerCache::new(100, 25);
        for key in ["a", "b", "c"] {
            cache.insert(V1, key.to_string(), answer("123456789"));
        }
        assert_eq!(cache.usage(), (2, 20));
        cache.insert(V1, "e".to_string(), answer("12345678901234567890123456789"));
        assert!(cache.get(V1, "e").is_none());
        assert_eq!(cache.usage(), (2, 20));
        // Replacing an entry counts its bytes once: b (10) + c now 1 + 3 = 14.
        cache.insert(V1, "c".to_string(), answer("new"));
        assert_eq!(cache.usage(), (2, 14));
    }
}
