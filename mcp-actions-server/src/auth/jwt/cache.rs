//! Verified tokens, so that a JWT call costs about what a static-token call costs: keyed by the
//! SHA-256 of the token (the token itself is not kept), valid until the token's `exp`, bounded
//! in size.

use std::collections::HashMap;
use std::sync::Mutex;

use mcp_actions::Credentials;

/// How many verified tokens are kept at most.
pub(crate) const CAPACITY: usize = 10_000;

struct Entry {
    credentials: Credentials,
    /// `exp`, in seconds since the Unix epoch.
    expires: u64,
}

/// The cache. Cleared whenever an issuer stops publishing a key, so that tokens signed with a
/// retired key are verified again (and refused).
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

/// The digest a token is cached under: SHA-256, as static tokens are compared.
pub(crate) use super::super::static_token::token_digest as digest;

impl TokenCache {
    /// The credentials of a verified token that has not expired at `now` (seconds since the
    /// epoch).
    pub(crate) fn get(&self, key: &[u8; 32], now: u64) -> Option<Credentials> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|entry| now < entry.expires)
            .map(|entry| entry.credentials.clone())
    }

    /// Remembers a verified token until `expires`. When full, expired entries go first; if
    /// none has expired, the cache starts over (a burst of distinct valid tokens costs a
    /// verification each, nothing more).
    pub(crate) fn insert(&self, key: [u8; 32], credentials: Credentials, expires: u64, now: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.retain(|_, entry| now < entry.expires);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                credentials,
                expires,
            },
        );
    }

    /// Forgets every token.
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_size_is_bounded() {
        let cache = TokenCache::default();
        let jane = Credentials::user("user:default/jane");
        cache.insert(digest("a"), jane.clone(), 100, 10);
        assert_eq!(cache.get(&digest("a"), 99), Some(jane.clone()));
        assert_eq!(cache.get(&digest("a"), 100), None);
        assert_eq!(cache.get(&digest("b"), 10), None);
        for i in 0..CAPACITY + 5 {
            cache.insert(digest(&i.to_string()), jane.clone(), 1_000, 10);
        }
        assert!(cache.len() <= CAPACITY);
        cache.clear();
        assert_eq!(cache.len(), 0);
    }
}
